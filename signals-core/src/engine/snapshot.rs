//! The receiver lists of a signal at one moment, and how a send finds the current one
//! without a lock in steady state.
//!
//! A snapshot holds, for a signal, the list of receivers for "any sender" and one list per
//! sender that some receiver filters on, already merged with the any-sender receivers in
//! connection order and with duplicates removed. A send only reads.
//!
//! # What a change does
//!
//! A change publishes a new snapshot, and in the common cases it does so without copying the
//! lists (`slots.rs`): a connection for every sender is appended to the store the snapshots
//! share, and a disconnection or a block switches its entry off in place, whatever the number
//! of receivers. The lists are built anew from the connection records ([`Snapshot::build`])
//! when some receiver filters on a sender, when the same receiver is connected twice (its
//! entries merge), when the store is full, and when half of it is switched off (which
//! compacts it).
//!
//! # Finding the snapshot
//!
//! Each thread keeps its last snapshot of each signal. A change that publishes a new snapshot
//! (under the signal's mutex) swaps it into the lock sends fetch it from
//! (`SignalCore::current_snapshot`, write-locked for the swap alone), then marks the one it
//! replaces. A send loads its cached snapshot's mark (one atomic load, no write); while it is
//! clear, the cached snapshot is current and is used under a shared borrow of the thread's
//! cache (a thread-local count, not a shared one). Otherwise the send fetches the new
//! snapshot under that lock's read side, not the state mutex: it never waits for a change on
//! another thread, at most for the swap of a pointer. A snapshot is marked only once and
//! never unmarked, so no stale snapshot can pass for current, however the fetch and the
//! changes interleave; and as the new snapshot is swapped in before the old one is marked, a
//! send that sees the mark fetches the new one (or a newer) at once.
//!
//! A send in progress learns of changes from each entry's vtable, which it reads for the
//! call (`slots.rs`): an entry switched off answers that it is off and is passed over, and the entries of a list built
//! anew since are checked against their connections. So a receiver disconnected or blocked
//! during a send (by a receiver, by a `Drop` the send ran, or by another thread) is not called
//! after that, and one connected during the send is not called by it. A re-entrant send cannot
//! replace the snapshot an outer send is iterating: the outer send's borrow forbids it, and
//! the nested send then uses the fresh snapshot without caching it.
//!
//! The cost of this: a thread that stops sending keeps its last snapshot alive until it sends
//! that signal again while it has a receiver, or exits; and with it the closures it may call,
//! those of receivers disconnected since from the store it shares included (`retire.rs`).

use std::any::Any;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};

use crate::engine::callable::Callable;
use crate::engine::retire::{self, Retired};
use crate::engine::signal::{AsyncByNameCall, AsyncRecordFn, ByNameInput, Record, RecordFn};
pub(crate) use crate::engine::slots::EntryMeta;
use crate::engine::slots::{Entry, Hot, Slots, CHECK, OFF, ON};
use crate::engine::sync::AtomicBool;
use crate::error::Error;
use crate::future::BoxFuture;
use crate::receiver::{typed_in_by_name_send, AnyValue, CallResult, ReceiverId, ReceiverInfo};
use crate::report::{Response, SendReport};
use crate::sender::SenderKey;

/// A snapshot as stored and cached: shared between threads, read-only.
pub(crate) type SharedSnapshot = Arc<dyn ErasedSnapshot>;

/// The receivers one send calls, in order: the first `len` entries of a store that the
/// snapshots of the signal share (see `slots.rs`). The callables a send reads lie in one
/// contiguous array, their descriptions and async callables in another.
///
/// An async receiver has its place in the list like any receiver, so connection order is one
/// list: its callable is a shim that reports it cannot run in a sync send, and its entry
/// holds what an async send awaits.
pub(crate) struct ReceiverList<I: 'static, O: 'static, A: ?Sized> {
    slots: Arc<Slots<I, O, A>>,
    len: usize,
}

impl<I: 'static, O: 'static, A: ?Sized> ReceiverList<I, O, A> {
    /// The list of every entry `slots` holds now.
    fn of(slots: Arc<Slots<I, O, A>>) -> Self {
        let len = slots.written();
        ReceiverList { slots, len }
    }

    /// What a send reads of each entry, in order.
    #[inline]
    pub(crate) fn hot(&self) -> &[Hot<I, O>] {
        // SAFETY: `len` was taken from the store's `written` (`of`), which never decreases.
        unsafe { self.slots.hot_unchecked(self.len) }
    }

