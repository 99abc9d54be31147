//! The benchmark workloads, shared by the criterion benches and the quick ratio report.
//!
//! Every receiver does the same work as the floor's closures: it reads one field of the
//! arguments through `black_box`.

#![allow(dead_code)]

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use signals_core::{signal, Connection, Kwargs, Receiver, SenderKey, Signal};

/// The typed send cases.
#[signal(namespace = "bench")]
pub struct Tick {
    /// A payload field the receivers read.
    pub n: u64,
}

/// The sender-filtered cases.
#[signal(namespace = "bench")]
pub struct Filtered {
    /// A payload field the receivers read.
    pub n: u64,
}

/// A second signal for the sender-filtered cases, so that 1 and 1,000 waiting receivers can
/// be measured at the same time (see the report's `filtered_matches_none_1000_vs_1`).
#[signal(namespace = "bench")]
pub struct FilteredFew {
    /// A payload field the receivers read.
    pub n: u64,
}

/// The by-name receiver cases.
#[signal(namespace = "bench")]
pub struct Dynamic {
    /// A payload field the receivers read.
    pub n: u64,
}

/// The cases of by-name receivers of one kwarg (`Receiver::kwarg`).
#[signal(namespace = "bench")]
pub struct DynamicKwarg {
    /// A payload field the receivers read.
    pub n: u64,
}

/// The async send case.
#[signal(namespace = "bench")]
pub struct AsyncTick {
    /// A payload field the receivers read.
    pub n: u64,
}

/// The signal the 1,000 generated link-time subscribers listen to.
#[signal(namespace = "bench")]
pub struct Registered {
    /// A payload field the receivers read.
    pub n: u64,
}

include!(concat!(env!("OUT_DIR"), "/bench_subscribers.rs"));

/// The floor's arguments.
pub struct Args {
    /// A payload field the closures read.
    pub n: u64,
}

/// One of the floor's closures.
pub type FloorFn = Box<dyn Fn(&Args)>;

/// The floor: a plain loop over boxed closures, no thread safety, no identity.
pub struct Floor(pub Vec<FloorFn>);

impl Floor {
    /// `n` closures.
    pub fn new(n: usize) -> Self {
        Floor(
            (0..n)
                .map(|_| {
                    Box::new(|a: &Args| {
                        black_box(a.n);
                    }) as FloorFn
                })
                .collect(),
        )
    }

    /// Calls every closure.
    #[inline(never)]
    pub fn send(&self, args: &Args) {
        for f in &self.0 {
            f(args);
        }
    }

    /// The floor's connect plus disconnect: pushes a boxed closure and pops it again.
    pub fn push_pop(&mut self) {
        self.0.push(Box::new(|a: &Args| {
            black_box(a.n);
        }));
        black_box(self.0.pop());
    }
}

/// One of the async floor's closures: it returns a boxed future, as an async receiver does.
pub type AsyncFloorFn = Box<dyn for<'a> Fn(&'a Args) -> Pin<Box<dyn Future<Output = ()> + 'a>>>;

/// Gives `f` the higher-ranked signature of [`AsyncFloorFn`] and boxes it.
fn async_floor_fn<F>(f: F) -> AsyncFloorFn
where
    F: for<'a> Fn(&'a Args) -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'static,
{
    Box::new(f)
}

/// The async floor: a plain loop awaiting boxed futures one after the other, no thread
/// safety, no panic catching, no identity.
pub struct AsyncFloor(pub Vec<AsyncFloorFn>);

impl AsyncFloor {
    /// `n` closures.
    pub fn new(n: usize) -> Self {
        AsyncFloor(
            (0..n)
                .map(|_| {
                    async_floor_fn(|a| {
                        Box::pin(async move {
                            black_box(a.n);
                        })
                    })
                })
                .collect(),
        )
    }

    /// Awaits every closure's future in turn.
    pub async fn send(&self, args: &Args) {
        for f in &self.0 {
            f(args).await;
        }
    }
}

/// Polls `future` to its end with a waker that does nothing: the benchmarks' futures never
/// wait, so this measures the sends and not an executor.
pub fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Gives receiver `i` an identity of its own: the same closure connected again without a
/// key is the same receiver, connected once.
fn keyed<F, K>(receiver: Receiver<F, K>, i: usize) -> Receiver<F, K> {
    receiver.key(format!("bench-{i}"))
}

/// Connects `n` typed receivers to `Tick`, every sender.
pub fn connect_ticks(n: usize) -> Vec<Connection> {
    (0..n)
        .map(|i| {
            Tick::signal().connect(keyed(
                Receiver::new(|_: &str, t: &Tick| {
                    black_box(t.n);
                }),
                i,
            ))
        })
        .collect()
}

