//! Connect variants through the one `connect` + `Receiver`: sender filters, keys, weak
//! receivers, the disconnect forms, and a plugin's `Subscriptions`. Each test keeps a behaviour
//! that a 0.1 doc example asserted (the example it replaces is named in its comment).
//!
//! Every test uses signals and plugins of its own (`t_connecting_*`): signals are process-wide
//! and tests run in parallel.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use signals_core::plugins::{self, Plugin, PluginError, Subscriptions};
use signals_core::{
    plugin, signal, DynKwargs, Kwargs, Namespace, Receiver, ReceiverId, SenderFilter, SenderKey,
    Signal,
};

// ---------------------------------------------------------------------------------------------
// Sender filters

/// Was `ConnectOptions::sender` and `NamedSignal::connect_to`: a by-name receiver connected
/// for one sender is called when that sender sends, and not by another.
#[test]
fn a_by_name_receiver_for_one_sender_is_called_only_by_it() {
    let signal = Namespace::get("t_connecting_sender")
        .unwrap()
        .signal("saved")
        .unwrap();
    let c = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).sender("a"));
    let bag = DynKwargs::new();
    assert_eq!(signal.send(&"a", &bag).unwrap().receivers_called(), 1);
    assert_eq!(signal.send(&"b", &bag).unwrap().receivers_called(), 0);
    assert!(c.disconnect());
}

/// Was `ConnectOptions::new` and `ConnectOptions::filter`: a receiver connected without a
/// sender listens to any sender; with `.sender("dataset")` (and a key and a name beside it),
/// only to "dataset".
#[test]
fn the_filter_is_any_sender_unless_a_sender_is_given() {
    let signal = Namespace::get("t_connecting_filter")
        .unwrap()
        .signal("saved")
        .unwrap();
    let any = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
    assert_eq!(signal.connections()[0].filter, SenderFilter::Any);
    assert!(any.disconnect());
    let only = signal.connect(
        Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {})
            .sender("dataset")
            .key("audit-dataset")
            .name("audit"),
    );
    assert_eq!(
        signal.connections()[0].filter,
        SenderFilter::Only(SenderKey::from("dataset"))
    );
    assert!(only.disconnect());
}

// ---------------------------------------------------------------------------------------------
// Keys and the disconnect forms

/// Was `ConnectOptions::key`: two closures connected with one key are one connection; the
/// first connect made it, the second found it; disconnecting the key removes it.
#[test]
fn connecting_one_key_twice_is_one_connection() {
    let signal = Namespace::get("t_connecting_key")
        .unwrap()
        .signal("saved")
        .unwrap();
    let n = 1;
    let first = signal.connect(
        Receiver::new(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
            let _n = n;
        })
        .key("audit"),
    );
    let again = signal.connect(
        Receiver::new(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
            let _n = n;
        })
        .key("audit"),
    );
    assert!(first.is_new() && !again.is_new());
    assert_eq!(first, again);
    assert_eq!(signal.disconnect(&ReceiverId::key("audit")), 1);
}

/// Was `NamedSignal::disconnect_receiver`: disconnecting a key removes its connections for
/// every sender.
#[test]
fn disconnecting_a_key_removes_it_for_every_sender() {
    let signal = Namespace::get("t_connecting_disconnect_key")
        .unwrap()
        .signal("saved")
        .unwrap();
    signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).key("audit"));
    signal.connect(
        Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {})
            .key("audit")
            .sender("dataset"),
    );
    assert_eq!(signal.disconnect(&"audit"), 2);
}

/// Was `NamedSignal::disconnect_receiver_from`: disconnecting a key from one sender removes
/// that connection only; its every-sender connection stays.
#[test]
fn disconnecting_a_key_from_one_sender_leaves_its_other_connections() {
    let signal = Namespace::get("t_connecting_disconnect_key_from")
        .unwrap()
        .signal("saved")
        .unwrap();
    let any = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).key("audit"));
    signal.connect(
        Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {})
            .key("audit")
            .sender("dataset"),
    );
    assert_eq!(
        signal.disconnect_from(&ReceiverId::key("audit"), &"dataset"),
        1
    );
    assert!(any.is_connected());
    assert!(any.disconnect());
}

