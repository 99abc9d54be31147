//! The engine: each signal's state and connection records (`signal.rs`), the snapshots of
//! its receivers that sends read (`snapshot.rs`), the store of entries they share
//! (`slots.rs`), each entry's callable (`callable.rs`) and the closures they keep after a disconnection (`retire.rs`), how a send
//! finds its snapshot without a lock in steady state (`cache.rs`), the delivery loops (`deliver.rs`), the hook through which it tells
//! the layers above of every change (`hook.rs`), and, with the `tracing` feature, the
//! failures and sends it logs (`trace.rs`).
//!
//! The engine imports nothing above it: not the typed or by-name handles, the registry,
//! plugins, meta-signals or listings. `.ci/layers` checks this on every run.

pub(crate) mod cache;
pub(crate) mod callable;
pub(crate) mod deliver;
pub(crate) mod hook;
pub(crate) mod retire;
pub(crate) mod signal;
pub(crate) mod slots;
pub(crate) mod snapshot;
pub(crate) mod sync;
#[cfg(feature = "tracing")]
pub(crate) mod trace;

/// What a signal and a connection are made of, in bytes on a 64-bit target: a guard against the structures
/// growing unnoticed (`bench/census.rs` shows the whole of a connection's memory).
#[cfg(all(test, target_pointer_width = "64"))]
mod sizes {
    use std::mem::size_of;

    use crate::engine::signal::{Record, SignalCore};
    use crate::engine::slots::{Entry, EntryMeta};
    use crate::receiver::{ReceiverId, ReceiverInfo};

    #[test]
    fn the_structures_of_a_signal_and_a_connection_keep_their_sizes() {
        type Async = dyn Fn() + Send + Sync;
        assert_eq!(size_of::<Record>(), 120);
        assert_eq!(size_of::<EntryMeta>(), 48);
        assert_eq!(size_of::<Entry<u8, (), Async>>(), 88);
        assert_eq!(size_of::<ReceiverId>(), 24);
        assert_eq!(size_of::<ReceiverInfo>(), 104);
        // A signal's own block (its name and its namespace's entry come on top).
        assert_eq!(size_of::<SignalCore>(), 184);
    }
}
