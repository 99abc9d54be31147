//! Loom models of the send/change protocol: the per-signal mutex and the lock of its current
//! snapshot, the `live` flag, each snapshot's `replaced` flag, each connection's `active`
//! flag, each list entry's state and the per-thread snapshot cache.
//!
//! Built only with `--cfg loom` (see `docs/reliability.md`, "Loom"):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p signals-core --test loom --release
//! ```
//!
//! Loom's atomics and mutexes belong to one model execution, so every execution makes a
//! by-name signal of its own (a fresh name); typed signals keep their core in a process-wide
//! cell and are not used here, and neither are the meta-signals (not sent under loom).

#![cfg(loom)]

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::sync::{Arc, Mutex as StdMutex};

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use signals_core::{Connection, DynKwargs, Kwargs, NamedSignal, Namespace, SenderKey};

/// Builds the link-time registry (which creates the meta-signals' cores) once, in a model
/// execution of its own: building it inside a test's first execution would make that
/// execution differ from the others, which loom rejects as a non-deterministic model.
fn model(body: impl Fn() + Sync + Send + 'static) {
    static REGISTRY: std::sync::Once = std::sync::Once::new();
    REGISTRY.call_once(|| {
        loom::model(|| {
            signals_core::registry::registry();
        })
    });
    loom::model(body);
}

/// A signal no other execution uses.
fn fresh_signal(test: &str) -> NamedSignal {
    static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
    let n = NEXT.fetch_add(1, StdOrdering::Relaxed);
    Namespace::get("loom")
        .and_then(|ns| ns.signal(&format!("{test}_{n}")))
        .expect("valid names")
}

/// Connects a receiver that counts its calls.
fn counting(signal: &NamedSignal) -> (Connection, Arc<StdAtomicUsize>) {
    let calls = Arc::new(StdAtomicUsize::new(0));
    let count = calls.clone();
    let connection = signal.connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
        count.fetch_add(1, StdOrdering::SeqCst);
    });
    (connection, calls)
}

fn send(signal: &NamedSignal) -> usize {
    signal
        .send(&"loom", &DynKwargs::new())
        .expect("a by-name signal accepts any arguments")
        .receivers_called()
}

/// A connect that happens before a send (through another thread's release/acquire) is seen by
/// it, whether the sending thread's cache is cold or holds an older snapshot.
#[test]
fn a_send_after_a_connect_calls_the_receiver() {
    model(|| {
        let signal = fresh_signal("connect");
        let published = Arc::new(AtomicBool::new(false));

        let connector = {
            let published = published.clone();
            thread::spawn(move || {
                let connection = counting(&signal);
                published.store(true, Ordering::Release);
                connection
            })
        };

        // Warms this thread's cache (with no receiver, or with the new one).
        let early = send(&signal);
        assert!(early <= 1);
        let saw = published.load(Ordering::Acquire);
        let late = send(&signal);
        if saw {
            assert_eq!(late, 1, "a send after the connect must call the receiver");
        }
        assert!(late >= early, "a receiver seen once stays connected");

        let (_connection, calls) = connector.join().unwrap();
        assert_eq!(calls.load(StdOrdering::SeqCst), early + late);
    });
}

/// A disconnect that happens before a send is seen by it, even when the sending thread cached
/// a snapshot that still lists the receiver.
#[test]
fn a_send_after_a_disconnect_does_not_call_the_receiver() {
    model(|| {
        let signal = fresh_signal("disconnect");
        let (connection, calls) = counting(&signal);
        let published = Arc::new(AtomicBool::new(false));

        let sender = {
            let published = published.clone();
            let signal = signal;
            thread::spawn(move || {
                let early = send(&signal);
                assert!(early <= 1);
                let saw = published.load(Ordering::Acquire);
                let late = send(&signal);
                if saw {
                    assert_eq!(late, 0, "a send after the disconnect must not call it");
                }
                assert!(late <= early, "a receiver gone once stays gone");
                early + late
            })
        };

        assert!(connection.disconnect());
        published.store(true, Ordering::Release);

        let called = sender.join().unwrap();
        assert_eq!(calls.load(StdOrdering::SeqCst), called);
    });
}

