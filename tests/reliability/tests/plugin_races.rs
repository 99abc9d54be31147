//! Loads and unloads of one plugin racing each other, forced into their worst interleavings.
//!
//! Each test pauses one thread at a chosen point (a `receiver_disconnected` meta-receiver
//! between an unload's disconnects, or the plugin's own code in the middle of a load) while
//! another thread loads or unloads the same plugin, then checks that the outcome is one of
//! some order of the calls, and that a loaded plugin has all its subscriptions.
//!
//! The second thread is given up to `OVERLAP` to finish on its own before the paused one goes
//! on: a call that does not wait for the paused one (the bugs these tests found) finishes in
//! that time, and the checks catch it; a call that waits is released with the paused one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use reliability_tests::with_watchdog;
use signals_core::plugins::{self, Plugin, PluginError, Subscriptions};
use signals_core::{plugin, signal, Receiver, ReceiverDisconnected, Signal};

/// How long the racing call gets to finish while the other one is paused.
const OVERLAP: Duration = Duration::from_millis(300);

/// A one-shot gate: closed until opened, then open for good.
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    const fn new() -> Self {
        Gate {
            open: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = self
                .changed
                .wait(open)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Plugins are process-wide and `unload_all` unloads every one: the tests here run one at a
/// time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits until `thread` finished, or `OVERLAP` passed.
fn let_it_run<T>(thread: &JoinHandle<T>) {
    let until = Instant::now() + OVERLAP;
    while !thread.is_finished() && Instant::now() < until {
        thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------------------------
// Defect 2 of issue 14: a load that starts while an unload of the same plugin is between its
// disconnects.

#[signal(namespace = "rel_races")]
pub struct UnloadRaced;

#[plugin(name = "rel_races_unload")]
#[derive(Default)]
struct UnloadRace;

impl Plugin for UnloadRace {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions
            .connect(UnloadRaced::signal(), |_: &str, _: &UnloadRaced| {})
            .connect(UnloadRaced::signal(), |_: &str, _: &UnloadRaced| {});
    }
}

#[test]
fn a_load_that_meets_an_unload_between_its_disconnects_gets_all_its_subscriptions() {
    with_watchdog(Duration::from_secs(60), || {
        let _serial = serial();
        signals_core::registry();
        let name = "rel_races_unload";
        let armed = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(Gate::new());
        let resume = Arc::new(Gate::new());
        // Runs in the unloading thread, after its first disconnect and before its second.
        let pause = {
            let (armed, paused, resume) = (armed.clone(), paused.clone(), resume.clone());
            ReceiverDisconnected::signal().connect(
                Receiver::new(move |_: &str, _: &ReceiverDisconnected| {
                    if armed.swap(false, Ordering::SeqCst) {
                        paused.open();
                        resume.wait();
                    }
                })
                .sender(UnloadRaced::signal().named().qualified_name()),
            )
        };

        plugins::load(name).unwrap();
        assert_eq!(UnloadRaced.send("x").receivers_called(), 2);
        armed.store(true, Ordering::SeqCst);
        let unloader = thread::spawn(move || plugins::unload(name));
        paused.wait();
        let loader = thread::spawn(move || plugins::load(name));
        let_it_run(&loader);
        resume.open();
        let unloaded = unloader.join().unwrap();
        let loaded = loader.join().unwrap();

        // The load came after the unload began: it is linearized after it, and succeeds.
        assert_eq!(unloaded, Ok(()));
        assert_eq!(loaded, Ok(()));
        assert!(plugins::is_loaded(name));
        assert_eq!(
            UnloadRaced.send("x").receivers_called(),
            2,
            "the plugin is loaded with {:?}",
            UnloadRaced::signal().named().receivers_for("x")
        );
        plugins::unload(name).unwrap();
        assert_eq!(UnloadRaced.send("x").receivers_called(), 0);
        assert!(pause.disconnect());
    });
}

// ---------------------------------------------------------------------------------------------
// Defect 3 of issue 14: an unload that comes while another thread is inside the plugin's load.

#[signal(namespace = "rel_races")]
pub struct LoadRaced;

static LOAD_ARMED: AtomicBool = AtomicBool::new(false);
static LOAD_PAUSED: Gate = Gate::new();
static LOAD_RESUME: Gate = Gate::new();

#[plugin(name = "rel_races_load")]
#[derive(Default)]
struct LoadRace;

impl Plugin for LoadRace {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions.connect(LoadRaced::signal(), |_: &str, _: &LoadRaced| {});
        // Paused with its receiver connected, before the load returns.
        if LOAD_ARMED.swap(false, Ordering::SeqCst) {
            LOAD_PAUSED.open();
            LOAD_RESUME.wait();
        }
    }
}

#[test]
fn an_unload_during_a_load_returns_once_the_receivers_are_gone() {
    with_watchdog(Duration::from_secs(60), || {
        let _serial = serial();
        signals_core::registry();
        let name = "rel_races_load";
        LOAD_ARMED.store(true, Ordering::SeqCst);
        let loader = thread::spawn(move || plugins::load(name));
        LOAD_PAUSED.wait();
        // Another load meanwhile is refused: the plugin is being loaded.
        assert_eq!(
            plugins::load(name),
            Err(PluginError::Loading {
                name: name.to_owned()
            })
        );
        let unloader = thread::spawn(move || {
            let unloaded = plugins::unload(name);
            // A send that starts after the unload returned Ok calls none of its receivers.
            (unloaded, LoadRaced.send("x").receivers_called())
        });
        let_it_run(&unloader);
        LOAD_RESUME.open();
        let (unloaded, called_after_unload) = unloader.join().unwrap();
        let loaded = loader.join().unwrap();

        // The unload waited for the load, then undid it: load, then unload.
        assert_eq!(unloaded, Ok(()));
        assert_eq!(
            called_after_unload, 0,
            "a send after the unload returned Ok called the plugin's receiver"
        );
        assert_eq!(loaded, Ok(()));
        assert!(!plugins::is_loaded(name));
        assert_eq!(LoadRaced.send("x").receivers_called(), 0);
        // And it loads again as usual.
        plugins::load(name).unwrap();
        assert_eq!(LoadRaced.send("x").receivers_called(), 1);
        plugins::unload(name).unwrap();
        assert_eq!(LoadRaced.send("x").receivers_called(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// Plugin code that loads or unloads its own plugin while this thread is loading or unloading
// it cannot wait for itself: it gets an error, at once, and the outer call goes on.

#[signal(namespace = "rel_races")]
pub struct Reentered;

static REENTERED_LOAD: Mutex<Option<Result<(), PluginError>>> = Mutex::new(None);

#[plugin(name = "rel_races_reentrant")]
#[derive(Default)]
struct Reentrant;

impl Plugin for Reentrant {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions.connect(Reentered::signal(), |_: &str, _: &Reentered| {});
        // Inside its own load: an unload cannot wait for the load that runs it.
        *REENTERED_LOAD.lock().unwrap() = Some(plugins::unload("rel_races_reentrant"));
    }
}

#[test]
fn plugin_code_that_reenters_its_own_load_or_unload_gets_an_error_not_a_deadlock() {
    with_watchdog(Duration::from_secs(60), || {
        let _serial = serial();
        signals_core::registry();
        let name = "rel_races_reentrant";
        plugins::load(name).unwrap();
        assert_eq!(
            REENTERED_LOAD.lock().unwrap().take(),
            Some(Err(PluginError::Loading {
                name: name.to_owned()
            }))
        );
        assert!(plugins::is_loaded(name));
        assert_eq!(Reentered.send("x").receivers_called(), 1);

        // Inside its own unload (a meta-receiver runs on the unloading thread): a load cannot
        // wait for it, and another unload finds it not loaded.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let watch = {
            let seen = seen.clone();
            ReceiverDisconnected::signal().connect(
                Receiver::new(move |_: &str, _: &ReceiverDisconnected| {
                    let mut seen = seen.lock().unwrap();
                    seen.push(plugins::load(name));
                    seen.push(plugins::unload(name));
                })
                .sender(Reentered::signal().named().qualified_name()),
            )
        };
        plugins::unload(name).unwrap();
        assert!(watch.disconnect());
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(
            seen[0],
            Err(PluginError::Unloading {
                name: name.to_owned()
            })
        );
        assert!(
            matches!(seen[1], Err(PluginError::NotLoaded { .. })),
            "{seen:?}"
        );
        assert_eq!(
            seen[0].as_ref().unwrap_err().to_string(),
            "plugin `rel_races_reentrant` is being unloaded by this thread (code run by its \
             unload tried to load it again); load it once that unload has returned"
        );
        assert!(!plugins::is_loaded(name));
        assert_eq!(Reentered.send("x").receivers_called(), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// `unload_all` during another thread's load waits for it, and unloads what it loaded.

#[signal(namespace = "rel_races")]
pub struct AllRaced;

static ALL_ARMED: AtomicBool = AtomicBool::new(false);
static ALL_PAUSED: Gate = Gate::new();
static ALL_RESUME: Gate = Gate::new();

#[plugin(name = "rel_races_unload_all")]
#[derive(Default)]
struct AllRace;

impl Plugin for AllRace {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions.connect(AllRaced::signal(), |_: &str, _: &AllRaced| {});
        if ALL_ARMED.swap(false, Ordering::SeqCst) {
            ALL_PAUSED.open();
            ALL_RESUME.wait();
        }
    }
}

#[test]
fn unload_all_during_a_load_returns_once_that_load_is_undone() {
    with_watchdog(Duration::from_secs(60), || {
        let _serial = serial();
        signals_core::registry();
        let name = "rel_races_unload_all";
        ALL_ARMED.store(true, Ordering::SeqCst);
        let loader = thread::spawn(move || plugins::load(name));
        ALL_PAUSED.wait();
        let unloader = thread::spawn(|| {
            plugins::unload_all();
            AllRaced.send("x").receivers_called()
        });
        let_it_run(&unloader);
        ALL_RESUME.open();
        assert_eq!(
            unloader.join().unwrap(),
            0,
            "called after unload_all returned"
        );
        assert_eq!(loader.join().unwrap(), Ok(()));
        assert!(!plugins::is_loaded(name));
        assert_eq!(AllRaced.send("x").receivers_called(), 0);
    });
}
