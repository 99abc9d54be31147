//! Typed signals: a struct whose fields are the signal's keyword arguments (`signal.rs`), the
//! cell each type resolves its signal through (`cell.rs`), the typed handle (`handle.rs`),
//! the way of a typed send (`dispatch.rs`), and the adapter from the engine's records to the
//! struct's receivers (`shape.rs`).

pub(crate) mod cell;
pub(crate) mod dispatch;
pub(crate) mod handle;
pub(crate) mod shape;
pub(crate) mod signal;
