//! The code `#[signal]`, `#[subscriber]` and `#[plugin]` generate, exercised in one crate.
//!
//! Signals, link-time subscribers and plugins are process-wide and tests run in parallel:
//! every test uses signals and plugins of its own.
#![deny(warnings)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use signals_core::registry::{SenderDecl, SubscriberTarget};
use signals_core::{plugin, plugins, registry, signal, subscriber};
use signals_core::{BoxError, Kwargs, Namespace, SenderKey, Signal};

// ---------------------------------------------------------------------------------------------
// Declarations

/// Sent when a user is created.
///
/// Second paragraph.
#[signal(namespace = "m_ckanext")]
#[derive(Debug, Clone)]
pub struct UserCreated {
    /// The user's name.
    pub user: String,
    /// How many tries it took.
    pub attempts: u32,
}

/// A signal sent by integers, whose receivers return values.
#[signal(namespace = "m_ckanext", name = "number.doubled", sender = i64, output = u64)]
pub struct Numbered {
    pub value: u64,
}

#[signal(namespace = "m_unit")]
struct Ping;

#[signal(namespace = "m_unit", sender = Option<String>, output = Result<u8, String>)]
struct Generic {
    r#type: Vec<String>,
}

#[signal(namespace = "m_filter")]
struct Filtered {
    id: u32,
}

#[signal(namespace = "m_plugin")]
struct PluginEvent {
    n: usize,
}

#[signal(namespace = "m_disconnect")]
struct Disconnected;

static AUDITED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Typed, every sender.
#[subscriber]
fn audit(sender: &str, event: &UserCreated) {
    AUDITED
        .lock()
        .unwrap()
        .push(format!("{sender}:{}:{}", event.user, event.attempts));
}

/// Typed, returning a value; the signal's output is `u64`.
#[subscriber]
fn double(_sender: &i64, event: &Numbered) -> u64 {
    event.value * 2
}

/// Typed, returning a `Result` whose error is reported.
#[subscriber(sender = 13)]
fn unlucky(_sender: &i64, _event: &Numbered) -> Result<u64, BoxError> {
    Err("13 is unlucky".into())
}

#[subscriber(sender = -1)]
fn negative(_sender: &i64, event: &Numbered) -> u64 {
    event.value + 1000
}

static BY_NAME: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// By name: never names the struct.
#[subscriber(namespace = "m_ckanext", signal = "user_created", sender = "alice")]
fn by_name(sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), signals_core::KwargError> {
    let user = kwargs.try_get::<String>("user")?;
    BY_NAME.lock().unwrap().push(format!("{sender}:{user}"));
    Ok(())
}

#[signal(namespace = "m_kwarg")]
struct Greeted {
    user: String,
    attempts: u32,
}

static KWARG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// By name, one kwarg: the struct's field `user`, never naming the struct.
#[subscriber(namespace = "m_kwarg", signal = "greeted", kwarg = "user")]
fn greet(sender: &SenderKey<'_>, user: &String) {
    KWARG.lock().unwrap().push(format!("greet {sender}:{user}"));
}

/// By name, one kwarg of a signal no struct declares.
#[subscriber(namespace = "m_kwarg", signal = "loose", kwarg = "n")]
fn loose(_sender: &SenderKey<'_>, n: &u64) -> Result<(), String> {
    KWARG.lock().unwrap().push(format!("loose {n}"));
    Ok(())
}

#[signal(namespace = "m_kwarg")]
struct Renamed {
    user_name: String,
}