/// Connects `n` async typed receivers to `AsyncTick`, every sender.
pub fn connect_async_ticks(n: usize) -> Vec<Connection> {
    (0..n)
        .map(|i| {
            AsyncTick::signal().connect(keyed(
                Receiver::new_async(|_: &str, t: &AsyncTick| {
                    Box::pin(async move {
                        black_box(t.n);
                    })
                }),
                i,
            ))
        })
        .collect()
}

/// Connects `n` by-name receivers to `Dynamic`, every sender.
pub fn connect_dynamic(n: usize) -> Vec<Connection> {
    (0..n)
        .map(|i| {
            Dynamic::named().connect(keyed(
                Receiver::new(|_: &SenderKey<'_>, kw: &dyn Kwargs| {
                    black_box(kw.get::<u64>("n"));
                }),
                i,
            ))
        })
        .collect()
}

/// Connects `n` by-name receivers of the kwarg `n` to `DynamicKwarg`, every sender.
pub fn connect_kwarg(n: usize) -> Vec<Connection> {
    (0..n)
        .map(|i| {
            DynamicKwarg::named().connect(keyed(
                Receiver::kwarg("n", |_: &SenderKey<'_>, n: &u64| {
                    black_box(*n);
                }),
                i,
            ))
        })
        .collect()
}

/// Connects `waiting` receivers to `Filtered`, each for its own sender `other-i`, plus
/// `matching` receivers for the sender `"hit"`.
pub fn connect_filtered(waiting: usize, matching: usize) -> Vec<Connection> {
    let mut all = Vec::new();
    for i in 0..waiting {
        let sender = format!("other-{i}");
        all.push(
            Filtered::signal().connect(
                Receiver::new(|_: &str, t: &Filtered| {
                    black_box(t.n);
                })
                .sender(sender.as_str()),
            ),
        );
    }
    for i in 0..matching {
        let receiver = Receiver::new(|_: &str, t: &Filtered| {
            black_box(t.n);
        });
        all.push(Filtered::signal().connect(keyed(receiver, i).sender("hit")));
    }
    all
}

/// Connects `waiting` receivers to `FilteredFew`, each for its own sender `other-i`.
pub fn connect_filtered_few(waiting: usize) -> Vec<Connection> {
    (0..waiting)
        .map(|i| {
            let sender = format!("other-{i}");
            FilteredFew::signal().connect(
                Receiver::new(|_: &str, t: &FilteredFew| {
                    black_box(t.n);
                })
                .sender(sender.as_str()),
            )
        })
        .collect()
}

/// Disconnects every connection.
pub fn disconnect_all(connections: Vec<Connection>) {
    for c in connections {
        c.disconnect();
    }
}

/// Connects a typed receiver to `Tick`, every sender, and disconnects it again.
pub fn one_connect_disconnect() {
    Tick::signal()
        .connect(|_: &str, t: &Tick| {
            black_box(t.n);
        })
        .disconnect();
}

/// Makes a change to `Tick`, then has `threads` threads, alive at once, each send it (and so
/// fetch its new snapshot) before they all exit: a change must cost the same afterwards.
pub fn threads_that_sent(threads: usize) {
    one_connect_disconnect();
    let all_sent = Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let all_sent = all_sent.clone();
            std::thread::spawn(move || {
                drop(black_box(Tick { n: 7 }.send(black_box("s"))));
                all_sent.wait();
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .unwrap_or_else(|_| panic!("a sending thread panicked"));
    }
}

/// A thread that connects and disconnects a receiver to `Tick` in a loop (see
/// [`one_connect_disconnect`]) until the guard is dropped, which stops and joins it.
pub struct Churn {
    stop: Arc<AtomicBool>,
    pairs: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a [`Churn`] thread; returns once it has made its first connect and disconnect.
pub fn churn() -> Churn {
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let thread = std::thread::spawn({
        let (stop, pairs) = (stop.clone(), pairs.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                one_connect_disconnect();
                pairs.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    while pairs.load(Ordering::Relaxed) == 0 && !thread.is_finished() {
        std::thread::yield_now();
    }
    Churn {
        stop,
        pairs,
        thread: Some(thread),
    }
}

impl Churn {
    /// How many connect-and-disconnect pairs the thread has made so far.
    pub fn pairs(&self) -> u64 {
        self.pairs.load(Ordering::Relaxed)
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            if let Err(panic) = thread.join() {
                if !std::thread::panicking() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}

/// A `signals2` signal with `n` slots doing the same work.
pub fn signals2_with(n: usize) -> signals2::Signal<(u64,)> {
    use signals2::connect::Connect1;
    let signal = signals2::Signal::<(u64,)>::new();
    for _ in 0..n {
        signal.connect(|x: u64| {
            black_box(x);
        });
    }
    signal
}
