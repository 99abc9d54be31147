//! `#[subscriber]` on an `async fn`: typed and by-name, owned by a plugin or connected at
//! start-up, with the function's identity, the registry's and the listing's view of them.

mod common;

use std::sync::Mutex;

use async_tests::{yield_now, yield_times};
use signals_core::{
    plugins, registry, signal, subscriber, FailureKind, Kwargs, Receiver, ReceiverId, SenderKey,
    Signal,
};

on_every_executor! {
    plugin_owned => async_subscribers_of_a_plugin_run_when_it_is_loaded;
    start_up => an_async_subscriber_connected_at_start_up_keeps_its_identity;
    in_code => a_plugin_subscribes_async_receivers_in_code;
}

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(entry: String) {
    LOG.lock().unwrap().push(entry);
}

fn take_log() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

/// Sent when a background job is done.
#[signal(namespace = "async_tests")]
pub struct JobDone {
    /// The job's name.
    pub job: String,
}

#[subscriber(plugin = "async_jobs")]
async fn typed_job(sender: &str, event: &JobDone) -> Result<(), String> {
    yield_times(2).await;
    log(format!("typed {sender} {}", event.job));
    if event.job == "bad" {
        return Err(format!("job {} failed", event.job));
    }
    Ok(())
}

#[subscriber(plugin = "async_jobs", namespace = "async_tests", signal = "job_done")]
async fn by_name_job(sender: &SenderKey<'_>, kwargs: &dyn Kwargs) {
    yield_now().await;
    log(format!(
        "by name {sender} {:?}",
        kwargs.get::<String>("job")
    ));
}

async fn async_subscribers_of_a_plugin_run_when_it_is_loaded() {
    take_log();
    let job = |name: &str| JobDone { job: name.into() };
    assert_eq!(job("ok").send_async("web").await.receivers_called(), 0);

    let _plugin = plugins::use_plugin("async_jobs").expect("the plugin loads");
    let receivers = JobDone::signal().named().receivers_for("web");
    let names: Vec<(&str, bool, Option<&str>)> = receivers
        .iter()
        .map(|r| (&*r.name, r.is_async, r.plugin.as_deref()))
        .collect();
    // A plugin connects its subscribers by path.
    assert_eq!(
        names,
        [
            ("subscribers::by_name_job", true, Some("async_jobs")),
            ("subscribers::typed_job", true, Some("async_jobs"))
        ]
    );
    let report = job("ok").send_async("web").await;
    assert!(report.is_ok(), "{:?}", report.failures());
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(take_log(), ["by name \"web\" Some(\"ok\")", "typed web ok"]);

    // An error of an async subscriber names the function and where it is declared.
    let report = job("bad").sending("web").run_concurrent().await;
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].receiver.name, "subscribers::typed_job");
    assert_eq!(failures[0].receiver.location.file, file!());
    assert!(failures[0]
        .to_string()
        .ends_with("returned an error: job bad failed"));
    take_log();

    // A sync send reports both, and runs neither.
    let report = job("ok").send("web");
    assert_eq!(report.receivers_called(), 0);
    assert!(report
        .failures()
        .iter()
        .all(|f| matches!(f.kind, FailureKind::AsyncReceiver)));
    assert!(take_log().is_empty());

    // The registry and the listing say they are async.
    let decls: Vec<(&str, bool)> = registry()
        .subscribers_of("async_tests", "job_done")
        .map(|s| (s.path(), s.is_async()))
        .collect();
    assert_eq!(
        decls,
        [
            ("subscribers::by_name_job", true),
            ("subscribers::typed_job", true)
        ]
    );
    let listing = signals_core::listing().to_string();
    assert!(
        listing.contains("      subscribers::typed_job (async, any sender, plugin async_jobs) at"),
        "{listing}"
    );

    drop(_plugin);
    assert_eq!(job("ok").send_async("web").await.receivers_called(), 0);
    assert!(take_log().is_empty());
}

/// A measure of a text, by an async subscriber connected at start-up.
#[signal(namespace = "async_tests", output = usize)]
pub struct Measured {
    /// The text to measure.
    pub text: String,
}

