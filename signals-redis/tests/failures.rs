//! The bridge when things break, against a real `redis-server`: a consumer process killed
//! with SIGKILL in the middle of a batch, Redis killed and restarted (with and without
//! persistence), Redis frozen longer than the client's timeout.
//!
//! The killed consumer is this test binary run again: `child_consumer` is a `#[test]` that
//! returns at once unless `SIGNALS_REDIS_TEST_CHILD_URL` is set, and then consumes until it
//! is killed. A test binary always knows its own path (`std::env::current_exe`), needs no
//! extra target in Cargo.toml and is rebuilt with the tests (examples have no
//! `CARGO_BIN_EXE_*`, and `cargo test --test failures` does not build them).

mod helpers;
mod support;

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use signals_core::prelude::*;
use signals_redis::{current_delivery, Bridge, BridgeConfig, BridgeError, Consumer};
use support::{available, runtime, RedisServer};

use helpers::{consume_for, consume_until, counts, entries, options, pending, raw, Capture};

#[signal(namespace = "redis_failures", name = "killed_consumer")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub n: u32,
}

#[signal(namespace = "redis_failures", name = "durable")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Durable {
    pub n: u32,
}

#[signal(namespace = "redis_failures", name = "volatile")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volatile {
    pub n: u32,
}

#[signal(namespace = "redis_failures", name = "frozen")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frozen {
    pub n: u32,
}

const PREFIX: &str = "ckan:default:signals:redis_failures.";

/// The child's Redis URL; set, it makes `child_consumer` a consumer.
const CHILD_URL: &str = "SIGNALS_REDIS_TEST_CHILD_URL";
/// The file the child appends each handled event id to.
const CHILD_LOG: &str = "SIGNALS_REDIS_TEST_CHILD_LOG";

/// Not a test by itself: run again by
/// `a_consumer_killed_mid_batch_repeats_only_what_it_had_not_acknowledged` as the consumer
/// process it kills. Consumes `Job` in group `workers` as `child`; its receiver appends the
/// event id to the log file, fsyncs it, then sleeps 100 ms (the window in which it is killed:
/// handled, not yet acknowledged).
#[test]
fn child_consumer() {
    let (Ok(url), Ok(log)) = (std::env::var(CHILD_URL), std::env::var(CHILD_LOG)) else {
        return;
    };
    let _handled = Job::signal()
        .connect(move |_: &str, _: &Job| -> std::io::Result<()> {
            let delivery = current_delivery().expect("a consumer's send");
            let mut file = OpenOptions::new().append(true).open(&log)?;
            file.write_all(format!("{}\n", delivery.event_id).as_bytes())?;
            file.sync_all()?;
            std::thread::sleep(Duration::from_millis(100));
            Ok(())
        })
        .scoped();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(url)).await.unwrap();
        let consumer =
            Consumer::new(&bridge, options("workers", "child", 300)).signal(&Job::named());
        consumer.run_until(std::future::pending()).await;
    });
}

