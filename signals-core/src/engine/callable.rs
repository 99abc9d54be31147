//! A receiver's sync callable as a list entry stores it: a thin pointer to the closure, and a
//! function made for the closure's type that calls it (a vtable of one method, `Vt`).
//!
//! A `dyn Fn` would do the same with a wide pointer. Splitting it lets a list entry swap the
//! function alone, atomically, for one that does not call (`slots.rs`: an entry switched off
//! answers [`CallResult::Off`] without touching the closure), so a send reads one word and
//! makes one call per entry, with no state to test first. And the arguments go in one
//! pointer to the send's `I` (the sender and the struct, or the key and the bag), not in
//! three or four registers to reload for each receiver.

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::receiver::{AnyValue, CallResult};

/// How an entry's closure is called: the one method of a [`Callable`]'s vtable, for inputs
/// of type `I`.
///
/// The method takes the input as an untyped pointer, so that a vtable for inputs `I` serves
/// inputs that begin with an `I` too ([`cast`](Self::cast)): a typed send's input begins with
/// its by-name view, which a by-name receiver of a signal with no output reads as its own.
#[repr(C)]
pub(crate) struct Vt<I, O> {
    /// Calls the closure that `data` points to with the `I` that `input` points to.
    ///
    /// # Safety
    ///
    /// `data` is the pointer of the [`Callable`] this came with, whose closure is alive, and
    /// `input` points to a live `I`.
    call: unsafe fn(data: NonNull<()>, input: NonNull<()>) -> CallResult<O>,
    input: PhantomData<fn(&I)>,
}

impl<I, O> Vt<I, O> {
    /// The vtable whose method is `call` (see the field's contract).
    pub(crate) const fn new(
        call: unsafe fn(data: NonNull<()>, input: NonNull<()>) -> CallResult<O>,
    ) -> Self {
        Vt {
            call,
            input: PhantomData,
        }
    }

    /// Calls the closure that `data` points to with `input`.
    ///
    /// # Safety
    ///
    /// `data` is the pointer of the [`Callable`] this vtable came with, whose closure is
    /// alive (or the vtable never reads it: [`Vt::OFF`], [`Vt::CHECK`]).
    #[inline(always)]
    pub(crate) unsafe fn call(&self, data: NonNull<()>, input: &I) -> CallResult<O> {
        // SAFETY: by the caller's contract; `input` is a live `I`.
        unsafe { (self.call)(data, NonNull::from(input).cast()) }
    }

    /// This vtable for inputs `J` and outputs `P`.
    ///
    /// # Safety
    ///
    /// `P` is `O`, and every `J` begins with an `I`: `J` is `#[repr(C)]` with an `I` as its
    /// first field. (The layout of `Vt` does not depend on its parameters: `#[repr(C)]`, a
    /// function pointer whose type is the same for every `I`, and a `PhantomData`.)
    pub(crate) unsafe fn cast<J, P>(&'static self) -> &'static Vt<J, P> {
        // SAFETY: by the caller's contract.
        unsafe { &*std::ptr::from_ref(self).cast::<Vt<J, P>>() }
    }
}

/// Calls the `F` that `data` points to with the `I` that `input` points to.
///
/// # Safety
///
/// As for [`Vt::call`]: `data` points to a live `F`, `input` to a live `I`.
unsafe fn call_closure<I, O, F: Fn(&I) -> CallResult<O>>(
    data: NonNull<()>,
    input: NonNull<()>,
) -> CallResult<O> {
    // SAFETY: by the caller's contract.
    let (f, input) = unsafe { (data.cast::<F>().as_ref(), input.cast::<I>().as_ref()) };
    f(input)
}

/// Calls the `F` that `data` points to, a by-name receiver's closure, as a receiver of a
/// signal with no output: a value is a failure ([`WrongValue`](crate::receiver)), as the
/// check of any by-name receiver's value against its signal's output type makes it.
///
/// # Safety
///
/// As for [`call_closure`].
unsafe fn call_for_unit<I, F: Fn(&I) -> CallResult<AnyValue>>(
    data: NonNull<()>,
    input: NonNull<()>,
) -> CallResult<()> {
    // SAFETY: by the caller's contract.
    unsafe { call_closure::<I, AnyValue, F>(data, input) }.downcast::<()>()
}

/// What an entry switched off calls: nothing.
fn off<O>(_: NonNull<()>, _: NonNull<()>) -> CallResult<O> {
    CallResult::Off
}

/// What an entry to check against its connections calls: nothing (the send asks and calls
/// the entry's own function, `slots.rs`).
fn check<O>(_: NonNull<()>, _: NonNull<()>) -> CallResult<O> {
    CallResult::Check
}

impl<I: 'static, O: 'static> Vt<I, O> {
    /// The vtable of entries switched off.
    pub(crate) const OFF: &'static Vt<I, O> = &Vt::new(off::<O>);
    /// The vtable of entries to check.
    pub(crate) const CHECK: &'static Vt<I, O> = &Vt::new(check::<O>);
}

/// The vtables of closures of type `F`.
struct VtOf<I, O, F>(PhantomData<fn(I, O, F)>);

impl<I: 'static, O: 'static, F: Fn(&I) -> CallResult<O> + 'static> VtOf<I, O, F> {
    const VT: &'static Vt<I, O> = &Vt::new(call_closure::<I, O, F>);
}