// ---------------------------------------------------------------------------------------------
// Weak receivers

/// Was `NamedSignal::connect_weak`: a by-name receiver bound weakly to its target is called
/// while the target lives; once it is dropped, a send calls nobody and the connection is gone.
#[test]
fn a_weak_by_name_receiver_goes_with_its_target() {
    let signal = Namespace::get("t_connecting_weak_by_name")
        .unwrap()
        .signal("saved")
        .unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let weak = Arc::downgrade(&seen);
    signal.connect(
        Receiver::new(move |sender: &SenderKey<'_>, _: &dyn Kwargs| {
            if let Some(seen) = weak.upgrade() {
                seen.lock().unwrap().push(sender.to_string());
            }
        })
        .weak(&seen),
    );
    let _ = signal.send(&"web", &DynKwargs::new()).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    drop(seen);
    assert_eq!(
        signal
            .send(&"web", &DynKwargs::new())
            .unwrap()
            .receivers_called(),
        0
    );
    assert!(signal.connections().is_empty());
}

#[signal(namespace = "t_connecting_weak_typed")]
struct Tick;

/// Was `TypedSignal::connect_weak`: after the target is dropped, `has_receivers` (the fast
/// flag) still says yes until a send notices, `has_receivers_for` (exact) says no at once; the
/// next send calls nobody and disconnects the receiver.
#[test]
fn a_dropped_weak_target_is_noticed_by_the_next_send() {
    let counter = Arc::new(AtomicU32::new(0));
    let weak = Arc::downgrade(&counter);
    let c = Tick::signal().connect(
        Receiver::new(move |_: &str, _: &Tick| {
            if let Some(n) = weak.upgrade() {
                n.fetch_add(1, Ordering::Relaxed);
            }
        })
        .weak(&counter),
    );
    assert_eq!(Tick.send("web").receivers_called(), 1);
    assert_eq!(counter.load(Ordering::Relaxed), 1);

    drop(counter);
    assert!(Tick::signal().named().has_receivers()); // not noticed yet
    assert!(!Tick::signal().named().has_receivers_for("web")); // exact
    assert_eq!(Tick.send("web").receivers_called(), 0); // noticed: disconnected
    assert!(!c.is_connected());
    assert!(!Tick::signal().named().has_receivers());
}

// ---------------------------------------------------------------------------------------------
// A plugin's Subscriptions

#[plugin(name = "t_connecting_plugin_name")]
#[derive(Default)]
struct KnowsItsName;

impl Plugin for KnowsItsName {
    fn subscriptions(&self, s: &mut Subscriptions) {
        assert_eq!(s.plugin(), "t_connecting_plugin_name");
    }
}

/// Was `Subscriptions::plugin`: the subscriptions a plugin is given know its name.
#[test]
fn subscriptions_know_their_plugin() {
    plugins::load("t_connecting_plugin_name").unwrap();
    assert!(plugins::is_loaded("t_connecting_plugin_name"));
    plugins::unload("t_connecting_plugin_name").unwrap();
}

#[signal(namespace = "t_connecting_plugin_connect")]
struct PluginSaved {
    id: u32,
}

#[plugin(name = "t_connecting_plugin_connect")]
#[derive(Default)]
struct ConnectsTyped;

impl Plugin for ConnectsTyped {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(PluginSaved::signal(), |_: &str, ev: &PluginSaved| {
            assert_eq!(ev.id, 1)
        });
    }
}