/// Kills the child process if the test fails before it does.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_consumer_killed_mid_batch_repeats_only_what_it_had_not_acknowledged() {
    if !available("a_consumer_killed_mid_batch_repeats_only_what_it_had_not_acknowledged") {
        return;
    }
    let server = RedisServer::start();
    let log = server.dir().join("handled.log");
    std::fs::write(&log, "").unwrap();
    let stream = format!("{PREFIX}killed_consumer");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let mut published = Vec::new();
        for n in 0..20 {
            let event = bridge.publish::<Job>("web", &Job { n }).await.unwrap();
            published.push(event.event_id);
        }

        // The child reads all 20 in one batch (COUNT 64) and handles them one by one.
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["child_consumer", "--exact", "--nocapture"])
            .env(CHILD_URL, server.url())
            .env(CHILD_LOG, &log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the test binary runs again as the consumer");
        let mut child = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while lines(&log).len() < 5 {
            assert!(
                Instant::now() < deadline,
                "the child handled {:?} in 10 s",
                lines(&log)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();

        let by_child = lines(&log);
        let k = by_child.len();
        assert!((5..20).contains(&k), "{k} handled before the kill");
        // One stream, one consumer: in order.
        assert_eq!(by_child, published[..k]);
        let mut conn = raw(&server.url()).await;
        let event_of: std::collections::HashMap<String, String> =
            entries(&mut conn, &stream).await.into_iter().collect();
        let left = pending(&mut conn, &stream, "workers").await;
        // Everything not acknowledged is pending, owned by the dead child, delivered once.
        assert!(left
            .iter()
            .all(|(_, consumer, deliveries)| consumer == "child" && *deliveries == 1));
        let left_events: Vec<String> = left.iter().map(|(id, _, _)| event_of[id].clone()).collect();
        // Acknowledgements go at the end of each batch: the child read all 20 in one batch
        // and was killed in the middle of it, so it acknowledged none, though it handled k.
        let acked = published.len() - left_events.len();
        assert_eq!(acked, 0, "handled {k}, acknowledged {acked}");
        assert_eq!(left_events, published[acked..]);

        // A second consumer of the group claims what the child left, once idle 200 ms.
        let seen = Arc::new(Mutex::new(Vec::<(String, usize, u32)>::new()));
        let record = seen.clone();
        let _receiver = Job::signal()
            .connect(move |_: &str, job: &Job| {
                let delivery = current_delivery().unwrap();
                record
                    .lock()
                    .unwrap()
                    .push((delivery.event_id, delivery.deliveries, job.n));
            })
            .scoped();
        let mut rescuer =
            Consumer::new(&bridge, options("workers", "rescuer", 200)).signal(&Job::named());
        let want = left_events.len();
        let errors = consume_until(&mut rescuer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= want
        })
        .await;
        assert!(errors.is_empty(), "{errors:?}");
        consume_for(&mut rescuer, Duration::from_millis(400)).await;

        let seen = seen.lock().unwrap().clone();
        let expected: Vec<(String, usize, u32)> = (acked..20)
            .map(|n| (published[n].clone(), 2, n as u32))
            .collect();
        assert_eq!(
            seen, expected,
            "each left entry once, at its second delivery, in order"
        );
        // Every event handled at least once; twice only those handled but not acknowledged.
        let all: Vec<String> = by_child
            .iter()
            .cloned()
            .chain(seen.iter().map(|s| s.0.clone()))
            .collect();
        let handled = counts(&all);
        assert_eq!(
            handled.keys().cloned().collect::<BTreeSet<_>>(),
            published.iter().cloned().collect()
        );
        let twice: Vec<&String> = handled
            .iter()
            .filter(|(_, c)| **c == 2)
            .map(|(e, _)| e)
            .collect();
        let expected_twice: Vec<&String> = published[acked..k].iter().collect();
        assert_eq!(twice, expected_twice);
        assert!(handled.values().all(|c| *c <= 2));
        eprintln!(
            "killed after {k} handled, {acked} acknowledged: {} handled twice",
            twice.len()
        );
        let stats = rescuer.stats();
        assert_eq!(
            (stats.reclaimed, stats.sent, stats.acked),
            (want as u64, want as u64, want as u64)
        );
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn with_appendfsync_always_nothing_published_is_lost_when_redis_is_killed() {
    if !available("with_appendfsync_always_nothing_published_is_lost_when_redis_is_killed") {
        return;
    }
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let stream = format!("{PREFIX}durable");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::<u32>::new()));
        let record = seen.clone();
        let _receiver = Durable::signal()
            .connect(move |_: &str, ev: &Durable| record.lock().unwrap().push(ev.n))
            .scoped();
        let mut consumer =
            Consumer::new(&bridge, options("durable", "c1", 300)).signal(&Durable::named());
        for n in 0..10 {
            bridge
                .publish::<Durable>("web", &Durable { n })
                .await
                .unwrap();
        }
        consume_until(&mut consumer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= 10
        })
        .await;
        // 30 more, each acknowledged by Redis (on disk), then SIGKILL at once.
        for n in 10..40 {
            bridge
                .publish::<Durable>("web", &Durable { n })
                .await
                .unwrap();
        }
        server.kill();
        server.restart();

        let errors = consume_until(&mut consumer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= 40
        })
        .await;
        consume_for(&mut consumer, Duration::from_millis(500)).await;
        // The first read after the restart may fail (the old connection is gone); nothing else.
        assert!(errors.len() <= 1, "{errors:?}");
        assert!(
            errors.iter().all(|e| matches!(e, BridgeError::Redis(_))),
            "{errors:?}"
        );
        // The ten acknowledged before the kill are not delivered again; the thirty come once.
        assert_eq!(*seen.lock().unwrap(), (0..40).collect::<Vec<u32>>());
        let reported = consumer.take_errors();
        assert!(
            !reported
                .iter()
                .any(|e| matches!(e, BridgeError::GroupLost { .. })),
            "{reported:?}"
        );
        assert_eq!(consumer.stats().groups_recreated, 0);
        let mut conn = raw(&server.url()).await;
        assert_eq!(entries(&mut conn, &stream).await.len(), 40);
        assert!(pending(&mut conn, &stream, "durable").await.is_empty());
    });
}

