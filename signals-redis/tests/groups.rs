//! Consumer groups against a real `redis-server`: each group sees every event; consumers of
//! one group share the events without handling one twice; a slow handler keeps its entry by
//! its heartbeat; trimming keeps what a group has not acknowledged; a process skips its own
//! events.

mod helpers;
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use signals_core::prelude::*;
use signals_core::Receiver;
use signals_redis::{current_delivery, Bridge, BridgeConfig, BridgeError, Consumer, Forwarder};
use support::{available, runtime, RedisServer};

use helpers::{consume_for, consume_until, counts, entries, options, pending, raw, stop_when};

#[signal(namespace = "redis_groups", name = "two_groups")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoGroups {
    pub n: u32,
}

#[signal(namespace = "redis_groups", name = "three_consumers")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreeConsumers {
    pub n: u32,
}

#[signal(namespace = "redis_groups", name = "slow_handler")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlowHandler {
    pub n: u32,
}

#[signal(namespace = "redis_groups", name = "trimmed")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trimmed {
    pub n: u32,
}

#[signal(namespace = "redis_groups", name = "cut_short")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CutShort {
    pub n: u32,
}

#[signal(namespace = "redis_groups", name = "own_events")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnEvents {
    pub n: u32,
}

const PREFIX: &str = "ckan:default:signals:redis_groups.";

/// (group, event id, deliveries) of each handling.
type Handled = Arc<Mutex<Vec<(String, String, usize)>>>;

#[test]
fn two_groups_each_receive_every_event_once() {
    if !available("two_groups_each_receive_every_event_once") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen: Handled = Arc::default();
        let record = seen.clone();
        let _receiver = TwoGroups::signal()
            .connect(move |_: &str, _: &TwoGroups| {
                let d = current_delivery().unwrap();
                record
                    .lock()
                    .unwrap()
                    .push((d.group, d.event_id, d.deliveries));
            })
            .scoped();
        let mut published = Vec::new();
        for n in 0..10 {
            let event = bridge
                .publish::<TwoGroups>("web", &TwoGroups { n })
                .await
                .unwrap();
            published.push(event);
        }
        let of = |group: &str| -> Vec<(String, usize)> {
            seen.lock()
                .unwrap()
                .iter()
                .filter(|s| s.0 == group)
                .map(|s| (s.1.clone(), s.2))
                .collect()
        };
        // The second group is made after the first handled everything: it gets the backlog.
        for group in ["search", "audit"] {
            let mut consumer =
                Consumer::new(&bridge, options(group, "c1", 300)).signal(&TwoGroups::named());
            consume_until(&mut consumer, Duration::from_secs(5), || {
                of(group).len() >= 10
            })
            .await;
            consume_for(&mut consumer, Duration::from_millis(400)).await;
            assert_eq!(consumer.stats().acked, 10);
        }
        let expected: Vec<(String, usize)> =
            published.iter().map(|p| (p.event_id.clone(), 1)).collect();
        assert_eq!(of("search"), expected);
        assert_eq!(of("audit"), expected);
        assert_eq!(seen.lock().unwrap().len(), 20);
        let mut groups = bridge.groups(&TwoGroups::named()).await.unwrap();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        let last = published.last().unwrap().entry_id.clone();
        let summary: Vec<_> = groups
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.consumers,
                    g.pending,
                    g.last_delivered_id.clone(),
                    g.lag,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("audit", 1, 0, last.clone(), Some(0)),
                ("search", 1, 0, last, Some(0)),
            ]
        );
    });
}

