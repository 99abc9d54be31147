//! The registry tests' host. The tests are in `tests/`, one binary per concern; this library
//! is empty on purpose and references no crate, so that each test binary links exactly the
//! crates it names (see `tests/link.rs` and `tests/unlinked.rs`).
