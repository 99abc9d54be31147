//! The registry and the listing, as a host that links `registry-declaring`,
//! `registry-subscribers-only` and `registry-by-name` sees them.
//!
//! Nothing here sends, loads a plugin or connects: the tests only read, so they may run in
//! parallel. Locations are computed from the crates' sources, so moving a line does not break
//! the tests but reporting a wrong line does.
#![deny(warnings)]

use std::any::TypeId;

use registry_declaring::{DatasetCreated, JobFinished, Ping, ResourceDownloaded};
use serde_json::{json, Value};
use signals_core::registry::{SenderDecl, SubscriberDecl, SubscriberTarget};
use signals_core::{registry, Signal, SourceLocation};

signals_core::link!(registry_subscribers_only, registry_by_name);

const DECLARING: &str = "tests/registry/declaring/src/lib.rs";
const SUBSCRIBERS_ONLY: &str = "tests/registry/subscribers-only/src/lib.rs";
const BY_NAME: &str = "tests/registry/by-name/src/lib.rs";

/// The location `file!()`, `line!()` and `column!()` give for `needle`'s line in `file`.
fn location(file: &'static str, needle: &str, column: u32) -> SourceLocation {
    let source = match file {
        DECLARING => include_str!("../../declaring/src/lib.rs"),
        SUBSCRIBERS_ONLY => include_str!("../../subscribers-only/src/lib.rs"),
        BY_NAME => include_str!("../../by-name/src/lib.rs"),
        _ => unreachable!("{file}"),
    };
    let index = source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in {file}"));
    SourceLocation {
        file,
        line: u32::try_from(index).unwrap() + 1,
        column,
    }
}

/// A `#[signal]` struct's location: its name, after `pub struct `.
fn signal_at(name: &str) -> SourceLocation {
    location(DECLARING, &format!("pub struct {name}"), 12)
}

/// A `#[subscriber]` function's location: its name, after `fn `.
fn subscriber_at(file: &'static str, name: &str) -> SourceLocation {
    location(file, &format!("fn {name}("), 4)
}

fn subscriber(path: &str) -> &'static SubscriberDecl {
    registry()
        .subscribers()
        .iter()
        .copied()
        .find(|s| s.path() == path)
        .unwrap_or_else(|| panic!("{path} is not registered"))
}

#[test]
fn declared_signals_are_listed_sorted_by_namespace_and_name() {
    // Declared in the order resource, job, ping, dataset; listed sorted. signals-core's own
    // meta-signals are declared too.
    let signals: Vec<(&str, &str, &str)> = registry()
        .signals()
        .iter()
        .map(|s| (s.namespace(), s.name(), s.rust_type()))
        .collect();
    assert_eq!(
        signals,
        [
            (
                "reg",
                "dataset_created",
                "registry_declaring::DatasetCreated"
            ),
            ("reg", "job_finished", "registry_declaring::JobFinished"),
            ("reg", "ping", "registry_declaring::Ping"),
            (
                "reg",
                "resource.downloaded",
                "registry_declaring::ResourceDownloaded"
            ),
            (
                "signals",
                "receiver_connected",
                "signals_core::ReceiverConnected"
            ),
            (
                "signals",
                "receiver_disconnected",
                "signals_core::ReceiverDisconnected"
            ),
        ]
    );
    assert!(registry().signals().iter().all(|s| s.crate_name()
        == if s.namespace() == "signals" {
            "signals-core"
        } else {
            "registry-declaring"
        }));
    assert!(registry().is_declared("reg", "resource.downloaded"));
    assert!(!registry().is_declared("reg", "resource_downloaded"));
    assert!(!registry().is_declared("reg_undeclared", "nobody_declares_this"));
}

