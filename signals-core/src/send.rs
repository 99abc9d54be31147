//! Calling the receivers of one send, and what the caller gets back.
//!
//! The way of a typed send, file by file: `typed.rs` `TypedSignal::deliver`, inlined into the
//! caller, loads the signal's `live` flag (nothing more when nobody listens) and calls
//! `send_live` or `deliver_live`, out of line, which take this thread's cached snapshot
//! from the signal type's own slot (`snapshot.rs` `ThreadSnapshot::cached`, or `fresh` under
//! the signal's mutex when a change replaced it), picks the receiver list for the sender
//! (`Snapshot::receivers_for_with`: the list for every sender, or the merged list of a sender
//! some receiver filters on), and hands it to [`deliver`] here: a fast loop over the list's
//! contiguous callables (`calls.rs`), and [`deliver_rest`] out of line for failures, panics
//! and changes made during the send. A by-name send takes the same way through `named.rs`
//! and the thread's shared cache (`with_snapshot`).

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use crate::core::SignalCore;
use crate::future::{poll_once, BoxFuture, CatchUnwind, JoinAll, Payload};
use crate::receiver::{
    Abnormal, AnyValue, AsyncInSyncSend, BoxError, CallResult, ReceiverInfo, WrongValue,
};
use crate::snapshot::{EntryMeta, ReceiverList};
use crate::sync::AtomicBool;

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

/// How a receiver failed.
///
/// Non-exhaustive: match it with a wildcard arm.
///
/// ```
/// use signals_core::{DynKwargs, FailureKind, Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_failure_kind")?.signal("saved")?;
/// let _errs = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("disk full")).scoped();
/// let _panics = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| -> () { panic!("boom") }).scoped();
/// let report = signal.send(&"me", &DynKwargs::new())?;
/// match &report.failures()[0].kind {
///     FailureKind::Error(e) => assert_eq!(e.to_string(), "disk full"),
///     other => panic!("unexpected {other:?}"),
/// }
/// assert!(matches!(&report.failures()[1].kind, FailureKind::Panic(m) if m == "boom"));
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum FailureKind {
    /// It returned an error.
    Error(BoxError),
    /// It panicked; the panic's message.
    Panic(String),
    /// It is async, and a sync send met it: it did not run. Send with `send_async` (or
    /// `sending(..)` and `run_async` or `run_concurrent`) to run it.
    AsyncReceiver,
    /// A by-name receiver returned a value of another type than the one the send collects
    /// (or the signal declares as its output). The value is dropped; nothing panics.
    WrongValue {
        /// The type the send expected.
        expected: &'static str,
        /// The type the receiver returned.
        actual: &'static str,
    },
}

/// One receiver's failure during a send. It displays the receiver's name, location and plugin;
/// its [`source`](std::error::Error::source) is the receiver's error (none for a panic).
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, DynKwargs, Kwargs, Namespace, Receiver, SenderKey};
///
/// #[plugin(name = "audit_plugin")]
/// #[derive(Default)]
/// struct Audit;
///
/// impl Plugin for Audit {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         let audit = |_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no");
///         s.connect_by_name("doc_failure", "saved", Receiver::new(audit).name("audit"));
///     }
/// }
///
/// let _loaded = plugins::use_plugin("audit_plugin")?;
/// let signal = Namespace::get("doc_failure")?.signal("saved")?;
/// let failure = signal.send(&"me", &DynKwargs::new())?.into_result().unwrap_err();
/// assert_eq!(failure.receiver.name, "audit");
/// let text = failure.to_string();
/// assert!(text.starts_with("receiver `audit` at "), "{text}");
/// assert!(text.ends_with(" (plugin `audit_plugin`) returned an error: no"), "{text}");
/// assert!(std::error::Error::source(&failure).is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
            FailureKind::WrongValue { expected, actual } => write!(
                f,
                "receiver {} returned a `{actual}`, but this send collects `{expected}` values \u{2014} return `{expected}` (or `()` for no value)",
                self.receiver
            ),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FailureKind::Error(e) => Some(&**e),
            FailureKind::Panic(_) | FailureKind::AsyncReceiver | FailureKind::WrongValue { .. } => {
                None
            }
        }
    }
}

