//! A send with options: the one pattern for fail-fast, collecting, async and concurrent sends,
//! on typed and by-name handles alike.
//!
//! `send` and `send_async` cover the usual case (every receiver runs, failures reported).
//! `sending` starts a [`Sending`], which says how: [`fail_fast`](Sending::fail_fast) stops at
//! the first failure, [`collect`](Sending::collect) gathers the receivers' values; then
//! [`run`](Sending::run) sends now, [`run_async`](Sending::run_async) awaits the receivers
//! one at a time, and [`run_concurrent`](Sending::run_concurrent) runs the async ones
//! together.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::by_name::handle::NamedSignal;
use crate::engine::deliver::{Concurrency, Mode};
use crate::engine::snapshot::ByNameSendFuture;
use crate::error::Error;
use crate::kwargs::Kwargs;
use crate::receiver::{AnyValue, ReceiverInfo};
use crate::report::{collected_as, Collected, Response, SendReport};
use crate::sender::SenderKey;
use crate::typed::handle::TypedSignal;
use crate::typed::signal::Signal;

/// A send with options, made by `sending` on a signal value or a handle. Nothing is sent
/// until [`run`](Sending::run), [`run_async`](Sending::run_async) or
/// [`run_concurrent`](Sending::run_concurrent).
///
/// | blinker, Django | here |
/// |---|---|
/// | blinker `send`, Django `send` (the first exception propagates) | `.sending(s).fail_fast().run().into_result()?` |
/// | the `(receiver, value)` pairs `send` returns | `.sending(s).collect().run()` |
/// | blinker `send_async` (one at a time, the first exception propagates) | `.sending(s).fail_fast().run_async()` |
/// | Django `asend_robust` (one at a time, every receiver) | `.send_async(s)` |
/// | Django `asend` (receivers together) | `.sending(s).run_concurrent()` |
///
/// ```
/// use signals_core::{signal, Signal};
///
/// #[signal(namespace = "doc_sending")]
/// struct Saved { id: u32 }
///
/// let _bad = Saved::signal().connect(|_: &str, _: &Saved| Err::<(), _>("no")).scoped();
/// let _late = Saved::signal().connect(|_: &str, _: &Saved| {}).scoped();
/// let report = Saved { id: 1 }.sending("web").fail_fast().run();
/// assert!(report.stopped_early());
/// assert_eq!(report.receivers_called(), 1);
/// let failure = Saved { id: 1 }.sending("web").fail_fast().run().into_result().unwrap_err();
/// assert!(failure.to_string().ends_with("returned an error: no"));
/// ```
#[must_use = "nothing is sent until `run`, `run_async` or `run_concurrent`"]
pub struct Sending<'a, D, C = Report> {
    send: D,
    mode: Mode,
    _out: PhantomData<(&'a (), C)>,
}

/// What a [`Sending`] gives when it does not collect: a [`SendReport`].
#[derive(Debug)]
pub struct Report;

/// What a collecting [`Sending`] gives: a [`Collected`] of `V`.
#[derive(Debug)]
pub struct Collect<V>(PhantomData<fn() -> V>);

/// The send of a typed signal's value, inside a [`Sending`].
pub struct TypedSend<'a, T: Signal> {
    pub(crate) signal: TypedSignal<T>,
    pub(crate) sender: &'a T::Sender,
    pub(crate) args: &'a T,
}

/// A by-name send, inside a [`Sending`].
pub struct NamedSend<'a> {
    pub(crate) signal: NamedSignal,
    pub(crate) key: SenderKey<'a>,
    pub(crate) args: &'a dyn Kwargs,
}

impl<'a, D> Sending<'a, D> {
    pub(crate) fn new(send: D) -> Self {
        Sending {
            send,
            mode: Mode::Robust,
            _out: PhantomData,
        }
    }
}

impl<'a, D, C> Sending<'a, D, C> {
    /// Stops at the first receiver that fails (blinker's behaviour, Django's `send`): the
    /// receivers after it are not called, and the report says it stopped early
    /// ([`SendReport::stopped_early`]; [`SendReport::into_result`] gives the failure).
    /// A concurrent send starts every receiver before any has finished, so `fail_fast` has
    /// no effect on [`run_concurrent`](Sending::run_concurrent). By name, a value of the wrong
    /// type (see [`collect`](Sending::collect)) is found after the receivers ran: it does not
    /// stop the send, and its failure comes last in the report.
    pub fn fail_fast(mut self) -> Self {
        self.mode = Mode::FailFast;
        self
    }