/// A measure of a text, by a plugin's async subscriptions made in code (a signal of its own:
/// the cases run at the same time).
#[signal(namespace = "async_tests", output = usize)]
pub struct MeasuredInCode {
    /// The text to measure.
    pub text: String,
}

#[subscriber]
async fn measure(_sender: &str, event: &Measured) -> usize {
    yield_now().await;
    event.text.chars().count()
}

async fn an_async_subscriber_connected_at_start_up_keeps_its_identity() {
    let collected = Measured {
        text: "café".into(),
    }
    .sending("s")
    .collect()
    .run_async()
    .await;
    assert_eq!(collected.into_values(), [4]);

    let info = Measured::signal().named().connections().remove(0).receiver;
    assert_eq!(Some(info.id.clone()), ReceiverId::of(&measure));
    assert!(info.is_async);
    // Connecting the function again finds it connected: the same receiver.
    let decl = registry()
        .subscribers()
        .iter()
        .find(|s| s.path() == "subscribers::measure")
        .expect("registered");
    assert!(decl.is_async());
    let again = decl.connect().expect("connects");
    assert!(!again.is_new());
    // Disconnected by naming the function, then connected again as at start-up.
    assert_eq!(Measured::signal().named().disconnect(&measure), 1);
    assert_eq!(
        Measured { text: "x".into() }
            .send_async("s")
            .await
            .receivers_called(),
        0
    );
    assert!(decl.connect().expect("connects").is_new());
    assert_eq!(
        Measured { text: "xy".into() }
            .sending("s")
            .collect()
            .run_async()
            .await
            .into_values(),
        [2]
    );
}

/// The senders the in-code by-name receiver saw.
static IN_CODE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn in_code() -> std::sync::MutexGuard<'static, Vec<String>> {
    IN_CODE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A plugin that subscribes async receivers in code.
#[signals_core::plugin(name = "async_in_code")]
#[derive(Default)]
struct AsyncInCode;

impl plugins::Plugin for AsyncInCode {
    fn subscriptions(&self, s: &mut plugins::Subscriptions) {
        let signal = MeasuredInCode::signal();
        s.connect(
            signal,
            Receiver::new_async(|_: &str, ev: &MeasuredInCode| {
                Box::pin(async move {
                    yield_now().await;
                    ev.text.len() * 10
                })
            }),
        )
        .connect(
            signal,
            Receiver::new_async(|_: &str, _: &MeasuredInCode| Box::pin(async { 1 })).sender("only"),
        )
        .connect_by_name(
            "async_tests",
            "measured_in_code",
            Receiver::new_async(|sender: &SenderKey<'static>, _: &dyn Kwargs| {
                Box::pin(async move { in_code().push(sender.to_string()) })
            }),
        );
    }
}

async fn a_plugin_subscribes_async_receivers_in_code() {
    let measure = |text: &str| MeasuredInCode { text: text.into() };
    in_code().clear();
    assert!(measure("ab")
        .sending("only")
        .collect()
        .run_async()
        .await
        .into_values()
        .is_empty());
    let plugin = plugins::use_plugin("async_in_code").expect("loads");
    let kinds: Vec<(Option<String>, bool)> = MeasuredInCode::signal()
        .named()
        .connections()
        .iter()
        .map(|c| {
            let info = &c.receiver;
            (info.plugin.as_deref().map(str::to_owned), info.is_async)
        })
        .collect();
    let owned = (Some("async_in_code".to_owned()), true);
    assert_eq!(kinds, [owned.clone(), owned.clone(), owned]);
    let collected = measure("ab").sending("only").collect().run_async().await;
    assert!(collected.report.is_ok());
    assert_eq!(collected.report.receivers_called(), 3);
    assert_eq!(collected.into_values(), [20, 1]);
    assert_eq!(
        measure("abc")
            .sending("other")
            .collect()
            .run_async()
            .await
            .into_values(),
        [30]
    );
    assert_eq!(std::mem::take(&mut *in_code()), ["\"only\"", "\"other\""]);
    drop(plugin);
    assert!(measure("ab")
        .sending("only")
        .collect()
        .run_async()
        .await
        .into_values()
        .is_empty());
}
