//! How a send finds a signal's current snapshot without a lock in steady state (and without
//! the signal's mutex after a change): each thread keeps its last
//! snapshot of each signal, in a cache shared by every signal of the thread (by-name sends)
//! or in a slot of the signal's own (typed sends). See `snapshot.rs` for the marking protocol
//! that tells a cached snapshot is current.
//!
//! # What the caches cost, and what they drop
//!
//! The shared cache is a small hash map keyed by signal id: one entry (about 32 bytes) per
//! signal the thread sent by name (or through the shared path), whatever the signals' ids,
//! kept until the thread exits. A typed send uses its signal type's own slot, one word per
//! signal type per thread, and never this map.
//!
//! A snapshot a cache lets go (replaced by a newer one, or at the thread's exit) may hold the
//! last reference to a disconnected receiver's closure, whose captures' `Drop` is user code.
//! It is dropped under `catch_unwind` ([`drop_quietly`]): a panic there never escapes the send
//! that refreshed the cache, nor the thread's exit (a thread-local's destructor that panics
//! aborts the process). Such a panic is not reported: it belongs to no receiver of the send.

use std::any::Any;
use std::cell::{Ref, RefCell};
use std::sync::Arc;

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use crate::engine::signal::SignalCore;
use crate::engine::snapshot::{ErasedSnapshot, Shape, SharedSnapshot, Snapshot};
use crate::future::drop_quietly;

/// This thread's snapshot of each signal it sent through the shared path, by signal id.
struct SharedCache {
    snapshots: HashMap<usize, SharedSnapshot, FixedState>,
}

impl SharedCache {
    const fn new() -> Self {
        SharedCache {
            snapshots: HashMap::with_hasher(FixedState::with_seed(0x5349_474e_414c)),
        }
    }

    /// How many bytes the map holds, for the tests.
    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.snapshots.allocation_size()
    }
}

impl Drop for SharedCache {
    /// At the thread's exit: each snapshot is dropped on its own, quietly (see the module docs).
    fn drop(&mut self) {
        for (_, snapshot) in self.snapshots.drain() {
            drop_quietly(snapshot);
        }
    }
}

#[cfg(not(loom))]
thread_local! {
    static CACHE: RefCell<SharedCache> = const { RefCell::new(SharedCache::new()) };
}

// Loom runs its threads on one OS thread: the cache must be one of loom's thread-locals.
#[cfg(loom)]
loom::thread_local! {
    static CACHE: RefCell<SharedCache> = RefCell::new(SharedCache::new());
}

/// Runs `f` with the current snapshot of `core`.
///
/// The fast path reads this thread's cache under a shared borrow that lasts for `f`: the
/// snapshot cannot be replaced while `f` (a send, and the receivers it calls) runs, and nested
/// sends borrow the cache too. A replaced entry is refreshed from the signal's current
/// snapshot (`SignalCore::current_snapshot`); when that happens inside a nested send (the
/// cache is borrowed), the nested send uses the snapshot without caching it.
#[inline]
pub(crate) fn with_snapshot<R>(core: &SignalCore, f: impl FnOnce(&dyn ErasedSnapshot) -> R) -> R {
    let mut f = Some(f);
    let hit = CACHE.try_with(|cache| {
        let cache = cache.try_borrow().ok()?;
        let cached = &**cache.snapshots.get(&core.id)?;
        if cached.is_replaced() {
            return None;
        }
        let f = f.take()?;
        Some(f(cached))
    });
    if let Ok(Some(result)) = hit {
        return result;
    }
    let fresh = refresh(core);
    let result = match f.take() {
        Some(f) => f(&*fresh),
        // `f` is taken only on a cache hit, which returned above.
        None => unreachable!("the snapshot callback runs once"),
    };
    // Not cached when the cache was borrowed: a change during `f` may have left this the last
    // reference to a closure.
    drop_quietly(fresh);
    result
}

/// The current snapshot of `core`, owned: for an async send, which may move to another thread
/// and must not hold a borrow of this thread's cache across an await. Taken from the cache
/// when it is current (one reference count more), else fetched and cached.
pub(crate) fn owned_snapshot(core: &SignalCore) -> SharedSnapshot {
    let hit = CACHE
        .try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            let cached = cache.snapshots.get(&core.id)?;
            (!cached.is_replaced()).then(|| cached.clone())
        })
        .ok()
        .flatten();
    match hit {
        Some(snapshot) => snapshot,
        None => refresh(core),
    }
}

