//! What the failure tests share: fast consumer options, a read-and-reclaim loop, raw access
//! to Redis (entries written by hand, the pending list), and a capture of log lines.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use signals_redis::{BridgeError, Consumer, ConsumerOptions};

/// Options for a test: reads block 100 ms, entries are claimed after `claim_idle_ms`,
/// reclaimed every 50 ms; the test's own events are handled (the tests publish and consume in
/// one process).
pub fn options(group: &str, consumer: &str, claim_idle_ms: u64) -> ConsumerOptions {
    let mut options = ConsumerOptions::new(group);
    options.consumer = consumer.to_owned();
    options.block = Duration::from_millis(100);
    options.claim_idle = Duration::from_millis(claim_idle_ms);
    options.reclaim_every = Duration::from_millis(50);
    options.include_own = true;
    options
}

/// Reads and reclaims until `done` says so, or panics after `limit`. Errors of `read_once`
/// are returned (in order), not fatal: the tests that break Redis look at them.
pub async fn consume_until(
    consumer: &mut Consumer,
    limit: Duration,
    done: impl Fn() -> bool,
) -> Vec<BridgeError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut errors = Vec::new();
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not done within {limit:?}: {consumer:?}"
        );
        if let Err(error) = consumer.read_once().await {
            errors.push(error);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        consumer.reclaim().await;
    }
    errors
}

/// Reads and reclaims for `time` more (to show that nothing else comes).
pub async fn consume_for(consumer: &mut Consumer, time: Duration) {
    let deadline = tokio::time::Instant::now() + time;
    while tokio::time::Instant::now() < deadline {
        consumer.read_once().await.expect("a read");
        consumer.reclaim().await;
    }
}

/// A shutdown future for `Consumer::run_until`, ready once `flag` is set.
pub fn stop_when(flag: Arc<AtomicBool>) -> impl Future<Output = ()> {
    std::future::poll_fn(move |_| {
        if flag.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// A connection of the test's own to the server at `url`.
pub async fn raw(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .expect("a client")
        .get_multiplexed_async_connection()
        .await
        .expect("a raw connection")
}

/// The fields of a well-formed entry of `ns.name` (sender `"web"`, origin `elsewhere:1:x`),
/// `changes` replacing or adding fields, as XADD takes them.
pub fn entry_fields(
    id: &str,
    ns: &str,
    name: &str,
    schema: &str,
    kwargs: &str,
    changes: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("v", "1"),
        ("id", id),
        ("ns", ns),
        ("name", name),
        ("schema", schema),
        ("sender", "\"web\""),
        ("kwargs", kwargs),
        ("time", "1700000000000"),
        ("origin", "elsewhere:1:x"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (key, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push(((*key).to_owned(), (*value).to_owned())),
        }
    }
    fields
}

/// Writes `fields` to `stream` with XADD, as a foreign or hostile producer would; returns the
/// entry id.
pub async fn xadd(
    conn: &mut MultiplexedConnection,
    stream: &str,
    fields: &[(String, String)],
) -> String {
    redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg(fields)
        .query_async(conn)
        .await
        .expect("XADD")
}

/// The group's pending entries: entry id, consumer, deliveries.
pub async fn pending(
    conn: &mut MultiplexedConnection,
    stream: &str,
    group: &str,
) -> Vec<(String, String, usize)> {
    let reply: redis::streams::StreamPendingCountReply = redis::cmd("XPENDING")
        .arg(stream)
        .arg(group)
        .arg("-")
        .arg("+")
        .arg(1000)
        .query_async(conn)
        .await
        .expect("XPENDING");
    reply
        .ids
        .into_iter()
        .map(|p| (p.id, p.consumer, p.times_delivered))
        .collect()
}

/// The stream's entries: entry id and the `id` field (the event id).
pub async fn entries(conn: &mut MultiplexedConnection, stream: &str) -> Vec<(String, String)> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(conn)
        .await
        .expect("XRANGE");
    reply
        .ids
        .into_iter()
        .map(|entry| {
            let event: String = entry.get("id").unwrap_or_default();
            (entry.id, event)
        })
        .collect()
}

/// The `kwargs` field of each entry of `stream`, oldest first: what was forwarded, as written.
pub async fn kwargs_written(conn: &mut MultiplexedConnection, stream: &str) -> Vec<String> {
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(conn)
        .await
        .expect("XRANGE");
    entries
        .into_iter()
        .flat_map(|(_, fields)| fields)
        .filter(|(name, _)| name == "kwargs")
        .map(|(_, value)| value)
        .collect()
}

/// How many times each item occurs.
pub fn counts<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item.clone()).or_insert(0) += 1;
    }
    counts
}

/// Log lines recorded by [`Capture`]: `LEVEL message field=value ...`.
pub type Lines = Arc<Mutex<Vec<String>>>;

/// A tracing subscriber that records every event as one line; install it on the test's
/// thread with `tracing::subscriber::with_default` (a consumer driven by `block_on` logs on
/// that thread).
pub struct Capture(pub Lines);

struct Line(String);

impl tracing::field::Visit for Line {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!(" {value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = Line(event.metadata().level().to_string());
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
