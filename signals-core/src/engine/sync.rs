//! The synchronisation primitives of the send/change protocol: the per-signal state mutex,
//! the lock of its current snapshot, the `live` flag, each snapshot's `replaced` flag, each
//! connection's `active` flag and each list entry's state and vtable pointer.
//!
//! They come from `std` in every normal build. Built with `RUSTFLAGS="--cfg loom"`, they come
//! from [`loom`](https://docs.rs/loom), which explores the interleavings of the model tests in
//! `tests/loom.rs` (see `docs/reliability.md`). Process-wide registries (namespaces, the
//! link-time registry, plugins) and `Arc` stay on `std` in both builds and are not modelled.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
