//! Calling the receivers of one send: the fast loop, the rare path, the async loop.
//!
//! The way of a typed send, file by file: `typed/dispatch.rs` (`TypedSignal::dispatch`,
//! inlined into the caller) loads the signal's `live` flag (nothing more when nobody
//! listens) and calls `send_live` or `send_live_with`, out of line, which take this thread's
//! cached snapshot from the signal type's own slot (`engine/cache.rs` `ThreadCache::cached`,
//! or `fresh`, under the snapshot's read lock, when a change replaced it), pick the receiver list for
//! the sender (`engine/snapshot.rs` `Snapshot::receivers_for_with`: the list for every
//! sender, or the merged list of a sender some receiver filters on), and hand it to
//! [`call_receivers`] here: a fast loop over the list's contiguous entries (`slots.rs`), and
//! [`call_rest`] out of line for failures, panics and entries to check against their
//! connections. Each entry is called through its vtable with one pointer to the send's input
//! (`engine/callable.rs`; `typed/shape.rs` `Delivery` for a typed send: it begins with the
//! by-name view of the send, whose key `dispatch.rs` `send_with_by_name` makes once when the
//! list has by-name receivers, which then read the view as their own input). A by-name
//! send takes the same way through `by_name/send.rs` and the thread's shared cache
//! (`engine/cache.rs` `with_snapshot`).
//!
//! With the `tracing` feature, [`call_receivers`] and [`await_receivers`] first ask whether a
//! subscriber might want the send's span (`engine/trace.rs` `maybe_traced`, one load) and,
//! only if one might, run the send inside it, out of line; each failure is logged where
//! [`Rare`] records it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Poll;

use crate::engine::signal::SignalCore;
use crate::engine::snapshot::{EntryMeta, ReceiverList};
#[cfg(feature = "tracing")]
use crate::engine::trace;
use crate::future::{drop_quietly, poll_once, BoxFuture, CatchUnwind, JoinAll, Payload};
use crate::receiver::{
    Abnormal, AsyncInSyncSend, BoxError, CallResult, KwargUnread, NoSenderKey, ReceiverInfo,
    TypedInByNameSend, WrongValue,
};
use crate::report::{Failed, Failure, FailureKind, Response, SendReport};

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
    /// One at a time, in connection order; a fail-fast send stops at the first failure.
    Sequential(Mode),
    /// Started in connection order, then driven together (every receiver runs).
    Concurrent,
}

/// The message of a caught panic, for the report. The payload is dropped quietly: its `Drop`
/// is user code, and may panic too (see [`drop_quietly`]).
fn panic_message(payload: Payload) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not a string)".to_owned()
    };
    drop_quietly(payload);
    message
}

/// What a collecting send does with each receiver's value.
pub(crate) type Collect<'a, O> = dyn FnMut(&Arc<ReceiverInfo>, O) + 'a;

/// Calls the receivers of `list` in order with `input`, handing values to `collect`.
///
/// The fast loop here runs while every receiver returns normally and each entry is on or
/// off (see `slots.rs`): an entry switched off (blocked or disconnected) answers
/// [`CallResult::Off`] and is passed over. The loop keeps only its place in the list, and
/// one `catch_unwind` guards it, so a send without panics pays nothing per receiver for the
/// guard. Anything else (a failure, a panic, a gone receiver, or an entry of a list rebuilt
/// since, which must be checked against its connection) hands the rest of the send to
/// [`call_rest`], out of line.
///
/// With the `tracing` feature, a send that a subscriber might trace runs inside its span
/// (out of line, `engine/trace.rs`); any other pays one load and a compare for it.
#[inline(always)]
pub(crate) fn call_receivers<I: 'static, O: 'static, A: ?Sized>(
    core: &'static SignalCore,
    list: &ReceiverList<I, O, A>,
    mode: Mode,
    input: &I,
    collect: Option<&mut Collect<'_, O>>,
) -> SendReport {
    #[cfg(feature = "tracing")]
    if trace::maybe_traced() {
        return trace::in_send_span(core, move || {
            call_receivers_untraced(core, list, mode, input, collect)
        });
    }
    call_receivers_untraced(core, list, mode, input, collect)
}

