//! Async sends: ordering, collected values, failures and panics, the concurrent mode, and
//! what a sync send does with async receivers. Every case runs on tokio (multi-thread, inside
//! `tokio::spawn`, and current-thread) and on `futures::executor::block_on`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_tests::{assert_send, timeout, yield_times, Log, Rendezvous};
use signals_core::{
    signal, DynKwargs, Error, FailureKind, Kwargs, Namespace, Receiver, SenderKey, Signal,
};

on_every_executor! {
    ordering => sync_and_async_receivers_run_in_connection_order;
    values => values_are_collected_in_connection_order_in_both_modes;
    failures => errors_and_panics_of_async_receivers_are_reported_in_order;
    fail_fast => a_fail_fast_async_send_stops_at_the_first_failure;
    weak => weakly_bound_async_receivers_go_with_their_target;
    sync_send => a_sync_send_runs_sync_receivers_and_reports_each_async_one;
    concurrent => the_concurrent_mode_runs_async_receivers_together;
    changes => a_receiver_disconnected_during_an_async_send_is_not_called;
    blocked_and_muted => blocked_receivers_and_muted_signals_are_skipped;
    by_name => by_name_async_receivers_and_by_name_async_sends;
}

#[signal(namespace = "async_tests")]
struct Ordered {
    tag: u32,
}

