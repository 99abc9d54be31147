//! The registry tests' plugin crate: nothing but `#[subscriber]` functions, typed, for
//! `registry-declaring`'s signals. Nothing here is public, so a host can name only the crate
//! itself, which is what `signals_core::link!(registry_subscribers_only)` does.
//!
//! Subscribers record that they ran in the `trace` the signal carries, or answer through their
//! return value, so the host observes them without naming anything in this crate.

use registry_declaring::{DatasetCreated, JobFinished, Ping, ResourceDownloaded};
use signals_core::subscriber;

// Declared before `api_only` on purpose: link-time subscribers connect in path order.
/// Every sender.
#[subscriber]
fn record_dataset(sender: &str, event: &DatasetCreated) {
    let line = format!("record_dataset {sender} {} {:?}", event.name, event.tags);
    event.trace.lock().unwrap().push(line);
}

/// One string sender.
#[subscriber(sender = "api")]
fn api_only(sender: &str, event: &DatasetCreated) {
    let line = format!("api_only {sender} {}", event.name);
    event.trace.lock().unwrap().push(line);
}

/// Every sender; returns a value for `sending(..).collect()`.
#[subscriber]
fn double(_job: &i64, event: &JobFinished) -> i64 {
    event.value * 2
}

/// One integer sender; its error goes into the send's report.
#[subscriber(sender = 13)]
fn fail_on_13(_job: &i64, _event: &JobFinished) -> Result<i64, String> {
    Err("13 is unlucky".to_owned())
}

/// One integer sender.
#[subscriber(sender = 7)]
fn negate_seven(_job: &i64, event: &JobFinished) -> i64 {
    -event.value
}

/// One negative integer sender.
#[subscriber(sender = -3)]
fn offset_negative(_job: &i64, event: &JobFinished) -> i64 {
    event.value + 1000
}

/// The renamed signal, one sender.
#[subscriber(sender = "r-1")]
fn resource_r1(sender: &str, event: &ResourceDownloaded) {
    let line = format!("resource_r1 {sender} {}", event.bytes);
    event.trace.lock().unwrap().push(line);
}

/// Owned by the `reg_audit` plugin: connected only while it is loaded.
#[subscriber(plugin = "reg_audit")]
fn audit_dataset(sender: &str, event: &DatasetCreated) {
    let line = format!("audit_dataset {sender} {}", event.name);
    event.trace.lock().unwrap().push(line);
}

/// Owned by `reg_audit`, one integer sender, returns a value.
#[subscriber(plugin = "reg_audit", sender = 7)]
fn audit_job(_job: &i64, event: &JobFinished) -> i64 {
    event.value * 100
}

/// Owned by the `reg_pinger` plugin.
#[subscriber(plugin = "reg_pinger")]
fn pong(_sender: &str, _event: &Ping) {}