/// The body of [`call_receivers`]: the send itself.
#[inline(always)]
fn call_receivers_untraced<I: 'static, O: 'static, A: ?Sized>(
    core: &'static SignalCore,
    list: &ReceiverList<I, O, A>,
    mode: Mode,
    input: &I,
    mut collect: Option<&mut Collect<'_, O>>,
) -> SendReport {
    let hot = list.hot();
    let mut left = hot.iter();
    let mut off = 0;
    let stopped = catch_unwind(AssertUnwindSafe(|| {
        while let Some(entry) = left.next() {
            match entry.call(input) {
                CallResult::NoValue => {}
                CallResult::Value(value) => {
                    if let Some(collect) = collect.as_mut() {
                        let index = hot.len() - left.len() - 1;
                        collect(&list.meta(index).info, value);
                    }
                }
                // Out of line: kept in the loop, the other outcomes' cases make it a jump
                // through a table after every call.
                other => {
                    if let Some(stop) = unusual(other, &mut off) {
                        return stop;
                    }
                }
            }
        }
        Stop::Done
    }));
    // Where the rest of the send starts, and how the last call ended. A loop that passed
    // every entry needs no place (working it out divides by an entry's size).
    let left = left.len();
    let (next, stopped) = match stopped {
        Ok(Stop::Done) => {
            return SendReport {
                called: hot.len() - off,
                failed: None,
            }
        }
        Ok(Stop::Check) => (hot.len() - left - 1, Ok(None)),
        Ok(Stop::Abnormal(abnormal)) => (hot.len() - left, Ok(Some(abnormal))),
        Err(payload) => (hot.len() - left, Err(payload)),
    };
    call_rest(core, list, mode, input, collect, next, off, stopped)
}

/// What the fast loop does with an outcome other than a value or none: counts an entry
/// switched off, or says why it stops (an entry to check: the rest of the send goes out of
/// line; or a receiver that did not end normally).
#[cold]
#[inline(never)]
fn unusual<O>(outcome: CallResult<O>, off: &mut usize) -> Option<Stop> {
    match outcome {
        CallResult::Off => {
            *off += 1;
            None
        }
        CallResult::Check => Some(Stop::Check),
        CallResult::Abnormal(abnormal) => Some(Stop::Abnormal(abnormal)),
        // Not given to this function.
        CallResult::Value(_) | CallResult::NoValue => None,
    }
}

/// Why the fast loop stopped.
enum Stop {
    /// It called every entry that is on.
    Done,
    /// It met an entry to check against its connection (it did not call it).
    Check,
    /// The receiver it called last did not end normally.
    Abnormal(Box<Abnormal>),
}

/// The rest of a send whose fast loop stopped before the entry at `next` (having passed over
/// `off` entries): `stopped` says how the call of the entry at `next - 1` ended (`Ok(None)`:
/// it was not called, or ended normally). Records it, then calls the remaining receivers one
/// at a time, each only if it is still connected. After a panic the loop resumes at the next
/// receiver (a robust send) or ends (a fail-fast one).
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn call_rest<I: 'static, O: 'static, A: ?Sized>(
    core: &'static SignalCore,
    list: &ReceiverList<I, O, A>,
    mode: Mode,
    input: &I,
    mut collect: Option<&mut Collect<'_, O>>,
    mut next: usize,
    off: usize,
    stopped: Result<Option<Box<Abnormal>>, Payload>,
) -> SendReport {
    let mut rare = Rare::new(core);
    rare.not_called = off;
    let mut go_on = match stopped {
        Ok(None) => true,
        Ok(Some(abnormal)) => {
            let failed = rare.abnormal(*abnormal, &list.meta(next - 1).info);
            !(failed && mode == Mode::FailFast)
        }
        Err(payload) => {
            rare.panicked(&list.meta(next - 1).info, payload);
            mode == Mode::Robust
        }
    };
    while go_on {
        let run = catch_unwind(AssertUnwindSafe(|| {
            while next < list.len() {
                next += 1;
                match list.call_checked(next - 1, input) {
                    CallResult::Value(value) => {
                        if let Some(collect) = collect.as_mut() {
                            collect(&list.meta(next - 1).info, value);
                        }
                    }
                    CallResult::NoValue => {}
                    CallResult::Off | CallResult::Check => rare.not_called += 1,
                    CallResult::Abnormal(abnormal) => {
                        let info = &list.meta(next - 1).info;
                        if rare.abnormal(*abnormal, info) && mode == Mode::FailFast {
                            return;
                        }
                    }
                }
            }
        }));
        go_on = match run {
            Ok(()) => false,
            Err(payload) => {
                rare.panicked(&list.meta(next - 1).info, payload);
                mode == Mode::Robust
            }
        };
    }
    rare.finish(next, list)
}

/// What a send records off its fast path.
struct Rare {
    core: &'static SignalCore,
    /// Entries passed over: switched off (disconnected or blocked, before or during the
    /// send), or gone.
    not_called: usize,
    failed: Option<Box<Failed>>,
    gone: bool,
}

impl Rare {
    fn new(core: &'static SignalCore) -> Self {
        Rare {
            core,
            not_called: 0,
            failed: None,
            gone: false,
        }
    }

