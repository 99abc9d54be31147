//! The forwarder's edges: a shutdown loses nothing silently, a receiver of a consumer's send
//! forwards the other signals it sends, a savepoint's hold discards only its own events, and
//! an event that typed receivers here cannot take is dead-lettered at once.

mod helpers;
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use helpers::{consume_until, entry_fields, kwargs_written, options, raw, xadd};
use signals_core::prelude::*;
use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
use signals_redis::{hold, Bridge, BridgeConfig, Consumer, Forwarder};
use support::{available, runtime, RedisServer};

const PREFIX: &str = "ckan:default:signals:";

async fn stream_len(url: &str, stream: &str) -> usize {
    let mut conn = raw(url).await;
    redis::cmd("XLEN")
        .arg(stream)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[test]
fn a_shutdown_writes_what_was_queued_and_refuses_the_rest() {
    if !available("a_shutdown_writes_what_was_queued_and_refuses_the_rest") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let named = Namespace::get("redis_forwarding")
            .unwrap()
            .signal("busy")
            .unwrap();
        let _forwarding = forwarder.forward_named(&named);
        let stop = Arc::new(AtomicBool::new(false));
        let (ok, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let sender = {
            let (stop, ok, refused) = (stop.clone(), ok.clone(), refused.clone());
            std::thread::spawn(move || {
                let mut n = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let report = named.send(&"web", &DynKwargs::new().with("n", n)).unwrap();
                    if report.is_ok() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        forwarder.shutdown().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap();
        let written = stream_len(&server.url(), &format!("{PREFIX}redis_forwarding.busy")).await;
        // Every send that reported success was written; the others were refused, in their
        // reports: none lost silently.
        assert_eq!(written, ok.load(Ordering::Relaxed));
        assert!(
            refused.load(Ordering::Relaxed) > 0,
            "sends after the shutdown are refused"
        );
    });
}

#[test]
fn a_receiver_of_a_consumers_send_forwards_the_signals_it_sends() {
    if !available("a_receiver_of_a_consumers_send_forwards_the_signals_it_sends") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let ns = Namespace::get("redis_forwarding").unwrap();
        let (created, recorded) = (
            ns.signal("created").unwrap(),
            ns.signal("recorded").unwrap(),
        );
        let forwarder = Forwarder::new(&bridge);
        let _forward_created = forwarder.forward_named(&created);
        let _forward_recorded = forwarder.forward_named(&recorded);
        // A cascade: each `created` is followed by a `recorded`, as CKAN's activity plugin does.
        let _cascade = created
            .connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
                recorded.send(&"activity", &DynKwargs::new()).map(|report| {
                    assert!(report.is_ok(), "{report:?}");
                })
            })
            .scoped();
        let mut conn = raw(&server.url()).await;
        xadd(
            &mut conn,
            &format!("{PREFIX}redis_forwarding.created"),
            &entry_fields("e1", "redis_forwarding", "created", "1", "{}", &[]),
        )
        .await;
        let mut consumer = Consumer::new(&bridge, options("g", "c", 300)).signal(&created);
        let done = Arc::new(Mutex::new(false));
        let errors = consume_until(&mut consumer, Duration::from_secs(5), || {
            consumer_acked(&done)
        })
        .await;
        assert!(errors.is_empty(), "{errors:?}");
        forwarder.flush().await;
        // `created` was not forwarded again (it came from Redis); `recorded` was.
        assert_eq!(
            stream_len(&server.url(), &format!("{PREFIX}redis_forwarding.created")).await,
            1
        );
        assert_eq!(
            stream_len(&server.url(), &format!("{PREFIX}redis_forwarding.recorded")).await,
            1
        );
    });
}

/// True from the second call on: one read-and-reclaim round is enough for one entry.
fn consumer_acked(done: &Mutex<bool>) -> bool {
    let mut done = done.lock().unwrap();
    let was = *done;
    *done = true;
    was
}

