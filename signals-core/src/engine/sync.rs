//! The synchronisation primitives of the send/change protocol: the per-signal state mutex,
//! its published current snapshot, the `live` flag, each snapshot's `replaced` flag, each
//! connection's `active` flag and each list entry's state and vtable pointer.
//!
//! They come from `std` in every normal build. Built with `RUSTFLAGS="--cfg loom"`, they come
//! from [`loom`](https://docs.rs/loom), which explores the interleavings of the model tests in
//! `tests/loom.rs` (see `docs/reliability.md`). Process-wide registries (namespaces, the
//! link-time registry, plugins) and `Arc` stay on `std` in both builds and are not modelled.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// A signal's current snapshot, published for the sends whose cached one was replaced: they
/// read it without the state mutex, so a send never waits for a change on another thread.
/// `arc-swap` in every normal build (a value it holds must be sized: the snapshot's `Arc` is
/// boxed in one more); a mutex of its own under loom, which loom can model.
///
/// Unwind safe as the state mutex is: a value is swapped whole, never left half written.
pub(crate) struct Published<T> {
    #[cfg(not(loom))]
    cell: AssertUnwindSafe<arc_swap::ArcSwap<T>>,
    #[cfg(loom)]
    cell: AssertUnwindSafe<loom::sync::Mutex<Arc<T>>>,
}

impl<T> Published<T> {
    /// Publishes `value` first.
    pub(crate) fn new(value: Arc<T>) -> Self {
        Published {
            #[cfg(not(loom))]
            cell: AssertUnwindSafe(arc_swap::ArcSwap::new(value)),
            #[cfg(loom)]
            cell: AssertUnwindSafe(loom::sync::Mutex::new(value)),
        }
    }

    /// Publishes `value`. The box it replaces is dropped here or, if a reader still holds
    /// it, by that reader ([`read`](Self::read)).
    pub(crate) fn store(&self, value: T) {
        #[cfg(not(loom))]
        self.cell.store(Arc::new(value));
        #[cfg(loom)]
        {
            let mut cell = self
                .cell
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let old = std::mem::replace(&mut *cell, Arc::new(value));
            drop(cell);
            drop(old);
        }
    }

    /// Runs `f` with what was published last (without taking a reference count on its box:
    /// `arc-swap`'s guard).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        #[cfg(not(loom))]
        return f(&self.cell.load());
        #[cfg(loom)]
        return f(&self
            .cell
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }
}
