//! A registry build that panics (user code runs in it: here a hand-written `Signal::named`
//! that a link-time subscriber's connect calls) leaves the thread as it was: the changes it
//! makes afterwards are announced. A binary of its own: the registry is built once per process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use signals_core::{
    registry, subscriber, Kwarg, Kwargs, NamedSignal, Receiver, ReceiverConnected, SenderKey,
    Signal, SignalCell,
};

static FAIL_ONCE: AtomicBool = AtomicBool::new(true);

/// A hand-written signal whose first lookup panics.
struct Flaky;

impl Kwargs for Flaky {
    fn kwarg(&self, _: &str) -> Option<Kwarg<'_>> {
        None
    }
    fn kwargs(&self) -> Vec<Kwarg<'_>> {
        Vec::new()
    }
}

impl Signal for Flaky {
    type Sender = str;
    type Output = ();
    const NAMESPACE: &'static str = "build_panic";
    const NAME: &'static str = "flaky";
    fn named() -> NamedSignal {
        if FAIL_ONCE.swap(false, Ordering::SeqCst) {
            panic!("the first lookup of `flaky` fails");
        }
        static CELL: SignalCell = SignalCell::new();
        CELL.resolve::<Self>()
    }
}

#[subscriber]
fn on_flaky(_: &str, _: &Flaky) {}

#[test]
fn a_thread_whose_registry_build_panicked_still_announces_its_changes() {
    let built = std::panic::catch_unwind(registry);
    assert!(built.is_err(), "the first build runs the panicking lookup");
    // Another thread builds the registry.
    std::thread::spawn(|| registry().subscribers().len())
        .join()
        .unwrap();

    let heard = Arc::new(Mutex::new(Vec::new()));
    let log = heard.clone();
    let watcher = ReceiverConnected::signal().connect(
        Receiver::new(move |_: &str, ev: &ReceiverConnected| {
            log.lock().unwrap().push(ev.receiver.name.to_string());
        })
        .sender("build_panic.after"),
    );
    let signal = signals_core::Namespace::get("build_panic")
        .unwrap()
        .signal("after")
        .unwrap();
    let late = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).name("late"));
    assert_eq!(*heard.lock().unwrap(), ["late"]);
    late.disconnect();
    watcher.disconnect();
    assert_eq!(
        Flaky.send("x").receivers_called(),
        1,
        "the subscriber is connected"
    );
}
