//! The bridge against a real Redis: publish and consume, typed and by name, forwarding with
//! its buffer and its hold, groups, dead letters, trimming, and the URL's secrecy.

mod helpers;
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use signals_core::prelude::*;
use signals_core::{Kwargs, Namespace, SenderKey};
use signals_redis::{
    current_delivery, hold, Bridge, BridgeConfig, Consumer, ConsumerOptions, Forwarder,
};
use support::{available, runtime, RedisServer};

#[signal(namespace = "bridge_test")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub id: u32,
    pub title: String,
}

type Seen = Arc<Mutex<Vec<String>>>;

fn options(group: &str) -> ConsumerOptions {
    let mut options = ConsumerOptions::new(group);
    options.block = Duration::from_millis(100);
    options.claim_idle = Duration::from_millis(200);
    options.reclaim_every = Duration::from_millis(50);
    options.include_own = true;
    options
}

/// Reads and reclaims until `done` says so or 10 s pass.
async fn consume_until(consumer: &mut Consumer, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() && tokio::time::Instant::now() < deadline {
        consumer.read_once().await.expect("a read");
        consumer.reclaim().await;
    }
}

#[test]
fn a_published_event_is_sent_again_typed_with_its_sender_and_delivery() {
    if !available("a_published_event_is_sent_again_typed") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let _receiver = Saved::signal()
            .connect(move |sender: &str, ev: &Saved| {
                let delivery = current_delivery().expect("a consumer's send");
                log.lock().unwrap().push(format!(
                    "{sender} {} {} deliveries={} event_id_len={}",
                    ev.id,
                    ev.title,
                    delivery.deliveries,
                    delivery.event_id.len()
                ));
            })
            .scoped();
        let published = bridge
            .publish::<Saved>(
                "web",
                &Saved {
                    id: 1,
                    title: "camels".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(published.stream, "ckan:default:signals:bridge_test.saved");
        let mut consumer = Consumer::new(&bridge, options("g1")).signal(&Saved::named());
        consume_until(&mut consumer, || !seen.lock().unwrap().is_empty()).await;
        assert_eq!(
            *seen.lock().unwrap(),
            ["web 1 camels deliveries=1 event_id_len=36"]
        );
        let stats = consumer.stats();
        assert_eq!((stats.sent, stats.acked, stats.failed), (1, 1, 0));
        let groups = bridge.groups(&Saved::named()).await.unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].name.as_str(), groups[0].pending), ("g1", 0));
    });
}

#[test]
fn forwarded_sends_cross_and_are_not_forwarded_again() {
    if !available("forwarded_sends_cross_and_are_not_forwarded_again") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let named = Namespace::get("bridge_test")
            .unwrap()
            .signal("forwarded")
            .unwrap();
        let _forwarding = forwarder.forward_named(&named);
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let _receiver = named
            .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
                let n = kwargs.read::<i64>("n").map(|n| *n);
                let remote = current_delivery().is_some();
                log.lock()
                    .unwrap()
                    .push(format!("{sender} n={n:?} remote={remote}"));
            })
            .scoped();
        // A receiver of one kwarg: an `i64` here, a JSON number decoded into one in the
        // consumer's sends.
        let log = seen.clone();
        let _kwarg = named
            .connect(Receiver::kwarg("n", move |_: &SenderKey<'_>, n: &i64| {
                let remote = current_delivery().is_some();
                log.lock()
                    .unwrap()
                    .push(format!("kwarg n={n} remote={remote}"));
            }))
            .scoped();
        for n in 0..3i64 {
            let report = named
                .send(&"web", &signals_core::DynKwargs::new().with("n", n))
                .unwrap();
            assert!(report.is_ok(), "{report:?}");
        }
        forwarder.flush().await;
        assert_eq!(forwarder.stats().written, 3);
        let mut consumer = Consumer::new(&bridge, options("g1")).signal(&named);
        consume_until(&mut consumer, || seen.lock().unwrap().len() >= 12).await;
        forwarder.flush().await;
        // Three local sends, then the same three sent again by the consumer; nothing more was
        // written (the consumer's sends are not forwarded).
        assert_eq!(forwarder.stats().written, 3);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                "\"web\" n=Ok(0) remote=false",
                "kwarg n=0 remote=false",
                "\"web\" n=Ok(1) remote=false",
                "kwarg n=1 remote=false",
                "\"web\" n=Ok(2) remote=false",
                "kwarg n=2 remote=false",
                "\"web\" n=Ok(0) remote=true",
                "kwarg n=0 remote=true",
                "\"web\" n=Ok(1) remote=true",
                "kwarg n=1 remote=true",
                "\"web\" n=Ok(2) remote=true",
                "kwarg n=2 remote=true",
            ]
        );
    });
}

