//! The edges of the guarantees: what `docs/reliability.md` lists as guaranteed about locks, and
//! what it lists as not guaranteed, pinned here so that the document stays true.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use reliability_tests::with_watchdog;
use signals_core::plugins::{self, Plugin, Subscriptions};
use signals_core::{plugin, signal, Kwargs, SenderKey, Signal};

#[signal(namespace = "rel_limits")]
pub struct Held;

#[plugin(name = "rel_limits_plugin")]
#[derive(Default)]
struct LimitsPlugin;

impl Plugin for LimitsPlugin {
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        subscriptions.connect(Held::signal(), |_: &str, _: &Held| {});
    }
}

/// A receiver waits, while it runs, for another thread to connect, block, mute, disconnect,
/// send the same signal and load and unload a plugin that subscribes to it. Any lock held
/// around receivers would deadlock here (and the watchdog would fail the test).
#[test]
fn no_lock_is_held_while_receivers_run() {
    with_watchdog(Duration::from_secs(60), || {
        static INNER: AtomicUsize = AtomicUsize::new(0);
        let signal = Held::signal();
        let waiter = signal.connect(|sender: &str, _: &Held| {
            if sender != "outer" {
                return;
            }
            let (done, wait) = mpsc::channel();
            let other = thread::spawn(move || {
                let signal = Held::signal();
                let c = signal.connect(|_: &str, _: &Held| {
                    INNER.fetch_add(1, Ordering::SeqCst);
                });
                {
                    let _block = c.block();
                    let _mute = signal.named().mute();
                    let _ = signal.named().receivers_for("x");
                    let _ = signal.named().connections();
                }
                // A send from the other thread, while the outer one waits.
                let report = Held.send("inner");
                plugins::load("rel_limits_plugin").unwrap();
                plugins::unload("rel_limits_plugin").unwrap();
                assert!(c.disconnect());
                done.send(report.receivers_called()).unwrap();
            });
            // Block this receiver until the other thread is done.
            let called = wait.recv_timeout(Duration::from_secs(30));
            other.join().unwrap();
            assert_eq!(
                called,
                Ok(3),
                "the inner send called `waiter`, `guard` and `c`"
            );
        });
        let guard = signal.connect(|sender: &str, _: &Held| assert!(!sender.is_empty()));
        let report = Held.send("outer");
        assert!(report.is_ok(), "{:?}", report.failures());
        assert_eq!(INNER.load(Ordering::SeqCst), 1);
        waiter.disconnect();
        guard.disconnect();
    });
}

#[signal(namespace = "rel_limits")]
pub struct Cached;

/// Not guaranteed: a thread keeps the last snapshot it sent, with the receivers in it, until it
/// sends that signal again or exits; a disconnected closure's captures live that long.
#[test]
fn a_cached_snapshot_keeps_a_disconnected_closure_alive_until_its_thread_sends_again() {
    // Another receiver stays connected throughout (see the next test for why).
    let other = Cached::signal().connect(|_: &str, _: &Cached| {});
    let captured = Arc::new(());
    let held = captured.clone();
    let c = Cached::signal().connect(move |_: &str, _: &Cached| {
        let _ = &held;
    });
    let _ = Cached.send("s");
    assert!(c.disconnect());
    assert_eq!(
        Arc::strong_count(&captured),
        2,
        "this thread's cached snapshot still holds the closure"
    );
    assert_eq!(Cached.send("s").receivers_called(), 1);
    assert_eq!(
        Arc::strong_count(&captured),
        1,
        "freed by this thread's next send"
    );

    // A thread that exits frees its cache.
    let captured = Arc::new(());
    let held = captured.clone();
    let c = Cached::signal().connect(move |_: &str, _: &Cached| {
        let _ = &held;
    });
    let (sent, wait) = mpsc::channel();
    let (go, exit) = mpsc::channel::<()>();
    let sender = thread::spawn(move || {
        let _ = Cached.send("s");
        sent.send(()).unwrap();
        exit.recv().unwrap();
    });
    wait.recv().unwrap();
    let _ = Cached.send("s");
    assert!(c.disconnect());
    let _ = Cached.send("s"); // this thread's cache lets go
    assert_eq!(
        Arc::strong_count(&captured),
        2,
        "the other thread's cache holds it"
    );
    go.send(()).unwrap();
    sender.join().unwrap();
    assert_eq!(
        Arc::strong_count(&captured),
        1,
        "freed when that thread exited"
    );
    other.disconnect();
}

#[signal(namespace = "rel_limits")]
pub struct LastOne;

/// Not guaranteed, and documented: once a typed signal has no receiver left, a send returns
/// before it looks at the thread's cache (so that a send without receivers stays a couple of
/// loads), and the cache keeps the last receivers' closures until the signal has a receiver
/// again and this thread sends it, or until the thread exits.
#[test]
fn the_last_disconnected_closure_lives_until_the_signal_is_used_again() {
    let captured = Arc::new(());
    let held = captured.clone();
    let c = LastOne::signal().connect(move |_: &str, _: &LastOne| {
        let _ = &held;
    });
    let _ = LastOne.send("s");
    assert!(c.disconnect());
    assert_eq!(LastOne.send("s").receivers_called(), 0);
    assert_eq!(
        Arc::strong_count(&captured),
        2,
        "a send without receivers does not look at the cache"
    );
    let again = LastOne::signal().connect(|_: &str, _: &LastOne| {});
    assert_eq!(LastOne.send("s").receivers_called(), 1);
    assert_eq!(
        Arc::strong_count(&captured),
        1,
        "the next send with a receiver replaced the cached snapshot"
    );
    again.disconnect();
}

#[signal(namespace = "rel_limits", output = u64)]
pub struct Valued {
    pub n: u64,
}

/// Not guaranteed: a by-name receiver that returns `()` gives no value, so a collecting send has
/// values from typed receivers only (the report still counts every receiver it called).
#[test]
fn by_name_receivers_give_no_values() {
    let signal = Valued::signal();
    let typed = signal.connect(|_: &str, ev: &Valued| ev.n * 2);
    let by_name = signal
        .named()
        .connect(|_: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            assert_eq!(kwargs.get::<u64>("n"), Some(&21));
        });
    let collected = Valued { n: 21 }.sending("s").collect().run();
    assert_eq!(collected.report.receivers_called(), 2);
    assert_eq!(collected.into_values(), [42]);
    typed.disconnect();
    by_name.disconnect();
}
