//! Where a signal type finds its runtime object: a `SignalCell` per type, resolved once.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::by_name::handle::NamedSignal;
use crate::engine::signal::{Binding, SignalCore};
use crate::error::Error;
use crate::namespace::Namespace;
use crate::typed::shape::binding_of;
use crate::typed::signal::Signal;

/// The cached lookup behind [`Signal::named`]: one per signal type, in a `static`.
///
/// The first call finds the signal in its namespace and declares it with the struct type. If
/// the name is invalid or another struct already declares it, the signal lives detached: it
/// still works for its own typed receivers, by-name lookups do not reach it, and
/// [`TypedSignal::check`](crate::TypedSignal::check) (and the registry) report why. One cell per signal type, in a
/// `static` ([`SignalCell::new`]); [`SignalCell::resolve`] shows a whole hand-written impl.
#[derive(Debug)]
pub struct SignalCell {
    cell: OnceLock<NamedSignal>,
}

impl SignalCell {
    /// An empty cell, for a `static`. See [`Signal`] for a whole hand-written impl.
    ///
    /// ```
    /// use signals_core::SignalCell;
    ///
    /// static CELL: SignalCell = SignalCell::new();
    /// # let _ = &CELL;
    /// ```
    pub const fn new() -> Self {
        SignalCell {
            cell: OnceLock::new(),
        }
    }

    /// The signal for `T`, resolved on first use. Call it only from `T`'s own
    /// [`Signal::named`], with a cell that serves `T` alone: the cell keeps the first signal
    /// it resolved, whatever type asks later.
    ///
    /// ```
    /// use signals_core::{Kwarg, Kwargs, NamedSignal, Signal, SignalCell};
    ///
    /// struct Ping;
    /// impl Kwargs for Ping {
    ///     fn kwarg(&self, _: &str) -> Option<Kwarg<'_>> { None }
    ///     fn kwargs(&self) -> Vec<Kwarg<'_>> { Vec::new() }
    /// }
    /// impl Signal for Ping {
    ///     type Sender = str;
    ///     type Output = ();
    ///     const NAMESPACE: &'static str = "doc_signal_cell";
    ///     const NAME: &'static str = "ping";
    ///     fn named() -> NamedSignal {
    ///         static CELL: SignalCell = SignalCell::new();
    ///         CELL.resolve::<Self>()
    ///     }
    /// }
    ///
    /// assert_eq!(Ping::named().qualified_name(), "doc_signal_cell.ping");
    /// assert!(Ping::signal().check().is_ok());
    /// ```
    #[inline]
    pub fn resolve<T: Signal>(&self) -> NamedSignal {
        if let Some(signal) = self.cell.get() {
            return *signal;
        }
        // While this thread builds the registry, resolve without caching: a cell is filled only
        // once the registry is built, so another thread that finds it filled knows every
        // link-time subscriber is connected.
        if crate::startup::building_here() {
            return resolve::<T>();
        }
        crate::startup::ensure_started();
        *self.cell.get_or_init(resolve::<T>)
    }
}

impl Default for SignalCell {
    fn default() -> Self {
        Self::new()
    }
}

fn resolve<T: Signal>() -> NamedSignal {
    let binding = binding_of::<T>();
    let attached = Namespace::get(T::NAMESPACE)
        .and_then(|ns| ns.signal(T::NAME))
        .and_then(|signal| signal.core().bind(binding).map(|()| signal));
    match attached {
        Ok(signal) => signal,
        Err(error) => detached::<T>(binding, error),
    }
}

/// The one detached signal of `T` (created on first need, then reused).
fn detached<T: Signal>(binding: Binding, error: Error) -> NamedSignal {
    static DETACHED: Mutex<BTreeMap<TypeId, &'static SignalCore>> = Mutex::new(BTreeMap::new());
    let mut all = DETACHED.lock().unwrap_or_else(PoisonError::into_inner);
    let core = all
        .entry(TypeId::of::<T>())
        .or_insert_with(|| SignalCore::leak(T::NAMESPACE, T::NAME, Some(binding), Some(error)));
    NamedSignal::from_core(core)
}