    fn concurrency(&self, concurrent: bool) -> Concurrency {
        match concurrent {
            true => Concurrency::Concurrent,
            false => Concurrency::Sequential(self.mode),
        }
    }

    fn collecting<V>(self) -> Sending<'a, D, Collect<V>> {
        Sending {
            send: self.send,
            mode: self.mode,
            _out: PhantomData,
        }
    }
}

impl<'a, T: Signal> Sending<'a, TypedSend<'a, T>, Report> {
    /// Collects each receiver's value, in connection order, with the receiver that gave it
    /// (blinker's `send` result). Failed receivers give no value; they are in the report.
    pub fn collect(self) -> Sending<'a, TypedSend<'a, T>, Collect<T::Output>> {
        self.collecting()
    }

    /// Sends now. Async receivers are not run: each is reported as a failure of kind
    /// [`FailureKind::AsyncReceiver`](crate::FailureKind::AsyncReceiver).
    #[inline]
    pub fn run(self) -> SendReport {
        let TypedSend {
            signal,
            sender,
            args,
        } = self.send;
        signal.dispatch(args, sender, self.mode, None)
    }

    /// Sends, awaiting every receiver, sync and async, one at a time in connection order.
    pub fn run_async(self) -> impl Future<Output = SendReport> + Send + 'a {
        let how = self.concurrency(false);
        let TypedSend {
            signal,
            sender,
            args,
        } = self.send;
        async move { signal.dispatch_async(args, sender, how, None).await }
    }

    /// Sends, running the async receivers together: in connection order, each sync receiver
    /// is called and each async receiver is started (polled once); then the started futures
    /// are driven together on the task that polls this future (nothing is spawned). Failures
    /// and values are reported in connection order. A concurrent send does not stop early.
    pub fn run_concurrent(self) -> impl Future<Output = SendReport> + Send + 'a {
        let how = self.concurrency(true);
        let TypedSend {
            signal,
            sender,
            args,
        } = self.send;
        async move { signal.dispatch_async(args, sender, how, None).await }
    }
}

impl<'a, T: Signal> Sending<'a, TypedSend<'a, T>, Collect<T::Output>> {
    /// Sends now and collects the values.
    pub fn run(self) -> Collected<T::Output> {
        let TypedSend {
            signal,
            sender,
            args,
        } = self.send;
        let mut responses = Vec::new();
        let mut push = |receiver: &Arc<ReceiverInfo>, value| {
            responses.push(Response {
                receiver: receiver.clone(),
                value,
            })
        };
        let report = signal.dispatch(args, sender, self.mode, Some(&mut push));
        Collected { responses, report }
    }

    /// Sends, awaiting each receiver in turn, and collects the values.
    pub fn run_async(self) -> impl Future<Output = Collected<T::Output>> + Send + 'a {
        let how = self.concurrency(false);
        self.collect_async(how)
    }

    /// Sends, running the async receivers together, and collects the values in connection
    /// order (not in the order the futures finish).
    pub fn run_concurrent(self) -> impl Future<Output = Collected<T::Output>> + Send + 'a {
        let how = self.concurrency(true);
        self.collect_async(how)
    }

    fn collect_async(
        self,
        how: Concurrency,
    ) -> impl Future<Output = Collected<T::Output>> + Send + 'a {
        let TypedSend {
            signal,
            sender,
            args,
        } = self.send;
        async move {
            let mut responses = Vec::new();
            let report = signal
                .dispatch_async(args, sender, how, Some(&mut responses))
                .await;
            Collected { responses, report }
        }
    }
}