#[test]
fn three_consumers_of_one_group_never_handle_an_event_twice() {
    if !available("three_consumers_of_one_group_never_handle_an_event_twice") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}three_consumers");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen: Handled = Arc::default();
        let record = seen.clone();
        // Async, 10 ms per event: the consumers take turns while one waits.
        let _receiver = ThreeConsumers::signal()
            .connect(Receiver::new_async(move |_: &str, _: &ThreeConsumers| {
                let d = current_delivery().unwrap();
                record
                    .lock()
                    .unwrap()
                    .push((d.group, d.event_id, d.deliveries));
                Box::pin(tokio::time::sleep(Duration::from_millis(10)))
            }))
            .scoped();
        let mut published = Vec::new();
        for n in 0..30 {
            let event = bridge
                .publish::<ThreeConsumers>("web", &ThreeConsumers { n })
                .await
                .unwrap();
            published.push(event.event_id);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for name in ["c1", "c2", "c3"] {
            // Batches of 5; nothing waits near the claim idle time (2 s): nothing is reclaimed.
            let mut options = options("workers", name, 2000);
            options.batch = 5;
            let consumer = Consumer::new(&bridge, options).signal(&ThreeConsumers::named());
            tasks.push(tokio::spawn(consumer.run_until(stop_when(stop.clone()))));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().len() < 30 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{:?}",
                seen.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::SeqCst);
        let mut stats = Vec::new();
        for task in tasks {
            stats.push(task.await.unwrap());
        }

        let seen = seen.lock().unwrap().clone();
        let handled = counts(&seen.iter().map(|s| s.1.clone()).collect::<Vec<_>>());
        let mut expected = published.clone();
        expected.sort();
        assert_eq!(handled.keys().cloned().collect::<Vec<_>>(), expected);
        assert!(handled.values().all(|c| *c == 1), "{handled:?}");
        assert!(
            seen.iter().all(|s| s.0 == "workers" && s.2 == 1),
            "{seen:?}"
        );
        let sent: Vec<u64> = stats.iter().map(|s| s.sent).collect();
        assert_eq!(sent.iter().sum::<u64>(), 30, "{stats:?}");
        assert_eq!(stats.iter().map(|s| s.acked).sum::<u64>(), 30, "{stats:?}");
        assert_eq!(
            stats.iter().map(|s| s.reclaimed).sum::<u64>(),
            0,
            "{stats:?}"
        );
        assert!(
            sent.iter().filter(|s| **s > 0).count() >= 2,
            "shared out: {sent:?}"
        );
        eprintln!("events handled by each consumer: {sent:?}");
        let mut conn = raw(&server.url()).await;
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
        let groups = bridge.groups(&ThreeConsumers::named()).await.unwrap();
        assert_eq!((groups.len(), groups[0].consumers), (1, 3));
    });
}

#[test]
fn a_handler_slower_than_the_claim_idle_time_keeps_its_entry() {
    if !available("a_handler_slower_than_the_claim_idle_time_keeps_its_entry") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}slow_handler");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen: Handled = Arc::default();
        let record = seen.clone();
        // Four times the claim idle time (300 ms).
        let _receiver = SlowHandler::signal()
            .connect(Receiver::new_async(move |_: &str, _: &SlowHandler| {
                let d = current_delivery().unwrap();
                record
                    .lock()
                    .unwrap()
                    .push((d.group, d.event_id, d.deliveries));
                Box::pin(tokio::time::sleep(Duration::from_millis(1200)))
            }))
            .scoped();
        let published = bridge
            .publish::<SlowHandler>("web", &SlowHandler { n: 1 })
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for name in ["c1", "c2"] {
            let consumer =
                Consumer::new(&bridge, options("workers", name, 300)).signal(&SlowHandler::named());
            tasks.push(tokio::spawn(consumer.run_until(stop_when(stop.clone()))));
        }
        let mut conn = raw(&server.url()).await;
        // While it is handled the entry stays pending, delivered once, however long it takes.
        tokio::time::sleep(Duration::from_millis(900)).await;
        let during = pending(&mut conn, &stream, "workers").await;
        assert_eq!(during.len(), 1);
        assert_eq!(
            (during[0].0.as_str(), during[0].2),
            (published.entry_id.as_str(), 1)
        );
        tokio::time::sleep(Duration::from_millis(900)).await;
        stop.store(true, Ordering::SeqCst);
        let mut stats = Vec::new();
        for task in tasks {
            stats.push(task.await.unwrap());
        }
        assert_eq!(
            *seen.lock().unwrap(),
            [("workers".to_owned(), published.event_id.clone(), 1)]
        );
        assert_eq!(
            stats.iter().map(|s| s.reclaimed).sum::<u64>(),
            0,
            "{stats:?}"
        );
        assert_eq!(stats.iter().map(|s| s.acked).sum::<u64>(), 1, "{stats:?}");
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[signal(namespace = "redis_groups")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reassigned {
    pub n: u32,
}

/// The heartbeat renews only the entries its consumer still owns: an entry another consumer
/// has claimed (an operator's `XCLAIM`, or a reclaim while the first was starved) stays with
/// it.
#[test]
fn the_heartbeat_never_takes_back_an_entry_another_consumer_claimed() {
    if !available("the_heartbeat_never_takes_back_an_entry_another_consumer_claimed") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}reassigned");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let _receiver = Reassigned::signal()
            .connect(Receiver::new_async(move |_: &str, _: &Reassigned| {
                Box::pin(tokio::time::sleep(Duration::from_millis(1500)))
            }))
            .scoped();
        let published = bridge
            .publish::<Reassigned>("web", &Reassigned { n: 1 })
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let consumer =
            Consumer::new(&bridge, options("workers", "c1", 300)).signal(&Reassigned::named());
        let task = tokio::spawn(consumer.run_until(stop_when(stop.clone())));
        let mut conn = raw(&server.url()).await;
        // c1 is handling it (1.5 s); another consumer takes it over.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _: redis::Value = redis::cmd("XCLAIM")
            .arg(&stream)
            .arg("workers")
            .arg("c2")
            .arg(0)
            .arg(&published.entry_id)
            .arg("JUSTID")
            .query_async(&mut conn)
            .await
            .unwrap();
        // Three heartbeats later (every 100 ms), it is still c2's.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let owners = pending(&mut conn, &stream, "workers").await;
        assert_eq!(owners.len(), 1);
        assert_eq!(owners[0].1, "c2", "{owners:?}");
        stop.store(true, Ordering::SeqCst);
        task.await.unwrap();
    });
}

