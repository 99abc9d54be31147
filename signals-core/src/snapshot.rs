//! Immutable receiver lists, and how a send finds the current one without a lock.
//!
//! A snapshot holds, for a signal, the list of receivers for "any sender" and one list per
//! sender that some receiver filters on, already merged with the any-sender receivers in
//! connection order and with duplicates removed. Everything is computed when a connection
//! changes, so a send only reads.
//!
//! # Finding the snapshot
//!
//! Each thread keeps its last snapshot of each signal, tagged with the signal's generation
//! counter. A send loads the counter (one atomic load, no write); when it matches, the cached
//! snapshot is current and is used through an `Rc` (a thread-local count, not a shared one).
//! Otherwise the send takes the signal's mutex once to fetch the new snapshot. A re-entrant
//! send that refreshes the cache does not free the snapshot an outer send is iterating: the
//! outer send holds its own `Rc`.
//!
//! The cost of this: a thread that stops sending keeps its last snapshot (and the receiver
//! closures in it) alive until it sends that signal again or exits.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

use crate::core::{Alive, DynCall, Record, RecordFn, SignalCore, TypedCall};
use crate::error::Error;
use crate::kwargs::Kwargs;
use crate::receiver::{Outcome, ReceiverInfo};
use crate::send::{deliver, Mode, SendReport};
use crate::sender::{Sender, SenderFilter, SenderKey};
use crate::typed::Signal;

/// A snapshot as stored and cached: shared between threads, read-only.
pub(crate) type SharedSnapshot = Arc<dyn ErasedSnapshot>;

/// One receiver in a snapshot.
pub(crate) struct Entry<C: ?Sized> {
    pub(crate) call: Arc<C>,
    pub(crate) active: Arc<AtomicBool>,
    pub(crate) info: Arc<ReceiverInfo>,
    pub(crate) alive: Option<Alive>,
}

impl<C: ?Sized> Clone for Entry<C> {
    fn clone(&self) -> Self {
        Entry {
            call: self.call.clone(),
            active: self.active.clone(),
            info: self.info.clone(),
            alive: self.alive.clone(),
        }
    }
}

impl<C: ?Sized> Entry<C> {
    /// Whether a send now would call it (weak receivers whose target is gone would not).
    fn would_run(&self) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive())
    }
}

struct SenderList<C: ?Sized> {
    key: SenderKey<'static>,
    hash: u64,
    entries: Box<[Entry<C>]>,
}

/// How the receivers of one kind of signal are called: typed (a declared struct) or by name.
pub(crate) trait Shape: 'static + Sized {
    /// The stored callable.
    type Call: ?Sized + Send + Sync;

    /// The callable for `record`, or `None` when it cannot be called in this shape.
    fn adapt(record: &Record) -> Option<Arc<Self::Call>>;

    /// A by-name send through a snapshot of this shape.
    fn send_dyn(
        snapshot: &Snapshot<Self>,
        core: &'static SignalCore,
        generation: u64,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
        mode: Mode,
    ) -> Result<SendReport, Error>;
}

/// Receivers of a signal declared by the struct `T`.
pub(crate) struct Typed<T>(std::marker::PhantomData<fn() -> T>);

/// Receivers of a signal that no struct declares.
pub(crate) struct Dynamic;

impl<T: Signal> Shape for Typed<T> {
    type Call = TypedCall<T>;

    fn adapt(record: &Record) -> Option<Arc<TypedCall<T>>> {
        match &record.func {
            RecordFn::Typed(any) => any.downcast_ref::<Arc<TypedCall<T>>>().cloned(),
            RecordFn::Dynamic(by_name) => {
                let by_name = by_name.clone();
                Some(Arc::new(move |sender: &T::Sender, args: &T| match by_name(
                    &sender.sender_key(),
                    args,
                ) {
                    Outcome::Value(()) | Outcome::Done => Outcome::Done,
                    Outcome::Gone => Outcome::Gone,
                    Outcome::Failed(e) => Outcome::Failed(e),
                }))
            }
        }
    }