/// Fetches the current snapshot (`SignalCore::current_snapshot`) and caches it for this
/// thread, when the cache is not borrowed by a send in progress.
#[cold]
#[inline(never)]
fn refresh(core: &SignalCore) -> SharedSnapshot {
    let fresh = core.current_snapshot();
    let replaced = CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            cache.snapshots.insert(core.id, fresh.clone())
        })
        .ok()
        .flatten();
    // Dropped after the cache is released: it may free receivers whose `Drop` sends signals,
    // or panics.
    drop_quietly(replaced);
    fresh
}

/// How many bytes this thread's shared cache holds, for the tests.
#[cfg(test)]
pub(crate) fn shared_cache_bytes() -> usize {
    CACHE.with(|cache| cache.borrow().allocated())
}

/// One thread's cached snapshot of one signal whose snapshots have the shape `Sh`: a slot of
/// its own, so a send finds its snapshot without an index or a downcast (the typed layer
/// gives every signal type one, in a `thread_local!`).
pub(crate) struct ThreadCache<Sh: Shape> {
    cached: RefCell<Option<Arc<Snapshot<Sh>>>>,
}

impl<Sh: Shape> ThreadCache<Sh> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        ThreadCache {
            cached: RefCell::new(None),
        }
    }

    /// The cached snapshot when no newer one replaced it, under a shared borrow of the slot
    /// (see [`with_snapshot`] for the borrow rules); `None` sends the caller to
    /// [`fresh`](Self::fresh).
    #[inline]
    pub(crate) fn cached(&self) -> Option<Ref<'_, Snapshot<Sh>>> {
        let cached = self.cached.try_borrow().ok()?;
        Ref::filter_map(cached, |c| c.as_deref().filter(|s| !s.is_replaced())).ok()
    }

    /// The current snapshot, owned (see [`owned_snapshot`]).
    pub(crate) fn owned(&self, core: &SignalCore) -> Option<Arc<Snapshot<Sh>>> {
        if let Ok(cached) = self.cached.try_borrow() {
            if let Some(snapshot) = cached.as_ref().filter(|s| !s.is_replaced()) {
                return Some(snapshot.clone());
            }
        }
        self.fresh(core)
    }

    /// The current snapshot, fetched (`SignalCore::current_snapshot`) and cached in the slot
    /// unless a send in progress on this thread holds it. `None` only if the signal's snapshots have
    /// another shape, which the caller rules out.
    #[cold]
    #[inline(never)]
    pub(crate) fn fresh(&self, core: &SignalCore) -> Option<Arc<Snapshot<Sh>>> {
        let erased: Arc<dyn Any + Send + Sync> = core.current_snapshot();
        let fresh = erased.downcast::<Snapshot<Sh>>().ok()?;
        let replaced = match self.cached.try_borrow_mut() {
            Ok(mut cached) => cached.replace(fresh.clone()),
            Err(_) => None,
        };
        // Dropped after the slot is released: it may free receivers whose `Drop` sends, or
        // panics.
        drop_quietly(replaced);
        Some(fresh)
    }
}

impl<Sh: Shape> Drop for ThreadCache<Sh> {
    /// At the thread's exit: the snapshot is dropped quietly (see the module docs).
    fn drop(&mut self) {
        drop_quietly(self.cached.get_mut().take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared cache costs what the thread uses: one signal with a high id, a few entries'
    /// worth of bytes (a cache indexed by id would take 16 bytes per id below it).
    #[test]
    fn the_shared_cache_grows_with_the_signals_sent_not_with_their_ids() {
        let mut last = None;
        for _ in 0..20_000 {
            last = Some(SignalCore::leak("cache_test", "s", None, None));
        }
        let last = last.unwrap();
        assert!(last.id >= 19_999);
        let bytes = std::thread::spawn(move || {
            with_snapshot(last, |snapshot| assert!(!snapshot.is_replaced()));
            shared_cache_bytes()
        })
        .join()
        .unwrap();
        assert!(bytes > 0 && bytes < 256, "{bytes} bytes");
    }
}