/// Was `Subscriptions::connect`: a plugin's typed receiver is connected as the plugin's, and
/// called.
#[test]
fn a_plugin_s_typed_receiver_is_the_plugin_s_and_is_called() {
    let _loaded = plugins::use_plugin("t_connecting_plugin_connect").unwrap();
    let c = PluginSaved::signal().named().connections();
    assert_eq!(
        c[0].receiver.plugin.as_deref(),
        Some("t_connecting_plugin_connect")
    );
    assert_eq!(PluginSaved { id: 1 }.send("web").receivers_called(), 1);
}

#[signal(namespace = "t_connecting_plugin_sender")]
struct PluginFiltered {
    id: u32,
}

#[plugin(name = "t_connecting_plugin_sender")]
#[derive(Default)]
struct ConnectsForOneSender;

impl Plugin for ConnectsForOneSender {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(
            PluginFiltered::signal(),
            Receiver::new(|_: &str, _: &PluginFiltered| {}).sender("dataset"),
        );
    }
}

/// Was `Subscriptions::connect_to`: a plugin's typed receiver for one sender is called by that
/// sender only.
#[test]
fn a_plugin_s_typed_receiver_for_one_sender_is_called_only_by_it() {
    let _loaded = plugins::use_plugin("t_connecting_plugin_sender").unwrap();
    assert_eq!(
        PluginFiltered { id: 1 }.send("dataset").receivers_called(),
        1
    );
    assert_eq!(PluginFiltered { id: 1 }.send("group").receivers_called(), 0);
}

#[plugin(name = "t_connecting_plugin_by_name_sender")]
#[derive(Default)]
struct ConnectsByNameForOneSender;

impl Plugin for ConnectsByNameForOneSender {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect_by_name(
            "t_connecting_plugin_by_name_sender",
            "saved",
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).sender("dataset"),
        );
    }
}

/// Was `Subscriptions::connect_by_name_to`: a plugin's by-name receiver for one sender has
/// receivers for that sender only.
#[test]
fn a_plugin_s_by_name_receiver_for_one_sender_listens_to_it_only() {
    let _loaded = plugins::use_plugin("t_connecting_plugin_by_name_sender").unwrap();
    let signal = Namespace::get("t_connecting_plugin_by_name_sender")
        .unwrap()
        .signal("saved")
        .unwrap();
    assert!(signal.has_receivers_for(&"dataset"));
    assert!(!signal.has_receivers_for(&"group"));
}

#[plugin(name = "t_connecting_plugin_broken")]
#[derive(Default)]
struct SubscribesBadly;

impl Plugin for SubscribesBadly {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect_by_name(
            "t_connecting_plugin_broken",
            "saved",
            |_: &SenderKey<'_>, _: &dyn Kwargs| {},
        )
        .connect_by_name(
            "t_connecting_plugin_broken",
            "not a name",
            |_: &SenderKey<'_>, _: &dyn Kwargs| {},
        )
        .connect_by_name(
            "t_connecting_plugin_broken",
            "nor this",
            |_: &SenderKey<'_>, _: &dyn Kwargs| {},
        );
    }
}

/// Was `Subscriptions::connect_by_name`: a plugin two of whose by-name subscriptions fail is
/// not loaded; the error says where the first failed subscription was made, why, and how many
/// more failed; the valid subscription is undone too.
#[test]
fn a_plugin_whose_subscriptions_fail_says_where_why_and_how_many() {
    let err = plugins::load("t_connecting_plugin_broken").unwrap_err();
    assert!(matches!(err, PluginError::Subscription { more: 1, .. }));
    let text = err.to_string();
    assert!(text.starts_with("plugin `t_connecting_plugin_broken` could not subscribe at "));
    assert!(text.contains("connecting.rs:"), "{text}");
    assert!(text.contains("\"not a name\""), "{text}");
    assert!(text.ends_with(" (and 1 more); it was not loaded"), "{text}");
    assert!(!plugins::is_loaded("t_connecting_plugin_broken"));
    let signal = Namespace::get("t_connecting_plugin_broken")
        .unwrap()
        .signal("saved")
        .unwrap();
    assert!(!signal.has_receivers()); // the valid subscription was undone too
}