    /// Each entry's description and async callable, in order.
    #[inline]
    pub(crate) fn entries(&self) -> &[Entry<I, O, A>] {
        self.slots.cold(self.len)
    }

    /// Whether a by-name receiver's entry may be in the list (one was written to its store,
    /// and may have been switched off since: the store keeps saying so until it is rebuilt).
    #[inline]
    pub(crate) fn has_by_name(&self) -> bool {
        self.slots.has_by_name()
    }

    /// How many entries (some may be off).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The description of entry `index`; panics if out of bounds, as a slice does.
    #[inline]
    pub(crate) fn meta(&self, index: usize) -> &EntryMeta {
        &self.entries()[index].meta
    }

    /// The async callable at `index`, when that receiver is async and its entry is not off.
    #[inline]
    pub(crate) fn async_at(&self, index: usize) -> Option<&A> {
        let entry = self.entries().get(index)?;
        if entry.state() == OFF {
            return None;
        }
        // SAFETY: the state was just read as on or to check, through this list.
        unsafe { entry.async_call() }
    }

    /// Whether entry `index` would be called now: on, or (in a list a rebuild abandoned)
    /// still connected.
    pub(crate) fn is_active(&self, index: usize) -> bool {
        match self.entries().get(index).map(Entry::state) {
            Some(ON) => true,
            Some(CHECK) => self.meta(index).is_active(),
            _ => false,
        }
    }

    /// Calls entry `index` with `input` off the fast loop: an entry to check is called if
    /// its connections say it is active, and is [`CallResult::Off`] otherwise. Panics if
    /// `index` is out of bounds, as a slice does.
    pub(crate) fn call_checked(&self, index: usize, input: &I) -> CallResult<O> {
        let hot = &self.hot()[index];
        match hot.call(input) {
            CallResult::Check => {
                let entry = &self.entries()[index];
                if !entry.meta.is_active() {
                    return CallResult::Off;
                }
                // SAFETY: `hot` was read as to check, through this list, of a snapshot the
                // caller holds.
                unsafe { entry.call_own(hot, input) }
            }
            outcome => outcome,
        }
    }

    /// The descriptions of the entries a send would call now, with the indices.
    fn running(&self) -> impl Iterator<Item = &EntryMeta> {
        (0..self.len)
            .filter(|&index| self.is_active(index))
            .map(|index| self.meta(index))
            .filter(|meta| meta.would_run())
    }
}

struct SenderList<I: 'static, O: 'static, A: ?Sized> {
    key: SenderKey<'static>,
    hash: u64,
    receivers: ReceiverList<I, O, A>,
}

/// How the receivers of one kind of signal are stored and called. The engine defines the
/// by-name shape; the typed layer adds one per signal struct.
pub(crate) trait Shape: 'static + Sized {
    /// What a send gives each receiver: the sender and the arguments, behind one pointer.
    type Input: 'static;
    /// What a receiver gives back.
    type Output: 'static;
    /// The stored callable of an async receiver.
    type AsyncCall: ?Sized + Send + Sync;

    /// The callable for `record` in this shape, or `None` when it cannot be called in it.
    fn adapt(record: &Record) -> Option<Callable<Self::Input, Self::Output>>;

    /// The async callable for `record`, when it is an async receiver.
    fn adapt_async(record: &Record) -> Option<Arc<Self::AsyncCall>>;
}

/// The receivers of a signal that no struct declares: each takes the sender's key and the bag.
///
/// Also the by-name view of a declared signal's receivers, for a bag that is not its struct
/// (`SignalCore::by_name_view`): a typed receiver cannot take it, and is there as a shim
/// that reports so (a signal no struct declares has no typed receiver).
pub(crate) struct ByNameShape;

impl Shape for ByNameShape {
    type Input = ByNameInput;
    type Output = AnyValue;
    type AsyncCall = AsyncByNameCall;

    fn adapt(record: &Record) -> Option<Callable<ByNameInput, AnyValue>> {
        Some(match &record.func {
            RecordFn::ByName(f) => f.call().clone(),
            RecordFn::Struct(_) => Callable::new(|_: &ByNameInput| typed_in_by_name_send()),
        })
    }

