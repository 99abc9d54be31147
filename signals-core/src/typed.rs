//! Typed signals: a struct whose fields are the signal's keyword arguments.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::connection::{alive_while, connect_parts, ConnectOptions, Connection, ReceiverParts};
use crate::core::{typed_async, AsyncRecordFn, Binding, Callable, RecordFn, SignalCore, TypedCall};
use crate::error::Error;
use crate::future::BoxFuture;
use crate::kwargs::Kwargs;
use crate::named::NamedSignal;
use crate::namespace::Namespace;
use crate::receiver::{
    async_in_sync_send, called, gone, IntoOutcome, ReceiverId, ReceiverInfo, SourceLocation,
};
use crate::send::{
    deliver, deliver_async, Collect, Collected, Concurrency, Failure, Mode, Response, SendReport,
};
use crate::sender::Sender;
use crate::snapshot::{self, ThreadSnapshot};
use std::thread::LocalKey;

/// A signal declared by a struct: its fields are the keyword arguments.
///
/// `#[signal]` writes this impl; writing it by hand takes a [`SignalCell`] for the cached
/// lookup:
///
/// ```
/// use signals_core::{Kwarg, Kwargs, NamedSignal, Signal, SignalCell};
///
/// /// Sent when a user is created.
/// struct UserCreated {
///     user: String,
/// }
///
/// impl Kwargs for UserCreated {
///     fn kwarg(&self, name: &str) -> Option<Kwarg<'_>> {
///         (name == "user").then(|| Kwarg::new("user", &self.user))
///     }
///     fn kwargs(&self) -> Vec<Kwarg<'_>> {
///         vec![Kwarg::new("user", &self.user)]
///     }
/// }
///
/// impl Signal for UserCreated {
///     type Sender = str;
///     type Output = ();
///     const NAMESPACE: &'static str = "doc_typed";
///     const NAME: &'static str = "user_created";
///     fn named() -> NamedSignal {
///         static CELL: SignalCell = SignalCell::new();
///         CELL.resolve::<Self>()
///     }
/// }
///
/// let connection = UserCreated::signal().connect(|name: &str, ev: &UserCreated| {
///     assert_eq!(name, ev.user);
/// });
/// let report = UserCreated { user: "alice".into() }.send("alice");
/// assert_eq!(report.receivers_called(), 1);
/// connection.disconnect();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a signal",
    label = "not a signal",
    note = "declare it with `#[signal(namespace = \"...\")]` on the struct, or implement `signals_core::Signal` by hand"
)]
pub trait Signal: Kwargs + Sized {
    /// Who sends it (`str` for CKAN's string senders). `Sync`, so that an async send, which
    /// borrows it across awaits, can move between threads; `Send`, so that a by-name async send
    /// can hold one rebuilt from a key (see [`Sender::owned_from_sender_key`]).
    type Sender: Sender + ?Sized + Send + Sync + 'static;
    /// What each receiver returns, collected by [`send_collect`](Signal::send_collect).
    type Output: Send + 'static;
    /// The namespace, such as `ckan`.
    const NAMESPACE: &'static str;
    /// The registered name inside the namespace.
    const NAME: &'static str;
    /// The signal's documentation.
    const DOCS: &'static str = "";

    /// The signal's runtime object, found once and cached (use a [`SignalCell`]).
    ///
    /// ```
    /// use signals_core::{signal, Namespace, Signal};
    ///
    /// #[signal(namespace = "doc_signal_named")]
    /// struct Saved { id: u32 }
    ///
    /// assert_eq!(Saved::named(), Namespace::get("doc_signal_named")?.signal("saved")?);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    fn named() -> NamedSignal;

