//! How a receiver is described ([`Receiver`]), and the one place a description becomes a
//! connection record.
//!
//! Every handle has one `connect`, which takes anything that is [`IntoReceiver`]: a function
//! or closure as it is (sync, every sender), or a [`Receiver`] that says what varies: async,
//! one sender, weak, a key, a display name. The same words on a typed signal, a by-name
//! signal and a plugin's [`Subscriptions`](crate::plugins::Subscriptions).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::connection::Connection;
use crate::engine::callable::Callable;
use crate::engine::signal::{
    by_name_async, unique_receiver_id, Alive, AsyncRecordFn, ByNameFn, ByNameInput, RecordFn,
    SignalCore,
};
use crate::future::BoxFuture;
use crate::kwargs::Kwargs;
use crate::receiver::{
    async_in_sync_send, called, gone, without_key, AnyValue, IntoOutcome, IntoReply, ReceiverId,
    ReceiverInfo, SourceLocation,
};
use crate::sender::{Sender, SenderFilter, SenderKey};
use crate::typed::shape::{async_typed_call, Delivery, TypedCall};
use crate::typed::signal::Signal;

/// The kind of a [`Receiver`] whose function returns its result.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncKind;

/// The kind of a [`Receiver`] whose function returns a future ([`Receiver::new_async`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncKind;

/// A receiver and how it is connected: the argument of every `connect`.
///
/// A function or closure can be passed to `connect` as it is; a `Receiver` adds what varies,
/// the same way on every handle:
///
/// | blinker, Django | here |
/// |---|---|
/// | `connect(f)` | `connect(f)` |
/// | `connect(f, sender=x)` | `connect(Receiver::new(f).sender(&x))` |
/// | `weak=True` | `connect(Receiver::new(f).weak(&target))` |
/// | `dispatch_uid="k"` | `connect(Receiver::new(f).key("k"))` |
/// | an `async def` receiver | `connect(Receiver::new_async(f))` |
/// | `def f(sender, user, **kw)`, by name | `connect(Receiver::kwarg("user", f))` |
///
/// ```
/// use signals_core::{signal, Receiver, Signal};
///
/// #[signal(namespace = "doc_receiver")]
/// struct Saved { id: u32 }
///
/// let signal = Saved::signal();
/// let _all = signal.connect(|_: &str, _: &Saved| {}).scoped();
/// let _web = signal
///     .connect(Receiver::new(|_: &str, _: &Saved| {}).sender("web").name("audit"))
///     .scoped();
/// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 2);
/// assert_eq!(Saved { id: 1 }.send("cli").receivers_called(), 1);
/// ```
#[must_use = "a receiver does nothing until it is passed to `connect`"]
pub struct Receiver<F, K = SyncKind, S: ?Sized = AnySender> {
    func: F,
    options: ConnectOptions,
    _kind: PhantomData<Kind<K, S>>,
}

/// What a [`Receiver`]'s type records beside its function: its kind, and its sender's type.
type Kind<K, S> = (K, fn(&S));

/// The sender type of a [`Receiver`] connected for every sender (no [`sender`](Receiver::sender)
/// given).
#[derive(Clone, Copy, Debug)]
pub struct AnySender;

impl<F> Receiver<F, SyncKind> {
    /// A receiver that returns its result: `Fn(&Sender, &Signal) -> R` for a typed signal,
    /// `Fn(&SenderKey, &dyn Kwargs) -> R` by name. `R` is the signal's output, `()`, or a
    /// `Result` of it (an error is reported in the send's report).
    pub fn new(func: F) -> Self {
        Receiver {
            func,
            options: ConnectOptions::default(),
            _kind: PhantomData,
        }
    }
}

