//! Consumers: read a group's entries, send each again in this process, acknowledge it once the
//! local send ran without a failure; reclaim what others abandoned; dead-letter what cannot be
//! handled.
//!
//! - Each consumer group receives every event; within a group each entry goes to one
//!   consumer at a time: at least once, exactly once when no consumer fails.
//! - An entry is acknowledged only after the local send ran with no failure, at the end of
//!   its batch (one `XACK` per stream per batch): a consumer killed in the middle of a batch
//!   hands every entry of it, handled or not, to another. A failed or
//!   abandoned entry stays pending; after [`ConsumerOptions::claim_idle`] another consumer
//!   (or this one) claims it with `XAUTOCLAIM`, which counts a delivery. Redis counts the
//!   deliveries, not the worker: an entry delivered more than
//!   [`ConsumerOptions::max_deliveries`] times goes to the dead letters, with the reason, in
//!   one `MULTI` (`XADD` to the dead letters, `XACK`).
//! - Dead letters at once, without a send: an entry that does not decode, whose names break
//!   the name rules, whose kwargs do not decode into the linked struct, or whose schema is
//!   newer than this process's. A valid name that nothing here declares is sent by name.
//! - A batch that takes longer than the claim idle time keeps its entries: a heartbeat
//!   (`XCLAIM ... JUSTID`, which counts no delivery) resets their idle time while the consumer
//!   works through them.
//! - Receivers read the event id and the delivery count with [`current_delivery`]. A send made
//!   by a consumer is never forwarded again (no loops), and by default a consumer skips (and
//!   acknowledges) the events its own process forwarded, whose local receivers ran at the
//!   original send.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamPendingCountReply;
use redis::Value;
use signals_core::{FailureKind, NamedSignal, Namespace};

use crate::bridge::Bridge;
use crate::entry::Entry;
use crate::error::BridgeError;
use crate::reply::{autoclaim_reply, read_reply, RawEntry};
use crate::wire::{self, Resend};

/// The heartbeat, in one step on the server: for each id (`ARGV[3..]`) still pending for this
/// consumer (`ARGV[2]`) in the group (`ARGV[1]`), `XCLAIM ... JUSTID` with no minimum idle
/// time, which resets its idle time and counts no delivery. An entry another consumer claimed
/// is not taken back. Returns how many were renewed.
const RENEW_OWN: &str = r"
local renewed = 0
for i = 3, #ARGV do
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
    if pending[1] and pending[1][2] == ARGV[2] then
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
        renewed = renewed + 1
    end
end
return renewed
";

/// A send's failures, one after the other, for a log line or a dead letter's reason.
fn failures_text(report: &signals_core::SendReport) -> String {
    report
        .failures()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The longest reason a dead letter keeps, in characters.
const MAX_REASON: usize = 500;

/// How a consumer reads.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsumerOptions {
    /// The consumer group: each group receives every event.
    pub group: String,
    /// This consumer's name in its group (default: the bridge's origin).
    pub consumer: String,
    /// Entries read at a time (default 64).
    pub batch: usize,
    /// How long a read waits for new entries (default 1 s); also how long a shutdown may wait.
    pub block: Duration,
    /// How long an entry stays pending before it is claimed again (default 30 s). Longer than
    /// the slowest handler, or the heartbeat keeps it.
    pub claim_idle: Duration,
    /// How often pending entries are reclaimed (default 5 s).
    pub reclaim_every: Duration,
    /// Deliveries, counted by Redis, before an entry goes to the dead letters (default 5).
    pub max_deliveries: usize,
    /// Whether to send again the events this process forwarded itself (default false: they
    /// are acknowledged and skipped, their receivers ran at the original send).
    pub include_own: bool,
}

impl ConsumerOptions {
    /// The defaults, in `group`.
    pub fn new(group: impl Into<String>) -> Self {
        ConsumerOptions {
            group: group.into(),
            consumer: String::new(),
            batch: 64,
            block: Duration::from_secs(1),
            claim_idle: Duration::from_secs(30),
            reclaim_every: Duration::from_secs(5),
            max_deliveries: 5,
            include_own: false,
        }
    }
}