    /// This thread's cached snapshot of the signal, for the send path. `#[signal]` gives each
    /// signal type a `thread_local!` of its own; the default, `None`, uses a cache shared by
    /// every signal of the thread, which costs a look-up and a downcast per send.
    #[doc(hidden)]
    #[inline]
    fn thread_snapshot() -> Option<&'static LocalKey<ThreadSnapshot<Self>>> {
        None
    }

    /// The typed handle: connect, inspect, mute.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_signal")]
    /// struct Saved { id: u32 }
    ///
    /// let handle = Saved::signal();
    /// assert_eq!(handle.qualified_name(), "doc_signal_signal.saved");
    /// assert!(!handle.has_receivers());
    /// ```
    fn signal() -> TypedSignal<Self> {
        TypedSignal {
            named: Self::named(),
            _args: PhantomData,
        }
    }

    /// Sends `self` from `sender` to every matching receiver, in connection order. Failures
    /// (errors and panics) are reported and do not stop the send.
    ///
    /// A sync send does not run async receivers (it would have to block the thread on them,
    /// and it may be a runtime's thread): it runs every sync receiver in order and reports
    /// each async receiver it meets, at its place, as a failure of kind
    /// [`FailureKind::AsyncReceiver`](crate::FailureKind::AsyncReceiver) ("receiver `x` at
    /// file:line is async; a sync send cannot run it — use send_async"). This is decided per
    /// receiver, never blocks and never skips one silently; [`try_send`](Signal::try_send)
    /// stops there, as at any failure. Use [`send_async`](Signal::send_async) when async
    /// receivers may be connected.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_send")]
    /// struct Saved { id: u32 }
    ///
    /// let _ok = Saved::signal().connect_scoped(|_: &str, ev: &Saved| assert_eq!(ev.id, 7));
    /// let _bad = Saved::signal().connect_scoped(|_: &str, _: &Saved| Err::<(), _>("no"));
    /// let report = Saved { id: 7 }.send("web");
    /// assert_eq!(report.receivers_called(), 2);
    /// assert_eq!(report.failures().len(), 1);
    /// ```
    fn send(&self, sender: &Self::Sender) -> SendReport {
        Self::signal().send(self, sender)
    }

    /// Sends, stopping at the first receiver that fails (blinker's behaviour). `Ok` holds how
    /// many receivers were called; `Err` the first failure (an async receiver met by this sync
    /// send is one).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_try_send")]
    /// struct Saved { id: u32 }
    ///
    /// let _a = Saved::signal().connect_scoped(|_: &str, _: &Saved| {});
    /// assert_eq!(Saved { id: 1 }.try_send("web").unwrap(), 1);
    /// let _b = Saved::signal().connect_scoped(|_: &str, _: &Saved| Err::<(), _>("no"));
    /// let _c = Saved::signal().connect_scoped(|_: &str, _: &Saved| -> () { unreachable!() });
    /// let failure = Saved { id: 1 }.try_send("web").unwrap_err();
    /// assert!(failure.to_string().ends_with("returned an error: no"));
    /// ```
    fn try_send(&self, sender: &Self::Sender) -> Result<usize, Failure> {
        Self::signal().try_send(self, sender)
    }

    /// Sends and collects every receiver's returned value, as blinker's `send` does. Failed
    /// receivers give no value (they are in the report).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_send_collect", output = String)]
    /// struct Render { id: u32 }
    ///
    /// let _a = Render::signal().connect_scoped(|_: &str, ev: &Render| format!("a{}", ev.id));
    /// let _b = Render::signal().connect_scoped(|_: &str, ev: &Render| format!("b{}", ev.id));
    /// assert_eq!(Render { id: 1 }.send_collect("web").values(), ["a1", "b1"]);
    /// ```
    fn send_collect(&self, sender: &Self::Sender) -> Collected<Self::Output> {
        Self::signal().send_collect(self, sender)
    }

    /// Sends `self` from `sender`, awaiting every receiver, sync and async alike, one at a
    /// time in connection order. The report is the one [`send`](Signal::send) gives: every
    /// receiver's failure, panics in async receivers included (while the future is made and
    /// while it is polled).
    ///
    /// Nothing runs until the future is first polled; the receivers are those connected then,
    /// less any disconnected before its turn. The future is `Send` and needs no particular
    /// executor. Dropping it midway (a timeout, a cancelled task) drops the async receiver in
    /// flight at its await point: the receivers before it ran, those after it do not run,
    /// and nothing stays locked or connected.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_async")]
    /// struct Published { id: u32 }
    ///
    /// let _hook = Published::signal()
    ///     .connect_async(|_: &str, ev: &Published| Box::pin(async move { assert_eq!(ev.id, 4) }))
    ///     .scoped();
    /// let report = futures::executor::block_on(Published { id: 4 }.send_async("web"));
    /// assert_eq!(report.receivers_called(), 1);
    /// ```
    fn send_async<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        Self::signal().send_async(self, sender)
    }

    /// Like [`send_async`](Signal::send_async), stopping at the first receiver that fails
    /// (the async counterpart of [`try_send`](Signal::try_send)): the receivers after it are
    /// not called. `Ok` holds how many receivers were called; `Err` the first failure.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// #[signal(namespace = "doc_signal_try_send_async")]
    /// struct Published { id: u32 }
    ///
    /// static LATE: AtomicBool = AtomicBool::new(false);
    /// let _bad = Published::signal()
    ///     .connect_async(|_: &str, _: &Published| Box::pin(async { Err::<(), _>("offline") }))
    ///     .scoped();
    /// let _late = Published::signal()
    ///     .connect_scoped(|_: &str, _: &Published| LATE.store(true, Ordering::SeqCst));
    /// let failure =
    ///     futures::executor::block_on(Published { id: 4 }.try_send_async("web")).unwrap_err();
    /// assert!(failure.to_string().ends_with("returned an error: offline"));
    /// assert!(!LATE.load(Ordering::SeqCst));
    /// ```
    fn try_send_async<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = Result<usize, Failure>> + Send + 'a {
        Self::signal().try_send_async(self, sender)
    }

    /// Like [`send_async`](Signal::send_async), collecting every receiver's value in
    /// connection order.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_send_collect_async", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _sync = Count::signal().connect_scoped(|_: &str, ev: &Count| ev.n);
    /// let _async = Count::signal()
    ///     .connect_async(|_: &str, ev: &Count| Box::pin(async move { ev.n * 10 }))
    ///     .scoped();
    /// let collected = futures::executor::block_on(Count { n: 2 }.send_collect_async("web"));
    /// assert_eq!(collected.values(), [2, 20]);
    /// ```
    fn send_collect_async<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = Collected<Self::Output>> + Send + 'a {
        Self::signal().send_collect_async(self, sender)
    }

    /// Like [`send_async`](Signal::send_async), but runs the async receivers together: in
    /// connection order, each sync receiver is called and each async receiver is started
    /// (polled once: it runs up to its first await); then the started futures are driven
    /// together, on the task that polls this future (nothing is spawned). The report lists
    /// failures and values in connection order, as the sequential send does. Dropping the
    /// future midway drops every receiver still running; once it has been polled, every
    /// receiver has started.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[signal(namespace = "doc_signal_send_async_concurrent")]
    /// struct Tick;
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let (a, b) = (log.clone(), log.clone());
    /// let _a = Tick::signal()
    ///     .connect_async(move |_: &str, _: &Tick| {
    ///         let log = a.clone();
    ///         Box::pin(async move { log.lock().unwrap().push("a") })
    ///     })
    ///     .scoped();
    /// let _b = Tick::signal()
    ///     .connect_async(move |_: &str, _: &Tick| {
    ///         let log = b.clone();
    ///         Box::pin(async move { log.lock().unwrap().push("b") })
    ///     })
    ///     .scoped();
    /// let report = futures::executor::block_on(Tick.send_async_concurrent("web"));
    /// assert_eq!(report.receivers_called(), 2);
    /// assert_eq!(*log.lock().unwrap(), ["a", "b"]); // started in connection order
    /// ```
    fn send_async_concurrent<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        Self::signal().send_async_concurrent(self, sender)
    }

    /// Like [`send_async_concurrent`](Signal::send_async_concurrent), collecting every
    /// receiver's value in connection order (not in the order the futures finish).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_send_collect_async_concurrent", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _a = Count::signal()
    ///     .connect_async(|_: &str, ev: &Count| Box::pin(async move { ev.n }))
    ///     .scoped();
    /// let _b = Count::signal().connect_scoped(|_: &str, ev: &Count| ev.n + 1);
    /// let collected =
    ///     futures::executor::block_on(Count { n: 1 }.send_collect_async_concurrent("web"));
    /// assert_eq!(collected.values(), [1, 2]);
    /// ```
    fn send_collect_async_concurrent<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = Collected<Self::Output>> + Send + 'a {
        Self::signal().send_collect_async_concurrent(self, sender)
    }
}

