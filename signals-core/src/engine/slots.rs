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
//!   snapshot through the lock the writer swapped it into after writing its entries
//!   (`SignalCore::current_snapshot`): every entry a sender reads was written before.
//! - What changes after an entry is written is its state: on (call it), off (skip it), or
//!   check (ask its connection, `EntryMeta::is_active`). It is kept twice, by the writer: as
//!   a byte in the cold part, for everything but a send, and as the vtable in the hot part
//!   (`callable.rs`), which a send calls without testing anything first: the entry's own
//!   while it is on, one that answers `CallResult::Off` or `CallResult::Check` without
//!   touching the closure otherwise. The entries of a store that a rebuild abandoned are all
//!   set to check: a send still running over it then follows the connections, which the
//!   changes made after the rebuild update.
//! - The closures an entry calls are owned by the store, in a cell only the writer touches.
//!   An entry switched off for good (its connection removed) gives its closures to the
//!   snapshot it leaves (`retire.rs`): they are dropped once no snapshot that may still call
//!   them remains, as when a list was copied on every change. An entry never switched off
//!   for good keeps its closures until the store is dropped.
//!
//! The hot part of an entry (the closure's pointer and the vtable, 16 bytes, all a send
//! touches) lies in one contiguous array; the rest (its state, description, connection flags,
//! own vtable, async callable and owners) in another.

use std::any::Any;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::engine::callable::{Callable, Vt};
use crate::engine::signal::Alive;
use crate::engine::sync::{AtomicBool, AtomicPtr, AtomicU8};
use crate::future::drop_quietly;
use crate::receiver::{CallResult, ReceiverInfo};

/// An entry's state: call it.
pub(crate) const ON: u8 = 0;
/// An entry's state: skip it (blocked, or disconnected).
pub(crate) const OFF: u8 = 1;
/// An entry's state: ask its connections (the list was rebuilt since).
pub(crate) const CHECK: u8 = 2;

/// What a send reads of an entry: the closure's pointer and the vtable to call it with, its
/// own while the entry is on, [`Vt::OFF`] or [`Vt::CHECK`] otherwise (which answer
/// [`CallResult::Off`] and [`CallResult::Check`] without touching the closure). The state
/// itself is in the entry's cold part ([`Entry::state`]), for everything but the send.
pub(crate) struct Hot<I, O> {
    vt: AtomicPtr<Vt<I, O>>,
    data: NonNull<()>,
}

impl<I, O> Hot<I, O> {
    /// Calls the entry with `input`: [`CallResult::Off`] when it is off, and
    /// [`CallResult::Check`] when it must be checked first (then see
    /// `ReceiverList::call_checked`).
    #[inline(always)]
    pub(crate) fn call(&self, input: &I) -> CallResult<O> {
        let vt = self.vt.load(Ordering::Acquire);
        // SAFETY: `vt` is a `&'static Vt` (`Slots::push`, `Slots::switch`). Either it is
        // `Vt::OFF` or `Vt::CHECK`, which never read `data`, or it is the entry's own, read
        // through a snapshot the caller holds (every `&Hot` comes from a list of a snapshot):
        // the entry was on when read, and its closure is alive. The owners leave the store only
        // when the entry is switched off for good (`Slots::take_owners`), for the retired list
        // of the snapshot then replaced, and that list lives as long as any snapshot published
        // before it (each holds the next one's list, `retire.rs`). A snapshot published after
        // can reach the entry too, but the entry was off before that snapshot was published
        // (under the signal's mutex, before the swap under the lock the caller read it
        // through) and stays off.
        unsafe { (*vt).call(self.data, input) }
    }
}

/// What a send needs of a receiver besides its callable: its description (for a failure, a
/// value collected, introspection) and its connections' flags (for an entry to check).
pub(crate) struct EntryMeta {
    /// The connection (its sequence number) the entry was made for, first of those merged.
    pub(crate) seq: u64,
    active: Arc<AtomicBool>,
    /// The flags of the other connections of the same receiver merged into this entry (for
    /// every sender and for this one): it is called while any of them is active. Boxed, one
    /// word: few entries have any.
    #[expect(
        clippy::box_collection,
        reason = "a `Vec` takes three words in every entry, a box one"
    )]
    merged: Option<Box<Vec<Arc<AtomicBool>>>>,
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
            merged: None,
            info,
            alive,
        }
    }

    /// Adds another connection of the same receiver to this entry.
    pub(crate) fn merge(&mut self, active: Arc<AtomicBool>) {
        self.merged.get_or_insert_default().push(active);
    }

    /// Whether other connections were merged into this entry.
    pub(crate) fn is_merged(&self) -> bool {
        self.merged.is_some()
    }

    /// Whether a send still calls it: one of its connections is connected and not blocked.
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
            || self
                .merged
                .iter()
                .flat_map(|merged| merged.iter())
                .any(|m| m.load(Ordering::Acquire))
    }

    /// Whether a send now would call it (weak receivers whose target is gone would not).
    pub(crate) fn would_run(&self) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive())
    }
}

