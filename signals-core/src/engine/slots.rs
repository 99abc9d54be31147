//! The entries of a receiver list, written once and shared by the snapshots of a signal.
//!
//! A change to a signal's receivers publishes a new snapshot, but it does not copy the list:
//! a connection for every sender is appended to the store the current snapshot reads, and a
//! disconnection or a block switches its entry off in place. Successive snapshots share the
//! store and differ only in how many entries they see (`ReceiverList::len`). A connect or a
//! disconnect therefore costs the same with ten receivers present or ten thousand; the list
//! is built anew (`Snapshot::build`) only when the store is full, when half of it is switched
//! off for good, or for the changes an append cannot express (see `SignalCore::publish`).
//!
//! # The rules that make sharing sound
//!
//! - An entry is written once, below the store's capacity and at or above every length a
//!   snapshot was given, by the one writer (who holds the signal's mutex), and never moved or
//!   written again. A snapshot's length is fixed when the writer makes it, and senders get a
//!   snapshot through the signal's mutex: every entry a sender reads was written before.
//! - What changes after an entry is written is its state, an atomic every send reads: on
//!   (call it), off (skip it), or check (ask its connection, `EntryMeta::is_active`). The
//!   entries of a store that a rebuild abandoned are all set to check: a send still running
//!   over it then follows the connections, which the changes made after the rebuild update.
//! - The closures an entry calls are owned by the store, in a cell only the writer touches.
//!   An entry switched off for good (its connection removed) gives its closures to the
//!   snapshot it leaves (`retire.rs`): they are dropped once no snapshot that may still call
//!   them remains, as when a list was copied on every change. An entry never switched off
//!   for good keeps its closures until the store is dropped.
//!
//! The hot part of an entry (the closure's pointer and the state, all a send touches) lies in
//! one contiguous array; the rest (its description, its connection flags, its async callable
//! and the owners) in another.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::engine::signal::{Alive, ByNameCall};
use crate::engine::sync::{AtomicBool, AtomicU8};
use crate::future::drop_quietly;
use crate::receiver::ReceiverInfo;

/// An entry's state: call it.
pub(crate) const ON: u8 = 0;
/// An entry's state: skip it (blocked, or disconnected).
pub(crate) const OFF: u8 = 1;
/// An entry's state: ask its connections (the list was rebuilt since).
pub(crate) const CHECK: u8 = 2;
/// Added to the state of an entry whose callable is a by-name receiver's in a list of
/// another shape (a typed signal's): fixed when the entry is written. A send calls such an
/// entry with the sender's key and the bag, without an adapter closure between.
pub(crate) const NAMED: u8 = 4;

/// A state without its [`NAMED`] bit: [`ON`], [`OFF`] or [`CHECK`].
#[inline]
pub(crate) fn switch(state: u8) -> u8 {
    state & !NAMED
}

/// What a send reads of an entry.
pub(crate) struct Hot<C: ?Sized> {
    call: Pointer<C>,
    state: AtomicU8,
}

/// An entry's callable: of the list's shape, or (with [`NAMED`] in the state) a by-name one.
#[derive(Clone, Copy)]
union Pointer<C: ?Sized> {
    shaped: NonNull<C>,
    named: NonNull<ByNameCall>,
}

