//! Calling the receivers of one send, and what the caller gets back.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use crate::core::SignalCore;
use crate::future::{poll_once, BoxFuture, CatchUnwind, JoinAll, Payload};
use crate::receiver::{Abnormal, AsyncInSyncSend, BoxError, CallResult, ReceiverInfo};
use crate::snapshot::{EntryMeta, ReceiverList};

/// Whether a send goes on after a receiver fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Call every receiver; report each failure.
    Robust,
    /// Stop at the first failure (blinker's behaviour).
    FailFast,
}

/// How an async send runs its async receivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Concurrency {
    /// One at a time, in connection order.
    Sequential,
    /// Started in connection order, then driven together.
    Concurrent,
}

/// How a receiver failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FailureKind {
    /// It returned an error.
    Error(BoxError),
    /// It panicked; the panic's message.
    Panic(String),
    /// It is async, and a sync send met it: it did not run. Send with `send_async` (or one of
    /// its variants) to run it.
    AsyncReceiver,
}

/// One receiver's failure during a send.
#[derive(Debug)]
pub struct Failure {
    /// The receiver that failed.
    pub receiver: Arc<ReceiverInfo>,
    /// What went wrong.
    pub kind: FailureKind,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FailureKind::Error(e) => write!(f, "receiver {} returned an error: {e}", self.receiver),
            FailureKind::Panic(msg) => write!(f, "receiver {} panicked: {msg}", self.receiver),
            FailureKind::AsyncReceiver => write!(
                f,
                "receiver {} is async; a sync send cannot run it \u{2014} use send_async",
                self.receiver
            ),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FailureKind::Error(e) => Some(&**e),
            FailureKind::Panic(_) | FailureKind::AsyncReceiver => None,
        }
    }
}

/// What a send did: how many receivers it called, and each failure.
///
/// A send that meets no failure allocates nothing: the report is two words, and the failure
/// list is allocated only for a failure.
#[derive(Debug, Default)]
#[must_use = "a send report carries the receivers' failures; check `is_ok()` or `failures()`"]
pub struct SendReport {
    called: usize,
    failed: Option<Box<Failed>>,
}

/// The failures of a send, allocated only when there is one.
#[derive(Debug, Default)]
struct Failed {
    failures: Vec<Failure>,
    stopped_early: bool,
}

impl SendReport {
    /// How many receivers were called (those that failed included). An async receiver that a
    /// sync send met was not called: it is reported as a failure
    /// ([`FailureKind::AsyncReceiver`]) and not counted here.
    pub fn receivers_called(&self) -> usize {
        self.called
    }

    /// The receivers that returned an error or panicked, and the async receivers a sync send
    /// could not run, in connection order.
    pub fn failures(&self) -> &[Failure] {
        self.failed.as_deref().map_or(&[], |f| &f.failures)
    }

    /// Takes the failures out of the report.
    pub fn into_failures(self) -> Vec<Failure> {
        self.failed.map(|f| f.failures).unwrap_or_default()
    }

    /// Whether no receiver failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_none()
    }

    /// Whether a fail-fast send stopped at a failure before calling every receiver.
    pub fn stopped_early(&self) -> bool {
        self.failed.as_deref().is_some_and(|f| f.stopped_early)
    }

    /// The first failure as an error, for `?`.
    pub fn into_result(self) -> Result<usize, Failure> {
        let called = self.called;
        match self.into_failures().into_iter().next() {
            Some(failure) => Err(failure),
            None => Ok(called),
        }
    }
}

/// One receiver's returned value in a collecting send: blinker's `(receiver, value)` pair.
#[derive(Debug)]
pub struct Response<O> {
    /// The receiver that returned it.
    pub receiver: Arc<ReceiverInfo>,
    /// What it returned.
    pub value: O,
}

/// The result of a collecting send: each receiver's value, in call order, and the report.
#[derive(Debug)]
#[must_use]
pub struct Collected<O> {
    /// The values, in call order.
    pub responses: Vec<Response<O>>,
    /// Calls and failures.
    pub report: SendReport,
}

impl<O> Collected<O> {
    /// The values alone, in call order.
    pub fn values(self) -> Vec<O> {
        self.responses.into_iter().map(|r| r.value).collect()
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not a string)".to_owned()
    }
}

