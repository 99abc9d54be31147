//! A typed signal's receiver lists: how each record is called with the struct (a by-name
//! receiver with the by-name view the typed input begins with), and a by-name send to a
//! signal a struct declares.

use std::any::type_name;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::engine::cache::ThreadCache;
use crate::engine::callable::{Callable, Vt};
use crate::engine::deliver::{await_receivers, call_receivers, Concurrency, Mode};
use crate::engine::signal::{
    AsyncRecordFn, Binding, ByNameFn, ByNameInput, Record, RecordFn, SignalCore,
};
use crate::engine::snapshot::{
    downcast, downcast_owned, ByNameSendFuture, ErasedSnapshot, Shape, SharedSnapshot, Snapshot,
};
use crate::error::Error;
use crate::future::{drop_quietly, BoxFuture};
use crate::kwargs::Kwargs;
use crate::receiver::{AnyValue, CallResult, ReceiverInfo};
use crate::report::{Response, SendReport};
use crate::sender::{Sender, SenderKey};
use crate::typed::signal::Signal;

/// What a typed receiver is called with: the sender and the struct, borrowed by the send
/// (one pointer to this is all a receiver's call passes, see `engine/callable.rs`).
///
/// It begins with the by-name view of the send (the struct is the bag), so that a by-name
/// receiver of a signal with no output takes it as its own input and is called as directly
/// as a typed one (see [`TypedShape::adapt`]). A typed send makes the view's key only when
/// the list has by-name receivers (`dispatch.rs`); a by-name send has it already.
#[repr(C)]
pub(crate) struct Delivery<T: Signal> {
    view: ByNameInput,
    sender: *const T::Sender,
    args: std::marker::PhantomData<*const T>,
}

impl<T: Signal> Delivery<T> {
    /// The input of a send of `args` from `sender`, to a list without by-name receivers.
    #[inline(always)]
    pub(crate) fn new(sender: &T::Sender, args: &T) -> Self {
        Delivery {
            view: ByNameInput::without_key(args),
            sender,
            args: std::marker::PhantomData,
        }
    }

    /// The input of a send of `args` from `sender`, whose by-name view has the key `key`
    /// (`None`: it could not be made, see [`view_key`]).
    pub(crate) fn with_key(sender: &T::Sender, args: &T, key: Option<&SenderKey<'_>>) -> Self {
        Delivery {
            view: match key {
                Some(key) => ByNameInput::new(key, args),
                None => ByNameInput::without_key(args),
            },
            sender,
            args: std::marker::PhantomData,
        }
    }

    /// The sender and the struct.
    ///
    /// # Safety
    ///
    /// What [`new`](Self::new) borrowed is still borrowed: the caller is a receiver called by
    /// the send that made this input, during the call.
    #[inline(always)]
    pub(crate) unsafe fn parts(&self) -> (&T::Sender, &T) {
        // SAFETY: by the caller's contract, both references are alive; the view's bag is the
        // struct, a `T` (`new`, `with_key`).
        unsafe { (&*self.sender, &*self.view.bag().cast::<T>()) }
    }
}

// SAFETY: a pair of shared references to `Sync` values (`Signal` requires both to be).
unsafe impl<T: Signal> Send for Delivery<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Signal> Sync for Delivery<T> {}

/// A typed receiver as stored: called with the sender and the struct, it gives the signal's
/// output.
pub(crate) type TypedCall<T> = Callable<Delivery<T>, <T as Signal>::Output>;

/// The key of the by-name view of a send from `sender`, made once for the send's by-name
/// receivers; `None` when making it panicked (`Sender::sender_key` is user code): the panic
/// is caught here, and each by-name receiver then reports it was not called
/// (`receiver::NoSenderKey`) while the send goes on.
pub(crate) fn view_key<S: Sender + ?Sized>(sender: &S) -> Option<SenderKey<'_>> {
    match catch_unwind(AssertUnwindSafe(|| sender.sender_key())) {
        Ok(key) => Some(key),
        Err(payload) => {
            drop_quietly(payload);
            None
        }
    }
}

/// Calls a by-name receiver from a typed send of a signal with an output, with the send's
/// by-name view (the sender's key and the struct as the bag); its value, if any, must be of
/// the signal's output type.
///
/// # Safety
///
/// `data` points to a live [`ByNameFn`], `input` to a live `Delivery<T>` (see `Vt`).
unsafe fn call_named<T: Signal>(data: NonNull<()>, input: NonNull<()>) -> CallResult<T::Output> {
    // SAFETY: by the caller's contract.
    let (named, input) = unsafe {
        (
            data.cast::<ByNameFn>().as_ref(),
            input.cast::<Delivery<T>>().as_ref(),
        )
    };
    named.call().call(&input.view).downcast::<T::Output>()
}

