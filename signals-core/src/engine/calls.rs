//! The callables of a receiver list, laid out for the send loop.
//!
//! A receiver's closure is shared: the connection record and every snapshot listing it hold
//! an `Arc` of it. Calling through an `Arc<dyn Fn>` makes the loop compute where the closure
//! starts inside the `Arc`'s allocation from the closure's alignment (a vtable load and four
//! more instructions per receiver); calling through an `Arc<Box<dyn Fn>>` instead makes it
//! load the box from the `Arc`'s allocation (a cache line of its own per receiver, which a busy
//! machine evicts). [`Calls`] keeps beside the `Arc`s a contiguous array of plain pointers to
//! the closures: the loop reads the code and data pointers side by side, as a loop over a
//! `Vec<Box<dyn Fn>>` does, and a closure that captures nothing touches no memory of its own.
//!
//! This is the crate's one use of `unsafe`: turning those pointers back into references.

use std::ptr::NonNull;
use std::sync::Arc;

use crate::future::drop_quietly;

/// Shared callables and a pointer to each, in the same order.
pub(crate) struct Calls<C: ?Sized> {
    /// `pointers[i]` points to the closure `_owners[i]` holds.
    pointers: Box<[NonNull<C>]>,
    /// Never read: it keeps the closures alive, and where they are, as long as the pointers.
    _owners: Box<[Arc<C>]>,
}

// SAFETY: `Calls` gives out only shared references to closures that `_owners` keeps alive, as an
// `Arc<C>` does; with `C: Send + Sync` those may be sent to and shared with other threads,
// which is what `Arc<C>`'s own `Send` and `Sync` require.
unsafe impl<C: ?Sized + Send + Sync> Send for Calls<C> {}
// SAFETY: as for `Send`: only `&C` is handed out, and `C: Sync`.
unsafe impl<C: ?Sized + Send + Sync> Sync for Calls<C> {}

impl<C: ?Sized> Calls<C> {
    /// The list of `owners`' closures, in order.
    pub(crate) fn new(owners: Vec<Arc<C>>) -> Self {
        let pointers = owners.iter().map(|owner| NonNull::from(&**owner)).collect();
        Calls {
            pointers,
            _owners: owners.into_boxed_slice(),
        }
    }

    /// How many callables.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.pointers.len()
    }

    /// The callable at `index`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&C> {
        self.pointers.get(index).map(|pointer| {
            // SAFETY: see `Iter::next`.
            unsafe { pointer.as_ref() }
        })
    }

    /// The callables in order.
    #[inline]
    pub(crate) fn iter(&self) -> Iter<'_, C> {
        Iter {
            pointers: self.pointers.iter(),
        }
    }
}

impl<C: ?Sized> Drop for Calls<C> {
    /// Drops each closure on its own, under `catch_unwind`: wherever the last snapshot that
    /// lists a disconnected receiver goes (a thread's cache, an async send, a change), a `Drop`
    /// of what the closure captured that panics escapes nothing, and cannot make a second
    /// closure's panic abort the process.
    fn drop(&mut self) {
        for owner in std::mem::take(&mut self._owners) {
            drop_quietly(owner);
        }
    }
}

impl<C: ?Sized> std::ops::Index<usize> for Calls<C> {
    type Output = C;

    /// The callable at `index`; panics if `index` is out of bounds, as a slice does.
    #[inline]
    fn index(&self, index: usize) -> &C {
        let pointer = &self.pointers[index];
        // SAFETY: see `Iter::next`.
        unsafe { pointer.as_ref() }
    }
}

/// The callables of a [`Calls`], in order.
pub(crate) struct Iter<'a, C: ?Sized> {
    pointers: std::slice::Iter<'a, NonNull<C>>,
}

impl<'a, C: ?Sized> Iterator for Iter<'a, C> {
    type Item = &'a C;

    #[inline]
    fn next(&mut self) -> Option<&'a C> {
        let pointer = self.pointers.next()?;
        // SAFETY: the pointer was made from a reference to the closure inside an `Arc` that
        // `_owners` holds. `_owners` is never changed and lives as long as the `Calls` this
        // iterator borrows for `'a`, and an `Arc`'s contents do not move: the closure is alive
        // and unmoved for `'a`. Only shared references to it exist.
        Some(unsafe { pointer.as_ref() })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.pointers.size_hint()
    }
}

impl<C: ?Sized> ExactSizeIterator for Iter<'_, C> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Call = dyn Fn(usize) -> usize + Send + Sync;

    #[test]
    fn calls_reach_each_closure_in_order_and_keep_it_alive() {
        let offset = Arc::new(AtomicUsize::new(100));
        let captured = offset.clone();
        let owners: Vec<Arc<Call>> = vec![
            Arc::new(|x| x + 1),
            Arc::new(move |x| x + captured.load(Ordering::SeqCst)),
            // A closure of a larger alignment than the Arc's header.
            Arc::new({
                #[repr(align(64))]
                struct Aligned(usize);
                let aligned = Aligned(7);
                move |x| x * aligned.0
            }),
        ];
        let shared = owners[1].clone();
        let calls = Calls::new(owners);
        assert_eq!(calls.len(), 3);
        assert_eq!(calls.iter().len(), 3);
        let results: Vec<usize> = calls.iter().map(|call| call(2)).collect();
        assert_eq!(results, [3, 102, 14]);
        offset.store(5, Ordering::SeqCst);
        assert_eq!(calls.get(1).map(|call| call(2)), Some(7));
        assert!(calls.get(3).is_none());
        assert_eq!(Arc::strong_count(&shared), 2);
        // Moving the list moves the boxes of pointers and owners, not the closures.
        let moved = calls;
        assert_eq!(moved.get(2).map(|call| call(1)), Some(7));
        assert_eq!(moved[0](1), 2);
        // Shared between threads, as snapshots are.
        std::thread::scope(|s| {
            let a = s.spawn(|| moved.iter().map(|call| call(1)).sum::<usize>());
            let b = s.spawn(|| moved[1](0));
            assert_eq!(a.join().ok(), Some(2 + 6 + 7));
            assert_eq!(b.join().ok(), Some(5));
        });
        drop(moved);
        assert_eq!(Arc::strong_count(&shared), 1);
    }
}
