//! Forwarding receivers: plain sends write their events to Redis through a bounded buffer and
//! a writer task.
//!
//! A forwarding receiver encodes the event where it is sent (so a sender or kwargs that cannot
//! cross fail there, in the send's report) and queues it; the writer task writes what is
//! queued in pipelined batches. When the buffer is full the receiver fails with
//! [`BridgeError::BufferFull`]: a failure in the send's `SendReport`, never a silent drop.
//! What the writer cannot write (Redis down for longer than its retries) is logged at ERROR
//! with the event id, and counted in [`ForwardStats`].
//!
//! A send inside a database transaction can be held until the commit: see [`hold`].

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use signals_core::{
    Kwargs, NamedSignal, Namespace, Receiver, ScopedConnection, Sender, SenderKey, Signal,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::bridge::Bridge;
use crate::consume::is_resending;
use crate::entry::{Entry, Fields};
use crate::error::BridgeError;

/// What the writer task gets.
enum Job {
    Write {
        stream: String,
        event_id: String,
        signal: String,
        fields: Fields,
    },
    Flush(oneshot::Sender<()>),
    /// Write what is queued, then stop.
    Stop,
}

/// Counts of the forwarder's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForwardStats {
    /// Events written to Redis.
    pub written: u64,
    /// Events the writer could not write (each logged at ERROR).
    pub failed: u64,
}

/// What the forwarding receivers share: where to queue, and whether the forwarder is shut.
struct Shared {
    bridge: Bridge,
    queue: mpsc::Sender<Job>,
    closed: AtomicBool,
}

/// The writer's counts.
#[derive(Default)]
struct Counts {
    written: AtomicU64,
    failed: AtomicU64,
}

/// Forwards the sends of chosen signals to Redis. Dropping it (or [`shutdown`](Self::shutdown))
/// disconnects nothing by itself: drop the [`Forwarding`] guards to stop forwarding.
pub struct Forwarder {
    shared: Arc<Shared>,
    counts: Arc<Counts>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The forwarding receivers of one call: connected while this guard lives.
#[derive(Debug)]
#[must_use = "the signals are forwarded only while the guard lives"]
pub struct Forwarding {
    _connections: Vec<ScopedConnection>,
}

/// The receiver's name in listings and failures.
const RECEIVER_NAME: &str = "signals_redis::forward";

impl Forwarder {
    /// A forwarder writing through `bridge`; its writer task runs on the current tokio
    /// runtime.
    pub fn new(bridge: &Bridge) -> Forwarder {
        let (queue, jobs) = mpsc::channel(bridge.config.buffer.max(1));
        let shared = Arc::new(Shared {
            bridge: bridge.clone(),
            queue,
            closed: AtomicBool::new(false),
        });
        let counts = Arc::new(Counts::default());
        let writer = tokio::spawn(write_jobs(bridge.clone(), Arc::clone(&counts), jobs));
        Forwarder {
            shared,
            counts,
            writer: Some(writer),
        }
    }

    /// Forwards every send of `T` (typed: the kwargs serialize with `T`'s own `Serialize`).
    pub fn forward<T>(&self) -> Forwarding
    where
        T: Signal<Output = ()> + Serialize,
    {
        let shared = Arc::clone(&self.shared);
        let connection = T::signal()
            .connect(
                Receiver::new(
                    move |sender: &T::Sender, event: &T| -> Result<(), BridgeError> {
                        let signal = format!("{}.{}", T::NAMESPACE, T::NAME);
                        if is_resending(&signal) {
                            return Ok(());
                        }
                        let kwargs =
                            serde_json::to_value(event).map_err(|e| BridgeError::Encode {
                                signal: signal.clone(),
                                reason: format!("its kwargs do not serialize: {e}"),
                            })?;
                        let sender =
                            crate::wire::sender_json(&sender.sender_key()).map_err(|reason| {
                                BridgeError::Encode {
                                    signal: signal.clone(),
                                    reason,
                                }
                            })?;
                        let entry = Entry::new(
                            T::NAMESPACE,
                            T::NAME,
                            T::SCHEMA,
                            sender,
                            kwargs,
                            &shared.bridge.config.origin,
                        );
                        enqueue(&shared, &entry)
                    },
                )
                .name(RECEIVER_NAME),
            )
            .scoped();
        Forwarding {
            _connections: vec![connection],
        }
    }

    /// Forwards every send of `signal`, known by name: its kwargs are read from the bag (the
    /// declared struct's `Serialize` when it is linked, else each value of a by-name bag).
    pub fn forward_named(&self, signal: &NamedSignal) -> Forwarding {
        Forwarding {
            _connections: vec![self.connect_named(signal)],
        }
    }

