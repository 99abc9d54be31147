//! Signals across processes: a signal's keyword arguments and its sender as JSON, and a send
//! from that JSON in another process.
//!
//! This module gives the parts a transport (a Redis channel, a queue, an HTTP hook) is made
//! of; it moves nothing itself. In the sending process a by-name receiver gets the sender's
//! key and the bag, and turns them into JSON: [`sender_to_json`] and
//! [`NamedSignal::to_json`](crate::NamedSignal::to_json). In the receiving process the same
//! signal, looked up by name, is sent from that JSON:
//! [`sender_from_json`] and [`NamedSignal::send_json`](crate::NamedSignal::send_json) (or
//! [`send_json_async`](crate::NamedSignal::send_json_async)).
//!
//! - **A struct that is `Serialize + DeserializeOwned`** crosses as itself: `#[signal]`
//!   notices the two traits where it declares the struct (no bound is required of a signal
//!   that never crosses), and [`NamedSignal::is_serializable`](crate::NamedSignal::is_serializable)
//!   tells. `to_json` gives the struct's JSON; `send_json` decodes it and sends the struct,
//!   so typed receivers get it, from a sender rebuilt from its key
//!   ([`Sender::owned_from_sender_key`](crate::Sender::owned_from_sender_key)).
//! - **Any other bag** (a by-name send's [`DynKwargs`](crate::DynKwargs), the struct of a
//!   signal that is not serializable) crosses when each value is a `serde_json::Value`, a
//!   `String`, a `&'static str`, a `bool`, an integer or a float, or an `Option` of one of
//!   those; any other value is [`WireError::NotSerializable`]. In the receiving process the
//!   bag holds each field as a `serde_json::Value`, which by-name receivers read with
//!   [`read`](crate::Kwargs#method.read) (`kwargs.read::<T>(name)`), the call they use
//!   in the sending process too. A declared signal's typed receivers cannot get such a bag:
//!   each is reported, as a failure of kind
//!   [`FailureKind::TypedReceiver`](crate::FailureKind::TypedReceiver), not run.
//! - **Senders** cross as JSON: `None` as `null`, a string as a string, an integer as
//!   `{"int": "<decimal>"}` (a string: an `i128` does not fit a JSON number). An identity
//!   sender ([`SenderKey::Id`](crate::SenderKey::Id)) means nothing in another process and is
//!   refused ([`WireError::SenderCannotCross`]).
//! - **The schema version** of a struct (`#[signal(schema = 2)]`, 1 by default) is in its
//!   [`Declaration`](crate::Declaration) and in the [`listing`](crate::listing), so that a
//!   transport can carry it and a reader can refuse JSON of a shape it does not know.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use signals_core::wire::{sender_from_json, sender_to_json};
//! use signals_core::{signal, Namespace, Signal};
//!
//! #[signal(namespace = "doc_wire", schema = 2)]
//! #[derive(Serialize, Deserialize)]
//! struct Saved { id: u32 }
//!
//! let signal = Namespace::get("doc_wire")?.signal("saved")?;
//! assert!(signal.is_serializable());
//! // The sending process: the sender and the kwargs as JSON.
//! let sender = sender_to_json("api")?;
//! let kwargs = signal.to_json(&Saved { id: 7 })?;
//! assert_eq!((sender.to_string(), kwargs.to_string()), (r#""api""#.into(), r#"{"id":7}"#.into()));
//!
//! // The receiving process: typed receivers get the struct, from the sender.
//! let _c = Saved::signal().connect(|s: &str, ev: &Saved| assert_eq!((s, ev.id), ("api", 7))).scoped();
//! let report = signal.send_json(&sender_from_json(&sender)?, kwargs)?;
//! assert_eq!(report.receivers_called(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bag;
mod codec;
mod error;
mod handle;
mod sender;

pub use error::WireError;
pub use sender::{sender_from_json, sender_to_json};

// Not public API. Used by generated code (through `__private`).
pub use codec::{Codec, ProbeFallback, ProbeSerde, WireProbe};
