//! Plugin-owned subscribers across crates: `reg_audit` owns subscribers in
//! `registry-subscribers-only` and in `registry-by-name`; `reg_pinger` owns one. Neither has a
//! `#[plugin]` type: the subscribers' `plugin = "..."` is enough.
//!
//! Plugins are process-wide: every test here holds `SERIAL` for its whole run.
#![deny(warnings)]

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use registry_declaring::{DatasetCreated, JobFinished, Ping, ResourceDownloaded};
use signals_core::plugins::{self, PluginError};
use signals_core::Signal;

signals_core::link!(registry_subscribers_only, registry_by_name);

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the lock and starts from no plugin loaded (a failed test may have left one).
fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    plugins::unload_all();
    guard
}

type Trace = Arc<Mutex<Vec<String>>>;

/// Who runs for `DatasetCreated` from "web", for `ResourceDownloaded` from "r-3" and what
/// `JobFinished` from 7 collects.
fn observe() -> (Vec<String>, Vec<String>, Vec<i64>) {
    let trace = Trace::default();
    let report = DatasetCreated {
        name: "d".into(),
        tags: vec![],
        trace: trace.clone(),
    }
    .send("web");
    assert!(report.is_ok(), "{report:?}");
    let datasets = trace.lock().unwrap().clone();

    let trace = Trace::default();
    let report = ResourceDownloaded {
        bytes: 1,
        trace: trace.clone(),
    }
    .send("r-3");
    assert!(report.is_ok(), "{report:?}");
    let resources = trace.lock().unwrap().clone();

    let collected = JobFinished { value: 3 }.sending(&7).collect().run();
    assert!(collected.report.is_ok(), "{:?}", collected.report);
    (datasets, resources, collected.into_values())
}

fn pings() -> usize {
    Ping.send("x").receivers_called()
}

