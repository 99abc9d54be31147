//! Typed signals: a struct whose fields are the signal's keyword arguments.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::connection::{connect_parts, ConnectOptions, Connection, ReceiverParts};
use crate::core::{Binding, RecordFn, SignalCore, TypedCall};
use crate::error::Error;
use crate::kwargs::Kwargs;
use crate::named::NamedSignal;
use crate::namespace::Namespace;
use crate::receiver::{called, gone, IntoOutcome, ReceiverId, ReceiverInfo, SourceLocation};
use crate::send::{deliver, Collect, Collected, Failure, Mode, Response, SendReport};
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
    /// Who sends it (`str` for CKAN's string senders).
    type Sender: Sender + ?Sized + 'static;
    /// What each receiver returns, collected by [`send_collect`](Signal::send_collect).
    type Output: Send + 'static;
    /// The namespace, such as `ckan`.
    const NAMESPACE: &'static str;
    /// The registered name inside the namespace.
    const NAME: &'static str;
    /// The signal's documentation.
    const DOCS: &'static str = "";

    /// The signal's runtime object, found once and cached (use a [`SignalCell`]).
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
    fn signal() -> TypedSignal<Self> {
        TypedSignal {
            named: Self::named(),
            _args: PhantomData,
        }
    }

    /// Sends `self` from `sender` to every matching receiver, in connection order. Failures
    /// (errors and panics) are reported and do not stop the send.
    fn send(&self, sender: &Self::Sender) -> SendReport {
        Self::signal().send(self, sender)
    }

    /// Sends, stopping at the first receiver that fails (blinker's behaviour).
    fn try_send(&self, sender: &Self::Sender) -> Result<usize, Failure> {
        Self::signal().try_send(self, sender)
    }

    /// Sends and collects every receiver's returned value, as blinker's `send` does.
    fn send_collect(&self, sender: &Self::Sender) -> Collected<Self::Output> {
        Self::signal().send_collect(self, sender)
    }
}

/// The cached lookup behind [`Signal::named`]: one per signal type, in a `static`.
///
/// The first call finds the signal in its namespace and declares it with the struct type. If
/// the name is invalid or another struct already declares it, the signal lives detached: it
/// still works for its own typed receivers, by-name lookups do not reach it, and
/// [`TypedSignal::check`] (and the registry) report why.
pub struct SignalCell {
    cell: OnceLock<NamedSignal>,
}

impl SignalCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        SignalCell {
            cell: OnceLock::new(),
        }
    }

    /// The signal for `T`, resolved on first use.
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

fn typed_record<T: Signal>(call: Arc<TypedCall<T>>) -> RecordFn {
    RecordFn::Typed(Arc::new(call))
}

impl<T: Signal> TypedSignal<T> {
    /// The by-name handle of the same signal.
    pub fn named(&self) -> NamedSignal {
        self.named
    }

    /// `Ok` when the signal joined its namespace; the reason when it lives detached.
    pub fn check(&self) -> Result<(), Error> {
        match &self.named.core().detached {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Connects `receiver` for every sender. Connecting the same function again is a no-op
    /// that returns the same connection.
    #[track_caller]
    pub fn connect<F, R>(&self, receiver: F) -> Connection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        self.connect_with(ConnectOptions::new(), receiver)
    }

    /// Connects `receiver` for one sender.
    #[track_caller]
    pub fn connect_to<S, F, R>(&self, sender: &S, receiver: F) -> Connection
    where
        S: Sender + ?Sized,
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        self.connect_with(ConnectOptions::new().sender(sender), receiver)
    }

    /// Connects `receiver` with explicit [`ConnectOptions`].
    #[track_caller]
    pub fn connect_with<F, R>(&self, options: ConnectOptions, receiver: F) -> Connection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        let identity = ReceiverId::of(&receiver);
        let call: Arc<TypedCall<T>> = Arc::new(move |sender: &T::Sender, args: &T| {
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
                alive: None,
                is_async: false,
            },
        )
    }

    /// Connects a receiver bound weakly to `target`: it gets `&X` on each call and is
    /// disconnected once `target` is dropped.
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
        let probe = weak.clone();
        let call: Arc<TypedCall<T>> =
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
                alive: Some(Arc::new(move || probe.strong_count() > 0)),
                is_async: false,
            },
        )
    }

    /// Connects `receiver` until the returned handle is dropped; the state afterwards is
    /// exactly the state before (a receiver that was already connected stays connected).
    #[track_caller]
    pub fn connect_scoped<F, R>(&self, receiver: F) -> crate::ScopedConnection
    where
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        self.connect(receiver).scoped()
    }

    /// Sends `args` from `sender`; see [`Signal::send`].
    #[inline]
    pub fn send(&self, args: &T, sender: &T::Sender) -> SendReport {
        self.deliver(args, sender, Mode::Robust, None)
    }

    /// Sends, stopping at the first failure; see [`Signal::try_send`].
    pub fn try_send(&self, args: &T, sender: &T::Sender) -> Result<usize, Failure> {
        self.deliver(args, sender, Mode::FailFast, None)
            .into_result()
    }

    /// Sends and collects each receiver's value; see [`Signal::send_collect`].
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

    #[inline]
    fn deliver(
        &self,
        args: &T,
        sender: &T::Sender,
        mode: Mode,
        mut collect: Option<&mut Collect<'_, T::Output>>,
    ) -> SendReport {
        let core = self.named.core();
        if !core.live.load(Ordering::Acquire) {
            return SendReport::default();
        }
        if let Some(local) = T::thread_snapshot() {
            let generation = core.generation.load(Ordering::Acquire);
            // `try_with` fails only while the thread is torn down: then take the shared path.
            let sent = local.try_with(|slot| {
                let held = slot.current(core, generation);
                let snapshot = held.as_deref();
                deliver_typed(
                    core,
                    generation,
                    snapshot,
                    args,
                    sender,
                    mode,
                    collect.as_deref_mut(),
                )
            });
            if let Ok(report) = sent {
                return report;
            }
        }
        deliver_shared(core, args, sender, mode, collect)
    }
}

/// Calls the receivers of `snapshot` for a send of `args` from `sender`.
#[inline]
fn deliver_typed<T: Signal>(
    core: &'static SignalCore,
    generation: u64,
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
        generation,
        receivers,
        mode,
        |call| call(sender, args),
        collect,
    )
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
    snapshot::with_snapshot(core, |erased, generation| {
        deliver_typed(
            core,
            generation,
            snapshot::typed::<T>(erased),
            args,
            sender,
            mode,
            collect,
        )
    })
}
