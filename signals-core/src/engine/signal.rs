//! The runtime object behind every signal: its connections, and the snapshot sends read.
//!
//! Writers (connect, disconnect, block, mute) take the signal's mutex and change the
//! connection records. A connect or a disconnect then publishes a new snapshot and marks the
//! one it replaces: in place when it can (the new entry appended to the store the snapshots
//! share, the removed one switched off), otherwise built anew ([`SignalCore::publish`]). A
//! block switches the entry off in place and publishes nothing. A typed send never takes
//! the mutex: see `engine/snapshot.rs` for how it finds the snapshot (a by-name send of a
//! bag that is not the signal's struct, one decoded from JSON, builds its view of the
//! receivers under it: [`SignalCore::by_name_view`]). No user code runs
//! under the mutex: records and snapshots that a change removes are dropped after it is
//! released, and meta-signals are sent after it too.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, PoisonError};

use hashbrown::HashTable;

use crate::engine::callable::{Callable, ErasedCallable, Vt};
use crate::engine::deliver::{Concurrency, Mode};
use crate::engine::hook;
use crate::engine::snapshot::{
    self, ByNameSendFuture, ByNameShape, ErasedSnapshot, SharedSnapshot, Snapshot,
};
use crate::engine::sync::{AtomicBool, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use crate::error::Error;
use crate::future::{drop_quietly, BoxFuture};
use crate::kwargs::{Field, Kwargs};
use crate::receiver::{AnyValue, CallResult, ReceiverId, ReceiverInfo};
use crate::report::{Response, SendReport};
use crate::sender::{SenderFilter, SenderKey};

/// What a by-name receiver is called with: the sender's key and the bag, borrowed by the
/// send (see `callable.rs`). A typed send's input begins with one (`typed/shape.rs`
/// `Delivery`), whose key a typed send makes only when the list has by-name receivers.
#[repr(C)]
pub(crate) struct ByNameInput {
    /// Null when the send made no key (then no by-name receiver is called with this).
    key: *const SenderKey<'static>,
    args: *const dyn Kwargs,
}

impl ByNameInput {
    /// The input of a send from `key` with `args`.
    #[inline]
    pub(crate) fn new(key: &SenderKey<'_>, args: &dyn Kwargs) -> Self {
        ByNameInput {
            key: std::ptr::from_ref(key).cast(),
            args: erase_lifetime(args),
        }
    }

    /// The input of a send with `args` and no key yet: see [`parts`](Self::parts).
    #[inline(always)]
    pub(crate) fn without_key(args: &dyn Kwargs) -> Self {
        ByNameInput {
            key: std::ptr::null(),
            args: erase_lifetime(args),
        }
    }

    /// The key and the bag; `None` when the send made no key.
    ///
    /// # Safety
    ///
    /// What [`new`](Self::new) borrowed is still borrowed: the caller is a receiver called by
    /// the send that made this input, during the call.
    #[inline(always)]
    pub(crate) unsafe fn parts(&self) -> Option<(&SenderKey<'_>, &dyn Kwargs)> {
        // SAFETY: by the caller's contract, both references are alive (the key when set).
        unsafe { Some((self.key.as_ref()?, &*self.args)) }
    }

    /// The bag, as a pointer (alive as in [`parts`](Self::parts)).
    #[inline(always)]
    pub(crate) fn bag(&self) -> *const dyn Kwargs {
        self.args
    }
}

/// `args` as a raw pointer without its lifetime (`ByNameInput::parts` gives it back, shorter).
#[inline(always)]
fn erase_lifetime(args: &dyn Kwargs) -> *const dyn Kwargs {
    // SAFETY: a change of lifetime only: the same pointer, the same layout.
    unsafe { std::mem::transmute::<&dyn Kwargs, &'static dyn Kwargs>(args) }
}

// SAFETY: a pair of shared references to `Sync` values (a `SenderKey` is; a bag is `Sync`).
unsafe impl Send for ByNameInput {}
// SAFETY: as for `Send`.
unsafe impl Sync for ByNameInput {}

/// A by-name receiver as stored: the sender's key and the bag, and any value.
pub(crate) type ByNameCall = Callable<ByNameInput, AnyValue>;

/// A by-name receiver's callable, and the vtable that calls its closure as a receiver of a
/// signal with no output, through a typed send's input (`typed/shape.rs`). Made together
/// ([`new`](Self::new)), so that the vtable is the one for the callable's closure.
pub(crate) struct ByNameFn {
    call: ByNameCall,
    for_unit: &'static Vt<ByNameInput, ()>,
    /// For a receiver of one kwarg: how it reads the kwarg at its field's offset when the
    /// bag is a struct that lists it (boxed: most by-name receivers take the whole bag).
    field: Option<Box<FieldRead>>,
}

/// What a by-name receiver of one kwarg gives a typed list: the kwarg, and the callable that
/// reads it at a given offset of the bag (`Receiver::kwarg`, `kwarg_receiver.rs`).
pub(crate) struct FieldRead {
    /// The kwarg's name.
    pub(crate) name: Cow<'static, str>,
    /// `TypeId::of` the type the receiver reads it as.
    pub(crate) value: TypeId,
    /// What [`at`](Self::at) is given: the receiver's closure and what it owns.
    pub(crate) target: Target,
    /// The callable of the receiver that reads the kwarg at `offset` from the start of the
    /// bag, `None` if `target` is not its closure.
    ///
    /// # Safety
    ///
    /// The callable is called only with inputs whose bag holds a value of the type
    /// [`value`](Self::value) names at that offset.
    pub(crate) at: unsafe fn(&Target, usize) -> Option<Callable<ByNameInput, ()>>,
}

/// A receiver's closure and what it owns, erased.
pub(crate) type Target = Arc<dyn Any + Send + Sync>;

impl ByNameFn {
    /// `f`, a by-name receiver's closure.
    pub(crate) fn new<F>(f: F) -> Arc<Self>
    where
        F: Fn(&ByNameInput) -> CallResult<AnyValue> + Send + Sync + 'static,
    {
        Self::made(f, None)
    }

    /// `f`, the closure of a by-name receiver of one kwarg (it reads the kwarg by name), and
    /// `field`, how it reads the kwarg at a fixed offset.
    pub(crate) fn with_field<F>(f: F, field: FieldRead) -> Arc<Self>
    where
        F: Fn(&ByNameInput) -> CallResult<AnyValue> + Send + Sync + 'static,
    {
        Self::made(f, Some(Box::new(field)))
    }

    fn made<F>(f: F, field: Option<Box<FieldRead>>) -> Arc<Self>
    where
        F: Fn(&ByNameInput) -> CallResult<AnyValue> + Send + Sync + 'static,
    {
        let (call, for_unit) = Callable::new_with_unit(f);
        Arc::new(ByNameFn {
            call,
            for_unit,
            field,
        })
    }

    /// The callable, for sends whose input is a `ByNameInput`.
    pub(crate) fn call(&self) -> &ByNameCall {
        &self.call
    }

    /// The callable as a receiver of a signal with no output (`P`, which must be `()`) for
    /// inputs `J` that begin with a `ByNameInput` whose bag is always a `B`, a struct whose
    /// fields are `fields`; `None` when `P` is not `()`. A receiver of one kwarg that `fields`
    /// lists with the type it reads gets the callable that reads the kwarg at its offset.
    ///
    /// # Safety
    ///
    /// `J` is `#[repr(C)]` with a `ByNameInput` as its first field, whose bag is a `B`, and
    /// `fields` are `B`'s (`Signal::FIELDS`, whose every entry says where a field of `B`
    /// lies: see `Field::new`).
    pub(crate) unsafe fn for_unit<J: 'static, P: 'static, B: 'static>(
        &self,
        fields: &[Field],
    ) -> Option<Callable<J, P>> {
        if TypeId::of::<P>() != TypeId::of::<()>() {
            return None;
        }
        let at_field = self.field.as_ref().and_then(|read| {
            let offset = Field::find(fields, &read.name, TypeId::of::<B>(), read.value)?;
            // SAFETY: the bag of every input is a `B` (the caller's contract), which holds a
            // value of the type `read.value` names at `offset` (`Field::find` checked the
            // entry is `B`'s, of that type; `Field::new` says it lies there).
            unsafe { (read.at)(&read.target, offset) }
        });
        Some(match at_field {
            // SAFETY: `P` is `()`, and the caller's `J` begins with a `ByNameInput`.
            Some(call) => unsafe { call.cast::<J, P>() },
            // SAFETY: as above, and `for_unit` is the vtable made with `call` for its closure
            // (`new`).
            None => unsafe { self.call.with_vt(self.for_unit.cast::<J, P>()) },
        })
    }
}

/// A by-name async receiver as stored: it may keep its sender's key, so the key is owned.
pub(crate) type AsyncByNameCall = dyn for<'a> Fn(&'a SenderKey<'static>, &'a dyn Kwargs) -> BoxFuture<'a, CallResult<AnyValue>>
    + Send
    + Sync;

