//! A signal seen by name: the handle every signal has, declared or not.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::connect::IntoReceiver;
use crate::connection::{Connection, MuteGuard};
use crate::engine::cache::with_snapshot;
use crate::engine::deliver::Mode;
use crate::engine::signal::SignalCore;
use crate::error::Error;
use crate::kwargs::Kwargs;
use crate::receiver::{ReceiverId, ReceiverInfo, SourceLocation};
use crate::report::SendReport;
use crate::sender::{Sender, SenderFilter};
use crate::sending::{NamedSend, Sending};
use crate::typed::handle::TypedSignal;
use crate::typed::signal::Signal;

/// A signal found by its namespace and name: the same signal whether or not a struct declares
/// it, and whether or not the declaring crate is linked (then it is simply never sent).
///
/// By-name receivers get the sender's [`SenderKey`](crate::SenderKey) and the kwargs bag as `&dyn Kwargs`; they
/// see typed sends too.
///
/// ```
/// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
/// use std::sync::{Arc, Mutex};
///
/// let signal = Namespace::get("doc_named")?.signal("custom_something_happened")?;
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let _connection = signal.connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
///     let n = kwargs.get::<u32>("n").copied().unwrap_or_default();
///     log.lock().unwrap().push(format!("{sender} {n}"));
/// });
/// let report = signal.send(&"me", &DynKwargs::new().with("n", 7u32))?;
/// assert_eq!(report.receivers_called(), 1);
/// assert_eq!(*seen.lock().unwrap(), ["\"me\" 7"]);
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct NamedSignal {
    core: &'static SignalCore,
}

impl NamedSignal {
    pub(crate) fn from_core(core: &'static SignalCore) -> Self {
        NamedSignal { core }
    }

