//! The bridge's use of signals-core's JSON form of sends (`signals_core::wire`): one place, so
//! the rest of the crate speaks entries.

use serde_json::Value;
use signals_core::wire::{sender_from_json, sender_to_json};
use signals_core::{Kwargs, NamedSignal, SendReport, SenderKey};

/// The wire form of a sender: `null`, a string, or `{"int": "<decimal>"}`; an identity
/// sender cannot cross.
pub(crate) fn sender_json(sender: &SenderKey<'_>) -> Result<Value, String> {
    sender_to_json(sender).map_err(|e| e.to_string())
}

/// The JSON of a send's kwargs.
pub(crate) fn kwargs_json(signal: &NamedSignal, kwargs: &dyn Kwargs) -> Result<Value, String> {
    signal.to_json(kwargs).map_err(|e| e.to_string())
}

/// The schema version a producer writes: the declared one, 1 for a signal only named.
pub(crate) fn schema_of(signal: &NamedSignal) -> u32 {
    local_schema(signal).unwrap_or(1)
}

/// The schema version declared in this process, if a linked struct declares the signal.
pub(crate) fn local_schema(signal: &NamedSignal) -> Option<u32> {
    signal.declaration().map(|declaration| declaration.schema)
}

/// The outcome of sending an entry again.
pub(crate) enum Resend {
    /// The send ran (its report may hold failures).
    Sent(SendReport),
    /// The entry cannot be sent here: why (the sender or the kwargs do not fit).
    Refused(String),
}

/// Sends `kwargs` from the sender `sender` stands for: typed where the struct is linked and
/// serializable, by name otherwise.
pub(crate) async fn resend(signal: NamedSignal, sender: Value, kwargs: Value) -> Resend {
    let key = match sender_from_json(&sender) {
        Ok(key) => key.into_owned(),
        Err(error) => return Resend::Refused(error.to_string()),
    };
    match signal.send_json_async(&key, kwargs).await {
        Ok(report) => Resend::Sent(report),
        Err(error) => Resend::Refused(error.to_string()),
    }
}