/// What a send did: how many receivers it called, and each failure.
///
/// A send that meets no failure allocates nothing: the report is two words, and the failure
/// list is allocated only for a failure.
///
/// ```
/// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_send_report")?.signal("saved")?;
/// let _ok = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
/// let _bad = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).scoped();
/// let report = signal.send(&"me", &DynKwargs::new())?;
/// assert_eq!(report.receivers_called(), 2);
/// assert!(!report.is_ok());
/// assert_eq!(report.failures().len(), 1);
/// # Ok::<(), signals_core::Error>(())
/// ```
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
    /// ([`FailureKind::AsyncReceiver`]) and not counted here; neither is a receiver skipped
    /// because it was disconnected during the send or its weak target was gone.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_receivers_called")?.signal("saved")?;
    /// assert_eq!(signal.send(&"me", &DynKwargs::new())?.receivers_called(), 0);
    /// let _c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).scoped();
    /// assert_eq!(signal.send(&"me", &DynKwargs::new())?.receivers_called(), 1);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn receivers_called(&self) -> usize {
        self.called
    }

    /// The receivers that returned an error or panicked, and the async receivers a sync send
    /// could not run, in connection order.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_failures")?.signal("saved")?;
    /// let _a = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("first")).scoped();
    /// let _b = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("second")).scoped();
    /// let report = signal.send(&"me", &DynKwargs::new())?;
    /// let texts: Vec<String> = report.failures().iter().map(|f| f.to_string()).collect();
    /// assert!(texts[0].ends_with("first") && texts[1].ends_with("second"));
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn failures(&self) -> &[Failure] {
        self.failed.as_deref().map_or(&[], |f| &f.failures)
    }

    /// Takes the failures out of the report.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_into_failures")?.signal("saved")?;
    /// let _c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).scoped();
    /// let failures = signal.send(&"me", &DynKwargs::new())?.into_failures();
    /// assert_eq!(failures.len(), 1);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn into_failures(self) -> Vec<Failure> {
        self.failed.map(|f| f.failures).unwrap_or_default()
    }

    /// Whether no receiver failed. A send that called no receiver at all is ok too: check
    /// [`receivers_called`](Self::receivers_called) to know whether anyone listened.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_is_ok")?.signal("saved")?;
    /// assert!(signal.send(&"me", &DynKwargs::new())?.is_ok()); // nobody listened
    /// let _c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).scoped();
    /// assert!(!signal.send(&"me", &DynKwargs::new())?.is_ok());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn is_ok(&self) -> bool {
        self.failed.is_none()
    }

    /// Whether a fail-fast send stopped at a failure before calling every receiver. Always
    /// `false` for the robust sends, the async ones included; also `false` when the failure
    /// was the last receiver's.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_stopped_early")?.signal("saved")?;
    /// let _bad = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).scoped();
    /// let _ok = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
    /// let report = signal.sending(&"me", &DynKwargs::new()).fail_fast().run()?;
    /// assert!(report.stopped_early());
    /// assert_eq!(report.receivers_called(), 1);
    /// assert!(!signal.send(&"me", &DynKwargs::new())?.stopped_early());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn stopped_early(&self) -> bool {
        self.failed.as_deref().is_some_and(|f| f.stopped_early)
    }

    /// The first failure as an error, for `?`; otherwise how many receivers were called.
    /// The other failures are dropped: use [`failures`](Self::failures) to see them all.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_into_result")?.signal("saved")?;
    /// let ok = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
    /// assert_eq!(signal.send(&"me", &DynKwargs::new())?.into_result().unwrap(), 1);
    /// let _bad = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).scoped();
    /// assert!(signal.send(&"me", &DynKwargs::new())?.into_result().is_err());
    /// ok.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn into_result(self) -> Result<usize, Failure> {
        let called = self.called;
        match self.into_failures().into_iter().next() {
            Some(failure) => Err(failure),
            None => Ok(called),
        }
    }

    /// Adds a failure found after the receivers ran (a collected value of the wrong type).
    pub(crate) fn push_failure(&mut self, failure: Failure) {
        self.failed
            .get_or_insert_with(Box::default)
            .failures
            .push(failure);
    }
}

/// One receiver's returned value in a collecting send: blinker's `(receiver, value)` pair.
///
/// ```
/// use signals_core::{signal, Receiver, Signal};
///
/// #[signal(namespace = "doc_response", output = u32)]
/// struct Count { n: u32 }
///
/// let _c = Count::signal()
///     .connect(Receiver::new(|_: &str, ev: &Count| ev.n * 2).name("doubler"))
///     .scoped();
/// let collected = Count { n: 4 }.sending("me").collect().run();
/// assert_eq!(collected.responses[0].receiver.name, "doubler");
/// assert_eq!(collected.responses[0].value, 8);
/// ```
#[derive(Debug)]
pub struct Response<O> {
    /// The receiver that returned it.
    pub receiver: Arc<ReceiverInfo>,
    /// What it returned.
    pub value: O,
}

