//! Faults in receivers: a receiver that panics, one that returns an error, one that sends the
//! same signal re-entrantly (bounded depth), one that disconnects itself, one that connects
//! another. A robust send reports each failure with the receiver's name and source location
//! and calls the rest; a fail-fast send stops at the first; and the signal stays fully usable
//! afterwards, on this thread and on others.
//!
//! The panics are provoked on purpose and carry `EXPECTED_PANIC`; the panic hook hides those
//! while the tests run (other panics are still printed).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use reliability_tests::{quiet_expected_panics, with_watchdog, ExpectedPanic, EXPECTED_PANIC};
use signals_core::{
    signal, subscriber, Connection, DynKwargs, FailureKind, Kwargs, Namespace, Receiver, SenderKey,
    Signal,
};

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Debug)]
struct Refused(u32);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused at depth {}", self.0)
    }
}

impl std::error::Error for Refused {}

/// The signal of the combined test; `depth` bounds the re-entrant sends.
#[signal(namespace = "rel_faults")]
pub struct Faulty {
    pub depth: u32,
}

#[test]
fn every_fault_is_reported_the_rest_are_called_and_the_signal_stays_usable() {
    let _quiet = quiet_expected_panics();
    let log = Log::default();
    let signal = Faulty::signal();
    let recurse = Arc::new(AtomicBool::new(true));
    let nested_reports = Log::default();

    let l = log.clone();
    let panicker_line = line!() + 1;
    let panicker = signal.connect(
        Receiver::new(move |_: &str, ev: &Faulty| -> () {
            l.push(format!("d{}:panicker", ev.depth));
            panic!("{EXPECTED_PANIC} at depth {}", ev.depth);
        })
        .name("panicker"),
    );
    let l = log.clone();
    let failing_line = line!() + 1;
    let failing = signal.connect(
        Receiver::new(move |_: &str, ev: &Faulty| -> Result<(), Refused> {
            l.push(format!("d{}:failing", ev.depth));
            Err(Refused(ev.depth))
        })
        .name("failing"),
    );
    let l = log.clone();
    let (again, nested) = (recurse.clone(), nested_reports.clone());
    let reentrant = signal.connect(
        Receiver::new(move |_: &str, ev: &Faulty| {
            l.push(format!("d{}:reentrant", ev.depth));
            if again.load(Ordering::SeqCst) && ev.depth < 3 {
                let inner = Faulty {
                    depth: ev.depth + 1,
                }
                .send("s");
                nested.push(format!(
                    "d{}: {} called, {} failed",
                    ev.depth + 1,
                    inner.receivers_called(),
                    inner.failures().len()
                ));
            }
        })
        .name("reentrant"),
    );
    let own: Arc<Mutex<Option<Connection>>> = Arc::default();
    let (l, me) = (log.clone(), own.clone());
    let disconnects_itself = signal.connect(
        Receiver::new(move |_: &str, ev: &Faulty| {
            l.push(format!("d{}:disconnects_itself", ev.depth));
            if let Some(me) = me.lock().unwrap().take() {
                assert!(me.disconnect());
            }
        })
        .name("disconnects_itself"),
    );
    *own.lock().unwrap() = Some(disconnects_itself);
    let late: Arc<Mutex<Option<Connection>>> = Arc::default();
    let (l, slot) = (log.clone(), late.clone());
    let connector = signal.connect(
        Receiver::new(move |_: &str, ev: &Faulty| {
            l.push(format!("d{}:connector", ev.depth));
            let mut slot = slot.lock().unwrap();
            if slot.is_none() {
                let l = l.clone();
                *slot = Some(
                    Faulty::signal().connect(
                        Receiver::new(move |_: &str, ev: &Faulty| {
                            l.push(format!("d{}:late", ev.depth))
                        })
                        .name("late"),
                    ),
                );
            }
        })
        .name("connector"),
    );
    let l = log.clone();
    let plain = signal.connect(
        Receiver::new(move |_: &str, ev: &Faulty| l.push(format!("d{}:plain", ev.depth)))
            .name("plain"),
    );

    // 1. A robust send, re-entrant three levels deep.
    let report = Faulty { depth: 0 }.send("s");
    assert_eq!(
        log.take(),
        [
            "d0:panicker",
            "d0:failing",
            "d0:reentrant",
            "d1:panicker",
            "d1:failing",
            "d1:reentrant",
            "d2:panicker",
            "d2:failing",
            "d2:reentrant",
            "d3:panicker",
            "d3:failing",
            "d3:reentrant",
            // Called once, by the innermost send, where it disconnects itself: the outer
            // sends, which started before, do not call it after that.
            "d3:disconnects_itself",
            // Connects `late`, which no send running now calls.
            "d3:connector",
            "d3:plain",
            "d2:connector",
            "d2:plain",
            "d1:connector",
            "d1:plain",
            "d0:connector",
            "d0:plain",
        ]
    );
    assert_eq!(
        nested_reports.take(),
        [
            "d3: 6 called, 2 failed",
            "d2: 5 called, 2 failed",
            "d1: 5 called, 2 failed"
        ]
    );
    assert_eq!(report.receivers_called(), 5);
    assert!(!report.stopped_early());
    let failures = report.failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    let file = file!();
    assert_eq!(failures[0].receiver.name, "panicker");
    assert_eq!(
        (
            failures[0].receiver.location.file,
            failures[0].receiver.location.line
        ),
        (file, panicker_line)
    );
    assert!(
        matches!(&failures[0].kind, FailureKind::Panic(m) if m == &format!("{EXPECTED_PANIC} at depth 0")),
        "{:?}",
        failures[0].kind
    );
    assert_eq!(failures[1].receiver.name, "failing");
    assert_eq!(failures[1].receiver.location.line, failing_line);
    assert!(
        matches!(&failures[1].kind, FailureKind::Error(e) if e.to_string() == "refused at depth 0")
    );
    let location = failures[1].receiver.location;
    assert_eq!(
        failures[1].to_string(),
        format!(
            "receiver `failing` at {}:{}:{} returned an error: refused at depth 0",
            location.file, location.line, location.column
        )
    );
    assert_eq!(
        failures[0].to_string(),
        format!(
            "receiver `panicker` at {} panicked: {EXPECTED_PANIC} at depth 0",
            failures[0].receiver.location
        )
    );
    assert!(!disconnects_itself.is_connected());

    // 2. The next send: `late` now runs, last; `disconnects_itself` is gone.
    recurse.store(false, Ordering::SeqCst);
    let report = Faulty { depth: 0 }.send("s");
    assert_eq!(
        log.take(),
        [
            "d0:panicker",
            "d0:failing",
            "d0:reentrant",
            "d0:connector",
            "d0:plain",
            "d0:late"
        ]
    );
    assert_eq!(report.receivers_called(), 6);
    assert_eq!(report.failures().len(), 2);

    // 3. Fail-fast: stops at the first failure, typed and by name.
    let failure = Faulty { depth: 0 }
        .sending("s")
        .fail_fast()
        .run()
        .into_result()
        .unwrap_err();
    assert_eq!(failure.receiver.name, "panicker");
    assert_eq!(log.take(), ["d0:panicker"]);
    let report = Faulty::named()
        .sending(&"s", &Faulty { depth: 0 })
        .fail_fast()
        .run()
        .unwrap();
    assert!(report.stopped_early());
    assert_eq!((report.receivers_called(), report.failures().len()), (1, 1));
    assert_eq!(log.take(), ["d0:panicker"]);
    {
        // With the panicker blocked, the error is the first failure.
        let _blocked = panicker.block();
        let failure = Faulty { depth: 0 }
            .sending("s")
            .fail_fast()
            .run()
            .into_result()
            .unwrap_err();
        assert_eq!(failure.receiver.name, "failing");
        assert!(matches!(failure.kind, FailureKind::Error(_)));
        assert_eq!(log.take(), ["d0:failing"]);
    }

    // 4. Fully usable afterwards, on every thread: remove the faulty receivers, then send from
    // threads that never sent before, while this one keeps sending too.
    assert!(panicker.disconnect() && failing.disconnect());
    assert_eq!(
        signal.named().receivers_for("s").len(),
        4,
        "reentrant, connector, plain, late"
    );
    with_watchdog(Duration::from_secs(60), move || {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                thread::spawn(|| {
                    for _ in 0..200 {
                        let report = Faulty { depth: 0 }.send("s");
                        assert!(report.is_ok(), "{:?}", report.failures());
                        assert_eq!(report.receivers_called(), 4);
                        let sent = Faulty { depth: 0 }.sending("s").fail_fast().run();
                        assert_eq!(sent.into_result().unwrap(), 4);
                    }
                })
            })
            .collect();
        for _ in 0..200 {
            let sent = Faulty { depth: 0 }.sending("s").fail_fast().run();
            assert_eq!(sent.into_result().unwrap(), 4);
        }
        for t in threads {
            t.join().unwrap();
        }
    });
    // Four receivers log once per send: 4 threads x 200 x 2 sends, and 200 sends here.
    assert_eq!(log.take().len(), (4 * 200 * 2 + 200) * 4);
    // Connect, mute and disconnect still work.
    {
        let _mute = signal.named().mute();
        assert_eq!(Faulty { depth: 0 }.send("s").receivers_called(), 0);
    }
    for c in [
        reentrant,
        connector,
        plain,
        late.lock().unwrap().take().unwrap(),
    ] {
        assert!(c.disconnect());
    }
    assert!(signal.named().connections().is_empty());
    assert_eq!(Faulty { depth: 0 }.send("s").receivers_called(), 0);
}