    pub(crate) fn core(&self) -> &'static SignalCore {
        self.core
    }

    /// The signal's name inside its namespace.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_named_name")?.signal("saved")?;
    /// assert_eq!(signal.name(), "saved");
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn name(&self) -> &'static str {
        self.core.name()
    }

    /// The name of the signal's namespace.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_named_namespace")?.signal("saved")?;
    /// assert_eq!(signal.namespace(), "doc_named_namespace");
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn namespace(&self) -> &'static str {
        self.core.namespace()
    }

    /// `namespace.name`.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_named_qualified")?.signal("saved")?;
    /// assert_eq!(signal.qualified_name(), "doc_named_qualified.saved");
    /// assert_eq!(signal.to_string(), "doc_named_qualified.saved");
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn qualified_name(&self) -> &'static str {
        self.core.qualified
    }

    /// How a struct declares this signal: the struct's, sender's and output's type names, as
    /// `std::any::type_name` spells them, and its schema version; `None` for a signal no
    /// struct declares. A
    /// `#[signal]` struct linked into the binary is known from the first lookup of any signal
    /// (the registry declares them all then); a hand-written [`Signal`] impl only once the
    /// type itself has been used.
    ///
    /// ```
    /// use signals_core::{signal, Namespace};
    ///
    /// #[signal(namespace = "doc_named_declaration", output = u32)]
    /// struct Saved { id: u32 }
    ///
    /// let ns = Namespace::get("doc_named_declaration")?;
    /// let declared = ns.signal("saved")?.declaration().unwrap();
    /// assert!(declared.type_name.ends_with("Saved"));
    /// assert_eq!((declared.sender_type, declared.output_type), ("str", "u32"));
    /// assert_eq!(declared.schema, 1);
    /// assert_eq!(ns.signal("not_declared")?.declaration(), None);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn declaration(&self) -> Option<Declaration> {
        self.core.binding().map(|b| Declaration {
            type_name: b.type_name,
            sender_type: b.sender_type,
            output_type: b.output_type,
            schema: b.schema,
        })
    }

    /// This signal as declared by `T`, or an error when another struct declares it or `T`
    /// declares another signal.
    ///
    /// ```
    /// use signals_core::{signal, Namespace};
    ///
    /// #[signal(namespace = "doc_named_typed")]
    /// struct Saved { id: u32 }
    ///
    /// #[signal(namespace = "doc_named_typed")]
    /// struct Deleted { id: u32 }
    ///
    /// let by_name = Namespace::get("doc_named_typed")?.signal("saved")?;
    /// let typed = by_name.typed::<Saved>()?;
    /// assert_eq!(typed.send("web", &Saved { id: 1 }).receivers_called(), 0);
    /// assert!(by_name.typed::<Deleted>().is_err());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn typed<T: Signal>(&self) -> Result<TypedSignal<T>, Error> {
        let own = T::signal();
        if own.named() == *self {
            return Ok(own);
        }
        match self.declaration() {
            Some(declared) => Err(Error::TypeConflict {
                signal: self.qualified_name().to_owned(),
                declared: declared.type_name,
                requested: std::any::type_name::<T>(),
            }),
            None => Err(Error::NotDeclaredBy {
                signal: self.qualified_name().to_owned(),
                requested: std::any::type_name::<T>(),
                declares: own.named().qualified_name(),
            }),
        }
    }

    /// Connects `receiver`: a function or closure `Fn(&SenderKey, &dyn Kwargs) -> R` for
    /// every sender, or a [`Receiver`](crate::Receiver) that says more (one sender, async,
    /// weak, a key, a name). `R` is `()`, a value a collecting send gathers, or a `Result`
    /// (see [`IntoReply`](crate::IntoReply)). Connecting the same function again is a no-op
    /// that returns the same connection.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_connect")?.signal("saved")?;
    /// let c = signal.connect(|sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
    ///     assert_eq!(sender.as_str(), Some("web"));
    ///     assert_eq!(kwargs.get::<u32>("id"), Some(&1));
    /// });
    /// assert!(signal.send(&"web", &DynKwargs::new().with("id", 1u32))?.is_ok());
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect<M>(&self, receiver: impl IntoReceiver<dyn Kwargs, M>) -> Connection {
        receiver
            .lower()
            .connect(self.core, SourceLocation::caller())
    }

    /// Sends `args` from `sender` to every matching receiver, in connection order; failures
    /// are reported and do not stop the send. For the other ways to send, see
    /// [`sending`](Self::sending).
    ///
    /// Async receivers do not run in a sync send: each is reported as a failure at its
    /// place, as [`Signal::send`] explains; use [`send_async`](Self::send_async).
    ///
    /// When a struct declares the signal, `args` must be that struct (so typed receivers get
    /// their type) and the sender must be rebuildable from its key; otherwise this is an error
    /// and no receiver is called.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_send")?.signal("saved")?;
    /// let c = signal.connect(|_: &SenderKey<'_>, kwargs: &dyn Kwargs| assert!(kwargs.contains("id")));
    /// let report = signal.send(&"web", &DynKwargs::new().with("id", 1u32))?;
    /// assert_eq!(report.receivers_called(), 1);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn send<S: Sender + ?Sized>(
        &self,
        sender: &S,
        args: &dyn Kwargs,
    ) -> Result<SendReport, Error> {
        self.send_in(Mode::Robust, &sender.sender_key(), args, None)
    }

    /// Sends `args` from `sender`, awaiting every receiver, sync and async, one at a time in
    /// connection order (see [`Signal::send_async`]).
    pub fn send_async<'a, S: Sender + ?Sized>(
        &self,
        sender: &'a S,
        args: &'a dyn Kwargs,
    ) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        self.sending(sender, args).run_async()
    }

    /// A send with options: [`fail_fast`](Sending::fail_fast),
    /// [`collect`](Sending::collect), then `run`, `run_async` or `run_concurrent` (see
    /// [`Sending`]).
    pub fn sending<'a, S: Sender + ?Sized>(
        &self,
        sender: &'a S,
        args: &'a dyn Kwargs,
    ) -> Sending<'a, NamedSend<'a>> {
        Sending::new(NamedSend {
            signal: *self,
            key: sender.sender_key(),
            args,
        })
    }

    /// Whether a send from `sender` now would call at least one receiver: exact (it asks each
    /// weak receiver whether its target lives), and O(1) unless the receivers are weakly
    /// bound. "Now" only: another thread may connect or disconnect before you send.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_has_receivers_for")?.signal("saved")?;
    /// let c = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).sender("dataset"));
    /// assert!(signal.has_receivers_for(&"dataset"));
    /// assert!(!signal.has_receivers_for(&"group"));
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn has_receivers_for<S: Sender + ?Sized>(&self, sender: &S) -> bool {
        self.core.live.load(std::sync::atomic::Ordering::Acquire)
            && with_snapshot(self.core, |snapshot| {
                snapshot.has_receivers_for(&sender.sender_key())
            })
    }

    /// Whether any receiver is connected and unblocked, and the signal is not muted. A fast
    /// flag, not exact: it ignores sender filters, and it stays `true` after a weak
    /// receiver's target was dropped, until a send notices and disconnects it. Use
    /// [`has_receivers_for`](Self::has_receivers_for) for an exact answer.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_has_receivers")?.signal("saved")?;
    /// assert!(!signal.has_receivers());
    /// let c = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).sender("dataset"));
    /// assert!(signal.has_receivers()); // even for senders the filter excludes
    /// {
    ///     let _muted = signal.mute();
    ///     assert!(!signal.has_receivers());
    /// }
    /// c.disconnect();
    /// assert!(!signal.has_receivers());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn has_receivers(&self) -> bool {
        self.core.live.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The receivers a send from `sender` would call, in the order it would call them: none
    /// while the signal is muted, and none that is blocked or whose weak target is gone.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_receivers_for")?.signal("saved")?;
    /// let a = |_: &SenderKey<'_>, _: &dyn Kwargs| {};
    /// let b = |_: &SenderKey<'_>, _: &dyn Kwargs| {};
    /// let _a = signal.connect(Receiver::new(a).name("a")).scoped();
    /// let _b = signal.connect(Receiver::new(b).name("b").sender("dataset")).scoped();
    /// let names = |sender: &str| -> Vec<String> {
    ///     signal.receivers_for(&sender).iter().map(|r| r.name.to_string()).collect()
    /// };
    /// assert_eq!(names("dataset"), ["a", "b"]);
    /// assert_eq!(names("group"), ["a"]);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn receivers_for<S: Sender + ?Sized>(&self, sender: &S) -> Vec<Arc<ReceiverInfo>> {
        if !self.has_receivers() {
            return Vec::new();
        }
        with_snapshot(self.core, |snapshot| {
            snapshot.receivers_for(&sender.sender_key())
        })
    }

    /// Every connection, in connection order: the receiver, its sender filter, and whether
    /// it is blocked. Unlike [`receivers_for`](Self::receivers_for), it lists blocked
    /// connections and connections of a muted signal. Weak connections whose target is gone
    /// are not listed.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderFilter, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_connections")?.signal("saved")?;
    /// let audit = |_: &SenderKey<'_>, _: &dyn Kwargs| {};
    /// let c = signal.connect(Receiver::new(audit).name("audit").sender("dataset"));
    /// let _blocked = c.block();
    /// let all = signal.connections();
    /// assert_eq!(all.len(), 1);
    /// assert_eq!(all[0].receiver.name, "audit");
    /// assert_eq!(all[0].filter, SenderFilter::only("dataset"));
    /// assert!(all[0].blocked);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.core
            .connections()
            .into_iter()
            .map(|(receiver, filter, blocked)| ConnectionInfo {
                receiver,
                filter,
                blocked,
            })
            .collect()
    }

    /// Disconnects `receiver` from every sender (blinker's `disconnect(receiver)`) and
    /// returns how many connections went. `receiver` is a function (or a closure that
    /// captures nothing), or the key it was connected with (`&"audit"`, a `String`, a
    /// `Cow<'static, str>`), or a [`ReceiverId`]. A capturing closure has no identity to find
    /// (see [`ReceiverId`]): for it this returns 0; disconnect it by its key or its
    /// [`Connection`]. Any other value names no receiver and disconnects nothing (0). The typed
    /// handle has no `disconnect` of its own: `Saved::signal().named().disconnect(&audit)`.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// fn audit(_: &SenderKey<'_>, _: &dyn Kwargs) {}
    ///
    /// let signal = Namespace::get("doc_named_disconnect")?.signal("saved")?;
    /// signal.connect(audit);
    /// signal.connect(Receiver::new(audit).sender("dataset"));
    /// assert_eq!(signal.disconnect(&audit), 2);
    ///
    /// let n = 1;
    /// signal.connect(Receiver::new(move |_: &SenderKey<'_>, _: &dyn Kwargs| { let _n = n; }).key("counter"));
    /// assert_eq!(signal.disconnect(&"counter"), 1);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect<R: Any>(&self, receiver: &R) -> usize {
        match identity_of(receiver) {
            Some(id) => self.core.disconnect_receiver(&id, None),
            None => 0,
        }
    }

    /// Disconnects `receiver` from `sender` only, leaving its other connections (its
    /// connection for every sender included). `receiver` is named as for
    /// [`disconnect`](Self::disconnect).
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// fn audit(_: &SenderKey<'_>, _: &dyn Kwargs) {}
    ///
    /// let signal = Namespace::get("doc_named_disconnect_from")?.signal("saved")?;
    /// let any = signal.connect(audit);
    /// signal.connect(Receiver::new(audit).sender("dataset"));
    /// assert_eq!(signal.disconnect_from(&audit, &"dataset"), 1);
    /// assert!(any.is_connected());
    /// any.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect_from<R: Any, S: Sender + ?Sized>(&self, receiver: &R, sender: &S) -> usize {
        let Some(id) = identity_of(receiver) else {
            return 0;
        };
        let filter = SenderFilter::only(sender);
        self.core.disconnect_receiver(&id, Some(&filter))
    }

    /// Mutes the signal until the guard is dropped: sends call no receiver. Mutes nest: the
    /// signal speaks again when the last guard goes. The mute is process-wide (every thread's
    /// sends are silenced), and a send already running is not stopped.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_mute")?.signal("saved")?;
    /// let _c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
    /// let muted = signal.mute();
    /// assert_eq!(signal.send(&"web", &DynKwargs::new())?.receivers_called(), 0);
    /// drop(muted);
    /// assert_eq!(signal.send(&"web", &DynKwargs::new())?.receivers_called(), 1);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn mute(&self) -> MuteGuard {
        MuteGuard::new(*self)
    }

    /// Whether a [`MuteGuard`] is alive.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_named_is_muted")?.signal("saved")?;
    /// let guard = signal.mute();
    /// assert!(signal.is_muted());
    /// drop(guard);
    /// assert!(!signal.is_muted());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn is_muted(&self) -> bool {
        self.core.is_muted()
    }
}