/// What a collecting send does with each receiver's value.
pub(crate) type Collect<'a, O> = dyn FnMut(&Arc<ReceiverInfo>, O) + 'a;

/// Calls the receivers of `list` in order with `invoke`, handing values to `collect`.
///
/// When the signal's generation moves during the send (a receiver, or another thread,
/// connected or disconnected something), each later receiver is checked before its call, so a
/// receiver disconnected earlier in this send is not called.
///
/// One `catch_unwind` guards the whole loop; after a panic the loop resumes at the next
/// receiver, so a send without panics pays nothing per receiver for the guard. The loop keeps
/// only the index of the next receiver in memory; everything rare (failures, skips, gone
/// receivers) is recorded out of line.
#[inline]
pub(crate) fn deliver<C: ?Sized, A: ?Sized, O>(
    core: &'static SignalCore,
    generation: u64,
    list: &ReceiverList<C, A>,
    mode: Mode,
    invoke: impl Fn(&C) -> CallResult<O>,
    mut collect: Option<&mut Collect<'_, O>>,
) -> SendReport {
    let calls = &*list.calls;
    let mut next = 0;
    let mut rare = Rare::default();
    loop {
        let run = catch_unwind(AssertUnwindSafe(|| {
            // The fast loop: nothing changed since the snapshot was taken. A change can only
            // come from a receiver (on this thread) or from another thread; either way it is
            // seen after the call that made it, and the rest of the send checks each receiver.
            let mut changed = core.generation.load(Ordering::Acquire) != generation;
            if !changed {
                for call in &calls[next..] {
                    next += 1;
                    match invoke(call) {
                        Ok(None) => {}
                        Ok(Some(value)) => {
                            if let Some(collect) = collect.as_mut() {
                                collect(&list.meta[next - 1].info, value);
                            }
                        }
                        Err(abnormal) => {
                            let failed = rare.abnormal(*abnormal, &list.meta[next - 1].info);
                            if failed && mode == Mode::FailFast {
                                return;
                            }
                        }
                    }
                    if core.generation.load(Ordering::Acquire) != generation {
                        changed = true;
                        break;
                    }
                }
            }
            if !changed {
                return;
            }
            // Something changed during the send: call only receivers still connected.
            while let Some(call) = calls.get(next) {
                let meta = &list.meta[next];
                next += 1;
                if !meta.active.load(Ordering::Acquire) {
                    rare.not_called += 1;
                    continue;
                }
                match invoke(call) {
                    Ok(None) => {}
                    Ok(Some(value)) => {
                        if let Some(collect) = collect.as_mut() {
                            collect(&meta.info, value);
                        }
                    }
                    Err(abnormal) => {
                        if rare.abnormal(*abnormal, &meta.info) && mode == Mode::FailFast {
                            return;
                        }
                    }
                }
            }
        }));
        if let Err(payload) = run {
            // The receiver at `next - 1` panicked.
            rare.fail(Failure {
                receiver: list.meta[next - 1].info.clone(),
                kind: FailureKind::Panic(panic_message(payload)),
            });
            if mode == Mode::Robust {
                continue;
            }
        }
        break;
    }
    if rare.gone {
        core.prune_gone();
    }
    let mut failed = rare.failed;
    if let Some(failed) = &mut failed {
        failed.stopped_early = next < calls.len();
    }
    SendReport {
        called: next - rare.not_called,
        failed,
    }
}

/// What a send records off its fast path.
#[derive(Default)]
struct Rare {
    /// Receivers passed over: disconnected during the send, or gone.
    not_called: usize,
    failed: Option<Box<Failed>>,
    gone: bool,
}

impl Rare {
    fn fail(&mut self, failure: Failure) {
        self.failed
            .get_or_insert_with(Box::default)
            .failures
            .push(failure);
    }

    /// Records an abnormal call; returns whether it was a failure.
    #[cold]
    #[inline(never)]
    fn abnormal(&mut self, abnormal: Abnormal, receiver: &Arc<ReceiverInfo>) -> bool {
        match abnormal {
            Abnormal::Failed(error) if error.is::<AsyncInSyncSend>() => {
                self.not_called += 1;
                self.fail(Failure {
                    receiver: receiver.clone(),
                    kind: FailureKind::AsyncReceiver,
                });
                true
            }
            Abnormal::Failed(error) => {
                self.fail(Failure {
                    receiver: receiver.clone(),
                    kind: FailureKind::Error(error),
                });
                true
            }
            Abnormal::Gone => {
                self.gone = true;
                self.not_called += 1;
                false
            }
        }
    }