// ---------------------------------------------------------------------------------------------

#[test]
fn panics_of_every_payload_are_reported_by_typed_and_by_name_sends() {
    let _quiet = quiet_expected_panics();
    let signal = Namespace::get("rel_faults")
        .unwrap()
        .signal("payloads")
        .unwrap();
    let connections = [
        signal.connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| -> () {
                panic!("EXPECTED PANIC: a &str")
            })
            .name("str"),
        ),
        signal.connect(
            Receiver::new(|_: &SenderKey<'_>, kw: &dyn Kwargs| -> () {
                panic!("{EXPECTED_PANIC}: n = {}", kw.get::<u32>("n").unwrap())
            })
            .name("string"),
        ),
        signal.connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| -> () {
                std::panic::panic_any(ExpectedPanic)
            })
            .name("other"),
        ),
        signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).name("fine")),
    ];
    let kinds = |report: &signals_core::SendReport| -> Vec<(String, String)> {
        report
            .failures()
            .iter()
            .map(|f| {
                let FailureKind::Panic(message) = &f.kind else {
                    panic!("not a panic: {f}")
                };
                (f.receiver.name.to_string(), message.clone())
            })
            .collect()
    };
    let report = signal
        .send(&"s", &DynKwargs::new().with("n", 7u32))
        .unwrap();
    assert_eq!(report.receivers_called(), 4);
    assert_eq!(
        kinds(&report),
        [
            ("str".to_owned(), "EXPECTED PANIC: a &str".to_owned()),
            ("string".to_owned(), format!("{EXPECTED_PANIC}: n = 7")),
            (
                "other".to_owned(),
                "(a panic payload that is not a string)".to_owned()
            ),
        ]
    );
    for c in connections {
        c.disconnect();
    }
}