impl<F> Receiver<F, AsyncKind> {
    /// A receiver that returns a boxed future (`Box::pin(async move { ... })`), awaited by
    /// an async send. A by-name async receiver gets its sender as an owned key
    /// (`&SenderKey<'static>`), which it may keep. A sync send reports it as a failure of kind
    /// [`FailureKind::AsyncReceiver`](crate::FailureKind::AsyncReceiver) and does not run it.
    ///
    /// ```
    /// use signals_core::{signal, Receiver, Signal};
    ///
    /// #[signal(namespace = "doc_receiver_async")]
    /// struct Published { id: u32 }
    ///
    /// let _hook = Published::signal()
    ///     .connect(Receiver::new_async(|_: &str, ev: &Published| {
    ///         Box::pin(async move { assert_eq!(ev.id, 4) })
    ///     }))
    ///     .scoped();
    /// let report = futures::executor::block_on(Published { id: 4 }.send_async("web"));
    /// assert_eq!(report.receivers_called(), 1);
    /// ```
    pub fn new_async<S, E, R>(func: F) -> Self
    where
        S: ?Sized,
        E: ?Sized,
        F: for<'a> Fn(&'a S, &'a E) -> BoxFuture<'a, R>,
    {
        Receiver {
            func,
            options: ConnectOptions::default(),
            _kind: PhantomData,
        }
    }
}

impl<F, K, S: ?Sized> Receiver<F, K, S> {
    /// Its function and its options, to lower it.
    pub(crate) fn into_parts(self) -> (F, ConnectOptions) {
        (self.func, self.options)
    }

    /// Called only when `sender` sends (blinker's `connect(f, sender=x)`). Senders compare by
    /// value: see [`Sender`]. On a typed signal, `sender` must be of the signal's sender type
    /// (or a reference to it): a sender that could never match is a compile error.
    pub fn sender<X: Sender + ?Sized>(self, sender: &X) -> Receiver<F, K, X> {
        let mut options = self.options;
        options.filter = Some(SenderFilter::only(sender));
        Receiver {
            func: self.func,
            options,
            _kind: PhantomData,
        }
    }

    /// Connected while `target` lives (blinker's `weak=True`): once the last `Arc` to it is
    /// dropped, the receiver is no longer called and its connection goes. The connection does
    /// not keep `target` alive; to use it, capture `Arc::downgrade(&target)` and upgrade.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use signals_core::{signal, Receiver, Signal};
    ///
    /// #[signal(namespace = "doc_receiver_weak")]
    /// struct Saved { id: u32 }
    ///
    /// let session = Arc::new(String::from("alice"));
    /// let weak = Arc::downgrade(&session);
    /// Saved::signal().connect(
    ///     Receiver::new(move |_: &str, _: &Saved| {
    ///         if let Some(user) = weak.upgrade() {
    ///             println!("{user} saw a save");
    ///         }
    ///     })
    ///     .weak(&session),
    /// );
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
    /// drop(session);
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 0);
    /// assert!(!Saved::signal().named().has_receivers());
    /// ```
    pub fn weak<X: Send + Sync + 'static>(mut self, target: &Arc<X>) -> Self {
        let weak = Arc::downgrade(target);
        self.options.alive = Some(Arc::new(move || weak.strong_count() > 0));
        self
    }

    /// Identifies the receiver by `key` (Django's `dispatch_uid`): connecting the same key
    /// twice for a sender gives one connection, and `disconnect(&"key")` finds it. Functions
    /// have an identity of their own; closures that capture state need a key for this.
    pub fn key(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        self.options.id = Some(ReceiverId::Key(key.into()));
        self
    }

    /// The name listings and failure reports show (by default the function's or closure's
    /// path, such as `my_plugin::subscriptions::{{closure}}`).
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.options.name = Some(name.into());
        self
    }

    /// All the options at once, from generated code. Not public API.
    #[doc(hidden)]
    pub fn options(mut self, options: ConnectOptions) -> Self {
        let alive = self.options.alive.take();
        self.options = options;
        self.options.alive = self.options.alive.take().or(alive);
        self
    }
}

impl<F, K, S: ?Sized> fmt::Debug for Receiver<F, K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("function", &std::any::type_name::<F>())
            .field(
                "async",
                &(std::any::type_name::<K>() == std::any::type_name::<AsyncKind>()),
            )
            .field("options", &self.options)
            .finish()
    }
}

/// How a connection is made, beside its function. Not public API: generated code and the
/// plugin host fill it; users say the same with [`Receiver`]'s methods.
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct ConnectOptions {
    filter: Option<SenderFilter>,
    id: Option<ReceiverId>,
    name: Option<Cow<'static, str>>,
    plugin: Option<Cow<'static, str>>,
    location: Option<SourceLocation>,
    pub(crate) alive: Option<Alive>,
}

