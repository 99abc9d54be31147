//! The errors of a signal's way across processes.

use crate::error::Error;
use crate::text;

/// An error from turning a signal's sender or keyword arguments into JSON, or from a send
/// from JSON. Non-exhaustive: match it with a wildcard arm. The messages are meant for
/// people; their wording may change. A message quotes at most 64 characters of an input it
/// repeats; the fields keep the whole input.
///
/// ```
/// use signals_core::wire::{sender_to_json, WireError};
/// use signals_core::SenderKey;
///
/// let err = sender_to_json(&SenderKey::Id(7)).unwrap_err();
/// assert!(matches!(err, WireError::SenderCannotCross { id: 7 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A keyword argument has no JSON form: the bag is not a serializable struct, and the
    /// value is not one of the plain types a by-name bag may carry.
    #[error(
        "keyword argument `{kwarg}` of signal `{signal}` is a `{type_name}`, which has no JSON \
         form here; declare the signal with a struct that derives `Serialize` and \
         `Deserialize`, or send the value as a `serde_json::Value`, a string, a bool or a number"
    )]
    NotSerializable {
        /// `namespace.name` of the signal.
        signal: String,
        /// The argument's name.
        kwarg: String,
        /// The argument's Rust type.
        type_name: &'static str,
    },

    /// The encoder refused a value (a map whose keys are not strings, an integer beyond
    /// JSON's 64 bits).
    #[error(
        "the keyword arguments of signal `{signal}` do not encode as JSON: {error}; give the \
         values a JSON form (string map keys, integers within 64 bits)"
    )]
    Unencodable {
        /// `namespace.name` of the signal.
        signal: String,
        /// What the encoder said.
        error: String,
    },

    /// The JSON does not decode into the struct that declares the signal in this process.
    #[error(
        "the JSON keyword arguments of signal `{signal}` do not decode as `{expected}`: {error}; \
         send JSON that `to_json` made from a struct of the same schema version"
    )]
    Undecodable {
        /// `namespace.name` of the signal.
        signal: String,
        /// The declaring struct.
        expected: &'static str,
        /// What the decoder said.
        error: String,
    },

    /// The JSON keyword arguments of a by-name bag are not an object (nor `null`, an empty
    /// bag).
    #[error(
        "the JSON keyword arguments of signal `{signal}` are {found}, not an object of \
         arguments by name; send the object `to_json` makes"
    )]
    NotAnObject {
        /// `namespace.name` of the signal.
        signal: String,
        /// What they are: `an array`, `a string`, `a number` or `a bool`.
        found: &'static str,
    },

    /// An identity sender ([`SenderKey::Id`](crate::SenderKey::Id)) was to cross processes.
    #[error(
        "the identity sender #{id} cannot cross processes: an identity means nothing in \
         another process; send from a string or integer sender"
    )]
    SenderCannotCross {
        /// The identity.
        id: u64,
    },

    /// JSON that is not a sender's wire form.
    #[error(
        "{} is not a sender: a sender crosses as null, a string or {{\"int\": \"<decimal>\"}}; \
         make it with `sender_to_json`",
        text::quoted(.found)
    )]
    NotASender {
        /// The JSON, as text, whole; the message shows at most 64 characters of it.
        found: String,
    },

    /// The sender key cannot stand for a sender of the signal's declared sender type.
    #[error(
        "signal `{signal}` expects senders of type `{sender_type}`, which cannot be rebuilt from \
         the sender key {}; send from a sender of that type, or implement \
         `Sender::owned_from_sender_key` for it",
        text::bare(.key)
    )]
    SenderNotRecoverable {
        /// `namespace.name` of the signal.
        signal: String,
        /// The declared sender type.
        sender_type: &'static str,
        /// The key that was given, formatted, whole; the message shows at most 64 characters
        /// of it.
        key: String,
    },

    /// Any other error of the send (see [`Error`]).
    #[error(transparent)]
    Other(Error),
}

impl From<Error> for WireError {
    fn from(error: Error) -> Self {
        match error {
            Error::SenderNotRecoverable {
                signal,
                sender_type,
                key,
            } => WireError::SenderNotRecoverable {
                signal,
                sender_type,
                key,
            },
            other => WireError::Other(other),
        }
    }
}