/// Gives `f` the signature of [`AsyncByNameCall`].
pub(crate) fn by_name_async<F>(f: F) -> Arc<AsyncByNameCall>
where
    F: for<'a> Fn(&'a SenderKey<'static>, &'a dyn Kwargs) -> BoxFuture<'a, CallResult<AnyValue>>
        + Send
        + Sync
        + 'static,
{
    Arc::new(f)
}

/// Reports whether a weakly bound receiver's target still lives.
pub(crate) type Alive = Arc<dyn Fn() -> bool + Send + Sync>;

/// A receiver's function, erased so that one list holds typed and by-name receivers.
#[derive(Clone)]
pub(crate) enum RecordFn {
    /// A `Callable` of the signal's declared `T` (`typed/shape.rs` `TypedCall<T>`).
    Struct(ErasedCallable),
    /// A by-name receiver. In an `Arc` of its own: a typed list may call it through a
    /// pointer to it (`typed/shape.rs`).
    ByName(Arc<ByNameFn>),
}

impl RecordFn {
    /// Whether it is a by-name receiver's.
    pub(crate) fn is_by_name(&self) -> bool {
        matches!(self, RecordFn::ByName(_))
    }
}

/// An async receiver's function, erased as [`RecordFn`] is.
#[derive(Clone)]
pub(crate) enum AsyncRecordFn {
    /// Holds an `Arc<AsyncTypedCall<T>>` for the signal's declared `T`.
    Struct(Arc<dyn Any + Send + Sync>),
    /// A by-name receiver.
    ByName(Arc<AsyncByNameCall>),
}

