//! The few pieces of async machinery the async sends need, written here so that the crate
//! depends on no async runtime: a boxed future type, a future that catches panics, and a join
//! of many futures. Any executor drives them (tokio, async-std, smol, `futures::executor`).

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed, type-erased future that can move between threads: what an async receiver returns.
///
/// ```
/// use signals_core::BoxFuture;
///
/// fn later(n: &u32) -> BoxFuture<'_, u32> {
///     Box::pin(async move { *n + 1 })
/// }
/// # let _ = later(&1);
/// ```
pub type BoxFuture<'a, R> = Pin<Box<dyn Future<Output = R> + Send + 'a>>;

/// A panic's payload, as `catch_unwind` gives it.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Drops `value` under `catch_unwind`, so that a `Drop` that panics (a panic payload's, or a
/// value a receiver's closure captured) never escapes the caller. If it panics, the payload
/// of that panic is forgotten rather than dropped: its own `Drop` could panic again. Nothing
/// reports it; the panic hook has already printed it.
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        std::mem::forget(payload);
    }
}

/// Polls `F`, turning a panic during a poll into `Ready(Err(payload))`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Payload>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Drives every future together; completes when all have, with each output beside the index
/// it was pushed with, in completion order. A finished future is dropped at once.
pub(crate) struct JoinAll<F: Future> {
    running: Vec<(usize, Option<F>)>,
    done: Vec<(usize, F::Output)>,
}

// Nothing is pinned through a `JoinAll`: its futures are `Unpin` and polled by `Pin::new`,
// and the outputs are plain values.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future + Unpin> JoinAll<F> {
    pub(crate) fn new(running: Vec<(usize, F)>) -> Self {
        let done = Vec::with_capacity(running.len());
        JoinAll {
            running: running.into_iter().map(|(i, f)| (i, Some(f))).collect(),
            done,
        }
    }
}

impl<F: Future + Unpin> Future for JoinAll<F> {
    type Output = Vec<(usize, F::Output)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let JoinAll { running, done } = self.get_mut();
        for (index, slot) in running.iter_mut() {
            if let Some(future) = slot {
                if let Poll::Ready(output) = Pin::new(future).poll(cx) {
                    *slot = None;
                    done.push((*index, output));
                }
            }
        }
        if done.len() == running.len() {
            running.clear();
            Poll::Ready(std::mem::take(done))
        } else {
            Poll::Pending
        }
    }
}

/// Polls `future` once, on the task that awaits this; `Pending` leaves it to be polled again
/// (its waker is registered with that task).
pub(crate) async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}