/// The closures an entry owns: its sync callable's, and its async callable.
pub(crate) type Owners<A> = (Arc<dyn Any + Send + Sync>, Option<Arc<A>>);

/// The cold part of an entry.
pub(crate) struct Entry<I: 'static, O: 'static, A: ?Sized> {
    pub(crate) meta: EntryMeta,
    /// [`ON`], [`OFF`] or [`CHECK`]: what the hot part's vtable stands for.
    state: AtomicU8,
    /// The entry's own vtable, which the hot part holds while it is on.
    vt: &'static Vt<I, O>,
    /// An async receiver's callable. Boxed, one word: few receivers are async.
    async_part: Option<Box<AsyncPart<A>>>,
    /// What keeps the sync callable's closure alive. Touched by the writer only (it takes it,
    /// with the async part's owner, when the entry is switched off for good).
    owner: UnsafeCell<Option<Arc<dyn Any + Send + Sync>>>,
}

/// An async receiver's callable in an entry, and what keeps it alive.
struct AsyncPart<A: ?Sized> {
    /// The callable, inside `owner` (or inside the owner the writer took, kept alive by the
    /// retired list as long as a snapshot that may call it remains).
    call: NonNull<A>,
    /// Touched by the writer only, as [`Entry::owner`] is.
    owner: UnsafeCell<Option<Arc<A>>>,
}

impl<I: 'static, O: 'static, A: ?Sized> Entry<I, O, A> {
    /// [`ON`], [`OFF`] or [`CHECK`].
    #[inline]
    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// The entry's async callable, when its receiver is async.
    ///
    /// # Safety
    ///
    /// The caller read the entry's state as on or to check, through a snapshot it holds (see
    /// [`Hot::call`] for why the closure is then alive).
    #[inline]
    pub(crate) unsafe fn async_call(&self) -> Option<&A> {
        // SAFETY: alive as in `Hot::call`, by the caller's contract.
        self.async_part
            .as_ref()
            .map(|part| unsafe { part.call.as_ref() })
    }

    /// Calls the entry's own closure, whatever the hot part's vtable says: for an entry to
    /// check, once its connections said it is active.
    ///
    /// # Safety
    ///
    /// `hot` is this entry's hot part, and the caller read the state as to check, through a
    /// snapshot it holds: the entry was in a store a rebuild abandoned, whose entries keep
    /// their closures until it is dropped (nothing is switched off for good in it any more).
    pub(crate) unsafe fn call_own(&self, hot: &Hot<I, O>, input: &I) -> CallResult<O> {
        // SAFETY: `vt` and `data` were written together (`Slots::push`); alive by the
        // caller's contract.
        unsafe { self.vt.call(hot.data, input) }
    }
}

/// A place for one entry, written once.
type Cell<T> = UnsafeCell<MaybeUninit<T>>;

/// A store of entries: fixed capacity, written once each, shared by the snapshots that list
/// them (see the module docs).
pub(crate) struct Slots<I: 'static, O: 'static, A: ?Sized> {
    hot: Box<[Cell<Hot<I, O>>]>,
    cold: Box<[Cell<Entry<I, O, A>>]>,
    /// How many entries are written. Changed by the writer only.
    written: AtomicUsize,
    /// How many of them are switched off for good. Changed by the writer only.
    retired: AtomicUsize,
    /// Whether any entry written is (or was, before it was switched off) a by-name receiver's:
    /// a typed send then makes the key of the by-name view of its arguments once, for all of
    /// them (`typed/dispatch.rs`). Set by the writer after it writes such an entry, before it
    /// makes the snapshot that lists it; never cleared (a rebuild makes a new store).
    by_name: std::sync::atomic::AtomicBool,
}

// SAFETY: the store hands out shared references to its entries and, through them, calls to
// closures that are `Send + Sync` (a `Callable`'s) and references to closures of type
// `A: Send + Sync` (as the `Arc`s that own them would); the pointers it holds are to those
// closures. Written entries are never written again but for their atomics; the writer's own
// cells are used by one thread at a time (the `unsafe` methods' contracts).
unsafe impl<I: 'static, O: 'static, A: ?Sized + Send + Sync> Send for Slots<I, O, A> {}
// SAFETY: as for `Send`.
unsafe impl<I: 'static, O: 'static, A: ?Sized + Send + Sync> Sync for Slots<I, O, A> {}

