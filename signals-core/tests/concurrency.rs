//! Threads sending while others connect and disconnect. Bounded: fixed iteration counts, and a
//! watchdog that fails the test instead of letting a deadlock hang CI.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use signals_core::Signal;

hand_signal!(Stamped, "t_conc", "stamped", str, () { started_at: u64 });

/// A logical clock: sends take a stamp before they start, disconnects after they return.
static CLOCK: AtomicU64 = AtomicU64::new(1);

fn tick() -> u64 {
    CLOCK.fetch_add(1, Ordering::SeqCst)
}

/// Runs `body` on a thread and fails if it does not finish within `limit`.
fn with_watchdog(limit: Duration, body: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel();
    let worker = thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match wait.recv_timeout(limit) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => worker.join().expect("the test body panicked"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: no progress within {limit:?}"),
    }
}

#[test]
fn sends_race_connects_and_disconnects_without_breaking_promises() {
    with_watchdog(Duration::from_secs(60), || {
        const SENDERS: usize = 2;
        const SENDS: usize = 20_000;
        const CHURN: usize = 2_000;

        static PERMANENT_CALLS: AtomicUsize = AtomicUsize::new(0);
        let permanent = Stamped::signal().connect(|_: &str, _: &Stamped| {
            PERMANENT_CALLS.fetch_add(1, Ordering::SeqCst);
        });

        let violations = Arc::new(AtomicUsize::new(0));
        let churn_calls = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));

        let churners: Vec<_> = (0..2)
            .map(|_| {
                let violations = violations.clone();
                let churn_calls = churn_calls.clone();
                thread::spawn(move || {
                    for _ in 0..CHURN {
                        // 0 = still connected; else the tick taken after disconnect returned.
                        let gone_at = Arc::new(AtomicU64::new(0));
                        let seen = gone_at.clone();
                        let v = violations.clone();
                        let calls = churn_calls.clone();
                        let c = Stamped::signal().connect(move |_: &str, ev: &Stamped| {
                            calls.fetch_add(1, Ordering::Relaxed);
                            let gone = seen.load(Ordering::SeqCst);
                            if gone != 0 && ev.started_at > gone {
                                v.fetch_add(1, Ordering::SeqCst);
                            }
                        });
                        thread::yield_now();
                        assert!(c.disconnect());
                        gone_at.store(tick(), Ordering::SeqCst);
                    }
                })
            })
            .collect();

        let senders: Vec<_> = (0..SENDERS)
            .map(|_| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut sent = 0;
                    while sent < SENDS && !stop.load(Ordering::Relaxed) {
                        let report = Stamped { started_at: tick() }.send("s");
                        assert!(report.is_ok());
                        sent += 1;
                    }
                    sent
                })
            })
            .collect();

        for c in churners {
            c.join().unwrap();
        }
        let total: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
        stop.store(true, Ordering::Relaxed);

        assert_eq!(
            violations.load(Ordering::SeqCst),
            0,
            "a receiver ran in a send that started after its disconnect returned"
        );
        assert_eq!(
            PERMANENT_CALLS.load(Ordering::SeqCst),
            total,
            "a receiver connected throughout is called exactly once per send"
        );
        assert!(permanent.disconnect());
        assert!(!Stamped::signal().named().has_receivers());
        // Nothing leaked into the signal: every churned connection is gone.
        assert!(Stamped::signal().named().connections().is_empty());
        eprintln!(
            "sends: {total}, calls of churned receivers: {}",
            churn_calls.load(Ordering::Relaxed)
        );
    });
}

hand_signal!(Racy, "t_conc", "racy", str, () {});

#[test]
fn a_receiver_connected_before_a_send_is_called_by_it() {
    // Connect on one thread, hand over, send on another: the send must see it.
    with_watchdog(Duration::from_secs(30), || {
        for round in 0..500 {
            static CALLS: AtomicUsize = AtomicUsize::new(0);
            CALLS.store(0, Ordering::SeqCst);
            let (tx, rx) = mpsc::channel();
            let connector = thread::spawn(move || {
                let c = Racy::signal().connect(move |_: &str, _: &Racy| {
                    CALLS.fetch_add(1, Ordering::SeqCst);
                });
                tx.send(c).unwrap();
            });
            let c = rx.recv().unwrap();
            let report = Racy {}.send("s");
            assert_eq!(report.receivers_called(), 1, "round {round}");
            assert_eq!(CALLS.load(Ordering::SeqCst), 1);
            connector.join().unwrap();
            c.disconnect();
            assert_eq!(Racy {}.send("s").receivers_called(), 0, "round {round}");
        }
    });
}
