//! The plugin host: `ckan.plugins` read from INI text and files, the `CKAN__PLUGINS`
//! override, loading in order, unloading exactly what a plugin connected (CKAN's shared-receiver
//! bug fixed), `unload_all` last-first, `use_plugin` scoping, and every error's exact message.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ckan_portal::connections_of_plugin;
use ckan_signals::config::{Config, ConfigError};
use ckan_signals::host::{self, HostError, PluginError};
use ckan_signals::FailedLogin;
use ckanext_activity::Activity;
use ckanext_example_isignal::{IsignalNumber, SharedNumber};
use portal_tests::{isolate, TestPortal};
use serde_json::json;
use signals_core::{ReceiverConnected, ReceiverDisconnected, Signal};

const LINKED: &str = "activity, audit, broken_subscriptions, example_isignal, notify, shared_any, \
                      shared_any_again, shared_ten, stats";

fn unknown_message(name: &str) -> String {
    format!(
        "no plugin named `{name}` is linked into this binary; linked plugins: {LINKED}. If `{name}` \
         lives in another crate, add that crate as a dependency and write \
         `signals_core::link!(that_crate);` once in the host"
    )
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("portal-tests-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("write a temporary file");
        TempFile(path)
    }

    fn shown(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const PORTAL_INI: &str = "\
# A CKAN-style configuration.
[DEFAULT]
debug = false

[app:main]
ckan.site_url: http://localhost:5000
; plugins, over two lines
ckan.plugins = activity audit
    stats
\tnotify
other = 1
";

#[test]
fn config_text_gives_the_plugins_in_order_and_the_environment_overrides_it() {
    let config = Config::parse(PORTAL_INI, "portal.ini").expect("parse");
    assert_eq!(config.get("ckan.site_url"), Some("http://localhost:5000"));
    assert_eq!(config.get("debug"), Some("false"));
    assert_eq!(config.line_of("ckan.plugins"), Some(8));
    assert_eq!(
        config.plugins().expect("plugins"),
        ["activity", "audit", "stats", "notify"]
    );
    assert_eq!(
        host::enabled_plugins(&config, None).expect("no override"),
        ["activity", "audit", "stats", "notify"]
    );
    assert_eq!(
        host::enabled_plugins(&config, Some(OsStr::new("  stats\taudit "))).expect("override"),
        ["stats", "audit"]
    );
    // Set but empty: no plugins at all, whatever the file says.
    assert_eq!(
        host::enabled_plugins(&config, Some(OsStr::new(""))).expect("empty override"),
        Vec::<String>::new()
    );
    // `[app:main]` wins over the keys before any header (read as `[DEFAULT]`); `set` overrides.
    let mut config = Config::parse(
        "ckan.plugins = a\n[app:main]\nckan.plugins = b c\n",
        "x.ini",
    )
    .unwrap();
    assert_eq!(config.plugins().unwrap(), ["b", "c"]);
    config.set("ckan.plugins", "d");
    assert_eq!(config.plugins().unwrap(), ["d"]);
    assert_eq!(config.line_of("ckan.plugins"), Some(0));
}

#[test]
fn an_empty_config_enables_no_plugin_and_loading_none_loads_nothing() {
    let _iso = isolate();
    for text in [
        "",
        "\n\n",
        "# only a comment\n",
        "[app:main]\n",
        "[app:main]\nckan.plugins =\n",
    ] {
        let config = Config::parse(text, "empty.ini").expect("parse");
        assert_eq!(
            host::enabled_plugins(&config, None).unwrap(),
            Vec::<String>::new(),
            "{text:?}"
        );
    }
    let file = TempFile::new("empty.ini", b"");
    let config = Config::from_file(&file.0).expect("read an empty file");
    assert_eq!(config.plugins().unwrap(), Vec::<String>::new());
    host::load_plugins::<&str>(&[]).expect("nothing to load");
    assert_eq!(host::loaded(), Vec::<&str>::new());
}

#[test]
fn config_files_are_read_and_their_errors_name_the_file_and_line() {
    let file = TempFile::new("portal.ini", PORTAL_INI.as_bytes());
    let config = Config::from_file(&file.0).expect("read");
    assert_eq!(
        config.plugins().unwrap(),
        ["activity", "audit", "stats", "notify"]
    );

    // The demo's own configuration.
    let demo = Config::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/portal.ini"
    ))
    .expect("examples/portal.ini");
    assert_eq!(
        demo.plugins().unwrap(),
        ["activity", "audit", "stats", "notify"]
    );

    let twice = TempFile::new(
        "twice.ini",
        b"[app:main]\n\nckan.plugins = audit\n  stats audit\n",
    );
    assert_eq!(
        Config::from_file(&twice.0)
            .unwrap()
            .plugins()
            .unwrap_err()
            .to_string(),
        format!(
            "{}:3: `ckan.plugins` names `audit` twice; list each plugin once (a plugin loaded \
             twice is an error)",
            twice.shown()
        )
    );

    let malformed = TempFile::new(
        "malformed.ini",
        b"[app:main]\nckan.plugins = audit\n\nstats\n",
    );
    assert_eq!(
        Config::from_file(&malformed.0).unwrap_err(),
        ConfigError::Malformed {
            origin: malformed.shown(),
            line: 4,
            problem: "expected `key = value`, a `[section]` or a comment, found `stats`".into(),
        }
    );
    assert_eq!(
        Config::from_file(&malformed.0).unwrap_err().to_string(),
        format!(
            "{}:4: expected `key = value`, a `[section]` or a comment, found `stats`",
            malformed.shown()
        )
    );

    let latin1 = TempFile::new("latin1.ini", b"[app:main]\nckan.site_title = Caf\xe9\n");
    assert_eq!(
        Config::from_file(&latin1.0).unwrap_err().to_string(),
        format!(
            "{}:2: the line is not valid UTF-8; save the file as UTF-8",
            latin1.shown()
        )
    );

    let missing = std::env::temp_dir().join("portal-tests-no-such-file.ini");
    assert_eq!(
        Config::from_file(&missing).unwrap_err().to_string(),
        format!(
            "cannot read config file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn malformed_config_text_and_overrides_are_reported_exactly() {
    let cases = [
        (
            "[app:main]\nckan.plugins = a\n  b\n[broken\n",
            "site.ini:4: a section header must look like `[name]`, found `[broken`",
        ),
        (
            "# header\n    activity\n",
            "site.ini:2: an indented line continues a value, but no key comes before it: `activity`",
        ),
        ("[app:main]\n: value\n", "site.ini:2: the key before `:` is empty"),
        ("[app:main]\nckan.plugins\n", "site.ini:2: expected `key = value`, a `[section]` or a comment, found `ckan.plugins`"),
        (
            "[app:main]\nckan.plugins = a\n[other]\n  b\n",
            "site.ini:4: an indented line continues a value, but no key comes before it: `b`",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(
            Config::parse(text, "site.ini").unwrap_err().to_string(),
            message,
            "{text:?}"
        );
    }
    let config = Config::parse("ckan.plugins = a\n", "site.ini").unwrap();
    assert_eq!(
        host::enabled_plugins(&config, Some(OsStr::new("stats audit stats")))
            .unwrap_err()
            .to_string(),
        "CKAN__PLUGINS names `stats` twice; list each plugin once (a plugin loaded twice is an \
         error)"
    );
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(
            host::enabled_plugins(&config, Some(OsStr::from_bytes(b"stats \xff")))
                .unwrap_err()
                .to_string(),
            "CKAN__PLUGINS:1: the value is not valid UTF-8; list plugin names in ASCII"
        );
    }
}

/// Records which receivers the meta-signals report connected or disconnected, as
/// `+plugin:receiver` / `-plugin:receiver`.
fn watch_connections() -> (Arc<Mutex<Vec<String>>>, Vec<signals_core::ScopedConnection>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let (a, b) = (seen.clone(), seen.clone());
    let connected = ReceiverConnected::signal()
        .connect(move |_: &str, ev: &ReceiverConnected| {
            let plugin = ev.receiver.plugin.as_deref().unwrap_or("-");
            a.lock()
                .unwrap()
                .push(format!("+{plugin}:{}", ev.receiver.name));
        })
        .scoped();
    let disconnected = ReceiverDisconnected::signal()
        .connect(move |_: &str, ev: &ReceiverDisconnected| {
            let plugin = ev.receiver.plugin.as_deref().unwrap_or("-");
            b.lock()
                .unwrap()
                .push(format!("-{plugin}:{}", ev.receiver.name));
        })
        .scoped();
    // The watchers saw each other connect: start from an empty log.
    take(&seen);
    (seen, vec![connected, disconnected])
}

fn take(seen: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[test]
fn load_plugins_loads_in_order_and_unload_all_unloads_last_first() {
    let _iso = isolate();
    let (seen, _watch) = watch_connections();
    host::load_plugins(&["stats", "activity", "audit"]).expect("load");
    assert_eq!(host::loaded(), ["stats", "activity", "audit"]);
    assert!(host::is_loaded("activity"));
    assert!(!host::is_loaded("notify"));
    let stats = [
        "ckanext_stats::delete",
        "ckanext_stats::download",
        "ckanext_stats::upsert",
    ];
    let activity = [
        "ckanext_activity::package_created",
        "ckanext_activity::package_updated",
        "ckanext_activity::resource_created",
    ];
    let audit = [
        "ckanext_audit::failed_login",
        "ckanext_audit::logged_in",
        "ckanext_audit::reset_performed",
        "ckanext_audit::reset_requested",
        "ckanext_audit::user_created",
    ];
    let lines = |sign: &str, plugin: &str, names: &[&str]| -> Vec<String> {
        names
            .iter()
            .map(|n| format!("{sign}{plugin}:{n}"))
            .collect()
    };
    let loaded: Vec<String> = [
        lines("+", "stats", &stats),
        lines("+", "activity", &activity),
        lines("+", "audit", &audit),
    ]
    .concat();
    assert_eq!(take(&seen), loaded);

    host::unload_all();
    assert_eq!(host::loaded(), Vec::<&str>::new());
    let unloaded: Vec<String> = [
        lines("-", "audit", &audit),
        lines("-", "activity", &activity),
        lines("-", "stats", &stats),
    ]
    .concat();
    assert_eq!(take(&seen), unloaded);
    for plugin in ["stats", "activity", "audit"] {
        assert_eq!(connections_of_plugin(plugin), Vec::<String>::new());
    }
}

/// A portal session over HTTP that touches every plugin: alice registers, mistypes her
/// password, logs in; the sysadmin `admin` (user-1, by its API token) creates the dataset
/// `camels` (dataset-1) with an uploaded resource (resource-1), which alice downloads; admin
/// writes two datastore records and deletes them; alice asks for a password reset and sets a
/// new password, typing her name in the form.
fn session(portal: &TestPortal) {
    portal.register("alice", "alice password");
    assert_eq!(portal.login("alice", "typo"), None);
    let cookie = portal.login("alice", "alice password").expect("login");
    let dataset = portal.admin_action("package_create", &json!({ "name": "camels" }));
    assert_eq!(dataset["id"], "dataset-1");
    let resource = portal.admin_action(
        "resource_create",
        &json!({ "package_id": "camels", "upload": "x" }),
    );
    assert_eq!(resource["id"], "resource-1");
    let download = portal.get(
        "/dataset/dataset-1/resource/resource-1/download",
        Some(&cookie),
    );
    assert_eq!((download.status, download.text.as_str()), (200, "x"));
    portal.admin_action(
        "datastore_upsert",
        &json!({ "resource_id": "resource-1", "records": [{ "n": 1 }, { "n": 2 }] }),
    );
    portal.admin_action("datastore_delete", &json!({ "resource_id": "resource-1" }));
    let reset = portal.post_form("/user/reset", &[("user", "alice")], None);
    assert_eq!(reset.status, 302, "POST /user/reset: {}", reset.text);
    let link = portal
        .portal(|p| p.mail())
        .expect("the mail")
        .pop()
        .expect("a reset link")
        .body;
    let form = [
        ("password1", "new password"),
        ("password2", "new password"),
        ("name", "alice"),
    ];
    let performed = portal.post_form(&link, &form, None);
    assert_eq!(performed.status, 302, "POST {link}: {}", performed.text);
}

#[test]
fn plugins_enabled_by_the_config_react_to_the_portal() {
    let _iso = isolate();
    let config = Config::parse(PORTAL_INI, "portal.ini").unwrap();
    host::load_plugins(&host::enabled_plugins(&config, None).unwrap()).expect("load");
    assert_eq!(host::loaded(), ["activity", "audit", "stats", "notify"]);
    let portal = TestPortal::start();
    session(&portal);
    assert_eq!(
        portal.portal(|p| p.receiver_failures()),
        Vec::<String>::new()
    );
    assert_eq!(
        ckanext_audit::log(),
        [
            "new user alice <alice@example.org>",
            "failed login for \"alice\"",
            "alice logged in",
            "password reset requested for alice",
            "password reset for alice (sender alice)",
        ]
    );
    // The API token is the sysadmin's: the actions ran as `admin`.
    let by_admin = |activity_type: &'static str| Activity {
        activity_type,
        object_id: "dataset-1".into(),
        user: Some("admin".into()),
    };
    assert_eq!(
        ckanext_activity::stream(),
        [by_admin("new package"), by_admin("new resource")]
    );
    assert_eq!(
        ckanext_notify::outbox(),
        [
            "followers of \"dataset-1\": admin did `new package`",
            "followers of \"dataset-1\": admin did `new resource`",
        ]
    );
    // The notify plugin's webhook made one real POST, for the new dataset.
    assert_eq!(
        portal.webhook_calls(),
        [r#"{"action":"package_create","dataset":"camels"}"#]
    );
    let stats = ckanext_stats::stats();
    let resource = |n| [("resource-1".to_owned(), n)].into_iter().collect();
    assert_eq!(stats.downloads, resource(1));
    assert_eq!(stats.deletes, resource(1));
    assert_eq!(
        stats.upserted_records,
        [("resource-1".to_owned(), 2)].into_iter().collect()
    );
}

#[test]
fn the_environment_override_loads_only_its_plugins() {
    let _iso = isolate();
    let config = Config::parse(PORTAL_INI, "portal.ini").unwrap();
    let names = host::enabled_plugins(&config, Some(OsStr::new("stats"))).unwrap();
    host::load_plugins(&names).expect("load");
    assert_eq!(host::loaded(), ["stats"]);
    let portal = TestPortal::start();
    session(&portal);
    assert_eq!(ckanext_audit::log(), Vec::<String>::new());
    assert_eq!(ckanext_activity::stream(), Vec::<Activity>::new());
    assert_eq!(ckanext_notify::outbox(), Vec::<String>::new());
    assert_eq!(portal.webhook_calls(), Vec::<String>::new());
    assert_eq!(ckanext_stats::stats().downloads.len(), 1);
}

#[test]
fn unload_disconnects_exactly_what_that_plugin_connected() {
    let _iso = isolate();
    // A connection the host makes itself on a signal audit also subscribes to.
    let host_calls = Arc::new(Mutex::new(0));
    let calls = host_calls.clone();
    let _own = FailedLogin::signal()
        .connect(move |_: &str, _: &FailedLogin| *calls.lock().unwrap() += 1)
        .scoped();
    host::load_plugins(&["activity", "audit"]).expect("load");
    assert_eq!(connections_of_plugin("audit").len(), 5);
    host::unload("audit").expect("unload audit");
    assert_eq!(host::loaded(), ["activity"]);
    assert_eq!(connections_of_plugin("audit"), Vec::<String>::new());
    assert_eq!(
        connections_of_plugin("activity"),
        [
            "ckan.action_succeed <- ckanext_activity::package_created (sender \"package_create\")",
            "ckan.action_succeed <- ckanext_activity::package_updated (sender \"package_update\")",
            "ckan.action_succeed <- ckanext_activity::resource_created (sender \"resource_create\")",
        ]
    );
    let _ = FailedLogin.send("alice");
    assert_eq!(*host_calls.lock().unwrap(), 1);
    assert_eq!(ckanext_audit::log(), Vec::<String>::new());
}

fn shared_connections() -> Vec<String> {
    SharedNumber::signal()
        .named()
        .connections()
        .iter()
        .map(|connection| {
            format!(
                "{} ({}, {})",
                connection.receiver.name,
                connection.filter,
                connection.receiver.plugin.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn unloading_one_plugin_leaves_another_plugins_subscription_of_the_same_function() {
    let _iso = isolate();
    let signal = SharedNumber::signal();
    let any = "ckanext_example_isignal::shared (any sender, shared_any)";
    let ten = "ckanext_example_isignal::shared (sender 10, shared_ten)";

    // CKAN's bug: unloading the plugin that subscribed `shared` to every sender also took
    // the other plugin's sender-10 subscription of the same function.
    host::load_plugins(&["shared_any", "shared_ten"]).expect("load");
    assert_eq!(shared_connections(), [any, ten]);
    // Connected for every sender and for 10: called once when 10 sends.
    assert_eq!(
        SharedNumber.sending(&10).collect().run().into_values(),
        [11]
    );
    host::unload("shared_any").expect("unload shared_any");
    assert_eq!(shared_connections(), [ten]);
    assert_eq!(
        SharedNumber.sending(&10).collect().run().into_values(),
        [11]
    );
    assert_eq!(
        SharedNumber.sending(&5).collect().run().into_values(),
        Vec::<i64>::new()
    );
    host::unload("shared_ten").expect("unload shared_ten");
    assert_eq!(shared_connections(), Vec::<String>::new());

    // The other way round: unloading the sender-specific one leaves every-sender intact.
    host::load_plugins(&["shared_ten", "shared_any"]).expect("load");
    assert_eq!(shared_connections(), [ten, any]);
    host::unload("shared_ten").expect("unload shared_ten");
    assert_eq!(shared_connections(), [any]);
    assert_eq!(
        SharedNumber.sending(&10).collect().run().into_values(),
        [11]
    );
    assert_eq!(SharedNumber.sending(&5).collect().run().into_values(), [6]);
    host::unload("shared_any").expect("unload shared_any");

    // Two plugins making the very same subscription each own theirs.
    host::load_plugins(&["shared_any", "shared_any_again"]).expect("load");
    assert_eq!(
        shared_connections(),
        [
            any,
            "ckanext_example_isignal::shared (any sender, shared_any_again)"
        ]
    );
    assert_eq!(SharedNumber.sending(&5).collect().run().into_values(), [6]);
    host::unload("shared_any").expect("unload shared_any");
    assert_eq!(
        shared_connections(),
        ["ckanext_example_isignal::shared (any sender, shared_any_again)"]
    );
    assert_eq!(SharedNumber.sending(&5).collect().run().into_values(), [6]);
    host::unload("shared_any_again").expect("unload");
    assert!(signal.named().connections().is_empty());
}

#[test]
fn use_plugin_loads_for_a_scope_only() {
    let _iso = isolate();
    {
        let _guard = host::use_plugin("example_isignal").expect("use_plugin");
        assert_eq!(host::loaded(), ["example_isignal"]);
        // Inside the scope it is loaded: loading it again is an error, and leaves it loaded.
        assert_eq!(
            host::use_plugin("example_isignal").unwrap_err().to_string(),
            "plugin `example_isignal` is already loaded; unload it first, or load it only once"
        );
        assert_eq!(host::loaded(), ["example_isignal"]);
        assert_eq!(
            IsignalNumber.sending(&10).collect().run().into_values(),
            [20, 100]
        );
    }
    assert_eq!(host::loaded(), Vec::<&str>::new());
    assert_eq!(
        IsignalNumber.sending(&10).collect().run().into_values(),
        Vec::<i64>::new()
    );

    // Unloaded by hand inside the scope: the guard's own unload is a no-op.
    {
        let _guard = host::use_plugin("example_isignal").expect("use_plugin");
        host::unload("example_isignal").expect("unload by hand");
        host::load("stats").expect("another plugin");
    }
    assert_eq!(host::loaded(), ["stats"]);

    // Nested guards unload in reverse.
    {
        let _outer = host::use_plugin("audit").expect("audit");
        {
            let _inner = host::use_plugin("activity").expect("activity");
            assert_eq!(host::loaded(), ["stats", "audit", "activity"]);
        }
        assert_eq!(host::loaded(), ["stats", "audit"]);
    }
    assert_eq!(host::loaded(), ["stats"]);
}

#[test]
fn every_load_and_unload_error_has_its_exact_message() {
    let _iso = isolate();
    // Unknown: lists the linked plugins and says how to link a crate.
    let err = host::load("datapusher").unwrap_err();
    assert_eq!(
        err,
        PluginError::Unknown {
            name: "datapusher".into(),
            linked: LINKED.into(),
            hint: String::new(),
        }
    );
    assert_eq!(err.to_string(), unknown_message("datapusher"));

    // Loading a loaded plugin.
    host::load("audit").expect("load audit");
    assert_eq!(
        host::load("audit").unwrap_err().to_string(),
        "plugin `audit` is already loaded; unload it first, or load it only once"
    );
    assert_eq!(host::loaded(), ["audit"]);
    assert_eq!(connections_of_plugin("audit").len(), 5);

    // Unloading one that is not loaded names the loaded ones.
    host::load("stats").expect("load stats");
    assert_eq!(
        host::unload("activity").unwrap_err().to_string(),
        "plugin `activity` is not loaded, so it cannot be unloaded; loaded plugins: audit, stats"
    );
    host::unload_all();
    assert_eq!(
        host::unload("audit").unwrap_err(),
        PluginError::NotLoaded {
            name: "audit".into(),
            loaded: "(none)".into(),
        }
    );
    assert_eq!(
        host::unload("audit").unwrap_err().to_string(),
        "plugin `audit` is not loaded, so it cannot be unloaded; loaded plugins: (none)"
    );

    // A name that breaks the naming rules.
    assert_eq!(
        host::load("my plugin").unwrap_err().to_string(),
        "invalid plugin name \"my plugin\": the character at byte 2 is not allowed; use only \
         ASCII letters, digits, `_`, `.` and `-`"
    );

    // A plugin whose subscriptions fail is not loaded, and what it connected is undone.
    assert_eq!(
        host::load("broken_subscriptions").unwrap_err().to_string(),
        "plugin `broken_subscriptions` could not subscribe at \
         tests/portal/isignal-plugin/src/lib.rs:84:14: invalid signal name \"no spaces \
         allowed\": the character at byte 2 is not allowed; use only ASCII letters, digits, \
         `_`, `.` and `-`; it was not loaded"
    );
    assert!(!host::is_loaded("broken_subscriptions"));
    assert!(SharedNumber::signal()
        .named()
        .receivers_for(&7i64)
        .is_empty());
}

#[test]
fn a_failed_start_up_unloads_what_it_loaded_and_only_that() {
    let _iso = isolate();
    let (seen, _watch) = watch_connections();

    // An unknown plugin after two good ones: both are unloaded again.
    let err = host::load_plugins(&["activity", "audit", "datapusher"]).unwrap_err();
    assert_eq!(
        err,
        HostError::Plugin(PluginError::Unknown {
            name: "datapusher".into(),
            linked: LINKED.into(),
            hint: String::new(),
        })
    );
    assert_eq!(err.to_string(), unknown_message("datapusher"));
    assert_eq!(host::loaded(), Vec::<&str>::new());
    let log = take(&seen);
    let connected = log.iter().filter(|l| l.starts_with('+')).count();
    let disconnected = log.iter().filter(|l| l.starts_with('-')).count();
    assert_eq!((connected, disconnected), (8, 8));
    // Undone last first: audit's connections go before activity's.
    assert_eq!(log[8], "-audit:ckanext_audit::failed_login");
    assert_eq!(log[15], "-activity:ckanext_activity::resource_created");

    // A plugin loaded before the start-up stays loaded when the start-up fails on it.
    host::load("stats").expect("stats");
    assert_eq!(
        host::load_plugins(&["activity", "stats", "audit"])
            .unwrap_err()
            .to_string(),
        "plugin `stats` is already loaded; unload it first, or load it only once"
    );
    assert_eq!(host::loaded(), ["stats"]);
    assert_eq!(connections_of_plugin("activity"), Vec::<String>::new());
    assert_eq!(connections_of_plugin("stats").len(), 3);

    // A plugin whose subscriptions fail stops the start-up too.
    let err =
        host::load_plugins(&["example_isignal", "broken_subscriptions", "audit"]).unwrap_err();
    assert!(matches!(
        err,
        HostError::Plugin(PluginError::Subscription { ref name, .. }) if name == "broken_subscriptions"
    ));
    assert_eq!(host::loaded(), ["stats"]);
    assert!(IsignalNumber::signal()
        .named()
        .receivers_for(&10i64)
        .is_empty());

    // A repeated name in the list: the second load fails and the first is undone.
    assert_eq!(
        host::load_plugins(&["audit", "audit"])
            .unwrap_err()
            .to_string(),
        "plugin `audit` is already loaded; unload it first, or load it only once"
    );
    assert_eq!(host::loaded(), ["stats"]);
}
