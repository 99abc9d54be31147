//! The by-name handle's JSON: a bag to JSON, and a send from JSON.

use std::future::Future;

use serde_json::Value;

use crate::by_name::handle::NamedSignal;
use crate::engine::deliver::{Concurrency, Mode};
use crate::kwargs::{DynKwargs, Kwargs};
use crate::registry::SignalDecl;
use crate::report::SendReport;
use crate::sender::Sender;
use crate::wire::bag;
use crate::wire::codec::Codec;
use crate::wire::error::WireError;

/// A send's bag, decoded from JSON.
enum JsonBag {
    /// The declared struct.
    Struct(Box<dyn Kwargs>),
    /// The JSON object's fields, each a `serde_json::Value`.
    ByName(DynKwargs),
}

impl NamedSignal {
    /// Whether the struct that declares this signal in this process is
    /// `Serialize + DeserializeOwned`, so that [`to_json`](Self::to_json) encodes it and
    /// [`send_json`](Self::send_json) decodes it for typed receivers. `false` for a signal no
    /// linked `#[signal]` struct declares (a hand-written [`Signal`](crate::Signal) impl has
    /// no descriptor). See [`crate::wire`].
    ///
    /// ```
    /// use signals_core::{signal, Namespace};
    ///
    /// #[signal(namespace = "doc_named_is_serializable")]
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Saved { id: u32 }
    ///
    /// let ns = Namespace::get("doc_named_is_serializable")?;
    /// assert!(ns.signal("saved")?.is_serializable());
    /// assert!(!ns.signal("by_name_only")?.is_serializable());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn is_serializable(&self) -> bool {
        self.codec().is_some()
    }

    /// The JSON of `kwargs`, for a send in another process ([`send_json`](Self::send_json)):
    /// the struct's own JSON when `kwargs` is the signal's struct and it is serializable;
    /// otherwise an object of the arguments by name, each of which must be a
    /// `serde_json::Value`, a `String`, a `&'static str`, a `bool`, an integer or a float, or
    /// an `Option` of one of those ([`WireError::NotSerializable`] names the first that is
    /// not). See [`crate::wire`].
    ///
    /// ```
    /// use serde_json::json;
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_to_json")?.signal("saved")?;
    /// let bag = DynKwargs::new().with("id", 7u32).with("tags", json!(["a"]));
    /// assert_eq!(signal.to_json(&bag)?, json!({"id": 7, "tags": ["a"]}));
    /// let err = signal.to_json(&DynKwargs::new().with("at", std::time::Duration::ZERO));
    /// assert!(err.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json(&self, kwargs: &dyn Kwargs) -> Result<Value, WireError> {
        match self.codec().and_then(|codec| (codec.encode)(kwargs)) {
            Some(json) => json.map_err(|error| WireError::Unencodable {
                signal: self.qualified_name().to_owned(),
                error: error.to_string(),
            }),
            None => bag::to_json(self.qualified_name(), kwargs),
        }
    }

    /// Sends from `sender` the keyword arguments `kwargs`, JSON that [`to_json`](Self::to_json)
    /// made (in this process or another), to every matching receiver, as
    /// [`send`](Self::send) does. When a serializable struct declares the signal here,
    /// `kwargs` is decoded into it ([`WireError::Undecodable`] if it does not decode) and
    /// typed receivers get it, from a sender of the declared type rebuilt from `sender`'s key
    /// ([`WireError::SenderNotRecoverable`] if it cannot be). Otherwise by-name receivers get
    /// a bag of the JSON object's fields, each a `serde_json::Value` that
    /// [`read`](crate::Kwargs#method.read) decodes (`null` is an empty bag; any other
    /// JSON is [`WireError::NotAnObject`]); a typed receiver of a struct that is not
    /// serializable cannot get that bag, and is reported
    /// ([`FailureKind::TypedReceiver`](crate::FailureKind::TypedReceiver)), not run.
    ///
    /// ```
    /// use serde_json::json;
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_send_json")?.signal("saved")?;
    /// let _c = signal
    ///     .connect(|sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
    ///         assert_eq!(sender.as_int(), Some(5));
    ///         assert_eq!(*kwargs.read::<Vec<String>>("tags").unwrap(), ["a"]);
    ///     })
    ///     .scoped();
    /// let report = signal.send_json(&5, json!({"tags": ["a"]}))?;
    /// assert_eq!(report.receivers_called(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_json<S: Sender + ?Sized>(
        &self,
        sender: &S,
        kwargs: Value,
    ) -> Result<SendReport, WireError> {
        let key = sender.sender_key();
        match self.bag_from_json(kwargs)? {
            JsonBag::Struct(args) => Ok(self.send_in(Mode::Robust, &key, &*args, None)?),
            JsonBag::ByName(bag) => Ok(self.send_bag_in(Mode::Robust, &key, &bag)),
        }
    }

    /// [`send_json`](Self::send_json), awaiting every receiver, sync and async, one at a time
    /// in connection order (see [`Signal::send_async`](crate::Signal::send_async)). Nothing
    /// is decoded or run until the future is first polled.
    pub fn send_json_async<'a, S: Sender + ?Sized>(
        &self,
        sender: &'a S,
        kwargs: Value,
    ) -> impl Future<Output = Result<SendReport, WireError>> + Send + 'a {
        let (signal, key) = (*self, sender.sender_key());
        async move {
            let how = Concurrency::Sequential(Mode::Robust);
            match signal.bag_from_json(kwargs)? {
                JsonBag::Struct(args) => {
                    let (report, _) = signal.send_async_in(how, key, &*args, false).await?;
                    Ok(report)
                }
                JsonBag::ByName(bag) => Ok(signal.send_bag_async_in(how, key, &bag).await),
            }
        }
    }

    /// The JSON form of the struct that declares this signal, from its descriptor: the
    /// `#[signal]` declaration of the type the signal is bound to. Read from the linked
    /// declarations themselves, not the registry, so that a receiver may call it while the
    /// registry is being built.
    fn codec(&self) -> Option<Codec> {
        let binding = self.core().binding()?;
        inventory::iter::<SignalDecl>()
            .find(|decl| {
                (decl.namespace(), decl.name()) == (self.namespace(), self.name())
                    && decl.type_id() == binding.type_id
            })
            .and_then(SignalDecl::codec)
    }

    /// The bag `json` stands for: the declared struct when it has a JSON form, else the
    /// object's fields.
    fn bag_from_json(&self, json: Value) -> Result<JsonBag, WireError> {
        match self.codec() {
            Some(codec) => {
                (codec.decode)(json)
                    .map(JsonBag::Struct)
                    .map_err(|error| WireError::Undecodable {
                        signal: self.qualified_name().to_owned(),
                        expected: (codec.type_name)(),
                        error: error.to_string(),
                    })
            }
            None => bag::from_json(self.qualified_name(), json).map(JsonBag::ByName),
        }
    }
}
