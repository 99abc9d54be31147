//! Compile-time errors of `#[signal]`, `#[subscriber]` and `#[plugin]`: each misuse is reported
//! once, at the token that is wrong, with a message that says how to fix it.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p signals-core --test ui`
//! and read every changed `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/signal_*.rs");
    t.compile_fail("tests/ui/subscriber_*.rs");
    t.compile_fail("tests/ui/plugin_*.rs");
    t.compile_fail("tests/ui/receiver_*.rs");
}