#[test]
fn without_persistence_a_lost_group_is_recreated_and_reported() {
    if !available("without_persistence_a_lost_group_is_recreated_and_reported") {
        return;
    }
    let mut server = RedisServer::start();
    let stream = format!("{PREFIX}volatile");
    let logged = Arc::new(Mutex::new(Vec::new()));
    let subscriber = Capture(logged.clone());
    tracing::subscriber::with_default(subscriber, || {
        runtime().block_on(async {
            let bridge = Bridge::connect(BridgeConfig::new(server.url()))
                .await
                .unwrap();
            let seen = Arc::new(Mutex::new(Vec::<u32>::new()));
            let record = seen.clone();
            let _receiver = Volatile::signal()
                .connect(move |_: &str, ev: &Volatile| record.lock().unwrap().push(ev.n))
                .scoped();
            let mut consumer =
                Consumer::new(&bridge, options("volatile", "c1", 300)).signal(&Volatile::named());
            for n in 0..3 {
                bridge
                    .publish::<Volatile>("web", &Volatile { n })
                    .await
                    .unwrap();
            }
            consume_until(&mut consumer, Duration::from_secs(5), || {
                seen.lock().unwrap().len() >= 3
            })
            .await;
            assert!(consumer.take_errors().is_empty());

            server.restart(); // SIGKILL, then a server with nothing
                              // Two events after the restart, before the consumer notices: the first publish may
                              // meet the dead connection (an error, nothing written); it is tried again.
            let mut publish_errors = 0;
            for n in 3..5 {
                loop {
                    match bridge.publish::<Volatile>("web", &Volatile { n }).await {
                        Ok(_) => break,
                        Err(error) => {
                            publish_errors += 1;
                            assert!(publish_errors <= 2, "{error}");
                        }
                    }
                }
            }
            consume_until(&mut consumer, Duration::from_secs(5), || {
                seen.lock().unwrap().len() >= 5
            })
            .await;
            consume_for(&mut consumer, Duration::from_millis(400)).await;
            // The group is made again from the stream's start: the events written after the
            // restart are delivered, once.
            assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3, 4]);
            assert_eq!(consumer.stats().groups_recreated, 1);
            let errors = consumer.take_errors();
            let lost: Vec<&BridgeError> = errors
                .iter()
                .filter(|e| matches!(e, BridgeError::GroupLost { .. }))
                .collect();
            assert_eq!(lost.len(), 1, "{errors:?}");
            match lost[0] {
                BridgeError::GroupLost {
                    stream: s,
                    group,
                    why,
                } => {
                    assert_eq!((s.as_str(), group.as_str()), (stream.as_str(), "volatile"));
                    assert!(why.contains("NOGROUP"), "{why}");
                    // What the message says is what happened: the events written after the
                    // restart were delivered.
                    assert!(lost[0]
                        .to_string()
                        .contains("created again from the stream's start"));
                }
                _ => unreachable!(),
            }
            // Any other error is the dead connection, met once.
            assert!(
                errors
                    .iter()
                    .all(|e| matches!(e, BridgeError::GroupLost { .. } | BridgeError::Redis(_))),
                "{errors:?}"
            );
            let mut conn = raw(&server.url()).await;
            assert!(pending(&mut conn, &stream, "volatile").await.is_empty());
        });
    });
    let logged = logged.lock().unwrap().clone();
    let lines: Vec<&String> = logged
        .iter()
        .filter(|l| l.starts_with("ERROR") && l.contains("was gone"))
        .collect();
    assert_eq!(lines.len(), 1, "{logged:#?}");
    assert!(lines[0].contains("group=volatile"), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!(
            "the consumer group `volatile` of {stream} was gone"
        )),
        "{}",
        lines[0]
    );
}