impl ConnectOptions {
    #[doc(hidden)]
    pub fn filter(mut self, filter: SenderFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    #[doc(hidden)]
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    #[doc(hidden)]
    pub fn plugin(mut self, plugin: impl Into<Cow<'static, str>>) -> Self {
        self.plugin = Some(plugin.into());
        self
    }

    #[doc(hidden)]
    pub fn location(mut self, location: SourceLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// The identity of `f` unless one was chosen: an async subscriber is connected through
    /// a closure, and keeps its function's identity.
    #[doc(hidden)]
    pub fn identity_of<G: std::any::Any>(mut self, f: &G) -> Self {
        if self.id.is_none() {
            self.id = ReceiverId::of(f);
        }
        self
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("filter", &self.filter)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("plugin", &self.plugin)
            .field("location", &self.location)
            .field("weak", &self.alive.is_some())
            .finish()
    }
}

/// A receiver ready to become a connection record. Not public API.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct Lowered {
    options: ConnectOptions,
    identity: Option<ReceiverId>,
    type_name: &'static str,
    func: RecordFn,
    async_func: Option<AsyncRecordFn>,
}

impl Lowered {
    /// Adds what the plugin host says of every connection it makes.
    pub(crate) fn on_behalf_of(mut self, plugin: &'static str, at: SourceLocation) -> Self {
        self.options.plugin = Some(Cow::Borrowed(plugin));
        self.options.location.get_or_insert(at);
        self
    }

    /// Connects to `core`: the one place a receiver becomes a record.
    pub(crate) fn connect(self, core: &'static SignalCore, caller: SourceLocation) -> Connection {
        let options = self.options;
        // A weak receiver is tied to its target: without a key it is a receiver of its own,
        // even when its function has an identity (another target is another receiver).
        let identity = self.identity.filter(|_| options.alive.is_none());
        let id = options.id.or(identity).unwrap_or_else(unique_receiver_id);
        let info = ReceiverInfo {
            name: options.name.unwrap_or(Cow::Borrowed(self.type_name)),
            location: options.location.unwrap_or(caller),
            plugin: options.plugin,
            id,
            weak: options.alive.is_some(),
            is_async: self.async_func.is_some(),
        };
        let filter = options.filter.unwrap_or(SenderFilter::Any);
        let (seq, new) = core.connect(filter, info, self.func, self.async_func, options.alive);
        Connection::new(core, seq, new)
    }
}

/// What `connect` takes: a function or closure as it is, or a [`Receiver`]. `K` is the
/// signal's struct for a typed signal, `dyn Kwargs` by name; `M` only tells the impls apart.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a receiver of this signal",
    label = "not a receiver of this signal",
    note = "a receiver of a typed signal is `Fn(&Sender, &Signal) -> R`, and `Receiver::sender` takes the signal's own sender type; by name, `Fn(&SenderKey<'_>, &dyn Kwargs) -> R`, or one kwarg with `Receiver::kwarg`, connected to the by-name handle (`Signal::named()`); an async one is wrapped in `Receiver::new_async`; write the closure's parameter types (`|_: &str, ev: &Saved|`): they are not inferred"
)]
pub trait IntoReceiver<K: ?Sized, M> {
    /// Lowers the receiver. Not public API.
    #[doc(hidden)]
    fn lower(self) -> Lowered;
}

/// The marker of a function or closure passed to `connect` as it is.
#[doc(hidden)]
#[derive(Debug)]
pub struct Direct<R>(PhantomData<fn() -> R>);

/// The marker of a [`Receiver`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Built<K, R, M>(PhantomData<BuiltMarker<K, R, M>>);

type BuiltMarker<K, R, M> = fn() -> (K, R, M);

/// What a typed signal accepts as the sender of a [`Receiver`]: its own sender type, a
/// reference to it, or [`AnySender`] (no sender given). `M` only tells the impls apart.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sender of this signal, whose senders are `{X}`",
    label = "a receiver for this sender would never be called",
    note = "give `Receiver::sender` a `&{X}`, as the signal's sends do"
)]
pub trait SenderOf<X: ?Sized, M> {}