impl<I: 'static, F: Fn(&I) -> CallResult<AnyValue> + 'static> VtOf<I, AnyValue, F> {
    const FOR_UNIT: &'static Vt<I, ()> = &Vt::new(call_for_unit::<I, F>);
}

/// A receiver's sync callable for sends whose arguments are an `I` and whose receivers give
/// `O`s: shared by every list entry made for it (cloning it clones an `Arc`).
pub(crate) struct Callable<I: 'static, O: 'static> {
    /// Keeps the closure alive.
    owner: Arc<dyn Any + Send + Sync>,
    /// The closure, inside `owner`.
    data: NonNull<()>,
    vt: &'static Vt<I, O>,
}

// SAFETY: `data` points into `owner`, a `Send + Sync` closure; the vtable is immutable.
unsafe impl<I: 'static, O: 'static> Send for Callable<I, O> {}
// SAFETY: as for `Send`.
unsafe impl<I: 'static, O: 'static> Sync for Callable<I, O> {}

impl<I: 'static, O: 'static> Clone for Callable<I, O> {
    fn clone(&self) -> Self {
        Callable {
            owner: self.owner.clone(),
            data: self.data,
            vt: self.vt,
        }
    }
}

impl<I: 'static, O: 'static> Callable<I, O> {
    /// `f`, called with the send's `input`.
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: Fn(&I) -> CallResult<O> + Send + Sync + 'static,
    {
        let owner = Arc::new(f);
        Callable {
            data: NonNull::from(&*owner).cast(),
            owner,
            vt: VtOf::<I, O, F>::VT,
        }
    }

    /// A callable that calls `vt` with a pointer to `target` (which it keeps alive): an
    /// adapter from one kind of input to another without a closure of its own between.
    ///
    /// # Safety
    ///
    /// `vt.call` may be called with a pointer to the `X` inside `target` while it lives.
    pub(crate) unsafe fn with_target<X: Send + Sync + 'static>(
        target: Arc<X>,
        vt: &'static Vt<I, O>,
    ) -> Self {
        Callable {
            data: NonNull::from(&*target).cast(),
            owner: target,
            vt,
        }
    }

    /// Calls it.
    #[inline]
    pub(crate) fn call(&self, input: &I) -> CallResult<O> {
        // SAFETY: `data` and `vt` were made together, and `owner` keeps the closure alive.
        unsafe { self.vt.call(self.data, input) }
    }

    /// The same closure, called through `vt`.
    ///
    /// # Safety
    ///
    /// `vt` calls this callable's closure (its type is the one `vt` was made for).
    pub(crate) unsafe fn with_vt<J: 'static, P: 'static>(
        &self,
        vt: &'static Vt<J, P>,
    ) -> Callable<J, P> {
        Callable {
            owner: self.owner.clone(),
            data: self.data,
            vt,
        }
    }

    /// The same callable, for inputs `J` that begin with an `I`.
    ///
    /// # Safety
    ///
    /// As for [`Vt::cast`]: `P` is `O`, and every `J` begins with an `I`.
    pub(crate) unsafe fn cast<J: 'static, P: 'static>(self) -> Callable<J, P> {
        Callable {
            owner: self.owner,
            data: self.data,
            // SAFETY: by the caller's contract.
            vt: unsafe { self.vt.cast::<J, P>() },
        }
    }

    /// Its parts, for a list entry: the pointer and the vtable (alive while the owner is),
    /// and the owner.
    pub(crate) fn into_parts(self) -> (NonNull<()>, &'static Vt<I, O>, Arc<dyn Any + Send + Sync>) {
        (self.data, self.vt, self.owner)
    }

    /// Erased, for a record that holds receivers of any signal's type.
    pub(crate) fn erase(self) -> ErasedCallable {
        ErasedCallable {
            vt: NonNull::from(self.vt).cast(),
            kind: TypeId::of::<Vt<I, O>>,
            data: self.data,
            owner: self.owner,
        }
    }
}