    /// Records that `receiver` panicked.
    fn panicked(&mut self, receiver: &Arc<ReceiverInfo>, payload: Payload) {
        self.fail(Failure {
            receiver: receiver.clone(),
            kind: FailureKind::Panic(panic_message(payload)),
        });
    }

    /// The report of a send that stopped before the entry at `next` of `list`: prunes gone
    /// receivers first. It stopped early when a receiver it did not reach would have been
    /// called (entries switched off stay in the list, and do not count).
    fn finish<I: 'static, O: 'static, A: ?Sized>(
        self,
        next: usize,
        list: &ReceiverList<I, O, A>,
    ) -> SendReport {
        if self.gone {
            self.core.prune_gone();
        }
        let mut failed = self.failed;
        if let Some(failed) = &mut failed {
            failed.stopped_early = (next..list.len()).any(|index| list.is_active(index));
        }
        SendReport {
            called: next - self.not_called,
            failed,
        }
    }

    /// Records a failure: the one place every failure of a send goes through (a by-name
    /// collecting send's values of the wrong type excepted: `sending.rs` finds those after
    /// the send). With the `tracing` feature, logs it.
    fn fail(&mut self, failure: Failure) {
        #[cfg(feature = "tracing")]
        trace::failure(self.core.qualified, &failure);
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
            Abnormal::Failed(error) => {
                let no_key = error.is::<NoSenderKey>();
                let kind = failure_kind(error);
                if no_key
                    || matches!(
                        kind,
                        FailureKind::AsyncReceiver
                            | FailureKind::TypedReceiver
                            | FailureKind::Kwarg(_)
                    )
                {
                    // It did not run.
                    self.not_called += 1;
                }
                self.fail(Failure {
                    receiver: receiver.clone(),
                    kind,
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

    /// Records one receiver's outcome in an async send: its value, or how it failed. Returns
    /// whether it failed.
    fn outcome<O>(
        &mut self,
        meta: &EntryMeta,
        outcome: Result<CallResult<O>, Payload>,
        collect: &mut Option<&mut Vec<Response<O>>>,
    ) -> bool {
        match outcome {
            Ok(CallResult::NoValue) => {}
            Ok(CallResult::Value(value)) => {
                if let Some(collect) = collect {
                    collect.push(Response {
                        receiver: meta.info.clone(),
                        value,
                    });
                }
            }
            Ok(CallResult::Abnormal(abnormal)) => return self.abnormal(*abnormal, &meta.info),
            // Made into `Call::Off` before this.
            Ok(CallResult::Off | CallResult::Check) => self.not_called += 1,
            Err(payload) => {
                self.panicked(&meta.info, payload);
                return true;
            }
        }
        false
    }
}

/// The kind of failure of a call that ended with `error`: the marker errors of a receiver
/// that could not run (an async one in a sync send, a typed one given a bag from JSON) and of
/// a value of the wrong type have kinds of their own.
fn failure_kind(error: BoxError) -> FailureKind {
    if error.is::<AsyncInSyncSend>() {
        return FailureKind::AsyncReceiver;
    }
    if error.is::<TypedInByNameSend>() {
        return FailureKind::TypedReceiver;
    }
    let error = match error.downcast::<KwargUnread>() {
        Ok(unread) => return FailureKind::Kwarg(unread.0),
        Err(error) => error,
    };
    match error.downcast::<WrongValue>() {
        Ok(wrong) => FailureKind::WrongValue {
            expected: wrong.expected,
            actual: wrong.actual,
        },
        Err(error) => FailureKind::Error(error),
    }
}

/// The async counterpart of [`call_receivers`]: calls the sync receivers of `list` with `input` and
/// awaits the futures `start` makes for its async ones, in connection order. `Sequential`
/// awaits each async receiver before the next receiver; `Concurrent` calls the sync receivers
/// and starts every async one in order (polling it once: it runs up to its first await), then
/// drives the started futures together. Values and failures are reported in connection order
/// either way.
///
/// A receiver disconnected (or blocked) before its turn is not called. Panics are caught
/// while calling a sync receiver, while `start` makes a future, and while a future is polled.
/// Nothing is locked across an await: `list` belongs to a snapshot the caller owns.
///
/// With the `tracing` feature, a send that a subscriber might trace runs inside its span,
/// entered at each poll. Without it, this is [`await_receivers_untraced`] itself.
#[cfg(feature = "tracing")]
pub(crate) async fn await_receivers<'f, I, O, A>(
    core: &'static SignalCore,
    list: &'f ReceiverList<I, O, A>,
    how: Concurrency,
    input: &'f I,
    start: impl Fn(&'f A) -> BoxFuture<'f, CallResult<O>>,
    collect: Option<&mut Vec<Response<O>>>,
) -> SendReport
where
    I: 'static,
    O: 'static,
    A: ?Sized,
{
    let send = await_receivers_untraced(core, list, how, input, start, collect);
    if trace::maybe_traced() {
        return trace::in_send_span_async(core, send).await;
    }
    send.await
}

#[cfg(not(feature = "tracing"))]
pub(crate) use await_receivers_untraced as await_receivers;

/// The body of [`await_receivers`]: the send itself.
pub(crate) async fn await_receivers_untraced<'f, I, O, A>(
    core: &'static SignalCore,
    list: &'f ReceiverList<I, O, A>,
    how: Concurrency,
    input: &'f I,
    start: impl Fn(&'f A) -> BoxFuture<'f, CallResult<O>>,
    mut collect: Option<&mut Vec<Response<O>>>,
) -> SendReport
where
    I: 'static,
    O: 'static,
    A: ?Sized,
{
    let mut rare = Rare::new(core);
    // Async receivers are rare on a list, and the array is empty when there are none.
    let call = |index: usize| match list.async_at(index) {
        None => match catch_unwind(AssertUnwindSafe(|| list.call_checked(index, input))) {
            Ok(CallResult::Off | CallResult::Check) => Call::Off,
            Ok(outcome) => Call::Sync(Ok(outcome)),
            Err(payload) => Call::Sync(Err(payload)),
        },
        Some(call) => Call::Async(catch_unwind(AssertUnwindSafe(|| start(call)))),
    };
    let next = match how {
        Concurrency::Sequential(mode) => {
            await_in_turn(list, mode, call, &mut rare, &mut collect).await
        }
        Concurrency::Concurrent => await_together(list, call, &mut rare, &mut collect).await,
    };
    rare.finish(next, list)
}

/// One receiver's call: a sync receiver's outcome, or an async receiver's future (or the
/// panic of making it).
enum Call<'f, O> {
    Sync(Result<CallResult<O>, Payload>),
    Async(Result<BoxFuture<'f, CallResult<O>>, Payload>),
    /// Switched off since the send looked at it: not called.
    Off,
}

/// Calls or awaits each receiver in turn; returns where a fail-fast send stopped (or the
/// list's length).
async fn await_in_turn<'f, I: 'static, O: 'static, A: ?Sized>(
    list: &'f ReceiverList<I, O, A>,
    mode: Mode,
    call: impl Fn(usize) -> Call<'f, O>,
    rare: &mut Rare,
    collect: &mut Option<&mut Vec<Response<O>>>,
) -> usize {
    let count = list.len();
    let mut next = 0;
    while next < count {
        let meta = list.meta(next);
        next += 1;
        if !list.is_active(next - 1) {
            rare.not_called += 1;
            continue;
        }
        let outcome = match call(next - 1) {
            Call::Sync(outcome) => outcome,
            Call::Async(Ok(future)) => CatchUnwind(future).await,
            Call::Async(Err(payload)) => Err(payload),
            Call::Off => {
                rare.not_called += 1;
                continue;
            }
        };
        if rare.outcome(meta, outcome, collect) && mode == Mode::FailFast {
            break;
        }
    }
    next
}

/// Calls each sync receiver and starts each async one in connection order (polled once: it
/// runs up to its first await before the next is called), then drives the started futures
/// together; reports the outcomes in connection order. Returns the list's length.
async fn await_together<'f, I: 'static, O: 'static, A: ?Sized>(
    list: &'f ReceiverList<I, O, A>,
    call: impl Fn(usize) -> Call<'f, O>,
    rare: &mut Rare,
    collect: &mut Option<&mut Vec<Response<O>>>,
) -> usize {
    let count = list.len();
    let mut outcomes = Vec::new();
    let mut running = Vec::new();
    for index in 0..count {
        if !list.is_active(index) {
            rare.not_called += 1;
            continue;
        }
        match call(index) {
            Call::Sync(outcome) => outcomes.push((index, outcome)),
            Call::Async(Ok(future)) => {
                let mut future = CatchUnwind(future);
                match poll_once(&mut future).await {
                    Poll::Ready(outcome) => outcomes.push((index, outcome)),
                    Poll::Pending => running.push((index, future)),
                }
            }
            Call::Async(Err(payload)) => outcomes.push((index, Err(payload))),
            Call::Off => rare.not_called += 1,
        }
    }
    if !running.is_empty() {
        outcomes.extend(JoinAll::new(running).await);
        outcomes.sort_by_key(|(index, _)| *index);
    }
    for (index, outcome) in outcomes {
        rare.outcome(list.meta(index), outcome, collect);
    }
    count
}