/// The cached lookup behind [`Signal::named`]: one per signal type, in a `static`.
///
/// The first call finds the signal in its namespace and declares it with the struct type. If
/// the name is invalid or another struct already declares it, the signal lives detached: it
/// still works for its own typed receivers, by-name lookups do not reach it, and
/// [`TypedSignal::check`] (and the registry) report why.
///
/// ```
/// use signals_core::SignalCell;
///
/// static CELL: SignalCell = SignalCell::new(); // one per signal type; see `SignalCell::resolve`
/// # let _ = &CELL;
/// ```
pub struct SignalCell {
    cell: OnceLock<NamedSignal>,
}

impl SignalCell {
    /// An empty cell, for a `static`. See [`Signal`] for a whole hand-written impl.
    ///
    /// ```
    /// use signals_core::SignalCell;
    ///
    /// static CELL: SignalCell = SignalCell::new();
    /// # let _ = &CELL;
    /// ```
    pub const fn new() -> Self {
        SignalCell {
            cell: OnceLock::new(),
        }
    }

    /// The signal for `T`, resolved on first use. Call it only from `T`'s own
    /// [`Signal::named`], with a cell that serves `T` alone: the cell keeps the first signal
    /// it resolved, whatever type asks later.
    ///
    /// ```
    /// use signals_core::{Kwarg, Kwargs, NamedSignal, Signal, SignalCell};
    ///
    /// struct Ping;
    /// impl Kwargs for Ping {
    ///     fn kwarg(&self, _: &str) -> Option<Kwarg<'_>> { None }
    ///     fn kwargs(&self) -> Vec<Kwarg<'_>> { Vec::new() }
    /// }
    /// impl Signal for Ping {
    ///     type Sender = str;
    ///     type Output = ();
    ///     const NAMESPACE: &'static str = "doc_signal_cell";
    ///     const NAME: &'static str = "ping";
    ///     fn named() -> NamedSignal {
    ///         static CELL: SignalCell = SignalCell::new();
    ///         CELL.resolve::<Self>()
    ///     }
    /// }
    ///
    /// assert_eq!(Ping::named().qualified_name(), "doc_signal_cell.ping");
    /// assert!(Ping::signal().check().is_ok());
    /// ```
    #[inline]
    pub fn resolve<T: Signal>(&self) -> NamedSignal {
        if let Some(signal) = self.cell.get() {
            return *signal;
        }
        // While this thread builds the registry, resolve without caching: a cell is filled only
        // once the registry is built, so another thread that finds it filled knows every
        // link-time subscriber is connected.
        if crate::registry::building_here() {
            return resolve::<T>();
        }
        crate::registry::ensure_started();
        *self.cell.get_or_init(resolve::<T>)
    }
}

impl Default for SignalCell {
    fn default() -> Self {
        Self::new()
    }
}

