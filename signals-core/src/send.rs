//! Calling the receivers of one send, and what the caller gets back.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::core::SignalCore;
use crate::receiver::{BoxError, Outcome, ReceiverInfo};
use crate::snapshot::Entry;

/// Whether a send goes on after a receiver fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Call every receiver; report each failure.
    Robust,
    /// Stop at the first failure (blinker's behaviour).
    FailFast,
}

/// How a receiver failed.
#[derive(Debug)]
pub enum FailureKind {
    /// It returned an error.
    Error(BoxError),
    /// It panicked; the panic's message.
    Panic(String),
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
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FailureKind::Error(e) => Some(&**e),
            FailureKind::Panic(_) => None,
        }
    }
}

/// What a send did: how many receivers it called, and each failure.
///
/// A send that meets no failure allocates nothing: the failure list stays empty.
#[derive(Debug, Default)]
#[must_use = "a send report carries the receivers' failures; check `is_ok()` or `failures()`"]
pub struct SendReport {
    called: usize,
    failures: Vec<Failure>,
    stopped_early: bool,
}

impl SendReport {
    /// How many receivers were called (those that failed included).
    pub fn receivers_called(&self) -> usize {
        self.called
    }

    /// The receivers that returned an error or panicked, in call order.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// Takes the failures out of the report.
    pub fn into_failures(self) -> Vec<Failure> {
        self.failures
    }

    /// Whether no receiver failed.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// Whether a fail-fast send stopped at a failure before calling every receiver.
    pub fn stopped_early(&self) -> bool {
        self.stopped_early
    }

    /// The first failure as an error, for `?`.
    pub fn into_result(self) -> Result<usize, Failure> {
        match self.failures.into_iter().next() {
            Some(failure) => Err(failure),
            None => Ok(self.called),
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

/// Calls `entries` in order with `invoke`, handing values to `collect`.
///
/// When the signal's generation moves during the send (a receiver, or another thread,
/// connected or disconnected something), each later entry is checked before its call, so a
/// receiver disconnected earlier in this send is not called.
#[inline]
pub(crate) fn deliver<C: ?Sized, O>(
    core: &'static SignalCore,
    generation: u64,
    entries: &[Entry<C>],
    mode: Mode,
    invoke: impl Fn(&C) -> Outcome<O>,
    mut collect: impl FnMut(&Arc<ReceiverInfo>, O),
) -> SendReport {
    let mut report = SendReport::default();
    let mut changed = false;
    let mut gone = false;
    for entry in entries {
        if !changed {
            changed = core.generation.load(Ordering::Acquire) != generation;
        }
        if changed && !entry.active.load(Ordering::Acquire) {
            continue;
        }
        let failure = match catch_unwind(AssertUnwindSafe(|| invoke(&entry.call))) {
            Ok(Outcome::Value(value)) => {
                report.called += 1;
                collect(&entry.info, value);
                continue;
            }
            Ok(Outcome::Done) => {
                report.called += 1;
                continue;
            }
            Ok(Outcome::Gone) => {
                gone = true;
                continue;
            }
            Ok(Outcome::Failed(error)) => FailureKind::Error(error),
            Err(payload) => FailureKind::Panic(panic_message(payload)),
        };
        report.called += 1;
        report.failures.push(Failure {
            receiver: entry.info.clone(),
            kind: failure,
        });
        if mode == Mode::FailFast {
            report.stopped_early = !std::ptr::eq(entry, entries.last().unwrap_or(entry));
            break;
        }
    }
    if gone {
        core.prune_gone();
    }
    report
}
