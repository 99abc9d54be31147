//! Cancellation: the send's future dropped midway. What ran, what did not, and the signal
//! afterwards: every receiver the test connected still connected, nothing else, nothing
//! blocked or locked, and a new send from another thread runs every receiver.

mod common;

use std::pin::pin;
use std::task::Poll;

use async_tests::{poll_once, Gate, Log, OnDrop};
use signals_core::{signal, Receiver, ScopedConnection, Signal};

on_every_executor! {
    sequential => dropping_a_sequential_send_stops_it_at_the_receiver_in_flight;
    concurrent => dropping_a_concurrent_send_drops_every_receiver_in_flight;
}

/// The sequential case's signal (each case has its own: they run at the same time).
#[signal(namespace = "async_tests")]
#[derive(Default)]
struct CancelledInSequence;

/// The concurrent case's signal.
#[signal(namespace = "async_tests")]
#[derive(Default)]
struct CancelledTogether;

/// What both cases need of their signal.
trait Case: Signal<Sender = str, Output = ()> + Default {}

impl<T: Signal<Sender = str, Output = ()> + Default> Case for T {}

/// Connects, in order: `s1` (sync), `a1` (async, waits for `gate`), `s2` (sync), `a2` (async,
/// waits for `gate`). The async ones log when they start, when they end, and when their
/// future is dropped unfinished.
fn connect_four<T: Case>(log: &Log, gate: &Gate) -> Vec<ScopedConnection> {
    let signal = T::signal();
    let sync = |name: &'static str| {
        let log = log.clone();
        signal
            .connect(Receiver::new(move |_: &str, _: &T| log.push(name)).name(name))
            .scoped()
    };
    let waiting = |name: &'static str| {
        let (log, gate) = (log.clone(), gate.clone());
        signal
            .connect(
                Receiver::new_async(move |_: &str, _: &T| {
                    let (log, gate) = (log.clone(), gate.clone());
                    Box::pin(async move {
                        log.push(format!("{name} start"));
                        let unfinished = OnDrop::new(&log, format!("{name} dropped"));
                        gate.wait().await;
                        std::mem::forget(unfinished);
                        log.push(format!("{name} end"));
                    })
                })
                .name(name),
            )
            .scoped()
    };
    vec![sync("s1"), waiting("a1"), sync("s2"), waiting("a2")]
}

/// The signal after a cancelled send: exactly the four receivers, none blocked; connecting
/// and disconnecting works (no lock is held); a send from another thread runs all four.
fn check_usable_after<T: Case>(log: &Log, gate: &Gate) {
    let signal = T::signal();
    let connections: Vec<(String, bool)> = signal
        .named()
        .connections()
        .into_iter()
        .map(|c| (c.receiver.name.to_string(), c.blocked))
        .collect();
    assert_eq!(
        connections,
        [
            ("s1".to_owned(), false),
            ("a1".to_owned(), false),
            ("s2".to_owned(), false),
            ("a2".to_owned(), false)
        ]
    );
    let extra = signal.connect(|_: &str, _: &T| {});
    assert!(extra.disconnect());

    gate.open();
    let report = std::thread::spawn(|| futures::executor::block_on(T::default().send_async("s")))
        .join()
        .expect("the other thread's send");
    assert!(report.is_ok());
    assert_eq!(report.receivers_called(), 4);
    assert_eq!(
        log.take(),
        ["s1", "a1 start", "a1 end", "s2", "a2 start", "a2 end"]
    );
}

/// Dropped while `a1` waits: `s1` ran, `a1` started and its future was dropped at its await,
/// `s2` and `a2` never ran.
async fn dropping_a_sequential_send_stops_it_at_the_receiver_in_flight() {
    let (log, gate) = (Log::default(), Gate::new());
    let _connections = connect_four::<CancelledInSequence>(&log, &gate);
    {
        let mut send = pin!(CancelledInSequence.send_async("s"));
        assert!(matches!(poll_once(send.as_mut()).await, Poll::Pending));
        assert_eq!(log.entries(), ["s1", "a1 start"]);
        // Polled again while `a1` still waits: nothing more runs.
        assert!(matches!(poll_once(send.as_mut()).await, Poll::Pending));
        assert_eq!(log.entries(), ["s1", "a1 start"]);
    }
    assert_eq!(log.take(), ["s1", "a1 start", "a1 dropped"]);
    check_usable_after::<CancelledInSequence>(&log, &gate);
}

/// Dropped while both async receivers wait: every receiver started at the first poll (in
/// connection order), and both futures were dropped unfinished.
async fn dropping_a_concurrent_send_drops_every_receiver_in_flight() {
    let (log, gate) = (Log::default(), Gate::new());
    let _connections = connect_four::<CancelledTogether>(&log, &gate);
    {
        let mut send = pin!(CancelledTogether.sending("s").run_concurrent());
        assert!(matches!(poll_once(send.as_mut()).await, Poll::Pending));
        assert_eq!(log.entries(), ["s1", "a1 start", "s2", "a2 start"]);
    }
    assert_eq!(
        log.take(),
        [
            "s1",
            "a1 start",
            "s2",
            "a2 start",
            "a1 dropped",
            "a2 dropped"
        ]
    );
    check_usable_after::<CancelledTogether>(&log, &gate);
}
