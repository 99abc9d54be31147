//! The engine: each signal's state and connection records (`signal.rs`), the immutable
//! receiver lists sends read (`snapshot.rs`, `calls.rs`), how a send finds them without a
//! lock (`cache.rs`), the delivery loops (`deliver.rs`), the hook through which it tells
//! the layers above of every change (`hook.rs`), and, with the `tracing` feature, the
//! failures and sends it logs (`trace.rs`).
//!
//! The engine imports nothing above it: not the typed or by-name handles, the registry,
//! plugins, meta-signals or listings. `.ci/layers` checks this on every run.

pub(crate) mod cache;
pub(crate) mod calls;
pub(crate) mod deliver;
pub(crate) mod hook;
pub(crate) mod signal;
pub(crate) mod snapshot;
pub(crate) mod sync;
#[cfg(feature = "tracing")]
pub(crate) mod trace;