#[test]
fn a_frozen_redis_gives_errors_then_works_again_and_loses_no_acknowledgement() {
    if !available("a_frozen_redis_gives_errors_then_works_again_and_loses_no_acknowledgement") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}frozen");
    runtime().block_on(async {
        let mut config = BridgeConfig::new(server.url());
        config.response_timeout = Duration::from_millis(300);
        let bridge = Bridge::connect(config).await.unwrap();
        // (n, deliveries, succeeded): 5..10 fail at their first delivery and stay pending.
        let seen = Arc::new(Mutex::new(Vec::<(u32, usize, bool)>::new()));
        let record = seen.clone();
        let _receiver = Frozen::signal()
            .connect(move |_: &str, ev: &Frozen| {
                let deliveries = current_delivery().unwrap().deliveries;
                let fail = (5..10).contains(&ev.n) && deliveries == 1;
                record.lock().unwrap().push((ev.n, deliveries, !fail));
                if fail {
                    Err("not yet")
                } else {
                    Ok(())
                }
            })
            .scoped();
        let mut options = options("frozen", "c1", 300);
        // Commands sent while frozen run when it thaws: a claim among them counts a delivery.
        options.max_deliveries = 20;
        let mut consumer = Consumer::new(&bridge, options).signal(&Frozen::named());
        for n in 0..10 {
            bridge
                .publish::<Frozen>("web", &Frozen { n })
                .await
                .unwrap();
        }
        // Read once each, no reclaim yet: 0..5 acknowledged, 5..10 pending.
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().len() < 10 {
            assert!(Instant::now() < deadline);
            consumer.read_once().await.unwrap();
        }
        let mut conn = raw(&server.url()).await;
        assert_eq!(pending(&mut conn, &stream, "frozen").await.len(), 5);

        server.freeze();
        let frozen_at = Instant::now();
        let published = bridge.publish::<Frozen>("web", &Frozen { n: 10 }).await;
        let took = frozen_at.elapsed();
        assert!(published.is_err(), "a publish to a frozen Redis must fail");
        assert!(
            took < Duration::from_secs(3),
            "the publish failed after {took:?}"
        );
        let read = consumer.read_once().await;
        assert!(read.is_err(), "{read:?}");
        consumer.reclaim().await;
        let reported = consumer.take_errors();
        assert!(!reported.is_empty());
        assert!(
            reported.iter().all(|e| matches!(e, BridgeError::Redis(_))),
            "{reported:?}"
        );
        // Frozen at least three times the timeout.
        tokio::time::sleep(Duration::from_millis(900).saturating_sub(frozen_at.elapsed())).await;
        server.thaw();
        eprintln!(
            "frozen {:?}; publish failed after {took:?}: {}",
            frozen_at.elapsed(),
            published.unwrap_err()
        );

        // The connection comes back: the first publish after the thaw succeeds.
        bridge
            .publish::<Frozen>("web", &Frozen { n: 11 })
            .await
            .expect("a publish after the thaw");
        let done = || {
            let seen = seen.lock().unwrap();
            let ok: BTreeSet<u32> = seen.iter().filter(|s| s.2).map(|s| s.0).collect();
            (5..10).chain([11]).all(|n| ok.contains(&n))
        };
        let errors = consume_until(&mut consumer, Duration::from_secs(5), done).await;
        assert!(errors.is_empty(), "{errors:?}");
        consume_for(&mut consumer, Duration::from_millis(500)).await;

        let seen = seen.lock().unwrap().clone();
        let handled = counts(&seen.iter().map(|s| s.0).collect::<Vec<_>>());
        // Acknowledged before the freeze: never again.
        for n in 0..5 {
            assert_eq!(handled.get(&n), Some(&1), "{n}: {seen:?}");
        }
        // Pending across the freeze: the failed first delivery, then one success.
        for n in 5..10 {
            let of_n: Vec<&(u32, usize, bool)> = seen.iter().filter(|s| s.0 == n).collect();
            assert_eq!(of_n.len(), 2, "{n}: {seen:?}");
            assert_eq!((of_n[0].1, of_n[0].2), (1, false));
            assert!(of_n[1].1 >= 2 && of_n[1].2, "{n}: {seen:?}");
        }
        // After the thaw: once. The publish that failed while frozen may have been written when
        // Redis woke up (an error does not say it was not): at most once.
        assert_eq!(handled.get(&11), Some(&1), "{seen:?}");
        assert!(handled.get(&10).copied().unwrap_or(0) <= 1, "{seen:?}");
        assert!(pending(&mut conn, &stream, "frozen").await.is_empty());
        assert!(consumer.take_errors().is_empty());
    });
}
