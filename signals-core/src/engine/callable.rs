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
use std::ptr::NonNull;
use std::sync::Arc;

use crate::receiver::CallResult;

/// How an entry's closure is called: the one method of a [`Callable`]'s vtable.
pub(crate) struct Vt<I, O> {
    /// Calls the closure that `data` points to with `input`.
    ///
    /// # Safety
    ///
    /// `data` is the pointer of the [`Callable`] this came with, whose closure is alive.
    pub(crate) call: unsafe fn(data: NonNull<()>, input: &I) -> CallResult<O>,
}

/// Calls the `F` that `data` points to.
///
/// # Safety
///
/// `data` points to a live `F` (see [`Vt::call`]).
unsafe fn call_closure<I, O, F: Fn(&I) -> CallResult<O>>(
    data: NonNull<()>,
    input: &I,
) -> CallResult<O> {
    // SAFETY: by the caller's contract.
    let f = unsafe { data.cast::<F>().as_ref() };
    f(input)
}

/// What an entry switched off calls: nothing.
fn off<I, O>(_: NonNull<()>, _: &I) -> CallResult<O> {
    CallResult::Off
}

/// What an entry to check against its connections calls: nothing (the send asks and calls
/// the entry's own function, `slots.rs`).
fn check<I, O>(_: NonNull<()>, _: &I) -> CallResult<O> {
    CallResult::Check
}

impl<I: 'static, O: 'static> Vt<I, O> {
    /// The vtable of entries switched off.
    pub(crate) const OFF: &'static Vt<I, O> = &Vt { call: off::<I, O> };
    /// The vtable of entries to check.
    pub(crate) const CHECK: &'static Vt<I, O> = &Vt {
        call: check::<I, O>,
    };
}

/// The vtable of closures of type `F`.
struct VtOf<I, O, F>(std::marker::PhantomData<fn(I, O, F)>);

impl<I: 'static, O: 'static, F: Fn(&I) -> CallResult<O> + 'static> VtOf<I, O, F> {
    const VT: &'static Vt<I, O> = &Vt {
        call: call_closure::<I, O, F>,
    };
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
        unsafe { (self.vt.call)(self.data, input) }
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
            kind: TypeId::of::<Vt<I, O>>(),
            data: self.data,
            owner: self.owner,
        }
    }
}

/// A [`Callable`] of some `I` and `O`, which [`ErasedCallable::downcast`] gets back.
#[derive(Clone)]
pub(crate) struct ErasedCallable {
    owner: Arc<dyn Any + Send + Sync>,
    data: NonNull<()>,
    /// A `&'static Vt<I, O>`.
    vt: NonNull<()>,
    /// `TypeId::of::<Vt<I, O>>()`.
    kind: TypeId,
}

// SAFETY: as for `Callable`.
unsafe impl Send for ErasedCallable {}
// SAFETY: as for `Callable`.
unsafe impl Sync for ErasedCallable {}

impl ErasedCallable {
    /// The callable, when it takes `I` and gives `O`.
    pub(crate) fn downcast<I: 'static, O: 'static>(&self) -> Option<Callable<I, O>> {
        if self.kind != TypeId::of::<Vt<I, O>>() {
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
                (Vt::<u8, u8>::OFF.call)(NonNull::dangling(), &1),
                CallResult::Off
            ));
            assert!(matches!(
                (Vt::<u8, u8>::CHECK.call)(NonNull::dangling(), &1),
                CallResult::Check
            ));
        }
    }
}
