//! Bad input, each checked against the exact error message a person would read: invalid names
//! at run time, typed lookups and by-name sends with the wrong type, kwargs read wrongly,
//! duplicate declarations, unknown, doubly loaded and unloaded plugins, and configuration files
//! that are empty, malformed, huge, too large or name a plugin twice. Then two bounded property
//! tests (always on, unlike the fuzz targets in `fuzz/`): the naming rules against their
//! definition, and the configuration parser on arbitrary text.
//!
//! `runtime.rs` in signals-core already checks the basic name messages (empty, too long, a
//! space, non-UTF-8 namespace bytes) and the `TypeConflict` of two hand-written structs; these
//! tests cover the rest.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ckan_signals::config::{parse_plugin_list, Config, ConfigError, MAX_CONFIG_BYTES};
use ckan_signals::host::{self, HostError};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm};
use reliability_tests::proptest_cases;
use signals_core::plugins::{self, Plugin, PluginError, Subscriptions};
use signals_core::registry::RegistryError;
use signals_core::{
    check_name_bytes, plugin, registry, signal, DynKwargs, Error, KwargError, Kwargs, NameKind,
    NameRule, Namespace, SenderKey, Signal, MAX_NAME_LEN,
};

const ALLOWED: &str = "use only ASCII letters, digits, `_`, `.` and `-`";

// ---------------------------------------------------------------------------------------------
// 1. Names

#[test]
fn invalid_signal_and_plugin_names_say_which_rule_they_broke() {
    let ns = Namespace::get("rel_bad").unwrap();
    let cases: [(&[u8], String); 7] = [
        (b"", "invalid signal name \"\": it is empty; give it at least one character".into()),
        (
            &[b's'; 256],
            // Quoted up to 64 characters, then `…` and the name's length.
            format!(
                "invalid signal name \"{}…\" (256 bytes): it is 256 bytes long; shorten it to at \
                 most 255 bytes",
                "s".repeat(64)
            ),
        ),
        (
            b"user created",
            format!("invalid signal name \"user created\": the character at byte 4 is not allowed; {ALLOWED}"),
        ),
        (
            b"a/b",
            format!("invalid signal name \"a/b\": the character at byte 1 is not allowed; {ALLOWED}"),
        ),
        (
            b"tab\there",
            format!("invalid signal name \"tab\\there\": the character at byte 3 is not allowed; {ALLOWED}"),
        ),
        (
            b"nul\0",
            format!("invalid signal name \"nul\\0\": the character at byte 3 is not allowed; {ALLOWED}"),
        ),
        // Not UTF-8: shown lossily, the byte offset is the raw one.
        (
            b"ok\xc3(",
            format!("invalid signal name \"ok\u{fffd}(\": the character at byte 2 is not allowed; {ALLOWED}"),
        ),
    ];
    for (bytes, message) in cases {
        let err = ns.signal_bytes(bytes).unwrap_err();
        assert_eq!(err.to_string(), message, "{bytes:?}");
        if let Ok(text) = std::str::from_utf8(bytes) {
            assert_eq!(ns.signal(text).unwrap_err(), err);
        }
    }
    // A multi-byte character: the offset is its first byte's.
    assert_eq!(
        Namespace::get("caf\u{e9}").unwrap_err(),
        Error::InvalidName {
            kind: NameKind::Namespace,
            name: "caf\u{e9}".into(),
            rule: NameRule::BadCharacter { index: 3 },
        }
    );
    // The edges of the rules are accepted.
    let longest = "n".repeat(MAX_NAME_LEN);
    assert_eq!(ns.signal(&longest).unwrap().name(), longest);
    assert_eq!(Namespace::get_bytes(b"A-z_09").unwrap().name(), "A-z_09");
    assert_eq!(ns.signal_bytes(b"A-z_0.9").unwrap().name(), "A-z_0.9");
    // Plugin names follow the same rules.
    assert_eq!(
        plugins::load("bad plugin").unwrap_err().to_string(),
        format!(
            "invalid plugin name \"bad plugin\": the character at byte 3 is not allowed; {ALLOWED}"
        )
    );
    assert_eq!(
        plugins::load("").unwrap_err(),
        PluginError::InvalidName(Error::InvalidName {
            kind: NameKind::Plugin,
            name: String::new(),
            rule: NameRule::Empty
        })
    );
}