/// The marker of [`SenderOf`] for the signal's own sender type.
#[doc(hidden)]
#[derive(Debug)]
pub struct Exact;
/// The marker of [`SenderOf`] for a reference to the signal's sender type.
#[doc(hidden)]
#[derive(Debug)]
pub struct ByRef;
/// The marker of [`SenderOf`] for no sender.
#[doc(hidden)]
#[derive(Debug)]
pub struct Every;

impl<X: ?Sized> SenderOf<X, Exact> for X {}
impl<X: ?Sized> SenderOf<X, ByRef> for &X {}
impl<X: ?Sized> SenderOf<X, Every> for AnySender {}

pub(crate) fn lowered(
    options: ConnectOptions,
    identity: Option<ReceiverId>,
    type_name: &'static str,
    func: RecordFn,
    async_func: Option<AsyncRecordFn>,
) -> Lowered {
    Lowered {
        options,
        identity,
        type_name,
        func,
        async_func,
    }
}

// ---- typed signals ----

fn typed_sync<T, F, R>(func: F, alive: Option<Alive>) -> RecordFn
where
    T: Signal,
    F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
    R: IntoOutcome<T::Output>,
{
    // Two closures rather than one that tests `alive`: a strong receiver's call stays as
    // short as it was.
    let call: TypedCall<T> = match alive {
        None => Callable::new(move |input: &Delivery<T>| {
            // SAFETY: a receiver's callable is called by the send that made its input, during
            // it (`engine/deliver.rs`).
            let (sender, args) = unsafe { input.parts() };
            called(func(sender, args).into_outcome())
        }),
        Some(alive) => Callable::new(move |input: &Delivery<T>| {
            if !alive() {
                return gone();
            }
            // SAFETY: as above.
            let (sender, args) = unsafe { input.parts() };
            called(func(sender, args).into_outcome())
        }),
    };
    RecordFn::Struct(call.erase())
}

fn typed_async_record<T, F, R>(func: F, alive: Option<Alive>) -> (RecordFn, AsyncRecordFn)
where
    T: Signal,
    F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
    R: IntoOutcome<T::Output> + 'static,
{
    let call = async_typed_call::<T, _>(move |sender, args| {
        if alive.as_ref().is_some_and(|alive| !alive()) {
            return Box::pin(async { gone() });
        }
        let future = func(sender, args);
        Box::pin(async move { called(future.await.into_outcome()) })
    });
    // What a sync send calls in its place: a shim that reports it cannot run it.
    let shim: TypedCall<T> = Callable::new(|_: &Delivery<T>| async_in_sync_send::<T::Output>());
    (
        RecordFn::Struct(shim.erase()),
        AsyncRecordFn::Struct(Arc::new(call)),
    )
}

#[diagnostic::do_not_recommend]
impl<T, F, R> IntoReceiver<T, Direct<R>> for F
where
    T: Signal,
    F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
    R: IntoOutcome<T::Output>,
{
    fn lower(self) -> Lowered {
        Receiver::new(self).lower()
    }
}

#[diagnostic::do_not_recommend]
impl<T, F, R, S, M> IntoReceiver<T, Built<SyncKind, R, M>> for Receiver<F, SyncKind, S>
where
    T: Signal,
    S: SenderOf<T::Sender, M> + ?Sized,
    F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
    R: IntoOutcome<T::Output>,
{
    fn lower(self) -> Lowered {
        let identity = ReceiverId::of(&self.func);
        let func = typed_sync::<T, F, R>(self.func, self.options.alive.clone());
        let name = std::any::type_name::<F>();
        lowered(self.options, identity, name, func, None)
    }
}

#[diagnostic::do_not_recommend]
impl<T, F, R, S, M> IntoReceiver<T, Built<AsyncKind, R, M>> for Receiver<F, AsyncKind, S>
where
    T: Signal,
    S: SenderOf<T::Sender, M> + ?Sized,
    F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
    R: IntoOutcome<T::Output> + 'static,
{
    fn lower(self) -> Lowered {
        let identity = ReceiverId::of(&self.func);
        let (func, async_func) =
            typed_async_record::<T, F, R>(self.func, self.options.alive.clone());
        let name = std::any::type_name::<F>();
        lowered(self.options, identity, name, func, Some(async_func))
    }
}

// ---- by name ----