#[test]
fn a_declaration_carries_kwargs_docs_types_and_location() {
    let find = |name: &str| {
        registry()
            .signals()
            .iter()
            .copied()
            .find(|s| s.namespace() == "reg" && s.name() == name)
            .unwrap()
    };

    let dataset = find("dataset_created");
    assert_eq!(
        dataset.docs(),
        "Sent when a dataset is created.\n\nThe sender is the channel it came through \
         (`\"api\"`, `\"web\"`, ...)."
    );
    assert_eq!(dataset.docs(), DatasetCreated::DOCS);
    let kwargs: Vec<(&str, &str, &str)> = dataset
        .kwargs()
        .iter()
        .map(|k| (k.name(), k.type_name(), k.docs()))
        .collect();
    assert_eq!(
        kwargs,
        [
            ("name", "String", "The dataset's name."),
            ("tags", "Vec<String>", "Its tags."),
            (
                "trace",
                "Arc<Mutex<Vec<String>>>",
                "Every subscriber that runs appends a line: the tests read who ran, in which \
                 order."
            ),
        ]
    );
    assert_eq!(
        (dataset.sender_type(), dataset.output_type()),
        ("str", "()")
    );
    assert_eq!(dataset.location(), signal_at("DatasetCreated"));
    assert_eq!(dataset.resolve(), DatasetCreated::named());
    assert_eq!(dataset.type_id(), TypeId::of::<DatasetCreated>());

    let job = find("job_finished");
    assert_eq!((job.sender_type(), job.output_type()), ("i64", "i64"));
    assert_eq!(job.kwargs().len(), 1);
    assert_eq!(
        (job.kwargs()[0].name(), job.kwargs()[0].type_name()),
        ("value", "i64")
    );
    assert_eq!(job.location(), signal_at("JobFinished"));
    assert_eq!(job.resolve(), JobFinished::named());

    let ping = find("ping");
    assert!(ping.kwargs().is_empty());
    assert_eq!(ping.docs(), "A signal without arguments.");
    assert_eq!(ping.location(), signal_at("Ping;"));
    assert_eq!(ping.type_id(), TypeId::of::<Ping>());

    let resource = find("resource.downloaded");
    assert_eq!(
        resource.rust_type(),
        "registry_declaring::ResourceDownloaded"
    );
    assert_eq!(resource.location(), signal_at("ResourceDownloaded"));
    assert_eq!(resource.resolve(), ResourceDownloaded::named());
    assert_eq!(
        ResourceDownloaded::named().qualified_name(),
        "reg.resource.downloaded"
    );
}

#[test]
fn subscribers_are_listed_by_plugin_then_path_from_every_crate() {
    let listed: Vec<(Option<&str>, &str)> = registry()
        .subscribers()
        .iter()
        .map(|s| (s.plugin(), s.path()))
        .collect();
    assert_eq!(
        listed,
        [
            (None, "registry_by_name::bytes_as_u32"),
            (None, "registry_by_name::dataset_by_name"),
            (None, "registry_by_name::job_seen"),
            (None, "registry_by_name::orphan"),
            (None, "registry_by_name::resource_by_name"),
            (None, "registry_subscribers_only::api_only"),
            (None, "registry_subscribers_only::double"),
            (None, "registry_subscribers_only::fail_on_13"),
            (None, "registry_subscribers_only::negate_seven"),
            (None, "registry_subscribers_only::offset_negative"),
            (None, "registry_subscribers_only::record_dataset"),
            (None, "registry_subscribers_only::resource_r1"),
            (
                Some("reg_audit"),
                "registry_by_name::audit_resource_by_name"
            ),
            (
                Some("reg_audit"),
                "registry_subscribers_only::audit_dataset"
            ),
            (Some("reg_audit"), "registry_subscribers_only::audit_job"),
            (Some("reg_pinger"), "registry_subscribers_only::pong"),
        ]
    );
    assert!(registry().subscribers().iter().all(|s| !s.is_async()));
}