/// The vtable of by-name receivers in the lists of `T`, a signal with an output.
struct NamedVt<T>(std::marker::PhantomData<fn() -> T>);

impl<T: Signal> NamedVt<T> {
    const VT: &'static Vt<Delivery<T>, T::Output> = &Vt::new(call_named::<T>);
}

/// A typed async receiver as stored.
pub(crate) type AsyncTypedCall<T> = dyn for<'a> Fn(&'a <T as Signal>::Sender, &'a T) -> BoxFuture<'a, CallResult<<T as Signal>::Output>>
    + Send
    + Sync;

/// Gives `f` the signature of [`AsyncTypedCall`] (a closure passed straight to a bound with
/// higher-ranked lifetimes infers them).
pub(crate) fn async_typed_call<T, F>(f: F) -> Arc<AsyncTypedCall<T>>
where
    T: Signal,
    F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, CallResult<T::Output>>
        + Send
        + Sync
        + 'static,
{
    Arc::new(f)
}

/// The receivers of a signal declared by the struct `T`.
pub(crate) struct TypedShape<T>(std::marker::PhantomData<fn() -> T>);

/// One thread's cached snapshot of the typed signal `T`: `#[signal]` gives every signal type a
/// `thread_local!` of its own (see [`Signal::thread_snapshot`]), so a send finds its snapshot
/// without an index or a downcast. Not public API.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct ThreadSnapshot<T: Signal>(pub(crate) ThreadCache<TypedShape<T>>);

impl<T: Signal> ThreadSnapshot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        ThreadSnapshot(ThreadCache::new())
    }
}

impl<T: Signal> Default for ThreadSnapshot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// How the engine builds and sends `T`'s snapshots: what the signal's core is bound with.
pub(crate) fn binding_of<T: Signal>() -> Binding {
    Binding {
        type_id: std::any::TypeId::of::<T>(),
        type_name: type_name::<T>(),
        sender_type: type_name::<T::Sender>(),
        output_type: type_name::<T::Output>(),
        schema: T::SCHEMA,
        build: build::<T>,
        send_by_name: send_by_name::<T>,
        send_by_name_async: send_by_name_async::<T>,
    }
}

fn build<T: Signal>(records: &[&Record]) -> SharedSnapshot {
    Arc::new(Snapshot::<TypedShape<T>>::build(records))
}

impl<T: Signal> Shape for TypedShape<T> {
    type Input = Delivery<T>;
    type Output = T::Output;
    type AsyncCall = AsyncTypedCall<T>;

    fn adapt(record: &Record) -> Option<TypedCall<T>> {
        match &record.func {
            RecordFn::Struct(erased) => erased.downcast::<Delivery<T>, T::Output>(),
            // A signal with no output: the by-name closure itself, through its vtable for that
            // case, given the view the typed input begins with (a receiver of one kwarg that
            // `T` has reads it at its offset). Any other: through a function that checks the
            // value's type (no adapter closure between either way).
            RecordFn::ByName(by_name) => Some(
                // SAFETY: `Delivery<T>` is `#[repr(C)]` with a `ByNameInput` first, whose bag
                // is a `T` (`Delivery::new`, `with_key`); `T::FIELDS` are `T`'s.
                unsafe { by_name.for_unit::<Delivery<T>, T::Output, T>(T::FIELDS) }.unwrap_or_else(
                    || {
                        // SAFETY: `call_named` is called with a pointer to the `ByNameFn` inside
                        // `by_name`, which the callable keeps.
                        unsafe { Callable::with_target(by_name.clone(), NamedVt::<T>::VT) }
                    },
                ),
            ),
        }
    }

    fn adapt_async(record: &Record) -> Option<Arc<AsyncTypedCall<T>>> {
        match record.async_func.as_deref()? {
            AsyncRecordFn::Struct(any) => any.downcast_ref::<Arc<AsyncTypedCall<T>>>().cloned(),
            AsyncRecordFn::ByName(by_name) => {
                let by_name = by_name.clone();
                Some(async_typed_call::<T, _>(move |sender, args| {
                    let by_name = by_name.clone();
                    Box::pin(async move {
                        // An async by-name receiver may keep its sender's key.
                        let key = sender.sender_key().into_owned();
                        by_name(&key, args).await.downcast::<T::Output>()
                    })
                }))
            }
        }
    }
}

