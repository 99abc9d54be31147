//! The runtime object behind every signal: its connections, and the snapshot sends read.
//!
//! Writers (connect, disconnect, block, mute) take the signal's mutex, change the list of
//! connection records, build a new immutable snapshot and mark the one it replaces. Senders
//! never take the mutex on their way: see [`crate::snapshot`] for how they find the snapshot.
//! No user code runs under the mutex: records and snapshots that a change removes are dropped
//! after it is released, and meta-signals are sent after it too.

use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

use crate::engine::deliver::{Concurrency, Mode};
use crate::engine::hook;
use crate::engine::snapshot::{
    self, ByNameSendFuture, ByNameShape, ErasedSnapshot, SharedSnapshot, Snapshot,
};
use crate::engine::sync::{AtomicBool, Mutex, MutexGuard};
use crate::error::Error;
use crate::future::{drop_quietly, BoxFuture};
use crate::kwargs::Kwargs;
use crate::receiver::{AnyValue, CallResult, ReceiverId, ReceiverInfo};
use crate::report::{Response, SendReport};
use crate::sender::{SenderFilter, SenderKey};

/// A by-name receiver as stored: the sender's key and the bag, and any value.
pub(crate) type ByNameCall =
    dyn Fn(&SenderKey<'_>, &dyn Kwargs) -> CallResult<AnyValue> + Send + Sync;

/// A stored callable, shared by every snapshot that lists it.
pub(crate) type Callable<C> = Arc<C>;

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
    /// Holds a `Callable<TypedCall<T>>` for the signal's declared `T`.
    Struct(Arc<dyn Any + Send + Sync>),
    /// A by-name receiver.
    ByName(Callable<ByNameCall>),
}

/// An async receiver's function, erased as [`RecordFn`] is.
#[derive(Clone)]
pub(crate) enum AsyncRecordFn {
    /// Holds an `Arc<AsyncTypedCall<T>>` for the signal's declared `T`.
    Struct(Arc<dyn Any + Send + Sync>),
    /// A by-name receiver.
    ByName(Arc<AsyncByNameCall>),
}

/// One connection: a receiver, the senders it listens to, and its state.
pub(crate) struct Record {
    pub(crate) seq: u64,
    pub(crate) filter: SenderFilter,
    pub(crate) info: Arc<ReceiverInfo>,
    /// The hash of `info.id`, computed once: every snapshot build looks identities up.
    pub(crate) id_hash: u64,
    /// What a sync send calls. For an async receiver, a shim that reports it cannot run it.
    pub(crate) func: RecordFn,
    /// What an async send awaits, for an async receiver.
    pub(crate) async_func: Option<AsyncRecordFn>,
    /// Connected and not blocked; read by sends already running when it changes.
    pub(crate) active: Arc<AtomicBool>,
    pub(crate) alive: Option<Alive>,
    pub(crate) blocks: usize,
    /// The connect calls that made or found this connection and still hold it: a plain
    /// connect holds it until it is disconnected, a scoped one until its handle drops.
    pub(crate) claims: usize,
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
    pub(crate) build: fn(&[Record]) -> SharedSnapshot,
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
    binding: Option<Binding>,
    records: Vec<Record>,
    next_seq: u64,
    mute_depth: usize,
    snapshot: SharedSnapshot,
    /// Where the next sweep for dead weak receivers starts (see [`SWEEP`]).
    sweep_from: usize,
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
#[derive(Default)]
pub(crate) struct Aftermath {
    dropped_records: Vec<Record>,
    dropped_snapshot: Option<SharedSnapshot>,
    /// A connect's receiver that found its connection made already: dropped after the mutex
    /// is released, as user code may run in its `Drop`.
    unused: Option<(RecordFn, Option<AsyncRecordFn>, Option<Alive>)>,
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
            dropped_snapshot,
            unused,
            ..
        } = self;
        for record in dropped_records {
            drop_quietly(record);
        }
        drop_quietly(dropped_snapshot);
        drop_quietly(unused);
    }
}