    /// Forwards every signal of `namespace` known now (declared by a linked crate, or named
    /// at run time before this call; a signal first named later is not included).
    pub fn forward_namespace(&self, namespace: &Namespace) -> Forwarding {
        Forwarding {
            _connections: namespace
                .signals()
                .iter()
                .map(|signal| self.connect_named(signal))
                .collect(),
        }
    }

    fn connect_named(&self, signal: &NamedSignal) -> ScopedConnection {
        let shared = Arc::clone(&self.shared);
        let named = *signal;
        signal
            .connect(
                Receiver::new(
                    move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| -> Result<(), BridgeError> {
                        if is_resending(named.qualified_name()) {
                            return Ok(());
                        }
                        let entry = shared.bridge.entry_of(&named, sender, kwargs)?;
                        enqueue(&shared, &entry)
                    },
                )
                .name(RECEIVER_NAME),
            )
            .scoped()
    }

    /// Waits until everything queued before this call is written (or failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.shared.queue.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// What the writer did so far.
    pub fn stats(&self) -> ForwardStats {
        ForwardStats {
            written: self.counts.written.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
        }
    }

    /// Writes everything queued, then stops the writer and returns. Forwarding receivers still
    /// connected fail from then on with [`BridgeError::Closed`] (a failure in their send's
    /// report), so nothing sent during or after the shutdown is lost silently.
    pub async fn shutdown(mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        let _ = self.shared.queue.send(Job::Stop).await;
        if let Some(writer) = self.writer.take() {
            let _ = writer.await;
        }
    }
}

impl Drop for Forwarder {
    /// Without [`shutdown`](Forwarder::shutdown): the forwarding receivers fail from now on,
    /// and the writer writes what is queued, then stops (if the runtime still runs).
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.shared.closed.store(true, Ordering::SeqCst);
            let _ = self.shared.queue.try_send(Job::Stop);
        }
    }
}

/// Queues `entry` for the writer, or holds it when a [`hold`] is active on this thread.
fn enqueue(shared: &Arc<Shared>, entry: &Entry) -> Result<(), BridgeError> {
    let (stream, fields) = shared.bridge.fields_of(entry)?;
    let job = Job::Write {
        stream,
        event_id: entry.id.clone(),
        signal: entry.qualified_name(),
        fields,
    };
    let job = match HELD.with(|held| {
        let mut held = held.borrow_mut();
        match held.as_mut() {
            Some(list) => {
                list.push((Arc::clone(shared), job));
                None
            }
            None => Some(job),
        }
    }) {
        Some(job) => job,
        None => return Ok(()),
    };
    queue(shared, job)
}

fn queue(shared: &Shared, job: Job) -> Result<(), BridgeError> {
    let signal = match &job {
        Job::Write { signal, .. } => signal.clone(),
        Job::Flush(_) | Job::Stop => String::new(),
    };
    if shared.closed.load(Ordering::SeqCst) {
        return Err(BridgeError::Closed { signal });
    }
    shared.queue.try_send(job).map_err(|error| match error {
        mpsc::error::TrySendError::Full(_) => BridgeError::BufferFull {
            signal,
            capacity: shared.bridge.config.buffer,
        },
        mpsc::error::TrySendError::Closed(_) => BridgeError::Closed { signal },
    })
}

/// The most entries the writer puts in one pipeline: what queued while the last one was in
/// flight, up to this.
const BATCH: usize = 256;

/// The writer task: batches of up to [`BATCH`] entries, each batch one pipeline
/// ([`write_batch`]).
async fn write_jobs(bridge: Bridge, counts: Arc<Counts>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = jobs.recv().await {
        if matches!(first, Job::Stop) {
            // No more sends: what is still queued (sent before the close) is written below.
            jobs.close();
            continue;
        }
        batch.push(first);
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(Job::Stop) => jobs.close(),
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let writes: Vec<(&String, &String, &String, &Fields)> = batch
            .iter()
            .filter_map(|job| match job {
                Job::Write {
                    stream,
                    event_id,
                    signal,
                    fields,
                } => Some((stream, event_id, signal, fields)),
                _ => None,
            })
            .collect();
        if !writes.is_empty() {
            write_batch(&bridge, &counts, &writes).await;
        }
        for job in batch.drain(..) {
            if let Job::Flush(done) = job {
                let _ = done.send(());
            }
        }
    }
}