/// Sync and async receivers, typed and by name, interleaved: each async one yields between
/// its first and last line, so a send that did not await it before the next receiver would
/// interleave their lines.
async fn sync_and_async_receivers_run_in_connection_order() {
    let log = Log::default();
    let signal = Ordered::signal();
    let by_name = Ordered::named();
    let mut connections = Vec::new();
    let l = log.clone();
    connections.push(
        signal
            .connect(
                Receiver::new(move |_: &str, ev: &Ordered| l.push(format!("a {}", ev.tag)))
                    .name("a"),
            )
            .scoped(),
    );
    let l = log.clone();
    connections.push(
        signal
            .connect(
                Receiver::new_async(move |_: &str, ev: &Ordered| {
                    let l = l.clone();
                    Box::pin(async move {
                        l.push(format!("b start {}", ev.tag));
                        yield_times(3).await;
                        l.push("b end");
                    })
                })
                .name("b"),
            )
            .scoped(),
    );
    let l = log.clone();
    connections.push(
        signal
            .connect(Receiver::new(move |_: &str, _: &Ordered| l.push("c")).name("c"))
            .scoped(),
    );
    let l = log.clone();
    connections.push(
        by_name
            .connect(
                Receiver::new_async(move |sender: &SenderKey<'static>, kw: &dyn Kwargs| {
                    let l = l.clone();
                    Box::pin(async move {
                        l.push(format!("d start {sender} {:?}", kw.get::<u32>("tag")));
                        yield_times(2).await;
                        l.push("d end");
                    })
                })
                .name("d"),
            )
            .scoped(),
    );
    let l = log.clone();
    connections.push(
        by_name
            .connect(Receiver::new(move |_: &SenderKey<'_>, _: &dyn Kwargs| l.push("e")).name("e"))
            .scoped(),
    );
    let l = log.clone();
    connections.push(
        signal
            .connect(
                Receiver::new_async(move |_: &str, _: &Ordered| {
                    let l = l.clone();
                    Box::pin(async move {
                        yield_times(1).await;
                        l.push("f");
                    })
                })
                .name("f"),
            )
            .scoped(),
    );

    let expected = [
        "a 7",
        "b start 7",
        "b end",
        "c",
        "d start \"web\" Some(7)",
        "d end",
        "e",
        "f",
    ];
    let ev = Ordered { tag: 7 };
    let report = assert_send(ev.send_async("web")).await;
    assert!(report.is_ok(), "{:?}", report.failures());
    assert_eq!(report.receivers_called(), 6);
    assert_eq!(log.take(), expected);

    // The same order from the typed handle's collecting send and from a by-name send.
    let collected = signal.sending("web", &ev).collect().run_async().await;
    assert_eq!(collected.report.receivers_called(), 6);
    assert_eq!(log.take(), expected);
    let report = by_name.send_async(&"web", &ev).await.expect("a typed bag");
    assert_eq!(report.receivers_called(), 6);
    assert_eq!(log.take(), expected);

    // The receivers the send would call, and which of them are async.
    let receivers = signal.named().receivers_for("web");
    let kinds: Vec<(&str, bool)> = receivers.iter().map(|r| (&*r.name, r.is_async)).collect();
    assert_eq!(
        kinds,
        [
            ("a", false),
            ("b", true),
            ("c", false),
            ("d", true),
            ("e", false),
            ("f", true)
        ]
    );
    drop(connections);
    assert!(!signal.named().has_receivers());
}

#[signal(namespace = "async_tests", output = u32)]
struct Valued {
    base: u32,
}

/// Values come back in connection order even when the async receivers finish in the opposite
/// order (the concurrent mode) and a by-name receiver in the middle gives none.
async fn values_are_collected_in_connection_order_in_both_modes() {
    let signal = Valued::signal();
    let _connections = [
        signal.connect(Receiver::new(|_: &str, ev: &Valued| ev.base + 1).name("one")),
        signal.connect(
            Receiver::new_async(|_: &str, ev: &Valued| {
                Box::pin(async move {
                    yield_times(5).await;
                    ev.base + 2
                })
            })
            .name("two"),
        ),
        Valued::named()
            .connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).name("by name")),
        signal.connect(Receiver::new(|_: &str, ev: &Valued| ev.base + 3).name("three")),
        signal.connect(
            Receiver::new_async(|_: &str, ev: &Valued| {
                Box::pin(async move { Ok::<_, std::fmt::Error>(ev.base + 4) })
            })
            .name("four"),
        ),
    ]
    .map(signals_core::Connection::scoped);
    let ev = Valued { base: 10 };
    for concurrent in [false, true] {
        let collected = if concurrent {
            ev.sending("s").collect().run_concurrent().await
        } else {
            ev.sending("s").collect().run_async().await
        };
        assert!(collected.report.is_ok());
        assert_eq!(collected.report.receivers_called(), 5);
        let names: Vec<&str> = collected
            .responses
            .iter()
            .map(|r| &*r.receiver.name)
            .collect();
        assert_eq!(
            names,
            ["one", "two", "three", "four"],
            "concurrent: {concurrent}"
        );
        assert_eq!(collected.into_values(), [11, 12, 13, 14]);
    }
    // The non-collecting sends call the same receivers.
    assert_eq!(ev.send_async("s").await.receivers_called(), 5);
    assert_eq!(ev.sending("s").run_concurrent().await.receivers_called(), 5);
}

#[signal(namespace = "async_tests", output = u32)]
struct Faulty {
    n: u32,
}

