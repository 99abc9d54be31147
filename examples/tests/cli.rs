//! The `portal` binary: the story over HTTP and its summary, `serve` until SIGINT, `--list`
//! (text and JSON) with all 13 built-in signals, the config file (`-c`, `--config`,
//! `CKAN_INI`), `--plugins` and the `CKAN__PLUGINS` override, `--log`, `--database`, and the
//! exit code and message of each error (clap's for the command line, the portal's otherwise).
//!
//! Every portal runs without the `CKAN__PLUGINS` and `CKAN_INI` of the environment the tests
//! run in; a test that wants one sets it. The story logs two WARN lines on stderr on purpose (a
//! failing and a slow receiver): the tests that compare stderr with `""` run it with
//! `--log error` (or `off`).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a test waits for the server's output, an HTTP answer or the server's exit.
const PATIENCE: Duration = Duration::from_secs(30);

/// clap's usage line of the top-level command.
const USAGE: &str = "Usage: portal [OPTIONS] [COMMAND]";

/// The end of each of clap's error messages.
const MORE: &str = "For more information, try '--help'.";

/// The portal binary, without the `CKAN__PLUGINS` and `CKAN_INI` of the tests' environment.
fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portal"));
    command
        .env_remove("CKAN__PLUGINS")
        .env_remove("CKAN_INI")
        .env_remove("CKAN_REDIS_URL");
    command
}

/// Runs the portal with `args`.
fn portal(args: &[&str]) -> Output {
    portal_with_env(args, &[])
}

/// Runs the portal with `args` and the environment variables `vars` set.
fn portal_with_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let vars: Vec<(&str, &OsStr)> = vars.iter().map(|(k, v)| (*k, OsStr::new(v))).collect();
    portal_os(&args, &vars)
}

/// Runs the portal with raw (possibly non-UTF-8) arguments and variables.
fn portal_os(args: &[&OsStr], vars: &[(&str, &OsStr)]) -> Output {
    let mut command = command();
    command.args(args);
    for (name, value) in vars {
        command.env(name, value);
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

/// `text` with the port of every `127.0.0.1:PORT` replaced by `PORT` (the story's server and
/// webhook endpoint listen on free ports).
fn mask_ports(text: &str) -> String {
    const HOST: &str = "127.0.0.1:";
    let mut masked = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(HOST) {
        masked.push_str(&rest[..at + HOST.len()]);
        rest = &rest[at + HOST.len()..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        assert!(digits > 0, "no port after {HOST} in {text:?}");
        masked.push_str("PORT");
        rest = &rest[digits..];
    }
    masked.push_str(rest);
    masked
}

/// The lines of `lines` that start with `prefix`.
fn starting_with<'a>(lines: &[&'a str], prefix: &str) -> Vec<&'a str> {
    lines
        .iter()
        .copied()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

/// The lines after `== summary`.
fn summary<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let at = lines
        .iter()
        .position(|l| *l == "== summary")
        .unwrap_or_else(|| panic!("no summary in:\n{}", lines.join("\n")));
    lines[at + 1..].to_vec()
}