    fn adapt_async(record: &Record) -> Option<Arc<AsyncByNameCall>> {
        match record.async_func.as_deref()? {
            AsyncRecordFn::ByName(f) => Some(f.clone()),
            AsyncRecordFn::Struct(_) => None,
        }
    }
}

/// The receivers of one signal at one moment.
pub(crate) struct Snapshot<Sh: Shape> {
    any: ReceiverList<Sh::Input, Sh::Output, Sh::AsyncCall>,
    by_sender: HashTable<SenderList<Sh::Input, Sh::Output, Sh::AsyncCall>>,
    /// Set when a newer snapshot is published: a thread's cache then fetches the new one.
    replaced: AtomicBool,
    /// Whether any receiver is weakly bound: sends then take a share of the sweep for dead
    /// ones (see `SignalCore::sweep_now_and_then`).
    weak: bool,
    /// No receiver is weakly bound, none filters on a sender, and the list for every sender
    /// has no by-name receiver's entry: a typed send then only calls that list
    /// ([`plain_list`](Self::plain_list)).
    plain: bool,
    /// The closures of the entries switched off for good while this snapshot was current,
    /// and (through it) those of the snapshots after (see `retire.rs`). Made when a change
    /// first needs it: most signals never change after start-up.
    retired: OnceLock<Arc<Retired>>,
}

/// The hash of a receiver's identity, kept in its record for the builds' duplicate check.
pub(crate) fn hash_id(id: &ReceiverId) -> u64 {
    let state = FixedState::with_seed(0x5157_4e41_4c53);
    match id {
        // A function's receivers of one kwarg hash as the function does: `disconnect(&f)`
        // finds them through the index (see `ReceiverId::is_named_by`).
        ReceiverId::Kwarg(kwarg) => state.hash_one(ReceiverId::Fn(kwarg.0)),
        id => state.hash_one(id),
    }
}

/// The hash of a sender key in a snapshot's table: one write of the key's value (the derived
/// `Hash` also writes the variant and a string terminator, which costs a filtered send a
/// third of its time). Keys of different variants with the same value collide, and `==`
/// tells them apart.
fn hash_key(key: &SenderKey<'_>) -> u64 {
    let mut hasher = FixedState::with_seed(0x5157_4e41_4c53).build_hasher();
    match key {
        SenderKey::None => hasher.write_u8(0),
        SenderKey::Int(value) => hasher.write_i128(*value),
        SenderKey::Str(value) => hasher.write(value.as_bytes()),
        SenderKey::Id(value) => hasher.write_u64(*value),
    }
    hasher.finish()
}