impl PartialEq for NamedSignal {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.core, other.core)
    }
}

impl Eq for NamedSignal {}

impl fmt::Debug for NamedSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedSignal({})", self.core.qualified)
    }
}

impl fmt::Display for NamedSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.core.qualified)
    }
}

/// The identity `receiver` names: a [`ReceiverId`], a key (`&'static str` or `String`), or a
/// function's own identity.
fn identity_of<R: Any>(receiver: &R) -> Option<ReceiverId> {
    let any = receiver as &dyn Any;
    if let Some(id) = any.downcast_ref::<ReceiverId>() {
        return Some(id.clone());
    }
    if let Some(key) = any.downcast_ref::<&'static str>() {
        return Some(ReceiverId::key(*key));
    }
    if let Some(key) = any.downcast_ref::<String>() {
        return Some(ReceiverId::key(key.clone()));
    }
    if let Some(key) = any.downcast_ref::<std::borrow::Cow<'static, str>>() {
        return Some(ReceiverId::key(key.clone()));
    }
    ReceiverId::of(receiver)
}

/// One connection of a signal, as [`NamedSignal::connections`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The receiver's description.
    pub receiver: Arc<ReceiverInfo>,
    /// Which senders it listens to.
    pub filter: SenderFilter,
    /// Whether the connection is blocked ([`Connection::block`]).
    pub blocked: bool,
}

/// How a struct declares a signal, as [`NamedSignal::declaration`] gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Declaration {
    /// The struct's type name.
    pub type_name: &'static str,
    /// The sender's type name (`str` for CKAN's string senders).
    pub sender_type: &'static str,
    /// The type of the receivers' values (`()` when they give none).
    pub output_type: &'static str,
    /// The version of the struct's shape ([`Signal::SCHEMA`]: 1 unless the declaration says
    /// `schema = ...`).
    pub schema: u32,
}
