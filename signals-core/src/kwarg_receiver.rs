//! By-name receivers of one kwarg ([`Receiver::kwarg`]): a receiver that cannot name the
//! signal's struct, and reads one argument of it.
//!
//! Such a receiver reads its kwarg by name, as any by-name receiver would (the name matched,
//! the type checked, on every send), except where the bag is always a signal's struct: in
//! the lists of a signal that a struct declares, with no output. There the name and the type
//! are resolved once, when the list is built (`Signal::FIELDS` says where each field lies),
//! and a send reads the value at its offset: the receiver costs about what a typed one does.
//! A name the struct does not have, or a type it does not hold there, leaves the receiver on
//! the by-name read, whose failure the send reports (`KwargError`).

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::connect::{lowered, Built, IntoReceiver, Lowered, Receiver, SyncKind};
use crate::engine::callable::{Callable, Vt};
use crate::engine::signal::{Alive, ByNameFn, ByNameInput, FieldRead, RecordFn, Target};
use crate::kwargs::{Kwargs, Read};
use crate::receiver::{gone, kwarg_unread, without_key, CallResult, IntoReply, ReceiverId};
use crate::sender::SenderKey;

/// The function of a by-name receiver of one kwarg, and the kwarg's name: what
/// [`Receiver::kwarg`] wraps. You name it only in the type of such a [`Receiver`].
pub struct OneKwarg<F> {
    name: Cow<'static, str>,
    func: F,
}

impl<F> fmt::Debug for OneKwarg<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneKwarg")
            .field("name", &self.name)
            .field("func", &std::any::type_name::<F>())
            .finish()
    }
}