/// An entry's callable, borrowed.
pub(crate) enum Callee<'a, C: ?Sized> {
    /// Of the list's shape.
    Shaped(&'a C),
    /// A by-name receiver's, in a list of another shape.
    Named(&'a ByNameCall),
}

impl<C: ?Sized> Hot<C> {
    /// The entry's callable, unless the entry is off: an entry switched off for good may
    /// have lost its closures (to the retired list of a snapshot gone since), and it stays
    /// off. An entry read as on or to check through a snapshot the caller holds is alive
    /// (see `shaped_unchecked`).
    #[inline]
    pub(crate) fn callee(&self) -> Option<Callee<'_, C>> {
        let state = self.state();
        if switch(state) == OFF {
            return None;
        }
        Some(if state & NAMED == 0 {
            // SAFETY: on or to check, without `NAMED` (see `shaped_unchecked`).
            Callee::Shaped(unsafe { self.shaped_unchecked() })
        } else {
            // SAFETY: on or to check, with `NAMED` (see `named_unchecked`).
            Callee::Named(unsafe { self.named_unchecked() })
        })
    }

    /// The entry's callable of the list's shape.
    ///
    /// # Safety
    ///
    /// The caller read the entry's state, through a snapshot it holds, as on or to check
    /// without [`NAMED`] ([`ON`] for example; the `NAMED` bit is fixed when the entry is
    /// written).
    #[inline]
    pub(crate) unsafe fn shaped_unchecked(&self) -> &C {
        // SAFETY: without `NAMED`, `shaped` is the field `Slots::push` wrote. It points into an
        // `Arc` the entry's owners held when it was written. The owners leave the store only
        // when the entry is switched off for good (`Slots::take_owners`), for the retired list
        // of the snapshot then replaced, and that list lives as long as any snapshot published
        // before it (each holds the next one's list, `retire.rs`). A snapshot published after
        // can reach the entry too, but the entry was off before that snapshot was published
        // (under the signal's mutex, through which the caller got it) and stays off: the
        // caller, having read it on or to check, holds a snapshot that keeps the closure.
        unsafe { self.call.shaped.as_ref() }
    }

    /// The entry's by-name callable.
    ///
    /// # Safety
    ///
    /// As for [`shaped_unchecked`](Self::shaped_unchecked), with [`NAMED`] in the state read.
    #[inline]
    pub(crate) unsafe fn named_unchecked(&self) -> &ByNameCall {
        // SAFETY: with `NAMED`, `named` is the field written; alive as in `shaped_unchecked`.
        unsafe { self.call.named.as_ref() }
    }

    /// The entry's state: [`ON`], [`OFF`] or [`CHECK`], plus [`NAMED`] for a by-name callable.
    #[inline]
    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }
}

/// What a send needs of a receiver besides its callable: its description (for a failure, a
/// value collected, introspection) and its connections' flags (for an entry to check).
pub(crate) struct EntryMeta {
    /// The connection (its sequence number) the entry was made for, first of those merged.
    pub(crate) seq: u64,
    active: Arc<AtomicBool>,
    /// The flags of the other connections of the same receiver merged into this entry (for
    /// every sender and for this one): it is called while any of them is active. A boxed
    /// slice, two words: few entries have any.
    merged: Box<[Arc<AtomicBool>]>,
    pub(crate) info: Arc<ReceiverInfo>,
    pub(crate) alive: Option<Alive>,
}

impl EntryMeta {
    pub(crate) fn new(
        seq: u64,
        active: Arc<AtomicBool>,
        info: Arc<ReceiverInfo>,
        alive: Option<Alive>,
    ) -> Self {
        EntryMeta {
            seq,
            active,
            merged: Box::default(),
            info,
            alive,
        }
    }

    /// Adds another connection of the same receiver to this entry.
    pub(crate) fn merge(&mut self, active: Arc<AtomicBool>) {
        let mut merged = std::mem::take(&mut self.merged).into_vec();
        merged.push(active);
        self.merged = merged.into_boxed_slice();
    }

    /// Whether other connections were merged into this entry.
    pub(crate) fn is_merged(&self) -> bool {
        !self.merged.is_empty()
    }

    /// Whether a send still calls it: one of its connections is connected and not blocked.
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire) || self.merged.iter().any(|m| m.load(Ordering::Acquire))
    }

    /// Whether a send now would call it (weak receivers whose target is gone would not).
    pub(crate) fn would_run(&self) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive())
    }
}

/// An entry's callable as stored: of the list's shape, or a by-name receiver's in a list of
/// another shape.
pub(crate) enum Stored<C: ?Sized> {
    Shaped(Arc<C>),
    Named(Arc<ByNameCall>),
}

impl<C: ?Sized> Clone for Stored<C> {
    fn clone(&self) -> Self {
        match self {
            Stored::Shaped(call) => Stored::Shaped(call.clone()),
            Stored::Named(call) => Stored::Named(call.clone()),
        }
    }
}

/// The callables an entry owns.
pub(crate) type Owners<C, A> = (Stored<C>, Option<Arc<A>>);