/// A huge input gives a message of a readable size: at most 64 characters of it are quoted,
/// then `…` and its length. The error's fields keep the whole input.
#[test]
fn a_huge_input_is_quoted_only_in_part() {
    const MIB: usize = 1 << 20;
    let huge = "h".repeat(MIB);
    let shown = "h".repeat(64);
    let err = Namespace::get("rel_bad")
        .unwrap()
        .signal(&huge)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid signal name \"{shown}…\" (1048576 bytes): it is 1048576 bytes long; shorten \
             it to at most 255 bytes"
        )
    );
    assert!(matches!(&err, Error::InvalidName { name, .. } if *name == huge));
    let spaced = format!("{huge} x");
    assert_eq!(
        plugins::load(&spaced).unwrap_err().to_string(),
        format!(
            "invalid plugin name \"{shown}…\" (1048578 bytes): {}",
            NameRule::TooLong { len: MIB + 2 }
        )
    );
    assert_eq!(
        Config::parse(&format!("[app:main]\n{huge}\n"), "huge.ini")
            .unwrap_err()
            .to_string(),
        format!(
            "huge.ini:2: expected `key = value`, a `[section]` or a comment, found `{shown}…` \
             (1048576 bytes)"
        )
    );
    let config = Config::parse(&format!("ckan.plugins = {huge}\n  {huge}\n"), "huge.ini").unwrap();
    assert_eq!(
        config.plugins().unwrap_err().to_string(),
        format!(
            "huge.ini:1: `ckan.plugins` names `{shown}…` (1048576 bytes) twice; list each plugin \
             once (a plugin loaded twice is an error)"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Types: typed lookups and by-name sends with the wrong type

/// A declared signal.
#[signal(namespace = "rel_bad")]
pub struct Alpha {
    pub user: String,
    pub attempts: u32,
}

/// Another declared signal.
#[signal(namespace = "rel_bad")]
pub struct Beta {
    pub n: u8,
}

/// A signal whose sender is rebuilt from a string key only.
#[signal(namespace = "rel_bad", sender = String)]
pub struct Owned;

#[test]
fn a_typed_lookup_with_the_wrong_type_is_an_error() {
    let alpha = Alpha::named();
    let err = alpha.typed::<Beta>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "signal `rel_bad.alpha` is declared by `bad_input::Alpha`, so it cannot also be used as \
         `bad_input::Beta`; rename one of them (`#[signal(name = \"...\")]`) or use the \
         declaring type"
    );
    let undeclared = Namespace::get("rel_bad")
        .unwrap()
        .signal("undeclared")
        .unwrap();
    assert_eq!(
        undeclared.typed::<Beta>().unwrap_err().to_string(),
        "signal `rel_bad.undeclared` is not declared by `bad_input::Beta` (which declares \
         `rel_bad.beta`); look the signal up by the name its struct declares"
    );
    assert_eq!(alpha.typed::<Alpha>().unwrap().named(), alpha);
}

#[test]
fn a_by_name_send_with_the_wrong_bag_or_sender_is_an_error_and_calls_nobody() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let connection = Alpha::named().connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let wrong_bag = |bag: &dyn Kwargs, got: &str| {
        assert_eq!(
            Alpha::named().send(&"x", bag).unwrap_err().to_string(),
            format!(
                "signal `rel_bad.alpha` is declared by `bad_input::Alpha`, so a by-name send must \
                 carry a `bad_input::Alpha`, not a `{got}`; build the struct, or send through the \
                 typed API"
            )
        );
    };
    wrong_bag(&Beta { n: 1 }, "bad_input::Beta");
    wrong_bag(&(), "()");
    wrong_bag(
        &DynKwargs::new()
            .with("user", "x".to_owned())
            .with("attempts", 1u32),
        "signals_core::kwargs::DynKwargs",
    );
    let alpha = Alpha {
        user: "x".into(),
        attempts: 1,
    };
    assert_eq!(
        Alpha::named().send(&5, &alpha).unwrap_err().to_string(),
        "signal `rel_bad.alpha` expects senders of type `str`, which cannot be rebuilt from the \
         sender key 5; send through the typed API instead"
    );
    assert_eq!(
        Alpha::named()
            .sending(&SenderKey::None, &alpha)
            .fail_fast()
            .run()
            .unwrap_err()
            .to_string(),
        "signal `rel_bad.alpha` expects senders of type `str`, which cannot be rebuilt from the \
         sender key None; send through the typed API instead"
    );
    assert_eq!(
        Owned::named().send(&5, &Owned).unwrap_err().to_string(),
        "signal `rel_bad.owned` expects senders of type `alloc::string::String`, which cannot be \
         rebuilt from the sender key 5; send through the typed API instead"
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    // The right bag and sender go through.
    assert_eq!(
        Alpha::named()
            .send(&"x", &alpha)
            .unwrap()
            .receivers_called(),
        1
    );
    connection.disconnect();
}

#[test]
fn kwargs_read_missing_or_with_the_wrong_type_name_what_exists() {
    let connection = Alpha::named().connect(
        |_: &SenderKey<'_>, kwargs: &dyn Kwargs| -> Result<(), KwargError> {
            assert_eq!(kwargs.get::<u64>("attempts"), None);
            assert_eq!(kwargs.get::<String>("users"), None);
            assert_eq!(
                kwargs.try_get::<String>("users").unwrap_err().to_string(),
                "no keyword argument named `users`; the arguments are: user, attempts"
            );
            kwargs.try_get::<u64>("attempts")?;
            Ok(())
        },
    );
    let report = Alpha {
        user: "u".into(),
        attempts: 2,
    }
    .send("u");
    let failure = &report.failures()[0];
    assert!(
        failure.to_string().ends_with(
            "returned an error: keyword argument `attempts` is a `u32`, not a `u64`; read it \
             as `u32`"
        ),
        "{failure}"
    );
    connection.disconnect();
    let empty: &dyn Kwargs = &DynKwargs::new();
    assert_eq!(
        empty.try_get::<u8>("n").unwrap_err(),
        KwargError::Missing {
            name: "n".into(),
            available: "(none)".into()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Duplicate declarations

/// One struct for `rel_bad.twice`...
#[signal(namespace = "rel_bad", name = "twice")]
pub struct TwiceFirst;

/// ...and another: the registry reports both.
#[signal(namespace = "rel_bad", name = "twice")]
pub struct TwiceSecond;

/// A plugin name taken twice.
#[plugin(name = "rel_twice")]
#[derive(Default)]
struct PluginOnce;
impl Plugin for PluginOnce {}

#[plugin(name = "rel_twice")]
#[derive(Default)]
struct PluginTwice;
impl Plugin for PluginTwice {}

fn line_of(needle: &str) -> u32 {
    include_str!("bad_input.rs")
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
        .unwrap()
}

#[test]
fn duplicate_declarations_are_reported_naming_both_locations() {
    let file = file!();
    let (first, second) = (
        line_of("pub struct TwiceFirst;"),
        line_of("pub struct TwiceSecond;"),
    );
    let (once, twice) = (
        line_of("struct PluginOnce;"),
        line_of("struct PluginTwice;"),
    );
    let problems: Vec<String> = registry()
        .problems()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        problems,
        [
            format!(
                "signal `rel_bad.twice` is declared twice: by `bad_input::TwiceFirst` at \
                 {file}:{first}:12 and by `bad_input::TwiceSecond` at {file}:{second}:12; rename \
                 one (`#[signal(name = \"...\")]`) or move it to another namespace"
            ),
            format!(
                "plugin `rel_twice` is declared twice: by `bad_input::PluginOnce` at \
                 {file}:{once}:8 and by `bad_input::PluginTwice` at {file}:{twice}:8; give one \
                 of them another name"
            ),
        ]
    );
    assert!(matches!(
        registry().problems()[0],
        RegistryError::DuplicateSignal { .. }
    ));
    assert!(registry().check().is_err());
    // The first declaration (in the registry's order) owns the name; the second is detached.
    assert!(TwiceFirst::signal().check().is_ok());
    assert_eq!(
        TwiceSecond::signal().check().unwrap_err().to_string(),
        "signal `rel_bad.twice` is declared by `bad_input::TwiceFirst`, so it cannot also be used \
         as `bad_input::TwiceSecond`; rename one of them (`#[signal(name = \"...\")]`) or use the \
         declaring type"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Plugins: unknown, loaded twice, not loaded, failing to subscribe

/// A plugin that subscribes fine.
#[plugin(name = "rel_bad_good")]
#[derive(Default)]
struct Good;

impl Plugin for Good {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions.connect(Beta::signal(), |_: &str, _: &Beta| {});
    }
}

/// A plugin whose second subscription names an invalid signal.
#[plugin(name = "rel_bad_broken")]
#[derive(Default)]
struct Broken;

impl Plugin for Broken {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions
            .connect(Beta::signal(), |_: &str, _: &Beta| {})
            .connect_by_name(
                "rel_bad",
                "no such signal",
                |_: &SenderKey<'_>, _: &dyn Kwargs| {},
            );
    }
}

/// Plugins are process-wide: the plugin tests take turns.
static PLUGINS: Mutex<()> = Mutex::new(());

fn plugins_serial() -> MutexGuard<'static, ()> {
    let guard = PLUGINS.lock().unwrap_or_else(PoisonError::into_inner);
    plugins::unload_all();
    guard
}

#[test]
fn plugin_errors_say_what_is_linked_and_loaded() {
    let _serial = plugins_serial();
    assert_eq!(
        plugins::load("rel_nope").unwrap_err().to_string(),
        "no plugin named `rel_nope` is linked into this binary; linked plugins: rel_bad_broken, \
         rel_bad_good, rel_twice. If `rel_nope` lives in another crate, add that crate as a \
         dependency and write `signals_core::link!(that_crate);` once in the host"
    );
    assert_eq!(
        plugins::unload("rel_bad_good").unwrap_err().to_string(),
        "plugin `rel_bad_good` is not loaded, so it cannot be unloaded; loaded plugins: (none)"
    );
    plugins::load("rel_bad_good").unwrap();
    assert_eq!(
        plugins::load("rel_bad_good").unwrap_err().to_string(),
        "plugin `rel_bad_good` is already loaded; unload it first, or load it only once"
    );
    assert_eq!(
        Beta::signal().named().receivers_for("x").len(),
        1,
        "loaded once"
    );
    assert_eq!(
        plugins::unload("rel_twice").unwrap_err().to_string(),
        "plugin `rel_twice` is not loaded, so it cannot be unloaded; loaded plugins: rel_bad_good"
    );
    plugins::unload("rel_bad_good").unwrap();
    assert!(Beta::signal().named().connections().is_empty());
    assert!(plugins::unload("rel_bad_good").is_err(), "a second unload");
}

#[test]
fn a_plugin_that_cannot_subscribe_is_not_loaded_and_leaves_nothing_connected() {
    let _serial = plugins_serial();
    assert_eq!(
        plugins::load("rel_bad_broken").unwrap_err().to_string(),
        format!(
            "plugin `rel_bad_broken` could not subscribe at tests/reliability/tests/bad_input.rs:\
             {}:14: invalid signal name \"no such signal\": the character at byte 2 is not \
             allowed; {ALLOWED}; it was not loaded",
            // The line of `.connect_by_name(` in `Broken`: two before the signal's name.
            line_of("\"no such signal\",") - 2
        )
    );
    assert!(!plugins::is_loaded("rel_bad_broken"));
    assert!(
        Beta::signal().named().connections().is_empty(),
        "the good subscription was undone"
    );
}

#[test]
fn the_host_unloads_what_it_loaded_when_a_configured_plugin_fails() {
    let _serial = plugins_serial();
    let config = Config::parse(
        "[app:main]\nckan.plugins = rel_bad_good rel_nope\n",
        "bad.ini",
    )
    .unwrap();
    let names = host::enabled_plugins(&config, None).unwrap();
    let err = host::load_plugins(&names).unwrap_err();
    assert!(matches!(
        err,
        HostError::Plugin(PluginError::Unknown { .. })
    ));
    assert!(
        plugins::loaded().is_empty(),
        "rel_bad_good was unloaded again"
    );
    assert!(Beta::signal().named().connections().is_empty());
    // An invalid name in the list reaches the plugin host's check.
    let err = host::load_plugins(&["rel_bad_good", "bad/name"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid plugin name \"bad/name\": the character at byte 3 is not allowed; {ALLOWED}"
        )
    );
    assert!(plugins::loaded().is_empty());
    // The environment override must be UTF-8.
    let err =
        host::enabled_plugins(&config, Some(OsStr::from_bytes(b"rel_bad_good \xff"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CKAN__PLUGINS:1: the value is not valid UTF-8; list plugin names in ASCII"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Configuration files

/// A directory of this test run's own under the system's temporary directory.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reliability-tests-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn empty_and_malformed_configs_name_the_file_the_line_and_the_problem() {
    assert!(Config::parse("", "e.ini")
        .unwrap()
        .plugins()
        .unwrap()
        .is_empty());
    assert!(
        Config::parse("\n\n# only comments\n; and these\n   \n", "e.ini")
            .unwrap()
            .plugins()
            .unwrap()
            .is_empty()
    );
    let cases = [
        ("[]\n", "t.ini:1: a section header must look like `[name]`, found `[]`"),
        ("[app:main]]x\n", "t.ini:1: a section header must look like `[name]`, found `[app:main]]x`"),
        ("a = 1\n: 2\n", "t.ini:2: the key before `:` is empty"),
        ("just words\n", "t.ini:1: expected `key = value`, a `[section]` or a comment, found `just words`"),
        (
            "[app:main]\n  ckan.plugins = a\n",
            "t.ini:2: an indented line continues a value, but no key comes before it: `ckan.plugins = a`",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(
            Config::parse(text, "t.ini").unwrap_err().to_string(),
            message,
            "{text:?}"
        );
    }

    let dir = temp_dir("malformed");
    let empty = dir.join("empty.ini");
    std::fs::write(&empty, "").unwrap();
    assert!(Config::from_file(&empty)
        .unwrap()
        .plugins()
        .unwrap()
        .is_empty());
    let not_utf8 = dir.join("latin1.ini");
    std::fs::write(&not_utf8, b"[app:main]\nckan.site_title = Caf\xe9\n").unwrap();
    assert_eq!(
        Config::from_file(&not_utf8).unwrap_err().to_string(),
        format!(
            "{}:2: the line is not valid UTF-8; save the file as UTF-8",
            not_utf8.display()
        )
    );
    let missing = dir.join("missing.ini");
    assert_eq!(
        Config::from_file(&missing).unwrap_err().to_string(),
        format!(
            "cannot read config file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert!(
        matches!(
            Config::from_file(&dir).unwrap_err(),
            ConfigError::Read { .. }
        ),
        "a directory is not a config file"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Editors on Windows start UTF-8 files with a byte order mark; it must not turn the first line
/// into a key nobody looks up (silently enabling no plugin).
#[test]
fn a_byte_order_mark_does_not_hide_the_first_line() {
    let config = Config::parse("\u{feff}ckan.plugins = a b\n", "bom.ini").unwrap();
    assert_eq!(config.plugins().unwrap(), ["a", "b"]);
    assert_eq!(config.line_of("ckan.plugins"), Some(1));
    let config = Config::parse("\u{feff}[app:main]\nckan.plugins = c\n", "bom.ini").unwrap();
    assert_eq!(config.plugins().unwrap(), ["c"]);
    assert_eq!(
        config.get("\u{feff}[app"),
        None,
        "the header is a header, not a key"
    );
}

#[test]
fn a_plugin_named_twice_is_an_error_wherever_the_repeat_is() {
    let config = Config::parse(
        "[app:main]\n# plugins\nckan.plugins = activity audit\n    stats\n    audit\n",
        "ckan.ini",
    )
    .unwrap();
    assert_eq!(
        config.plugins().unwrap_err().to_string(),
        "ckan.ini:3: `ckan.plugins` names `audit` twice; list each plugin once (a plugin loaded \
         twice is an error)"
    );
    assert_eq!(
        parse_plugin_list("a\tb\n  a", "CKAN__PLUGINS").unwrap_err(),
        ConfigError::DuplicatePlugin {
            origin: "CKAN__PLUGINS".into(),
            name: "a".into()
        }
    );
    // Only `[app:main]`'s `ckan.plugins` is read (as CKAN reads it), so only its repeats count.
    let config = Config::parse(
        "[app:main]\nckan.plugins = b c\n[other]\nckan.plugins = a a\n",
        "ckan.ini",
    )
    .unwrap();
    assert_eq!(config.plugins().unwrap(), ["b", "c"]);
}

#[test]
fn a_ten_megabyte_config_parses_and_one_over_the_limit_is_refused() {
    let dir = temp_dir("huge");
    // About 10 MB: many sections, keys, comments and a long `ckan.plugins` continuation.
    let mut text = String::with_capacity(10_100_000);
    text.push_str("[app:main]\nckan.plugins = first\n");
    for i in 0..2_000 {
        text.push_str(&format!("    plugin_{i}\n"));
    }
    let mut i = 0;
    while text.len() < 10_000_000 {
        text.push_str(&format!(
            "# comment {i}: {}\n[section_{i}]\nkey_{i} = {}\n",
            "c".repeat(60),
            "v".repeat(80)
        ));
        i += 1;
    }
    text.push_str("[app:main]\nlast = here\n");
    let huge = dir.join("huge.ini");
    std::fs::write(&huge, &text).unwrap();
    assert!(std::fs::metadata(&huge).unwrap().len() >= 10_000_000);
    let config = Config::from_file(&huge).unwrap();
    let plugins = config.plugins().unwrap();
    assert_eq!(plugins.len(), 2_001);
    assert_eq!(
        (plugins[0].as_str(), plugins[2_000].as_str()),
        ("first", "plugin_1999")
    );
    assert_eq!(
        config.get("key_0"),
        None,
        "other sections are parsed, not read"
    );
    assert_eq!(config.get("last"), Some("here"));
    assert_eq!(config.line_of("last"), Some(text.lines().count()));

    // The limit itself is accepted (a sparse file of NUL bytes: read, then malformed on line
    // 1), one byte more is refused before reading.
    let at_limit = dir.join("at-limit.ini");
    std::fs::File::create(&at_limit)
        .unwrap()
        .set_len(MAX_CONFIG_BYTES)
        .unwrap();
    assert!(matches!(
        Config::from_file(&at_limit).unwrap_err(),
        ConfigError::Malformed { line: 1, .. }
    ));
    let over = dir.join("over.ini");
    std::fs::File::create(&over)
        .unwrap()
        .set_len(MAX_CONFIG_BYTES + 1)
        .unwrap();
    assert_eq!(
        Config::from_file(&over).unwrap_err().to_string(),
        format!(
            "config file {} is 16777217 bytes, over the 16777216 byte limit; is it the right file?",
            over.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 6. Bounded property tests: the always-on counterpart of the fuzz targets in `fuzz/`.

fn property_config() -> ProptestConfig {
    ProptestConfig {
        cases: proptest_cases() / 4,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Mostly name-like bytes, some arbitrary ones, around the length limit too.
fn name_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => prop::sample::select(b"abzAZ09_.-".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        4 => prop::collection::vec(byte.clone(), 0..12),
        1 => prop::collection::vec(byte, 250..260),
    ]
}

proptest! {
    #![proptest_config(property_config())]

    /// `check_name_bytes` is `Ok` exactly for 1 to 255 allowed bytes; lookups by bytes agree
    /// with it and report the first bad byte.
    #[test]
    fn names_follow_their_rules(bytes in name_bytes()) {
        let valid = (1..=MAX_NAME_LEN).contains(&bytes.len()) && bytes.iter().all(|&b| is_name_byte(b));
        let checked = check_name_bytes(&bytes);
        prop_assert_eq!(checked.is_ok(), valid);
        match checked {
            Ok(()) => {}
            Err(NameRule::Empty) => prop_assert!(bytes.is_empty()),
            Err(NameRule::TooLong { len }) => prop_assert_eq!(len, bytes.len()),
            Err(NameRule::BadCharacter { index }) => {
                prop_assert!(!is_name_byte(bytes[index]));
                prop_assert!(bytes[..index].iter().all(|&b| is_name_byte(b)));
            }
            Err(rule @ NameRule::DotInNamespace { .. }) => {
                prop_assert!(false, "a namespace rule for any name: {:?}", rule);
            }
        }
        // Signals in one namespace of this test, so valid names create few namespaces.
        let ns = Namespace::get("rel_prop_names").unwrap();
        match ns.signal_bytes(&bytes) {
            Ok(signal) => {
                prop_assert!(valid);
                prop_assert_eq!(signal.name().as_bytes(), &bytes[..]);
            }
            Err(Error::InvalidName { kind, name, rule }) => {
                prop_assert!(!valid);
                prop_assert_eq!(kind, NameKind::Signal);
                prop_assert_eq!(Err(rule), checked);
                prop_assert_eq!(name, String::from_utf8_lossy(&bytes).into_owned());
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
        if !valid {
            prop_assert!(Namespace::get_bytes(&bytes).is_err());
        } else if let Some(index) = bytes.iter().position(|&b| b == b'.') {
            // A valid name with a dot is a signal name, never a namespace name.
            prop_assert_eq!(
                Namespace::get_bytes(&bytes).unwrap_err(),
                Error::InvalidName {
                    kind: NameKind::Namespace,
                    name: String::from_utf8_lossy(&bytes).into_owned(),
                    rule: NameRule::DotInNamespace { index },
                }
            );
        }
    }

    /// The parser never panics; what it accepts gives values it can look up again, and its
    /// errors name the origin and a line that exists.
    #[test]
    fn the_config_parser_takes_any_text(
        text in prop::collection::vec(
            prop_oneof![
                Just("[app:main]\n".to_owned()),
                Just("ckan.plugins = a b\n".to_owned()),
                Just("  c a\n".to_owned()),
                Just("# note\n".to_owned()),
                Just("key: value\n".to_owned()),
                "\\PC{0,20}\n?",
            ],
            0..20,
        ).prop_map(|parts| parts.concat())
    ) {
        match Config::parse(&text, "p.ini") {
            Ok(config) => match config.plugins() {
                Ok(names) => {
                    for name in &names {
                        prop_assert!(!name.is_empty() && !name.contains(char::is_whitespace));
                    }
                }
                Err(ConfigError::DuplicatePlugin { origin, name }) => {
                    prop_assert!(origin.starts_with("p.ini"));
                    prop_assert!(!name.is_empty());
                }
                Err(ConfigError::NotAPluginName { origin, name }) => {
                    prop_assert!(origin.starts_with("p.ini"));
                    prop_assert!(name.contains([',', '"', '\'', '#', ';']), "{}", name);
                }
                Err(ConfigError::InvalidPluginName { origin, name, rule }) => {
                    prop_assert!(origin.starts_with("p.ini"));
                    prop_assert_eq!(signals_core::check_name(&name), Err(rule));
                }
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            },
            Err(ConfigError::Malformed { origin, line, problem }) => {
                prop_assert_eq!(origin, "p.ini");
                prop_assert!(line >= 1 && line <= text.lines().count(), "line {} of {:?}", line, text);
                prop_assert!(!problem.is_empty());
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Qualified names, streams as config files, and what messages show of bad input

/// `namespace.signal` names one signal: a dot may be part of a signal name, never of a
/// namespace name, so `pq.x` + `y` cannot be confused with `pq` + `x.y`. Whichever comes first,
/// the dotted namespace is refused, with a message that says what to do.
#[test]
fn a_qualified_name_names_one_signal_whichever_is_created_first() {
    let dotted = |ns: &str| {
        format!(
            "invalid namespace name \"{ns}\": it has a `.` at byte {}; a dot separates the \
             namespace from the signal in a qualified name, so a namespace name cannot have \
             one; use `_` or `-` instead (a signal name may have dots)",
            ns.find('.').unwrap()
        )
    };
    // The signal with a dotted name first, then the namespace that would collide with it.
    let signal = Namespace::get("rel_q1").unwrap().signal("x.y").unwrap();
    assert_eq!(signal.qualified_name(), "rel_q1.x.y");
    let err = Namespace::get("rel_q1.x").unwrap_err();
    assert_eq!(err.to_string(), dotted("rel_q1.x"));
    assert_eq!(
        err,
        Error::InvalidName {
            kind: NameKind::Namespace,
            name: "rel_q1.x".into(),
            rule: NameRule::DotInNamespace { index: 6 },
        }
    );
    // The dotted namespace first: refused, so the dotted signal is the only `rel_q2.x.y`.
    assert_eq!(
        Namespace::get_bytes(b"rel_q2.x").unwrap_err().to_string(),
        dotted("rel_q2.x")
    );
    let signal = Namespace::get("rel_q2").unwrap().signal("x.y").unwrap();
    assert_eq!(signal.qualified_name(), "rel_q2.x.y");
    assert!(Namespace::all().iter().all(|ns| !ns.name().contains('.')));
    // The rules, as the macros check them at compile time.
    const CHECKED: Result<(), NameRule> = signals_core::check_namespace_name("ckanext");
    assert_eq!(CHECKED, Ok(()));
    assert_eq!(
        signals_core::check_namespace_name("pq.x"),
        Err(NameRule::DotInNamespace { index: 2 })
    );
    assert_eq!(
        signals_core::check_name("x.y"),
        Ok(()),
        "signal names keep their dots"
    );
}

/// A name that is not UTF-8 is shown lossily, but its length is the input's: a 1,000-byte
/// name is 1,000 bytes, not the 3,000 bytes of its lossy decoding.
#[test]
fn a_name_that_is_not_utf8_is_counted_in_its_own_bytes() {
    let ns = Namespace::get("rel_bad").unwrap();
    let err = ns.signal_bytes(&[0xff; 1000]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid signal name \"{}…\" (1000 bytes): it is 1000 bytes long; shorten it to at \
             most 255 bytes",
            "\u{fffd}".repeat(64)
        )
    );
    assert_eq!(
        Namespace::get_bytes(&[0xfe; 300]).unwrap_err().to_string(),
        format!(
            "invalid namespace name \"{}…\" (300 bytes): it is 300 bytes long; shorten it to at \
             most 255 bytes",
            "\u{fffd}".repeat(64)
        )
    );
    // Within the length limit, a name is quoted whole (its lossy form would miscount it).
    let err = ns.signal_bytes(&[0xff; 100]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid signal name \"{}\": the character at byte 0 is not allowed; {ALLOWED}",
            "\u{fffd}".repeat(100)
        )
    );
}

/// Config errors quote the file's text with its control characters escaped: an ESC or a NUL
/// from the file never reaches the terminal.
#[test]
fn config_errors_escape_control_characters() {
    let cases = [
        (
            "\x1b[2J\x1b[31mred\0\n",
            "t.ini:1: expected `key = value`, a `[section]` or a comment, found \
             `\\u{1b}[2J\\u{1b}[31mred\\0`",
        ),
        (
            "[app\x07:main]x\n",
            "t.ini:1: a section header must look like `[name]`, found `[app\\u{7}:main]x`",
        ),
        (
            "  \x1b]0;title\x07\n",
            "t.ini:1: an indented line continues a value, but no key comes before it: \
             `\\u{1b}]0;title\\u{7}`",
        ),
    ];
    for (text, message) in cases {
        let err = Config::parse(text, "t.ini").unwrap_err().to_string();
        assert_eq!(err, message, "{text:?}");
        assert!(!err.contains(|c: char| c.is_control()), "{err:?}");
    }
    let config = Config::parse("ckan.plugins = a\x1b[0m a\x1b[0m\n", "t.ini").unwrap();
    assert_eq!(
        config.plugins().unwrap_err().to_string(),
        "t.ini:1: `ckan.plugins` names `a\\u{1b}[0m` twice; list each plugin once (a plugin \
         loaded twice is an error)"
    );
    // From a file, too: the at-limit file of NUL bytes is quoted escaped, and cut.
    let dir = temp_dir("escapes");
    let nul = dir.join("nul.ini");
    std::fs::write(&nul, [0u8; 100]).unwrap();
    assert_eq!(
        Config::from_file(&nul).unwrap_err().to_string(),
        format!(
            "{}:1: expected `key = value`, a `[section]` or a comment, found `{}…` (100 bytes)",
            nul.display(),
            "\\0".repeat(64)
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A plugin name the naming rules refuse, written in a config file, is reported with the file
/// and line, as the file's other mistakes are (not later, by the plugin host, without them).
#[test]
fn a_bad_plugin_name_in_a_config_file_names_the_file_and_line() {
    let config = Config::parse("[app:main]\nckan.plugins = audit = stats\n", "t.ini").unwrap();
    let err = config.plugins().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "t.ini:2: the plugin list has `=`, which is not a valid plugin name: the character \
             at byte 0 is not allowed; {ALLOWED}"
        )
    );
    assert_eq!(
        err,
        ConfigError::InvalidPluginName {
            origin: "t.ini:2".into(),
            name: "=".into(),
            rule: NameRule::BadCharacter { index: 0 },
        }
    );
    let dir = temp_dir("bad-plugin-name");
    let file = dir.join("ckan.ini");
    std::fs::write(&file, "[app:main]\nckan.plugins = audit\n  st/ats\n").unwrap();
    let config = Config::from_file(&file).unwrap();
    assert_eq!(
        host::enabled_plugins(&config, None)
            .unwrap_err()
            .to_string(),
        format!(
            "{}:2: the plugin list has `st/ats`, which is not a valid plugin name: the character \
             at byte 2 is not allowed; {ALLOWED}",
            file.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // The environment variable's list is checked the same way, and names the variable.
    assert_eq!(
        host::enabled_plugins(&config, Some(OsStr::new("audit \x1b")))
            .unwrap_err()
            .to_string(),
        format!(
            "CKAN__PLUGINS: the plugin list has `\\u{{1b}}`, which is not a valid plugin name: \
             the character at byte 0 is not allowed; {ALLOWED}"
        )
    );
}

/// Peak resident memory of this process, in bytes (Linux).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// The size limit holds for files that do not know their size: a FIFO that gives more than
/// the limit, and `/dev/zero`, which never ends. Both are read through a bounded reader and
/// refused once past the limit, promptly and without holding more than the limit in memory.
#[test]
fn a_stream_over_the_size_limit_is_refused_without_reading_it_all() {
    use std::io::Write;
    use std::time::{Duration, Instant};

    let over = |path: &std::path::Path| {
        format!(
            "config file {} holds more than 16777216 bytes, the limit; is it the right file?",
            path.display()
        )
    };
    let dir = temp_dir("fifo");
    let fifo = dir.join("config.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // 64 MiB of valid comment lines: read whole, this was accepted as an empty config.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let chunk = "# a comment line that is valid config text\n".repeat(1 << 12);
            let mut written = 0usize;
            while written < 64 << 20 {
                // The reader stops early: the write then fails (a broken pipe), as it should.
                if file.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
                written += chunk.len();
            }
            written
        })
    };
    let start = Instant::now();
    let err = Config::from_file(&fifo).unwrap_err();
    assert_eq!(err.to_string(), over(&fifo));
    assert_eq!(
        err,
        ConfigError::LimitExceeded {
            path: fifo.display().to_string(),
            max: MAX_CONFIG_BYTES
        }
    );
    let written = writer.join().unwrap();
    assert!(
        written < 64 << 20,
        "the reader stopped at the limit ({written} bytes written)"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // `/dev/zero` never ends: the read stops past the limit.
    let zero = std::path::Path::new("/dev/zero");
    let err = Config::from_file(zero).unwrap_err();
    assert_eq!(err.to_string(), over(zero));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "prompt: {:?}",
        start.elapsed()
    );
    // The other tests of this binary hold at most a few tens of MiB at a time.
    let peak = peak_rss();
    assert!(peak < 512 << 20, "peak memory {peak} bytes");
}