/// An error, a panic while the future is made, a panic while it is polled, a sync panic: each
/// is reported with the receiver's name and the place it was connected, in connection order,
/// and the receivers after it still run, in both modes.
async fn errors_and_panics_of_async_receivers_are_reported_in_order() {
    let signal = Faulty::signal();
    let refuses = signal.connect(Receiver::new_async(|_: &str, _: &Faulty| {
        Box::pin(async { Err::<u32, _>("refused") })
    }));
    let early = signal.connect(
        Receiver::new_async(|_: &str, ev: &Faulty| {
            if ev.n > 0 {
                panic!("boom while making the future");
            }
            Box::pin(async { 0 })
        })
        .name("panics early"),
    );
    let late = signal.connect(
        Receiver::new_async(|_: &str, ev: &Faulty| {
            Box::pin(async move {
                yield_times(2).await;
                if ev.n > 0 {
                    panic!("boom while polled");
                }
                0
            })
        })
        .name("panics late"),
    );
    let sync_panic = signal.connect(
        Receiver::new(|_: &str, _: &Faulty| -> u32 { panic!("sync boom") }).name("sync panic"),
    );
    let fine = signal.connect(
        Receiver::new_async(|_: &str, ev: &Faulty| Box::pin(async move { ev.n })).name("fine"),
    );
    let _scoped = [refuses, early, late, sync_panic, fine].map(signals_core::Connection::scoped);

    for concurrent in [false, true] {
        let ev = Faulty { n: 1 };
        let collected = if concurrent {
            ev.sending("s").collect().run_concurrent().await
        } else {
            ev.sending("s").collect().run_async().await
        };
        let report = collected.report;
        assert_eq!(report.receivers_called(), 5);
        assert!(!report.stopped_early());
        let failures = report.failures();
        assert_eq!(failures.len(), 4, "concurrent: {concurrent}");
        // Each failure names its receiver, which was connected in this file.
        for (failure, connection) in failures.iter().zip([refuses, early, late, sync_panic]) {
            assert_eq!(Some(&failure.receiver), connection.receiver().as_ref());
            assert_eq!(failure.receiver.location.file, file!());
        }
        assert!(failures[0]
            .receiver
            .name
            .contains("errors_and_panics_of_async_receivers"));
        assert!(matches!(&failures[0].kind, FailureKind::Error(e) if e.to_string() == "refused"));
        assert!(
            matches!(&failures[1].kind, FailureKind::Panic(m) if m == "boom while making the future")
        );
        assert!(matches!(&failures[2].kind, FailureKind::Panic(m) if m == "boom while polled"));
        assert!(matches!(&failures[3].kind, FailureKind::Panic(m) if m == "sync boom"));
        assert_eq!(
            failures[2].to_string(),
            format!(
                "receiver `panics late` at {} panicked: boom while polled",
                failures[2].receiver.location
            )
        );
        // The receiver after the failures ran and gave its value.
        assert_eq!(collected.responses.len(), 1);
        assert_eq!(collected.responses[0].receiver.name, "fine");
        assert_eq!(collected.responses[0].value, 1);
    }
}

#[signal(namespace = "async_tests")]
struct Stopping {
    /// 0: every receiver succeeds; 1: the third returns an error; 2: it panics while polled.
    fault: u32,
}

/// A fail-fast async send (`sending(..).fail_fast().run_async()`, typed and by name) awaits the
/// receivers in order and stops at the first that fails, by error or by panic: the receivers
/// after it are not called, and the report says it stopped early.
async fn a_fail_fast_async_send_stops_at_the_first_failure() {
    let log = Log::default();
    let signal = Stopping::signal();
    let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
    let _first = signal
        .connect(Receiver::new_async(move |_: &str, _: &Stopping| {
            let log = l1.clone();
            Box::pin(async move {
                yield_times(1).await;
                log.push("first");
            })
        }))
        .scoped();
    let _second = signal
        .connect(move |_: &str, _: &Stopping| l2.push("second"))
        .scoped();
    let _third = signal
        .connect(
            Receiver::new_async(move |_: &str, ev: &Stopping| {
                let log = l3.clone();
                Box::pin(async move {
                    log.push("third");
                    yield_times(1).await;
                    match ev.fault {
                        1 => Err("refused"),
                        2 => panic!("boom while polled"),
                        _ => Ok(()),
                    }
                })
            })
            .name("third"),
        )
        .scoped();
    let _fourth = signal
        .connect(Receiver::new_async(move |_: &str, _: &Stopping| {
            let log = l4.clone();
            Box::pin(async move { log.push("fourth") })
        }))
        .scoped();

    assert_eq!(
        Stopping { fault: 0 }
            .sending("s")
            .fail_fast()
            .run_async()
            .await
            .into_result()
            .ok(),
        Some(4)
    );
    assert_eq!(log.take(), ["first", "second", "third", "fourth"]);

    let failure = Stopping { fault: 1 }
        .sending("s")
        .fail_fast()
        .run_async()
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(failure.receiver.name, "third");
    assert!(matches!(&failure.kind, FailureKind::Error(e) if e.to_string() == "refused"));
    assert_eq!(log.take(), ["first", "second", "third"]);

    let failure = Stopping { fault: 2 }
        .sending("s")
        .fail_fast()
        .run_async()
        .await
        .into_result()
        .unwrap_err();
    assert!(matches!(&failure.kind, FailureKind::Panic(m) if m == "boom while polled"));
    assert_eq!(log.take(), ["first", "second", "third"]);

    let bag = Stopping { fault: 1 };
    let report = Stopping::named()
        .sending(&"s", &bag)
        .fail_fast()
        .run_async()
        .await
        .expect("the bag is the signal's struct");
    assert_eq!(report.receivers_called(), 3);
    assert!(report.stopped_early());
    assert_eq!(report.failures().len(), 1);
    assert_eq!(log.take(), ["first", "second", "third"]);

    // The robust send calls every receiver and reports the failure.
    let report = Stopping { fault: 1 }.send_async("s").await;
    assert_eq!((report.receivers_called(), report.failures().len()), (4, 1));
    assert!(!report.stopped_early());
    assert_eq!(log.take(), ["first", "second", "third", "fourth"]);
}

