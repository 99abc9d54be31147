//! The `notify` plugin: tells a dataset's followers about new activity, and posts each new
//! dataset to the site's webhook.
//!
//! It subscribes by name to `ckanext.activity_recorded`, which the `activity` plugin declares,
//! without depending on that crate: if `activity` is not installed, the signal is simply never
//! sent. Its webhook is an async subscriber to `ckan.action_succeed`: it awaits the POST (a
//! simulated call here), so the portal sends that signal with `send_async`.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use serde_json::Value;
use signals_core::{subscriber, Kwargs, SenderKey};

static OUTBOX: Mutex<Vec<String>> = Mutex::new(Vec::new());
static WEBHOOK_CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Where new datasets are posted.
pub const WEBHOOK_URL: &str = "https://hooks.example.org/ckan/datasets";

/// The notifications sent so far.
pub fn outbox() -> Vec<String> {
    OUTBOX.lock().map(|o| o.clone()).unwrap_or_default()
}

/// The webhook calls made so far: `POST url body -> status`.
pub fn webhook_calls() -> Vec<String> {
    WEBHOOK_CALLS.lock().map(|c| c.clone()).unwrap_or_default()
}

/// Empties the outbox and the webhook log (tests call it).
pub fn clear() {
    if let Ok(mut o) = OUTBOX.lock() {
        o.clear();
    }
    if let Ok(mut c) = WEBHOOK_CALLS.lock() {
        c.clear();
    }
}

/// Reads the bag by name, checking each argument is there, as CKAN advises.
#[subscriber(plugin = "notify", namespace = "ckanext", signal = "activity_recorded")]
fn on_activity(dataset: &SenderKey<'_>, kwargs: &dyn Kwargs) {
    let kind = kwargs
        .get::<String>("activity_type")
        .map_or("activity", String::as_str);
    let user = kwargs
        .get::<Option<String>>("user")
        .and_then(Option::as_deref)
        .unwrap_or("someone");
    let note = format!("followers of {dataset}: {user} did `{kind}`");
    say(format_args!("    [notify] {note}"));
    if let Ok(mut o) = OUTBOX.lock() {
        o.push(note);
    }
}

/// Posts each new dataset to [`WEBHOOK_URL`]. An async subscriber: the send awaits the call,
/// without blocking the thread while the remote service answers.
#[subscriber(
    plugin = "notify",
    namespace = "ckan",
    signal = "action_succeed",
    sender = "package_create"
)]
async fn webhook(action: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), String> {
    let dataset = kwargs
        .get::<Value>("result")
        .and_then(|result| result.get("name"))
        .and_then(Value::as_str)
        .ok_or("the action's result has no dataset name")?;
    let body = serde_json::json!({ "action": action.as_str(), "dataset": dataset }).to_string();
    let status = post(WEBHOOK_URL, &body).await;
    let call = format!("POST {WEBHOOK_URL} {body} -> {status}");
    say(format_args!("    [notify] webhook: {call}"));
    if let Ok(mut c) = WEBHOOK_CALLS.lock() {
        c.push(call);
    }
    Ok(())
}

/// A simulated HTTP POST, without network: another thread plays the remote service, answers
/// after a moment and wakes the task that awaits the answer, as a real client's I/O would.
/// Any executor drives it.
fn post(url: &str, body: &str) -> impl Future<Output = String> + Send + 'static {
    struct Reply {
        status: Option<String>,
        waker: Option<Waker>,
    }
    let request = format!("{} bytes to {url}", body.len());
    let reply = Arc::new(Mutex::new(Reply {
        status: None,
        waker: None,
    }));
    let mut sent = false;
    std::future::poll_fn(move |cx| {
        if !sent {
            sent = true;
            let (reply, request) = (reply.clone(), request.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                let _received = request;
                let waker = reply.lock().ok().and_then(|mut r| {
                    r.status = Some("202 Accepted".to_owned());
                    r.waker.take()
                });
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
        }
        let Ok(mut reply) = reply.lock() else {
            return Poll::Ready("500 (the simulated service failed)".to_owned());
        };
        match reply.status.take() {
            Some(status) => Poll::Ready(status),
            None => {
                reply.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
}

/// Prints a line of the story. Write errors are ignored: a closed stdout (`portal | head -1`)
/// is not a reason to panic in a receiver.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