/// Writes one batch in one pipeline. Each `XADD`'s reply is read on its own (an error in one,
/// such as a key of another type, fails that event only: the others are written once, not
/// again); only a failure of the connection itself is retried, twice, the connection
/// reconnecting in between. Each event not written is logged at ERROR and counted.
async fn write_batch(
    bridge: &Bridge,
    counts: &Counts,
    writes: &[(&String, &String, &String, &Fields)],
) {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for (stream, _, _, fields) in writes {
        pipe.cmd("XADD").arg(*stream).arg("*").arg(*fields);
    }
    let mut replies = Err(BridgeError::Redis(String::new()));
    for attempt in 0..3u32 {
        let mut conn = bridge.conn.clone();
        replies = pipe
            .query_async::<Vec<redis::RedisResult<String>>>(&mut conn)
            .await
            .map_err(BridgeError::from);
        if replies.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
    }
    let outcomes: Vec<Result<(), BridgeError>> = match replies {
        Ok(replies) => replies
            .into_iter()
            .map(|reply| reply.map(|_| ()).map_err(BridgeError::from))
            .collect(),
        Err(error) => writes
            .iter()
            .map(|_| Err(BridgeError::Redis(error.to_string())))
            .collect(),
    };
    for ((_, event_id, signal, _), outcome) in writes.iter().zip(outcomes) {
        match outcome {
            Ok(()) => {
                counts.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                counts.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    signal = %signal,
                    event_id = %event_id,
                    error = %error,
                    "could not forward the event to Redis"
                );
            }
        }
    }
}

/// The events a [`hold`] keeps on this thread, each with the forwarder it goes to.
type Held = Vec<(Arc<Shared>, Job)>;

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Holds the events forwarded on this thread until [`Hold::release`]; dropped without a
/// release, they are discarded. For a send inside a database transaction:
///
/// ```ignore
/// let held = signals_redis::hold();
/// UserCreated { user }.send(&name);     // local receivers run now; forwarding waits
/// match tx.commit() {
///     Ok(()) => held.release()?,         // forwarded after the commit
///     Err(_) => drop(held),              // rolled back: never forwarded
/// }
/// ```
///
/// Without a hold, an event sent before a commit that then rolls back has been forwarded
/// anyway: the other processes see an event the database does not have. A hold is per
/// thread, not `Send`: make it and release it without an `.await` in between (so it suits a
/// synchronous database transaction; with an async one, hold the events yourself). Holds
/// nest as savepoints: an inner one released joins the outer; dropped, it discards only its
/// own events.
pub fn hold() -> Hold {
    let outer = HELD.with(|held| {
        let mut held = held.borrow_mut();
        if held.is_some() {
            true
        } else {
            *held = Some(Vec::new());
            false
        }
    });
    let start = HELD.with(|held| held.borrow().as_ref().map_or(0, Vec::len));
    Hold {
        outer,
        start,
        released: false,
        _not_send: PhantomData,
    }
}

/// See [`hold`].
#[derive(Debug)]
#[must_use = "a hold discards what it holds when dropped without release()"]
pub struct Hold {
    outer: bool,
    /// Where this hold's events start in the thread's list (an inner hold's savepoint).
    start: usize,
    released: bool,
    _not_send: PhantomData<*const ()>,
}

impl Hold {
    /// Queues what was held for the writer. The first event the buffer cannot take is the
    /// error; the ones after it are not queued either (and were logged at ERROR).
    pub fn release(mut self) -> Result<usize, BridgeError> {
        self.released = true;
        if self.outer {
            return Ok(0);
        }
        let held = HELD
            .with(|held| held.borrow_mut().take())
            .unwrap_or_default();
        let count = held.len();
        let mut first_error = None;
        for (shared, job) in held {
            if first_error.is_some() {
                if let Job::Write {
                    signal, event_id, ..
                } = &job
                {
                    tracing::error!(signal = %signal, event_id = %event_id, "a held event was not forwarded: the buffer is full");
                }
                continue;
            }
            if let Err(error) = queue(&shared, job) {
                first_error = Some(error);
            }
        }
        first_error.map_or(Ok(count), Err)
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if self.outer {
            // An inner hold dropped without release: its events are discarded (a savepoint
            // rolled back), the outer hold's stay.
            HELD.with(|held| {
                if let Some(list) = held.borrow_mut().as_mut() {
                    list.truncate(self.start);
                }
            });
            return;
        }
        let held = HELD
            .with(|held| held.borrow_mut().take())
            .unwrap_or_default();
        if !held.is_empty() {
            tracing::debug!(
                events = held.len(),
                "held events discarded (not released: rolled back)"
            );
        }
    }
}
