//! Runtime-agnostic helpers for the async tests: yielding, a gate, a rendezvous, a timeout and
//! a single poll, written on `std` alone so that every case runs unchanged on tokio and on
//! `futures::executor::block_on` (which has no timer).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Returns `Pending` once (waking the task at once), then `Ready`: lets the executor run
/// something else, as a real await on I/O would.
pub fn yield_now() -> impl Future<Output = ()> + Send {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

/// Yields `n` times.
pub async fn yield_times(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// What receivers did, in order.
#[derive(Clone, Default, Debug)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    /// Appends an entry.
    pub fn push(&self, entry: impl Into<String>) {
        lock(&self.0).push(entry.into());
    }

    /// The entries so far.
    pub fn entries(&self) -> Vec<String> {
        lock(&self.0).clone()
    }

    /// Takes the entries, leaving the log empty.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.0))
    }
}

/// Pushes `entry` to `log` when dropped: shows that a receiver's future was dropped.
pub struct OnDrop {
    log: Log,
    entry: String,
}

impl OnDrop {
    /// A guard that logs `entry` when dropped.
    pub fn new(log: &Log, entry: impl Into<String>) -> Self {
        OnDrop {
            log: log.clone(),
            entry: entry.into(),
        }
    }
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.log.push(std::mem::take(&mut self.entry));
    }
}

#[derive(Default)]
struct GateState {
    open: bool,
    wakers: Vec<Waker>,
}

/// A latch: [`wait`](Gate::wait) completes once [`open`](Gate::open) was called, from any
/// thread.
#[derive(Clone, Default)]
pub struct Gate(Arc<Mutex<GateState>>);

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the gate and wakes every waiter.
    pub fn open(&self) {
        let wakers = {
            let mut state = lock(&self.0);
            state.open = true;
            std::mem::take(&mut state.wakers)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Completes once the gate is open.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let gate = self.0.clone();
        std::future::poll_fn(move |cx| {
            let mut state = lock(&gate);
            if state.open {
                Poll::Ready(())
            } else {
                state.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// A meeting point for `parties` futures: each [`arrive`](Rendezvous::arrive) completes once
/// all of them have arrived. Awaited one after the other, they never complete.
pub struct Rendezvous {
    parties: usize,
    state: Mutex<(usize, Vec<Waker>)>,
}

impl Rendezvous {
    /// A meeting point for `parties`.
    pub fn new(parties: usize) -> Arc<Self> {
        Arc::new(Rendezvous {
            parties,
            state: Mutex::new((0, Vec::new())),
        })
    }

    /// Arrives, and completes once every party has.
    pub fn arrive(self: &Arc<Self>) -> impl Future<Output = ()> + Send + 'static {
        let this = self.clone();
        let mut arrived = false;
        std::future::poll_fn(move |cx| {
            let wakers = {
                let mut state = lock(&this.state);
                if !arrived {
                    arrived = true;
                    state.0 += 1;
                }
                if state.0 < this.parties {
                    state.1.push(cx.waker().clone());
                    return Poll::Pending;
                }
                std::mem::take(&mut state.1)
            };
            for waker in wakers {
                waker.wake();
            }
            Poll::Ready(())
        })
    }
}

/// Completes after `duration`, measured by a thread of its own (no executor timer).
fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
    let state: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
    let mut started = false;
    std::future::poll_fn(move |cx| {
        if !started {
            started = true;
            let state = state.clone();
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                let waker = {
                    let mut s = lock(&state);
                    s.0 = true;
                    s.1.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
        }
        let mut s = lock(&state);
        if s.0 {
            Poll::Ready(())
        } else {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    })
}

/// Runs `future` until it completes or `duration` passes; `None` on a timeout, and then
/// `future` is dropped unfinished (cancelled).
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
    let mut future = Box::pin(future);
    let mut timer = Box::pin(sleep(duration));
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Polls `future` once, on the current task.
pub async fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let mut future = Some(future);
    std::future::poll_fn(move |cx| match future.take() {
        Some(f) => Poll::Ready(f.poll(cx)),
        None => Poll::Ready(Poll::Pending),
    })
    .await
}

/// Asserts at compile time that `value` can move between threads.
pub fn assert_send<T: Send>(value: T) -> T {
    value
}