#[signal(namespace = "async_tests")]
struct Watched {
    n: u32,
}

/// An async receiver bound weakly to a target (`Receiver::new_async(..).weak(&target)`), typed
/// and by name, that upgrades its captured `Weak` when called: its future holds the target
/// while it runs (a drop made meanwhile by a later receiver of a concurrent send does not cut
/// it short); the first send after the target is gone skips it, counts it out and disconnects
/// it, also when an earlier receiver of that same send dropped the target.
async fn weakly_bound_async_receivers_go_with_their_target() {
    let log = Log::default();
    let holder: Arc<std::sync::Mutex<Option<Arc<String>>>> = Arc::default();
    // Sync receivers around the first weak ones: the one before drops the target when `n`
    // is 1, the one after when `n` is 2.
    let (first, last) = (holder.clone(), holder.clone());
    let _first = Watched::signal()
        .connect(move |_: &str, ev: &Watched| {
            if ev.n == 1 {
                first.lock().unwrap().take();
            }
        })
        .scoped();
    let connect_weak_pair = |target: &Arc<String>| {
        let (l, weak) = (log.clone(), Arc::downgrade(target));
        let typed = Watched::signal().connect(
            Receiver::new_async(move |_: &str, ev: &Watched| {
                let log = l.clone();
                // The future holds the target while it runs.
                let name = weak.upgrade();
                Box::pin(async move {
                    if let Some(name) = name {
                        yield_times(2).await;
                        log.push(format!("typed {name} {}", ev.n));
                    }
                })
            })
            .weak(target),
        );
        let (l, weak) = (log.clone(), Arc::downgrade(target));
        let by_name = Watched::named().connect(
            Receiver::new_async(move |_: &SenderKey<'static>, kw: &dyn Kwargs| {
                let log = l.clone();
                let name = weak.upgrade();
                let n = kw.get::<u32>("n").copied().unwrap_or_default();
                Box::pin(async move {
                    if let Some(name) = name {
                        log.push(format!("by name {name} {n}"))
                    }
                })
            })
            .weak(target),
        );
        (typed, by_name)
    };

    // The holder keeps the only strong handle to each target.
    let target = Arc::new(String::from("audit"));
    let (typed, by_name) = connect_weak_pair(&target);
    *holder.lock().unwrap() = Some(target);
    let _last = Watched::signal()
        .connect(move |_: &str, ev: &Watched| {
            if ev.n == 2 {
                last.lock().unwrap().take();
            }
        })
        .scoped();
    assert_eq!(Watched { n: 0 }.send_async("s").await.receivers_called(), 4);
    assert_eq!(log.take(), ["typed audit 0", "by name audit 0"]);

    // Concurrent: the typed receiver is started (it yields), then the last receiver drops the
    // target; the typed receiver's future still has it, and finishes.
    let report = Watched { n: 2 }.sending("s").run_concurrent().await;
    assert_eq!(report.receivers_called(), 4);
    assert_eq!(log.take(), ["by name audit 2", "typed audit 2"]);
    let report = Watched { n: 0 }.send_async("s").await;
    assert!(report.is_ok(), "{:?}", report.failures());
    assert_eq!(report.receivers_called(), 2);
    assert!(log.take().is_empty());
    assert!(!typed.is_connected() && !by_name.is_connected());

    // The first receiver drops the target: the weak receivers after it in the same send are
    // skipped, not counted, and disconnected.
    let target = Arc::new(String::from("again"));
    let (typed, by_name) = connect_weak_pair(&target);
    *holder.lock().unwrap() = Some(target);
    let report = Watched { n: 1 }.send_async("s").await;
    assert!(report.is_ok(), "{:?}", report.failures());
    assert_eq!(report.receivers_called(), 2);
    assert!(log.take().is_empty());
    assert!(!typed.is_connected() && !by_name.is_connected());
}

