//! Signals seen by name: the handle every signal has, declared or not (`handle.rs`), and
//! how a by-name send reaches typed and by-name receivers (`send.rs`).

pub(crate) mod handle;
pub(crate) mod send;