/// The result of a collecting send: each receiver's value, in call order, and the report. A
/// receiver that failed gives no value: it is in the report's failures instead, so there may
/// be fewer responses than receivers called.
///
/// ```
/// use signals_core::{signal, Signal};
///
/// #[signal(namespace = "doc_collected", output = u32)]
/// struct Count { n: u32 }
///
/// let _a = Count::signal().connect(|_: &str, ev: &Count| ev.n).scoped();
/// let _b = Count::signal().connect(|_: &str, _: &Count| Err::<u32, _>("no")).scoped();
/// let collected = Count { n: 4 }.sending("me").collect().run();
/// assert_eq!(collected.report.receivers_called(), 2);
/// assert_eq!(collected.report.failures().len(), 1);
/// assert_eq!(collected.responses.len(), 1);
/// ```
#[derive(Debug)]
#[must_use]
pub struct Collected<O> {
    /// The values, in call order.
    pub responses: Vec<Response<O>>,
    /// Calls and failures.
    pub report: SendReport,
}

impl<O> Collected<O> {
    /// The values alone, in call order (the report is dropped).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_collected_values", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _a = Count::signal().connect(|_: &str, ev: &Count| ev.n).scoped();
    /// let _b = Count::signal().connect(|_: &str, ev: &Count| ev.n + 1).scoped();
    /// assert_eq!(Count { n: 1 }.sending("me").collect().run().into_values(), [1, 2]);
    /// ```
    pub fn into_values(self) -> Vec<O> {
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
/// The fast loop here runs while every receiver returns normally and no newer snapshot
/// `replaced` the one `list` belongs to. It keeps only its place in the list, and one
/// `catch_unwind` guards it, so a send without panics pays nothing per receiver for the
/// guard. Anything else (a failure, a panic, a gone receiver, or a connection changed by a
/// receiver or by another thread) hands the rest of the send to [`deliver_rest`], out of line.
#[inline(always)]
pub(crate) fn deliver<C: ?Sized, A: ?Sized, O>(
    core: &'static SignalCore,
    replaced: &AtomicBool,
    list: &ReceiverList<C, A>,
    mode: Mode,
    invoke: impl Fn(&C) -> CallResult<O>,
    mut collect: Option<&mut Collect<'_, O>>,
) -> SendReport {
    // User code may have run since the send picked its snapshot (the `Drop` of a closure the
    // thread's cache let go, a `Sender::sender_key`), and it may have disconnected someone.
    if replaced.load(Ordering::Acquire) {
        return deliver_rest(core, list, mode, invoke, collect, 0, Ok(None));
    }
    let calls = &list.calls;
    let mut left = calls.iter();
    let stopped = catch_unwind(AssertUnwindSafe(|| {
        while let Some(call) = left.next() {
            match invoke(call) {
                CallResult::Value(value) => {
                    if let Some(collect) = collect.as_mut() {
                        let index = calls.len() - left.len() - 1;
                        collect(&list.meta[index].info, value);
                    }
                }
                CallResult::NoValue => {}
                CallResult::Abnormal(abnormal) => return Some(abnormal),
            }
            // A change made by this receiver, or by another thread meanwhile.
            if replaced.load(Ordering::Acquire) {
                break;
            }
        }
        None
    }));
    let next = calls.len() - left.len();
    if matches!(stopped, Ok(None)) && next == calls.len() {
        return SendReport {
            called: next,
            failed: None,
        };
    }
    deliver_rest(core, list, mode, invoke, collect, next, stopped)
}

/// The rest of a send whose fast loop stopped after the receiver at `next - 1`: `stopped` says
/// how that call ended (`Ok(None)`: normally, but a connection changed; with `next == 0`, a
/// connection changed before the first call). Records it, then calls the remaining receivers
/// one at a time, each only if it is still connected. After a panic the loop resumes at the
/// next receiver (a robust send) or ends (a fail-fast one).
#[cold]
#[inline(never)]
fn deliver_rest<C: ?Sized, A: ?Sized, O>(
    core: &'static SignalCore,
    list: &ReceiverList<C, A>,
    mode: Mode,
    invoke: impl Fn(&C) -> CallResult<O>,
    mut collect: Option<&mut Collect<'_, O>>,
    mut next: usize,
    stopped: Result<Option<Box<Abnormal>>, Payload>,
) -> SendReport {
    let mut rare = Rare::default();
    let mut go_on = match stopped {
        Ok(None) => true,
        Ok(Some(abnormal)) => {
            let failed = rare.abnormal(*abnormal, &list.meta[next - 1].info);
            !(failed && mode == Mode::FailFast)
        }
        Err(payload) => {
            rare.panicked(&list.meta[next - 1].info, payload);
            mode == Mode::Robust
        }
    };
    while go_on {
        let run = catch_unwind(AssertUnwindSafe(|| {
            while let Some(call) = list.calls.get(next) {
                let meta = &list.meta[next];
                next += 1;
                if !meta.is_active() {
                    rare.not_called += 1;
                    continue;
                }
                match invoke(call) {
                    CallResult::Value(value) => {
                        if let Some(collect) = collect.as_mut() {
                            collect(&meta.info, value);
                        }
                    }
                    CallResult::NoValue => {}
                    CallResult::Abnormal(abnormal) => {
                        if rare.abnormal(*abnormal, &meta.info) && mode == Mode::FailFast {
                            return;
                        }
                    }
                }
            }
        }));
        go_on = match run {
            Ok(()) => false,
            Err(payload) => {
                rare.panicked(&list.meta[next - 1].info, payload);
                mode == Mode::Robust
            }
        };
    }
    rare.finish(core, next, list.calls.len())
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
    /// Records that `receiver` panicked.
    fn panicked(&mut self, receiver: &Arc<ReceiverInfo>, payload: Payload) {
        self.fail(Failure {
            receiver: receiver.clone(),
            kind: FailureKind::Panic(panic_message(payload)),
        });
    }

    /// The report of a send that stopped before the receiver at `next` of `count`: prunes
    /// gone receivers first.
    fn finish(self, core: &'static SignalCore, next: usize, count: usize) -> SendReport {
        if self.gone {
            core.prune_gone();
        }
        let mut failed = self.failed;
        if let Some(failed) = &mut failed {
            failed.stopped_early = next < count;
        }
        SendReport {
            called: next - self.not_called,
            failed,
        }
    }

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
                let kind = match error.downcast::<WrongValue>() {
                    Ok(wrong) => FailureKind::WrongValue {
                        expected: wrong.expected,
                        actual: wrong.actual,
                    },
                    Err(error) => FailureKind::Error(error),
                };
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
            Err(payload) => {
                self.panicked(&meta.info, payload);
                return true;
            }
        }
        false
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
    // The next receiver to call: where a fail-fast send stopped, or `count`.
    let mut next = 0;
    // Async receivers are rare on a list, and the array is empty when there are none.
    let async_at = |index: usize| list.async_at(index);
    let sync_call = |index: usize| catch_unwind(AssertUnwindSafe(|| invoke(&list.calls[index])));
    let start_call = |call: &'f A| catch_unwind(AssertUnwindSafe(|| start(call)));
    match how {
        Concurrency::Sequential(mode) => {
            while next < count {
                let meta = &list.meta[next];
                next += 1;
                if !meta.is_active() {
                    rare.not_called += 1;
                    continue;
                }
                let outcome = match async_at(next - 1) {
                    None => sync_call(next - 1),
                    Some(call) => match start_call(call) {
                        Ok(future) => CatchUnwind(future).await,
                        Err(payload) => Err(payload),
                    },
                };
                if rare.outcome(meta, outcome, &mut collect) && mode == Mode::FailFast {
                    break;
                }
            }
        }
        Concurrency::Concurrent => {
            let mut outcomes = Vec::new();
            let mut running = Vec::new();
            for index in 0..count {
                if !list.meta[index].is_active() {
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
            next = count;
        }
    }
    rare.finish(core, next, count)
}

/// The values of a by-name collecting send as `V`: a value of another type is a failure in
/// the report, never a panic.
pub(crate) fn collected_as<V: Any>(
    responses: Vec<Response<AnyValue>>,
    mut report: SendReport,
) -> Collected<V> {
    let mut values = Vec::with_capacity(responses.len());
    for Response { receiver, value } in responses {
        match value.downcast::<V>() {
            CallResult::Value(value) => values.push(Response { receiver, value }),
            CallResult::NoValue => {}
            CallResult::Abnormal(abnormal) => {
                if let Abnormal::Failed(error) = *abnormal {
                    if let Ok(wrong) = error.downcast::<WrongValue>() {
                        report.push_failure(Failure {
                            receiver,
                            kind: FailureKind::WrongValue {
                                expected: wrong.expected,
                                actual: wrong.actual,
                            },
                        });
                    }
                }
            }
        }
    }
    Collected {
        responses: values,
        report,
    }
}