/// The per-(namespace, name) runtime object. Created once and never freed.
pub(crate) struct SignalCore {
    /// Dense process-wide index, used by the per-thread snapshot cache.
    pub(crate) id: usize,
    pub(crate) namespace: &'static str,
    pub(crate) name: &'static str,
    pub(crate) qualified: &'static str,
    /// True while at least one receiver is active and the signal is not muted: the one load a
    /// send makes before anything else.
    pub(crate) live: AtomicBool,
    /// Why a typed signal could not join its namespace (it then lives detached).
    pub(crate) detached: Option<Error>,
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
        namespace: &'static str,
        name: &'static str,
        binding: Option<Binding>,
        detached: Option<Error>,
    ) -> &'static SignalCore {
        let qualified: &'static str = Box::leak(format!("{namespace}.{name}").into_boxed_str());
        let snapshot = match binding {
            Some(b) => (b.build)(&[]),
            None => snapshot::build_by_name(&[]),
        };
        Box::leak(Box::new(SignalCore {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            namespace,
            name,
            qualified,
            live: AtomicBool::new(false),
            detached,
            state: Mutex::new(State {
                binding,
                records: Vec::new(),
                next_seq: 0,
                mute_depth: 0,
                snapshot,
                sweep_from: 0,
            }),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No user code runs under this mutex, so a poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` under the mutex, then drops what it removed and sends the meta-signals.
    fn change<R>(&'static self, change: impl FnOnce(&mut State, &mut Aftermath) -> R) -> R {
        let mut after = Aftermath::default();
        let result = {
            let mut state = self.lock();
            change(&mut state, &mut after)
        };
        hook::changed(self, &after.connected, &after.disconnected);
        after.drop_removed();
        result
    }

    /// Publishes a new snapshot of `state` and the flags sends read.
    fn publish(&self, state: &mut State, after: &mut Aftermath) {
        let fresh = match state.binding {
            Some(b) => (b.build)(&state.records),
            None => snapshot::build_by_name(&state.records),
        };
        let replaced = std::mem::replace(&mut state.snapshot, fresh);
        replaced.mark_replaced();
        after.dropped_snapshot = Some(replaced);
        self.update_live(state);
    }

    fn update_live(&self, state: &State) {
        let live = state.mute_depth == 0 && state.records.iter().any(|r| r.blocks == 0);
        self.live.store(live, Ordering::Release);
    }

    /// The current snapshot (takes the mutex; sends call it only when their cache is stale).
    pub(crate) fn current_snapshot(&self) -> SharedSnapshot {
        self.lock().snapshot.clone()
    }

    pub(crate) fn binding(&self) -> Option<Binding> {
        self.lock().binding
    }

    /// The receivers as a by-name send sees them, built now from the records: for a bag that
    /// is not the declared struct (a bag decoded from JSON, which only by-name receivers can
    /// read; each typed receiver is there as a shim that reports it, see [`ByNameShape`]).
    /// Never published, and marked replaced from the start, so that a send over it checks
    /// each receiver's connection before calling it.
    pub(crate) fn by_name_view(&self) -> Arc<Snapshot<ByNameShape>> {
        let view = Snapshot::<ByNameShape>::build(&self.lock().records);
        view.mark_replaced();
        Arc::new(view)
    }

    /// Declares this signal's struct type, or reports the type that already declared it.
    pub(crate) fn bind(&'static self, binding: Binding) -> Result<(), Error> {
        self.change(|state, after| match state.binding {
            Some(existing) if existing.type_id == binding.type_id => Ok(()),
            Some(existing) => Err(Error::TypeConflict {
                signal: self.qualified.to_owned(),
                declared: existing.type_name,
                requested: binding.type_name,
            }),
            None => {
                state.binding = Some(binding);
                self.publish(state, after);
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
        self.change(|state, after| {
            let same = |r: &Record| {
                r.alive.is_none() == alive.is_none()
                    && r.info.id == info.id
                    && r.filter == filter
                    && r.info.plugin == info.plugin
            };
            if let Some(index) = state.records.iter().position(same) {
                let existing = &mut state.records[index];
                if existing.alive.as_ref().is_none_or(|alive| alive()) {
                    existing.claims += 1;
                    after.unused = Some((func, async_func, alive));
                    return (existing.seq, false);
                }
                // A weakly bound receiver whose target is gone holds its key no longer:
                // remove it now rather than at the next send, and connect the new one.
                after.remove(state.records.remove(index));
            }
            sweep(state, after);
            let seq = state.next_seq;
            state.next_seq += 1;
            let info = Arc::new(info);
            after.connected.push((info.clone(), filter.clone()));
            state.records.push(Record {
                seq,
                filter,
                id_hash: snapshot::hash_id(&info.id),
                info,
                func,
                async_func,
                active: Arc::new(AtomicBool::new(true)),
                alive,
                blocks: 0,
                claims: 1,
            });
            self.publish(state, after);
            (seq, true)
        })
    }

    /// Removes every connection `remove` selects; returns how many.
    pub(crate) fn disconnect_where(&'static self, remove: impl Fn(&Record) -> bool) -> usize {
        self.change(|state, after| {
            let mut count = 0;
            for record in state.records.extract_if(.., |r| remove(r)) {
                after.remove(record);
                count += 1;
            }
            sweep(state, after);
            self.retire(state, after);
            count
        })
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
        let mut after = Aftermath::default();
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
            let Some(index) = state.records.iter().position(|r| r.seq == seq) else {
                return false;
            };
            let record = &mut state.records[index];
            record.claims = record.claims.saturating_sub(1);
            if record.claims > 0 {
                return false;
            }
            after.remove(state.records.remove(index));
            sweep(state, after);
            self.retire(state, after);
            true
        })
    }

    /// Publishes a snapshot without the records this change removed, if it removed any.
    fn retire(&self, state: &mut State, after: &mut Aftermath) {
        if !after.dropped_records.is_empty() {
            self.publish(state, after);
        }
    }

    /// Disconnects weakly bound receivers whose target is gone.
    pub(crate) fn prune_gone(&'static self) {
        self.disconnect_where(|r| r.alive.as_ref().is_some_and(|alive| !alive()));
    }

    /// Whether the connection `seq` exists.
    pub(crate) fn is_connected(&self, seq: u64) -> bool {
        self.lock().records.iter().any(|r| r.seq == seq)
    }

    /// The description of connection `seq`, if it exists.
    pub(crate) fn info_of(&self, seq: u64) -> Option<Arc<ReceiverInfo>> {
        self.lock()
            .records
            .iter()
            .find(|r| r.seq == seq)
            .map(|r| r.info.clone())
    }

    /// Adds (`delta = 1`) or removes (`-1`) one block on connection `seq`.
    pub(crate) fn adjust_block(&'static self, seq: u64, delta: isize) -> bool {
        self.change(|state, after| {
            let Some(record) = state.records.iter_mut().find(|r| r.seq == seq) else {
                return false;
            };
            record.blocks = record.blocks.saturating_add_signed(delta);
            record.active.store(record.blocks == 0, Ordering::Release);
            self.publish(state, after);
            true
        })
    }

    /// Adds (`1`) or removes (`-1`) one level of muting.
    pub(crate) fn adjust_mute(&'static self, delta: isize) {
        let mut state = self.lock();
        state.mute_depth = state.mute_depth.saturating_add_signed(delta);
        self.update_live(&state);
    }

    pub(crate) fn is_muted(&self) -> bool {
        self.lock().mute_depth > 0
    }

    /// Every connection's description and filter, in connection order.
    /// Every connection, less weak ones whose target is gone.
    pub(crate) fn connections(&self) -> Vec<(Arc<ReceiverInfo>, SenderFilter, bool)> {
        self.lock()
            .records
            .iter()
            .filter(|r| r.is_alive())
            .map(|r| (r.info.clone(), r.filter.clone(), r.blocks > 0))
            .collect()
    }
}

impl Record {
    /// Whether the receiver can still run: strong, or weak with its target alive.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive())
    }
}

impl Aftermath {
    /// Takes a record the change removed: no send calls it from now on, it is announced as
    /// disconnected, and it is dropped once the mutex is released.
    fn remove(&mut self, record: Record) {
        record.active.store(false, Ordering::Release);
        self.disconnected
            .push((record.info.clone(), record.filter.clone()));
        self.dropped_records.push(record);
    }
}

/// Moves up to [`SWEEP`] records' worth of dead weak receivers, from where the last sweep
/// stopped, to `after.dropped_records` (to be retired by the caller).
fn sweep(state: &mut State, after: &mut Aftermath) {
    let mut looked = 0;
    while looked < SWEEP && !state.records.is_empty() {
        if state.sweep_from >= state.records.len() {
            state.sweep_from = 0;
        }
        let index = state.sweep_from;
        if state.records[index].is_alive() {
            state.sweep_from += 1;
        } else {
            after.remove(state.records.remove(index));
        }
        looked += 1;
    }
}