#[signal(namespace = "async_tests")]
struct Mixed;

/// A sync send runs every sync receiver in order and reports each async receiver it meets as
/// a failure naming it, without running it and without blocking; a fail-fast send stops at the
/// first one. The async receivers run when the same signal is sent with `send_async`.
async fn a_sync_send_runs_sync_receivers_and_reports_each_async_one() {
    let log = Log::default();
    let signal = Mixed::signal();
    let l = log.clone();
    let first =
        signal.connect(Receiver::new(move |_: &str, _: &Mixed| l.push("first")).name("first"));
    let l = log.clone();
    let hook = signal.connect(
        Receiver::new_async(move |_: &str, _: &Mixed| {
            let l = l.clone();
            Box::pin(async move { l.push("webhook") })
        })
        .name("webhook"),
    );
    let l = log.clone();
    let last = signal.connect(Receiver::new(move |_: &str, _: &Mixed| l.push("last")).name("last"));
    let l = log.clone();
    let by_name = Mixed::named().connect(
        Receiver::new_async(move |_: &SenderKey<'static>, _: &dyn Kwargs| {
            let l = l.clone();
            Box::pin(async move { l.push("by-name hook") })
        })
        .name("by-name hook"),
    );
    let scoped = [first, hook, last, by_name].map(signals_core::Connection::scoped);

    // Called here, on the executor's thread: it returns at once.
    let report = Mixed.send("s");
    assert_eq!(log.take(), ["first", "last"]);
    assert_eq!(report.receivers_called(), 2);
    let failures = report.failures();
    assert_eq!(failures.len(), 2);
    assert!(matches!(failures[0].kind, FailureKind::AsyncReceiver));
    assert_eq!(Some(&failures[0].receiver), hook.receiver().as_ref());
    assert_eq!(
        failures[0].to_string(),
        format!(
            "receiver `webhook` at {}:{}:{} is async; a sync send cannot run it \u{2014} use \
             send_async",
            file!(),
            failures[0].receiver.location.line,
            failures[0].receiver.location.column
        )
    );
    assert_eq!(failures[1].receiver.name, "by-name hook");
    assert!(matches!(failures[1].kind, FailureKind::AsyncReceiver));
    assert!(std::error::Error::source(&failures[0]).is_none());

    // Fail-fast stops at the first async receiver, as at any failure.
    let failure = Mixed
        .sending("s")
        .fail_fast()
        .run()
        .into_result()
        .unwrap_err();
    assert_eq!(failure.receiver.name, "webhook");
    assert_eq!(log.take(), ["first"]);

    // The by-name sync send behaves the same.
    let report = Mixed::named().send(&"s", &Mixed).expect("a typed bag");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(report.failures().len(), 2);
    assert_eq!(log.take(), ["first", "last"]);

    // The async send runs them all.
    let report = Mixed.send_async("s").await;
    assert!(report.is_ok());
    assert_eq!(log.take(), ["first", "webhook", "last", "by-name hook"]);

    drop(scoped);
    // With the async receivers gone, a sync send is clean again.
    assert!(Mixed.send("s").is_ok());
}