impl<F> Receiver<OneKwarg<F>, SyncKind> {
    /// A by-name receiver that reads one kwarg: `func` is called with the sender's key and
    /// the kwarg `name`, read as a `V` (blinker's `def receiver(sender, name, **kw)`).
    ///
    /// Where a send's bag is the struct of a signal with no output that has a field `name`
    /// of type `V`, the field is found once, when the receiver's list is built, and read at
    /// its place on every send: the receiver costs about what a typed one does, against the
    /// name's match and the type's check of a read by name
    /// ([`Kwargs::get`](crate::Kwargs#method.get)). The field table is what `#[signal]`
    /// writes: a signal implemented by hand has none, and its kwargs are read by name. Elsewhere
    /// (a bag built at run time, a signal with an output) it is read by name. A kwarg that is
    /// missing or of another type is a failure in the send's report, which says which
    /// (`KwargError`); the receiver is not called, and nothing panics.
    ///
    /// A bag that crossed a process boundary holds `serde_json::Value`s: the kwarg is decoded
    /// into a `V` for the call, as [`read`](crate::Kwargs#method.read) does, so the receiver
    /// works in the sending process and in another one (a value that does not decode is a
    /// failure too). The receiver is sync; an async one takes the whole bag
    /// ([`Receiver::new_async`]). Its identity is its function's and the kwarg's
    /// ([`ReceiverId::Kwarg`]): the same function connected twice for one kwarg is one
    /// receiver, for two kwargs two; `NamedSignal::disconnect(&f)` disconnects every one of
    /// them, as it does `f`'s other connections.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use signals_core::{signal, FailureKind, Namespace, Receiver, SenderKey, Signal};
    ///
    /// #[signal(namespace = "doc_receiver_kwarg")]
    /// struct Saved { id: u32, by: String }
    ///
    /// static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    ///
    /// // A plugin that cannot name `Saved`.
    /// let saved = Namespace::get("doc_receiver_kwarg")?.signal("saved")?;
    /// let _hook = saved
    ///     .connect(Receiver::kwarg("by", |sender: &SenderKey<'_>, by: &String| {
    ///         SEEN.lock().unwrap().push(format!("{by} from {}", sender.as_str().unwrap_or("?")));
    ///     }))
    ///     .scoped();
    /// let report = Saved { id: 1, by: "alice".into() }.send("web");
    /// assert!(report.is_ok());
    /// assert_eq!(*SEEN.lock().unwrap(), ["alice from web"]);
    ///
    /// // A kwarg of another type: reported, not called.
    /// let _wrong = saved
    ///     .connect(Receiver::kwarg("id", |_: &SenderKey<'_>, _: &u64| {}))
    ///     .scoped();
    /// let report = Saved { id: 2, by: "bob".into() }.send("web");
    /// assert_eq!(report.receivers_called(), 1);
    /// assert_eq!(report.failures().len(), 1);
    /// let FailureKind::Kwarg(error) = &report.failures()[0].kind else { unreachable!() };
    /// assert_eq!(
    ///     error.to_string(),
    ///     "keyword argument `id` is a `u32`, not a `u64`; read it as `u32`"
    /// );
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn kwarg<V, R>(name: impl Into<Cow<'static, str>>, func: F) -> Self
    where
        F: Fn(&SenderKey<'_>, &V) -> R + Send + Sync + 'static,
        V: Any + Send + Sync + DeserializeOwned,
        R: IntoReply,
    {
        Receiver::new(OneKwarg {
            name: name.into(),
            func,
        })
    }
}

#[diagnostic::do_not_recommend]
impl<F, V, R, S: ?Sized> IntoReceiver<dyn Kwargs, Built<SyncKind, R, fn(&S, &V)>>
    for Receiver<OneKwarg<F>, SyncKind, S>
where
    F: Fn(&SenderKey<'_>, &V) -> R + Send + Sync + 'static,
    V: Any + Send + Sync + DeserializeOwned,
    R: IntoReply,
{
    fn lower(self) -> Lowered {
        let (OneKwarg { name, func }, options) = self.into_parts();
        let identity = match ReceiverId::of(&func) {
            Some(ReceiverId::Fn(type_id)) => {
                Some(ReceiverId::Kwarg(Box::new((type_id, name.clone()))))
            }
            other => other,
        };
        let read = Arc::new(KwargFn {
            name,
            alive: options.alive.clone(),
            func,
        });
        let field = FieldRead {
            name: read.name.clone(),
            value: std::any::TypeId::of::<V>(),
            target: read.clone(),
            at: at_offset::<V, F, R>,
        };
        let by_name = move |input: &ByNameInput| read.call_by_name::<V, R>(input);
        let func = RecordFn::ByName(ByNameFn::with_field(by_name, field));
        lowered(options, identity, std::any::type_name::<F>(), func, None)
    }
}

/// A receiver of one kwarg as stored.
struct KwargFn<F> {
    name: Cow<'static, str>,
    alive: Option<Alive>,
    func: F,
}

impl<F> KwargFn<F> {
    /// Whether a weak receiver's target is gone.
    #[inline(always)]
    fn is_gone(&self) -> bool {
        self.alive.as_ref().is_some_and(|alive| !alive())
    }

    /// Reads the kwarg by name, and calls the function with it.
    fn call_by_name<V, R>(&self, input: &ByNameInput) -> CallResult<crate::receiver::AnyValue>
    where
        F: Fn(&SenderKey<'_>, &V) -> R,
        V: Any + DeserializeOwned,
        R: IntoReply,
    {
        if self.is_gone() {
            return gone();
        }
        // SAFETY: a receiver's callable is called by the send that made its input, during it
        // (`engine/deliver.rs`).
        let Some((sender, args)) = (unsafe { input.parts() }) else {
            return without_key();
        };
        match args.read_value::<V>(&self.name) {
            Ok(Read::Here(value)) => (self.func)(sender, value).into_reply().0,
            Ok(Read::Decoded(value)) => (self.func)(sender, &value).into_reply().0,
            Err(error) => kwarg_unread(error),
        }
    }
}

/// A receiver of one kwarg that reads it at `offset` from the start of the bag.
struct AtOffset<F> {
    offset: usize,
    read: Arc<KwargFn<F>>,
}

/// The vtable of [`AtOffset`]s of `F`, reading a `V`.
struct AtVt<V, F, R>(PhantomData<fn(V, F, R)>);

impl<V: Any, F: Fn(&SenderKey<'_>, &V) -> R + 'static, R: IntoReply> AtVt<V, F, R> {
    /// For a receiver that is not weakly bound.
    const STRONG: &'static Vt<ByNameInput, ()> = &Vt::new(call_at::<V, F, R, false>);
    /// For a weakly bound receiver: it asks whether its target lives first.
    const WEAK: &'static Vt<ByNameInput, ()> = &Vt::new(call_at::<V, F, R, true>);
}

/// The callable of the receiver whose closure `target` is (a `KwargFn<F>`), reading its
/// kwarg at `offset` (see `FieldRead::at`).
///
/// # Safety
///
/// The callable is called only with inputs whose bag holds a `V` at `offset`.
unsafe fn at_offset<V, F, R>(target: &Target, offset: usize) -> Option<Callable<ByNameInput, ()>>
where
    V: Any,
    F: Fn(&SenderKey<'_>, &V) -> R + Send + Sync + 'static,
    R: IntoReply,
{
    let read = target.clone().downcast::<KwargFn<F>>().ok()?;
    // Two vtables rather than one that tests `alive`: a strong receiver's call calls nothing
    // but its function.
    let vt = match read.alive {
        None => AtVt::<V, F, R>::STRONG,
        Some(_) => AtVt::<V, F, R>::WEAK,
    };
    let at = Arc::new(AtOffset { offset, read });
    // SAFETY: `call_at` is called with a pointer to the `AtOffset<F>` inside `at`, and (by
    // the caller's contract) with inputs whose bag holds a `V` at `offset`.
    Some(unsafe { Callable::with_target(at, vt) })
}

/// Calls a receiver of one kwarg of a signal with no output, reading the kwarg at its offset;
/// `WEAK`: a weakly bound receiver, which asks whether its target lives first.
///
/// # Safety
///
/// `data` points to a live `AtOffset<F>`, `input` to a live `ByNameInput` whose bag holds a
/// `V` at the `AtOffset`'s offset.
unsafe fn call_at<V, F, R, const WEAK: bool>(
    data: NonNull<()>,
    input: NonNull<()>,
) -> CallResult<()>
where
    V: Any,
    F: Fn(&SenderKey<'_>, &V) -> R,
    R: IntoReply,
{
    // SAFETY: by the caller's contract.
    let (at, input) = unsafe {
        (
            data.cast::<AtOffset<F>>().as_ref(),
            input.cast::<ByNameInput>().as_ref(),
        )
    };
    let read = &*at.read;
    if WEAK && read.is_gone() {
        return gone();
    }
    // SAFETY: as in `KwargFn::call_by_name`.
    let Some((sender, _)) = (unsafe { input.parts() }) else {
        return without_key();
    };
    // SAFETY: the bag holds a `V` at `offset` (the caller's contract), alive as the bag is.
    let value = unsafe { &*input.bag().cast::<u8>().add(at.offset).cast::<V>() };
    (read.func)(sender, value).into_reply().0.downcast::<()>()
}
