//! The `tracing` feature: a WARN event for each receiver failure, and a TRACE span around
//! each send to a signal with receivers. Compiled only with the feature.
//!
//! Both use the target [`TARGET`] (`signals`), so `RUST_LOG=signals=warn` (an `EnvFilter`)
//! or a `Targets` filter selects them.
//!
//! The send path pays for this only [`maybe_traced`]: `tracing`'s own first check for a
//! disabled span (the compile-time maximum level, then one relaxed load of the maximum level
//! any subscriber wants, compared with TRACE). The callgrind probe counts 6 instructions per
//! send for it: the load of the level's address, the load, the test and the branch, and a
//! jump and an address add that the branch costs the send's layout. When the check passes,
//! the send goes through [`in_send_span`] (or [`in_send_span_async`]), out of line, which
//! makes the span with the full check (the callsite's interest, the subscriber's `enabled`)
//! and records in it how many receivers were called. A failure is already off the fast loop
//! (`deliver.rs` `call_rest`, the async loops): [`failure`] is cold and out of line too.

use std::fmt;
use std::future::Future;

use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Instrument, Level, Span};

use crate::engine::signal::SignalCore;
use crate::report::{Failure, FailureKind, SendReport};

/// The target of the events and spans.
pub(crate) const TARGET: &str = "signals";

/// Logs one receiver's failure in a send of `signal` (its qualified name) at WARN, with the
/// receiver's name, location and plugin (absent when it has none) and the error or panic
/// message. Called once for each failure a send reports, where the report records it.
#[cold]
#[inline(never)]
pub(crate) fn failure(signal: &'static str, failure: &Failure) {
    let receiver = &failure.receiver;
    tracing::warn!(
        target: TARGET,
        signal,
        receiver = &*receiver.name,
        location = %receiver.location,
        plugin = receiver.plugin.as_deref(),
        kind = kind(&failure.kind),
        error = %Message(&failure.kind),
        "receiver failed"
    );
}

/// The `kind` field of a failure's event.
fn kind(kind: &FailureKind) -> &'static str {
    match kind {
        FailureKind::Error(_) => "error",
        FailureKind::Panic(_) => "panic",
        FailureKind::AsyncReceiver => "async_receiver",
        FailureKind::WrongValue { .. } => "wrong_value",
        FailureKind::TypedReceiver => "typed_receiver",
        FailureKind::Kwarg(_) => "kwarg",
    }
}

/// The `error` field of a failure's event: the error's text, the panic's message, or what
/// the report says of the other kinds. Formatted only if a subscriber records the event.
struct Message<'a>(&'a FailureKind);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            FailureKind::Error(error) => write!(f, "{error}"),
            FailureKind::Panic(message) => f.write_str(message),
            FailureKind::AsyncReceiver => f.write_str(
                "the receiver is async; a sync send cannot run it \u{2014} use send_async",
            ),
            FailureKind::WrongValue { expected, actual } => write!(
                f,
                "the receiver returned a `{actual}`, but this send collects `{expected}` values"
            ),
            FailureKind::TypedReceiver => f.write_str(
                "the receiver is typed; a bag decoded from JSON cannot reach it \u{2014} derive \
                 Serialize and Deserialize on the signal's struct",
            ),
            FailureKind::Kwarg(error) => write!(f, "the receiver was not called: {error}"),
        }
    }
}

/// Whether a subscriber might want the send span: `tracing`'s first check of a span's
/// callsite, inlined into the send. False when no subscriber wants TRACE from any target
/// (a load of tracing-core's maximum level, a test and a branch; in a position-independent
/// binary, one more load for the level's address), and always false when `tracing`'s
/// `max_level_*` features compile TRACE out.
#[inline(always)]
pub(crate) fn maybe_traced() -> bool {
    Level::TRACE <= STATIC_MAX_LEVEL && Level::TRACE <= LevelFilter::current()
}

/// The span of a send of `core`: `send`, at TRACE, with the signal's qualified name and, once
/// the send is over, the number of receivers it called. Disabled unless a subscriber wants it.
fn send_span(core: &'static SignalCore) -> Span {
    tracing::trace_span!(
        target: TARGET,
        "send",
        signal = core.qualified,
        receivers = tracing::field::Empty,
    )
}

/// Runs a sync send of `core` inside its span, and records how many receivers it called.
#[cold]
#[inline(never)]
pub(crate) fn in_send_span(
    core: &'static SignalCore,
    send: impl FnOnce() -> SendReport,
) -> SendReport {
    let span = send_span(core);
    if span.is_disabled() {
        return send();
    }
    let report = span.in_scope(send);
    span.record("receivers", report.receivers_called());
    report
}

/// Runs an async send of `core` inside its span (entered at each poll), and records how many
/// receivers it called.
pub(crate) async fn in_send_span_async(
    core: &'static SignalCore,
    send: impl Future<Output = SendReport>,
) -> SendReport {
    let span = send_span(core);
    if span.is_disabled() {
        return send.await;
    }
    let report = send.instrument(span.clone()).await;
    span.record("receivers", report.receivers_called());
    report
}