fn resolve<T: Signal>() -> NamedSignal {
    let binding = Binding::of::<T>();
    let attached = Namespace::get(T::NAMESPACE)
        .and_then(|ns| ns.signal(T::NAME))
        .and_then(|signal| signal.core().bind(binding).map(|()| signal));
    match attached {
        Ok(signal) => signal,
        Err(error) => detached::<T>(binding, error),
    }
}

/// The one detached signal of `T` (created on first need, then reused).
fn detached<T: Signal>(binding: Binding, error: Error) -> NamedSignal {
    static DETACHED: Mutex<BTreeMap<TypeId, &'static SignalCore>> = Mutex::new(BTreeMap::new());
    let mut all = DETACHED.lock().unwrap_or_else(PoisonError::into_inner);
    let core = all
        .entry(TypeId::of::<T>())
        .or_insert_with(|| SignalCore::leak(T::NAMESPACE, T::NAME, Some(binding), Some(error)));
    NamedSignal::from_core(core)
}

/// The typed handle of a signal declared by `T`. It dereferences to the [`NamedSignal`], so
/// every by-name operation is available too.
///
/// ```
/// use signals_core::{signal, Signal};
///
/// #[signal(namespace = "doc_typed_signal")]
/// struct Saved { id: u32 }
///
/// let handle = Saved::signal(); // `Copy`: pass it around freely
/// let c = handle.connect(|_: &str, ev: &Saved| assert_eq!(ev.id, 1));
/// assert!(handle.has_receivers_for("web")); // a by-name operation, through `Deref`
/// assert_eq!(handle.send(&Saved { id: 1 }, "web").receivers_called(), 1);
/// c.disconnect();
/// ```
pub struct TypedSignal<T> {
    named: NamedSignal,
    _args: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedSignal<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TypedSignal<T> {}

impl<T> Deref for TypedSignal<T> {
    type Target = NamedSignal;
    fn deref(&self) -> &NamedSignal {
        &self.named
    }
}

impl<T> fmt::Debug for TypedSignal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TypedSignal<{}>({})",
            std::any::type_name::<T>(),
            self.named
        )
    }
}

fn typed_record<T: Signal>(call: Callable<TypedCall<T>>) -> RecordFn {
    RecordFn::Typed(Arc::new(call))
}

/// What a sync send calls in place of an async receiver: a shim that reports it cannot run it.
fn async_shim<T: Signal>() -> RecordFn {
    typed_record::<T>(Arc::new(|_: &T::Sender, _: &T| {
        async_in_sync_send::<T::Output>()
    }))
}