#[test]
fn an_inner_hold_dropped_discards_only_its_own_events() {
    if !available("an_inner_hold_dropped_discards_only_its_own_events") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let named = Namespace::get("redis_forwarding")
            .unwrap()
            .signal("saved")
            .unwrap();
        let _forwarding = forwarder.forward_named(&named);
        let bag = |n: i64| DynKwargs::new().with("n", n);
        {
            let outer = hold();
            let _ = named.send(&"web", &bag(1)).unwrap();
            {
                let inner = hold();
                let _ = named.send(&"web", &bag(2)).unwrap();
                drop(inner); // the savepoint rolled back
            }
            {
                let inner = hold();
                let _ = named.send(&"web", &bag(3)).unwrap();
                inner.release().unwrap();
            }
            assert_eq!(outer.release().unwrap(), 2);
        }
        forwarder.flush().await;
        let mut conn = raw(&server.url()).await;
        let kwargs = kwargs_written(&mut conn, &format!("{PREFIX}redis_forwarding.saved")).await;
        assert_eq!(kwargs, ["{\"n\":1}", "{\"n\":3}"]);
    });
}

/// Declared here, not serializable: an event from another process cannot reach its typed
/// receiver, whatever the number of deliveries.
#[signal(namespace = "redis_forwarding")]
pub struct Opaque {
    pub at: std::time::Instant,
}

#[test]
fn an_event_typed_receivers_cannot_take_is_dead_lettered_at_once() {
    if !available("an_event_typed_receivers_cannot_take_is_dead_lettered_at_once") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let _typed = Opaque::signal()
            .connect(move |_: &str, _: &Opaque| {
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .scoped();
        let stream = format!("{PREFIX}redis_forwarding.opaque");
        let mut conn = raw(&server.url()).await;
        let id = xadd(
            &mut conn,
            &stream,
            &entry_fields("e1", "redis_forwarding", "opaque", "1", "{\"at\": 1}", &[]),
        )
        .await;
        let mut options = options("g", "c", 300);
        options.max_deliveries = 3;
        let mut consumer = Consumer::new(&bridge, options).signal(&Opaque::named());
        let letters = Arc::new(Mutex::new(0usize));
        let bridge2 = bridge.clone();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while *letters.lock().unwrap() == 0 {
            assert!(tokio::time::Instant::now() < deadline, "not dead-lettered");
            consumer.read_once().await.unwrap();
            *letters.lock().unwrap() = bridge2.dead_letters().list(10).await.unwrap().len();
        }
        let letter = &bridge.dead_letters().list(10).await.unwrap()[0];
        assert_eq!(letter.entry_id, id);
        assert_eq!(
            letter.deliveries, 1,
            "at its first delivery, not after max_deliveries"
        );
        assert!(
            letter
                .reason
                .starts_with("the event cannot be handled here: "),
            "{}",
            letter.reason
        );
        assert_eq!(calls.load(Ordering::Relaxed), 0);
    });
}

#[test]
fn one_failing_write_in_a_batch_fails_that_event_only() {
    if !available("one_failing_write_in_a_batch_fails_that_event_only") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let ns = Namespace::get("redis_forwarding").unwrap();
        let (good, blocked) = (ns.signal("good").unwrap(), ns.signal("blocked").unwrap());
        // The blocked signal's key holds a string: its XADD fails with WRONGTYPE.
        let mut conn = raw(&server.url()).await;
        let _: () = redis::cmd("SET")
            .arg(format!("{PREFIX}redis_forwarding.blocked"))
            .arg("not a stream")
            .query_async(&mut conn)
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let _g = forwarder.forward_named(&good);
        let _b = forwarder.forward_named(&blocked);
        // Queued together, so that they share a pipeline.
        {
            let held = hold();
            for n in 0..5i64 {
                let _ = good.send(&"web", &DynKwargs::new().with("n", n)).unwrap();
                let _ = blocked
                    .send(&"web", &DynKwargs::new().with("n", n))
                    .unwrap();
            }
            held.release().unwrap();
        }
        forwarder.flush().await;
        let stats = forwarder.stats();
        assert_eq!((stats.written, stats.failed), (5, 5));
        // Each good event once: a failing neighbour did not make the batch be written again.
        assert_eq!(
            stream_len(&server.url(), &format!("{PREFIX}redis_forwarding.good")).await,
            5
        );
    });
}