impl<Sh: Shape> Snapshot<Sh> {
    /// The snapshot of `records` (in connection order), built from nothing: the list for
    /// every sender in a store with room to append (see [`appended`](ErasedSnapshot::appended)).
    pub(crate) fn build(records: &[&Record]) -> Self {
        let adapted: Vec<Adapted<'_, Sh::Input, Sh::Output, Sh::AsyncCall>> = records
            .iter()
            .filter(|r| r.blocks == 0)
            .filter_map(|r| Some((*r, Sh::adapt(r)?, Sh::adapt_async(r))))
            .collect();
        // The records for every sender, and those of each sender some record filters on, by
        // index into `adapted` (so in connection order): one pass, whatever the number of
        // senders.
        let mut for_any = Vec::new();
        let mut for_one: HashTable<(u64, &SenderKey<'static>, Vec<usize>)> = HashTable::new();
        for (index, (record, _, _)) in adapted.iter().enumerate() {
            match record.filter.only() {
                None => for_any.push(index),
                Some(key) => {
                    let hash = hash_key(key);
                    match for_one.find_mut(hash, |(h, k, _)| *h == hash && *k == key) {
                        Some((_, _, indices)) => indices.push(index),
                        None => {
                            for_one.insert_unique(hash, (hash, key, vec![index]), |(h, _, _)| *h);
                        }
                    }
                }
            }
        }
        // Room to append to the list for every sender: half as many again (a change appends
        // only while no receiver filters on a sender, so the other lists get none). None for
        // a signal without receivers: most signals never get one.
        let any = merged(&adapted, &for_any, |len| match len {
            0 if records.is_empty() => 0,
            len => len + len / 2 + 4,
        });
        let mut by_sender: HashTable<SenderList<Sh::Input, Sh::Output, Sh::AsyncCall>> =
            HashTable::with_capacity(for_one.len());
        for (hash, key, own) in for_one {
            let receivers = merged(&adapted, &in_connection_order(&for_any, &own), |len| len);
            let list = SenderList {
                key: key.clone(),
                hash,
                receivers,
            };
            by_sender.insert_unique(hash, list, |l| l.hash);
        }
        let weak = records.iter().any(|r| r.alive.is_some());
        Snapshot {
            plain: !weak && by_sender.is_empty() && !any.has_by_name(),
            any,
            by_sender,
            replaced: AtomicBool::new(false),
            weak,
            retired: OnceLock::new(),
        }
    }

    /// The snapshot after this one, over the same store, with `weak` receivers or not; this
    /// one's retired list keeps `retired` and links the new one's.
    fn successor(&self, weak: bool, retired: Vec<retire::Item>) -> SharedSnapshot {
        let next_retired = Arc::<Retired>::default();
        let any = ReceiverList::of(self.any.slots.clone());
        let next = Snapshot::<Sh> {
            plain: !weak && !any.has_by_name(),
            any,
            by_sender: HashTable::new(),
            replaced: AtomicBool::new(false),
            weak,
            retired: OnceLock::from(next_retired.clone()),
        };
        self.retired
            .get_or_init(Arc::default)
            .hand_over(retired, next_retired);
        Arc::new(next)
    }

    /// Whether any receiver is weakly bound.
    #[inline]
    pub(crate) fn has_weak(&self) -> bool {
        self.weak
    }

    /// The list for every sender, when that is all a send needs to know (see `plain`).
    #[inline(always)]
    pub(crate) fn plain_list(&self) -> Option<&ReceiverList<Sh::Input, Sh::Output, Sh::AsyncCall>> {
        self.plain.then_some(&self.any)
    }

    /// The receivers a send from `key` calls, in order.
    pub(crate) fn receivers_for_key(
        &self,
        key: &SenderKey<'_>,
    ) -> &ReceiverList<Sh::Input, Sh::Output, Sh::AsyncCall> {
        self.receivers_for_with(|| key.reborrow())
    }

    /// Like [`receivers_for_key`](Self::receivers_for_key), computing the key only when some
    /// receiver filters on a sender.
    #[inline]
    pub(crate) fn receivers_for_with<'k>(
        &self,
        key: impl FnOnce() -> SenderKey<'k>,
    ) -> &ReceiverList<Sh::Input, Sh::Output, Sh::AsyncCall> {
        if self.by_sender.is_empty() {
            return &self.any;
        }
        let key = key();
        let hash = hash_key(&key);
        // The whole hash first: a key comparison is a call to `bcmp` for a string key.
        match self
            .by_sender
            .find(hash, |l| l.hash == hash && l.key == key)
        {
            Some(list) => &list.receivers,
            None => &self.any,
        }
    }
}

/// A record with its callables adapted to a shape.
type Adapted<'r, I, O, A> = (&'r Record, Callable<I, O>, Option<Arc<A>>);

/// An entry of a list being built, before it is written to its store.
struct NewEntry<I: 'static, O: 'static, A: ?Sized> {
    call: Callable<I, O>,
    async_call: Option<Arc<A>>,
    meta: EntryMeta,
    /// Whether it is a by-name receiver's (`Slots::note_by_name`).
    by_name: bool,
}

/// Two ascending lists of indices, merged into one.
fn in_connection_order(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
        if x < y {
            merged.push(x);
            a.next();
        } else {
            merged.push(y);
            b.next();
        }
    }
    merged.extend(a);
    merged.extend(b);
    merged
}