fn by_name_sync<F, R>(func: F, alive: Option<Alive>) -> RecordFn
where
    F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
    R: IntoReply,
{
    let call = match alive {
        None => ByNameFn::new(move |input: &ByNameInput| {
            // SAFETY: a receiver's callable is called by the send that made its input, during
            // it (`engine/deliver.rs`).
            let Some((sender, args)) = (unsafe { input.parts() }) else {
                return without_key();
            };
            func(sender, args).into_reply().0
        }),
        Some(alive) => ByNameFn::new(move |input: &ByNameInput| {
            if !alive() {
                return gone();
            }
            // SAFETY: as above.
            let Some((sender, args)) = (unsafe { input.parts() }) else {
                return without_key();
            };
            func(sender, args).into_reply().0
        }),
    };
    RecordFn::ByName(call)
}

fn by_name_async_record<F, R>(func: F, alive: Option<Alive>) -> (RecordFn, AsyncRecordFn)
where
    F: for<'a> Fn(&'a SenderKey<'static>, &'a dyn Kwargs) -> BoxFuture<'a, R>
        + Send
        + Sync
        + 'static,
    R: IntoReply,
{
    let call = by_name_async(move |sender, args| {
        if alive.as_ref().is_some_and(|alive| !alive()) {
            return Box::pin(async { gone() });
        }
        let future = func(sender, args);
        Box::pin(async move { future.await.into_reply().0 })
    });
    let shim = ByNameFn::new(|_: &ByNameInput| async_in_sync_send::<AnyValue>());
    (RecordFn::ByName(shim), AsyncRecordFn::ByName(call))
}

#[diagnostic::do_not_recommend]
impl<F, R> IntoReceiver<dyn Kwargs, Direct<R>> for F
where
    F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
    R: IntoReply,
{
    fn lower(self) -> Lowered {
        Receiver::new(self).lower()
    }
}

#[diagnostic::do_not_recommend]
impl<F, R, S: ?Sized> IntoReceiver<dyn Kwargs, Built<SyncKind, R, fn(&S)>>
    for Receiver<F, SyncKind, S>
where
    F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
    R: IntoReply,
{
    fn lower(self) -> Lowered {
        let identity = ReceiverId::of(&self.func);
        let func = by_name_sync(self.func, self.options.alive.clone());
        let name = std::any::type_name::<F>();
        lowered(self.options, identity, name, func, None)
    }
}

#[diagnostic::do_not_recommend]
impl<F, R, S: ?Sized> IntoReceiver<dyn Kwargs, Built<AsyncKind, R, fn(&S)>>
    for Receiver<F, AsyncKind, S>
where
    F: for<'a> Fn(&'a SenderKey<'static>, &'a dyn Kwargs) -> BoxFuture<'a, R>
        + Send
        + Sync
        + 'static,
    R: IntoReply,
{
    fn lower(self) -> Lowered {
        let identity = ReceiverId::of(&self.func);
        let (func, async_func) = by_name_async_record(self.func, self.options.alive.clone());
        let name = std::any::type_name::<F>();
        lowered(self.options, identity, name, func, Some(async_func))
    }
}

/// A signal handle a plugin's [`Subscriptions`](crate::plugins::Subscriptions) can connect
/// to: a [`TypedSignal`](crate::TypedSignal) (its receivers take the struct) or a
/// [`NamedSignal`](crate::NamedSignal) (they take `&dyn Kwargs`).
pub trait SignalHandle: sealed::Sealed {
    /// What the handle's receivers take: the signal's struct, or `dyn Kwargs`.
    type Kind: ?Sized;
    /// The by-name handle of the same signal.
    fn named(&self) -> crate::NamedSignal;
}

mod sealed {
    pub trait Sealed {}
    impl<T: crate::Signal> Sealed for crate::TypedSignal<T> {}
    impl Sealed for crate::NamedSignal {}
}

impl<T: Signal> SignalHandle for crate::TypedSignal<T> {
    type Kind = T;
    fn named(&self) -> crate::NamedSignal {
        crate::TypedSignal::named(self)
    }
}

impl SignalHandle for crate::NamedSignal {
    type Kind = dyn Kwargs;
    fn named(&self) -> crate::NamedSignal {
        *self
    }
}