    fn send_dyn(
        snapshot: &Snapshot<Self>,
        core: &'static SignalCore,
        generation: u64,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
        mode: Mode,
    ) -> Result<SendReport, Error> {
        let Some(args) = args.downcast_ref::<T>() else {
            return Err(Error::WrongKwargs {
                signal: core.qualified.to_owned(),
                expected: std::any::type_name::<T>(),
                got: args.bag_type_name(),
            });
        };
        let Some(sender) = T::Sender::from_sender_key(key) else {
            return Err(Error::SenderNotRecoverable {
                signal: core.qualified.to_owned(),
                sender_type: std::any::type_name::<T::Sender>(),
                key: key.to_string(),
            });
        };
        if !core.live.load(Ordering::Acquire) {
            return Ok(SendReport::default());
        }
        let entries = snapshot.entries_for(key);
        Ok(deliver(
            core,
            generation,
            entries,
            mode,
            |call| call(sender, args),
            |_, _| {},
        ))
    }
}

impl Shape for Dynamic {
    type Call = DynCall;

    fn adapt(record: &Record) -> Option<Arc<DynCall>> {
        match &record.func {
            RecordFn::Dynamic(f) => Some(f.clone()),
            RecordFn::Typed(_) => None,
        }
    }

    fn send_dyn(
        snapshot: &Snapshot<Self>,
        core: &'static SignalCore,
        generation: u64,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
        mode: Mode,
    ) -> Result<SendReport, Error> {
        if !core.live.load(Ordering::Acquire) {
            return Ok(SendReport::default());
        }
        let entries = snapshot.entries_for(key);
        Ok(deliver(
            core,
            generation,
            entries,
            mode,
            |call| call(key, args),
            |_, _| {},
        ))
    }
}

/// The receivers of one signal at one moment.
pub(crate) struct Snapshot<Sh: Shape> {
    any: Box<[Entry<Sh::Call>]>,
    by_sender: HashTable<SenderList<Sh::Call>>,
}

fn hash_key(key: &SenderKey<'_>) -> u64 {
    FixedState::with_seed(0x5157_4e41_4c53).hash_one(key)
}

impl<Sh: Shape> Snapshot<Sh> {
    fn build(records: &[Record]) -> Self {
        let adapted: Vec<(&Record, Entry<Sh::Call>)> = records
            .iter()
            .filter(|r| r.blocks == 0)
            .filter_map(|r| {
                let call = Sh::adapt(r)?;
                Some((
                    r,
                    Entry {
                        call,
                        active: r.active.clone(),
                        info: r.info.clone(),
                        alive: r.alive.clone(),
                    },
                ))
            })
            .collect();
        let any = merged(&adapted, |filter| *filter == SenderFilter::Any);
        let mut by_sender: HashTable<SenderList<Sh::Call>> = HashTable::new();
        for (record, _) in &adapted {
            let SenderFilter::Only(key) = &record.filter else {
                continue;
            };
            let hash = hash_key(key);
            if by_sender.find(hash, |l| l.key == *key).is_some() {
                continue;
            }
            let entries = merged(&adapted, |filter| filter.matches(key));
            by_sender.insert_unique(
                hash,
                SenderList {
                    key: key.clone(),
                    hash,
                    entries,
                },
                |l| l.hash,
            );
        }
        Snapshot { any, by_sender }
    }

    /// The receivers a send from `key` calls, in order.
    pub(crate) fn entries_for(&self, key: &SenderKey<'_>) -> &[Entry<Sh::Call>] {
        self.entries_for_with(|| key.reborrow())
    }

    /// Like [`entries_for`](Self::entries_for), computing the key only when some receiver
    /// filters on a sender.
    #[inline]
    pub(crate) fn entries_for_with<'k>(
        &self,
        key: impl FnOnce() -> SenderKey<'k>,
    ) -> &[Entry<Sh::Call>] {
        if self.by_sender.is_empty() {
            return &self.any;
        }
        let key = key();
        match self.by_sender.find(hash_key(&key), |l| l.key == key) {
            Some(list) => &list.entries,
            None => &self.any,
        }
    }
}