impl<I: 'static> Callable<I, AnyValue> {
    /// A by-name receiver's closure `f`, and the vtable that calls it as a receiver of a
    /// signal with no output (see [`Vt::cast`] for why that one is needed).
    pub(crate) fn new_with_unit<F>(f: F) -> (Self, &'static Vt<I, ()>)
    where
        F: Fn(&I) -> CallResult<AnyValue> + Send + Sync + 'static,
    {
        (Callable::new(f), VtOf::<I, AnyValue, F>::FOR_UNIT)
    }
}

/// A [`Callable`] of some `I` and `O`, which [`ErasedCallable::downcast`] gets back.
#[derive(Clone)]
pub(crate) struct ErasedCallable {
    owner: Arc<dyn Any + Send + Sync>,
    data: NonNull<()>,
    /// A `&'static Vt<I, O>`.
    vt: NonNull<()>,
    /// `TypeId::of::<Vt<I, O>>` (the function, one word: a `TypeId` takes two).
    kind: fn() -> TypeId,
}

// SAFETY: as for `Callable`.
unsafe impl Send for ErasedCallable {}
// SAFETY: as for `Callable`.
unsafe impl Sync for ErasedCallable {}

impl ErasedCallable {
    /// The callable, when it takes `I` and gives `O`.
    pub(crate) fn downcast<I: 'static, O: 'static>(&self) -> Option<Callable<I, O>> {
        if (self.kind)() != TypeId::of::<Vt<I, O>>() {
            return None;
        }
        Some(Callable {
            owner: self.owner.clone(),
            data: self.data,
            // SAFETY: `vt` is a `&'static Vt<I, O>`: `kind` says so (`erase`).
            vt: unsafe { self.vt.cast::<Vt<I, O>>().as_ref() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callable_calls_its_closure_and_keeps_it_alive() {
        let captured = Arc::new(5usize);
        let held = captured.clone();
        let callable: Callable<usize, usize> =
            Callable::new(move |x: &usize| CallResult::Value(x + *held));
        assert!(matches!(callable.call(&2), CallResult::Value(7)));
        let erased = callable.clone().erase();
        drop(callable);
        assert!(erased.downcast::<usize, u8>().is_none(), "another output");
        assert!(erased.downcast::<u8, usize>().is_none(), "another input");
        let back = erased.downcast::<usize, usize>().unwrap();
        assert!(matches!(back.call(&1), CallResult::Value(6)));
        drop(erased);
        assert_eq!(
            Arc::strong_count(&captured),
            2,
            "one closure, kept by `back`"
        );
        drop(back);
        assert_eq!(Arc::strong_count(&captured), 1);
    }

    #[test]
    fn the_off_and_check_vtables_call_nothing() {
        // SAFETY: these functions never read `data`.
        unsafe {
            assert!(matches!(
                Vt::<u8, u8>::OFF.call(NonNull::dangling(), &1),
                CallResult::Off
            ));
            assert!(matches!(
                Vt::<u8, u8>::CHECK.call(NonNull::dangling(), &1),
                CallResult::Check
            ));
        }
    }
}
