//! A link-time watcher of `receiver_connected` hears of the link-time subscribers connected
//! while the registry is built, and may use the registry while it does (it once waited for
//! the build it was part of, and the process hung). A binary of its own: the registry is built
//! once per process.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use signals_core::{registry, signal, subscriber, ReceiverConnected, Signal};

#[signal(namespace = "meta_at_start_up")]
struct Saved {
    id: u32,
}

static HEARD: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Uses the registry from inside the announcement of a link-time connection. Named to sort
/// first: link-time subscribers connect in path order, so it is connected before `b_audit`.
#[subscriber(sender = "meta_at_start_up.saved")]
fn a_watcher(_: &str, ev: &ReceiverConnected) {
    let subscribers = registry().subscribers().len();
    HEARD
        .lock()
        .unwrap()
        .push(format!("{} ({subscribers} subscribers)", ev.receiver.name));
}

#[subscriber]
fn b_audit(_: &str, ev: &Saved) {
    assert_eq!(ev.id, 1);
}

#[test]
fn a_link_time_watcher_may_use_the_registry_and_hears_every_link_time_connection() {
    // On another thread, so that a hang fails the test instead of stalling the run.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let called = Saved { id: 1 }.send("web").receivers_called();
        let _ = done.send(called);
    });
    let called = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the first send did not finish: building the registry waited for itself");
    assert_eq!(called, 1);
    let heard = HEARD.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert!(heard[0].ends_with("b_audit (2 subscribers)"), "{heard:?}");
}
