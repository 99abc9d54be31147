//! Delivery across crates: `registry-declaring` declares the signals, `registry-subscribers-only`
//! subscribes by type, `registry-by-name` by name; this binary sends and checks who ran, in
//! which order, with which values and which failures.
//!
//! Nothing here loads a plugin or connects at run time, so the receivers of every signal are
//! fixed and the tests may run in parallel: each send carries its own trace.
#![deny(warnings)]

use std::sync::{Arc, Mutex};

use registry_declaring::{DatasetCreated, JobFinished, ResourceDownloaded};
use signals_core::{Collected, FailureKind, Signal};

signals_core::link!(registry_subscribers_only, registry_by_name);

const SUBSCRIBERS_ONLY: &str = "tests/registry/subscribers-only/src/lib.rs";
const BY_NAME: &str = "tests/registry/by-name/src/lib.rs";

type Trace = Arc<Mutex<Vec<String>>>;

fn lines(trace: &Trace) -> Vec<String> {
    trace.lock().unwrap().clone()
}

/// The values of a collecting send, leaving its report in place.
fn values<O: Copy>(collected: &Collected<O>) -> Vec<O> {
    collected.responses.iter().map(|r| r.value).collect()
}

fn dataset(name: &str, tags: &[&str]) -> (DatasetCreated, Trace) {
    let trace = Trace::default();
    let event = DatasetCreated {
        name: name.to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        trace: trace.clone(),
    };
    (event, trace)
}

fn resource(bytes: u64) -> (ResourceDownloaded, Trace) {
    let trace = Trace::default();
    let event = ResourceDownloaded {
        bytes,
        trace: trace.clone(),
    };
    (event, trace)
}

/// The line (from 1) of the first line of `source` that contains `needle`.
fn line_of(source: &str, needle: &str) -> u32 {
    let index = source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in the source"));
    u32::try_from(index).unwrap() + 1
}

#[test]
fn typed_and_by_name_subscribers_run_once_each_in_path_order() {
    let (event, trace) = dataset("d1", &["a", "b"]);
    let report = event.send("api");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 3);
    // Link-time subscribers connect sorted by path, whatever the declaration or link order:
    // `registry_by_name::*` first, then `api_only` before `record_dataset` although
    // `record_dataset` is written first.
    assert_eq!(
        lines(&trace),
        [
            r#"dataset_by_name "api" d1 ["a", "b"]"#,
            "api_only api d1",
            r#"record_dataset api d1 ["a", "b"]"#,
        ]
    );

    // Sending again delivers again, to the same receivers: nothing is consumed.
    let report = event.send("api");
    assert_eq!(report.receivers_called(), 3);
    assert_eq!(lines(&trace).len(), 6);
}