#[test]
fn a_subscriber_carries_its_target_sender_and_location() {
    /// Function, its crate's file, the signal, the declared sender, the typed argument.
    type Expected = (
        &'static str,
        &'static str,
        (&'static str, &'static str),
        SenderDecl,
        Option<&'static str>,
    );
    let expected: [Expected; 7] = [
        (
            "registry_subscribers_only::record_dataset",
            SUBSCRIBERS_ONLY,
            ("reg", "dataset_created"),
            SenderDecl::Any,
            Some("DatasetCreated"),
        ),
        (
            "registry_subscribers_only::api_only",
            SUBSCRIBERS_ONLY,
            ("reg", "dataset_created"),
            SenderDecl::Str("api"),
            Some("DatasetCreated"),
        ),
        (
            "registry_subscribers_only::fail_on_13",
            SUBSCRIBERS_ONLY,
            ("reg", "job_finished"),
            SenderDecl::Int(13),
            Some("JobFinished"),
        ),
        (
            "registry_subscribers_only::offset_negative",
            SUBSCRIBERS_ONLY,
            ("reg", "job_finished"),
            SenderDecl::Int(-3),
            Some("JobFinished"),
        ),
        (
            "registry_subscribers_only::resource_r1",
            SUBSCRIBERS_ONLY,
            ("reg", "resource.downloaded"),
            SenderDecl::Str("r-1"),
            Some("ResourceDownloaded"),
        ),
        (
            "registry_by_name::job_seen",
            BY_NAME,
            ("reg", "job_finished"),
            SenderDecl::Int(7),
            None,
        ),
        (
            "registry_by_name::orphan",
            BY_NAME,
            ("reg_undeclared", "nobody_declares_this"),
            SenderDecl::Any,
            None,
        ),
    ];
    for (path, file, signal, sender, typed) in expected {
        let decl = subscriber(path);
        let function = path.rsplit("::").next().unwrap();
        assert_eq!(decl.location(), subscriber_at(file, function), "{path}");
        assert_eq!(decl.signal_name(), signal, "{path}");
        assert_eq!(decl.sender(), sender, "{path}");
        match (decl.target(), typed) {
            (
                SubscriberTarget::Typed {
                    rust_type,
                    namespace,
                    signal: name,
                    ..
                },
                Some(ty),
            ) => {
                assert_eq!(rust_type, ty, "{path}");
                assert_eq!((namespace, name), signal, "{path}");
            }
            (
                SubscriberTarget::ByName {
                    namespace,
                    signal: name,
                    ..
                },
                None,
            ) => {
                assert_eq!((namespace, name), signal, "{path}");
            }
            (target, _) => panic!("{path}: unexpected target {target:?}"),
        }
    }

    let of_resource: Vec<&str> = registry()
        .subscribers_of("reg", "resource.downloaded")
        .map(|s| s.path())
        .collect();
    assert_eq!(
        of_resource,
        [
            "registry_by_name::bytes_as_u32",
            "registry_by_name::resource_by_name",
            "registry_subscribers_only::resource_r1",
            "registry_by_name::audit_resource_by_name",
        ]
    );
}

#[test]
fn plugins_named_only_by_subscribers_are_listed_without_a_declaration() {
    let plugins: Vec<(&str, bool)> = registry()
        .plugins()
        .iter()
        .map(|p| (p.name, p.declaration.is_some()))
        .collect();
    assert_eq!(plugins, [("reg_audit", false), ("reg_pinger", false)]);
    assert!(registry().plugin("reg_pinger").is_some());
    assert!(registry().plugin("reg_nope").is_none());
    assert!(
        registry().problems().is_empty(),
        "{:?}",
        registry().problems()
    );
    assert!(registry().check().is_ok());
}

