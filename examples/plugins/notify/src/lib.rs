//! The `notify` plugin: tells a dataset's followers about new activity, and posts each new
//! dataset to the site's webhook.
//!
//! It subscribes by name to `ckanext.activity_recorded`, which the `activity` plugin declares,
//! without depending on that crate: if `activity` is not installed, the signal is simply never
//! sent. Its webhook is an async subscriber to `ckan.action_succeed`: it awaits a real HTTP
//! POST (reqwest, with a timeout), so the portal sends that signal with `send_async`. The
//! webhook is off until [`set_webhook_url`] gives it a URL (CKAN would read
//! `ckanext.notify.webhook_url` from its configuration).

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use signals_core::{subscriber, Kwargs, SenderKey};

static OUTBOX: Mutex<Vec<String>> = Mutex::new(Vec::new());
static WEBHOOK_CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static WEBHOOK_URL: Mutex<Option<String>> = Mutex::new(None);

/// How long the webhook waits for the remote service before it gives up (a failure in the
/// send's report, logged; the action's response is not held longer than this).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(2);

/// Where new datasets are posted; `None` turns the webhook off (the default).
pub fn set_webhook_url(url: Option<String>) {
    if let Ok(mut current) = WEBHOOK_URL.lock() {
        *current = url;
    }
}

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

/// Posts each new dataset to the webhook URL (see [`set_webhook_url`]). An async subscriber:
/// the send awaits the call, without blocking the thread while the remote service answers. A
/// status other than 2xx, a refused connection or a timeout is this receiver's failure.
#[subscriber(
    plugin = "notify",
    namespace = "ckan",
    signal = "action_succeed",
    sender = "package_create"
)]
async fn webhook(action: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), String> {
    let Some(url) = WEBHOOK_URL.lock().ok().and_then(|u| u.clone()) else {
        return Ok(());
    };
    let dataset = kwargs
        .get::<Value>("result")
        .and_then(|result| result.get("name"))
        .and_then(Value::as_str)
        .ok_or("the action's result has no dataset name")?;
    let body = serde_json::json!({ "action": action.as_str(), "dataset": dataset }).to_string();
    let status = post(&url, body.clone()).await?;
    let call = format!("POST {url} {body} -> {status}");
    say(format_args!("    [notify] webhook: {call}"));
    if let Ok(mut c) = WEBHOOK_CALLS.lock() {
        c.push(call);
    }
    if !status.is_success() {
        return Err(format!(
            "the webhook {url} answered {status}; check the URL"
        ));
    }
    Ok(())
}

/// POSTs `body` as JSON, with [`WEBHOOK_TIMEOUT`]. One client for the process, so its
/// connections are reused.
async fn post(url: &str, body: String) -> Result<reqwest::StatusCode, String> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .build()
            .unwrap_or_default()
    });
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("the webhook POST to {url} failed: {e}"))?;
    Ok(response.status())
}

/// Prints a line of the story. Write errors are ignored: a closed stdout (`portal | head -1`)
/// is not a reason to panic in a receiver.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