/// A file or directory under the temporary directory, named for this process and `name`,
/// removed on drop (even when the test fails).
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        let path = std::env::temp_dir().join(format!("portal-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir_all(&path);
        TempPath(path)
    }

    /// A config file whose `ckan.plugins` is `plugins`.
    fn config(name: &str, plugins: &str) -> TempPath {
        let file = TempPath::new(name);
        std::fs::write(&file.0, format!("[app:main]\nckan.plugins = {plugins}\n")).unwrap();
        file
    }

    fn str(&self) -> &str {
        self.0
            .to_str()
            .expect("the temporary directory's path is UTF-8")
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

/// The first line of the story, its port masked.
fn story_heading(origin: &str, plugins: &str) -> String {
    format!("A CKAN-like portal at http://127.0.0.1:PORT (axum, SQLite). Plugins from {origin}: {plugins}")
}

/// The config file the portal reads when neither `-c`/`--config` nor `CKAN_INI` names one.
fn default_config() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("portal.ini")
        .display()
        .to_string()
}

#[test]
fn the_story_runs_over_http_with_the_configured_plugins_and_prints_its_summary() {
    let output = portal(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = mask_ports(&stdout(&output));
    let lines = lines(&out);
    assert_eq!(
        lines[0],
        story_heading(&default_config(), "activity audit stats notify")
    );
    assert_eq!(
        starting_with(&lines, "  loaded `"),
        [
            "  loaded `activity`: 3 subscription(s)",
            "  loaded `audit`: 5 subscription(s)",
            "  loaded `stats`: 3 subscription(s)",
            "  loaded `notify`: 2 subscription(s)",
        ]
    );
    assert_eq!(
        starting_with(&lines, "== "),
        [
            "== start-up: plugin-defined dataset, group and organization types register their blueprints",
            "== POST /user/register: alice and bob sign up",
            "== POST /user/login: two typos, then a good password",
            "== the action API (CKAN's wire format): a dataset, a resource, an update",
            "== downloads and the datastore",
            "== password reset for bob, then logout",
            "== a failing and a slow receiver: logged (see stderr), the responses unchanged",
            "== summary",
        ]
    );
    // Each request and the status the server really answered.
    let requests: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("  GET ") || l.starts_with("  POST "))
        .collect();
    assert_eq!(
        requests,
        [
            "  POST /user/register alice -> 302 Found",
            "  POST /user/register bob -> 302 Found",
            "  POST /user/login alice (\"hunter2\") -> 401 Unauthorized",
            "  POST /user/login alice (\"Correct horse\") -> 401 Unauthorized",
            "  POST /user/login alice (\"correct horse\") -> 302 Found",
            "  POST /api/3/action/package_create -> 200 OK: dataset-1",
            "  POST /api/3/action/resource_create -> 200 OK: resource-1",
            "  POST /api/3/action/package_update camels -> 200 OK",
            "  GET /api/3/action/package_show?id=camels -> 200 OK (read actions send action_succeed too; no plugin listens)",
            "  POST /api/3/action/package_create without a token -> 403 Forbidden: {\"__type\":\"Authorization Error\",\"message\":\"Access denied: User not authorized to call package_create: log in, or send an API token in the Authorization header\"}",
            "  POST /api/3/action/package_create without a name -> 409 Conflict: {\"__type\":\"Validation Error\",\"name\":[\"Missing value\"]}",
            "  GET /dataset/dataset-1/resource/resource-1/download -> 200 OK (19 bytes; looked up with resource_show and package_show)",
            "  GET /dataset/dataset-1/resource/resource-1/download -> 200 OK (19 bytes; looked up with resource_show and package_show)",
            "  POST /api/3/action/datastore_upsert -> 200 OK",
            "  POST /api/3/action/datastore_delete -> 200 OK: 2 row(s) deleted",
            "  POST /user/reset bob -> 302 Found",
            "  POST /user/reset/<id>?key=<key> -> 302 Found",
            "  GET /user/_logout -> 302 Found (/user/logged_out)",
            "  GET /api/3/action/package_show?id=no-such-dataset -> 404 Not Found: {\"__type\":\"Not Found Error\",\"message\":\"Not found: dataset `no-such-dataset`\"}",
            "  GET / -> 200 OK once the layer's 300 ms timeout passed",
        ]
    );
    assert_eq!(
        summary(&lines),
        [
            // One request_started and one request_finished for each of the 20 requests above.
            "  HTTP requests: request_started sent 20, request_finished sent 20",
            "  activity stream: 3 entries",
            "    new package dataset-1 by admin",
            "    new resource dataset-1 by admin",
            "    changed package dataset-1 by admin",
            "  audit log: 7 entries",
            "  stats: downloads {\"resource-1\": 2}, records written {\"resource-1\": 2}, deletes {\"resource-1\": 1}",
            "  notifications: 3",
            "  webhook calls: 1 (the endpoint received 1)",
            "  receiver failures in the portal's sends: 0",
            "  unloaded notify, stats, audit, activity (last loaded first); receivers left on action_succeed: 0",
        ]
    );
    // The plugins reacted along the way.
    for line in [
        "    [audit] new user alice <alice@example.org>",
        "    [audit] failed login for \"alice\"",
        "    [audit] alice logged in",
        "    [audit] password reset for bob (sender None)",
        "    [notify] followers of \"dataset-1\": admin did `new package`",
        "    [stats] download of resource-1",
        "    [stats] 2 records written to resource-1",
        "    ckan.action_succeed <- ckanext_notify::webhook (async, sender \"package_create\")",
    ] {
        assert!(lines.contains(&line), "missing {line:?} in:\n{out}");
    }
    // The webhook is async: the action API sends `action_succeed` with `send_async`, so its
    // call (a real POST to the story's endpoint) is done before `package_create` answers.
    let webhook = lines
        .iter()
        .position(|l| {
            *l == "    [notify] webhook: POST http://127.0.0.1:PORT/hooks/datasets \
                   {\"action\":\"package_create\",\"dataset\":\"camels\"} -> 202 Accepted"
        })
        .unwrap_or_else(|| panic!("no webhook line in:\n{out}"));
    assert_eq!(
        lines[webhook + 1],
        "  POST /api/3/action/package_create -> 200 OK: dataset-1"
    );
    // stderr: the two warnings of the last chapter, and nothing else.
    let err = stderr(&output);
    let warnings: Vec<&str> = err.lines().collect();
    assert_eq!(warnings.len(), 2, "{err}");
    for warning in &warnings {
        let level = warning.split(' ').nth(2);
        assert_eq!(level, Some("WARN"), "{warning}");
    }
    assert!(
        warnings[0].contains(
            " path=/api/3/action/package_show}: signals: receiver failed \
             signal=\"ckan.request_finished\" receiver=\"story::count_broken_links\" \
             location=examples/portal/story.rs:"
        ),
        "{err}"
    );
    assert!(
        warnings[0].ends_with(" kind=\"error\" error=the broken-link counter is full"),
        "{err}"
    );
    assert!(
        warnings[1].contains(
            " path=/}: ckan_signals::layer: send timed out; the receivers after the slow one \
             did not run for this request signal=\"ckan.request_started\" timeout=300ms"
        ),
        "{err}"
    );
}

#[test]
fn plugins_option_loads_only_the_plugins_it_names() {
    let output = portal(&["--plugins", "audit", "--log", "off"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let out = mask_ports(&stdout(&output));
    let lines = lines(&out);
    assert_eq!(lines[0], story_heading("--plugins", "audit"));
    assert_eq!(
        starting_with(&lines, "  loaded `"),
        ["  loaded `audit`: 5 subscription(s)"]
    );
    for absent in ["[activity]", "[stats]", "[notify]"] {
        assert!(!out.contains(absent), "{absent} in:\n{out}");
    }
    assert_eq!(
        summary(&lines),
        [
            "  HTTP requests: request_started sent 20, request_finished sent 20",
            "  activity stream: 0 entries",
            "  audit log: 7 entries",
            "  stats: downloads {}, records written {}, deletes {}",
            "  notifications: 0",
            "  webhook calls: 0 (the endpoint received 0)",
            "  receiver failures in the portal's sends: 0",
            "  unloaded audit (last loaded first); receivers left on action_succeed: 0",
        ]
    );
}

#[test]
fn the_environment_overrides_the_config_and_the_plugins_option_overrides_both() {
    let output = portal_with_env(&["--log", "error"], &[("CKAN__PLUGINS", "stats notify")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = mask_ports(&stdout(&output));
    assert_eq!(
        lines(&out)[0],
        story_heading("CKAN__PLUGINS", "stats notify")
    );
    assert!(out.contains("\n  unloaded notify, stats (last loaded first);"));

    let output = portal_with_env(
        &["--plugins", "activity,notify", "--log", "error"],
        &[("CKAN__PLUGINS", "stats")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = mask_ports(&stdout(&output));
    assert_eq!(
        lines(&out)[0],
        story_heading("--plugins", "activity notify")
    );
    assert!(out.contains("\n  notifications: 3\n"), "{out}");
    assert!(out.contains("\n  unloaded notify, activity (last loaded first);"));

    // CKAN__PLUGINS overrides a config CKAN_INI names, as it does the default one.
    let config = TempPath::config("env-over-ckan-ini.ini", "audit");
    let output = portal_with_env(
        &["--log", "error"],
        &[("CKAN_INI", config.str()), ("CKAN__PLUGINS", "stats")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        lines(&mask_ports(&stdout(&output)))[0],
        story_heading("CKAN__PLUGINS", "stats")
    );
}

/// Runs the story with `args` and `vars`, and checks it loaded exactly `audit` and `stats`
/// from `config`.
fn assert_story_loaded_audit_and_stats_from(
    config: &TempPath,
    args: &[&str],
    vars: &[(&str, &str)],
) {
    let output = portal_with_env(args, vars);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?} {vars:?}: {}",
        stderr(&output)
    );
    assert_eq!(stderr(&output), "", "{args:?} {vars:?}");
    let out = mask_ports(&stdout(&output));
    let lines = lines(&out);
    assert_eq!(
        lines[0],
        story_heading(config.str(), "audit stats"),
        "{args:?} {vars:?}"
    );
    assert_eq!(
        starting_with(&lines, "  loaded `"),
        [
            "  loaded `audit`: 5 subscription(s)",
            "  loaded `stats`: 3 subscription(s)",
        ],
        "{args:?} {vars:?}"
    );
    assert_eq!(
        summary(&lines).last().copied(),
        Some("  unloaded stats, audit (last loaded first); receivers left on action_succeed: 0"),
        "{args:?} {vars:?}"
    );
}

#[test]
fn c_config_equals_and_ckan_ini_each_select_the_config_file() {
    let config = TempPath::config("select.ini", "audit\n    stats");
    let equals = format!("--config={}", config.str());
    assert_story_loaded_audit_and_stats_from(&config, &["-c", config.str(), "--log", "error"], &[]);
    assert_story_loaded_audit_and_stats_from(
        &config,
        &["--config", config.str(), "--log", "error"],
        &[],
    );
    assert_story_loaded_audit_and_stats_from(&config, &[&equals, "--log", "error"], &[]);
    assert_story_loaded_audit_and_stats_from(
        &config,
        &["--log", "error"],
        &[("CKAN_INI", config.str())],
    );
}

#[test]
fn c_given_beats_ckan_ini() {
    let config = TempPath::config("c-beats-env.ini", "audit stats");
    let other = TempPath::config("c-beats-env-other.ini", "activity");
    assert_story_loaded_audit_and_stats_from(
        &config,
        &["-c", config.str(), "--log", "error"],
        &[("CKAN_INI", other.str())],
    );
    // With -c given, the file CKAN_INI names is not even read.
    let missing = TempPath::new("c-beats-env-missing.ini");
    assert_story_loaded_audit_and_stats_from(
        &config,
        &["--log", "error", "--config", config.str()],
        &[("CKAN_INI", missing.str())],
    );
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
    let declared_here = blocks
        .iter()
        .filter(|(_, body)| {
            body.iter()
                .any(|l| l.starts_with("    declared by ckan_signals::signals::"))
        })
        .count();
    assert_eq!(declared_here, 13);
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
    let plugins_at = out.find("\nplugins:\n").expect("a plugins section");
    assert_eq!(
        &out[plugins_at..],
        "\nplugins:\n  activity (ckanext_activity::ActivityPlugin, loaded)\n  audit ((subscribers only), loaded)\n  notify ((subscribers only), loaded)\n  stats (ckanext_stats::StatsPlugin, loaded)\n"
    );
}

#[test]
fn list_json_is_valid_json_with_the_13_signals() {
    let output = portal(&["--list", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
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
    let plugins: Vec<(&str, bool)> = json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["loaded"] == true))
        .collect();
    assert_eq!(
        plugins,
        [
            ("activity", true),
            ("audit", true),
            ("notify", true),
            ("stats", true)
        ]
    );
    assert_eq!(json["problems"], Value::Array(vec![]));
}

/// The line of `help` that starts with `option` (after its indentation).
fn help_line<'a>(help: &'a str, option: &str) -> &'a str {
    help.lines()
        .find(|l| l.trim_start().starts_with(option))
        .unwrap_or_else(|| panic!("no {option} in:\n{help}"))
}

#[test]
fn help_exits_0_and_explains_every_option_and_both_variables() {
    for flag in ["--help", "-h"] {
        let output = portal(&[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert_eq!(stderr(&output), "", "{flag}");
        let help = stdout(&output);
        assert!(
            help.starts_with("A CKAN-like portal: an axum web application over SQLite"),
            "{help}"
        );
        assert!(help.contains(&format!("\n\n{USAGE}\n\n")), "{help}");
        assert_eq!(
            help_line(&help, "serve "),
            "  serve         Serve the portal until Ctrl-C, then shut down gracefully"
        );
        assert!(help_line(&help, "worker ").contains("Consume the forwarded signals from Redis"));
        assert!(help_line(&help, "dead-letters ").ends_with("list, show, replay, purge"));
        assert!(help_line(&help, "--redis <URL>").ends_with(" [env: CKAN_REDIS_URL]"));
        let config = help_line(&help, "-c, --config <FILE>");
        assert!(config.contains(" ckan.plugins "), "{config}");
        assert!(
            config.ends_with(&format!(
                " [env: CKAN_INI=] [default: {}]",
                default_config()
            )),
            "{config}"
        );
        let plugins = help_line(&help, "--plugins <LIST>");
        assert!(plugins.contains("(comma-separated"), "{plugins}");
        assert!(plugins.contains("CKAN__PLUGINS"), "{plugins}");
        assert!(help_line(&help, "--list ").contains(" subscribers "));
        assert_eq!(
            help_line(&help, "--json "),
            "      --json             With --list: print it as JSON"
        );
        assert!(help_line(&help, "--database <FILE>").contains("SQLite database file"));
        assert!(help_line(&help, "--log <LEVEL>")
            .ends_with(" [default: info] [possible values: off, error, warn, info, debug, trace]"));
        assert_eq!(
            help_line(&help, "-h, --help"),
            "  -h, --help             Print help"
        );
        assert!(
            help.ends_with(
                "\n\nEnvironment:\n  CKAN_INI        the config file, when -c/--config is not \
                 given\n  CKAN__PLUGINS   overrides the config's ckan.plugins (space-separated, \
                 as CKAN reads it);\n                  --plugins overrides both\n  \
                 CKAN_REDIS_URL  the Redis to forward signals to (as --redis; beats \
                 ckan.redis.url)\n"
            ),
            "{help}"
        );
    }
}

#[test]
fn serve_help_explains_listen_and_the_global_options() {
    let output = portal(&["serve", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "");
    let help = stdout(&output);
    assert!(
        help.starts_with(
            "Serve the portal until Ctrl-C, then shut down gracefully\n\nUsage: portal serve \
             [OPTIONS]\n\n"
        ),
        "{help}"
    );
    assert!(help_line(&help, "--listen <ADDR>")
        .ends_with(" The address to listen on (port 0: a free port) [default: 127.0.0.1:5000]"));
    for global in [
        "-c, --config <FILE>",
        "--plugins <LIST>",
        "--database <FILE>",
        "--log <LEVEL>",
    ] {
        help_line(&help, global);
    }
    // --list is the top-level command's: it is not an option of serve.
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("--list ")),
        "{help}"
    );
    // `portal help serve` says the same.
    let output = portal(&["help", "serve"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), help);
}

#[test]
fn a_wrong_option_exits_2_with_clap_s_message_naming_it_on_stderr() {
    let cases: [(&[&str], String); 11] = [
        (
            &["--bogus"],
            format!("error: unexpected argument '--bogus' found\n\n{USAGE}\n\n{MORE}\n"),
        ),
        (
            &["bogus"],
            format!("error: unrecognized subcommand 'bogus'\n\n{USAGE}\n\n{MORE}\n"),
        ),
        // --json goes with --list.
        (
            &["--json"],
            format!(
                "error: the following required arguments were not provided:\n  --list\n\n\
                 Usage: portal --list --json\n\n{MORE}\n"
            ),
        ),
        (
            &["--plugins"],
            format!("error: a value is required for '--plugins <LIST>' but none was supplied\n\n{MORE}\n"),
        ),
        (
            &["--config"],
            format!("error: a value is required for '--config <FILE>' but none was supplied\n\n{MORE}\n"),
        ),
        (
            &["-c"],
            format!("error: a value is required for '--config <FILE>' but none was supplied\n\n{MORE}\n"),
        ),
        (
            &["--database"],
            format!("error: a value is required for '--database <FILE>' but none was supplied\n\n{MORE}\n"),
        ),
        (
            &["--log", "loud"],
            format!(
                "error: invalid value 'loud' for '--log <LEVEL>'\n  [possible values: off, \
                 error, warn, info, debug, trace]\n\n{MORE}\n"
            ),
        ),
        (
            &["serve", "--listen", "localhost"],
            format!(
                "error: invalid value 'localhost' for '--listen <ADDR>': invalid socket \
                 address syntax\n\n{MORE}\n"
            ),
        ),
        (
            &["serve", "--listen"],
            format!("error: a value is required for '--listen <ADDR>' but none was supplied\n\n{MORE}\n"),
        ),
        (
            &["serve", "--list"],
            format!(
                "error: unexpected argument '--list' found\n\nUsage: portal serve [OPTIONS]\n\n{MORE}\n"
            ),
        ),
    ];
    for (args, expected) in cases {
        let output = portal(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert_eq!(stderr(&output), expected, "{args:?}");
    }
}

#[test]
fn an_unknown_plugin_exits_2_and_names_the_linked_ones() {
    let expected = "portal: no plugin named `datapusher` is linked into this binary; linked \
                    plugins: activity, audit, notify, stats. If `datapusher` lives in another \
                    crate, add that crate as a dependency and write \
                    `signals_core::link!(that_crate);` once in the host\n";
    let runs = [
        portal(&["--plugins", "audit,datapusher"]),
        portal_with_env(&[], &[("CKAN__PLUGINS", "datapusher")]),
        // serve loads the plugins before it listens.
        portal(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--plugins",
            "datapusher",
        ]),
    ];
    for output in runs {
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(stderr(&output), expected);
        // The story never starts: not even its first line is printed.
        assert_eq!(stdout(&output), "");
    }
}

#[test]
fn config_errors_exit_2_and_name_the_file_and_line() {
    let missing = TempPath::new("no-such-file.ini");
    let missing_message = format!(
        "portal: cannot read config file {}: No such file or directory (os error 2)\n",
        missing.str()
    );
    for output in [
        portal(&["--config", missing.str()]),
        portal_with_env(&[], &[("CKAN_INI", missing.str())]),
    ] {
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(stderr(&output), missing_message);
        assert_eq!(stdout(&output), "");
    }

    let file = TempPath::new("twice.ini");
    std::fs::write(
        &file.0,
        "[app:main]\nckan.plugins = audit stats\n    audit\n",
    )
    .unwrap();
    let twice_message = format!(
        "portal: {}:2: `ckan.plugins` names `audit` twice; list each plugin once (a plugin \
         loaded twice is an error)\n",
        file.str()
    );
    for output in [
        portal(&["-c", file.str()]),
        portal_with_env(
            &["serve", "--listen", "127.0.0.1:0"],
            &[("CKAN_INI", file.str())],
        ),
    ] {
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(stderr(&output), twice_message);
        assert_eq!(stdout(&output), "");
    }
}

#[test]
fn a_plugin_named_twice_in_the_environment_is_reported_as_the_variable_s() {
    let output = portal_with_env(&[], &[("CKAN__PLUGINS", "audit stats audit")]);
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
    let missing = TempPath::new("list-no-such-file.ini");
    let plain = portal(&["--list"]);
    assert_eq!(plain.status.code(), Some(0));
    let runs = [
        portal(&["--list", "--config", missing.str()]),
        portal_with_env(&["--list"], &[("CKAN_INI", missing.str())]),
        portal_with_env(&["--list"], &[("CKAN__PLUGINS", "audit audit")]),
        portal(&["--list", "--plugins", "datapusher"]),
    ];
    for output in &runs {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        assert_eq!(stderr(output), "");
        // It lists every linked plugin anyway: the same listing.
        assert_eq!(stdout(output), stdout(&plain));
    }
}

#[test]
fn database_option_keeps_the_data_in_that_file_and_a_bad_path_exits_2() {
    let database = TempPath::new("story.sqlite");
    let output = portal(&["--database", database.str(), "--log", "error"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        summary(&lines(&stdout(&output)))[0],
        "  HTTP requests: request_started sent 20, request_finished sent 20"
    );
    let bytes = std::fs::read(&database.0).expect("the database file was created");
    assert_eq!(&bytes[..16], b"SQLite format 3\0");

    let dir = TempPath::new("no-such-dir");
    let file = dir.0.join("portal.sqlite");
    let output = portal(&["--database", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "portal: cannot open the database: unable to open database file: {}; check the \
             --database path is a writable file\n",
            file.display()
        )
    );
}

/// Runs the portal with its stdout a pipe that is closed before the portal writes to it (as
/// `portal --list | head -1` closes it after the first line).
fn portal_into_closed_pipe(args: &[&str]) -> Output {
    let mut child = command()
        .args(args)
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
    let cases: [&[&str]; 5] = [
        &[],
        &["--list"],
        &["--list", "--json"],
        &["--help"],
        &["serve", "--help"],
    ];
    for args in cases {
        let output = portal_into_closed_pipe(args);
        assert_eq!(stderr(&output), "", "{args:?}");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
    }
}

/// Arguments and `CKAN_INI` are read as the bytes they are: a config path that is not UTF-8 is
/// a path like any other. Where clap needs UTF-8 (a plugin list, an option's name), it reports
/// the argument with exit code 2. Never a panic.
#[test]
fn arguments_that_are_not_utf8_are_read_or_reported_never_a_panic() {
    use std::os::unix::ffi::OsStrExt;

    // A config file whose name is not UTF-8 is read, wherever it is named.
    let dir = TempPath::new("not-utf8");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join(OsStr::from_bytes(b"caf\xe9.ini"));
    std::fs::write(&file, "[app:main]\nckan.plugins = audit\n").unwrap();
    let mut equals = OsStr::new("--config=").to_owned();
    equals.push(file.as_os_str());
    let log = [OsStr::new("--log"), OsStr::new("error")];
    let runs = [
        portal_os(
            &[&[OsStr::new("-c"), file.as_os_str()][..], &log].concat(),
            &[],
        ),
        portal_os(&[&[equals.as_os_str()][..], &log].concat(), &[]),
        portal_os(&log, &[("CKAN_INI", file.as_os_str())]),
    ];
    for output in runs {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stderr(&output), "");
        assert_eq!(
            lines(&mask_ports(&stdout(&output)))[0],
            story_heading(&file.display().to_string(), "audit")
        );
    }
    // A missing one is reported as missing.
    let missing = dir.0.join(OsStr::from_bytes(b"missing-\xff.ini"));
    let output = portal_os(&[OsStr::new("--config"), missing.as_os_str()], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "portal: cannot read config file {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );

    // A plugin list that is not UTF-8 cannot name a plugin: the message says what to do.
    let output = portal_os(
        &[
            OsStr::new("--plugins"),
            OsStr::from_bytes(b"audit,st\xffts"),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "portal: --plugins got `audit,st\u{fffd}ts`, which is not valid UTF-8; list plugin \
         names in ASCII: --plugins activity,audit\n"
    );
    // A log level that is not UTF-8: clap says so.
    let args = [OsStr::new("--log"), OsStr::from_bytes(b"w\xffrn")];
    let output = portal_os(&args, &[]);
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "error: invalid UTF-8 was detected in one or more arguments\n\n{USAGE}\n\n{MORE}\n"
        ),
        "{args:?}"
    );
    // An unknown option that is not UTF-8 is unknown, shown lossily.
    let output = portal_os(&[OsStr::from_bytes(b"--\xff")], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!("error: unexpected argument '--\u{fffd}' found\n\n{USAGE}\n\n{MORE}\n")
    );
    // With control characters in it too: reported with them escaped, never written to the
    // terminal as they are.
    let output = portal_os(&[OsStr::from_bytes(b"--\xff\x1b[31m")], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "error: unexpected argument '--\u{fffd}\\u{{1b}}[31m' found\n\n{USAGE}\n\n{MORE}\n"
        )
    );
}

/// A `portal serve` (or `worker`) child with its stdout read line by line on a thread of its own (so a
/// silent server fails the test after [`PATIENCE`] instead of hanging it). Killed and reaped on
/// drop: a failing test never leaves a server running.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Served {
    /// `portal serve ARGS`.
    fn start(args: &[&str]) -> Served {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        Served::spawn(&all)
    }

    /// `portal ARGS`, its output read as it comes.
    fn spawn(args: &[&str]) -> Served {
        let mut child = command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the portal binary runs");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Served {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|e| panic!("no line from the server in {PATIENCE:?}: {e}"))
    }

    /// Ctrl-C, as the shell sends it.
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -INT: {status}");
    }

    /// Waits for the exit; returns its status, the lines it printed since the last
    /// [`next_line`](Self::next_line), and its stderr.
    fn wait(&mut self) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the portal can be waited for") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop in {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = Vec::new();
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stdout stayed open after the exit"),
            }
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, rest, stderr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange over a fresh connection, written and read by hand: the head and the
/// body of the answer.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of the head in {answer:?}"));
    (head.to_owned(), body.to_owned())
}

#[test]
fn serve_answers_http_until_sigint_then_stops_gracefully() {
    let mut server = Served::start(&["--listen", "127.0.0.1:0", "--plugins", "activity,notify"]);
    let first = server.next_line();
    let url = first
        .strip_prefix("Serving the portal at ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let addr = url
        .strip_prefix("http://127.0.0.1:")
        .map(|port| format!("127.0.0.1:{port}"));
    let addr = addr.unwrap_or_else(|| panic!("not a loopback URL: {url}"));
    assert_ne!(addr, "127.0.0.1:0");
    assert_eq!(
        first,
        format!("Serving the portal at {url} (plugins from --plugins: activity notify). Ctrl-C stops it.")
    );
    let second = server.next_line();
    let token = second
        .strip_prefix("  sysadmin `admin`, API token ")
        .unwrap_or_else(|| panic!("unexpected second line {second:?}"))
        .to_owned();
    assert_eq!(token.len(), 32, "{token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    let third = server.next_line();
    let password = third
        .strip_prefix("  its password, shown once: ")
        .unwrap_or_else(|| panic!("unexpected third line {third:?}"));
    assert_eq!(password.len(), 32, "a random password: {password}");
    assert_eq!(
        mask_ports(&server.next_line()),
        "  the notify webhook posts to http://127.0.0.1:PORT/hooks/datasets"
    );
    assert_eq!(
        server.next_line(),
        format!(
            "  try: curl -H 'Authorization: {token}' -d '{{\"name\": \"camels\"}}' \
             {url}/api/3/action/package_create"
        )
    );

    let (head, body) = http(&addr, "GET", "/", &[], "");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: text/plain; charset=utf-8\r\n"),
        "{head}"
    );
    assert_eq!(
        body,
        "A CKAN-like portal. The action API is at /api/3/action/\n"
    );

    // What the printed curl line does, with the printed token: the plugins react.
    let (head, body) = http(
        &addr,
        "POST",
        "/api/3/action/package_create",
        &[
            ("Authorization", &token),
            ("Content-Type", "application/json"),
        ],
        "{\"name\": \"camels\"}",
    );
    assert!(
        head.starts_with("HTTP/1.1 200 OK\r\n"),
        "{head}\r\n\r\n{body}"
    );
    let json: Value = serde_json::from_str(&body).expect("a JSON answer");
    assert_eq!(json["success"], true, "{body}");
    assert_eq!(json["result"]["id"], "dataset-1", "{body}");
    assert_eq!(json["result"]["name"], "camels", "{body}");
    assert_eq!(
        json["help"],
        format!("{url}/api/3/action/help_show?name=package_create")
    );

    server.interrupt();
    let (status, rest, stderr) = server.wait();
    assert_eq!(status.code(), Some(0), "{status}: {stderr}");
    let rest: Vec<String> = rest.iter().map(|l| mask_ports(l)).collect();
    assert_eq!(
        rest,
        [
            "    [activity] new package dataset-1 by admin",
            "    [notify] followers of \"dataset-1\": admin did `new package`",
            "    [notify] webhook: POST http://127.0.0.1:PORT/hooks/datasets \
             {\"action\":\"package_create\",\"dataset\":\"camels\"} -> 202 Accepted",
            "stopping: the requests in flight may finish (at most 10 s; Ctrl-C again stops at once)",
            "stopped: the requests in flight finished",
        ]
    );
    assert_eq!(stderr, "");
}

#[test]
fn serve_on_a_port_already_taken_exits_2_and_says_what_to_do() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    // The system's own words for it.
    let why = TcpListener::bind(addr).expect_err("the port is taken");
    let output = portal(&["serve", "--listen", &addr.to_string()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!("portal: cannot listen on {addr}: {why}; pick a free port with --listen 127.0.0.1:PORT\n")
    );
    drop(taken);
}

/// Ctrl-C as soon as the portal says "Ctrl-C stops it." stops it gracefully too: the handler
/// is installed before the banner (a SIGINT before it would kill the process outright).
#[test]
fn sigint_right_after_the_banner_stops_gracefully() {
    // Five tries: the window is short, but each try hits it more often than not.
    for _ in 0..5 {
        let mut server = Served::start(&["--listen", "127.0.0.1:0", "--plugins", "audit"]);
        let banner: Vec<String> = (0..5).map(|_| server.next_line()).collect();
        assert!(banner[4].starts_with("  try: curl "), "{banner:?}");
        server.interrupt();
        let (status, rest, stderr) = server.wait();
        assert_eq!(status.code(), Some(0), "{status}: {stderr}");
        assert_eq!(
            rest,
            [
                "stopping: the requests in flight may finish (at most 10 s; Ctrl-C again stops at once)",
                "stopped: the requests in flight finished"
            ]
        );
        assert_eq!(stderr, "");
    }
}

#[path = "../../signals-redis/tests/support/mod.rs"]
mod redis_support;

/// Two processes, as the README's walkthrough: a worker consuming from a real Redis, and the
/// story forwarding its signals there. The worker's plugins react to the web process's events.
#[test]
fn a_worker_in_another_process_handles_the_forwarded_signals() {
    if !redis_support::available("a_worker_in_another_process_handles_the_forwarded_signals") {
        return;
    }
    let redis = redis_support::RedisServer::start();
    let url = redis.url();
    let mut worker = Served::spawn(&[
        "worker",
        "--redis",
        &url,
        "--plugins",
        "audit,stats",
        "--log",
        "warn",
    ]);
    assert_eq!(
        worker.next_line(),
        format!(
            "Worker in group `worker` on {url} (plugins from --plugins: audit stats), consuming \
             ckan.user_created ckanext.datastore_upsert ckanext.datastore_delete. Ctrl-C stops \
             it."
        )
    );
    let story = portal(&["--redis", &url, "--plugins", "activity", "--log", "error"]);
    assert_eq!(story.status.code(), Some(0), "{}", stderr(&story));
    let forwarded = "  forwarded to Redis (ckan.user_created ckanext.datastore_upsert \
                     ckanext.datastore_delete): 4 event(s) written, 0 failed";
    assert!(
        stdout(&story).lines().any(|line| line == forwarded),
        "{}",
        stdout(&story)
    );
    // The web process loaded only `activity`: these lines come from the worker's plugins.
    let handled: Vec<String> = (0..4).map(|_| worker.next_line()).collect();
    assert_eq!(
        handled,
        [
            "    [audit] new user alice <alice@example.org>",
            "    [audit] new user bob <bob@example.org>",
            "    [stats] 2 records written to resource-1",
            "    [stats] datastore rows deleted from resource-1",
        ]
    );
    // Every event is acknowledged before the worker stops.
    std::thread::sleep(Duration::from_millis(300));
    worker.interrupt();
    let (status, rest, stderr) = worker.wait();
    assert_eq!(status.code(), Some(0), "{status}: {stderr}");
    assert_eq!(
        rest,
        ["stopped: 4 sent, 4 acknowledged, 0 failed, 0 dead-lettered, 0 reclaimed"]
    );
    assert_eq!(stderr, "");
}

#[test]
fn worker_and_dead_letters_need_a_redis_url() {
    for args in [&["worker"][..], &["dead-letters", "list"][..]] {
        let mut all = args.to_vec();
        all.extend(["--plugins", "audit"]);
        let output = portal(&all);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&output),
            "portal: this command needs Redis: give --redis URL, set CKAN_REDIS_URL, or set \
             ckan.redis.url in the config\n"
        );
    }
}