/// The cold part of an entry.
pub(crate) struct Entry<C: ?Sized, A: ?Sized> {
    pub(crate) meta: EntryMeta,
    async_call: Option<NonNull<A>>,
    /// Touched by the writer only (it takes them when the entry is switched off for good).
    owners: UnsafeCell<Option<Owners<C, A>>>,
}

impl<C: ?Sized, A: ?Sized> Entry<C, A> {
    /// The entry's async callable, when its receiver is async.
    ///
    /// # Safety
    ///
    /// As for [`Hot::shaped_unchecked`]: the caller read the entry's state (in its hot
    /// part) as on or to check, through a snapshot it holds.
    #[inline]
    pub(crate) unsafe fn async_call(&self) -> Option<&A> {
        // SAFETY: alive as in `Hot::shaped_unchecked`, by the caller's contract.
        self.async_call.map(|call| unsafe { call.as_ref() })
    }
}

/// A place for one entry, written once.
type Cell<T> = UnsafeCell<MaybeUninit<T>>;

/// A store of entries: fixed capacity, written once each, shared by the snapshots that list
/// them (see the module docs).
pub(crate) struct Slots<C: ?Sized, A: ?Sized> {
    hot: Box<[Cell<Hot<C>>]>,
    cold: Box<[Cell<Entry<C, A>>]>,
    /// How many entries are written. Changed by the writer only.
    written: AtomicUsize,
    /// How many of them are switched off for good. Changed by the writer only.
    retired: AtomicUsize,
}

// SAFETY: the store hands out shared references to its entries and, through them, to closures
// of types `C: Send + Sync` and `A: Send + Sync` (as the `Arc`s that own them would); the
// pointers it holds are to those closures. Written entries are never written again; the
// writer's own cells are used by one thread at a time (the `unsafe` methods' contracts).
unsafe impl<C: ?Sized + Send + Sync, A: ?Sized + Send + Sync> Send for Slots<C, A> {}
// SAFETY: as for `Send`.
unsafe impl<C: ?Sized + Send + Sync, A: ?Sized + Send + Sync> Sync for Slots<C, A> {}