#[signal(namespace = "async_tests")]
struct Together;

/// Two async receivers that each wait for the other: awaited one after the other they never
/// finish (the sequential send times out and is dropped); run together they do.
async fn the_concurrent_mode_runs_async_receivers_together() {
    let log = Log::default();
    let meet = |name: &'static str, log: &Log, rendezvous: &Arc<Rendezvous>| {
        let (log, rendezvous) = (log.clone(), rendezvous.clone());
        Together::signal()
            .connect(
                Receiver::new_async(move |_: &str, _: &Together| {
                    let (log, rendezvous) = (log.clone(), rendezvous.clone());
                    Box::pin(async move {
                        log.push(format!("{name} waits"));
                        rendezvous.arrive().await;
                        log.push(format!("{name} met"));
                    })
                })
                .name(name),
            )
            .scoped()
    };

    let rendezvous = Rendezvous::new(2);
    let (a, b) = (meet("a", &log, &rendezvous), meet("b", &log, &rendezvous));
    let l = log.clone();
    let sync = Together::signal()
        .connect(Receiver::new(move |_: &str, _: &Together| l.push("sync")).name("sync"))
        .scoped();
    let report = timeout(
        Duration::from_secs(10),
        Together.sending("s").run_concurrent(),
    )
    .await
    .expect("the concurrent send finishes");
    assert!(report.is_ok());
    assert_eq!(report.receivers_called(), 3);
    // In connection order: `a` starts and waits; `b` starts, meets `a` and finishes at its
    // first poll; the sync receiver is called in its place; then `a` is woken and finishes.
    assert_eq!(log.take(), ["a waits", "b waits", "b met", "sync", "a met"]);
    drop((a, b, sync));

    // Sequentially, `a` waits for `b`, which never starts: the send is cancelled by the
    // timeout while `a` waits.
    let rendezvous = Rendezvous::new(2);
    let (a, b) = (meet("a", &log, &rendezvous), meet("b", &log, &rendezvous));
    let outcome = timeout(Duration::from_millis(200), Together.send_async("s")).await;
    assert!(outcome.is_none(), "a sequential send cannot finish here");
    assert_eq!(log.take(), ["a waits"]);
    drop((a, b));
}

#[signal(namespace = "async_tests")]
struct Changing;

/// An async receiver that disconnects a later receiver, and connects a new one, while the
/// send runs: the disconnected one is not called, the new one not by this send.
async fn a_receiver_disconnected_during_an_async_send_is_not_called() {
    let log = Log::default();
    let signal = Changing::signal();
    let l = log.clone();
    let victim_slot: Arc<std::sync::Mutex<Option<signals_core::Connection>>> = Arc::default();
    let slot = victim_slot.clone();
    let added: Arc<std::sync::Mutex<Vec<signals_core::ScopedConnection>>> = Arc::default();
    let added_here = added.clone();
    let changer = signal
        .connect(
            Receiver::new_async(move |_: &str, _: &Changing| {
                let (l, slot, added) = (l.clone(), slot.clone(), added_here.clone());
                Box::pin(async move {
                    l.push("changer");
                    yield_times(1).await;
                    if let Some(victim) = slot.lock().unwrap().take() {
                        victim.disconnect();
                    }
                    let l2 = l.clone();
                    added.lock().unwrap().push(
                        Changing::signal()
                            .connect(
                                Receiver::new(move |_: &str, _: &Changing| l2.push("late"))
                                    .name("late"),
                            )
                            .scoped(),
                    );
                })
            })
            .name("changer"),
        )
        .scoped();
    let l = log.clone();
    let victim =
        signal.connect(Receiver::new(move |_: &str, _: &Changing| l.push("victim")).name("victim"));
    let _victim = victim.scoped();
    *victim_slot.lock().unwrap() = Some(victim);

    let report = Changing.send_async("s").await;
    assert_eq!(log.take(), ["changer"]);
    assert_eq!(report.receivers_called(), 1);
    // The next send sees the new receiver and not the disconnected one.
    let report = Changing.send_async("s").await;
    assert_eq!(log.take(), ["changer", "late"]);
    assert_eq!(report.receivers_called(), 2);
    drop(changer);
    added.lock().unwrap().clear();
    assert!(signal.named().connections().is_empty());
}