impl<T: Signal> TypedSignal<T> {
    /// The by-name handle of the same signal.
    ///
    /// ```
    /// use signals_core::{signal, Namespace, Signal};
    ///
    /// #[signal(namespace = "doc_typed_named")]
    /// struct Saved { id: u32 }
    ///
    /// let by_name = Namespace::get("doc_typed_named")?.signal("saved")?;
    /// assert_eq!(Saved::signal().named(), by_name);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn named(&self) -> NamedSignal {
        self.named
    }

    /// `Ok` when the signal joined its namespace; the reason when it lives detached (another
    /// struct declares the same name). Which of two conflicting structs wins is not
    /// guaranteed; the registry lists the conflict in [`problems`](crate::registry::Registry::problems).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_check")]
    /// struct Saved { id: u32 }
    ///
    /// #[signal(namespace = "doc_typed_check", name = "saved")]
    /// struct SavedAgain { id: u64 }
    ///
    /// let first = Saved::signal().check();
    /// let second = SavedAgain::signal().check();
    /// assert!(first.is_ok() != second.is_ok()); // one of them joined, the other is detached
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        match &self.named.core().detached {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Connects `receiver` for every sender. Connecting the same function again is a no-op
    /// that returns the same connection (only functions and closures that capture nothing
    /// are recognised; each capturing closure is a connection of its own). The connection is
    /// strong and stays until it is disconnected: dropping the returned handle does nothing.
    /// Use [`Connection::scoped`] to end it with a scope, or
    /// [`connect_weak`](Self::connect_weak) for blinker's `weak=True`.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect")]
    /// struct Saved { id: u32 }
    ///
    /// fn audit(_: &str, _: &Saved) {}
    ///
    /// let first = Saved::signal().connect(audit);
    /// assert!(!Saved::signal().connect(audit).is_new());
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
    /// first.disconnect();
    /// ```
    #[track_caller]
    pub fn connect<F, R>(&self, receiver: F) -> Connection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        self.connect_with(ConnectOptions::new(), receiver)
    }

    /// Connects `receiver` for one sender, of the signal's sender type (so a filter that could
    /// never match does not compile).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect_to")]
    /// struct Saved { id: u32 }
    ///
    /// let c = Saved::signal().connect_to("dataset", |_: &str, _: &Saved| {});
    /// assert_eq!(Saved { id: 1 }.send("dataset").receivers_called(), 1);
    /// assert_eq!(Saved { id: 1 }.send("group").receivers_called(), 0);
    /// c.disconnect();
    ///
    /// #[signal(namespace = "doc_typed_connect_to", sender = i64)]
    /// struct Counted { n: u32 }
    ///
    /// let c = Counted::signal().connect_to(&7, |_: &i64, _: &Counted| {});
    /// assert_eq!(Counted { n: 1 }.send(&7).receivers_called(), 1);
    /// c.disconnect();
    /// ```
    ///
    /// A sender of another type is a compile error:
    ///
    /// ```compile_fail
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect_to_wrong")]
    /// struct Saved { id: u32 }
    ///
    /// Saved::signal().connect_to(&7, |_: &str, _: &Saved| {});
    /// ```
    #[track_caller]
    pub fn connect_to<F, R>(&self, sender: &T::Sender, receiver: F) -> Connection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        self.connect_with(ConnectOptions::new().sender(sender), receiver)
    }

    /// Connects `receiver` with explicit [`ConnectOptions`].
    ///
    /// ```
    /// use signals_core::{signal, ConnectOptions, ReceiverId, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect_with")]
    /// struct Saved { id: u32 }
    ///
    /// let prefix = String::from("saved ");
    /// let options = ConnectOptions::new().sender("dataset").key("log-saves").name("log");
    /// let c = Saved::signal().connect_with(options, move |_: &str, ev: &Saved| {
    ///     let _line = format!("{prefix}{}", ev.id);
    /// });
    /// assert_eq!(c.receiver().unwrap().name, "log");
    /// assert_eq!(Saved::signal().disconnect_receiver(ReceiverId::key("log-saves")), 1);
    /// ```
    #[track_caller]
    pub fn connect_with<F, R>(&self, options: ConnectOptions, receiver: F) -> Connection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        let identity = ReceiverId::of(&receiver);
        let call: Callable<TypedCall<T>> = Arc::new(move |sender: &T::Sender, args: &T| {
            called(receiver(sender, args).into_outcome())
        });
        connect_parts(
            self.named.core(),
            options,
            ReceiverParts {
                identity,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: typed_record::<T>(call),
                async_func: None,
                alive: None,
            },
        )
    }

    /// Connects a receiver bound weakly to `target`: it gets `&X` on each call and is
    /// disconnected once `target` is dropped. The connection is removed lazily: the first send
    /// after the drop skips it and disconnects it; until then it is still listed by
    /// [`connections`](NamedSignal::connections) and [`has_receivers`](NamedSignal::has_receivers)
    /// still says `true`. A weak receiver has no identity of its own: each call makes a new
    /// connection unless `options` give it a key.
    ///
    /// ```
    /// use signals_core::{signal, ConnectOptions, Signal};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    ///
    /// #[signal(namespace = "doc_typed_connect_weak")]
    /// struct Tick;
    ///
    /// let counter = Arc::new(AtomicU32::new(0));
    /// let c = Tick::signal().connect_weak(
    ///     &counter,
    ///     ConnectOptions::new(),
    ///     |n: &AtomicU32, _: &str, _: &Tick| {
    ///         n.fetch_add(1, Ordering::Relaxed);
    ///     },
    /// );
    /// assert_eq!(Tick.send("web").receivers_called(), 1);
    /// assert_eq!(counter.load(Ordering::Relaxed), 1);
    ///
    /// drop(counter);
    /// assert!(Tick::signal().has_receivers()); // not noticed yet
    /// assert!(!Tick::signal().has_receivers_for("web")); // exact
    /// assert_eq!(Tick.send("web").receivers_called(), 0); // noticed: disconnected
    /// assert!(!c.is_connected());
    /// assert!(!Tick::signal().has_receivers());
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
        F: Fn(&X, &T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        let weak = Arc::downgrade(target);
        let alive = alive_while(weak.clone());
        let call: Callable<TypedCall<T>> =
            Arc::new(move |sender: &T::Sender, args: &T| match weak.upgrade() {
                Some(target) => called(receiver(&target, sender, args).into_outcome()),
                None => gone(),
            });
        connect_parts(
            self.named.core(),
            options,
            ReceiverParts {
                identity: None,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: typed_record::<T>(call),
                async_func: None,
                alive: Some(alive),
            },
        )
    }

    /// Connects an async receiver for every sender. It returns a boxed future
    /// ([`BoxFuture`]) that may borrow the sender and the arguments:
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_async", output = usize)]
    /// struct Uploaded { bytes: Vec<u8> }
    ///
    /// let hook = Uploaded::signal().connect_async(|who: &str, ev: &Uploaded| {
    ///     Box::pin(async move {
    ///         // await a call to another service here
    ///         ev.bytes.len() + who.len()
    ///     })
    /// });
    /// let collected =
    ///     futures::executor::block_on(Uploaded { bytes: vec![1, 2] }.send_collect_async("ab"));
    /// assert_eq!(collected.values(), [4]);
    /// // A sync send does not run it: it reports it.
    /// let report = Uploaded { bytes: vec![] }.send("ab");
    /// assert_eq!(report.receivers_called(), 0);
    /// assert!(report.failures()[0].to_string().contains("is async; a sync send cannot run it"));
    /// hook.disconnect();
    /// ```
    ///
    /// The future must be `Send`, so that an async send can run on a multi-threaded
    /// executor (inside `tokio::spawn`, for one). Connecting the same function twice is a
    /// no-op, as with [`connect`](Self::connect).
    #[track_caller]
    pub fn connect_async<F, R>(&self, receiver: F) -> Connection
    where
        F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
        R: IntoOutcome<T::Output> + 'static,
    {
        self.connect_async_with(ConnectOptions::new(), receiver)
    }

    /// Connects an async receiver for one sender, of the signal's sender type.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect_async_to")]
    /// struct Saved { id: u32 }
    ///
    /// let _c = Saved::signal()
    ///     .connect_async_to("dataset", |_: &str, _: &Saved| Box::pin(async {}))
    ///     .scoped();
    /// let to_dataset = futures::executor::block_on(Saved { id: 1 }.send_async("dataset"));
    /// let to_group = futures::executor::block_on(Saved { id: 1 }.send_async("group"));
    /// assert_eq!(to_dataset.receivers_called(), 1);
    /// assert_eq!(to_group.receivers_called(), 0);
    /// ```
    #[track_caller]
    pub fn connect_async_to<F, R>(&self, sender: &T::Sender, receiver: F) -> Connection
    where
        F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
        R: IntoOutcome<T::Output> + 'static,
    {
        self.connect_async_with(ConnectOptions::new().sender(sender), receiver)
    }

    /// Connects an async receiver with explicit [`ConnectOptions`].
    ///
    /// ```
    /// use signals_core::{signal, ConnectOptions, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect_async_with")]
    /// struct Saved { id: u32 }
    ///
    /// let options = ConnectOptions::new().name("notify");
    /// let c = Saved::signal()
    ///     .connect_async_with(options, |_: &str, _: &Saved| Box::pin(async {}));
    /// let info = c.receiver().unwrap();
    /// assert!(info.is_async);
    /// assert_eq!(info.name, "notify");
    /// c.disconnect();
    /// ```
    #[track_caller]
    pub fn connect_async_with<F, R>(&self, options: ConnectOptions, receiver: F) -> Connection
    where
        F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
        R: IntoOutcome<T::Output> + 'static,
    {
        let identity = ReceiverId::of(&receiver);
        let call = typed_async::<T, _>(move |sender, args| {
            let future = receiver(sender, args);
            Box::pin(async move { called(future.await.into_outcome()) })
        });
        connect_parts(
            self.named.core(),
            options,
            ReceiverParts {
                identity,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: async_shim::<T>(),
                async_func: Some(AsyncRecordFn::Typed(Arc::new(call))),
                alive: None,
            },
        )
    }

    /// Connects an async receiver bound weakly to `target`, as
    /// [`connect_weak`](Self::connect_weak) binds a sync one. Each call gets its own strong
    /// handle to the target (an `Arc<X>`), which its future may keep until it ends; once
    /// `target` is dropped, the receiver is no longer called and is disconnected by the next
    /// send that meets it.
    ///
    /// ```
    /// use signals_core::{signal, ConnectOptions, Signal};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    ///
    /// #[signal(namespace = "doc_typed_connect_async_weak")]
    /// struct Tick;
    ///
    /// let counter = Arc::new(AtomicU32::new(0));
    /// let c = Tick::signal().connect_async_weak(
    ///     &counter,
    ///     ConnectOptions::new(),
    ///     |n: Arc<AtomicU32>, _: &str, _: &Tick| {
    ///         Box::pin(async move {
    ///             n.fetch_add(1, Ordering::Relaxed);
    ///         })
    ///     },
    /// );
    /// let report = futures::executor::block_on(Tick.send_async("web"));
    /// assert_eq!(report.receivers_called(), 1);
    /// assert_eq!(counter.load(Ordering::Relaxed), 1);
    ///
    /// drop(counter);
    /// let report = futures::executor::block_on(Tick.send_async("web"));
    /// assert_eq!(report.receivers_called(), 0);
    /// assert!(!c.is_connected());
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
        F: for<'a> Fn(Arc<X>, &'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
        R: IntoOutcome<T::Output> + 'static,
    {
        let weak = Arc::downgrade(target);
        let alive = alive_while(weak.clone());
        let call = typed_async::<T, _>(move |sender, args| match weak.upgrade() {
            Some(target) => {
                let future = receiver(target, sender, args);
                Box::pin(async move { called(future.await.into_outcome()) })
            }
            None => Box::pin(async { gone() }),
        });
        connect_parts(
            self.named.core(),
            options,
            ReceiverParts {
                identity: None,
                type_name: std::any::type_name::<F>(),
                caller: SourceLocation::caller(),
                func: async_shim::<T>(),
                async_func: Some(AsyncRecordFn::Typed(Arc::new(call))),
                alive: Some(alive),
            },
        )
    }

    /// Connects `receiver` until the returned handle is dropped, unless another connect call
    /// still holds it then (a receiver that was already connected stays connected; see
    /// [`Connection::scoped`](crate::Connection::scoped)).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect_scoped")]
    /// struct Saved { id: u32 }
    ///
    /// {
    ///     let _c = Saved::signal().connect_scoped(|_: &str, _: &Saved| {});
    ///     assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
    /// }
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 0);
    /// ```
    #[track_caller]
    pub fn connect_scoped<F, R>(&self, receiver: F) -> crate::ScopedConnection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        self.connect(receiver).scoped()
    }

    /// Sends `args` from `sender`; see [`Signal::send`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_send")]
    /// struct Saved { id: u32 }
    ///
    /// let _c = Saved::signal().connect_scoped(|_: &str, _: &Saved| {});
    /// assert!(Saved::signal().send(&Saved { id: 1 }, "web").is_ok());
    /// ```
    #[inline]
    pub fn send(&self, args: &T, sender: &T::Sender) -> SendReport {
        self.deliver(args, sender, Mode::Robust, None)
    }

    /// Sends, stopping at the first failure; see [`Signal::try_send`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_try_send")]
    /// struct Saved { id: u32 }
    ///
    /// let _c = Saved::signal().connect_scoped(|_: &str, _: &Saved| Err::<(), _>("no"));
    /// assert!(Saved::signal().try_send(&Saved { id: 1 }, "web").is_err());
    /// ```
    pub fn try_send(&self, args: &T, sender: &T::Sender) -> Result<usize, Failure> {
        self.deliver(args, sender, Mode::FailFast, None)
            .into_result()
    }

    /// Sends and collects each receiver's value; see [`Signal::send_collect`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_send_collect", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _c = Count::signal().connect_scoped(|_: &str, ev: &Count| ev.n);
    /// assert_eq!(Count::signal().send_collect(&Count { n: 3 }, "web").values(), [3]);
    /// ```
    pub fn send_collect(&self, args: &T, sender: &T::Sender) -> Collected<T::Output> {
        let mut responses = Vec::new();
        let mut push = |receiver: &Arc<ReceiverInfo>, value| {
            responses.push(Response {
                receiver: receiver.clone(),
                value,
            })
        };
        let report = self.deliver(args, sender, Mode::Robust, Some(&mut push));
        Collected { responses, report }
    }

    /// Sends `args` from `sender`, awaiting every receiver; see [`Signal::send_async`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_send_async")]
    /// struct Saved { id: u32 }
    ///
    /// let _c = Saved::signal()
    ///     .connect_async(|_: &str, _: &Saved| Box::pin(async {}))
    ///     .scoped();
    /// let args = Saved { id: 1 };
    /// let report = futures::executor::block_on(Saved::signal().send_async(&args, "web"));
    /// assert_eq!(report.receivers_called(), 1);
    /// ```
    pub fn send_async<'a>(
        &self,
        args: &'a T,
        sender: &'a T::Sender,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        let this = *self;
        async move {
            this.deliver_async(args, sender, Concurrency::Sequential(Mode::Robust), None)
                .await
        }
    }

    /// Sends, awaiting each receiver in turn, and stops at the first that fails; see
    /// [`Signal::try_send_async`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_try_send_async")]
    /// struct Published { id: u32 }
    ///
    /// let _ok = Published::signal()
    ///     .connect_async(|_: &str, _: &Published| Box::pin(async {}))
    ///     .scoped();
    /// let args = Published { id: 1 };
    /// let called = futures::executor::block_on(Published::signal().try_send_async(&args, "web"));
    /// assert_eq!(called.unwrap(), 1);
    /// ```
    pub fn try_send_async<'a>(
        &self,
        args: &'a T,
        sender: &'a T::Sender,
    ) -> impl Future<Output = Result<usize, Failure>> + Send + 'a {
        let this = *self;
        async move {
            this.deliver_async(args, sender, Concurrency::Sequential(Mode::FailFast), None)
                .await
                .into_result()
        }
    }

    /// Sends and collects each receiver's value, awaiting every receiver; see
    /// [`Signal::send_collect_async`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_send_collect_async", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _c = Count::signal()
    ///     .connect_async(|_: &str, ev: &Count| Box::pin(async move { ev.n }))
    ///     .scoped();
    /// let args = Count { n: 5 };
    /// let collected =
    ///     futures::executor::block_on(Count::signal().send_collect_async(&args, "web"));
    /// assert_eq!(collected.values(), [5]);
    /// ```
    pub fn send_collect_async<'a>(
        &self,
        args: &'a T,
        sender: &'a T::Sender,
    ) -> impl Future<Output = Collected<T::Output>> + Send + 'a {
        let this = *self;
        async move {
            let mut responses = Vec::new();
            let report = this
                .deliver_async(
                    args,
                    sender,
                    Concurrency::Sequential(Mode::Robust),
                    Some(&mut responses),
                )
                .await;
            Collected { responses, report }
        }
    }

    /// Sends, running the async receivers together; see [`Signal::send_async_concurrent`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_send_async_concurrent")]
    /// struct Saved { id: u32 }
    ///
    /// let _a = Saved::signal()
    ///     .connect_async(|_: &str, _: &Saved| Box::pin(async {}))
    ///     .scoped();
    /// let _b = Saved::signal().connect_scoped(|_: &str, _: &Saved| {});
    /// let args = Saved { id: 1 };
    /// let report =
    ///     futures::executor::block_on(Saved::signal().send_async_concurrent(&args, "web"));
    /// assert_eq!(report.receivers_called(), 2);
    /// ```
    pub fn send_async_concurrent<'a>(
        &self,
        args: &'a T,
        sender: &'a T::Sender,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        let this = *self;
        async move {
            this.deliver_async(args, sender, Concurrency::Concurrent, None)
                .await
        }
    }

    /// Sends and collects, running the async receivers together; see
    /// [`Signal::send_collect_async_concurrent`].
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_send_collect_async_concurrent", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _a = Count::signal()
    ///     .connect_async(|_: &str, ev: &Count| Box::pin(async move { ev.n }))
    ///     .scoped();
    /// let args = Count { n: 5 };
    /// let collected = futures::executor::block_on(
    ///     Count::signal().send_collect_async_concurrent(&args, "web"),
    /// );
    /// assert_eq!(collected.values(), [5]);
    /// ```
    pub fn send_collect_async_concurrent<'a>(
        &self,
        args: &'a T,
        sender: &'a T::Sender,
    ) -> impl Future<Output = Collected<T::Output>> + Send + 'a {
        let this = *self;
        async move {
            let mut responses = Vec::new();
            let report = this
                .deliver_async(args, sender, Concurrency::Concurrent, Some(&mut responses))
                .await;
            Collected { responses, report }
        }
    }

    /// The async send path. It owns its snapshot (an `Arc`): a borrow of the thread's cache
    /// cannot be held across an await, as the future may move to another thread.
    async fn deliver_async(
        self,
        args: &T,
        sender: &T::Sender,
        how: Concurrency,
        collect: Option<&mut Vec<Response<T::Output>>>,
    ) -> SendReport {
        let core = self.named.core();
        if !core.live.load(Ordering::Acquire) {
            return SendReport::default();
        }
        let owned = match T::thread_snapshot().and_then(|l| l.try_with(|s| s.owned(core)).ok()) {
            Some(owned) => owned,
            None => snapshot::typed_owned::<T>(snapshot::owned_snapshot(core)),
        };
        let Some(snapshot) = owned else {
            return SendReport::default();
        };
        let list = snapshot.receivers_for_with(|| sender.sender_key());
        deliver_async(
            core,
            list,
            how,
            |call| call(sender, args),
            |call| call(sender, args),
            collect,
        )
        .await
    }

    #[inline]
    fn deliver(
        &self,
        args: &T,
        sender: &T::Sender,
        mode: Mode,
        collect: Option<&mut Collect<'_, T::Output>>,
    ) -> SendReport {
        let core = self.named.core();
        if !core.live.load(Ordering::Acquire) {
            return SendReport::default();
        }
        match (mode, collect) {
            (Mode::Robust, None) => send_live(core, args, sender),
            (mode, collect) => deliver_live(core, args, sender, mode, collect),
        }
    }
}