/// What a consumer did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsumerStats {
    /// Local sends run (each delivery counts; an entry refused before any receiver ran does
    /// not).
    pub sent: u64,
    /// Entries acknowledged after a send with no failure.
    pub acked: u64,
    /// Sends with a failure (the entry stays pending).
    pub failed: u64,
    /// Entries moved to the dead letters.
    pub dead_lettered: u64,
    /// Own events skipped (and acknowledged).
    pub skipped_own: u64,
    /// Entries reclaimed from the pending list.
    pub reclaimed: u64,
    /// Groups created again after Redis lost them.
    pub groups_recreated: u64,
    /// Pending entries found deleted (a gap).
    pub lost: u64,
}

/// The event a consumer is sending again, for its receivers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The event's id, the same in every process: drop duplicates by it.
    pub event_id: String,
    /// The entry's id in its stream.
    pub entry_id: String,
    /// The stream.
    pub stream: String,
    /// The consumer group.
    pub group: String,
    /// How many times Redis delivered the entry to this group (1 the first time).
    pub deliveries: usize,
    /// The process that forwarded it.
    pub origin: String,
    /// The signal, `namespace.name`.
    pub signal: String,
}

thread_local! {
    static CURRENT: RefCell<Option<Delivery>> = const { RefCell::new(None) };
}

/// The event being sent again by a consumer on this thread, while its receivers run (sync
/// receivers, and async ones while they are polled); `None` in any other send.
pub fn current_delivery() -> Option<Delivery> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Whether a consumer is sending `qualified` (`namespace.name`) again on this thread: its
/// forwarding receiver then forwards nothing (no loops). Other signals sent by the receivers
/// are forwarded as usual.
pub(crate) fn is_resending(qualified: &str) -> bool {
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .is_some_and(|delivery| delivery.signal == qualified)
    })
}

/// Polls `inner` with [`current_delivery`] set.
struct WithDelivery<F> {
    delivery: Delivery,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for WithDelivery<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let delivery = self.delivery.clone();
        let previous = CURRENT.with(|current| current.replace(Some(delivery)));
        let result = self.inner.as_mut().poll(cx);
        CURRENT.with(|current| *current.borrow_mut() = previous);
        result
    }
}

/// Reads one group's entries of chosen streams and sends them again here.
pub struct Consumer {
    bridge: Bridge,
    options: ConsumerOptions,
    signals: Vec<String>,
    namespaces: Vec<String>,
    streams: Vec<String>,
    reader: Option<ConnectionManager>,
    stats: ConsumerStats,
    errors: Vec<BridgeError>,
    last_failure: HashMap<String, String>,
    /// The signals of the entries seen, by `namespace.name`.
    signals_by_name: HashMap<(String, String), NamedSignal>,
    /// Entries handled without failure, per stream, acknowledged at the end of the batch.
    to_ack: HashMap<String, Vec<String>>,
    /// The entries in hand (read, not yet finished), which the heartbeat keeps claimed.
    in_hand: Arc<Mutex<Vec<(String, String)>>>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Consumer {
    fn drop(&mut self) {
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.abort();
        }
    }
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("group", &self.options.group)
            .field("consumer", &self.options.consumer)
            .field("streams", &self.streams)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer of nothing yet: add signals with [`signal`](Self::signal) or
    /// [`namespace`](Self::namespace).
    pub fn new(bridge: &Bridge, mut options: ConsumerOptions) -> Consumer {
        if options.consumer.is_empty() {
            options.consumer = bridge.config.origin.clone();
        }
        // Values that would stop the consumer (COUNT 0, a heartbeat that never sleeps).
        options.batch = options.batch.max(1);
        options.claim_idle = options.claim_idle.max(Duration::from_millis(30));
        options.max_deliveries = options.max_deliveries.max(1);
        Consumer {
            bridge: bridge.clone(),
            options,
            signals: Vec::new(),
            namespaces: Vec::new(),
            streams: Vec::new(),
            reader: None,
            stats: ConsumerStats::default(),
            errors: Vec::new(),
            last_failure: HashMap::new(),
            signals_by_name: HashMap::new(),
            to_ack: HashMap::new(),
            in_hand: Arc::default(),
            heartbeat: None,
        }
    }

    /// Consumes `signal`'s stream.
    pub fn signal(mut self, signal: &NamedSignal) -> Self {
        self.signals.push(
            self.bridge
                .config
                .stream_key(signal.namespace(), signal.name()),
        );
        self
    }