/// `dead-letters list`, `show` and `purge` against a real Redis; what a letter holds came from
/// an entry and is printed with its control characters escaped.
#[test]
fn dead_letters_are_listed_shown_and_purged_from_the_command_line() {
    if !redis_support::available("dead_letters_are_listed_shown_and_purged_from_the_command_line") {
        return;
    }
    let redis = redis_support::RedisServer::start();
    let url = redis.url();
    let socket = redis.socket();
    let mut cli = Command::new("redis-cli");
    let added = cli
        .arg("-s")
        .arg(&socket)
        .args([
            "XADD",
            "ckan:default:signals:dead-letters",
            "1-1",
            "dead.stream",
            "ckan:default:signals:ckan.user_created",
            "dead.entry",
            "5-0",
            "dead.group",
            "worker",
            "dead.deliveries",
            "1",
            "dead.reason",
            "the entry cannot be read: \u{1b}[31mred",
            "kwargs",
            "{not json",
        ])
        .output()
        .expect("redis-cli runs");
    assert!(added.status.success(), "{added:?}");
    let list = portal(&[
        "--redis",
        &url,
        "--plugins",
        "audit",
        "dead-letters",
        "list",
    ]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert_eq!(
        stdout(&list),
        "1 dead letter(s)\n1-1  ckan:default:signals:ckan.user_created 5-0  after 1 \
         deliveries: the entry cannot be read: \\u{1b}[31mred\n"
    );
    let show = portal(&[
        "--redis",
        &url,
        "--plugins",
        "audit",
        "dead-letters",
        "show",
        "1-1",
    ]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert_eq!(
        stdout(&show),
        "id: 1-1\nstream: ckan:default:signals:ckan.user_created\nentry: 5-0\ngroup: \
         worker\ndeliveries: 1\nreason: the entry cannot be read: \\u{1b}[31mred\n  kwargs: \
         {not json\n"
    );
    let missing = portal(&[
        "--redis",
        &url,
        "--plugins",
        "audit",
        "dead-letters",
        "show",
        "9-9",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        "portal: no dead letter has the id 9-9; list them with `dead_letters().list()`\n"
    );
    let purge = portal(&[
        "--redis",
        &url,
        "--plugins",
        "audit",
        "dead-letters",
        "purge",
    ]);
    assert_eq!(stdout(&purge), "purged 1 dead letter(s)\n");
    let list = portal(&[
        "--redis",
        &url,
        "--plugins",
        "audit",
        "dead-letters",
        "list",
    ]);
    assert_eq!(stdout(&list), "0 dead letter(s)\n");
}