#[test]
fn trimming_keeps_the_entries_a_group_has_not_acknowledged() {
    if !available("trimming_keeps_the_entries_a_group_has_not_acknowledged") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}trimmed");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        // (n, deliveries, succeeded): 3 and 7 fail their first delivery and stay pending.
        let seen = Arc::new(Mutex::new(Vec::<(u32, usize, bool)>::new()));
        let record = seen.clone();
        let _receiver = Trimmed::signal()
            .connect(move |_: &str, ev: &Trimmed| {
                let deliveries = current_delivery().unwrap().deliveries;
                let fail = (ev.n == 3 || ev.n == 7) && deliveries == 1;
                record.lock().unwrap().push((ev.n, deliveries, !fail));
                if fail {
                    Err("not yet")
                } else {
                    Ok(())
                }
            })
            .scoped();
        let mut published = Vec::new();
        for n in 0..10 {
            published.push(
                bridge
                    .publish::<Trimmed>("web", &Trimmed { n })
                    .await
                    .unwrap(),
            );
        }
        // A stream without groups is left whole.
        assert_eq!(bridge.trim(&Trimmed::named()).await.unwrap(), 0);
        let mut consumer =
            Consumer::new(&bridge, options("workers", "c1", 300)).signal(&Trimmed::named());
        while seen.lock().unwrap().len() < 10 {
            consumer.read_once().await.unwrap();
        }
        let mut conn = raw(&server.url()).await;
        let left: Vec<String> = pending(&mut conn, &stream, "workers")
            .await
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            left,
            [published[3].entry_id.clone(), published[7].entry_id.clone()]
        );

        // A group that has read nothing keeps everything.
        let _: () = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg("idle")
            .arg("0")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(bridge.trim(&Trimmed::named()).await.unwrap(), 0);
        let _: u64 = redis::cmd("XGROUP")
            .arg("DESTROY")
            .arg(&stream)
            .arg("idle")
            .query_async(&mut conn)
            .await
            .unwrap();

        // Trimmed below the oldest pending entry: 0, 1 and 2 go; 3 to 9 stay (4, 5, 6, 8 and
        // 9 are acknowledged, but behind a pending one).
        assert_eq!(bridge.trim(&Trimmed::named()).await.unwrap(), 3);
        let kept: Vec<String> = entries(&mut conn, &stream)
            .await
            .into_iter()
            .map(|e| e.0)
            .collect();
        let expected: Vec<String> = published[3..].iter().map(|p| p.entry_id.clone()).collect();
        assert_eq!(kept, expected);

        // The pending ones are still delivered after the trim: no gap.
        let done = || {
            seen.lock()
                .unwrap()
                .iter()
                .filter(|s| s.2 && (s.0 == 3 || s.0 == 7))
                .count()
                == 2
        };
        let errors = consume_until(&mut consumer, Duration::from_secs(5), done).await;
        assert!(errors.is_empty(), "{errors:?}");
        consume_for(&mut consumer, Duration::from_millis(400)).await;
        let mut expected: Vec<(u32, usize, bool)> =
            (0..10).map(|n| (n, 1, n != 3 && n != 7)).collect();
        expected.extend([(3, 2, true), (7, 2, true)]);
        assert_eq!(*seen.lock().unwrap(), expected);
        assert!(consumer.take_errors().is_empty());
        assert_eq!(consumer.stats().lost, 0);

        // All acknowledged: everything goes.
        assert_eq!(bridge.trim(&Trimmed::named()).await.unwrap(), 7);
        assert!(entries(&mut conn, &stream).await.is_empty());
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn entries_trimmed_away_while_pending_are_reported_as_a_gap() {
    if !available("entries_trimmed_away_while_pending_are_reported_as_a_gap") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}cut_short");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::<u32>::new()));
        let record = seen.clone();
        let _receiver = CutShort::signal()
            .connect(move |_: &str, ev: &CutShort| {
                record.lock().unwrap().push(ev.n);
                Err::<(), _>("not yet")
            })
            .scoped();
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(
                bridge
                    .publish::<CutShort>("web", &CutShort { n })
                    .await
                    .unwrap()
                    .entry_id,
            );
        }
        let mut consumer =
            Consumer::new(&bridge, options("workers", "c1", 200)).signal(&CutShort::named());
        while seen.lock().unwrap().len() < 3 {
            consumer.read_once().await.unwrap();
        }
        // What `Bridge::trim` never does: MAXLEN drops entries still pending.
        let mut conn = raw(&server.url()).await;
        let _: u64 = redis::cmd("XTRIM")
            .arg(&stream)
            .arg("MAXLEN")
            .arg(0)
            .query_async(&mut conn)
            .await
            .unwrap();
        // Past the claim idle time (200 ms), the reclaim finds them gone.
        consume_for(&mut consumer, Duration::from_millis(600)).await;
        let errors = consumer.take_errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        match &errors[0] {
            BridgeError::Gap {
                stream: s,
                group,
                count,
                ids: listed,
            } => {
                assert_eq!((s, group.as_str(), *count), (&stream, "workers", 3));
                assert_eq!(*listed, ids.join(", "));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(consumer.stats().lost, 3);
        // Not handled again (they are gone), not pending any more.
        assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn a_process_skips_its_own_forwarded_events_and_does_not_loop() {
    if !available("a_process_skips_its_own_forwarded_events_and_does_not_loop") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}own_events");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let _forwarding = forwarder.forward::<OwnEvents>();
        // (n, sent again by a consumer)
        let seen = Arc::new(Mutex::new(Vec::<(u32, bool)>::new()));
        let record = seen.clone();
        let _receiver = OwnEvents::signal()
            .connect(move |_: &str, ev: &OwnEvents| {
                record
                    .lock()
                    .unwrap()
                    .push((ev.n, current_delivery().is_some()));
            })
            .scoped();
        for n in 0..3 {
            assert!(OwnEvents { n }.send("web").is_ok());
        }
        forwarder.flush().await;
        assert_eq!(forwarder.stats().written, 3);
        // Another process (another origin) publishes one.
        let mut other = BridgeConfig::new(server.url());
        other.origin = "worker-host:4242:abcdef01".into();
        let other = Bridge::connect(other).await.unwrap();
        other
            .publish::<OwnEvents>("cli", &OwnEvents { n: 9 })
            .await
            .unwrap();

        // include_own: false, the default.
        let mut options = options("workers", "c1", 300);
        options.include_own = false;
        let mut consumer = Consumer::new(&bridge, options).signal(&OwnEvents::named());
        consume_until(&mut consumer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= 4
        })
        .await;
        consume_for(&mut consumer, Duration::from_millis(400)).await;
        forwarder.flush().await;

        // The three local sends ran once, locally; the other process's event once, sent again
        // here; nothing the consumer sent was forwarded.
        assert_eq!(
            *seen.lock().unwrap(),
            [(0, false), (1, false), (2, false), (9, true)]
        );
        assert_eq!(forwarder.stats().written, 3);
        let stats = consumer.stats();
        assert_eq!((stats.skipped_own, stats.sent, stats.acked), (3, 1, 4));
        let mut conn = raw(&server.url()).await;
        assert_eq!(entries(&mut conn, &stream).await.len(), 4);
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}