#[test]
fn plugin_subscribers_run_only_while_their_plugin_is_loaded() {
    let _serial = serial();
    let unloaded = (
        vec![
            r#"dataset_by_name "web" d []"#.to_owned(),
            "record_dataset web d []".to_owned(),
        ],
        vec![r#"resource_by_name "r-3" 1"#.to_owned()],
        vec![6, -3],
    );
    assert_eq!(observe(), unloaded, "inactive before any load");
    assert!(!plugins::is_loaded("reg_audit"));

    plugins::load("reg_audit").unwrap();
    assert!(plugins::is_loaded("reg_audit"));
    assert_eq!(plugins::loaded(), ["reg_audit"]);
    // Connected on load, so after the start-up subscribers; from both crates that name it.
    let loaded = (
        vec![
            r#"dataset_by_name "web" d []"#.to_owned(),
            "record_dataset web d []".to_owned(),
            "audit_dataset web d".to_owned(),
        ],
        vec![
            r#"resource_by_name "r-3" 1"#.to_owned(),
            r#"audit_resource_by_name "r-3""#.to_owned(),
        ],
        vec![6, -3, 300],
    );
    assert_eq!(observe(), loaded, "active after load");
    // Its sender filter still holds: `audit_job` listens to 7 only.
    assert_eq!(
        JobFinished { value: 3 }
            .sending(&8)
            .collect()
            .run()
            .into_values(),
        [6]
    );
    let audit_job = JobFinished::signal()
        .named()
        .receivers_for(&7)
        .into_iter()
        .find(|r| r.name == "registry_subscribers_only::audit_job")
        .expect("audit_job is connected");
    assert_eq!(audit_job.plugin.as_deref(), Some("reg_audit"));
    // Another plugin's subscribers stay off.
    assert_eq!(pings(), 0);

    plugins::unload("reg_audit").unwrap();
    assert!(!plugins::is_loaded("reg_audit"));
    assert!(plugins::loaded().is_empty());
    assert_eq!(observe(), unloaded, "inactive after unload");

    // A plugin can be loaded again after an unload.
    plugins::load("reg_audit").unwrap();
    assert_eq!(observe(), loaded, "active after a second load");
    plugins::unload("reg_audit").unwrap();
    assert_eq!(observe(), unloaded);
}

#[test]
fn use_plugin_loads_for_a_scope() {
    let _serial = serial();
    assert_eq!(pings(), 0);
    {
        let _pinger = plugins::use_plugin("reg_pinger").unwrap();
        assert!(plugins::is_loaded("reg_pinger"));
        assert_eq!(pings(), 1);
    }
    assert!(!plugins::is_loaded("reg_pinger"));
    assert_eq!(pings(), 0);

    // Unloaded by hand inside the scope: the guard's drop is quiet.
    {
        let pinger = plugins::use_plugin("reg_pinger").unwrap();
        plugins::unload("reg_pinger").unwrap();
        assert_eq!(pings(), 0);
        drop(pinger);
    }
    assert!(!plugins::is_loaded("reg_pinger"));

    // Two plugins' scopes nest.
    {
        let _audit = plugins::use_plugin("reg_audit").unwrap();
        {
            let _pinger = plugins::use_plugin("reg_pinger").unwrap();
            assert_eq!(plugins::loaded(), ["reg_audit", "reg_pinger"]);
        }
        assert_eq!(plugins::loaded(), ["reg_audit"]);
        assert_eq!(pings(), 0);
    }
    assert!(plugins::loaded().is_empty());
}

#[test]
fn loading_an_unknown_plugin_names_the_linked_ones_and_the_fix() {
    let _serial = serial();
    let err = plugins::load("reg_nope").unwrap_err();
    assert!(matches!(err, PluginError::Unknown { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "no plugin named `reg_nope` is linked into this binary; linked plugins: reg_audit, \
         reg_pinger. If `reg_nope` lives in another crate, add that crate as a dependency and \
         write `signals_core::link!(that_crate);` once in the host"
    );
    assert!(plugins::loaded().is_empty());
    assert!(plugins::use_plugin("reg_nope").is_err());

    let err = plugins::load("reg audit").unwrap_err();
    assert!(matches!(err, PluginError::InvalidName(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid plugin name \"reg audit\": the character at byte 3 is not allowed; use only \
         ASCII letters, digits, `_`, `.` and `-`"
    );
}

#[test]
fn loading_twice_is_an_error_and_connects_nothing_more() {
    let _serial = serial();
    plugins::load("reg_pinger").unwrap();
    let err = plugins::load("reg_pinger").unwrap_err();
    assert_eq!(
        err,
        PluginError::AlreadyLoaded {
            name: "reg_pinger".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "plugin `reg_pinger` is already loaded; unload it first, or load it only once"
    );
    assert_eq!(pings(), 1, "its subscriber runs once, not twice");

    // `use_plugin` of a loaded plugin fails too, and its failure unloads nothing.
    let err = plugins::use_plugin("reg_pinger").unwrap_err();
    assert!(matches!(err, PluginError::AlreadyLoaded { .. }), "{err:?}");
    assert!(plugins::is_loaded("reg_pinger"));
    assert_eq!(pings(), 1);

    plugins::unload("reg_pinger").unwrap();
    assert_eq!(pings(), 0);
}

#[test]
fn unloading_a_plugin_that_is_not_loaded_is_an_error() {
    let _serial = serial();
    let err = plugins::unload("reg_audit").unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `reg_audit` is not loaded, so it cannot be unloaded; loaded plugins: (none)"
    );

    plugins::load("reg_pinger").unwrap();
    let err = plugins::unload("reg_audit").unwrap_err();
    assert_eq!(
        err,
        PluginError::NotLoaded {
            name: "reg_audit".into(),
            loaded: "reg_pinger".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "plugin `reg_audit` is not loaded, so it cannot be unloaded; loaded plugins: reg_pinger"
    );
    // The failed unload left the loaded plugin alone.
    assert_eq!(pings(), 1);

    // Unloading twice: the second is an error.
    plugins::unload("reg_pinger").unwrap();
    assert!(matches!(
        plugins::unload("reg_pinger"),
        Err(PluginError::NotLoaded { .. })
    ));
    assert_eq!(pings(), 0);
}