/// The entries whose filter `select` accepts, in connection order, each receiver once (at
/// its first connection's place: the same function may be connected for every sender and for
/// one, or by two plugins).
fn merged<C: ?Sized>(
    adapted: &[(&Record, Entry<C>)],
    select: impl Fn(&SenderFilter) -> bool,
) -> Box<[Entry<C>]> {
    let mut seen = Vec::new();
    adapted
        .iter()
        .filter(|(r, _)| select(&r.filter))
        .filter(|(r, _)| {
            let fresh = !seen.contains(&&r.info.id);
            seen.push(&r.info.id);
            fresh
        })
        .map(|(_, e)| e.clone())
        .collect()
}

/// What every snapshot offers whatever its shape.
pub(crate) trait ErasedSnapshot: Any + Send + Sync {
    /// The descriptions of the receivers a send from `key` would call, in order.
    fn receivers_for(&self, key: &SenderKey<'_>) -> Vec<Arc<ReceiverInfo>>;
    /// Whether a send from `key` would call at least one receiver.
    fn has_receivers_for(&self, key: &SenderKey<'_>) -> bool;
    /// A by-name send.
    fn send_dyn(
        &self,
        core: &'static SignalCore,
        generation: u64,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
        mode: Mode,
    ) -> Result<SendReport, Error>;
}

impl<Sh: Shape> ErasedSnapshot for Snapshot<Sh> {
    fn receivers_for(&self, key: &SenderKey<'_>) -> Vec<Arc<ReceiverInfo>> {
        self.entries_for(key)
            .iter()
            .filter(|e| e.would_run())
            .map(|e| e.info.clone())
            .collect()
    }

    fn has_receivers_for(&self, key: &SenderKey<'_>) -> bool {
        self.entries_for(key).iter().any(Entry::would_run)
    }

    fn send_dyn(
        &self,
        core: &'static SignalCore,
        generation: u64,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
        mode: Mode,
    ) -> Result<SendReport, Error> {
        Sh::send_dyn(self, core, generation, key, args, mode)
    }
}

pub(crate) fn build_typed<T: Signal>(records: &[Record]) -> SharedSnapshot {
    Arc::new(Snapshot::<Typed<T>>::build(records))
}

pub(crate) fn build_dynamic(records: &[Record]) -> SharedSnapshot {
    Arc::new(Snapshot::<Dynamic>::build(records))
}

/// A snapshot held for the length of one send, and the generation it was current at.
pub(crate) struct Pinned {
    snapshot: Rc<SharedSnapshot>,
    pub(crate) generation: u64,
}

impl Pinned {
    pub(crate) fn erased(&self) -> &dyn ErasedSnapshot {
        &**self.snapshot
    }

    /// The snapshot as typed for `T`, when the signal is declared by `T`.
    pub(crate) fn typed<T: Signal>(&self) -> Option<&Snapshot<Typed<T>>> {
        let any: &dyn Any = self.erased();
        any.downcast_ref()
    }
}

struct CachedSnapshot {
    generation: u64,
    snapshot: Rc<SharedSnapshot>,
}

thread_local! {
    static CACHE: RefCell<Vec<Option<CachedSnapshot>>> = const { RefCell::new(Vec::new()) };
}

/// The current snapshot of `core`, from this thread's cache when it is still current.
#[inline]
pub(crate) fn pin(core: &SignalCore) -> Pinned {
    let generation = core.generation.load(Ordering::Acquire);
    let cached = CACHE
        .try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            match cache.get(core.id) {
                Some(Some(c)) if c.generation == generation => Some(c.snapshot.clone()),
                _ => None,
            }
        })
        .ok()
        .flatten();
    let snapshot = match cached {
        Some(snapshot) => snapshot,
        None => refresh(core, generation),
    };
    Pinned {
        snapshot,
        generation,
    }
}

/// Fetches the current snapshot under the signal's mutex and caches it for this thread.
#[cold]
fn refresh(core: &SignalCore, generation: u64) -> Rc<SharedSnapshot> {
    let fresh = Rc::new(core.current_snapshot());
    let replaced = CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            if cache.len() <= core.id {
                cache.resize_with(core.id + 1, || None);
            }
            cache[core.id].replace(CachedSnapshot {
                generation,
                snapshot: fresh.clone(),
            })
        })
        .ok()
        .flatten();
    // Dropped after the cache is released: it may free receivers whose `Drop` sends signals.
    drop(replaced);
    fresh
}