// A send to a signal with receivers is out of line, so that a send nobody listens to costs
// its caller one load and no frame. The plain robust send has an entry of its own, with
// fewer arguments to keep across the receivers' calls.

/// A robust send that collects nothing, to a signal with receivers.
#[inline(never)]
fn send_live<T: Signal>(core: &'static SignalCore, args: &T, sender: &T::Sender) -> SendReport {
    deliver_live_body(core, args, sender, Mode::Robust, None)
}

/// Any other send to a signal with receivers.
#[inline(never)]
fn deliver_live<T: Signal>(
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    deliver_live_body(core, args, sender, mode, collect)
}

/// The body of [`send_live`] and [`deliver_live`].
#[inline(always)]
fn deliver_live_body<T: Signal>(
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    mut collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    if let Some(local) = T::thread_snapshot() {
        // `try_with` fails only while the thread is torn down: then take the shared path.
        let sent = local.try_with(|slot| match slot.cached() {
            Some(snapshot) => deliver_typed(
                core,
                Some(&snapshot),
                args,
                sender,
                mode,
                collect.as_deref_mut(),
            ),
            None => deliver_fresh(slot, core, args, sender, mode, collect.as_deref_mut()),
        });
        if let Ok(report) = sent {
            return report;
        }
    }
    deliver_shared(core, args, sender, mode, collect)
}

/// Calls the receivers of `snapshot` for a send of `args` from `sender`.
#[inline(always)]
fn deliver_typed<T: Signal>(
    core: &'static SignalCore,
    snapshot: Option<&snapshot::Snapshot<snapshot::Typed<T>>>,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    let Some(snapshot) = snapshot else {
        return SendReport::default();
    };
    let receivers = snapshot.receivers_for_with(|| sender.sender_key());
    deliver(
        core,
        snapshot.replaced(),
        receivers,
        mode,
        |call| call(sender, args),
        collect,
    )
}

/// The send path when this thread's slot holds no current snapshot: fetches it first.
#[cold]
#[inline(never)]
fn deliver_fresh<T: Signal>(
    slot: &ThreadSnapshot<T>,
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    let fresh = slot.fresh(core);
    deliver_typed(core, fresh.as_deref(), args, sender, mode, collect)
}

/// The send path through the cache shared by a thread's signals: for hand-written signal
/// types without a slot of their own, and while the thread is torn down.
#[inline(never)]
fn deliver_shared<T: Signal>(
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    snapshot::with_snapshot(core, |erased| {
        deliver_typed(
            core,
            snapshot::typed::<T>(erased),
            args,
            sender,
            mode,
            collect,
        )
    })
}
