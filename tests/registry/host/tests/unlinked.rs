//! The pitfall `signals_core::link!` exists for. This binary is built with exactly the same
//! dependencies as `link.rs` (Cargo passes `--extern registry_subscribers_only=...` to both),
//! but names only `registry-declaring`. rustc does not load a dependency that nothing names,
//! does not pass its rlib to the linker, and its link-time registrations are silently absent.
//!
//! If this test starts failing, rustc links unreferenced dependencies now: `link!` is then
//! harmless but no longer needed, and this file should go.
#![deny(warnings)]

use std::sync::{Arc, Mutex};

use registry_declaring::DatasetCreated;
use signals_core::{plugins, registry, Signal};

#[test]
fn a_dependency_nothing_names_has_no_registrations() {
    // The crate this binary does name is linked, with its declarations (4, and signals-core's
    // 2 meta-signals).
    assert_eq!(registry().signals().len(), 6);

    // The dependency it does not name is not: no subscriber, no plugin, no error either.
    assert!(
        registry().subscribers().is_empty(),
        "{:?}",
        registry().subscribers()
    );
    assert!(registry().plugins().is_empty());
    assert!(registry().problems().is_empty());

    let trace = Arc::new(Mutex::new(Vec::new()));
    let report = DatasetCreated {
        name: "unlinked".into(),
        tags: vec![],
        trace: trace.clone(),
    }
    .send("api");
    assert_eq!(report.receivers_called(), 0);
    assert!(trace.lock().unwrap().is_empty());

    // The only symptom at run time is that the plugin is unknown; the error says the fix.
    assert_eq!(
        plugins::load("reg_audit").unwrap_err().to_string(),
        "no plugin named `reg_audit` is linked into this binary; linked plugins: (none). If \
         `reg_audit` lives in another crate, add that crate as a dependency and write \
         `signals_core::link!(that_crate);` once in the host"
    );
}