/// A block that happens before a send is seen by it, even when the sending thread cached the
/// snapshot (a block switches the receiver's entry off in place, publishing no snapshot); and
/// once the block is dropped, the receiver is called again.
#[test]
fn a_send_after_a_block_does_not_call_the_receiver() {
    model(|| {
        let signal = fresh_signal("block");
        // Another receiver keeps the signal live: the block must be seen in the list itself.
        let (_other, other_calls) = counting(&signal);
        let (connection, calls) = counting(&signal);
        let published = Arc::new(AtomicBool::new(false));

        let sender = {
            let published = published.clone();
            let calls = calls.clone();
            let signal = signal;
            thread::spawn(move || {
                let early = send(&signal);
                assert!((1..=2).contains(&early));
                let before = calls.load(StdOrdering::SeqCst);
                let saw = published.load(Ordering::Acquire);
                let late = send(&signal);
                if saw {
                    assert_eq!(
                        late, 1,
                        "a send after the block calls the other receiver only"
                    );
                    assert_eq!(
                        calls.load(StdOrdering::SeqCst),
                        before,
                        "a send after the block must not call it"
                    );
                }
                early + late
            })
        };

        let guard = connection.block();
        published.store(true, Ordering::Release);
        let called = sender.join().unwrap();
        assert_eq!(
            calls.load(StdOrdering::SeqCst) + other_calls.load(StdOrdering::SeqCst),
            called
        );
        drop(guard);
        let before = calls.load(StdOrdering::SeqCst);
        assert_eq!(send(&signal), 2, "unblocked, it is called again");
        assert_eq!(calls.load(StdOrdering::SeqCst), before + 1);
    });
}

/// Within one send, a receiver that disconnects a later receiver stops it from being called,
/// while another thread connects a third receiver (which that send may or may not call).
#[test]
fn a_receiver_disconnecting_a_later_one_wins_over_a_concurrent_connect() {
    model(|| {
        let signal = fresh_signal("nested");
        let victim: Arc<StdMutex<Option<Connection>>> = Arc::new(StdMutex::new(None));
        let first_calls = Arc::new(StdAtomicUsize::new(0));
        let _first = {
            let victim = victim.clone();
            let calls = first_calls.clone();
            signal.connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
                calls.fetch_add(1, StdOrdering::SeqCst);
                let taken = victim.lock().unwrap().take();
                if let Some(connection) = taken {
                    assert!(connection.disconnect());
                }
            })
        };
        let (second, second_calls) = counting(&signal);
        *victim.lock().unwrap() = Some(second);

        let connector = thread::spawn(move || counting(&signal));

        let called = send(&signal);
        assert_eq!(first_calls.load(StdOrdering::SeqCst), 1);
        assert_eq!(
            second_calls.load(StdOrdering::SeqCst),
            0,
            "disconnected by an earlier receiver of the same send"
        );
        let (_third, third_calls) = connector.join().unwrap();
        let third = third_calls.load(StdOrdering::SeqCst);
        assert!(third <= 1);
        assert_eq!(called, 1 + third);
    });
}

/// Every connect and disconnect is announced to the layers above exactly once, whichever
/// thread makes it and however the changes interleave; each announcement comes after the
/// change it reports.
#[test]
fn every_change_is_announced_once_through_the_hook() {
    use std::collections::HashMap;
    static SEEN: StdMutex<Option<HashMap<&'static str, (usize, usize)>>> = StdMutex::new(None);
    fn record(signal: &'static str, connected: usize, disconnected: usize) {
        let mut seen = SEEN.lock().unwrap();
        let entry = seen
            .get_or_insert_with(HashMap::new)
            .entry(signal)
            .or_default();
        entry.0 += connected;
        entry.1 += disconnected;
    }
    model(|| {
        signals_core::loom_hook::on_change(record);
        let signal = fresh_signal("announced");
        let other = {
            let signal = signal.clone();
            thread::spawn(move || {
                let (connection, _) = counting(&signal);
                assert!(connection.disconnect());
            })
        };
        let (_kept, _) = counting(&signal);
        other.join().unwrap();
        let seen = SEEN.lock().unwrap();
        let counts = seen
            .as_ref()
            .and_then(|seen| seen.get(signal.qualified_name()))
            .copied();
        assert_eq!(
            counts,
            Some((2, 1)),
            "two connects and one disconnect, each told once"
        );
    });
}