// ---------------------------------------------------------------------------------------------

#[signal(namespace = "rel_faults")]
pub struct Declared;

#[subscriber]
fn failing_subscriber(_sender: &str, _ev: &Declared) -> Result<(), Refused> {
    Err(Refused(9))
}

#[subscriber]
fn panicking_subscriber(_sender: &str, _ev: &Declared) {
    std::panic::panic_any(format!("{EXPECTED_PANIC} in a link-time subscriber"));
}

#[test]
fn a_link_time_subscriber_failure_names_its_function_and_its_declaration() {
    let _quiet = quiet_expected_panics();
    signals_core::registry();
    let source = include_str!("faults.rs");
    let line_of = |needle: &str| {
        source
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
            .unwrap()
    };
    let report = Declared.send("s");
    assert_eq!(report.receivers_called(), 2);
    let failures: Vec<_> = report
        .failures()
        .iter()
        .map(|f| {
            (
                f.receiver.name.to_string(),
                f.receiver.location.file,
                f.receiver.location.line,
                f.to_string(),
            )
        })
        .collect();
    // Link-time subscribers run in a stable order by path.
    let (failing, panicking) = (
        line_of("fn failing_subscriber("),
        line_of("fn panicking_subscriber("),
    );
    assert_eq!(
        failures,
        [
            (
                "faults::failing_subscriber".to_owned(),
                file!(),
                failing,
                format!(
                    "receiver `faults::failing_subscriber` at {}:{failing}:4 returned an error: \
                     refused at depth 9",
                    file!()
                )
            ),
            (
                "faults::panicking_subscriber".to_owned(),
                file!(),
                panicking,
                format!(
                    "receiver `faults::panicking_subscriber` at {}:{panicking}:4 panicked: \
                     {EXPECTED_PANIC} in a link-time subscriber",
                    file!()
                )
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------

#[signal(namespace = "rel_faults")]
pub struct Contended {
    pub bad: bool,
}

/// Panics on one thread while other threads send the same signal: each send's report is its
/// own, and no send sees another's failure.
#[test]
fn panics_on_one_thread_do_not_disturb_sends_on_others() {
    let _quiet = quiet_expected_panics();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let signal = Contended::signal();
    let connections = [
        signal.connect(|_: &str, ev: &Contended| {
            if ev.bad {
                panic!("{EXPECTED_PANIC}: bad");
            }
        }),
        signal.connect(|_: &str, _: &Contended| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
    ];
    with_watchdog(Duration::from_secs(60), || {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                thread::spawn(move || {
                    for i in 0..500 {
                        let bad = (t + i) % 2 == 0;
                        let report = Contended { bad }.send("s");
                        assert_eq!(report.receivers_called(), 2);
                        assert_eq!(report.failures().len(), usize::from(bad), "bad = {bad}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });
    assert_eq!(CALLS.load(Ordering::SeqCst), 4 * 500);
    for c in connections {
        c.disconnect();
    }
}

// ---------------------------------------------------------------------------------------------

/// A panic payload whose own `Drop` panics (`panic_any(PanickyPayload)`).
struct PanickyPayload;

impl Drop for PanickyPayload {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC}: a panic payload's drop");
    }
}

#[signal(namespace = "rel_faults")]
pub struct PayloadDrop;

/// Polls a future whose receivers never wait to completion.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// A receiver panics with a payload whose `Drop` panics: the send reports the panic, calls
/// the receivers after it, and nothing escapes it (typed, by name, sync and async).
#[test]
fn a_panic_payload_whose_drop_panics_is_reported_and_does_not_escape_the_send() {
    let _quiet = quiet_expected_panics();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let signal = PayloadDrop::signal();
    let connections = [
        signal.connect(
            Receiver::new(|_: &str, _: &PayloadDrop| -> () {
                std::panic::panic_any(PanickyPayload)
            })
            .name("typed_payload"),
        ),
        signal.connect(|_: &str, _: &PayloadDrop| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
        signal.named().connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| -> () {
                std::panic::panic_any(PanickyPayload)
            })
            .name("by_name_payload"),
        ),
        signal.named().connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
    ];
    let check = |how: &str, report: signals_core::SendReport| {
        assert_eq!(report.receivers_called(), 4, "{how}");
        let failures: Vec<(String, String)> = report
            .failures()
            .iter()
            .map(|f| (f.receiver.name.to_string(), f.to_string()))
            .collect();
        assert_eq!(failures.len(), 2, "{how}: {failures:?}");
        for ((name, text), expected) in failures.iter().zip(["typed_payload", "by_name_payload"]) {
            assert_eq!(name, expected, "{how}");
            assert!(
                text.ends_with("panicked: (a panic payload that is not a string)"),
                "{how}: {text}"
            );
        }
    };
    type Send = Box<dyn Fn() -> signals_core::SendReport>;
    let sends: [(&str, Send); 5] = [
        ("typed", Box::new(|| PayloadDrop.send("s"))),
        (
            "by name",
            Box::new(|| PayloadDrop::named().send(&"s", &PayloadDrop).unwrap()),
        ),
        (
            "typed async",
            Box::new(|| block_on(PayloadDrop.send_async("s"))),
        ),
        (
            "typed concurrent",
            Box::new(|| block_on(PayloadDrop.sending("s").run_concurrent())),
        ),
        (
            "by name async",
            Box::new(|| block_on(PayloadDrop::named().send_async(&"s", &PayloadDrop)).unwrap()),
        ),
    ];
    for (how, send) in sends {
        CALLS.store(0, Ordering::SeqCst);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(&send)) {
            Ok(report) => check(how, report),
            Err(payload) => {
                std::mem::forget(payload);
                panic!("{how}: a panic escaped the send");
            }
        }
        assert_eq!(CALLS.load(Ordering::SeqCst), 2, "{how}");
    }
    for c in connections {
        assert!(c.disconnect());
    }
}

// ---------------------------------------------------------------------------------------------

/// A value whose `Drop` panics, captured by a receiver's closure.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC}: a captured value's drop");
    }
}

#[signal(namespace = "rel_faults")]
pub struct CapturedDrop;

#[signal(namespace = "rel_faults")]
pub struct CapturedDropOnDisconnect;

/// A receiver capturing a value whose `Drop` panics is disconnected on one thread while
/// another thread's cache still holds it; that thread's next send (its cache drops the old
/// snapshot, and the closure with it) calls every healthy receiver, and nothing escapes it.
/// Typed (the signal's own slot) and by name (the thread's shared cache).
#[test]
fn a_captured_value_whose_drop_panics_does_not_escape_a_later_send_on_another_thread() {
    let _quiet = quiet_expected_panics();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let by_name = Namespace::get("rel_faults")
        .unwrap()
        .signal("by_name_captured_drop")
        .unwrap();
    let healthy = [
        CapturedDrop::signal().connect(|_: &str, _: &CapturedDrop| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
        by_name.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
        CapturedDrop::signal().connect(|_: &str, _: &CapturedDrop| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
        by_name.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {
            CALLS.fetch_add(1, Ordering::SeqCst);
        }),
    ];
    let send_both = move || {
        let typed = CapturedDrop.send("s");
        let named = by_name.send(&"s", &DynKwargs::new()).unwrap();
        (
            typed.receivers_called(),
            named.receivers_called(),
            typed.is_ok() && named.is_ok(),
        )
    };
    for round in 0..3 {
        let held = PanicsOnDrop;
        let typed_bad = CapturedDrop::signal().connect(move |_: &str, _: &CapturedDrop| {
            let _ = &held;
        });
        let held = PanicsOnDrop;
        let named_bad = by_name.connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
            let _ = &held;
        });
        let (cached, go_on) = (std::sync::mpsc::channel(), std::sync::mpsc::channel());
        let (cached_tx, cached_rx) = cached;
        let (go_on_tx, go_on_rx) = go_on;
        let b = thread::spawn(move || {
            // Caches the snapshots that list the bad receivers.
            assert_eq!(send_both(), (3, 3, true));
            cached_tx.send(()).unwrap();
            go_on_rx.recv().unwrap();
            CALLS.store(0, Ordering::SeqCst);
            let after = std::panic::catch_unwind(send_both);
            let after = after
                .map_err(std::mem::forget)
                .expect("a panic escaped the send");
            assert_eq!(after, (2, 2, true), "round {round}");
            assert_eq!(CALLS.load(Ordering::SeqCst), 4, "round {round}");
        });
        cached_rx.recv().unwrap();
        // Thread A (this one) disconnects; B's cache holds the last reference.
        assert!(typed_bad.disconnect());
        assert!(named_bad.disconnect());
        go_on_tx.send(()).unwrap();
        b.join().expect("thread B");
    }
    for c in healthy {
        assert!(c.disconnect());
    }
}

/// A disconnect that drops the last reference to a closure whose captured value panics on
/// drop: the disconnect returns normally.
#[test]
fn a_disconnect_that_drops_a_closure_whose_capture_panics_returns_normally() {
    let _quiet = quiet_expected_panics();
    let by_name = Namespace::get("rel_faults")
        .unwrap()
        .signal("by_name_captured_drop_disconnect")
        .unwrap();
    let held = PanicsOnDrop;
    let bad = by_name.connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
        let _ = &held;
    });
    let held = PanicsOnDrop;
    // A signal of its own: tests run in parallel, and another one counts `CapturedDrop`'s
    // receivers.
    let typed_bad =
        CapturedDropOnDisconnect::signal().connect(move |_: &str, _: &CapturedDropOnDisconnect| {
            let _ = &held;
        });
    let disconnected = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (bad.disconnect(), typed_bad.disconnect())
    }));
    let disconnected = disconnected.map_err(std::mem::forget);
    assert_eq!(
        disconnected.ok(),
        Some((true, true)),
        "a panic escaped the disconnect"
    );
}

