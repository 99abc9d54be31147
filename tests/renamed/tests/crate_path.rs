//! `crate = path` on `#[signal]`, `#[subscriber]` and `#[plugin]`, through a renamed
//! dependency (`core_signals`) and through a facade's re-export (`renamed_tests::signals`).
//! The package cannot name `signals_core`: every path the generated code uses comes from the
//! attribute.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use core_signals::plugins::{self, Plugin, Subscriptions};
use core_signals::{plugin, registry, signal, subscriber, Kwargs, SenderKey, Signal};

/// The tests that send `Saved` run one at a time: loading the plugin adds receivers.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sent when a dataset is saved.
#[signal(namespace = "renamed", sender = i64, output = u32, crate = core_signals)]
struct Saved {
    id: u32,
}

#[subscriber(crate = core_signals)]
fn double(_sender: &i64, event: &Saved) -> u32 {
    event.id * 2
}

static BY_NAME: AtomicU32 = AtomicU32::new(0);

#[subscriber(namespace = "renamed", signal = "saved", sender = 7, crate = core_signals)]
async fn by_name(_sender: &SenderKey<'_>, kwargs: &dyn Kwargs) {
    BY_NAME.fetch_add(*kwargs.get::<u32>("id").unwrap(), Ordering::SeqCst);
}

#[signal(namespace = "renamed_kwarg", crate = core_signals)]
struct Viewed {
    id: u32,
}

static VIEWED: AtomicU32 = AtomicU32::new(0);

#[subscriber(namespace = "renamed_kwarg", signal = "viewed", kwarg = "id", crate = core_signals)]
fn viewed(_sender: &SenderKey<'_>, id: &u32) {
    VIEWED.fetch_add(*id, Ordering::SeqCst);
}

static PLUGIN: AtomicU32 = AtomicU32::new(0);

#[subscriber(plugin = "renamed_plugin", crate = core_signals)]
fn plugin_owned(_sender: &i64, event: &Saved) -> u32 {
    PLUGIN.fetch_add(event.id, Ordering::SeqCst);
    0
}

/// Loaded by name, with a subscriber of its own.
#[plugin(name = "renamed_plugin", crate = core_signals)]
#[derive(Default)]
struct RenamedPlugin;

impl Plugin for RenamedPlugin {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions.connect(Saved::signal(), |_: &i64, event: &Saved| event.id + 100);
    }
}

#[test]
fn a_send_reaches_the_subscribers_declared_with_a_crate_path() {
    let _serial = serial();
    let collected = Saved { id: 3 }.sending(&1).collect().run();
    assert_eq!(collected.into_values(), [6]);

    let report = futures::executor::block_on(Saved { id: 5 }.send_async(&7));
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(BY_NAME.load(Ordering::SeqCst), 5);
}

#[test]
fn a_subscriber_of_one_kwarg_declared_with_a_crate_path_reads_it() {
    let report = Viewed { id: 4 }.send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(VIEWED.load(Ordering::SeqCst), 4);
}

#[test]
fn the_registry_lists_them_as_declared_here() {
    let decl = registry()
        .signals()
        .iter()
        .find(|s| s.namespace() == "renamed")
        .expect("declared");
    assert_eq!(decl.rust_type(), "crate_path::Saved");
    assert_eq!(decl.crate_name(), "renamed-tests");
    assert_eq!(decl.docs(), "Sent when a dataset is saved.");
    assert_eq!((decl.sender_type(), decl.output_type()), ("i64", "u32"));
    assert_eq!(decl.type_id(), std::any::TypeId::of::<Saved>());
    assert_eq!(decl.resolve(), Saved::named());
    let paths: Vec<&str> = registry()
        .subscribers_of("renamed", "saved")
        .map(|s| s.path())
        .collect();
    assert_eq!(
        paths,
        [
            "crate_path::by_name",
            "crate_path::double",
            "crate_path::plugin_owned"
        ]
    );
    assert!(
        registry().problems().is_empty(),
        "{:?}",
        registry().problems()
    );
}

#[test]
fn the_plugin_loads_and_unloads() {
    let declaration = registry()
        .plugin("renamed_plugin")
        .and_then(|entry| entry.declaration)
        .expect("declared");
    assert_eq!(
        declaration.docs(),
        "Loaded by name, with a subscriber of its own."
    );
    assert_eq!(declaration.rust_type(), "crate_path::RenamedPlugin");

    let _serial = serial();
    plugins::load("renamed_plugin").unwrap();
    let mut values = Saved { id: 2 }.sending(&2).collect().run().into_values();
    values.sort_unstable();
    assert_eq!(values, [0, 4, 102]);
    assert_eq!(PLUGIN.load(Ordering::SeqCst), 2);
    plugins::unload("renamed_plugin").unwrap();
    assert_eq!(
        Saved { id: 2 }.sending(&2).collect().run().into_values(),
        [4]
    );
}

#[test]
fn a_facade_re_export_works_as_the_crate_path() {
    use renamed_tests::signals;
    use renamed_tests::FacadeSaved;

    static SEEN: AtomicU32 = AtomicU32::new(0);

    #[signals::subscriber(crate = renamed_tests::signals)]
    fn also_count(_sender: &str, event: &FacadeSaved) {
        SEEN.fetch_add(event.id, Ordering::SeqCst);
    }

    let report = FacadeSaved { id: 4 }.send("web");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(renamed_tests::COUNTED.load(Ordering::SeqCst), 4);
    assert_eq!(SEEN.load(Ordering::SeqCst), 4);
}
