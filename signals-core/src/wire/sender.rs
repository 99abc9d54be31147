//! A sender's wire form: its key as JSON, and back.

use serde_json::Value;

use crate::sender::{Sender, SenderKey};
use crate::wire::error::WireError;

/// The wire form of `sender`'s key: `null` for no sender, a JSON string for a string sender,
/// `{"int": "<decimal>"}` for an integer sender (a string, as an `i128` does not fit a JSON
/// number). An identity sender ([`SenderKey::Id`]) cannot cross processes:
/// [`WireError::SenderCannotCross`].
///
/// ```
/// use serde_json::json;
/// use signals_core::wire::sender_to_json;
/// use signals_core::SenderKey;
///
/// assert_eq!(sender_to_json("api")?, json!("api"));
/// assert_eq!(sender_to_json(&-3i64)?, json!({"int": "-3"}));
/// assert_eq!(sender_to_json(&None::<String>)?, json!(null));
/// assert_eq!(sender_to_json(&SenderKey::Int(i128::MAX))?, json!({"int": i128::MAX.to_string()}));
/// # Ok::<(), signals_core::wire::WireError>(())
/// ```
pub fn sender_to_json<S: Sender + ?Sized>(sender: &S) -> Result<Value, WireError> {
    match sender.sender_key() {
        SenderKey::None => Ok(Value::Null),
        SenderKey::Str(s) => Ok(Value::String(s.into_owned())),
        SenderKey::Int(i) => Ok(serde_json::json!({ "int": i.to_string() })),
        SenderKey::Id(id) => Err(WireError::SenderCannotCross { id }),
    }
}

/// The sender key `json` stands for, as [`sender_to_json`] wrote it. Any other JSON is
/// [`WireError::NotASender`].
///
/// ```
/// use serde_json::json;
/// use signals_core::wire::sender_from_json;
/// use signals_core::SenderKey;
///
/// assert_eq!(sender_from_json(&json!("api"))?, SenderKey::from("api"));
/// assert_eq!(sender_from_json(&json!({"int": "-3"}))?, SenderKey::Int(-3));
/// assert_eq!(sender_from_json(&json!(null))?, SenderKey::None);
/// assert!(sender_from_json(&json!(3)).is_err()); // an integer crosses as a decimal string
/// # Ok::<(), signals_core::wire::WireError>(())
/// ```
pub fn sender_from_json(json: &Value) -> Result<SenderKey<'_>, WireError> {
    match json {
        Value::Null => Ok(SenderKey::None),
        Value::String(s) => Ok(SenderKey::from(s.as_str())),
        Value::Object(map) if map.len() == 1 => match map.get("int") {
            Some(Value::String(decimal)) => decimal
                .parse::<i128>()
                .map(SenderKey::Int)
                .map_err(|_| not_a_sender(json)),
            _ => Err(not_a_sender(json)),
        },
        _ => Err(not_a_sender(json)),
    }
}

fn not_a_sender(json: &Value) -> WireError {
    WireError::NotASender {
        found: json.to_string(),
    }
}
