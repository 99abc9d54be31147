//! The errors of the runtime. Each message says what was wrong and how to fix it.

use crate::name::{NameKind, NameRule};
use crate::text;

/// An error from looking up, declaring or sending a signal. Non-exhaustive: match it with a
/// wildcard arm. The messages are meant for people; their wording may change. A message quotes
/// at most 64 characters of an input it repeats (a name, a sender key), then `…` and the
/// input's length in bytes; the error's fields keep the whole input.
///
/// ```
/// use signals_core::{signal, DynKwargs, Error, Namespace};
///
/// #[signal(namespace = "doc_error")]
/// struct Saved { id: u32 }
///
/// assert!(matches!(Namespace::get("no way"), Err(Error::InvalidName { .. })));
/// let by_name = Namespace::get("doc_error")?.signal("saved")?;
/// let err = by_name.send(&"web", &DynKwargs::new()).unwrap_err(); // not a `Saved`
/// assert!(matches!(err, Error::WrongKwargs { .. }));
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A namespace, signal or plugin name broke a naming rule.
    #[error("invalid {kind} name {}: {rule}", text::rejected_name(.name, .rule))]
    InvalidName {
        /// What the name names.
        kind: NameKind,
        /// The rejected name (lossily decoded when it was not UTF-8), whole. The message
        /// quotes a name within the length limit whole, and a longer one cut after 64
        /// characters, with its length in bytes as given (not its lossy decoding's).
        name: String,
        /// The rule it broke.
        rule: NameRule,
    },

    /// A typed lookup named a signal that another struct type already declares.
    #[error(
        "signal `{signal}` is declared by `{declared}`, so it cannot also be used as `{requested}`; \
         rename one of them (`#[signal(name = \"...\")]`) or use the declaring type"
    )]
    TypeConflict {
        /// `namespace.name` of the signal.
        signal: String,
        /// The type that declared the signal first.
        declared: &'static str,
        /// The type of the rejected lookup.
        requested: &'static str,
    },

    /// A typed lookup of a signal that the type does not declare.
    #[error(
        "signal `{signal}` is not declared by `{requested}` (which declares `{declares}`); \
         look the signal up by the name its struct declares"
    )]
    NotDeclaredBy {
        /// `namespace.name` of the signal looked up.
        signal: String,
        /// The type of the rejected lookup.
        requested: &'static str,
        /// `namespace.name` of the signal the type does declare.
        declares: &'static str,
    },

    /// A by-name send carried a kwargs bag of the wrong type for a declared signal.
    #[error(
        "signal `{signal}` is declared by `{expected}`, so a by-name send must carry a `{expected}`, \
         not a `{got}`; build the struct, or send through the typed API"
    )]
    WrongKwargs {
        /// `namespace.name` of the signal.
        signal: String,
        /// The declaring struct.
        expected: &'static str,
        /// The type of the bag that was sent.
        got: &'static str,
    },

    /// A by-name send gave a sender key from which the declared sender type cannot be rebuilt.
    #[error(
        "signal `{signal}` expects senders of type `{sender_type}`, which cannot be rebuilt from the \
         sender key {}; send through the typed API instead",
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
}

/// An error from reading a keyword argument through the by-name view ([`crate::Kwargs`]).
/// Non-exhaustive: match it with a wildcard arm.
///
/// ```
/// use signals_core::{DynKwargs, KwargError, Kwargs};
///
/// let bag = DynKwargs::new().with("n", 3u32);
/// let view: &dyn Kwargs = &bag;
/// assert!(matches!(view.try_get::<u32>("m"), Err(KwargError::Missing { .. })));
/// let err = view.try_get::<u64>("n").unwrap_err();
/// assert_eq!(err.to_string(), "keyword argument `n` is a `u32`, not a `u64`; read it as `u32`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KwargError {
    /// No argument has that name.
    #[error("no keyword argument named `{name}`; the arguments are: {available}")]
    Missing {
        /// The requested name.
        name: String,
        /// The names that exist, comma-separated (or `(none)`).
        available: String,
    },
    /// The argument exists but holds another type.
    #[error(
        "keyword argument `{name}` is a `{actual}`, not a `{requested}`; read it as `{actual}`"
    )]
    WrongType {
        /// The argument's name.
        name: String,
        /// The type that was asked for.
        requested: &'static str,
        /// The type it holds.
        actual: &'static str,
    },
    /// The argument came from outside the process as JSON and does not decode as the type
    /// asked for.
    #[error(
        "keyword argument `{name}` does not decode as a `{requested}`: {reason}; read it as \
         the type its signal declares, or as a `serde_json::Value`"
    )]
    Undecodable {
        /// The argument's name.
        name: String,
        /// The type that was asked for.
        requested: &'static str,
        /// What the decoder said.
        reason: String,
    },
}