/// A kwarg the declared signal does not have: a registry warning, a failure on each send.
#[subscriber(namespace = "m_kwarg", signal = "renamed", kwarg = "user_nme")]
fn misspelt(_sender: &SenderKey<'_>, _user: &String) {}

static FILTERED: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[subscriber(sender = "only-me")]
fn filtered_str(sender: &str, event: &Filtered) {
    FILTERED
        .lock()
        .unwrap()
        .push(format!("str {sender} {}", event.id));
}

#[subscriber]
fn filtered_any(sender: &str, event: &Filtered) {
    FILTERED
        .lock()
        .unwrap()
        .push(format!("any {sender} {}", event.id));
}

#[subscriber(sender = None)]
fn generic_none(_sender: &Option<String>, event: &Generic) -> Result<u8, String> {
    Ok(event.r#type.len() as u8)
}

static PLUGIN_CALLS: AtomicUsize = AtomicUsize::new(0);

/// The plugin that counts `PluginEvent`s.
#[plugin(name = "m_counter")]
#[derive(Default)]
struct Counter;

impl plugins::Plugin for Counter {
    fn subscriptions(&self, subscriptions: &mut plugins::Subscriptions) {
        subscriptions.connect(PluginEvent::signal(), |_: &str, event: &PluginEvent| {
            PLUGIN_CALLS.fetch_add(event.n * 100, Ordering::SeqCst);
        });
    }
}

#[subscriber(plugin = "m_counter")]
fn counted(_sender: &str, event: &PluginEvent) {
    PLUGIN_CALLS.fetch_add(event.n, Ordering::SeqCst);
}

#[signal(namespace = "m_panicky")]
struct PanickyEvent {
    n: usize,
}

/// A plugin whose code panics while it loads, after one of its receivers is connected.
#[plugin(name = "m_panicky")]
#[derive(Default)]
struct Panicky;

impl plugins::Plugin for Panicky {
    fn subscriptions(&self, subscriptions: &mut plugins::Subscriptions) {
        subscriptions.connect(PanickyEvent::signal(), |_: &str, _: &PanickyEvent| {});
        panic!("the panicky plugin cannot start");
    }
}

#[subscriber(plugin = "m_panicky")]
fn panicky_subscriber(_sender: &str, _event: &PanickyEvent) {}

#[signal(namespace = "m_macro_rules")]
struct FromMacro {
    n: usize,
}

static FROM_MACRO: AtomicUsize = AtomicUsize::new(0);

/// A subscriber written by a `macro_rules!` macro: its argument types arrive as `$t:ty`
/// fragments, wrapped in invisible groups.
macro_rules! counting_subscriber {
    ($name:ident, $sender:ty, $event:ty) => {
        #[subscriber]
        fn $name(_sender: $sender, event: $event) {
            FROM_MACRO.fetch_add(event.n, Ordering::SeqCst);
        }
    };
}

counting_subscriber!(counted_from_a_macro, &str, &FromMacro);

#[signal(namespace = "m_slow")]
struct SlowEvent {}

/// Where the slow plugin's load is: 0 not started, 1 inside `subscriptions`, 2 let go.
static SLOW_GATE: (Mutex<u8>, std::sync::Condvar) = (Mutex::new(0), std::sync::Condvar::new());

/// A plugin whose load waits, inside `subscriptions`, until the test lets it go.
#[plugin(name = "m_slow")]
#[derive(Default)]
struct Slow;

impl plugins::Plugin for Slow {
    fn subscriptions(&self, subscriptions: &mut plugins::Subscriptions) {
        subscriptions.connect(SlowEvent::signal(), |_: &str, _: &SlowEvent| {});
        let (state, changed) = &SLOW_GATE;
        let mut state = state.lock().unwrap();
        if *state == 0 {
            *state = 1;
            changed.notify_all();
            while *state != 2 {
                state = changed.wait(state).unwrap();
            }
        }
    }
}

/// Named from its type: `default_named`.
#[plugin]
#[derive(Default)]
struct DefaultNamed {
    _state: u8,
}

impl plugins::Plugin for DefaultNamed {}

static DISCONNECTED: AtomicUsize = AtomicUsize::new(0);

#[subscriber]
fn to_disconnect(_sender: &str, _event: &Disconnected) {
    DISCONNECTED.fetch_add(1, Ordering::SeqCst);
}

/// Hygiene: subscribers whose names are those of the generated code's items and locals.
mod hygiene {
    use signals_core::{plugin, signal, subscriber, Kwargs, SenderKey};

    #[signal(namespace = "m_hygiene")]
    pub struct Hygiene {
        pub name: u8,
        pub kwargs: u8,
    }

    #[subscriber]
    fn options(_sender: &str, event: &Hygiene) -> Result<(), String> {
        Err(format!("options {}", event.name))
    }

    #[subscriber]
    fn connect(_sender: &str, event: &Hygiene) -> Result<(), String> {
        Err(format!("connect {}", event.kwargs))
    }

    #[subscriber(namespace = "m_hygiene", signal = "hygiene")]
    fn receiver(_sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), String> {
        Err(format!("receiver {}", kwargs.get::<u8>("name").unwrap()))
    }

    #[plugin]
    #[derive(Default)]
    #[allow(non_camel_case_types)]
    pub struct create;

    impl signals_core::plugins::Plugin for create {}
}

mod nested {
    use signals_core::{signal, subscriber};

    #[signal(namespace = "m_nested")]
    pub struct Inner {
        pub count: usize,
    }

    #[subscriber]
    fn inner_count(_sender: &str, _event: &Inner) -> Result<(), std::convert::Infallible> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

/// Waits for the registry. Link-time subscribers are connected while the registry is built,
/// on the first lookup of any signal; a test on another thread may be building it right now,
/// and a signal it has already resolved can be sent before its subscribers are connected (a
/// race in signals-core's `SignalCell` fast path, reported). Tests that count calls of
/// link-time subscribers wait for the build first.
fn started() {
    registry();
}

#[track_caller]
fn ok(report: signals_core::SendReport) {
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn signal_impls_carry_the_attribute() {
    assert_eq!(UserCreated::NAMESPACE, "m_ckanext");
    assert_eq!(UserCreated::NAME, "user_created");
    assert_eq!(
        UserCreated::DOCS,
        "Sent when a user is created.\n\nSecond paragraph."
    );
    assert_eq!(Numbered::NAME, "number.doubled");
    assert_eq!(Ping::NAME, "ping");
    assert_eq!(Ping::DOCS, "");
    assert_eq!(nested::Inner::NAME, "inner");
    let named = UserCreated::named();
    assert_eq!(named.qualified_name(), "m_ckanext.user_created");
    assert!(UserCreated::signal().check().is_ok());
}

#[test]
fn kwargs_by_name_in_declaration_order() {
    let event = UserCreated {
        user: "alice".into(),
        attempts: 3,
    };
    let view: &dyn Kwargs = &event;
    assert_eq!(view.names(), ["user", "attempts"]);
    assert_eq!(
        view.get::<String>("user").map(String::as_str),
        Some("alice")
    );
    assert_eq!(view.get::<u32>("attempts"), Some(&3));
    assert!(view.kwarg("nope").is_none());
    // The direct lookup `get` uses finds the same field as `kwarg`, and nothing else.
    for name in ["user", "attempts"] {
        let direct = view.kwarg_value(name).expect("a field");
        let described = view.kwarg(name).expect("a field").value;
        assert!(std::ptr::addr_eq(direct, described), "{name}");
    }
    assert!(view.kwarg_value("nope").is_none());
    assert!(view.kwarg_value("User").is_none());
    assert_eq!(
        view.try_get::<u64>("attempts").unwrap_err().to_string(),
        "keyword argument `attempts` is a `u32`, not a `u64`; read it as `u32`"
    );

    let unit: &dyn Kwargs = &Ping;
    assert!(unit.kwargs().is_empty());
    assert!(unit.kwarg("x").is_none());
    assert!(unit.kwarg_value("x").is_none());

    // A raw identifier's kwarg is its plain name.
    let generic = Generic {
        r#type: vec!["a".into()],
    };
    let view: &dyn Kwargs = &generic;
    assert_eq!(view.names(), ["type"]);
}

#[test]
fn typed_and_by_name_subscribers_are_connected_at_start_up() {
    started();
    let report = UserCreated {
        user: "alice".into(),
        attempts: 1,
    }
    .send("alice");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 2);
    ok(UserCreated {
        user: "bob".into(),
        attempts: 2,
    }
    .send("bob"));
    assert_eq!(*AUDITED.lock().unwrap(), ["alice:alice:1", "bob:bob:2"]);
    // The by-name subscriber listens to "alice" only.
    assert_eq!(*BY_NAME.lock().unwrap(), ["\"alice\":alice"]);
}

#[test]
fn subscribers_of_one_kwarg_get_its_value_from_a_struct_and_from_a_bag() {
    started();
    let report = Greeted {
        user: "carol".into(),
        attempts: 3,
    }
    .send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 1);
    let loose = Namespace::get("m_kwarg").unwrap().signal("loose").unwrap();
    let report = loose
        .send(&"cli", &signals_core::DynKwargs::new().with("n", 5u64))
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    // A bag without the kwarg: reported, not called.
    let report = loose
        .send(&"cli", &signals_core::DynKwargs::new().with("m", 5u64))
        .unwrap();
    assert_eq!(report.receivers_called(), 0);
    assert_eq!(report.failures().len(), 1, "{report:?}");
    assert!(
        matches!(
            report.failures()[0].kind,
            signals_core::FailureKind::Kwarg(_)
        ),
        "{report:?}"
    );
    assert_eq!(*KWARG.lock().unwrap(), ["greet \"web\":carol", "loose 5"]);
    let subscriber = registry()
        .subscribers()
        .iter()
        .find(|s| s.path() == "macros::greet")
        .expect("declared");
    assert!(
        matches!(
            subscriber.target(),
            SubscriberTarget::ByName {
                namespace: "m_kwarg",
                signal: "greeted",
                kwarg: Some("user"),
                ..
            }
        ),
        "{:?}",
        subscriber.target()
    );
}

#[test]
fn a_subscriber_of_a_kwarg_its_signal_does_not_have_is_a_registry_warning() {
    started();
    let warnings: Vec<String> = registry()
        .warnings()
        .iter()
        .filter(|w| matches!(w, registry::RegistryWarning::UnknownKwarg { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("subscriber `macros::misspelt` at "),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].ends_with(
            "reads the keyword argument `user_nme` of `m_kwarg.renamed`, which has none of \
             that name (its arguments: user_name); did you mean `user_name`?: every send will \
             report it as a failure, uncalled"
        ),
        "{}",
        warnings[0]
    );
    let report = Renamed {
        user_name: "dave".into(),
    }
    .send("web");
    assert_eq!(report.receivers_called(), 0);
    assert_eq!(report.failures().len(), 1, "{report:?}");
}

#[test]
fn values_errors_and_integer_senders() {
    started();
    let collected = Numbered { value: 4 }.sending(&7).collect().run();
    assert_eq!(collected.into_values(), [8]);
    let collected = Numbered { value: 4 }.sending(&13).collect().run();
    assert_eq!(collected.report.failures().len(), 1);
    let failure = &collected.report.failures()[0];
    assert!(failure.to_string().contains("13 is unlucky"), "{failure}");
    assert_eq!(failure.receiver.name, "macros::unlucky");
    assert_eq!(collected.into_values(), [8]);
    let collected = Numbered { value: 4 }.sending(&-1).collect().run();
    assert_eq!(collected.into_values(), [8, 1004]);
}

#[test]
fn sender_filters() {
    started();
    ok(Filtered { id: 1 }.send("someone"));
    ok(Filtered { id: 2 }.send("only-me"));
    let mut calls = FILTERED.lock().unwrap().clone();
    calls.sort();
    assert_eq!(calls, ["any only-me 2", "any someone 1", "str only-me 2"]);

    let none = Generic {
        r#type: vec!["a".into(), "b".into()],
    };
    assert_eq!(none.sending(&None).collect().run().into_values(), [Ok(2)]);
    assert!(none
        .sending(&Some("x".into()))
        .collect()
        .run()
        .into_values()
        .is_empty());
}

#[test]
fn link_time_subscribers_can_be_disconnected_by_function() {
    started();
    ok(Disconnected.send("x"));
    assert_eq!(DISCONNECTED.load(Ordering::SeqCst), 1);
    assert_eq!(Disconnected::signal().named().disconnect(&to_disconnect), 1);
    ok(Disconnected.send("x"));
    assert_eq!(DISCONNECTED.load(Ordering::SeqCst), 1);
}

#[test]
fn plugin_subscribers_follow_load_and_unload() {
    started();
    ok(PluginEvent { n: 1 }.send("x"));
    assert_eq!(PLUGIN_CALLS.load(Ordering::SeqCst), 0, "not loaded yet");
    plugins::load("m_counter").unwrap();
    ok(PluginEvent { n: 1 }.send("x"));
    assert_eq!(PLUGIN_CALLS.load(Ordering::SeqCst), 101);
    let receivers = PluginEvent::signal().named().receivers_for("x");
    assert_eq!(receivers.len(), 2);
    assert!(receivers
        .iter()
        .all(|r| r.plugin.as_deref() == Some("m_counter")));
    plugins::unload("m_counter").unwrap();
    ok(PluginEvent { n: 1 }.send("x"));
    assert_eq!(PLUGIN_CALLS.load(Ordering::SeqCst), 101);

    {
        let _guard = plugins::use_plugin("default_named").unwrap();
        assert!(plugins::is_loaded("default_named"));
    }
    assert!(!plugins::is_loaded("default_named"));
}

#[test]
fn a_plugin_that_panics_while_loading_is_undone_and_the_panic_goes_on() {
    started();
    for _ in 0..2 {
        let panic = std::panic::catch_unwind(|| plugins::load("m_panicky")).unwrap_err();
        assert_eq!(
            panic.downcast_ref::<&str>(),
            Some(&"the panicky plugin cannot start")
        );
        assert!(!plugins::is_loaded("m_panicky"));
        assert!(!plugins::loaded().contains(&"m_panicky"));
        assert_eq!(PanickyEvent::signal().named().receivers_for("x").len(), 0);
        assert_eq!(PanickyEvent { n: 1 }.send("x").receivers_called(), 0);
    }
    assert!(matches!(
        plugins::unload("m_panicky"),
        Err(plugins::PluginError::NotLoaded { .. })
    ));
}

#[test]
fn a_subscriber_written_by_macro_rules_is_connected() {
    started();
    ok(FromMacro { n: 5 }.send("x"));
    assert_eq!(FROM_MACRO.load(Ordering::SeqCst), 5);
}

#[test]
fn an_unload_during_a_load_takes_effect_when_the_load_ends() {
    started();
    let loading = std::thread::spawn(|| plugins::load("m_slow"));
    let (state, changed) = &SLOW_GATE;
    let mut gate = state.lock().unwrap();
    while *gate != 1 {
        gate = changed.wait(gate).unwrap();
    }
    // The load is inside the plugin's code: not loaded yet, and its place is taken.
    assert!(!plugins::is_loaded("m_slow"));
    assert!(!plugins::loaded().contains(&"m_slow"));
    assert_eq!(
        plugins::load("m_slow").unwrap_err().to_string(),
        "plugin `m_slow` is being loaded (by another thread, or by the plugin's own code on \
         this one); load or unload it once that load has returned"
    );
    // An unload waits for the load to end, then unloads it; it does not return before.
    let unloading = std::thread::spawn(|| {
        let unloaded = plugins::unload("m_slow");
        (unloaded, SlowEvent {}.send("x").receivers_called())
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(
        !unloading.is_finished(),
        "the unload returned during the load"
    );
    *gate = 2;
    changed.notify_all();
    drop(gate);
    assert_eq!(loading.join().unwrap(), Ok(()));
    // The unload counted as coming after the load: nothing is left loaded or connected.
    assert_eq!(unloading.join().unwrap(), (Ok(()), 0));
    assert!(!plugins::is_loaded("m_slow"));
    assert_eq!(SlowEvent {}.send("x").receivers_called(), 0);
    // And the plugin loads again as usual.
    plugins::load("m_slow").unwrap();
    assert_eq!(SlowEvent {}.send("x").receivers_called(), 1);
    plugins::unload("m_slow").unwrap();
    assert_eq!(SlowEvent {}.send("x").receivers_called(), 0);
}

#[test]
fn the_registry_lists_every_declaration() {
    let registry = registry();
    assert!(registry.problems().is_empty(), "{:?}", registry.problems());

    let user = registry
        .signals()
        .iter()
        .find(|s| s.namespace() == "m_ckanext" && s.name() == "user_created")
        .expect("UserCreated is declared");
    assert_eq!(user.rust_type(), "macros::UserCreated");
    assert_eq!(user.docs(), UserCreated::DOCS);
    assert_eq!(user.sender_type(), "str");
    assert_eq!(user.output_type(), "()");
    assert_eq!(user.crate_name(), "signals-core");
    assert!(
        user.location().file.ends_with("macros.rs"),
        "{}",
        user.location()
    );
    let kwargs: Vec<_> = user
        .kwargs()
        .iter()
        .map(|k| (k.name(), k.type_name(), k.docs()))
        .collect();
    assert_eq!(
        kwargs,
        [
            ("user", "String", "The user's name."),
            ("attempts", "u32", "How many tries it took."),
        ]
    );
    assert_eq!(user.resolve(), UserCreated::named());
    assert_eq!(user.type_id(), std::any::TypeId::of::<UserCreated>());

    let generic = registry
        .signals()
        .iter()
        .find(|s| s.namespace() == "m_unit" && s.name() == "generic")
        .unwrap();
    assert_eq!(generic.sender_type(), "Option<String>");
    assert_eq!(generic.output_type(), "Result<u8, String>");
    assert_eq!(generic.kwargs()[0].name(), "type");
    assert_eq!(generic.kwargs()[0].type_name(), "Vec<String>");
    let inner = registry
        .signals()
        .iter()
        .find(|s| s.namespace() == "m_nested")
        .unwrap();
    assert_eq!(inner.rust_type(), "macros::nested::Inner");

    let audit = registry
        .subscribers()
        .iter()
        .find(|s| s.path() == "macros::audit")
        .expect("audit is registered");
    assert_eq!(audit.signal_name(), ("m_ckanext", "user_created"));
    assert_eq!(audit.sender(), SenderDecl::Any);
    assert_eq!(audit.plugin(), None);
    assert!(!audit.is_async());
    assert!(matches!(
        audit.target(),
        SubscriberTarget::Typed {
            rust_type: "UserCreated",
            ..
        }
    ));

    let by_name = registry
        .subscribers()
        .iter()
        .find(|s| s.path() == "macros::by_name")
        .unwrap();
    assert_eq!(by_name.sender(), SenderDecl::Str("alice"));
    assert!(matches!(
        by_name.target(),
        SubscriberTarget::ByName {
            namespace: "m_ckanext",
            signal: "user_created",
            ..
        }
    ));
    let senders: Vec<_> = ["unlucky", "negative", "generic_none"]
        .iter()
        .map(|f| {
            registry
                .subscribers()
                .iter()
                .find(|s| s.path() == format!("macros::{f}"))
                .unwrap()
                .sender()
        })
        .collect();
    assert_eq!(
        senders,
        [SenderDecl::Int(13), SenderDecl::Int(-1), SenderDecl::None]
    );
    assert_eq!(
        registry.subscribers_of("m_ckanext", "user_created").count(),
        2
    );
    let counted = registry
        .subscribers()
        .iter()
        .find(|s| s.path() == "macros::counted")
        .unwrap();
    assert_eq!(counted.plugin(), Some("m_counter"));
    assert!(registry
        .subscribers()
        .iter()
        .any(|s| s.path() == "macros::nested::inner_count"));

    let counter = registry.plugin("m_counter").unwrap();
    let declaration = counter.declaration.unwrap();
    assert_eq!(declaration.rust_type(), "macros::Counter");
    assert_eq!(declaration.docs(), "The plugin that counts `PluginEvent`s.");
    assert_eq!(declaration.crate_name(), "signals-core");
    assert!(registry
        .plugin("default_named")
        .unwrap()
        .declaration
        .is_some());

    // Declared signals are known by name, with their struct.
    let by_name = Namespace::get("m_ckanext")
        .unwrap()
        .signal("user_created")
        .unwrap();
    assert_eq!(
        by_name.declaration().map(|d| d.type_name),
        Some(std::any::type_name::<UserCreated>())
    );
}

#[test]
fn generated_names_do_not_capture_the_users() {
    started();
    use hygiene::Hygiene;
    let report = Hygiene { name: 1, kwargs: 2 }.send("x");
    let mut messages: Vec<String> = report.failures().iter().map(|f| f.to_string()).collect();
    messages.sort();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("connect 2"), "{messages:?}");
    assert!(messages[1].contains("options 1"), "{messages:?}");
    assert!(messages[2].contains("receiver 1"), "{messages:?}");
    assert!(registry().plugin("create").is_some());
}

#[test]
fn locations_point_at_the_declared_names() {
    let registry = registry();
    let source = include_str!("macros.rs");
    let line_of = |needle: &str| {
        source
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
            .unwrap()
    };
    let user = registry
        .signals()
        .iter()
        .find(|s| s.name() == "user_created")
        .unwrap();
    assert_eq!(user.location().line, line_of("pub struct UserCreated {"));
    assert_eq!(user.location().column, 12);
    let audit = registry
        .subscribers()
        .iter()
        .find(|s| s.path() == "macros::audit")
        .unwrap();
    assert_eq!(audit.location().line, line_of("fn audit(sender"));
    assert_eq!(audit.location().column, 4);
}