#[test]
fn a_held_send_is_forwarded_after_release_and_never_after_a_rollback() {
    if !available("a_held_send_is_forwarded_after_release") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let named = Namespace::get("bridge_test")
            .unwrap()
            .signal("held")
            .unwrap();
        let _forwarding = forwarder.forward_named(&named);
        let bag = |n: i64| signals_core::DynKwargs::new().with("n", n);
        {
            let held = hold();
            let _ = named.send(&"web", &bag(1)).unwrap();
            drop(held); // rolled back
        }
        {
            let held = hold();
            let _ = named.send(&"web", &bag(2)).unwrap();
            assert_eq!(held.release().unwrap(), 1);
        }
        forwarder.flush().await;
        assert_eq!(forwarder.stats().written, 1);
        let mut conn = helpers::raw(&server.url()).await;
        let kwargs =
            helpers::kwargs_written(&mut conn, "ckan:default:signals:bridge_test.held").await;
        assert_eq!(kwargs, ["{\"n\":2}"]);
    });
}

#[test]
fn credentials_never_appear_in_errors() {
    if !available("credentials_never_appear_in_errors") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        // A TCP URL with a password, to a port nothing listens on.
        let mut config = BridgeConfig::new("redis://user:s3cret-pw@127.0.0.1:1/0");
        config.response_timeout = Duration::from_millis(300);
        let error = Bridge::connect(config.clone()).await.unwrap_err();
        let text = format!("{error} {error:?} {config:?}");
        assert!(!text.contains("s3cret-pw"), "{text}");
        assert!(format!("{:?}", config.url).contains("***@127.0.0.1:1"));
        // A password in the query, as redis-rs reads it on a Unix socket URL: hidden too, in
        // the URL and in the error of a server that refuses it.
        let mut unix = BridgeConfig::new(format!("{}?pass=s3cret-pw", server.url()));
        unix.response_timeout = Duration::from_millis(300);
        assert_eq!(unix.url.to_string(), format!("{}?pass=***", server.url()));
        let shown = match Bridge::connect(unix.clone()).await {
            Ok(_) => format!("{unix:?}"),
            Err(error) => format!("{error} {error:?} {unix:?}"),
        };
        assert!(!shown.contains("s3cret-pw"), "{shown}");
    });
}

#[test]
fn an_error_is_what_a_full_buffer_gives_a_send() {
    if !available("an_error_is_what_a_full_buffer_gives") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let mut config = BridgeConfig::new(server.url());
        config.buffer = 2;
        config.response_timeout = Duration::from_millis(200);
        let bridge = Bridge::connect(config).await.unwrap();
        let forwarder = Forwarder::new(&bridge);
        let named = Namespace::get("bridge_test")
            .unwrap()
            .signal("full")
            .unwrap();
        let _forwarding = forwarder.forward_named(&named);
        server.freeze();
        let mut failures = Vec::new();
        for n in 0..20i64 {
            let report = named
                .send(&"web", &signals_core::DynKwargs::new().with("n", n))
                .unwrap();
            failures.extend(report.failures().iter().map(ToString::to_string));
        }
        server.thaw();
        assert!(
            !failures.is_empty(),
            "a frozen Redis and a buffer of 2 must refuse some"
        );
        assert!(
            failures[0].contains("the forwarding buffer is full (2 events waiting for Redis)"),
            "{}",
            failures[0]
        );
    });
}

#[test]
fn an_entry_over_the_size_cap_is_refused_at_the_producer() {
    if !available("an_entry_over_the_size_cap_is_refused_at_the_producer") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let mut config = BridgeConfig::new(server.url());
        config.max_entry_bytes = 1024;
        let bridge = Bridge::connect(config).await.unwrap();
        let big = Saved {
            id: 1,
            title: "x".repeat(2000),
        };
        let error = bridge.publish::<Saved>("web", &big).await.unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("cannot forward bridge_test.saved: the entry is ")
                && text.contains(" bytes, over the cap of 1024 bytes; send less in the kwargs"),
            "{text}"
        );
        // Through a forwarding receiver: a failure in the send's report, nothing written.
        let forwarder = Forwarder::new(&bridge);
        let _forwarding = forwarder.forward::<Saved>();
        let report = big.send("web");
        assert_eq!(report.failures().len(), 1);
        assert!(
            report.failures()[0]
                .to_string()
                .contains("over the cap of 1024 bytes"),
            "{}",
            report.failures()[0]
        );
        forwarder.flush().await;
        assert_eq!(forwarder.stats().written, 0);
    });
}

#[test]
fn an_identity_sender_is_refused_where_it_is_forwarded() {
    if !available("an_identity_sender_is_refused_where_it_is_forwarded") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let forwarder = Forwarder::new(&bridge);
        let named = Namespace::get("bridge_test")
            .unwrap()
            .signal("by_identity")
            .unwrap();
        let _forwarding = forwarder.forward_named(&named);
        let report = named
            .send(&SenderKey::Id(7), &signals_core::DynKwargs::new())
            .unwrap();
        assert_eq!(report.failures().len(), 1);
        let text = report.failures()[0].to_string();
        assert!(
            text.contains("cannot forward bridge_test.by_identity:"),
            "{text}"
        );
        forwarder.flush().await;
        assert_eq!(forwarder.stats().written, 0);
    });
}