/// Set in the child process that [`a_thread_exiting_with_a_closure_whose_capture_panics_does_not_abort`] runs.
const EXIT_CHILD: &str = "RELIABILITY_FAULTS_EXIT_CHILD";

/// A thread exits while its caches hold the last reference to a closure whose captured value
/// panics on drop: its thread-locals' destructors must not abort the process. Run in a child
/// process (this test binary again), since an abort would end the test run.
#[test]
fn a_thread_exiting_with_a_closure_whose_capture_panics_does_not_abort() {
    if std::env::var_os(EXIT_CHILD).is_some() {
        let _quiet = quiet_expected_panics();
        let by_name = Namespace::get("rel_faults")
            .unwrap()
            .signal("by_name_captured_drop_exit")
            .unwrap();
        let held = PanicsOnDrop;
        let named_bad = by_name.connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
            let _ = &held;
        });
        let held = PanicsOnDrop;
        let typed_bad = CapturedDrop::signal().connect(move |_: &str, _: &CapturedDrop| {
            let _ = &held;
        });
        let (cached_tx, cached_rx) = std::sync::mpsc::channel();
        let (go_on_tx, go_on_rx) = std::sync::mpsc::channel::<()>();
        let b = thread::spawn(move || {
            assert!(CapturedDrop.send("s").receivers_called() >= 1);
            assert_eq!(
                by_name
                    .send(&"s", &DynKwargs::new())
                    .unwrap()
                    .receivers_called(),
                1
            );
            cached_tx.send(()).unwrap();
            go_on_rx.recv().unwrap();
            // Exits holding the only references to both closures.
        });
        cached_rx.recv().unwrap();
        assert!(named_bad.disconnect());
        assert!(typed_bad.disconnect());
        go_on_tx.send(()).unwrap();
        b.join().expect("thread B returned normally");
        println!("the child ran to its end");
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_thread_exiting_with_a_closure_whose_capture_panics_does_not_abort",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(EXIT_CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("the child ran to its end"),
        "the child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
