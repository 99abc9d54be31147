//! What a send gives back: the report of each receiver's failure, and the values a
//! collecting send gathers.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::KwargError;
use crate::receiver::{Abnormal, AnyValue, BoxError, CallResult, ReceiverInfo, WrongValue};

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
    /// It is a typed receiver, and the send carried a bag decoded from JSON, not the signal's
    /// struct: it did not run. [`NamedSignal::send_json`](crate::NamedSignal::send_json) sends
    /// such a bag when the struct is not `Serialize + Deserialize`; derive both on it so that
    /// typed receivers get the struct.
    TypedReceiver,
    /// A by-name receiver of one kwarg ([`Receiver::kwarg`](crate::Receiver::kwarg)) was not
    /// called: the send's bag has no kwarg of that name, or holds another type in it. The
    /// error says which, and what the bag has.
    Kwarg(KwargError),
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
            FailureKind::Kwarg(e) => write!(f, "receiver {} was not called: {e}", self.receiver),
            FailureKind::TypedReceiver => write!(
                f,
                "receiver {} is typed; a bag decoded from JSON cannot reach it \u{2014} derive Serialize and Deserialize on the signal's struct",
                self.receiver
            ),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FailureKind::Error(e) => Some(&**e),
            FailureKind::Kwarg(e) => Some(e),
            FailureKind::Panic(_)
            | FailureKind::AsyncReceiver
            | FailureKind::WrongValue { .. }
            | FailureKind::TypedReceiver => None,
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
    pub(crate) called: usize,
    pub(crate) failed: Option<Box<Failed>>,
}

impl Drop for SendReport {
    /// Inlined: a report without failures (the usual one) is dropped with a test, not a call
    /// to the drop of its failure list.
    #[inline]
    fn drop(&mut self) {
        if let Some(failed) = self.failed.take() {
            drop_failed(failed);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_failed(failed: Box<Failed>) {
    drop(failed);
}

/// The failures of a send, allocated only when there is one.
#[derive(Debug, Default)]
pub(crate) struct Failed {
    pub(crate) failures: Vec<Failure>,
    pub(crate) stopped_early: bool,
}

impl SendReport {
    /// How many receivers were called (those that failed included). An async receiver that a
    /// sync send met was not called: it is reported as a failure
    /// ([`FailureKind::AsyncReceiver`]) and not counted here; nor are a typed receiver met by
    /// a bag decoded from JSON ([`FailureKind::TypedReceiver`]), a receiver of one kwarg that
    /// could not read it ([`FailureKind::Kwarg`]), a by-name receiver whose sender's key could
    /// not be made, and a receiver skipped because it was disconnected during the send or its
    /// weak target was gone.
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
    pub fn into_failures(mut self) -> Vec<Failure> {
        self.failed.take().map(|f| f.failures).unwrap_or_default()
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
#[must_use = "the collected values and the report of the send"]
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
            CallResult::NoValue | CallResult::Off | CallResult::Check => {}
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