/// A record's senders, in one word: most connections listen to every sender, and a
/// `SenderFilter` takes four (a key may be an `i128`).
#[derive(PartialEq)]
pub(crate) struct Filter(Option<Box<SenderKey<'static>>>);

impl Filter {
    pub(crate) fn new(filter: SenderFilter) -> Self {
        match filter {
            SenderFilter::Any => Filter(None),
            SenderFilter::Only(key) => Filter(Some(Box::new(key))),
        }
    }

    /// The one sender's key, or `None` for every sender.
    pub(crate) fn only(&self) -> Option<&SenderKey<'static>> {
        self.0.as_deref()
    }

    /// Whether it is `filter`.
    pub(crate) fn is(&self, filter: &SenderFilter) -> bool {
        match filter {
            SenderFilter::Any => self.0.is_none(),
            SenderFilter::Only(key) => self.only() == Some(key),
        }
    }

    /// As a `SenderFilter`, for a description.
    pub(crate) fn to_filter(&self) -> SenderFilter {
        match self.only() {
            None => SenderFilter::Any,
            Some(key) => SenderFilter::Only(key.clone()),
        }
    }
}

/// One connection: a receiver, the senders it listens to, and its state.
pub(crate) struct Record {
    pub(crate) seq: u64,
    pub(crate) filter: Filter,
    pub(crate) info: Arc<ReceiverInfo>,
    /// The hash of `info.id`, computed once: every snapshot build looks identities up.
    pub(crate) id_hash: u64,
    /// What a sync send calls. For an async receiver, a shim that reports it cannot run it.
    pub(crate) func: RecordFn,
    /// What an async send awaits, for an async receiver.
    /// Boxed: few receivers are async, and every record would carry the room.
    pub(crate) async_func: Option<Box<AsyncRecordFn>>,
    /// Connected and not blocked; read by sends already running when it changes.
    pub(crate) active: Arc<AtomicBool>,
    pub(crate) alive: Option<Alive>,
    pub(crate) blocks: u32,
    /// The connect calls that made or found this connection and still hold it: a plain
    /// connect holds it until it is disconnected, a scoped one until its handle drops.
    pub(crate) claims: u32,
    /// Its entry's index in the current snapshot's list for every sender, when the entry
    /// stands for this connection alone: a change to it then goes in place (see `slots.rs`).
    slot: Option<u32>,
}

/// The struct type a signal is declared with, and what the typed layer plugs into the
/// engine for it: how to build its snapshots and how a by-name send reaches its receivers.
/// The engine calls these; it knows nothing of the struct.
#[derive(Clone, Copy)]
pub(crate) struct Binding {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    pub(crate) sender_type: &'static str,
    pub(crate) output_type: &'static str,
    /// The version of the struct's shape (`Signal::SCHEMA`).
    pub(crate) schema: u32,
    pub(crate) build: fn(&[&Record]) -> SharedSnapshot,
    pub(crate) send_by_name: SendByName,
    pub(crate) send_by_name_async: SendByNameAsync,
}

/// A by-name send through a snapshot of a bound signal (see [`Binding`]).
pub(crate) type SendByName = fn(
    &dyn ErasedSnapshot,
    &'static SignalCore,
    &SenderKey<'_>,
    &dyn Kwargs,
    Mode,
    Option<&mut Vec<Response<AnyValue>>>,
) -> Result<SendReport, Error>;

/// A by-name async send through a snapshot of a bound signal.
pub(crate) type SendByNameAsync = for<'a> fn(
    SharedSnapshot,
    &'static SignalCore,
    SenderKey<'a>,
    &'a dyn Kwargs,
    Concurrency,
    bool,
) -> ByNameSendFuture<'a>;