    /// Consumes every stream of `namespace` found in Redis (looked for again at each
    /// reclaim, so streams made later are picked up).
    pub fn namespace(mut self, namespace: &Namespace) -> Self {
        self.namespaces.push(namespace.name().to_owned());
        self
    }

    /// What it did so far.
    pub fn stats(&self) -> ConsumerStats {
        self.stats
    }

    /// The errors met since the last call (each was logged at ERROR or WARN too): Redis
    /// unreachable, a group lost, a gap.
    pub fn take_errors(&mut self) -> Vec<BridgeError> {
        std::mem::take(&mut self.errors)
    }

    fn report(&mut self, error: BridgeError) {
        tracing::error!(group = %self.options.group, error = %error, "consumer");
        self.errors.push(error);
        if self.errors.len() > 100 {
            self.errors.remove(0);
        }
    }

    /// Runs until `shutdown` completes: reads, sends, reclaims. A shutdown is seen between
    /// batches (within [`ConsumerOptions::block`]); the batch in hand is finished and
    /// acknowledged first; entries read but not handled stay pending and are reclaimed.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> ConsumerStats {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut last_reclaim = tokio::time::Instant::now() - self.options.reclaim_every;
        loop {
            if shutdown
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_ready()
            {
                return self.stats;
            }
            if last_reclaim.elapsed() >= self.options.reclaim_every {
                last_reclaim = tokio::time::Instant::now();
                self.reclaim().await;
            }
            if let Err(error) = self.read_once().await {
                self.report(error);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Finds the streams, creating the group on each new one (from the stream's start, so a
    /// new group receives the backlog).
    async fn discover(&mut self) -> Result<(), BridgeError> {
        let mut wanted = self.signals.clone();
        let mut conn = self.bridge.conn.clone();
        for namespace in &self.namespaces {
            let pattern = format!("{}{namespace}.*", self.bridge.config.key_prefix);
            let mut cursor = 0u64;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("TYPE")
                    .arg("stream")
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await?;
                wanted.extend(keys);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        wanted.sort();
        wanted.dedup();
        for stream in wanted {
            if !self.streams.contains(&stream) {
                self.create_group(&stream).await?;
                self.streams.push(stream);
            }
        }
        Ok(())
    }

    async fn create_group(&mut self, stream: &str) -> Result<bool, BridgeError> {
        let mut conn = self.bridge.conn.clone();
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(&self.options.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Ok(()) => Ok(true),
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    async fn reader(&mut self) -> Result<ConnectionManager, BridgeError> {
        if let Some(reader) = &self.reader {
            return Ok(reader.clone());
        }
        // A connection of its own, with a response timeout above the block time: redis-rs's
        // default (500 ms) would cut every blocking read.
        let timeout = self.options.block + self.bridge.config.response_timeout;
        let reader = ConnectionManager::new_with_config(
            self.bridge.client.clone(),
            ConnectionManagerConfig::new()
                .set_response_timeout(Some(timeout))
                .set_connection_timeout(Some(self.bridge.config.response_timeout))
                .set_number_of_retries(2),
        )
        .await?;
        self.reader = Some(reader.clone());
        Ok(reader)
    }

    /// One blocking read of new entries (`>`) and their handling. Returns how many entries
    /// were read.
    pub async fn read_once(&mut self) -> Result<usize, BridgeError> {
        if self.streams.is_empty() {
            self.discover().await?;
            if self.streams.is_empty() {
                tokio::time::sleep(self.options.block).await;
                return Ok(0);
            }
        }
        let mut reader = self.reader().await?;
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(&self.options.group)
            .arg(&self.options.consumer)
            .arg("COUNT")
            .arg(self.options.batch)
            .arg("BLOCK")
            .arg(u64::try_from(self.options.block.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(&self.streams);
        for _ in &self.streams {
            read.arg(">");
        }
        let reply: Result<Value, redis::RedisError> = read.query_async(&mut reader).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) if error.code() == Some("NOGROUP") => {
                self.recreate_groups(&error.to_string()).await?;
                return Ok(0);
            }
            Err(error) => return Err(error.into()),
        };
        let streams = read_reply(&reply);
        self.take_in_hand(streams.iter().flat_map(|(stream, entries)| {
            entries.iter().map(move |e| (stream.clone(), e.id.clone()))
        }));
        let mut count = 0;
        for (stream, entries) in streams {
            for raw in entries {
                count += 1;
                self.handle(&stream, &raw, 1).await;
            }
        }
        self.flush_acks().await?;
        Ok(count)
    }

    /// Notes the entries just read as in hand, for the heartbeat, which starts with the first
    /// batch.
    fn take_in_hand(&mut self, entries: impl Iterator<Item = (String, String)>) {
        if let Ok(mut in_hand) = self.in_hand.lock() {
            in_hand.clear();
            in_hand.extend(entries);
        }
        if self.heartbeat.is_none() {
            self.heartbeat = Some(self.start_heartbeat());
        }
    }

    /// Acknowledges the entries handled without failure: one `XACK` per stream, all in one
    /// pipeline, at the end of each batch.
    async fn flush_acks(&mut self) -> Result<(), BridgeError> {
        if let Ok(mut in_hand) = self.in_hand.lock() {
            in_hand.clear();
        }
        if self.to_ack.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        let mut count = 0;
        for (stream, ids) in &self.to_ack {
            pipe.cmd("XACK")
                .arg(stream)
                .arg(&self.options.group)
                .arg(ids);
            count += ids.len() as u64;
        }
        let mut conn = self.bridge.conn.clone();
        let acked: Result<Vec<u64>, redis::RedisError> = pipe.query_async(&mut conn).await;
        // On an error the entries stay pending and are claimed again later: at least once.
        self.to_ack.clear();
        let acked: u64 = acked?.iter().sum();
        self.stats.acked += acked;
        if acked < count {
            tracing::warn!(
                group = %self.options.group,
                asked = count,
                acked,
                "fewer entries acknowledged than handled: the group or its entries are gone"
            );
        }
        Ok(())
    }

    /// Redis lost the groups (a restart without persistence): create them again and say so.
    async fn recreate_groups(&mut self, why: &str) -> Result<(), BridgeError> {
        for stream in self.streams.clone() {
            if self.create_group(&stream).await? {
                self.stats.groups_recreated += 1;
                self.report(BridgeError::GroupLost {
                    stream,
                    group: self.options.group.clone(),
                    why: why.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Claims the entries pending longer than the claim idle time, dead-letters those
    /// delivered too often, handles the others; reports entries deleted while pending.
    pub async fn reclaim(&mut self) {
        if let Err(error) = self.discover().await {
            self.report(error);
            return;
        }
        for stream in self.streams.clone() {
            if let Err(error) = self.reclaim_stream(&stream).await {
                if let BridgeError::Redis(text) = &error {
                    if text.contains("NOGROUP") {
                        let _ = self.recreate_groups(text).await;
                        continue;
                    }
                }
                self.report(error);
            }
        }
    }

    async fn reclaim_stream(&mut self, stream: &str) -> Result<(), BridgeError> {
        let mut cursor = "0-0".to_owned();
        let idle = u64::try_from(self.options.claim_idle.as_millis()).unwrap_or(u64::MAX);
        // A bounded number of rounds per reclaim, so reading new entries is not starved.
        for _ in 0..16 {
            let mut conn = self.bridge.conn.clone();
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(stream)
                .arg(&self.options.group)
                .arg(&self.options.consumer)
                .arg(idle)
                .arg(&cursor)
                .arg("COUNT")
                .arg(self.options.batch)
                .query_async(&mut conn)
                .await?;
            let (next, claimed, deleted) = autoclaim_reply(&reply);
            if !deleted.is_empty() {
                self.stats.lost += deleted.len() as u64;
                let error = BridgeError::Gap {
                    stream: stream.to_owned(),
                    group: self.options.group.clone(),
                    count: deleted.len(),
                    ids: deleted.join(", "),
                };
                self.report(error);
            }
            self.take_in_hand(
                claimed
                    .iter()
                    .map(|raw| (stream.to_owned(), raw.id.clone())),
            );
            for raw in &claimed {
                self.stats.reclaimed += 1;
                let deliveries = self.deliveries(stream, &raw.id).await?;
                if deliveries > self.options.max_deliveries {
                    let last = self
                        .last_failure
                        .remove(&raw.id)
                        .map_or(String::new(), |why| {
                            format!("; the last failure here: {why}")
                        });
                    let times = match deliveries - 1 {
                        1 => "once".to_owned(),
                        n => format!("{n} times"),
                    };
                    let reason = format!(
                        "delivered {times} without success (max_deliveries {}){last}",
                        self.options.max_deliveries
                    );
                    self.dead_letter(stream, raw, deliveries - 1, &reason)
                        .await?;
                } else {
                    self.handle(stream, raw, deliveries).await;
                }
            }
            self.flush_acks().await?;
            if next == "0-0" {
                break;
            }
            cursor = next;
        }
        Ok(())
    }

    /// How many times Redis delivered `entry_id` to the group.
    async fn deliveries(&self, stream: &str, entry_id: &str) -> Result<usize, BridgeError> {
        let mut conn = self.bridge.conn.clone();
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(stream)
            .arg(&self.options.group)
            .arg(entry_id)
            .arg(entry_id)
            .arg(1)
            .query_async(&mut conn)
            .await?;
        Ok(reply.ids.first().map_or(1, |p| p.times_delivered))
    }

    /// Handles one delivery of one entry: decode, check, send, acknowledge or leave pending
    /// or dead-letter. Failures to reach Redis here are reported, not returned: the entry
    /// stays pending and is reclaimed.
    async fn handle(&mut self, stream: &str, raw: &RawEntry, deliveries: usize) {
        if let Err(error) = self.try_handle(stream, raw, deliveries).await {
            self.report(error);
        }
    }

    async fn try_handle(
        &mut self,
        stream: &str,
        raw: &RawEntry,
        deliveries: usize,
    ) -> Result<(), BridgeError> {
        let entry_id = raw.id.as_str();
        let entry = match Entry::decode(raw, self.bridge.config.max_entry_bytes) {
            Ok(entry) => entry,
            Err(why) => {
                let reason = format!("the entry cannot be read: {why}");
                return self.dead_letter(stream, raw, deliveries, &reason).await;
            }
        };
        // An entry names its signal; it must be the signal of the stream it was read from
        // (anyone who can XADD could otherwise run another signal's receivers here).
        let expected = self.bridge.config.stream_key(&entry.namespace, &entry.name);
        if expected != stream {
            let reason = format!(
                "the entry names {} but was read from {stream}, not that signal's stream",
                entry.qualified_name()
            );
            return self.dead_letter(stream, raw, deliveries, &reason).await;
        }
        if entry.origin == self.bridge.config.origin && !self.options.include_own {
            self.stats.skipped_own += 1;
            return self.ack(stream, entry_id).await;
        }
        let signal = match self.signal_named(&entry.namespace, &entry.name) {
            Ok(signal) => signal,
            Err(error) => {
                let reason = format!("the signal cannot be named here: {error}");
                return self.dead_letter(stream, raw, deliveries, &reason).await;
            }
        };
        if let Some(local) = wire::local_schema(&signal) {
            if entry.schema > local {
                let reason = format!(
                    "schema version {} is newer than this consumer's ({local}); upgrade the \
                     consumer, then replay the dead letter",
                    entry.schema
                );
                return self.dead_letter(stream, raw, deliveries, &reason).await;
            }
        }
        let delivery = Delivery {
            event_id: entry.id.clone(),
            entry_id: entry_id.to_owned(),
            stream: stream.to_owned(),
            group: self.options.group.clone(),
            deliveries,
            origin: entry.origin.clone(),
            signal: entry.qualified_name(),
        };
        let sent = WithDelivery {
            delivery,
            inner: Box::pin(wire::resend(signal, entry.sender, entry.kwargs)),
        }
        .await;
        if matches!(sent, Resend::Sent(_)) {
            self.stats.sent += 1;
        }
        match sent {
            Resend::Sent(report) if report.failures().is_empty() => {
                self.last_failure.remove(entry_id);
                self.ack(stream, entry_id).await
            }
            Resend::Sent(report)
                if report.failures().iter().all(|f| {
                    matches!(
                        f.kind,
                        FailureKind::TypedReceiver
                            | FailureKind::WrongValue { .. }
                            | FailureKind::AsyncReceiver
                            | FailureKind::Kwarg(_)
                    )
                }) =>
            {
                // No delivery can fix these: the linked types do not fit the event.
                let why = failures_text(&report);
                let reason = format!("the event cannot be handled here: {why}");
                self.dead_letter(stream, raw, deliveries, &reason).await
            }
            Resend::Sent(report) => {
                self.stats.failed += 1;
                let why = failures_text(&report);
                tracing::warn!(
                    stream = %stream,
                    entry_id = %entry_id,
                    event_id = %entry.id,
                    deliveries,
                    failures = %why,
                    "the local send failed; the entry stays pending and will be claimed again"
                );
                self.last_failure.insert(entry_id.to_owned(), why);
                Ok(())
            }
            Resend::Refused(why) => {
                let reason = format!("the event cannot be sent here: {why}");
                self.dead_letter(stream, raw, deliveries, &reason).await
            }
        }
    }

    /// The signal `namespace.name`, found once per name.
    fn signal_named(
        &mut self,
        namespace: &str,
        name: &str,
    ) -> Result<NamedSignal, signals_core::Error> {
        let key = (namespace.to_owned(), name.to_owned());
        if let Some(signal) = self.signals_by_name.get(&key) {
            return Ok(*signal);
        }
        let signal = Namespace::get(namespace)?.signal(name)?;
        if self.signals_by_name.len() < 10_000 {
            self.signals_by_name.insert(key, signal);
        }
        Ok(signal)
    }

    /// Keeps the entries in hand from being claimed by others while this consumer works
    /// through its batch: every third of the claim idle time, `XCLAIM ... JUSTID` resets the
    /// idle time of each one this consumer still owns, without counting a delivery
    /// ([`RENEW_OWN`]: an entry another consumer has claimed meanwhile is left to it).
    fn start_heartbeat(&self) -> tokio::task::JoinHandle<()> {
        let mut conn = self.bridge.conn.clone();
        let in_hand = Arc::clone(&self.in_hand);
        let (group, consumer) = (self.options.group.clone(), self.options.consumer.clone());
        let every = self.options.claim_idle / 3;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let entries = in_hand.lock().map(|e| e.clone()).unwrap_or_default();
                let mut by_stream: HashMap<&str, Vec<&str>> = HashMap::new();
                for (stream, id) in &entries {
                    by_stream.entry(stream).or_default().push(id);
                }
                for (stream, ids) in by_stream {
                    let beat: Result<Value, redis::RedisError> = redis::cmd("EVAL")
                        .arg(RENEW_OWN)
                        .arg(1)
                        .arg(stream)
                        .arg(&group)
                        .arg(&consumer)
                        .arg(&ids)
                        .query_async(&mut conn)
                        .await;
                    if let Err(error) = beat {
                        let error = BridgeError::from(error);
                        tracing::warn!(stream = %stream, error = %error, "heartbeat failed");
                    }
                }
            }
        })
    }

    /// Queues `entry_id` for the batch's acknowledgement.
    async fn ack(&mut self, stream: &str, entry_id: &str) -> Result<(), BridgeError> {
        self.to_ack
            .entry(stream.to_owned())
            .or_default()
            .push(entry_id.to_owned());
        Ok(())
    }

    /// Moves an entry to the dead letters with the reason, in one `MULTI`: `XADD` there (its
    /// fields as they were, and `dead.*` fields saying where from and why; an entry's own
    /// fields named `dead.*` are left out, so that no entry can forge them), `XACK` here.
    async fn dead_letter(
        &mut self,
        stream: &str,
        raw: &RawEntry,
        deliveries: usize,
        reason: &str,
    ) -> Result<(), BridgeError> {
        let entry_id = raw.id.as_str();
        // Reasons may quote the entry (a decoder's message): bounded, the entry is untrusted.
        let reason: String = if reason.chars().count() > MAX_REASON {
            let cut: String = reason.chars().take(MAX_REASON).collect();
            format!("{cut}... (cut)")
        } else {
            reason.to_owned()
        };
        let reason = reason.as_str();
        let mut add = redis::cmd("XADD");
        add.arg(self.bridge.config.dead_letter_key())
            .arg("*")
            .arg("dead.stream")
            .arg(stream)
            .arg("dead.entry")
            .arg(entry_id)
            .arg("dead.group")
            .arg(&self.options.group)
            .arg("dead.deliveries")
            .arg(deliveries)
            .arg("dead.reason")
            .arg(reason);
        raw.add_own_fields(&mut add);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .add_command(add)
            .cmd("XACK")
            .arg(stream)
            .arg(&self.options.group)
            .arg(entry_id);
        let mut conn = self.bridge.conn.clone();
        let _: (String, u64) = pipe.query_async(&mut conn).await?;
        self.stats.dead_lettered += 1;
        tracing::warn!(stream = %stream, entry_id = %entry_id, reason = %reason, "dead-lettered");
        Ok(())
    }
}
