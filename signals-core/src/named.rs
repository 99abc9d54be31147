//! A signal seen by name: the handle every signal has, declared or not.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::connection::{
    alive_while, connect_parts, ConnectOptions, Connection, MuteGuard, ReceiverParts,
};
use crate::core::{dyn_async, AsyncRecordFn, Callable, DynCall, RecordFn, SignalCore};
use crate::error::Error;
use crate::future::BoxFuture;
use crate::kwargs::Kwargs;
use crate::receiver::{
    async_in_sync_send, called, gone, IntoOutcome, ReceiverId, ReceiverInfo, SourceLocation,
};
use crate::send::{Concurrency, Mode, SendReport};
use crate::sender::{Sender, SenderFilter, SenderKey};
use crate::snapshot;
use crate::typed::{Signal, TypedSignal};

/// A signal found by its namespace and name: the same signal whether or not a struct declares
/// it, and whether or not the declaring crate is linked (then it is simply never sent).
///
/// By-name receivers get the sender's [`SenderKey`] and the kwargs bag as `&dyn Kwargs`; they
/// see typed sends too.
///
/// ```
/// use signals_core::{DynKwargs, Kwargs, Namespace};
/// use std::sync::{Arc, Mutex};
///
/// let signal = Namespace::get("doc_named")?.signal("custom_something_happened")?;
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let _connection = signal.connect(move |sender, kwargs: &dyn Kwargs| {
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
        self.core.name
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
        self.core.namespace
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

    /// The Rust type of the struct that declares this signal, as `std::any::type_name` spells
    /// it; `None` for a signal no struct declares. A `#[signal]` struct linked into the binary
    /// is known from the first lookup of any signal (the registry declares them all then); a
    /// hand-written [`Signal`] impl only once the type itself has been used.
    ///
    /// ```
    /// use signals_core::{signal, Namespace};
    ///
    /// #[signal(namespace = "doc_named_declared_type")]
    /// struct Saved { id: u32 }
    ///
    /// let ns = Namespace::get("doc_named_declared_type")?;
    /// assert!(ns.signal("saved")?.declared_type().unwrap().ends_with("Saved"));
    /// assert_eq!(ns.signal("not_declared")?.declared_type(), None);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn declared_type(&self) -> Option<&'static str> {
        self.core.binding().map(|b| b.type_name)
    }

    /// The declared sender and output types, as `std::any::type_name` spells them; known
    /// when [`declared_type`](Self::declared_type) is.
    ///
    /// ```
    /// use signals_core::{signal, Namespace};
    ///
    /// #[signal(namespace = "doc_named_declared_sender", output = u32)]
    /// struct Saved { id: u32 }
    ///
    /// let signal = Namespace::get("doc_named_declared_sender")?.signal("saved")?;
    /// assert_eq!(signal.declared_sender_and_output(), Some(("str", "u32")));
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn declared_sender_and_output(&self) -> Option<(&'static str, &'static str)> {
        self.core.binding().map(|b| (b.sender_type, b.output_type))
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
    /// assert_eq!(typed.send(&Saved { id: 1 }, "web").receivers_called(), 0);
    /// assert!(by_name.typed::<Deleted>().is_err());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn typed<T: Signal>(&self) -> Result<TypedSignal<T>, Error> {
        let own = T::signal();
        if own.named() == *self {
            return Ok(own);
        }
        match self.declared_type() {
            Some(declared) => Err(Error::TypeConflict {
                signal: self.qualified_name().to_owned(),
                declared,
                requested: std::any::type_name::<T>(),
            }),
            None => Err(Error::NotDeclaredBy {
                signal: self.qualified_name().to_owned(),
                requested: std::any::type_name::<T>(),
                declares: own.qualified_name(),
            }),
        }
    }

    /// Connects a by-name receiver for every sender. Connecting the same function (or closure
    /// that captures nothing) again is a no-op that returns the same connection.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_connect")?.signal("saved")?;
    /// let c = signal.connect(|sender, kwargs: &dyn Kwargs| {
    ///     assert_eq!(sender.as_str(), Some("web"));
    ///     assert_eq!(kwargs.get::<u32>("id"), Some(&1));
    /// });
    /// assert!(signal.send(&"web", &DynKwargs::new().with("id", 1u32))?.is_ok());
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect<F, R>(&self, receiver: F) -> Connection
    where
        F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
        R: IntoOutcome<()>,
    {
        self.connect_with(ConnectOptions::new(), receiver)
    }

    /// Connects a by-name receiver for one sender.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_connect_to")?.signal("saved")?;
    /// let c = signal.connect_to("dataset", |_, _| {});
    /// assert_eq!(signal.send(&"dataset", &DynKwargs::new())?.receivers_called(), 1);
    /// assert_eq!(signal.send(&"group", &DynKwargs::new())?.receivers_called(), 0);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_to<S, F, R>(&self, sender: &S, receiver: F) -> Connection
    where
        S: Sender + ?Sized,
        F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
        R: IntoOutcome<()>,
    {
        self.connect_with(ConnectOptions::new().sender(sender), receiver)
    }

    /// Connects a by-name receiver with explicit [`ConnectOptions`].
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_connect_with")?.signal("saved")?;
    /// let options = ConnectOptions::new().sender("dataset").key("audit").plugin("audit");
    /// let c = signal.connect_with(options, |_, _| {});
    /// let info = c.receiver().unwrap();
    /// assert_eq!(info.plugin.as_deref(), Some("audit"));
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_with<F, R>(&self, options: ConnectOptions, receiver: F) -> Connection
    where
        F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
        R: IntoOutcome<()>,
    {
        let identity = ReceiverId::of(&receiver);
        let call: Callable<DynCall> = Arc::new(move |sender: &SenderKey<'_>, args: &dyn Kwargs| {
            called(receiver(sender, args).into_outcome())
        });
        connect_parts(
            self.core,
            options,
            ReceiverParts {
                identity,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: RecordFn::Dynamic(call),
                async_func: None,
                alive: None,
            },
        )
    }

    /// Connects a by-name receiver bound weakly to `target`: it gets `&X` on each call and is
    /// disconnected once `target` is dropped. As with
    /// [`TypedSignal::connect_weak`], the removal is lazy: the first send after the drop
    /// disconnects it, and until then [`has_receivers`](Self::has_receivers) still says
    /// `true`.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, DynKwargs, Namespace};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let signal = Namespace::get("doc_named_connect_weak")?.signal("saved")?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// signal.connect_weak(&seen, ConnectOptions::new(), |seen: &Mutex<Vec<String>>, sender, _| {
    ///     seen.lock().unwrap().push(sender.to_string());
    /// });
    /// let _ = signal.send(&"web", &DynKwargs::new())?;
    /// assert_eq!(seen.lock().unwrap().len(), 1);
    /// drop(seen);
    /// assert_eq!(signal.send(&"web", &DynKwargs::new())?.receivers_called(), 0);
    /// assert!(signal.connections().is_empty());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_weak<X, F, R>(
        &self,
        target: &Arc<X>,
        options: ConnectOptions,
        receiver: F,
    ) -> Connection
    where
        X: Send + Sync + 'static,
        F: Fn(&X, &SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
        R: IntoOutcome<()>,
    {
        let weak = Arc::downgrade(target);
        let alive = alive_while(weak.clone());
        let call: Callable<DynCall> = Arc::new(move |sender: &SenderKey<'_>, args: &dyn Kwargs| {
            let Some(target) = weak.upgrade() else {
                return gone();
            };
            called(receiver(&target, sender, args).into_outcome())
        });
        connect_parts(
            self.core,
            options,
            ReceiverParts {
                identity: None,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: RecordFn::Dynamic(call),
                async_func: None,
                alive: Some(alive),
            },
        )
    }

    /// Connects an async by-name receiver for every sender. A typed send reaches it too
    /// (through `send_async`); a sync send reports it as a failure, as it does any async
    /// receiver (see [`Signal::send`]).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_named_async")?.signal("uploaded")?;
    /// let _hook = signal
    ///     .connect_async(|sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
    ///         Box::pin(async move {
    ///             assert_eq!(kwargs.get::<u32>("n"), Some(&3));
    ///             assert_eq!(sender.as_str(), Some("me"));
    ///         })
    ///     })
    ///     .scoped();
    /// let report =
    ///     futures::executor::block_on(signal.send_async(&"me", &DynKwargs::new().with("n", 3u32)))?;
    /// assert_eq!(report.receivers_called(), 1);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_async<F, R>(&self, receiver: F) -> Connection
    where
        F: for<'a> Fn(&'a SenderKey<'a>, &'a dyn Kwargs) -> BoxFuture<'a, R>
            + Send
            + Sync
            + 'static,
        R: IntoOutcome<()> + 'static,
    {
        self.connect_async_with(ConnectOptions::new(), receiver)
    }

    /// Connects an async by-name receiver for one sender.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_connect_async_to")?.signal("saved")?;
    /// let c = signal.connect_async_to("dataset", |_, _| Box::pin(async {}));
    /// let args = DynKwargs::new();
    /// let report = futures::executor::block_on(signal.send_async(&"dataset", &args))?;
    /// assert_eq!(report.receivers_called(), 1);
    /// let report = futures::executor::block_on(signal.send_async(&"group", &args))?;
    /// assert_eq!(report.receivers_called(), 0);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_async_to<S, F, R>(&self, sender: &S, receiver: F) -> Connection
    where
        S: Sender + ?Sized,
        F: for<'a> Fn(&'a SenderKey<'a>, &'a dyn Kwargs) -> BoxFuture<'a, R>
            + Send
            + Sync
            + 'static,
        R: IntoOutcome<()> + 'static,
    {
        self.connect_async_with(ConnectOptions::new().sender(sender), receiver)
    }

    /// Connects an async by-name receiver with explicit [`ConnectOptions`].
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_connect_async_with")?.signal("saved")?;
    /// let c = signal.connect_async_with(ConnectOptions::new().name("notify"), |_, _| {
    ///     Box::pin(async {})
    /// });
    /// assert!(c.receiver().unwrap().is_async);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_async_with<F, R>(&self, options: ConnectOptions, receiver: F) -> Connection
    where
        F: for<'a> Fn(&'a SenderKey<'a>, &'a dyn Kwargs) -> BoxFuture<'a, R>
            + Send
            + Sync
            + 'static,
        R: IntoOutcome<()> + 'static,
    {
        let identity = ReceiverId::of(&receiver);
        let call = dyn_async(move |sender, args| {
            let future = receiver(sender, args);
            Box::pin(async move { called(future.await.into_outcome()) })
        });
        connect_parts(
            self.core,
            options,
            ReceiverParts {
                identity,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: async_shim(),
                async_func: Some(AsyncRecordFn::Dynamic(call)),
                alive: None,
            },
        )
    }

    /// Connects an async by-name receiver bound weakly to `target` (see
    /// [`TypedSignal::connect_async_weak`](crate::TypedSignal::connect_async_weak)).
    ///
    /// ```
    /// use signals_core::{ConnectOptions, DynKwargs, Kwargs, Namespace, SenderKey};
    /// use std::sync::Arc;
    ///
    /// let signal = Namespace::get("doc_named_connect_async_weak")?.signal("saved")?;
    /// let target = Arc::new(String::from("audit"));
    /// let c = signal.connect_async_weak(
    ///     &target,
    ///     ConnectOptions::new(),
    ///     |name: Arc<String>, _: &SenderKey<'_>, _: &dyn Kwargs| {
    ///         Box::pin(async move { assert_eq!(*name, "audit") })
    ///     },
    /// );
    /// let args = DynKwargs::new();
    /// let report = futures::executor::block_on(signal.send_async(&"web", &args))?;
    /// assert_eq!(report.receivers_called(), 1);
    /// drop(target);
    /// let report = futures::executor::block_on(signal.send_async(&"web", &args))?;
    /// assert_eq!(report.receivers_called(), 0);
    /// assert!(!c.is_connected());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    #[track_caller]
    pub fn connect_async_weak<X, F, R>(
        &self,
        target: &Arc<X>,
        options: ConnectOptions,
        receiver: F,
    ) -> Connection
    where
        X: Send + Sync + 'static,
        F: for<'a> Fn(Arc<X>, &'a SenderKey<'a>, &'a dyn Kwargs) -> BoxFuture<'a, R>
            + Send
            + Sync
            + 'static,
        R: IntoOutcome<()> + 'static,
    {
        let weak = Arc::downgrade(target);
        let alive = alive_while(weak.clone());
        let call = dyn_async(move |sender, args| match weak.upgrade() {
            Some(target) => {
                let future = receiver(target, sender, args);
                Box::pin(async move { called(future.await.into_outcome()) })
            }
            None => Box::pin(async { gone() }),
        });
        connect_parts(
            self.core,
            options,
            ReceiverParts {
                identity: None,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: async_shim(),
                async_func: Some(AsyncRecordFn::Dynamic(call)),
                alive: Some(alive),
            },
        )
    }

    /// Sends the signal by name, calling every matching receiver, typed and by-name, in
    /// connection order, and reporting each failure.
    ///
    /// Async receivers do not run in a sync send: each is reported as a failure at its
    /// place, as [`Signal::send`] explains; use [`send_async`](Self::send_async).
    ///
    /// When a struct declares the signal, `args` must be that struct (so typed receivers get
    /// their type) and the sender must be rebuildable from its key; otherwise this is an error
    /// and no receiver is called.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_send")?.signal("saved")?;
    /// let c = signal.connect(|_, kwargs: &dyn Kwargs| assert!(kwargs.contains("id")));
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
        self.send_in(Mode::Robust, &sender.sender_key(), args)
    }

    /// Like [`send`](Self::send), but stops at the first receiver that fails: the report holds
    /// that one failure, and [`stopped_early`](SendReport::stopped_early) says whether
    /// receivers were left uncalled.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_send_fail_fast")?.signal("saved")?;
    /// let _a = signal.connect(|_, _| Err::<(), _>("no")).scoped();
    /// let _b = signal.connect(|_, _| -> () { unreachable!() }).scoped();
    /// let report = signal.send_fail_fast(&"web", &DynKwargs::new())?;
    /// assert_eq!(report.failures().len(), 1);
    /// assert!(report.stopped_early());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn send_fail_fast<S: Sender + ?Sized>(
        &self,
        sender: &S,
        args: &dyn Kwargs,
    ) -> Result<SendReport, Error> {
        self.send_in(Mode::FailFast, &sender.sender_key(), args)
    }

    /// Sends the signal by name, awaiting every receiver, sync and async, one at a time in
    /// connection order: [`send`](Self::send)'s checks and report, with
    /// [`Signal::send_async`]'s behaviour (no receiver runs before the first poll, though the
    /// sender's [`sender_key`](Sender::sender_key) is taken at the call; dropping the future
    /// stops the send at its await point).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_send_async")?.signal("saved")?;
    /// let _sync = signal.connect(|_, _| {}).scoped();
    /// let _async = signal.connect_async(|_, _| Box::pin(async {})).scoped();
    /// let args = DynKwargs::new();
    /// let report = futures::executor::block_on(signal.send_async(&"web", &args))?;
    /// assert_eq!(report.receivers_called(), 2);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn send_async<'a, S: Sender + ?Sized>(
        &self,
        sender: &'a S,
        args: &'a dyn Kwargs,
    ) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        self.send_async_in(
            Concurrency::Sequential(Mode::Robust),
            sender.sender_key(),
            args,
        )
    }

    /// Like [`send_async`](Self::send_async), stopping at the first receiver that fails
    /// (the async counterpart of [`send_fail_fast`](Self::send_fail_fast)): the report's
    /// [`stopped_early`](SendReport::stopped_early) says whether receivers were left out.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_send_fail_fast_async")?.signal("saved")?;
    /// let _bad = signal.connect_async(|_, _| Box::pin(async { Err::<(), _>("no") })).scoped();
    /// let _late = signal.connect(|_, _| {}).scoped();
    /// let args = DynKwargs::new();
    /// let report = futures::executor::block_on(signal.send_fail_fast_async(&"web", &args))?;
    /// assert_eq!(report.receivers_called(), 1);
    /// assert!(report.stopped_early());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn send_fail_fast_async<'a, S: Sender + ?Sized>(
        &self,
        sender: &'a S,
        args: &'a dyn Kwargs,
    ) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        self.send_async_in(
            Concurrency::Sequential(Mode::FailFast),
            sender.sender_key(),
            args,
        )
    }

    /// Like [`send_async`](Self::send_async), running the async receivers together (see
    /// [`Signal::send_async_concurrent`]).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_send_async_concurrent")?.signal("saved")?;
    /// let _a = signal.connect_async(|_, _| Box::pin(async {})).scoped();
    /// let _b = signal.connect_async(|_, _| Box::pin(async {})).scoped();
    /// let args = DynKwargs::new();
    /// let report = futures::executor::block_on(signal.send_async_concurrent(&"web", &args))?;
    /// assert_eq!(report.receivers_called(), 2);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn send_async_concurrent<'a, S: Sender + ?Sized>(
        &self,
        sender: &'a S,
        args: &'a dyn Kwargs,
    ) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        self.send_async_in(Concurrency::Concurrent, sender.sender_key(), args)
    }

    fn send_async_in<'a>(
        &self,
        how: Concurrency,
        key: SenderKey<'a>,
        args: &'a dyn Kwargs,
    ) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        let core = self.core;
        async move {
            snapshot::owned_snapshot(core)
                .send_dyn_async(core, key, args, how)
                .await
        }
    }

    fn send_in(
        &self,
        mode: Mode,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
    ) -> Result<SendReport, Error> {
        let core = self.core;
        snapshot::with_snapshot(core, |snapshot| snapshot.send_dyn(core, key, args, mode))
    }

    /// Whether a send from `sender` now would call at least one receiver: exact (it asks each
    /// weak receiver whether its target lives), and O(1) unless the receivers are weakly
    /// bound. "Now" only: another thread may connect or disconnect before you send.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_named_has_receivers_for")?.signal("saved")?;
    /// let c = signal.connect_to("dataset", |_, _| {});
    /// assert!(signal.has_receivers_for(&"dataset"));
    /// assert!(!signal.has_receivers_for(&"group"));
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn has_receivers_for<S: Sender + ?Sized>(&self, sender: &S) -> bool {
        self.core.live.load(std::sync::atomic::Ordering::Acquire)
            && snapshot::with_snapshot(self.core, |snapshot| {
                snapshot.has_receivers_for(&sender.sender_key())
            })
    }

    /// Whether any receiver is connected and unblocked, and the signal is not muted. A fast
    /// flag, not exact: it ignores sender filters, and it stays `true` after a weak
    /// receiver's target was dropped, until a send notices and disconnects it. Use
    /// [`has_receivers_for`](Self::has_receivers_for) for an exact answer.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_named_has_receivers")?.signal("saved")?;
    /// assert!(!signal.has_receivers());
    /// let c = signal.connect_to("dataset", |_, _| {});
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
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_receivers_for")?.signal("saved")?;
    /// let _a = signal.connect_with(ConnectOptions::new().name("a"), |_, _| {}).scoped();
    /// let _b = signal
    ///     .connect_with(ConnectOptions::new().name("b").sender("dataset"), |_, _| {})
    ///     .scoped();
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
        snapshot::with_snapshot(self.core, |snapshot| {
            snapshot.receivers_for(&sender.sender_key())
        })
    }

    /// Every connection: the receiver, its sender filter, and whether it is blocked, in
    /// connection order. Unlike [`receivers_for`](Self::receivers_for), it lists blocked
    /// connections, connections of a muted signal, and weak ones whose target is gone but no
    /// send has noticed yet.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace, SenderFilter};
    ///
    /// let signal = Namespace::get("doc_named_connections")?.signal("saved")?;
    /// let c = signal.connect_with(ConnectOptions::new().name("audit").sender("dataset"), |_, _| {});
    /// let _blocked = c.block();
    /// let all = signal.connections();
    /// assert_eq!(all.len(), 1);
    /// let (info, filter, blocked) = &all[0];
    /// assert_eq!(info.name, "audit");
    /// assert_eq!(filter, &SenderFilter::only("dataset"));
    /// assert!(*blocked);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn connections(&self) -> Vec<(Arc<ReceiverInfo>, SenderFilter, bool)> {
        self.core.connections()
    }

    /// Disconnects the function `f` from every sender; returns how many connections went.
    /// Only functions and closures that capture nothing can be named this way (see
    /// [`ReceiverId`]); disconnect a capturing closure by its key or its [`Connection`]. For a
    /// capturing closure this returns 0 and disconnects nothing. An async receiver connected
    /// through a wrapping closure is found only if it was given the function's identity
    /// ([`ConnectOptions::identity`]).
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// fn audit(_: &SenderKey<'_>, _: &dyn Kwargs) {}
    ///
    /// let signal = Namespace::get("doc_named_disconnect")?.signal("saved")?;
    /// signal.connect(audit);
    /// signal.connect_to("dataset", audit);
    /// assert_eq!(signal.disconnect(&audit), 2);
    ///
    /// let n = 1;
    /// let capturing = move |_: &SenderKey<'_>, _: &dyn Kwargs| { let _n = n; };
    /// let c = signal.connect(capturing);
    /// assert_eq!(signal.disconnect(&capturing), 0); // has no identity to find
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect<F: Any>(&self, f: &F) -> usize {
        match ReceiverId::of(f) {
            Some(id) => self.disconnect_receiver(id),
            None => 0,
        }
    }

    /// Disconnects the function `f` from `sender` only, leaving its other connections (its
    /// connection for every sender included). Like [`disconnect`](Self::disconnect), it
    /// finds only functions and closures that capture nothing.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// fn audit(_: &SenderKey<'_>, _: &dyn Kwargs) {}
    ///
    /// let signal = Namespace::get("doc_named_disconnect_from")?.signal("saved")?;
    /// let any = signal.connect(audit);
    /// signal.connect_to("dataset", audit);
    /// assert_eq!(signal.disconnect_from(&audit, &"dataset"), 1);
    /// assert!(any.is_connected());
    /// any.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect_from<F: Any, S: Sender + ?Sized>(&self, f: &F, sender: &S) -> usize {
        match ReceiverId::of(f) {
            Some(id) => self.disconnect_receiver_from(id, sender),
            None => 0,
        }
    }

    /// Disconnects the receiver `id` from every sender.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_disconnect_receiver")?.signal("saved")?;
    /// signal.connect_with(ConnectOptions::new().key("audit"), |_, _| {});
    /// signal.connect_with(ConnectOptions::new().key("audit").sender("dataset"), |_, _| {});
    /// assert_eq!(signal.disconnect_receiver("audit"), 2);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect_receiver(&self, id: impl Into<ReceiverId>) -> usize {
        let id = id.into();
        self.core.disconnect_where(|r| r.info.id == id)
    }

    /// Disconnects the receiver `id` from `sender` only (not its connection for every sender).
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace, ReceiverId};
    ///
    /// let signal = Namespace::get("doc_named_disconnect_receiver_from")?.signal("saved")?;
    /// let any = signal.connect_with(ConnectOptions::new().key("audit"), |_, _| {});
    /// signal.connect_with(ConnectOptions::new().key("audit").sender("dataset"), |_, _| {});
    /// assert_eq!(signal.disconnect_receiver_from(ReceiverId::key("audit"), &"dataset"), 1);
    /// assert!(any.is_connected());
    /// any.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect_receiver_from<S: Sender + ?Sized>(
        &self,
        id: impl Into<ReceiverId>,
        sender: &S,
    ) -> usize {
        let id = id.into();
        let filter = SenderFilter::only(sender);
        self.core
            .disconnect_where(|r| r.info.id == id && r.filter == filter)
    }

    /// Mutes the signal until the guard is dropped: sends call no receiver. Mutes nest: the
    /// signal speaks again when the last guard goes. The mute is process-wide (every thread's
    /// sends are silenced), and a send already running is not stopped.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_named_mute")?.signal("saved")?;
    /// let _c = signal.connect(|_, _| {}).scoped();
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

/// What a sync send calls in place of an async by-name receiver: a shim that reports it
/// cannot run it.
fn async_shim() -> RecordFn {
    RecordFn::Dynamic(Arc::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {
        async_in_sync_send::<()>()
    }))
}