/// The receivers of `adapted` at `indices` (ascending), in connection order, each receiver
/// once (at its first connection's place: the same function may be connected for every
/// sender and for one, or by two plugins), in a store of `capacity(entries)` entries.
fn merged<I: 'static, O: 'static, A: ?Sized>(
    adapted: &[Adapted<'_, I, O, A>],
    indices: &[usize],
    capacity: impl Fn(usize) -> usize,
) -> ReceiverList<I, O, A> {
    // Each identity seen, with its entry's index.
    let mut seen: HashTable<(&ReceiverId, usize)> = HashTable::with_capacity(indices.len());
    let mut entries: Vec<NewEntry<I, O, A>> = Vec::with_capacity(indices.len());
    for (r, call, async_call) in indices.iter().map(|&index| &adapted[index]) {
        // A weakly bound receiver is a connection of its own: it may die at any moment, so it
        // neither takes the place of another connection of its identity nor loses its own.
        let weak = r.alive.is_some();
        if !weak {
            let id = &r.info.id;
            debug_assert_eq!(r.id_hash, hash_id(id), "a record's identity hash is stale");
            if let Some(&(_, first)) = seen.find(r.id_hash, |(seen, _)| *seen == id) {
                entries[first].meta.merge(r.active.clone());
                continue;
            }
            seen.insert_unique(r.id_hash, (id, entries.len()), |(seen, _)| hash_id(seen));
        }
        entries.push(NewEntry {
            call: call.clone(),
            async_call: async_call.clone(),
            meta: EntryMeta::new(r.seq, r.active.clone(), r.info.clone(), r.alive.clone()),
            by_name: r.func.is_by_name(),
        });
    }
    let slots = Slots::with_capacity(capacity(entries.len()));
    for NewEntry {
        call,
        async_call,
        meta,
        by_name,
    } in entries
    {
        // SAFETY: the store is new and not shared yet: this is its only writer.
        let pushed = unsafe { slots.push(call, async_call, meta) };
        if by_name && pushed.is_some() {
            slots.note_by_name();
        }
        debug_assert!(pushed.is_some(), "a new store has room for its entries");
    }
    ReceiverList::of(Arc::new(slots))
}

/// What every snapshot offers whatever its shape.
pub(crate) trait ErasedSnapshot: Any + Send + Sync {
    /// Notes that a newer snapshot replaced this one.
    fn mark_replaced(&self);
    /// Notes that a snapshot built anew replaced this one: a send still running over its
    /// lists follows each connection from now on (see `slots.rs`).
    fn abandon(&self);
    /// Whether a newer snapshot replaced this one.
    fn is_replaced(&self) -> bool;
    /// The descriptions of the receivers a send from `key` would call, in order.
    fn receivers_for(&self, key: &SenderKey<'_>) -> Vec<Arc<ReceiverInfo>>;
    /// Whether a send from `key` would call at least one receiver.
    fn has_receivers_for(&self, key: &SenderKey<'_>) -> bool;
    /// Appends `record`, a new connection for every sender whose receiver is connected
    /// nowhere else on this signal (or weakly), to the shared store: the snapshot to publish
    /// and the entry's index. `None` when this snapshot cannot take it in place (a receiver
    /// filters on a sender, or the store is full): the caller builds anew.
    fn appended(&self, record: &Record, weak: bool) -> Option<(SharedSnapshot, usize)>;
    /// Switches the entries at `indices` (of the list for every sender) off for good, their
    /// closures kept until no earlier snapshot remains: the snapshot to publish. `None` when
    /// half the store would be off (the caller builds anew, which compacts it).
    fn without(&self, indices: &[usize], weak: bool) -> Option<SharedSnapshot>;
    /// Switches entry `index` of the list for every sender on or off (a block).
    fn set_on(&self, index: usize, on: bool);
    /// Whether changes may go through [`appended`](Self::appended) and
    /// [`without`](Self::without): no receiver filters on a sender.
    fn is_appendable(&self) -> bool;
    /// Each entry of the list for every sender that stands for one connection: its
    /// connection's sequence number and its index (for [`without`](Self::without) and
    /// [`set_on`](Self::set_on)).
    fn places(&self, place: &mut dyn FnMut(u64, usize));
}

impl<Sh: Shape> ErasedSnapshot for Snapshot<Sh> {
    fn mark_replaced(&self) {
        self.replaced.store(true, Ordering::Release);
    }

    fn abandon(&self) {
        self.mark_replaced();
        // SAFETY: the caller is the stores' writer: it holds the signal's mutex, or made this
        // snapshot and shares it with nobody (`SignalCore::by_name_view`).
        unsafe {
            self.any.slots.check_all();
            for list in &self.by_sender {
                list.receivers.slots.check_all();
            }
        }
    }

    #[inline]
    fn is_replaced(&self) -> bool {
        self.replaced.load(Ordering::Acquire)
    }

    fn receivers_for(&self, key: &SenderKey<'_>) -> Vec<Arc<ReceiverInfo>> {
        self.receivers_for_key(key)
            .running()
            .map(|m| m.info.clone())
            .collect()
    }

    fn has_receivers_for(&self, key: &SenderKey<'_>) -> bool {
        self.receivers_for_key(key).running().next().is_some()
    }

    fn appended(&self, record: &Record, weak: bool) -> Option<(SharedSnapshot, usize)> {
        if !self.is_appendable() || record.filter.only().is_some() || record.blocks > 0 {
            return None;
        }
        let call = Sh::adapt(record)?;
        let async_call = Sh::adapt_async(record);
        let meta = EntryMeta::new(
            record.seq,
            record.active.clone(),
            record.info.clone(),
            record.alive.clone(),
        );
        // SAFETY: the caller holds the signal's mutex, which every writer of its stores holds.
        let index = unsafe { self.any.slots.push(call, async_call, meta) }?;
        if record.func.is_by_name() {
            // Before the snapshot that lists the entry is made: noted for the list it gives.
            self.any.slots.note_by_name();
        }
        Some((self.successor(weak, Vec::new()), index))
    }

    fn without(&self, indices: &[usize], weak: bool) -> Option<SharedSnapshot> {
        let slots = &self.any.slots;
        if !self.is_appendable() || too_many_off(slots.written(), slots.retired() + indices.len()) {
            return None;
        }
        let mut retired: Vec<retire::Item> = Vec::with_capacity(indices.len());
        for &index in indices {
            // SAFETY: as in `appended`.
            if let Some(owners) = unsafe { slots.take_owners(index) } {
                retired.push(Box::new(owners));
            }
        }
        Some(self.successor(weak, retired))
    }

    fn set_on(&self, index: usize, on: bool) {
        // SAFETY: the caller holds the signal's mutex, which every writer of its stores holds.
        unsafe { self.any.slots.set_on(index, on) };
    }

    fn is_appendable(&self) -> bool {
        self.by_sender.is_empty()
    }

    fn places(&self, place: &mut dyn FnMut(u64, usize)) {
        for (index, entry) in self.any.entries().iter().enumerate() {
            if !entry.meta.is_merged() {
                place(entry.meta.seq, index);
            }
        }
    }
}

/// Whether a store of `written` entries with `off` of them switched off for good is to be
/// compacted (built anew): when more are off than half as many as are on, plus four. A send
/// passes over each entry that is off (a few instructions each), so this bounds that cost to
/// half the receivers' count plus four; a compaction copies the receivers, so it comes at
/// most once per half as many disconnects as there are receivers (plus four), and a
/// disconnect stays O(1) amortized.
fn too_many_off(written: usize, off: usize) -> bool {
    let on = written.saturating_sub(off);
    off > on / 2 + 4
}

pub(crate) fn build_by_name(records: &[&Record]) -> SharedSnapshot {
    Arc::new(Snapshot::<ByNameShape>::build(records))
}

/// The snapshot of a signal that no struct declares and that never had a receiver, shared by
/// all such signals (most signals created by name): their first change builds their own.
/// Marking it replaced, as that change does, tells nothing to a send: a signal whose current
/// snapshot this is has no receiver, and a send to it returns before it looks at any snapshot.
///
/// Its store has no room: nothing is ever written to it, whichever signal's mutex the writer
/// holds (`Slots::push` returns at once). Under loom each signal gets its own: a loom atomic
/// belongs to one model execution.
pub(crate) fn empty_by_name() -> SharedSnapshot {
    #[cfg(loom)]
    return build_by_name(&[]);
    #[cfg(not(loom))]
    {
        static EMPTY: OnceLock<SharedSnapshot> = OnceLock::new();
        EMPTY.get_or_init(|| build_by_name(&[])).clone()
    }
}

/// What a by-name async send resolves to: the report and the values it collected.
pub(crate) type ByNameSendFuture<'a> =
    BoxFuture<'a, Result<(SendReport, Vec<Response<AnyValue>>), Error>>;

/// The snapshot as a snapshot of the shape `Sh`, when it is one.
#[inline]
pub(crate) fn downcast<Sh: Shape>(snapshot: &dyn ErasedSnapshot) -> Option<&Snapshot<Sh>> {
    let any: &dyn Any = snapshot;
    any.downcast_ref()
}

/// The snapshot as a snapshot of the shape `Sh`, owned, when it is one.
pub(crate) fn downcast_owned<Sh: Shape>(snapshot: SharedSnapshot) -> Option<Arc<Snapshot<Sh>>> {
    let any: Arc<dyn Any + Send + Sync> = snapshot;
    any.downcast().ok()
}
