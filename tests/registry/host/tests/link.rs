//! The linking path: this binary names `registry-subscribers-only` only through
//! `signals_core::link!`, and that one line brings in its subscribers and its plugins.
//!
//! The crate has nothing public, so no other reference to it is even possible.
//! `registry-by-name` is a dependency of this package too, but this binary does not name it,
//! so its subscribers are not here (`unlinked.rs` shows the same for the plugin crate).
#![deny(warnings)]

use std::sync::{Arc, Mutex};

use registry_declaring::{DatasetCreated, JobFinished};
use signals_core::{plugins, registry, Signal};

signals_core::link!(registry_subscribers_only);

#[test]
fn a_crate_named_only_by_link_has_its_registrations_present() {
    let listed: Vec<(Option<&str>, &str)> = registry()
        .subscribers()
        .iter()
        .map(|s| (s.plugin(), s.path()))
        .collect();
    assert_eq!(
        listed,
        [
            (None, "registry_subscribers_only::api_only"),
            (None, "registry_subscribers_only::double"),
            (None, "registry_subscribers_only::fail_on_13"),
            (None, "registry_subscribers_only::negate_seven"),
            (None, "registry_subscribers_only::offset_negative"),
            (None, "registry_subscribers_only::record_dataset"),
            (None, "registry_subscribers_only::resource_r1"),
            (
                Some("reg_audit"),
                "registry_subscribers_only::audit_dataset"
            ),
            (Some("reg_audit"), "registry_subscribers_only::audit_job"),
            (Some("reg_pinger"), "registry_subscribers_only::pong"),
        ],
        "exactly the linked crate's subscribers; none of `registry-by-name`, which is not named"
    );
    let plugins: Vec<&str> = registry().plugins().iter().map(|p| p.name).collect();
    assert_eq!(plugins, ["reg_audit", "reg_pinger"]);
    assert!(
        registry().problems().is_empty(),
        "{:?}",
        registry().problems()
    );
}

#[test]
fn a_crate_named_only_by_link_receives_signals_and_its_plugins_load() {
    let trace = Arc::new(Mutex::new(Vec::new()));
    let report = DatasetCreated {
        name: "linked".into(),
        tags: vec![],
        trace: trace.clone(),
    }
    .send("api");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        *trace.lock().unwrap(),
        ["api_only api linked", "record_dataset api linked []"]
    );

    plugins::load("reg_audit").unwrap();
    assert_eq!(
        JobFinished { value: 2 }
            .sending(&7)
            .collect()
            .run()
            .into_values(),
        [4, -2, 200]
    );
    plugins::unload("reg_audit").unwrap();
    assert_eq!(
        JobFinished { value: 2 }
            .sending(&7)
            .collect()
            .run()
            .into_values(),
        [4, -2]
    );
}
