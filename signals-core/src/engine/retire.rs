//! Keeping a removed receiver's closures until no snapshot that may call them remains.
//!
//! A disconnection switches the receiver's entry off in the store its snapshots share
//! (`slots.rs`) and publishes a new snapshot over the same store. Snapshots published before
//! may still be in use (a send in progress, a thread's cache) and may call the entry, so its
//! closures cannot be dropped yet. They go to the [`Retired`] list of the snapshot the change
//! replaced. Each snapshot holds its own list, and each list holds the next one's: a snapshot
//! keeps alive the closures removed while it or any later snapshot was current, which are
//! exactly the ones it may call. When the last snapshot before a list's is gone, its closures
//! are dropped, as they were when every change copied the list.
//!
//! The chain ends where a snapshot is built anew (`Snapshot::build`): the new snapshot has a
//! store of its own, and the abandoned store keeps the closures of its entries that were not
//! retired (their owners are still in it) for as long as a snapshot over it remains, with
//! its entries set to check their connections (`slots.rs`).

use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::future::drop_quietly;

/// Something retired: a removed entry's closures, type-erased.
pub(crate) type Item = Box<dyn Any + Send + Sync>;

/// The closures retired while one snapshot was current, and the list of the snapshot after.
#[derive(Default)]
pub(crate) struct Retired {
    items: Mutex<Vec<Item>>,
    next: OnceLock<Arc<Retired>>,
}

impl Retired {
    /// Keeps `items` here and links `next`, the list of the snapshot that replaces this one's.
    /// Called once per list, by the writer that replaces the snapshot.
    pub(crate) fn hand_over(&self, items: Vec<Item>, next: Arc<Retired>) {
        if !items.is_empty() {
            self.items
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(items);
        }
        // A list is handed over once: its snapshot is replaced once.
        let _ = self.next.set(next);
    }
}

impl Drop for Retired {
    /// Drops the items quietly (their `Drop` is user code, see [`drop_quietly`]), then the
    /// lists after this one that nothing else holds, one at a time rather than recursively:
    /// a thread that cached a snapshot long ago may hold the head of a long chain.
    fn drop(&mut self) {
        let items = std::mem::take(self.items.get_mut().unwrap_or_else(PoisonError::into_inner));
        for item in items {
            drop_quietly(item);
        }
        let mut next = self.next.take();
        while let Some(list) = next {
            match Arc::into_inner(list) {
                Some(mut list) => {
                    next = list.next.take();
                    // Its own `Drop` now finds no `next`.
                    drop(list);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_live_while_any_earlier_list_does() {
        let closure = Arc::new(5u8);
        let first = Arc::new(Retired::default());
        let second = Arc::new(Retired::default());
        let third = Arc::new(Retired::default());
        first.hand_over(Vec::new(), second.clone());
        second.hand_over(vec![Box::new(closure.clone())], third.clone());
        drop(second);
        assert_eq!(
            Arc::strong_count(&closure),
            2,
            "the first list holds the second"
        );
        drop(first);
        assert_eq!(
            Arc::strong_count(&closure),
            1,
            "gone with the last earlier list"
        );
        drop(third);
    }

    #[test]
    fn a_long_chain_drops_without_recursion() {
        let head = Arc::new(Retired::default());
        let mut tail = head.clone();
        // Deep enough to overflow a thread's stack if dropped recursively; Miri checks a
        // shorter chain (it runs the same code a thousand times slower).
        let length = if cfg!(miri) { 1_000 } else { 200_000 };
        for _ in 0..length {
            let next = Arc::new(Retired::default());
            tail.hand_over(Vec::new(), next.clone());
            tail = next;
        }
        drop(tail);
        drop(head);
    }
}