/// A by-name send to the signal declared by `T` (the `send_by_name` of its [`Binding`]):
/// the bag must be a `T`, and the sender is lent by the key or rebuilt from it.
fn send_by_name<T: Signal>(
    snapshot: &dyn ErasedSnapshot,
    core: &'static SignalCore,
    key: &SenderKey<'_>,
    args: &dyn Kwargs,
    mode: Mode,
    mut collect: Option<&mut Vec<Response<AnyValue>>>,
) -> Result<SendReport, Error> {
    let snapshot = downcast::<TypedShape<T>>(snapshot).ok_or_else(|| not_declared::<T>(core))?;
    let args = typed_bag::<T>(core, args)?;
    // The sender lent by the key, or rebuilt on the stack: the send allocates nothing
    // unless it collects.
    T::Sender::with_sender_from_key(key, |sender| {
        if !core.live.load(Ordering::Acquire) {
            return SendReport::default();
        }
        let mut push = |receiver: &Arc<ReceiverInfo>, value: T::Output| {
            if let Some(responses) = collect.as_mut() {
                responses.push(any_response(receiver, value));
            }
        };
        call_receivers(
            core,
            snapshot.receivers_for_key(key),
            mode,
            &Delivery::with_key(sender, args, Some(key)),
            Some(&mut push),
        )
    })
    .ok_or_else(|| not_recoverable::<T>(core, key))
}

/// The async by-name send to the signal declared by `T`.
fn send_by_name_async<'a, T: Signal>(
    snapshot: SharedSnapshot,
    core: &'static SignalCore,
    key: SenderKey<'a>,
    args: &'a dyn Kwargs,
    how: Concurrency,
    collect: bool,
) -> ByNameSendFuture<'a> {
    Box::pin(async move {
        let snapshot =
            downcast_owned::<TypedShape<T>>(snapshot).ok_or_else(|| not_declared::<T>(core))?;
        let args = typed_bag::<T>(core, args)?;
        // Lent by the key, or rebuilt (see `Sender::owned_from_sender_key`) and held for
        // the whole send.
        let rebuilt;
        let sender = match T::Sender::from_sender_key(&key) {
            Some(sender) => sender,
            None => {
                rebuilt = T::Sender::owned_from_sender_key(&key)
                    .ok_or_else(|| not_recoverable::<T>(core, &key))?;
                &*rebuilt
            }
        };
        if !core.live.load(Ordering::Acquire) {
            return Ok((SendReport::default(), Vec::new()));
        }
        let list = snapshot.receivers_for_key(&key);
        let mut values = Vec::new();
        let input = Delivery::with_key(sender, args, Some(&key));
        let report = await_receivers(
            core,
            list,
            how,
            &input,
            |call| call(sender, args),
            collect.then_some(&mut values),
        )
        .await;
        // A change during the send may have left this the last reference to a closure.
        drop_quietly(snapshot);
        let values = values
            .into_iter()
            .map(|r| any_response(&r.receiver, r.value))
            .collect();
        Ok((report, values))
    })
}

fn any_response<O: Send + 'static>(receiver: &Arc<ReceiverInfo>, value: O) -> Response<AnyValue> {
    Response {
        receiver: receiver.clone(),
        value: AnyValue::any(value),
    }
}

/// The bag of a by-name send to the signal declared by `T`, as a `T`.
fn typed_bag<'k, T: Signal>(core: &SignalCore, args: &'k dyn Kwargs) -> Result<&'k T, Error> {
    args.downcast_ref::<T>().ok_or_else(|| Error::WrongKwargs {
        signal: core.qualified.to_owned(),
        expected: std::any::type_name::<T>(),
        got: args.bag_type_name(),
    })
}

/// The error of a by-name send through a snapshot of another type (which a bound core rules
/// out).
fn not_declared<T: Signal>(core: &SignalCore) -> Error {
    Error::NotDeclaredBy {
        signal: core.qualified.to_owned(),
        requested: type_name::<T>(),
        declares: core.qualified,
    }
}

/// The error of a by-name send whose key cannot stand for a sender of `T`'s type.
fn not_recoverable<T: Signal>(core: &SignalCore, key: &SenderKey<'_>) -> Error {
    Error::SenderNotRecoverable {
        signal: core.qualified.to_owned(),
        sender_type: std::any::type_name::<T::Sender>(),
        key: key.to_string(),
    }
}