    /// Records one receiver's outcome in an async send: its value, or how it failed.
    fn outcome<O>(
        &mut self,
        meta: &EntryMeta,
        outcome: Result<CallResult<O>, Payload>,
        collect: &mut Option<&mut Vec<Response<O>>>,
    ) {
        match outcome {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(value))) => {
                if let Some(collect) = collect {
                    collect.push(Response {
                        receiver: meta.info.clone(),
                        value,
                    });
                }
            }
            Ok(Err(abnormal)) => {
                self.abnormal(*abnormal, &meta.info);
            }
            Err(payload) => self.fail(Failure {
                receiver: meta.info.clone(),
                kind: FailureKind::Panic(panic_message(payload)),
            }),
        }
    }
}

/// The async counterpart of [`deliver`]: calls the sync receivers of `list` with `invoke` and
/// awaits the futures `start` makes for its async ones, in connection order. `Sequential`
/// awaits each async receiver before the next receiver; `Concurrent` calls the sync receivers
/// and starts every async one in order (polling it once: it runs up to its first await), then
/// drives the started futures together. Values and failures are reported in connection order
/// either way.
///
/// A receiver disconnected (or blocked) before its turn is not called. Panics are caught
/// while calling a sync receiver, while `start` makes a future, and while a future is polled.
/// Nothing is locked across an await: `list` belongs to a snapshot the caller owns.
pub(crate) async fn deliver_async<'f, C, A, O>(
    core: &'static SignalCore,
    list: &'f ReceiverList<C, A>,
    how: Concurrency,
    invoke: impl Fn(&C) -> CallResult<O>,
    start: impl Fn(&'f A) -> BoxFuture<'f, CallResult<O>>,
    mut collect: Option<&mut Vec<Response<O>>>,
) -> SendReport
where
    C: ?Sized,
    A: ?Sized,
{
    let mut rare = Rare::default();
    let count = list.calls.len();
    // Async receivers are rare on a list, and the array is empty when there are none.
    let async_at = |index: usize| list.async_at(index);
    let sync_call = |index: usize| catch_unwind(AssertUnwindSafe(|| invoke(&list.calls[index])));
    let start_call = |call: &'f A| catch_unwind(AssertUnwindSafe(|| start(call)));
    match how {
        Concurrency::Sequential => {
            for index in 0..count {
                let meta = &list.meta[index];
                if !meta.active.load(Ordering::Acquire) {
                    rare.not_called += 1;
                    continue;
                }
                let outcome = match async_at(index) {
                    None => sync_call(index),
                    Some(call) => match start_call(call) {
                        Ok(future) => CatchUnwind(future).await,
                        Err(payload) => Err(payload),
                    },
                };
                rare.outcome(meta, outcome, &mut collect);
            }
        }
        Concurrency::Concurrent => {
            let mut outcomes = Vec::new();
            let mut running = Vec::new();
            for index in 0..count {
                if !list.meta[index].active.load(Ordering::Acquire) {
                    rare.not_called += 1;
                    continue;
                }
                match async_at(index) {
                    None => outcomes.push((index, sync_call(index))),
                    Some(call) => match start_call(call) {
                        // Started: polled once, so it runs up to its first await before the
                        // next receiver is called.
                        Ok(future) => {
                            let mut future = CatchUnwind(future);
                            match poll_once(&mut future).await {
                                Poll::Ready(outcome) => outcomes.push((index, outcome)),
                                Poll::Pending => running.push((index, future)),
                            }
                        }
                        Err(payload) => outcomes.push((index, Err(payload))),
                    },
                }
            }
            if !running.is_empty() {
                outcomes.extend(JoinAll::new(running).await);
                outcomes.sort_by_key(|(index, _)| *index);
            }
            for (index, outcome) in outcomes {
                rare.outcome(&list.meta[index], outcome, &mut collect);
            }
        }
    }
    if rare.gone {
        core.prune_gone();
    }
    SendReport {
        called: count - rare.not_called,
        failed: rare.failed,
    }
}