struct State {
    /// The connections, by sequence number: in connection order. Boxed: a B-tree's nodes
    /// hold room for eleven, and appends leave them half full.
    records: BTreeMap<u64, Box<Record>>,
    /// Each connection's sequence number, hashed by its receiver's identity (kept in the
    /// record, which the index finds through `records`), to find a connection of the same
    /// receiver without looking at every record: a connection costs it a word and a byte.
    by_id: HashTable<u64>,
    next_seq: u64,
    /// How many mutes are in force. `u32`, as the counts below (a signal cannot have four
    /// billion connections): the state stays small.
    mute_depth: u32,
    /// How many connections are not blocked.
    unblocked: u32,
    /// How many connections are weakly bound.
    weak: u32,
    /// The sequence number where the next sweep for dead weak receivers starts (see [`SWEEP`]).
    sweep_from: u64,
}

/// How many records a sweep for dead weak receivers looks at: every connect and disconnect
/// sweeps this many (from where the last sweep stopped, round the list), and so does a send
/// now and then while the signal has weak receivers. A bounded amount of work per call, and
/// the dead are reclaimed without waiting for a send that would call them.
const SWEEP: usize = 8;

/// A send sweeps (when it can take the signal's mutex at once) every this many sends of a
/// signal with weak receivers, per thread.
const SWEEP_EVERY_SENDS: u32 = 256;

/// What a change leaves to do once the mutex is released: values to drop (they may hold user
/// closures whose `Drop` runs user code) and meta-signals to send.
pub(crate) struct Aftermath {
    dropped_records: Vec<Record>,
    /// How many of `dropped_records` a published snapshot no longer lists.
    published: usize,
    dropped_snapshots: Vec<SharedSnapshot>,
    /// Whether the meta-signals want the connections and disconnections (see `hook::wanted`):
    /// when nobody listens to them, a change records none.
    announce: bool,
    /// A connect's receiver that found its connection made already: dropped after the mutex
    /// is released, as user code may run in its `Drop`.
    unused: Option<Box<Record>>,
    connected: Vec<(Arc<ReceiverInfo>, SenderFilter)>,
    disconnected: Vec<(Arc<ReceiverInfo>, SenderFilter)>,
}

impl Aftermath {
    /// Drops the records and the snapshot the change removed, each on its own under
    /// `catch_unwind`: the last reference to a receiver's closure may be among them, and a
    /// `Drop` of what it captured that panics must not escape the disconnect (or connect,
    /// block, unblock) that removed it. Such a panic is not reported (the panic hook has
    /// printed it); the change itself is done.
    fn drop_removed(self) {
        let Aftermath {
            dropped_records,
            dropped_snapshots,
            unused,
            ..
        } = self;
        for record in dropped_records {
            drop_quietly(record);
        }
        for snapshot in dropped_snapshots {
            drop_quietly(snapshot);
        }
        drop_quietly(unused);
    }
}

/// The per-(namespace, name) runtime object. Created once and never freed.
pub(crate) struct SignalCore {
    /// Dense process-wide index, used by the per-thread snapshot cache.
    pub(crate) id: usize,
    /// `namespace.name`: the namespace and the name are its two parts (see
    /// [`namespace`](Self::namespace) and [`name`](Self::name)).
    pub(crate) qualified: &'static str,
    /// Where the dot is in `qualified`.
    dot: u32,
    /// True while at least one receiver is active and the signal is not muted: the one load a
    /// send makes before anything else.
    pub(crate) live: AtomicBool,
    /// Why a typed signal could not join its namespace (it then lives detached).
    pub(crate) detached: Option<Box<Error>>,
    /// The struct type the signal is declared with, once it is: set once, under the state
    /// mutex (`bind`), and read without it (a by-name send dispatches by it). Leaked once
    /// per signal that a struct declares (a signal is never freed).
    binding: OnceLock<&'static Binding>,
    /// The current snapshot, read by a send whose cached one was replaced, under a lock of its
    /// own: the writer holds the write lock for the swap alone, so such a send never waits
    /// for a change on another thread (as it did when the snapshot was in the state, behind
    /// the mutex the whole change holds). Swapped under the state mutex, before the snapshot
    /// it replaces is marked. The signals created by name that never change share one
    /// (`snapshot::empty_by_name`).
    current: RwLock<SharedSnapshot>,
    state: Mutex<State>,
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
static NEXT_UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A fresh [`ReceiverId::Unique`].
pub(crate) fn unique_receiver_id() -> ReceiverId {
    ReceiverId::Unique(NEXT_UNIQUE.fetch_add(1, Ordering::Relaxed))
}

impl SignalCore {
    /// Creates and leaks a signal. `binding` is `Some` for detached typed signals.
    pub(crate) fn leak(
        namespace: &str,
        name: &str,
        binding: Option<Binding>,
        detached: Option<Error>,
    ) -> &'static SignalCore {
        let qualified: &'static str = Box::leak(format!("{namespace}.{name}").into_boxed_str());
        let binding: Option<&'static Binding> = binding.map(|b| &*Box::leak(Box::new(b)));
        let snapshot = match binding {
            Some(b) => (b.build)(&[]),
            None => snapshot::empty_by_name(),
        };
        Box::leak(Box::new(SignalCore {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            qualified,
            // Names are checked to be short (`name.rs`), far below `u32::MAX`.
            dot: u32::try_from(namespace.len()).unwrap_or(u32::MAX),
            live: AtomicBool::new(false),
            detached: detached.map(Box::new),
            binding: binding.map_or_else(OnceLock::new, OnceLock::from),
            current: RwLock::new(snapshot),
            state: Mutex::new(State {
                records: BTreeMap::new(),
                by_id: HashTable::new(),
                next_seq: 0,
                mute_depth: 0,
                unblocked: 0,
                weak: 0,
                sweep_from: 0,
            }),
        }))
    }

