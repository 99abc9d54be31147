//! The synchronisation primitives of the send/change protocol: the per-signal state mutex,
//! its published current snapshot, the `live` flag, each snapshot's `replaced` flag, each
//! connection's `active` flag and each list entry's state and vtable pointer.
//!
//! They come from `std` in every normal build. Built with `RUSTFLAGS="--cfg loom"`, they come
//! from [`loom`](https://docs.rs/loom), which explores the interleavings of the model tests in
//! `tests/loom.rs` (see `docs/reliability.md`). Process-wide registries (namespaces, the
//! link-time registry, plugins) and `Arc` stay on `std` in both builds and are not modelled.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};

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
/// `arc-swap` in every normal build; a mutex of its own under loom, which loom can model.
///
/// The cell holds a [`Weak`] reference, boxed (a value `arc-swap` holds must be sized): the
/// writer keeps the strong one while the value is current (the signal's state), so dropping a
/// box never drops a value. `arc-swap` may leave the drop of a replaced box to a reader, inside
/// its load; were the box strong and the writer's reference gone by then, the reader would
/// drop the snapshot there, and with it receivers' closures (user code). A reader whose box
/// is already dead loads again: a newer one is stored.
///
/// Unwind safe as the state mutex is: a value is swapped whole, never left half written.
pub(crate) struct Published<T: ?Sized> {
    #[cfg(not(loom))]
    cell: AssertUnwindSafe<arc_swap::ArcSwap<Weak<T>>>,
    #[cfg(loom)]
    cell: AssertUnwindSafe<loom::sync::Mutex<Arc<Weak<T>>>>,
}

/// The box a [`Published`] holds a value in: made once for a value that many cells publish
/// (the snapshot signals created by name share until they change).
pub(crate) fn boxed<T: ?Sized>(value: &Arc<T>) -> Arc<Weak<T>> {
    Arc::new(Arc::downgrade(value))
}

impl<T: ?Sized> Published<T> {
    /// Publishes the value in `boxed` first.
    pub(crate) fn new(boxed: Arc<Weak<T>>) -> Self {
        Published {
            #[cfg(not(loom))]
            cell: AssertUnwindSafe(arc_swap::ArcSwap::new(boxed)),
            #[cfg(loom)]
            cell: AssertUnwindSafe(loom::sync::Mutex::new(boxed)),
        }
    }

    /// Publishes `value`, which the caller keeps a strong reference to while it is current.
    pub(crate) fn store(&self, value: &Arc<T>) {
        #[cfg(not(loom))]
        self.cell.store(boxed(value));
        #[cfg(loom)]
        {
            let mut cell = self
                .cell
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *cell = boxed(value);
        }
    }

    /// The value published last (or a newer one).
    pub(crate) fn load(&self) -> Arc<T> {
        loop {
            #[cfg(not(loom))]
            let value = self.cell.load().upgrade();
            #[cfg(loom)]
            let value = self
                .cell
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .upgrade();
            if let Some(value) = value {
                return value;
            }
            // Replaced, and dropped by its writer, since this load found it.
            std::hint::spin_loop();
        }
    }
}
