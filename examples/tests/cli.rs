//! The `portal` binary: the story and its summary, `--list` (text and JSON) with all 13
//! built-in signals, `--plugins`, the `CKAN__PLUGINS` override, and the exit code and message
//! of each error.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const USAGE: &str = "usage: portal [--config FILE] [--plugins a,b,...] [--list [--json]]";

/// Runs the portal with `args`, without a `CKAN__PLUGINS` inherited from the environment.
fn portal(args: &[&str]) -> Output {
    portal_with_env(args, None)
}

fn portal_with_env(args: &[&str], plugins_env: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portal"));
    command.args(args).env_remove("CKAN__PLUGINS");
    if let Some(value) = plugins_env {
        command.env("CKAN__PLUGINS", value);
    }
    command.output().expect("the portal binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// `(namespace.name, kwargs line, subscriber lines without their locations)` for the 13.
const BUILT_INS: [(&str, &str, &[&str]); 13] = [
    ("ckan.request_started", "(none)", &[]),
    ("ckan.request_finished", "response: Response", &[]),
    ("ckan.register_blueprint", "blueprint: Blueprint", &[]),
    (
        "ckan.resource_download",
        "(none)",
        &["ckanext_stats::download (any sender, plugin stats)"],
    ),
    (
        "ckan.logged_in",
        "user: User",
        &["ckanext_audit::logged_in (any sender, plugin audit)"],
    ),
    ("ckan.logged_out", "user: User", &[]),
    (
        "ckan.failed_login",
        "(none)",
        &["ckanext_audit::failed_login (any sender, plugin audit)"],
    ),
    (
        "ckan.user_created",
        "user: User",
        &["ckanext_audit::user_created (any sender, plugin audit)"],
    ),
    (
        "ckan.request_password_reset",
        "user: User",
        &["ckanext_audit::reset_requested (any sender, plugin audit)"],
    ),
    (
        "ckan.perform_password_reset",
        "user: User",
        &["ckanext_audit::reset_performed (any sender, plugin audit)"],
    ),
    (
        "ckan.action_succeed",
        "context: ActionContext, data_dict: Value, result: Value",
        &[
            "ckanext_activity::package_created (sender \"package_create\", plugin activity)",
            "ckanext_activity::package_updated (sender \"package_update\", plugin activity)",
            "ckanext_activity::resource_created (sender \"resource_create\", plugin activity)",
            "ckanext_notify::webhook (async, sender \"package_create\", plugin notify)",
        ],
    ),
    (
        "ckanext.datastore_upsert",
        "records: Option<Value>",
        &["ckanext_stats::upsert (any sender, plugin stats)"],
    ),
    (
        "ckanext.datastore_delete",
        "result: Value, data_dict: Value",
        &["ckanext_stats::delete (any sender, plugin stats)"],
    ),
];

#[test]
fn the_story_runs_with_the_configured_plugins_and_prints_its_summary() {
    let output = portal(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let out = stdout(&output);
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("portal.ini");
    let lines = lines(&out);
    assert_eq!(
        lines[0],
        format!(
            "A CKAN-like portal, in process. Plugins from {}: activity audit stats notify",
            config.display()
        )
    );
    let loaded: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("  loaded `"))
        .collect();
    assert_eq!(
        loaded,
        [
            "  loaded `activity`: 3 subscription(s)",
            "  loaded `audit`: 5 subscription(s)",
            "  loaded `stats`: 3 subscription(s)",
            "  loaded `notify`: 2 subscription(s)",
        ]
    );
    let chapters: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("== "))
        .collect();
    assert_eq!(
        chapters,
        [
            "== start-up: plugin-defined dataset, group and organization types register their blueprints",
            "== POST /user/register: alice and bob sign up",
            "== POST /user/login: two typos, then a good password",
            "== the action API: a dataset, a resource, an update",
            "== downloads and the datastore",
            "== password reset for bob, then logout",
            "== summary",
        ]
    );
    let summary_at = lines.iter().position(|l| *l == "== summary").unwrap();
    assert_eq!(
        lines[summary_at + 1..],
        [
            // Every HTTP entry point of the story (2 registrations, 3 logins, 4 action API
            // calls, 2 downloads, 2 datastore calls, the reset request and perform, the
            // logout) sends request_started and request_finished once.
            "  HTTP requests: request_started sent 16, request_finished sent 16",
            "  activity stream: 3 entries",
            "    new package dataset-3 by admin",
            "    new resource dataset-3 by admin",
            "    changed package dataset-3 by admin",
            "  audit log: 7 entries",
            "  stats: downloads {\"resource-4\": 2}, records written {\"resource-4\": 2}, deletes {\"resource-4\": 1}",
            "  notifications: 3",
            "  webhook calls: 1",
            "  receiver failures: 0",
            "  unloaded notify, stats, audit, activity (last loaded first); receivers left on action_succeed: 0",
        ]
    );
    // The plugins reacted along the way.
    for line in [
        "    [audit] failed login for \"alice\"",
        "    [audit] alice logged in",
        "    [audit] password reset for bob (sender None)",
        "    [notify] followers of \"dataset-3\": admin did `new package`",
        "    [stats] 2 records written to resource-4",
    ] {
        assert!(lines.contains(&line), "missing {line:?} in:\n{out}");
    }
    // The webhook is async: the action API sends `action_succeed` with `send_async`, so its
    // call is awaited and done before `package_create` returns.
    let webhook = lines
        .iter()
        .position(|l| {
            *l == "    [notify] webhook: POST https://hooks.example.org/ckan/datasets \
                   {\"action\":\"package_create\",\"dataset\":\"camels\"} -> 202 Accepted"
        })
        .unwrap_or_else(|| panic!("no webhook line in:\n{out}"));
    assert_eq!(lines[webhook + 1], "  package_create -> dataset-3");
    assert!(lines.contains(
        &"    ckan.action_succeed <- ckanext_notify::webhook (async, sender \"package_create\")"
    ));
}

#[test]
fn plugins_option_loads_only_the_plugins_it_names() {
    let output = portal(&["--plugins", "audit"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let lines = lines(&out);
    assert_eq!(
        lines[0],
        "A CKAN-like portal, in process. Plugins from --plugins: audit"
    );
    let loaded: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("  loaded `"))
        .collect();
    assert_eq!(loaded, ["  loaded `audit`: 5 subscription(s)"]);
    for absent in ["[activity]", "[stats]", "[notify]"] {
        assert!(!out.contains(absent), "{absent} in:\n{out}");
    }
    let summary_at = lines.iter().position(|l| *l == "== summary").unwrap();
    assert_eq!(
        lines[summary_at + 1..],
        [
            "  HTTP requests: request_started sent 16, request_finished sent 16",
            "  activity stream: 0 entries",
            "  audit log: 7 entries",
            "  stats: downloads {}, records written {}, deletes {}",
            "  notifications: 0",
            "  webhook calls: 0",
            "  receiver failures: 0",
            "  unloaded audit (last loaded first); receivers left on action_succeed: 0",
        ]
    );
}

#[test]
fn the_environment_overrides_the_config_and_the_plugins_option_overrides_both() {
    let output = portal_with_env(&[], Some("stats notify"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert_eq!(
        lines(&out)[0],
        "A CKAN-like portal, in process. Plugins from CKAN__PLUGINS: stats notify"
    );
    assert!(out.contains("\n  unloaded notify, stats (last loaded first);"));

    let output = portal_with_env(&["--plugins", "activity,notify"], Some("stats"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert_eq!(
        lines(&out)[0],
        "A CKAN-like portal, in process. Plugins from --plugins: activity notify"
    );
    assert!(out.contains("\n  notifications: 3\n"));
}

/// The text listing, split into one block per signal heading. An empty line (between two
/// paragraphs of a signal's docs) belongs to the block it is in.
fn blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with(' ') {
            if let Some((_, body)) = blocks.last_mut() {
                body.push(line.to_owned());
            }
        } else {
            blocks.push((line.to_owned(), Vec::new()));
        }
    }
    blocks
}

#[test]
fn list_shows_all_13_built_in_signals_with_namespace_kwargs_and_subscribers() {
    let output = portal(&["--list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let out = stdout(&output);
    for line in out.lines() {
        assert_eq!(line, line.trim_end(), "trailing whitespace");
    }
    let blocks = blocks(&out);
    for (signal, kwargs, subscribers) in BUILT_INS {
        let (_, body) = blocks
            .iter()
            .find(|(heading, _)| heading == signal)
            .unwrap_or_else(|| panic!("{signal} is not listed:\n{out}"));
        let rust_type_line = body
            .iter()
            .find(|l| l.starts_with("    declared by ckan_signals::signals::"))
            .unwrap_or_else(|| panic!("{signal} has no declaration line"));
        assert!(
            rust_type_line.contains(" at ckan-signals/src/signals.rs:"),
            "{rust_type_line}"
        );
        assert!(
            body.contains(&format!("    kwargs: {kwargs}")),
            "{signal}: {body:#?}"
        );
        let listed: Vec<String> = body
            .iter()
            .filter(|l| l.starts_with("      "))
            .map(|l| l.trim().split(" at ").next().unwrap().to_owned())
            .collect();
        assert_eq!(listed, subscribers, "{signal}");
        if subscribers.is_empty() {
            assert!(body.contains(&"    subscribers: (none)".to_owned()));
        }
    }
    // The aliases are not registered names.
    for alias in [
        "ckan.user_logged_in",
        "ckan.user_logged_out",
        "ckan.action_succeeded",
    ] {
        assert!(!blocks.iter().any(|(h, _)| h == alias), "{alias} listed");
    }
    let sender_of = |signal: &str| {
        blocks
            .iter()
            .find(|(h, _)| h == signal)
            .and_then(|(_, body)| body.iter().find(|l| l.starts_with("    sender: ")).cloned())
    };
    assert_eq!(
        sender_of("ckan.perform_password_reset").as_deref(),
        Some("    sender: Option<String>  output: ()")
    );
    assert_eq!(
        sender_of("ckan.logged_in").as_deref(),
        Some("    sender: WebApp  output: ()")
    );
    // The plugin section: every linked plugin, loaded for the listing.
    let plugins_at = out.find("plugins:\n").expect("a plugins section");
    assert_eq!(
        &out[plugins_at..],
        "plugins:\n  activity (ckanext_activity::ActivityPlugin, loaded)\n  audit ((subscribers only), loaded)\n  notify ((subscribers only), loaded)\n  stats (ckanext_stats::StatsPlugin, loaded)\n"
    );
}

#[test]
fn list_json_is_valid_json_with_the_13_signals() {
    let output = portal(&["--list", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let signals = json["signals"].as_array().expect("a signals array");
    for (signal, kwargs, subscribers) in BUILT_INS {
        let (namespace, name) = signal.split_once('.').unwrap();
        let entry = signals
            .iter()
            .find(|s| s["namespace"] == namespace && s["name"] == name)
            .unwrap_or_else(|| panic!("{signal} missing from the JSON listing"));
        let declaration = &entry["declaration"];
        assert_eq!(declaration["crate_name"], "ckan-signals", "{signal}");
        assert_eq!(declaration["namespace"], namespace);
        assert_eq!(declaration["name"], name);
        let listed_kwargs: Vec<String> = declaration["kwargs"]
            .as_array()
            .expect("kwargs")
            .iter()
            .map(|k| {
                format!(
                    "{}: {}",
                    k["name"].as_str().unwrap(),
                    k["type"].as_str().unwrap()
                )
            })
            .collect();
        let expected_kwargs = if kwargs == "(none)" {
            String::new()
        } else {
            kwargs.to_owned()
        };
        assert_eq!(listed_kwargs.join(", "), expected_kwargs, "{signal}");
        let listed: Vec<String> = entry["subscribers"]
            .as_array()
            .expect("subscribers")
            .iter()
            .map(|s| {
                assert_eq!(s["connected"], true);
                format!(
                    "{} ({}{}, plugin {})",
                    s["name"].as_str().unwrap(),
                    if s["is_async"] == true { "async, " } else { "" },
                    s["sender"].as_str().unwrap(),
                    s["plugin"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(listed, subscribers, "{signal}");
    }
    let declared_here = signals
        .iter()
        .filter(|s| s["declaration"]["crate_name"] == "ckan-signals")
        .count();
    assert_eq!(declared_here, 13);
    let plugins: Vec<&str> = json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(plugins, ["activity", "audit", "notify", "stats"]);
    assert_eq!(json["problems"], Value::Array(vec![]));
}

#[test]
fn help_prints_the_usage() {
    let output = portal(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), format!("{USAGE}\n"));
}

#[test]
fn a_wrong_option_exits_2_with_the_usage_on_stderr() {
    let cases: [(&[&str], &str); 4] = [
        (&["--bogus"], "unknown option `--bogus`"),
        (&["--json"], "--json goes with --list"),
        (
            &["--plugins"],
            "--plugins needs a list: --plugins activity,audit",
        ),
        (&["--config"], "--config needs a file: --config FILE"),
    ];
    for (args, problem) in cases {
        let output = portal(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert_eq!(stderr(&output), format!("portal: {problem}\n{USAGE}\n"));
    }
}

#[test]
fn an_unknown_plugin_exits_2_and_names_the_linked_ones() {
    let expected = "portal: no plugin named `datapusher` is linked into this binary; linked \
                    plugins: activity, audit, notify, stats. If `datapusher` lives in another \
                    crate, add that crate as a dependency and write \
                    `signals_core::link!(that_crate);` once in the host\n";
    let output = portal(&["--plugins", "audit,datapusher"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), expected);
    // The story never starts: not even its first line is printed.
    assert_eq!(stdout(&output), "");
    let output = portal_with_env(&[], Some("datapusher"));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), expected);
    assert_eq!(stdout(&output), "");
}

#[test]
fn config_errors_exit_2_and_name_the_file_and_line() {
    let missing = std::env::temp_dir().join("portal-cli-no-such-file.ini");
    let output = portal(&["--config", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "portal: cannot read config file {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );

    let file = std::env::temp_dir().join(format!("portal-cli-{}-twice.ini", std::process::id()));
    std::fs::write(&file, "[app:main]\nckan.plugins = audit stats\n    audit\n").unwrap();
    let output = portal(&["--config", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "portal: {}:2: `ckan.plugins` names `audit` twice; list each plugin once (a plugin \
             loaded twice is an error)\n",
            file.display()
        )
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn a_plugin_named_twice_in_the_environment_is_reported_as_the_variable_s() {
    let output = portal_with_env(&[], Some("audit stats audit"));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "portal: CKAN__PLUGINS names `audit` twice; list each plugin once (a plugin loaded \
         twice is an error)\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn list_needs_neither_a_valid_config_nor_a_valid_plugins_variable() {
    let missing = std::env::temp_dir().join("portal-cli-list-no-such-file.ini");
    let with_bad_config = portal(&["--list", "--config", missing.to_str().unwrap()]);
    let with_bad_env = portal_with_env(&["--list"], Some("audit audit"));
    let plain = portal(&["--list"]);
    for output in [&with_bad_config, &with_bad_env] {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        assert_eq!(stderr(output), "");
        // It lists every linked plugin anyway: the same listing.
        assert_eq!(stdout(output), stdout(&plain));
    }
}

/// Runs the portal with its stdout a pipe that is closed before the portal writes to it (as
/// `portal --list | head -1` closes it after the first line).
fn portal_into_closed_pipe(args: &[&str]) -> Output {
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env_remove("CKAN__PLUGINS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the portal binary runs");
    // Close the read end at once: the portal is still starting up.
    drop(child.stdout.take());
    child.wait_with_output().expect("the portal exits")
}

#[test]
fn a_closed_stdout_ends_the_portal_quietly() {
    for args in [&[][..], &["--list"], &["--list", "--json"], &["--help"]] {
        let output = portal_into_closed_pipe(args);
        assert_eq!(stderr(&output), "", "{args:?}");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
    }
}

/// Runs the portal with raw (possibly non-UTF-8) arguments.
fn portal_os(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env_remove("CKAN__PLUGINS")
        .output()
        .expect("the portal binary runs")
}

/// Arguments are read as the bytes they are, not as UTF-8 (reading them as `String`s panicked):
/// a config path that is not UTF-8 is a path like any other, and a plugin list that is not
/// UTF-8 is bad input, reported with exit code 2.
#[test]
fn arguments_that_are_not_utf8_are_read_or_reported_never_a_panic() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    // A config file whose name is not UTF-8 is read.
    let dir = std::env::temp_dir().join(format!("portal-cli-{}-not-utf8", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(OsStr::from_bytes(b"caf\xe9.ini"));
    std::fs::write(&file, "[app:main]\nckan.plugins = audit\n").unwrap();
    let output = portal_os(&[OsStr::new("--config"), file.as_os_str()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        lines(&stdout(&output))[0],
        format!(
            "A CKAN-like portal, in process. Plugins from {}: audit",
            file.display()
        )
    );
    // A missing one is reported as missing.
    let missing = dir.join(OsStr::from_bytes(b"missing-\xff.ini"));
    let output = portal_os(&[OsStr::new("--config"), missing.as_os_str()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "portal: cannot read config file {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // A plugin list that is not UTF-8 cannot name a plugin.
    let output = portal_os(&[
        OsStr::new("--plugins"),
        OsStr::from_bytes(b"audit,st\xffts"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "portal: --plugins got `audit,st\u{fffd}ts`, which is not valid UTF-8; list plugin \
             names in ASCII: --plugins activity,audit\n{USAGE}\n"
        )
    );
    // An unknown option that is not UTF-8 is unknown, shown lossily, control characters
    // escaped.
    let output = portal_os(&[OsStr::from_bytes(b"--\xff\x1b[31m")]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!("portal: unknown option `--\u{fffd}\\u{{1b}}[31m`\n{USAGE}\n")
    );
}