    /// The signal's namespace.
    pub(crate) fn namespace(&self) -> &'static str {
        self.qualified
            .get(..self.dot as usize)
            .unwrap_or(self.qualified)
    }

    /// The signal's name in its namespace.
    pub(crate) fn name(&self) -> &'static str {
        self.qualified
            .get(self.dot as usize + 1..)
            .unwrap_or(self.qualified)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No user code runs under this mutex, so a poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` under the mutex, then drops what it removed and sends the meta-signals.
    fn change<R>(&'static self, change: impl FnOnce(&mut State, &mut Aftermath) -> R) -> R {
        self.change_told(hook::wanted(), change)
    }

    /// [`change`](Self::change), recording what it connects and disconnects for the hook
    /// only when `announce` says so.
    fn change_told<R>(
        &'static self,
        announce: bool,
        change: impl FnOnce(&mut State, &mut Aftermath) -> R,
    ) -> R {
        let mut after = Aftermath::new(announce, true);
        let result = {
            let mut state = self.lock();
            change(&mut state, &mut after)
        };
        hook::changed(self, &after.connected, &after.disconnected);
        after.drop_removed();
        result
    }

    /// Publishes the snapshot after a change that connected `added` (if any) and removed the
    /// records in `after`, and the flags sends read. In place when it can: the new
    /// connection appended to the store the snapshots share, the removed ones' entries
    /// switched off (see `slots.rs`); otherwise built anew from the records.
    fn publish(&self, state: &mut State, after: &mut Aftermath, added: Option<u64>) {
        let weak = state.weak > 0;
        let removed = &after.dropped_records;
        // The read lock is released before `replace_snapshot` takes the write lock.
        let in_place = {
            let current = self.read_current();
            match added {
                Some(seq) => state
                    .records
                    .get(&seq)
                    .filter(|record| record.alive.is_some() || !has_twin(state, record))
                    .and_then(|record| current.appended(record, weak))
                    .map(|(fresh, index)| (fresh, Some((seq, index)))),
                None => removed[after.published..]
                    .iter()
                    .map(|record| record.slot.map(|slot| slot as usize))
                    .collect::<Option<Vec<usize>>>()
                    .and_then(|indices| current.without(&indices, weak))
                    .map(|fresh| (fresh, None)),
            }
        };
        after.published = after.dropped_records.len();
        let Some((fresh, place)) = in_place else {
            return self.rebuild(state, after);
        };
        if let Some((seq, index)) = place {
            if let Some(record) = state.records.get_mut(&seq) {
                record.slot = u32::try_from(index).ok();
            }
        }
        let replaced = self.replace_snapshot(fresh);
        replaced.mark_replaced();
        after.dropped_snapshots.push(replaced);
        self.update_live(state);
    }

    /// Builds the snapshot anew from the records and publishes it (a change an append cannot
    /// express, or a store to compact).
    fn rebuild(&self, state: &mut State, after: &mut Aftermath) {
        let records: Vec<&Record> = state.records.values().map(|r| &**r).collect();
        let fresh = match self.binding.get() {
            Some(b) => (b.build)(&records),
            None => snapshot::build_by_name(&records),
        };
        for record in state.records.values_mut() {
            record.slot = None;
        }
        if fresh.is_appendable() {
            let records = &mut state.records;
            fresh.places(&mut |seq, index| {
                if let Some(record) = records.get_mut(&seq) {
                    record.slot = u32::try_from(index).ok();
                }
            });
        }
        let replaced = self.replace_snapshot(fresh);
        replaced.abandon();
        after.published = after.dropped_records.len();
        after.dropped_snapshots.push(replaced);
        self.update_live(state);
    }

    /// Makes `fresh` the current snapshot, for the sends to come; returns the one it replaces
    /// (which the caller then marks: a send that sees the mark finds `fresh` or a newer one,
    /// and drops after the state mutex is released). Called under the state mutex: the write
    /// lock is held for the swap alone.
    fn replace_snapshot(&self, fresh: SharedSnapshot) -> SharedSnapshot {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *current, fresh)
    }

    /// The current snapshot, under the read lock.
    fn read_current(&self) -> RwLockReadGuard<'_, SharedSnapshot> {
        self.current.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn update_live(&self, state: &State) {
        let live = state.mute_depth == 0 && state.unblocked > 0;
        self.live.store(live, Ordering::Release);
    }

    /// The current snapshot, for a send whose cache is stale: under the read lock, without the
    /// state mutex.
    pub(crate) fn current_snapshot(&self) -> SharedSnapshot {
        self.read_current().clone()
    }

    pub(crate) fn binding(&self) -> Option<Binding> {
        self.binding.get().map(|binding| **binding)
    }

    /// The receivers as a by-name send sees them, built now from the records: for a bag that
    /// is not the declared struct (a bag decoded from JSON, which only by-name receivers can
    /// read; each typed receiver is there as a shim that reports it, see [`ByNameShape`]).
    /// Never published, and abandoned from the start, so that a send over it checks each
    /// receiver's connection before calling it.
    pub(crate) fn by_name_view(&self) -> Arc<Snapshot<ByNameShape>> {
        let view = {
            let state = self.lock();
            let records: Vec<&Record> = state.records.values().map(|r| &**r).collect();
            Snapshot::<ByNameShape>::build(&records)
        };
        view.abandon();
        Arc::new(view)
    }

    /// Declares this signal's struct type, or reports the type that already declared it.
    pub(crate) fn bind(&'static self, binding: Binding) -> Result<(), Error> {
        // A bind connects nothing, and may be the meta-signals' own (which `hook::wanted`
        // would look up): nothing to announce.
        self.change_told(false, |state, after| match self.binding.get() {
            Some(existing) if existing.type_id == binding.type_id => Ok(()),
            Some(existing) => Err(Error::TypeConflict {
                signal: self.qualified.to_owned(),
                declared: existing.type_name,
                requested: binding.type_name,
            }),
            None => {
                // Under the state mutex, as every bind: nothing set it since `get`.
                let _ = self.binding.set(Box::leak(Box::new(binding)));
                self.rebuild(state, after);
                Ok(())
            }
        })
    }

    /// Adds a connection, or finds the one the same receiver already has for the same filter.
    /// Returns its sequence number and whether it is new. Weakly bound and strong connections
    /// never find each other (a weak one may go at any moment, and must not take a strong one
    /// with it); a weak connect finds a weak connection of the same key whose target lives.
    pub(crate) fn connect(
        &'static self,
        filter: SenderFilter,
        info: ReceiverInfo,
        func: RecordFn,
        async_func: Option<AsyncRecordFn>,
        alive: Option<Alive>,
    ) -> (u64, bool) {
        // The record is made before the signal's mutex is taken (its allocations too), so
        // that a change holds the mutex, which other changes wait for, as briefly as it can.
        let record = Box::new(Record {
            seq: 0,
            id_hash: snapshot::hash_id(&info.id),
            info: Arc::new(info),
            filter: Filter::new(filter),
            func,
            async_func: async_func.map(Box::new),
            active: Arc::new(AtomicBool::new(true)),
            alive,
            blocks: 0,
            claims: 1,
            slot: None,
        });
        let announce = hook::wanted();
        let connected = announce.then(|| (record.info.clone(), record.filter.to_filter()));
        self.change_told(announce, |state, after| {
            let same = |r: &Record| {
                r.alive.is_none() == record.alive.is_none()
                    && r.info.id == record.info.id
                    && r.filter == record.filter
                    && r.info.plugin == record.info.plugin
            };
            if let Some(seq) = state.find(record.id_hash, same) {
                let existing = state.records.get_mut(&seq).expect("indexed records exist");
                if existing.alive.as_ref().is_none_or(|alive| alive()) {
                    existing.claims = existing.claims.saturating_add(1);
                    after.unused = Some(record);
                    return (existing.seq, false);
                }
                // A weakly bound receiver whose target is gone holds its key no longer:
                // remove it now rather than at the next send, and connect the new one.
                if let Some(gone) = state.take(seq) {
                    after.remove(*gone);
                }
            }
            sweep(state, after);
            // The removals first: an append goes on a list without them.
            self.retire(state, after);
            let seq = state.next_seq;
            state.next_seq += 1;
            after.connected.extend(connected);
            let mut record = record;
            record.seq = seq;
            state.insert(record);
            self.publish(state, after, Some(seq));
            (seq, true)
        })
    }

    /// Removes every connection `remove` selects (looking at each); returns how many.
    pub(crate) fn disconnect_where(&'static self, remove: impl Fn(&Record) -> bool) -> usize {
        self.change(|state, after| {
            let seqs: Vec<u64> = state
                .records
                .values()
                .filter(|r| remove(r))
                .map(|r| r.seq)
                .collect();
            self.remove_all(state, after, seqs)
        })
    }

    /// Removes connection `seq`; returns whether it existed.
    pub(crate) fn disconnect(&'static self, seq: u64) -> bool {
        self.change(|state, after| self.remove_all(state, after, [seq]) > 0)
    }

    /// Removes every connection of receiver `id` (for `filter` only, if given), found through
    /// the index of identities; returns how many.
    pub(crate) fn disconnect_receiver(
        &'static self,
        id: &ReceiverId,
        filter: Option<&SenderFilter>,
    ) -> usize {
        let id_hash = snapshot::hash_id(id);
        self.change(|state, after| {
            let records = &state.records;
            let seqs: Vec<u64> = state
                .by_id
                .iter_hash(id_hash)
                .filter_map(|seq| records.get(seq))
                .filter(|r| r.info.id.is_named_by(id) && filter.is_none_or(|f| r.filter.is(f)))
                .map(|r| r.seq)
                .collect();
            self.remove_all(state, after, seqs)
        })
    }

    /// Removes the connections `seqs` (and sweeps), publishes; returns how many existed.
    fn remove_all(
        &self,
        state: &mut State,
        after: &mut Aftermath,
        seqs: impl IntoIterator<Item = u64>,
    ) -> usize {
        let mut count = 0;
        for seq in seqs {
            if let Some(record) = state.take(seq) {
                after.remove(*record);
                count += 1;
            }
        }
        sweep(state, after);
        self.retire(state, after);
        count
    }

    /// A send's share of the sweep for dead weak receivers: every [`SWEEP_EVERY_SENDS`]th
    /// send on this thread of a signal with weak receivers, if the mutex is free at once
    /// (a send never waits for it here).
    #[cold]
    #[inline(never)]
    pub(crate) fn sweep_now_and_then(&'static self) {
        thread_local! {
            static SENDS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let due = SENDS
            .try_with(|n| {
                n.set(n.get().wrapping_add(1));
                n.get() % SWEEP_EVERY_SENDS == 0
            })
            .unwrap_or(false);
        if !due {
            return;
        }
        let mut after = Aftermath::new(hook::wanted(), false);
        {
            let Ok(mut state) = self.state.try_lock() else {
                return;
            };
            sweep(&mut state, &mut after);
            self.retire(&mut state, &mut after);
        }
        hook::changed(self, &after.connected, &after.disconnected);
        after.drop_removed();
    }

    /// Gives up one claim on the connection `seq` (a scoped handle's drop), and disconnects
    /// it when that was the last. Returns whether it disconnected.
    pub(crate) fn release(&'static self, seq: u64) -> bool {
        self.change(|state, after| {
            let Some(record) = state.records.get_mut(&seq) else {
                return false;
            };
            record.claims = record.claims.saturating_sub(1);
            if record.claims > 0 {
                return false;
            }
            if let Some(record) = state.take(seq) {
                after.remove(*record);
            }
            sweep(state, after);
            self.retire(state, after);
            true
        })
    }

    /// Publishes a snapshot without the records this change removed, if it removed any.
    fn retire(&self, state: &mut State, after: &mut Aftermath) {
        if after.dropped_records.len() > after.published {
            self.publish(state, after, None);
        }
    }

    /// Disconnects weakly bound receivers whose target is gone.
    pub(crate) fn prune_gone(&'static self) {
        self.disconnect_where(|r| r.alive.as_ref().is_some_and(|alive| !alive()));
    }

    /// Whether the connection `seq` exists.
    pub(crate) fn is_connected(&self, seq: u64) -> bool {
        self.lock().records.contains_key(&seq)
    }

    /// The description of connection `seq`, if it exists.
    pub(crate) fn info_of(&self, seq: u64) -> Option<Arc<ReceiverInfo>> {
        self.lock().records.get(&seq).map(|r| r.info.clone())
    }

    /// Adds (`delta = 1`) or removes (`-1`) one block on connection `seq`.
    pub(crate) fn adjust_block(&'static self, seq: u64, delta: isize) -> bool {
        // A block connects and disconnects nothing: nothing to announce.
        self.change_told(false, |state, after| {
            let Some(record) = state.records.get_mut(&seq) else {
                return false;
            };
            let was_blocked = record.blocks > 0;
            record.blocks = record
                .blocks
                .saturating_add_signed(i32::try_from(delta).unwrap_or(0));
            let blocked = record.blocks > 0;
            record.active.store(!blocked, Ordering::Release);
            let slot = record.slot;
            if blocked != was_blocked {
                if blocked {
                    state.unblocked -= 1;
                } else {
                    state.unblocked += 1;
                }
                match slot {
                    // Its entry stays in place, switched off while blocked.
                    Some(index) => self.read_current().set_on(index as usize, !blocked),
                    None => self.rebuild(state, after),
                }
            }
            self.update_live(state);
            true
        })
    }

    /// Adds (`1`) or removes (`-1`) one level of muting.
    pub(crate) fn adjust_mute(&'static self, delta: i32) {
        let mut state = self.lock();
        state.mute_depth = state.mute_depth.saturating_add_signed(delta);
        self.update_live(&state);
    }

    pub(crate) fn is_muted(&self) -> bool {
        self.lock().mute_depth > 0
    }

    /// Every connection, less weak ones whose target is gone, in connection order: its
    /// description, filter, and whether it is blocked.
    pub(crate) fn connections(&self) -> Vec<(Arc<ReceiverInfo>, SenderFilter, bool)> {
        self.lock()
            .records
            .values()
            .filter(|r| r.is_alive())
            .map(|r| (r.info.clone(), r.filter.to_filter(), r.blocks > 0))
            .collect()
    }
}

impl State {
    /// The connection whose record `same` selects among those of identity hash `id_hash`.
    fn find(&self, id_hash: u64, same: impl Fn(&Record) -> bool) -> Option<u64> {
        let records = &self.records;
        self.by_id
            .find(id_hash, |seq| {
                records
                    .get(seq)
                    .is_some_and(|r| r.id_hash == id_hash && same(r))
            })
            .copied()
    }

    /// Adds a new connection's record.
    fn insert(&mut self, record: Box<Record>) {
        if record.blocks == 0 {
            self.unblocked += 1;
        }
        if record.alive.is_some() {
            self.weak += 1;
        }
        let (seq, id_hash) = (record.seq, record.id_hash);
        self.records.insert(seq, record);
        // The record first: a growing index rehashes every connection through its record.
        let records = &self.records;
        self.by_id.insert_unique(id_hash, seq, |seq| {
            records.get(seq).map_or(0, |record| record.id_hash)
        });
    }

    /// Removes connection `seq`'s record.
    fn take(&mut self, seq: u64) -> Option<Box<Record>> {
        let record = self.records.remove(&seq)?;
        if let Ok(entry) = self.by_id.find_entry(record.id_hash, |&s| s == seq) {
            entry.remove();
        }
        if record.blocks == 0 {
            self.unblocked -= 1;
        }
        if record.alive.is_some() {
            self.weak -= 1;
        }
        Some(record)
    }
}

/// Whether another strong connection of `record`'s receiver exists: their entries merge, so
/// the record cannot be appended on its own.
fn has_twin(state: &State, record: &Record) -> bool {
    state
        .find(record.id_hash, |r| {
            r.seq != record.seq && r.alive.is_none() && r.info.id == record.info.id
        })
        .is_some()
}

impl Record {
    /// Whether the receiver can still run: strong, or weak with its target alive.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive())
    }
}

impl Aftermath {
    /// What a change leaves to do; `announce` tells whether the hook wants its connections
    /// and disconnections (see `hook::wanted`).
    ///
    /// Made before the signal's mutex is taken; with `room`, room for the one record and the
    /// one snapshot a connect or a disconnect removes, so that they allocate nothing under the
    /// mutex (a send's share of the sweep asks for none: a send allocates nothing).
    fn new(announce: bool, room: bool) -> Self {
        let room = usize::from(room);
        Aftermath {
            dropped_records: Vec::with_capacity(room),
            published: 0,
            dropped_snapshots: Vec::with_capacity(room),
            unused: None,
            connected: Vec::new(),
            disconnected: Vec::new(),
            announce,
        }
    }

    /// Takes a record the change removed: no send calls it from now on, it is announced as
    /// disconnected, and it is dropped once the mutex is released.
    fn remove(&mut self, record: Record) {
        record.active.store(false, Ordering::Release);
        if self.announce {
            self.disconnected
                .push((record.info.clone(), record.filter.to_filter()));
        }
        self.dropped_records.push(record);
    }
}

/// Moves up to [`SWEEP`] records' worth of dead weak receivers, from where the last sweep
/// stopped (round the list), to `after.dropped_records` (to be retired by the caller).
fn sweep(state: &mut State, after: &mut Aftermath) {
    if state.weak == 0 {
        return;
    }
    let from = state.sweep_from;
    let looked: Vec<(u64, bool)> = state
        .records
        .range(from..)
        .chain(state.records.range(..from))
        .take(SWEEP)
        .map(|(&seq, record)| (seq, record.is_alive()))
        .collect();
    if let Some(&(last, _)) = looked.last() {
        state.sweep_from = last + 1;
    }
    for (seq, alive) in looked {
        if !alive {
            if let Some(record) = state.take(seq) {
                after.remove(*record);
            }
        }
    }
}