impl<'a> Sending<'a, NamedSend<'a>, Report> {
    /// Collects each receiver's value as a `V`, in connection order. A by-name receiver
    /// returns any value ([`IntoReply`](crate::IntoReply)); one of another type than `V` is a
    /// failure of kind [`FailureKind::WrongValue`](crate::FailureKind::WrongValue) in the
    /// report, never a panic. Types must match exactly: a receiver returning the literal `5`
    /// returns an `i32` (Rust's default), which a `collect::<i64>()` reports as a wrong value;
    /// write `5i64`.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// let number = Namespace::get("doc_named_collect")?.signal("number")?;
    /// let _x2 = number
    ///     .connect(|sender: &SenderKey<'_>, _: &dyn Kwargs| sender.as_int().unwrap_or(0) * 2)
    ///     .scoped();
    /// let _x10 = number
    ///     .connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| 100i128).sender(&10))
    ///     .scoped();
    /// let bag = DynKwargs::new();
    /// assert_eq!(number.sending(&5, &bag).collect::<i128>().run()?.into_values(), [10]);
    /// assert_eq!(number.sending(&10, &bag).collect::<i128>().run()?.into_values(), [20, 100]);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn collect<V: Any + Send>(self) -> Sending<'a, NamedSend<'a>, Collect<V>> {
        self.collecting()
    }

    /// Sends now. `Err` when the signal is typed and the bag or the sender does not fit it
    /// (see [`NamedSignal::send`]).
    pub fn run(self) -> Result<SendReport, Error> {
        self.send.run(self.mode, None)
    }

    /// Sends, awaiting each receiver in turn.
    pub fn run_async(self) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        self.report_async(false)
    }

    /// Sends, running the async receivers together.
    pub fn run_concurrent(self) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        self.report_async(true)
    }

    fn report_async(
        self,
        concurrent: bool,
    ) -> impl Future<Output = Result<SendReport, Error>> + Send + 'a {
        let future = self.start_async(concurrent, false);
        async move { future.await.map(|(report, _)| report) }
    }
}

impl<'a, V: Any + Send> Sending<'a, NamedSend<'a>, Collect<V>> {
    /// Sends now and collects the values as `V`.
    pub fn run(self) -> Result<Collected<V>, Error> {
        let signal = self.send.signal;
        let mut responses = Vec::new();
        let report = self.send.run(self.mode, Some(&mut responses))?;
        Ok(collected_named(signal, responses, report))
    }

    /// Sends, awaiting each receiver in turn, and collects the values as `V`.
    pub fn run_async(self) -> impl Future<Output = Result<Collected<V>, Error>> + Send + 'a {
        self.collect_async(false)
    }

    /// Sends, running the async receivers together, and collects the values as `V`.
    pub fn run_concurrent(self) -> impl Future<Output = Result<Collected<V>, Error>> + Send + 'a {
        self.collect_async(true)
    }

    fn collect_async(
        self,
        concurrent: bool,
    ) -> impl Future<Output = Result<Collected<V>, Error>> + Send + 'a {
        let signal = self.send.signal;
        let future = self.start_async(concurrent, true);
        async move {
            let (report, responses) = future.await?;
            Ok(collected_named(signal, responses, report))
        }
    }
}

/// The values of a by-name collecting send of `signal` as `V`. A value of another type is a
/// failure, found here after the send: with the `tracing` feature, it is logged here (after
/// the send's span), as the send logs the failures it finds.
fn collected_named<V: Any>(
    signal: NamedSignal,
    responses: Vec<Response<AnyValue>>,
    report: SendReport,
) -> Collected<V> {
    #[cfg(feature = "tracing")]
    let found = report.failures().len();
    let collected = collected_as(responses, report);
    #[cfg(feature = "tracing")]
    for failure in &collected.report.failures()[found..] {
        crate::engine::trace::failure(signal.qualified_name(), failure);
    }
    #[cfg(not(feature = "tracing"))]
    let _ = signal;
    collected
}

impl<'a, C> Sending<'a, NamedSend<'a>, C> {
    /// Starts a by-name async send, one at a time or `concurrent`, keeping the values when
    /// `collect` is set.
    fn start_async(self, concurrent: bool, collect: bool) -> ByNameSendFuture<'a> {
        let how = self.concurrency(concurrent);
        self.send.run_async(how, collect)
    }
}

impl<'a> NamedSend<'a> {
    fn run(
        self,
        mode: Mode,
        collect: Option<&mut Vec<Response<AnyValue>>>,
    ) -> Result<SendReport, Error> {
        self.signal.send_in(mode, &self.key, self.args, collect)
    }

    fn run_async(self, how: Concurrency, collect: bool) -> ByNameSendFuture<'a> {
        self.signal.send_async_in(how, self.key, self.args, collect)
    }
}

impl<D, C> fmt::Debug for Sending<'_, D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sending")
            .field("mode", &self.mode)
            .field("collect", &std::any::type_name::<C>())
            .finish_non_exhaustive()
    }
}

impl<T: Signal> fmt::Debug for TypedSend<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedSend")
            .field("signal", &self.signal)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NamedSend<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedSend")
            .field("signal", &self.signal)
            .field("sender", &self.key)
            .finish_non_exhaustive()
    }
}