impl<C: ?Sized, A: ?Sized> Slots<C, A> {
    /// An empty store for `capacity` entries.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Slots {
            hot: (0..capacity)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            cold: (0..capacity)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            written: AtomicUsize::new(0),
            retired: AtomicUsize::new(0),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.hot.len()
    }

    /// How many entries are written: the length of a snapshot made now.
    pub(crate) fn written(&self) -> usize {
        self.written.load(Ordering::Acquire)
    }

    /// How many entries are switched off for good.
    pub(crate) fn retired(&self) -> usize {
        self.retired.load(Ordering::Relaxed)
    }

    /// Writes the next entry, on; returns its index, or `None` when the store is full (then
    /// `owners` and `meta` are dropped: clones of what the connection's record holds, their
    /// drop runs no user code). A store of no capacity is never written: the empty snapshot
    /// that signals share before their first change has one (`snapshot::empty_by_name`).
    ///
    /// # Safety
    ///
    /// One writer at a time: the caller holds the lock that every writer of this store holds.
    pub(crate) unsafe fn push(&self, owners: Owners<C, A>, meta: EntryMeta) -> Option<usize> {
        let index = self.written.load(Ordering::Relaxed);
        if index >= self.capacity() {
            return None;
        }
        let (call, named) = match &owners.0 {
            Stored::Shaped(call) => (
                Pointer {
                    shaped: NonNull::from(&**call),
                },
                0,
            ),
            Stored::Named(call) => (
                Pointer {
                    named: NonNull::from(&**call),
                },
                NAMED,
            ),
        };
        let hot = Hot {
            call,
            state: AtomicU8::new(named | ON),
        };
        let cold = Entry {
            meta,
            async_call: owners.1.as_deref().map(NonNull::from),
            owners: UnsafeCell::new(Some(owners)),
        };
        // SAFETY: `index` is below the capacity and at `written`: no snapshot's length covers
        // it, so no reference to it exists, and the caller is the only writer.
        unsafe {
            (*self.hot[index].get()).write(hot);
            (*self.cold[index].get()).write(cold);
        }
        self.written.store(index + 1, Ordering::Release);
        Some(index)
    }

    /// The first `len` entries' hot parts.
    #[inline]
    pub(crate) fn hot(&self, len: usize) -> &[Hot<C>] {
        // SAFETY: no more than is written.
        unsafe { self.hot_unchecked(len.min(self.written())) }
    }

    /// The first `len` entries' hot parts, without comparing `len` with what is written (a
    /// load a send's fast path saves).
    ///
    /// # Safety
    ///
    /// `len` is at most [`written`](Self::written) (which never decreases): taken from it,
    /// as `ReceiverList` does.
    #[inline]
    pub(crate) unsafe fn hot_unchecked(&self, len: usize) -> &[Hot<C>] {
        // SAFETY: the first `written` entries are initialized and never written again, and
        // `len` is at most `written` (the caller's contract); `UnsafeCell<MaybeUninit<T>>`
        // has `T`'s layout.
        unsafe { std::slice::from_raw_parts(self.hot.as_ptr().cast::<Hot<C>>(), len) }
    }

    /// The first `len` entries' cold parts.
    #[inline]
    pub(crate) fn cold(&self, len: usize) -> &[Entry<C, A>] {
        let len = len.min(self.written());
        // SAFETY: as for `hot`.
        unsafe { std::slice::from_raw_parts(self.cold.as_ptr().cast::<Entry<C, A>>(), len) }
    }

    /// Sets entry `index` (written) to on or off; a by-name entry stays one.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`push`](Self::push) (a load and a store, not one atomic
    /// step: two writers could lose a change).
    pub(crate) unsafe fn set_on(&self, index: usize, on: bool) {
        if let Some(hot) = self.hot(index + 1).get(index) {
            let named = hot.state.load(Ordering::Relaxed) & NAMED;
            hot.state
                .store(named | if on { ON } else { OFF }, Ordering::Release);
        }
    }

    /// Sets every entry that is on to check: the store is abandoned for a rebuilt one.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`set_on`](Self::set_on).
    pub(crate) unsafe fn check_all(&self) {
        for hot in self.hot(usize::MAX) {
            let state = hot.state.load(Ordering::Relaxed);
            if switch(state) == ON {
                hot.state.store(state | CHECK, Ordering::Release);
            }
        }
    }

    /// Switches entry `index` off for good and takes its owners, to be kept by the retired
    /// list of the snapshot it leaves.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`push`](Self::push).
    pub(crate) unsafe fn take_owners(&self, index: usize) -> Option<Owners<C, A>> {
        let entry = self.cold(index + 1).get(index)?;
        // SAFETY: the caller is the only writer.
        unsafe { self.set_on(index, false) };
        // SAFETY: the owners' cell is touched by the writer only, and the caller is it.
        let owners = unsafe { (*entry.owners.get()).take() };
        if owners.is_some() {
            self.retired.fetch_add(1, Ordering::Relaxed);
        }
        owners
    }
}

