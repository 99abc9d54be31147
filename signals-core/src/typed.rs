//! Typed signals: a struct whose fields are the signal's keyword arguments.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::connect::IntoReceiver;
use crate::connection::Connection;
use crate::core::{Binding, SignalCore};
use crate::error::Error;
use crate::kwargs::Kwargs;
use crate::named::NamedSignal;
use crate::namespace::Namespace;
use crate::receiver::SourceLocation;
use crate::send::{deliver, deliver_async, Collect, Concurrency, Mode, Response, SendReport};
use crate::sender::Sender;
use crate::sending::{Sending, TypedSend};
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
    /// What each receiver returns, collected by
    /// [`sending(..).collect()`](Sending::collect).
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

    /// The typed handle: connect and send; inspect and mute through its by-name handle,
    /// [`named`](TypedSignal::named).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_signal")]
    /// struct Saved { id: u32 }
    ///
    /// let handle = Saved::signal();
    /// assert_eq!(handle.named().qualified_name(), "doc_signal_signal.saved");
    /// assert!(!handle.named().has_receivers());
    /// ```
    fn signal() -> TypedSignal<Self> {
        TypedSignal {
            named: Self::named(),
            _args: PhantomData,
        }
    }

    /// Sends `self` from `sender` to every matching receiver, in connection order, and
    /// reports what happened (blinker's `send`, Django's `send_robust`). Failures (errors and
    /// panics) are reported and do not stop the send. For the other ways to send (stop at the
    /// first failure, collect the values, run async receivers together), see
    /// [`sending`](Signal::sending).
    ///
    /// A sync send does not run async receivers (it would have to block the thread on them,
    /// and it may be a runtime's thread): it runs every sync receiver in order and reports
    /// each async receiver it meets, at its place, as a failure of kind
    /// [`FailureKind::AsyncReceiver`](crate::FailureKind::AsyncReceiver). Use
    /// [`send_async`](Signal::send_async) when async receivers may be connected.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_send")]
    /// struct Saved { id: u32 }
    ///
    /// let _ok = Saved::signal().connect(|_: &str, ev: &Saved| assert_eq!(ev.id, 7)).scoped();
    /// let _bad = Saved::signal().connect(|_: &str, _: &Saved| Err::<(), _>("no")).scoped();
    /// let report = Saved { id: 7 }.send("web");
    /// assert_eq!(report.receivers_called(), 2);
    /// assert_eq!(report.failures().len(), 1);
    /// ```
    #[inline]
    fn send(&self, sender: &Self::Sender) -> SendReport {
        Self::signal().send(sender, self)
    }

    /// Sends `self` from `sender`, awaiting every receiver, sync and async alike, one at a
    /// time in connection order. The report is the one [`send`](Signal::send) gives.
    ///
    /// Nothing runs until the future is first polled; the receivers are those connected then,
    /// less any disconnected before its turn. The future is `Send` and needs no particular
    /// executor. Dropping it midway (a timeout, a cancelled task) drops the async receiver in
    /// flight at its await point: the receivers before it ran, those after it do not run,
    /// and nothing stays locked or connected.
    fn send_async<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        self.sending(sender).run_async()
    }

    /// A send with options: [`fail_fast`](Sending::fail_fast),
    /// [`collect`](Sending::collect), then [`run`](Sending::run),
    /// [`run_async`](Sending::run_async) or [`run_concurrent`](Sending::run_concurrent).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_sending", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _a = Count::signal().connect(|_: &str, ev: &Count| ev.n).scoped();
    /// let _b = Count::signal().connect(|_: &str, ev: &Count| ev.n * 10).scoped();
    /// let values = Count { n: 2 }.sending("web").collect().run().into_values();
    /// assert_eq!(values, [2, 20]);
    /// ```
    fn sending<'a>(&'a self, sender: &'a Self::Sender) -> Sending<'a, TypedSend<'a, Self>> {
        Self::signal().sending(sender, self)
    }
}

/// The cached lookup behind [`Signal::named`]: one per signal type, in a `static`.
///
/// The first call finds the signal in its namespace and declares it with the struct type. If
/// the name is invalid or another struct already declares it, the signal lives detached: it
/// still works for its own typed receivers, by-name lookups do not reach it, and
/// [`TypedSignal::check`] (and the registry) report why. One cell per signal type, in a
/// `static` ([`SignalCell::new`]); [`SignalCell::resolve`] shows a whole hand-written impl.
#[derive(Debug)]
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

/// The typed handle of a signal declared by `T`: connect and send with the struct's types.
/// Everything else (its name, introspection, disconnect by receiver, mute) is on the by-name
/// handle, [`named`](TypedSignal::named).
///
/// ```
/// use signals_core::{signal, Signal};
///
/// #[signal(namespace = "doc_typed_signal")]
/// struct Saved { id: u32 }
///
/// let handle = Saved::signal(); // `Copy`: pass it around freely
/// let c = handle.connect(|_: &str, ev: &Saved| assert_eq!(ev.id, 1));
/// assert!(handle.named().has_receivers_for("web")); // by-name operations: `named()`
/// assert_eq!(handle.send("web", &Saved { id: 1 }).receivers_called(), 1);
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

    /// Connects `receiver`: a function or closure `Fn(&Sender, &Self) -> R` for every sender,
    /// or a [`Receiver`](crate::Receiver) that says more (one sender, async, weak, a key, a
    /// name). `R` is the signal's output, `()` when it has none, or a `Result` of it.
    ///
    /// Connecting the same function again for the same sender gives the same connection
    /// ([`Connection::is_new`] is `false`); a closure that captures state is a receiver of
    /// its own unless it has a key. Receivers run in connection order.
    ///
    /// ```
    /// use signals_core::{signal, Receiver, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect")]
    /// struct Saved { id: u32 }
    ///
    /// fn audit(_: &str, ev: &Saved) {
    ///     println!("saved {}", ev.id);
    /// }
    ///
    /// let all = Saved::signal().connect(audit);
    /// let web = Saved::signal().connect(Receiver::new(audit).sender("web"));
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1); // once, not twice
    /// all.disconnect();
    /// web.disconnect();
    /// ```
    #[track_caller]
    pub fn connect<M>(&self, receiver: impl IntoReceiver<T, M>) -> Connection {
        receiver
            .lower()
            .connect(self.named.core(), SourceLocation::caller())
    }

    /// Sends `args` from `sender`: the same as [`Signal::send`] (`args.send(sender)`).
    #[inline]
    pub fn send(&self, sender: &T::Sender, args: &T) -> SendReport {
        self.deliver(args, sender, Mode::Robust, None)
    }

    /// Sends `args` from `sender`, awaiting every receiver: the same as
    /// [`Signal::send_async`].
    pub fn send_async<'a>(
        &self,
        sender: &'a T::Sender,
        args: &'a T,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        self.sending(sender, args).run_async()
    }

    /// A send with options: the same as [`Signal::sending`].
    pub fn sending<'a>(&self, sender: &'a T::Sender, args: &'a T) -> Sending<'a, TypedSend<'a, T>> {
        Sending::new(TypedSend {
            signal: *self,
            sender,
            args,
        })
    }

    pub(crate) async fn deliver_async(
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
    pub(crate) fn deliver(
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