#[test]
fn a_string_sender_filter_skips_other_senders() {
    let (event, trace) = dataset("d2", &[]);
    let report = event.send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(
        lines(&trace),
        [r#"dataset_by_name "web" d2 []"#, "record_dataset web d2 []"]
    );

    // Filters compare the whole string: "api " is not "api".
    let (event, trace) = dataset("d3", &[]);
    assert_eq!(event.send("api ").receivers_called(), 2);
    assert!(!lines(&trace).iter().any(|l| l.starts_with("api_only")));
}

#[test]
fn the_renamed_signal_reaches_typed_and_by_name_subscribers() {
    assert_eq!(ResourceDownloaded::NAME, "resource.downloaded");

    let (event, trace) = resource(42);
    let report = event.send("r-1");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(
        lines(&trace),
        [r#"resource_by_name "r-1" 42"#, "resource_r1 r-1 42"]
    );

    let (event, trace) = resource(7);
    let report = event.send("r-3");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(lines(&trace), [r#"resource_by_name "r-3" 7"#]);
}

#[test]
fn sending_collect_returns_each_typed_value_in_connection_order() {
    // Every sender: `double` only.
    let collected = JobFinished { value: 5 }.sending(&1).collect().run();
    assert!(collected.report.is_ok(), "{:?}", collected.report);
    assert_eq!(values(&collected), [10]);
    assert_eq!(collected.report.receivers_called(), 1);

    // Sender 7: the by-name `job_seen` runs first (path order) but has no value to give;
    // then `double` and `negate_seven`.
    let collected = JobFinished { value: 5 }.sending(&7).collect().run();
    assert!(collected.report.is_ok(), "{:?}", collected.report);
    assert_eq!(collected.report.receivers_called(), 3);
    assert_eq!(values(&collected), [10, -5]);
    let names: Vec<&str> = collected
        .responses
        .iter()
        .map(|r| &*r.receiver.name)
        .collect();
    assert_eq!(
        names,
        [
            "registry_subscribers_only::double",
            "registry_subscribers_only::negate_seven"
        ]
    );

    // A negative integer filter.
    let collected = JobFinished { value: 5 }.sending(&-3).collect().run();
    assert_eq!(collected.into_values(), [10, 1005]);

    // Integer filters compare by value and sign: -7 is not 7, 3 is not -3.
    assert_eq!(
        JobFinished { value: 5 }
            .sending(&-7)
            .collect()
            .run()
            .into_values(),
        [10]
    );
    assert_eq!(
        JobFinished { value: 5 }
            .sending(&3)
            .collect()
            .run()
            .into_values(),
        [10]
    );
}

#[test]
fn the_receivers_of_a_sender_are_listed_with_path_location_and_no_plugin() {
    let receivers = JobFinished::signal().named().receivers_for(&7);
    let described: Vec<(&str, &str)> = receivers
        .iter()
        .map(|r| (&*r.name, r.location.file))
        .collect();
    assert_eq!(
        described,
        [
            ("registry_by_name::job_seen", BY_NAME),
            ("registry_subscribers_only::double", SUBSCRIBERS_ONLY),
            ("registry_subscribers_only::negate_seven", SUBSCRIBERS_ONLY),
        ]
    );
    assert!(receivers.iter().all(|r| r.plugin.is_none() && !r.is_async));
}

#[test]
fn a_typed_error_is_reported_with_the_subscribers_path_and_location() {
    let collected = JobFinished { value: 2 }.sending(&13).collect().run();
    // The send goes on after the failure: `double` still ran and returned its value.
    assert_eq!(collected.report.receivers_called(), 2);
    assert_eq!(values(&collected), [4]);
    let failures = collected.report.failures();
    assert_eq!(failures.len(), 1);
    let failure = &failures[0];
    assert_eq!(
        failure.receiver.name,
        "registry_subscribers_only::fail_on_13"
    );
    let line = line_of(
        include_str!("../../subscribers-only/src/lib.rs"),
        "fn fail_on_13(",
    );
    assert_eq!(failure.receiver.location.file, SUBSCRIBERS_ONLY);
    assert_eq!(failure.receiver.location.line, line);
    assert_eq!(failure.receiver.location.column, 4);
    assert!(
        matches!(&failure.kind, FailureKind::Error(e) if e.to_string() == "13 is unlucky"),
        "{:?}",
        failure.kind
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "receiver `registry_subscribers_only::fail_on_13` at {SUBSCRIBERS_ONLY}:{line}:4 \
             returned an error: 13 is unlucky"
        )
    );
}

#[test]
fn a_by_name_error_is_reported_with_the_subscribers_path_and_location() {
    let (event, trace) = resource(9);
    let report = event.send("r-2");
    assert_eq!(report.receivers_called(), 2);
    // The subscriber before it ran; the failing one is reported, not fatal.
    assert_eq!(lines(&trace), [r#"resource_by_name "r-2" 9"#]);
    let line = line_of(include_str!("../../by-name/src/lib.rs"), "fn bytes_as_u32(");
    let failure = report.into_result().unwrap_err();
    assert_eq!(
        failure.to_string(),
        format!(
            "receiver `registry_by_name::bytes_as_u32` at {BY_NAME}:{line}:4 returned an \
             error: keyword argument `bytes` is a `u64`, not a `u32`; read it as `u64`"
        )
    );
}

#[test]
fn by_name_subscribers_are_connected_to_the_declared_signal_not_a_twin() {
    // The by-name crate never names `DatasetCreated`, yet its subscriber is connected to the
    // very signal the struct declares: by-name lookups find the declaration.
    let named = signals_core::Namespace::get("reg")
        .unwrap()
        .signal("dataset_created")
        .unwrap();
    assert_eq!(named, DatasetCreated::named());
    assert_eq!(
        named.declaration().map(|d| d.type_name),
        Some(std::any::type_name::<DatasetCreated>())
    );
    let names: Vec<String> = named
        .connections()
        .iter()
        .map(|c| format!("{} ({})", c.receiver.name, c.filter))
        .collect();
    assert_eq!(
        names,
        [
            "registry_by_name::dataset_by_name (any sender)",
            r#"registry_subscribers_only::api_only (sender "api")"#,
            "registry_subscribers_only::record_dataset (any sender)",
        ]
    );
}