impl<C: ?Sized, A: ?Sized> Drop for Slots<C, A> {
    /// Drops each written entry; the owners each on their own under `catch_unwind` (a
    /// closure's captures' `Drop` is user code, see [`drop_quietly`]).
    fn drop(&mut self) {
        let written = *self.written.get_mut();
        for index in 0..written {
            // SAFETY: the first `written` entries are initialized, and `&mut self` means no
            // reference to them remains. Each is dropped once.
            let entry = unsafe { self.cold[index].get_mut().assume_init_read() };
            let Entry { meta, owners, .. } = entry;
            drop_quietly(owners.into_inner());
            drop(meta);
            // `Hot` needs no drop: a pointer and an atomic.
        }
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use crate::receiver::{ReceiverId, SourceLocation};
    use std::borrow::Cow;

    pub(super) fn meta(seq: u64) -> EntryMeta {
        EntryMeta::new(
            seq,
            Arc::new(AtomicBool::new(true)),
            Arc::new(ReceiverInfo {
                name: Cow::Borrowed("r"),
                location: SourceLocation {
                    file: "f",
                    line: 1,
                    column: 1,
                },
                plugin: None,
                id: ReceiverId::Unique(seq),
                weak: false,
                is_async: false,
            }),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::meta;
    use super::*;

    type Call = dyn Fn(usize) -> usize + Send + Sync;
    type AsyncCall = dyn Fn() -> usize + Send + Sync;

    #[test]
    fn entries_are_written_once_and_read_up_to_a_length() {
        let captured = Arc::new(100usize);
        let held = captured.clone();
        let slots: Slots<Call, AsyncCall> = Slots::with_capacity(2);
        let first: Arc<Call> = Arc::new(|x| x + 1);
        let second: Arc<Call> = Arc::new(move |x| x + *held);
        let async_second: Arc<AsyncCall> = Arc::new(|| 7);
        // SAFETY: this test is the only writer.
        unsafe {
            assert_eq!(slots.push((Stored::Shaped(first), None), meta(0)), Some(0));
            assert_eq!(
                slots.push((Stored::Shaped(second), Some(async_second)), meta(1)),
                Some(1)
            );
            assert!(slots
                .push((Stored::Shaped(Arc::new(|x| x)), None), meta(2))
                .is_none());
        }
        assert_eq!(slots.written(), 2);
        let call = |h: &Hot<Call>| match h.callee() {
            Some(Callee::Shaped(f)) => f(1),
            _ => 0,
        };
        let calls: Vec<usize> = slots.hot(1).iter().map(call).collect();
        assert_eq!(calls, [2], "a length of one sees one entry");
        let calls: Vec<usize> = slots.hot(9).iter().map(call).collect();
        assert_eq!(calls, [2, 101], "never more than written");
        // SAFETY: both entries are on, and nothing was retired.
        unsafe {
            assert_eq!(slots.cold(2)[1].async_call().map(|f| f()), Some(7));
            assert!(slots.cold(2)[0].async_call().is_none());
        }
        // SAFETY: the only writer.
        unsafe {
            slots.set_on(0, false);
            slots.check_all();
        }
        assert_eq!(slots.hot(2)[0].state(), OFF);
        assert_eq!(
            slots.hot(2).iter().map(Hot::state).collect::<Vec<_>>(),
            [OFF, CHECK]
        );
        // SAFETY: the only writer.
        let owners = unsafe { slots.take_owners(1) };
        assert!(owners.is_some());
        assert_eq!(slots.retired(), 1);
        assert_eq!(slots.hot(2)[1].state(), OFF);
        assert_eq!(Arc::strong_count(&captured), 2, "the taken owners hold it");
        drop(owners);
        assert_eq!(Arc::strong_count(&captured), 1);
        drop(slots);
    }
}

#[cfg(test)]
mod named_tests {
    use super::tests_support::meta;
    use super::*;
    use crate::kwargs::Kwargs;
    use crate::receiver::CallResult;
    use crate::sender::SenderKey;

    type Call = dyn Fn(usize) -> usize + Send + Sync;

    #[test]
    fn a_by_name_entry_stays_one_through_blocks_and_a_rebuild() {
        let slots: Slots<Call, Call> = Slots::with_capacity(2);
        let named: Arc<ByNameCall> =
            Arc::new(|_: &SenderKey<'_>, _: &dyn Kwargs| CallResult::NoValue);
        // SAFETY: this test is the only writer.
        unsafe {
            assert_eq!(slots.push((Stored::Named(named), None), meta(0)), Some(0));
            assert_eq!(
                slots.push((Stored::Shaped(Arc::new(|x| x)), None), meta(1)),
                Some(1)
            );
        }
        let hot = slots.hot(2);
        assert_eq!(hot[0].state(), NAMED | ON);
        // SAFETY: the only writer.
        unsafe { slots.set_on(0, false) };
        assert_eq!(hot[0].state(), NAMED | OFF);
        // SAFETY: the only writer.
        unsafe { slots.set_on(0, true) };
        assert_eq!(hot[0].state(), NAMED | ON);
        // SAFETY: the only writer.
        unsafe { slots.check_all() };
        assert_eq!(hot[0].state(), NAMED | CHECK);
        assert_eq!(hot[1].state(), CHECK);
        assert!(matches!(hot[0].callee(), Some(Callee::Named(_))));
        assert!(matches!(hot[1].callee(), Some(Callee::Shaped(_))));
        // SAFETY: the only writer.
        unsafe { slots.set_on(1, false) };
        assert!(
            hot[1].callee().is_none(),
            "an entry that is off gives no callable"
        );
    }
}