#[test]
fn the_listing_text_shows_declared_and_undeclared_signals_and_every_subscriber() {
    let text = signals_core::listing().to_string();
    let d = |name| signal_at(name);
    let s = |name| subscriber_at(SUBSCRIBERS_ONLY, name);
    let b = |name| subscriber_at(BY_NAME, name);
    let expected = format!(
        "\
reg.dataset_created
    Sent when a dataset is created.

    The sender is the channel it came through (`\"api\"`, `\"web\"`, ...).
    declared by registry_declaring::DatasetCreated at {}
    sender: str  output: ()
    kwargs: name: String, tags: Vec<String>, trace: Arc<Mutex<Vec<String>>>
    subscribers:
      registry_by_name::dataset_by_name (any sender) at {}
      registry_subscribers_only::api_only (sender \"api\") at {}
      registry_subscribers_only::record_dataset (any sender) at {}
      registry_subscribers_only::audit_dataset (any sender, plugin reg_audit, not connected) at {}
reg.job_finished
    Sent by a numbered job when it finishes; every receiver returns a number.
    declared by registry_declaring::JobFinished at {}
    sender: i64  output: i64
    kwargs: value: i64
    subscribers:
      registry_by_name::job_seen (sender 7) at {}
      registry_subscribers_only::double (any sender) at {}
      registry_subscribers_only::fail_on_13 (sender 13) at {}
      registry_subscribers_only::negate_seven (sender 7) at {}
      registry_subscribers_only::offset_negative (sender -3) at {}
      registry_subscribers_only::audit_job (sender 7, plugin reg_audit, not connected) at {}
reg.ping
    A signal without arguments.
    declared by registry_declaring::Ping at {}
    sender: str  output: ()
    kwargs: (none)
    subscribers:
      registry_subscribers_only::pong (any sender, plugin reg_pinger, not connected) at {}
reg.resource.downloaded
    Sent when a resource is downloaded; registered under a name of its own.
    declared by registry_declaring::ResourceDownloaded at {}
    sender: str  output: ()
    kwargs: bytes: u64, trace: Arc<Mutex<Vec<String>>>
    subscribers:
      registry_by_name::bytes_as_u32 (sender \"r-2\") at {}
      registry_by_name::resource_by_name (any sender) at {}
      registry_subscribers_only::resource_r1 (sender \"r-1\") at {}
      registry_by_name::audit_resource_by_name (any sender, plugin reg_audit, not connected) at {}
reg_undeclared.nobody_declares_this
    not declared by any linked crate (used by name)
    subscribers:
      registry_by_name::orphan (any sender) at {}
",
        d("DatasetCreated"),
        b("dataset_by_name"),
        s("api_only"),
        s("record_dataset"),
        s("audit_dataset"),
        d("JobFinished"),
        b("job_seen"),
        s("double"),
        s("fail_on_13"),
        s("negate_seven"),
        s("offset_negative"),
        s("audit_job"),
        d("Ping;"),
        s("pong"),
        d("ResourceDownloaded"),
        b("bytes_as_u32"),
        b("resource_by_name"),
        s("resource_r1"),
        b("audit_resource_by_name"),
        b("orphan"),
    );
    assert!(
        text.starts_with(&expected),
        "expected the listing to start with\n{expected}\n---- it is\n{text}"
    );
    // No problem lines: the plugins come last.
    assert!(
        text.ends_with(
            "plugins:\n  reg_audit ((subscribers only), not loaded)\n  reg_pinger ((subscribers \
             only), not loaded)\n"
        ),
        "{text}"
    );
}

#[test]
fn the_listing_json_shows_declarations_subscribers_and_plugins() {
    let json = serde_json::to_value(signals_core::listing()).unwrap();
    let find = |namespace: &str, name: &str| -> &Value {
        json["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["namespace"] == namespace && s["name"] == name)
            .unwrap_or_else(|| panic!("{namespace}.{name} is not in {json:#}"))
    };
    let loc = |l: SourceLocation| json!({"file": l.file, "line": l.line, "column": l.column});

    let names: Vec<(&str, &str)> = json["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["namespace"].as_str().unwrap(),
                s["name"].as_str().unwrap(),
            )
        })
        .filter(|(namespace, _)| namespace.starts_with("reg"))
        .collect();
    assert_eq!(
        names,
        [
            ("reg", "dataset_created"),
            ("reg", "job_finished"),
            ("reg", "ping"),
            ("reg", "resource.downloaded"),
            ("reg_undeclared", "nobody_declares_this"),
        ]
    );

    assert_eq!(
        find("reg", "job_finished")["declaration"],
        json!({
            "namespace": "reg",
            "name": "job_finished",
            "rust_type": "registry_declaring::JobFinished",
            "docs": "Sent by a numbered job when it finishes; every receiver returns a number.",
            "kwargs": [{"name": "value", "type": "i64", "docs": "The job's result."}],
            "sender_type": "i64",
            "output_type": "i64",
            "schema": 1,
            "serializable": false,
            "crate_name": "registry-declaring",
            "location": loc(signal_at("JobFinished")),
        })
    );
    let ping = find("reg", "ping");
    assert_eq!(ping["declaration"]["kwargs"], json!([]));
    assert_eq!(
        ping["subscribers"],
        json!([{
            "name": "registry_subscribers_only::pong",
            "plugin": "reg_pinger",
            "sender": "any sender",
            "location": loc(subscriber_at(SUBSCRIBERS_ONLY, "pong")),
            "connected": false,
            "blocked": false,
            "is_async": false,
        }])
    );
    let dataset = find("reg", "dataset_created");
    let subscribers: Vec<(&str, &str, bool)> = dataset["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["sender"].as_str().unwrap(),
                s["connected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        subscribers,
        [
            ("registry_by_name::dataset_by_name", "any sender", true),
            (
                "registry_subscribers_only::api_only",
                "sender \"api\"",
                true
            ),
            (
                "registry_subscribers_only::record_dataset",
                "any sender",
                true
            ),
            (
                "registry_subscribers_only::audit_dataset",
                "any sender",
                false
            ),
        ]
    );

    assert_eq!(
        *find("reg_undeclared", "nobody_declares_this"),
        json!({
            "namespace": "reg_undeclared",
            "name": "nobody_declares_this",
            "declaration": null,
            "subscribers": [{
                "name": "registry_by_name::orphan",
                "plugin": null,
                "sender": "any sender",
                "location": loc(subscriber_at(BY_NAME, "orphan")),
                "connected": true,
                "blocked": false,
                "is_async": false,
            }],
        })
    );
    assert_eq!(
        json["plugins"],
        json!([
            {"name": "reg_audit", "rust_type": null, "location": null, "loaded": false},
            {"name": "reg_pinger", "rust_type": null, "location": null, "loaded": false},
        ])
    );
    assert_eq!(json["problems"], json!([]));
}

#[test]
fn the_registry_serializes_targets_and_senders() {
    let json = serde_json::to_value(registry()).unwrap();
    let find = |path: &str| -> &Value {
        json["subscribers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path)
            .unwrap_or_else(|| panic!("{path} is not in {json:#}"))
    };
    let fail = find("registry_subscribers_only::fail_on_13");
    assert_eq!(
        fail["target"],
        json!({
            "kind": "typed",
            "rust_type": "JobFinished",
            "namespace": "reg",
            "signal": "job_finished",
        })
    );
    assert_eq!(fail["sender"], json!({"int": 13}));
    assert_eq!(fail["plugin"], Value::Null);
    assert_eq!(
        find("registry_subscribers_only::offset_negative")["sender"],
        json!({"int": -3})
    );
    assert_eq!(
        find("registry_subscribers_only::api_only")["sender"],
        json!({"str": "api"})
    );
    let by_name = find("registry_by_name::dataset_by_name");
    assert_eq!(
        by_name["target"],
        json!({"kind": "by_name", "namespace": "reg", "signal": "dataset_created"})
    );
    assert_eq!(by_name["sender"], "any");
    assert_eq!(
        find("registry_subscribers_only::audit_job")["plugin"],
        "reg_audit"
    );
    assert_eq!(
        json["plugins"],
        json!([
            {"name": "reg_audit", "declaration": null},
            {"name": "reg_pinger", "declaration": null},
        ])
    );
    // registry-declaring's 4 and signals-core's 2 meta-signals.
    assert_eq!(json["signals"].as_array().unwrap().len(), 6);
    assert_eq!(json["problems"], json!([]));
}