#[signal(namespace = "async_tests")]
struct Quiet;

async fn blocked_receivers_and_muted_signals_are_skipped() {
    let log = Log::default();
    let l = log.clone();
    let hook = Quiet::signal().connect(Receiver::new_async(move |_: &str, _: &Quiet| {
        let l = l.clone();
        Box::pin(async move { l.push("hook") })
    }));
    let _scoped = hook.scoped();
    {
        let _blocked = hook.block();
        assert_eq!(Quiet.send_async("s").await.receivers_called(), 0);
        assert_eq!(
            Quiet.sending("s").run_concurrent().await.receivers_called(),
            0
        );
    }
    {
        let _muted = Quiet::signal().named().mute();
        assert_eq!(Quiet.send_async("s").await.receivers_called(), 0);
    }
    assert!(log.take().is_empty());
    assert_eq!(Quiet.send_async("s").await.receivers_called(), 1);
    assert_eq!(log.take(), ["hook"]);
}

/// By-name async receivers on a signal no struct declares, sent by name (both modes); a
/// by-name async send to a declared signal checks its bag as the sync send does.
async fn by_name_async_receivers_and_by_name_async_sends() {
    let signal = Namespace::get("async_tests")
        .and_then(|ns| ns.signal("custom_uploaded"))
        .expect("a valid name");
    let log = Log::default();
    let l = log.clone();
    let any = signal
        .connect(
            Receiver::new_async(move |sender: &SenderKey<'static>, kw: &dyn Kwargs| {
                let l = l.clone();
                Box::pin(async move {
                    yield_times(1).await;
                    let bytes = kw.try_get::<u64>("bytes")?;
                    l.push(format!("any {sender} {bytes}"));
                    Ok::<_, signals_core::KwargError>(())
                })
            })
            .name("any"),
        )
        .scoped();
    let l = log.clone();
    let only = signal
        .connect(
            Receiver::new_async(move |_: &SenderKey<'static>, _: &dyn Kwargs| {
                let l = l.clone();
                Box::pin(async move { l.push("only r-1") })
            })
            .sender(&"r-1"),
        )
        .scoped();
    let bag = DynKwargs::new().with("bytes", 10u64);
    let report = assert_send(signal.send_async(&"r-1", &bag)).await.unwrap();
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(log.take(), ["any \"r-1\" 10", "only r-1"]);
    let report = signal.sending(&"r-2", &bag).run_concurrent().await.unwrap();
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(log.take(), ["any \"r-2\" 10"]);
    // A receiver's error is reported: here, a missing argument.
    let report = signal.send_async(&"r-2", &DynKwargs::new()).await.unwrap();
    assert_eq!(report.failures().len(), 1);
    assert!(report.failures()[0]
        .to_string()
        .contains("no keyword argument named `bytes`"));
    // A sync send reports both.
    let report = signal.send(&"r-1", &bag).unwrap();
    assert_eq!(report.receivers_called(), 0);
    assert_eq!(report.failures().len(), 2);
    assert!(log.take().is_empty());
    drop((any, only));

    // A declared signal needs its struct, async or not.
    let error = Ordered::named()
        .send_async(&"web", &DynKwargs::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::WrongKwargs { .. }), "{error}");
}
