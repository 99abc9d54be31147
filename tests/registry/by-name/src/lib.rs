//! The registry tests' by-name crate: subscribers that name `registry-declaring`'s signals in
//! their attribute and read the keyword arguments by name, without depending on that crate;
//! and one subscriber of a signal that nothing declares.

use std::sync::{Arc, Mutex};

use signals_core::{subscriber, KwargError, Kwargs, SenderKey};

type Trace = Arc<Mutex<Vec<String>>>;

/// `reg.dataset_created`, every sender.
#[subscriber(namespace = "reg", signal = "dataset_created")]
fn dataset_by_name(sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), KwargError> {
    let name = kwargs.try_get::<String>("name")?;
    let tags = kwargs.try_get::<Vec<String>>("tags")?;
    let line = format!("dataset_by_name {sender} {name} {tags:?}");
    kwargs.try_get::<Trace>("trace")?.lock().unwrap().push(line);
    Ok(())
}

/// `reg.job_finished`, sender 7 only: a by-name receiver of a signal with an output.
#[subscriber(namespace = "reg", signal = "job_finished", sender = 7)]
fn job_seen(_sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), KwargError> {
    kwargs.try_get::<i64>("value").map(drop)
}

/// `reg.resource.downloaded` (the renamed signal), every sender.
#[subscriber(namespace = "reg", signal = "resource.downloaded")]
fn resource_by_name(sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), KwargError> {
    let bytes = kwargs.try_get::<u64>("bytes")?;
    let line = format!("resource_by_name {sender} {bytes}");
    kwargs.try_get::<Trace>("trace")?.lock().unwrap().push(line);
    Ok(())
}

/// Guesses the wrong type for `bytes`: its error is reported with this function's location.
#[subscriber(namespace = "reg", signal = "resource.downloaded", sender = "r-2")]
fn bytes_as_u32(_sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), KwargError> {
    kwargs.try_get::<u32>("bytes").map(drop)
}

/// Owned by `reg_audit`, like subscribers in `registry-subscribers-only`: a plugin may span
/// crates.
#[subscriber(
    namespace = "reg",
    signal = "resource.downloaded",
    plugin = "reg_audit"
)]
fn audit_resource_by_name(sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), KwargError> {
    let line = format!("audit_resource_by_name {sender}");
    kwargs.try_get::<Trace>("trace")?.lock().unwrap().push(line);
    Ok(())
}

/// A signal no linked crate declares: allowed, and listed as undeclared.
#[subscriber(namespace = "reg_undeclared", signal = "nobody_declares_this")]
fn orphan(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}