impl<I: 'static, O: 'static, A: ?Sized> Slots<I, O, A> {
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
            by_name: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Notes that a by-name receiver's entry was written (see `by_name`).
    pub(crate) fn note_by_name(&self) {
        self.by_name.store(true, Ordering::Release);
    }

    /// Whether a by-name receiver's entry may be among those written.
    #[inline]
    pub(crate) fn has_by_name(&self) -> bool {
        self.by_name.load(Ordering::Acquire)
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
    /// the callables and `meta` are dropped: clones of what the connection's record holds,
    /// their drop runs no user code). A store of no capacity is never written: the empty
    /// snapshot that signals share before their first change has one
    /// (`snapshot::empty_by_name`).
    ///
    /// # Safety
    ///
    /// One writer at a time: the caller holds the lock that every writer of this store holds.
    pub(crate) unsafe fn push(
        &self,
        call: Callable<I, O>,
        async_call: Option<Arc<A>>,
        meta: EntryMeta,
    ) -> Option<usize> {
        let index = self.written.load(Ordering::Relaxed);
        if index >= self.capacity() {
            return None;
        }
        let (data, vt, owner) = call.into_parts();
        let hot = Hot {
            vt: AtomicPtr::new(as_ptr(vt)),
            data,
        };
        let cold = Entry {
            meta,
            state: AtomicU8::new(ON),
            vt,
            async_part: async_call.map(|owner| {
                Box::new(AsyncPart {
                    call: NonNull::from(&*owner),
                    owner: UnsafeCell::new(Some(owner)),
                })
            }),
            owner: UnsafeCell::new(Some(owner)),
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
    pub(crate) fn hot(&self, len: usize) -> &[Hot<I, O>] {
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
    pub(crate) unsafe fn hot_unchecked(&self, len: usize) -> &[Hot<I, O>] {
        // SAFETY: the first `written` entries are initialized and never written again but for
        // their atomics, and `len` is at most `written` (the caller's contract);
        // `UnsafeCell<MaybeUninit<T>>` has `T`'s layout.
        unsafe { std::slice::from_raw_parts(self.hot.as_ptr().cast::<Hot<I, O>>(), len) }
    }

    /// The first `len` entries' cold parts.
    #[inline]
    pub(crate) fn cold(&self, len: usize) -> &[Entry<I, O, A>] {
        let len = len.min(self.written());
        // SAFETY: as for `hot`.
        unsafe { std::slice::from_raw_parts(self.cold.as_ptr().cast::<Entry<I, O, A>>(), len) }
    }

    /// Sets written entry `index` to `state`: the state in its cold part, and the vtable
    /// that stands for it in its hot part.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`push`](Self::push).
    unsafe fn switch(&self, index: usize, state: u8) {
        let (Some(hot), Some(cold)) = (
            self.hot(index + 1).get(index),
            self.cold(index + 1).get(index),
        ) else {
            return;
        };
        let vt = match state {
            ON => cold.vt,
            OFF => Vt::OFF,
            _ => Vt::CHECK,
        };
        cold.state.store(state, Ordering::Release);
        hot.vt.store(as_ptr(vt), Ordering::Release);
    }

    /// Sets entry `index` (written) to on or off.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`push`](Self::push).
    pub(crate) unsafe fn set_on(&self, index: usize, on: bool) {
        // SAFETY: by the caller's contract.
        unsafe { self.switch(index, if on { ON } else { OFF }) }
    }

    /// Sets every entry that is on to check: the store is abandoned for a rebuilt one.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`set_on`](Self::set_on).
    pub(crate) unsafe fn check_all(&self) {
        for (index, entry) in self.cold(usize::MAX).iter().enumerate() {
            if entry.state.load(Ordering::Relaxed) == ON {
                // SAFETY: by the caller's contract.
                unsafe { self.switch(index, CHECK) };
            }
        }
    }

    /// Switches entry `index` off for good and takes its owners, to be kept by the retired
    /// list of the snapshot it leaves.
    ///
    /// # Safety
    ///
    /// One writer at a time, as for [`push`](Self::push).
    pub(crate) unsafe fn take_owners(&self, index: usize) -> Option<Owners<A>> {
        let entry = self.cold(index + 1).get(index)?;
        // SAFETY: the caller is the only writer.
        unsafe { self.set_on(index, false) };
        // SAFETY: the owners' cells are touched by the writer only, and the caller is it.
        let (owner, async_owner) = unsafe {
            (
                (*entry.owner.get()).take(),
                entry
                    .async_part
                    .as_ref()
                    .and_then(|part| (*part.owner.get()).take()),
            )
        };
        let owners = owner.map(|owner| (owner, async_owner));
        if owners.is_some() {
            self.retired.fetch_add(1, Ordering::Relaxed);
        }
        owners
    }
}

/// A vtable as the atomic of a hot part holds it (never written through).
fn as_ptr<I: 'static, O: 'static>(vt: &'static Vt<I, O>) -> *mut Vt<I, O> {
    std::ptr::from_ref(vt).cast_mut()
}

impl<I: 'static, O: 'static, A: ?Sized> Drop for Slots<I, O, A> {
    /// Drops each written entry; the owners each on their own under `catch_unwind` (a
    /// closure's captures' `Drop` is user code, see [`drop_quietly`]).
    fn drop(&mut self) {
        let written = *self.written.get_mut();
        for index in 0..written {
            // SAFETY: the first `written` entries are initialized, and `&mut self` means no
            // reference to them remains. Each is dropped once.
            let entry = unsafe { self.cold[index].get_mut().assume_init_read() };
            let Entry {
                meta,
                owner,
                async_part,
                ..
            } = entry;
            drop_quietly(owner.into_inner());
            drop_quietly(async_part);
            drop(meta);
            // `Hot` needs no drop: two pointers.
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

    type AsyncCall = dyn Fn() -> usize + Send + Sync;

    fn callable(f: impl Fn(usize) -> usize + Send + Sync + 'static) -> Callable<usize, usize> {
        Callable::new(move |x: &usize| CallResult::Value(f(*x)))
    }

    fn value(outcome: CallResult<usize>) -> Option<usize> {
        match outcome {
            CallResult::Value(value) => Some(value),
            CallResult::Off => None,
            _ => panic!("neither a value nor off"),
        }
    }

    #[test]
    fn entries_are_written_once_and_read_up_to_a_length() {
        let captured = Arc::new(100usize);
        let held = captured.clone();
        let slots: Slots<usize, usize, AsyncCall> = Slots::with_capacity(2);
        let async_second: Arc<AsyncCall> = Arc::new(|| 7);
        // SAFETY: this test is the only writer.
        unsafe {
            assert_eq!(slots.push(callable(|x| x + 1), None, meta(0)), Some(0));
            assert_eq!(
                slots.push(callable(move |x| x + *held), Some(async_second), meta(1)),
                Some(1)
            );
            assert!(slots.push(callable(|x| x), None, meta(2)).is_none());
        }
        assert_eq!(slots.written(), 2);
        let calls: Vec<_> = slots.hot(1).iter().map(|h| value(h.call(&1))).collect();
        assert_eq!(calls, [Some(2)], "a length of one sees one entry");
        let calls: Vec<_> = slots.hot(9).iter().map(|h| value(h.call(&1))).collect();
        assert_eq!(calls, [Some(2), Some(101)], "never more than written");
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
        let states: Vec<u8> = slots.cold(2).iter().map(Entry::state).collect();
        assert_eq!(states, [OFF, CHECK]);
        assert!(matches!(slots.hot(2)[0].call(&1), CallResult::Off));
        assert!(matches!(slots.hot(2)[1].call(&1), CallResult::Check));
        // SAFETY: the entry is to check, and this test holds the store.
        let own = unsafe { slots.cold(2)[1].call_own(&slots.hot(2)[1], &1) };
        assert_eq!(
            value(own),
            Some(101),
            "its own closure, whatever the hot part says"
        );
        // SAFETY: the only writer.
        let owners = unsafe { slots.take_owners(1) };
        assert!(owners.is_some());
        assert_eq!(slots.retired(), 1);
        assert_eq!(slots.cold(2)[1].state(), OFF);
        assert!(matches!(slots.hot(2)[1].call(&1), CallResult::Off));
        assert_eq!(Arc::strong_count(&captured), 2, "the taken owners hold it");
        drop(owners);
        assert_eq!(Arc::strong_count(&captured), 1);
        drop(slots);
    }

    #[test]
    fn an_entry_switched_back_on_calls_its_own_closure() {
        let slots: Slots<usize, usize, AsyncCall> = Slots::with_capacity(2);
        // SAFETY: this test is the only writer.
        unsafe {
            slots.push(callable(|x| x * 10), None, meta(0));
            slots.push(callable(|x| x * 100), None, meta(1));
        }
        let hot = slots.hot(2);
        // SAFETY: the only writer.
        unsafe { slots.set_on(0, false) };
        assert_eq!(value(hot[0].call(&2)), None);
        assert_eq!(value(hot[1].call(&2)), Some(200));
        // SAFETY: the only writer.
        unsafe { slots.set_on(0, true) };
        assert_eq!(value(hot[0].call(&2)), Some(20));
        assert_eq!(slots.cold(2)[0].state(), ON);
    }
}
