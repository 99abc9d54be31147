//! The quick ratio report: each case measured with the floor (a plain loop over boxed
//! closures) interleaved in the same process, medians over several rounds.
//!
//! ```text
//! cargo run --release -p signals-bench --example bench_report
//! ```

#[path = "cases.rs"]
mod cases;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use cases::*;
use signals_core::{Connection, Namespace, Signal};

/// Counts live heap bytes, for the memory lines. Sends do not allocate, so the timing of
/// sends is untouched by it.
struct LiveBytes;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a plain
// atomic that never allocates.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract; we pass it through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: LiveBytes = LiveBytes;

const ROUNDS: usize = 15;

fn ns_per_op(ops: u64, f: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ops {
        f();
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `case` and `floor` alternately, `ROUNDS` times each, and returns both medians.
fn paired(ops: u64, mut case: impl FnMut(), mut floor: impl FnMut()) -> (f64, f64) {
    // Warm-up: caches, branch predictors, the thread's snapshot.
    ns_per_op(ops / 10 + 1, &mut case);
    ns_per_op(ops / 10 + 1, &mut floor);
    interleaved(
        ops,
        |ops| ns_per_op(ops, &mut case),
        |ops| ns_per_op(ops, &mut floor),
    )
}

/// Runs the rounds `case` and `floor` (each given its op count, each returning ns per op)
/// alternately, `ROUNDS` times each, and returns both medians. No warm-up.
fn interleaved(
    ops: u64,
    mut case: impl FnMut(u64) -> f64,
    mut floor: impl FnMut(u64) -> f64,
) -> (f64, f64) {
    let (mut c, mut f) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            c.push(case(ops));
            f.push(floor(ops));
        } else {
            f.push(floor(ops));
            c.push(case(ops));
        }
    }
    (median(c), median(f))
}

/// One round of `ops` calls of `send` while a [`Churn`] thread connects and disconnects:
/// ns per send, and the churn thread's connect-and-disconnect pairs per second meanwhile.
/// The thread is started before the clock and stopped after it.
fn churn_round(ops: u64, send: &mut impl FnMut()) -> (f64, f64) {
    let churn = churn();
    let pairs_before = churn.pairs();
    let start = Instant::now();
    for _ in 0..ops {
        send();
    }
    let elapsed = start.elapsed();
    let pairs = churn.pairs() - pairs_before;
    drop(churn);
    (
        elapsed.as_nanos() as f64 / ops as f64,
        pairs as f64 / elapsed.as_secs_f64(),
    )
}

fn ops_for(n: usize) -> u64 {
    (2_000_000 / (n as u64 + 2)).max(2_000)
}

struct Report {
    worst: Option<(f64, String, usize)>,
}

impl Report {
    /// Prints a case; sends of this crate count towards the worst ratio.
    fn line(&mut self, name: &str, n: usize, (ns, floor_ns): (f64, f64)) {
        let ratio = ns / floor_ns;
        println!("case={name} n={n} ns={ns:.2} floor_ns={floor_ns:.2} ratio={ratio:.2}");
        let is_our_send = !matches!(
            name,
            "signals2_send"
                | "connect_disconnect"
                | "connect_disconnect_after_64_threads"
                | "send_under_churn"
                | "registry_build"
        );
        if is_our_send && self.worst.as_ref().is_none_or(|(r, _, _)| ratio > *r) {
            self.worst = Some((ratio, name.to_owned(), n));
        }
    }
}

/// The line that says what this report ran with: signals-core's optional features.
/// A case line for sends of `ev` to 1, 10 and 100 receivers that `connect` makes, each
/// measured against the floor.
fn against_floor<S: Signal<Sender = str>>(
    report: &mut Report,
    name: &str,
    connect: fn(usize) -> Vec<Connection>,
    ev: &S,
) {
    let args = Args { n: 7 };
    for n in [1, 10, 100] {
        let connections = connect(n);
        let floor = Floor::new(n);
        report.line(
            name,
            n,
            paired(
                ops_for(n),
                || drop(black_box(ev.send(black_box("s")))),
                || floor.send(black_box(&args)),
            ),
        );
        disconnect_all(connections);
    }
}

/// The same sends, each measured against a typed send to as many receivers.
fn against_typed<S: Signal<Sender = str>>(
    name: &str,
    connect: fn(usize) -> Vec<Connection>,
    ev: &S,
) {
    for n in [1, 10, 100] {
        let these = connect(n);
        let typed = connect_ticks(n);
        let tick = Tick { n: 7 };
        let (these_ns, typed_ns) = paired(
            ops_for(n),
            || drop(black_box(ev.send(black_box("s")))),
            || drop(black_box(tick.send(black_box("s")))),
        );
        println!(
            "{name} n={n} ratio={:.2} (interleaved: {these_ns:.2} ns / {typed_ns:.2} ns)",
            these_ns / typed_ns
        );
        disconnect_all(these);
        disconnect_all(typed);
    }
}

fn print_features() {
    let features = signals_core::FEATURES;
    let default = if features.is_empty() {
        " (default)"
    } else {
        ""
    };
    println!("# features: signals-core {features:?}{default}");
}

fn main() {
    let started = Instant::now();
    print_features();
    println!(
        "# medians of {ROUNDS} rounds, case and floor interleaved; floor = loop over Vec<Box<dyn Fn(&Args)>>"
    );
    let mut report = Report { worst: None };
    let args = Args { n: 7 };

    // Typed sends, every sender.
    for n in [0, 1, 10, 100] {
        let connections = connect_ticks(n);
        let floor = Floor::new(n);
        let tick = Tick { n: 7 };
        report.line(
            "typed_send",
            n,
            paired(
                ops_for(n),
                || drop(black_box(tick.send(black_box("s")))),
                || floor.send(black_box(&args)),
            ),
        );
        disconnect_all(connections);
    }

    // By-name receivers, reached by a typed send: taking the bag, and of one kwarg.
    let (dynamic, kwarg) = (Dynamic { n: 7 }, DynamicKwarg { n: 7 });
    against_floor(&mut report, "by_name_receivers", connect_dynamic, &dynamic);
    against_floor(
        &mut report,
        "by_name_kwarg_receivers",
        connect_kwarg,
        &kwarg,
    );
    // Each comparison of two cases is measured with the two interleaved, as a case is with
    // its floor: cases measured seconds apart on a noisy machine do not compare.
    against_typed("by_name_kwarg_vs_typed", connect_kwarg, &kwarg);
    against_typed("by_name_vs_typed", connect_dynamic, &dynamic);

    // Sender-filtered sends.
    for waiting in [1, 1000] {
        let connections = connect_filtered(waiting, 0);
        let floor = Floor::new(0);
        let ev = Filtered { n: 7 };
        report.line(
            "filtered_matches_none",
            waiting,
            paired(
                ops_for(0),
                || drop(black_box(ev.send(black_box("nobody")))),
                || floor.send(black_box(&args)),
            ),
        );
        disconnect_all(connections);
    }
    {
        // 1,000 waiting on one signal type and 1 on the other, interleaved; then the other way
        // round: the geometric mean of the two ratios cancels what differs between the two
        // types (their code's placement, their thread slots) and leaves the waiting count.
        let (filtered_ev, few_ev) = (Filtered { n: 7 }, FilteredFew { n: 7 });
        let mut ratios = Vec::new();
        for swapped in [false, true] {
            let (waiting_on_filtered, waiting_on_few) = if swapped { (1, 1000) } else { (1000, 1) };
            let on_filtered = connect_filtered(waiting_on_filtered, 0);
            let on_few = connect_filtered_few(waiting_on_few);
            let (filtered_ns, few_ns) = paired(
                ops_for(0),
                || drop(black_box(filtered_ev.send(black_box("nobody")))),
                || drop(black_box(few_ev.send(black_box("nobody")))),
            );
            ratios.push(if swapped {
                few_ns / filtered_ns
            } else {
                filtered_ns / few_ns
            });
            disconnect_all(on_filtered);
            disconnect_all(on_few);
        }
        println!(
            "filtered_matches_none_1000_vs_1 ratio={:.2} (interleaved, each signal type with 1,000 and with 1 waiting: {:.2}, {:.2})",
            (ratios[0] * ratios[1]).sqrt(),
            ratios[0],
            ratios[1]
        );
    }
    {
        let connections = connect_filtered(990, 10);
        let floor = Floor::new(10);
        let ev = Filtered { n: 7 };
        report.line(
            "filtered_matches_10_of_1000",
            10,
            paired(
                ops_for(10),
                || drop(black_box(ev.send(black_box("hit")))),
                || floor.send(black_box(&args)),
            ),
        );
        disconnect_all(connections);
    }

    // Async sends: 10 async receivers awaited one after the other, against a loop awaiting
    // boxed futures. Both are polled by a no-op waker loop (the futures never wait).
    {
        let n = 10;
        let connections = connect_async_ticks(n);
        let floor = AsyncFloor::new(n);
        let ev = AsyncTick { n: 7 };
        println!(
            "# async_send: floor = a loop awaiting Vec<Box<dyn Fn(&Args) -> Pin<Box<dyn Future>>>>; both polled by a no-op waker"
        );
        report.line(
            "async_send",
            n,
            paired(
                ops_for(n),
                || drop(black_box(run_ready(ev.send_async(black_box("s"))))),
                || run_ready(floor.send(black_box(&args))),
            ),
        );
        disconnect_all(connections);
    }

    // The signals2 crate, same work per slot.
    for n in [1, 10, 100] {
        let s2 = signals2_with(n);
        let floor = Floor::new(n);
        let (s2_ns, floor_ns) = paired(
            ops_for(n),
            || {
                use signals2::emit::Emit1;
                s2.emit(black_box(7));
            },
            || floor.send(black_box(&args)),
        );
        report.line("signals2_send", n, (s2_ns, floor_ns));
        let typed = connect_ticks(n);
        let tick = Tick { n: 7 };
        let (s2_ns, typed_ns) = paired(
            ops_for(n),
            || {
                use signals2::emit::Emit1;
                s2.emit(black_box(7));
            },
            || drop(black_box(tick.send(black_box("s")))),
        );
        println!(
            "typed_vs_signals2 n={n} speedup={:.2} (interleaved: {s2_ns:.2} ns / {typed_ns:.2} ns)",
            s2_ns / typed_ns
        );
        disconnect_all(typed);
    }

    // Connect plus disconnect with n receivers present. A disconnect switches an entry of the
    // shared store off; the store is compacted (built anew) now and then, when half of it is
    // off: 20,000 pairs a round take in several compactions even with 10,000 present.
    for n in [100, 10_000] {
        let present = connect_ticks(n);
        let mut floor = Floor::new(n);
        let (ns, floor_ns) = paired(20_000, one_connect_disconnect, || floor.push_pop());
        report.line("connect_disconnect", n, (ns, floor_ns));
        println!("connect_disconnect_us n={n} us={:.2}", ns / 1000.0);
        disconnect_all(present);
    }

    // The same with 100 present, after 64 other threads, alive at once, each fetched the
    // signal's snapshot (each read its lock): a change must cost the same however many
    // threads have sent (an `arc-swap` cell, tried for the snapshot, made each store walk a
    // record per thread that ever read one: 2.1 to 2.4 us here).
    {
        let n = 100;
        let present = connect_ticks(n);
        threads_that_sent(64);
        let mut floor = Floor::new(n);
        let (ns, floor_ns) = paired(20_000, one_connect_disconnect, || floor.push_pop());
        report.line("connect_disconnect_after_64_threads", n, (ns, floor_ns));
        println!(
            "connect_disconnect_us n={n} after_64_threads us={:.2}",
            ns / 1000.0
        );
        disconnect_all(present);
    }

    // Typed sends to 10 receivers while another thread connects and disconnects a receiver
    // to the same signal in a loop, against the same sends with no churn, round by round.
    // The machine may have 2 cores only: the churn thread takes the other one.
    {
        let n = 10;
        let connections = connect_ticks(n);
        let tick = Tick { n: 7 };
        let send = || drop(black_box(tick.send(black_box("s"))));
        let ops = 200_000;
        // Warm-up, both ways.
        ns_per_op(ops / 10 + 1, &mut || send());
        churn_round(ops / 10 + 1, &mut || send());
        let mut rates = Vec::new();
        let (ns, floor_ns) = interleaved(
            ops,
            |ops| {
                let (ns, rate) = churn_round(ops, &mut || send());
                rates.push(rate);
                ns
            },
            |ops| ns_per_op(ops, &mut || send()),
        );
        println!("# send_under_churn: floor = the same sends with no churn thread");
        report.line("send_under_churn", n, (ns, floor_ns));
        println!(
            "churn_connects_per_s={:.0} (connect-and-disconnect pairs, median over the churn rounds)",
            median(rates)
        );
        disconnect_all(connections);
    }

    // Building the registry: 1,000 generated link-time subscribers.
    {
        let registry = signals_core::registry();
        let subscribers = registry.subscribers().len();
        report.line(
            "registry_build",
            subscribers,
            paired(
                20,
                || drop(black_box(signals_core::registry::rebuild_for_benchmark())),
                || drop(black_box(Floor::new(subscribers))),
            ),
        );
    }

    // Two threads sending at once.
    {
        let connections = connect_ticks(1);
        let sends = 2_000_000u64;
        const THREAD_ROUNDS: usize = 11;
        let run = || {
            let tick = Tick { n: 7 };
            let start = Instant::now();
            for _ in 0..sends {
                drop(black_box(tick.send(black_box("s"))));
            }
            start.elapsed().as_secs_f64()
        };
        // The floor's own two-thread speedup, measured alongside: what this machine's two
        // cores give a loop that shares nothing.
        let floor_run = || {
            let floor = Floor::new(1);
            let args = Args { n: 7 };
            let start = Instant::now();
            for _ in 0..sends {
                floor.send(black_box(&args));
            }
            start.elapsed().as_secs_f64()
        };
        let speedup = |run: &(dyn Fn() -> f64 + Sync)| {
            let one = run();
            let two = std::thread::scope(|s| {
                let a = s.spawn(run);
                let b = s.spawn(run);
                a.join()
                    .unwrap_or(f64::NAN)
                    .max(b.join().unwrap_or(f64::NAN))
            });
            (2.0 * sends as f64 / two) / (sends as f64 / one)
        };
        let (mut speedups, mut floor_speedups) = (Vec::new(), Vec::new());
        for _ in 0..THREAD_ROUNDS {
            speedups.push(speedup(&run));
            floor_speedups.push(speedup(&floor_run));
        }
        if let Some((ratio, name, n)) = &report.worst {
            println!("worst_ratio={ratio:.2} case={name} n={n} (over this crate's send cases)");
        }
        println!(
            "two_thread_speedup={:.2} (median of {THREAD_ROUNDS} rounds of {sends} sends per thread)",
            median(speedups)
        );
        println!(
            "# the floor's two_thread_speedup={:.2} (the same rounds, interleaved)",
            median(floor_speedups)
        );
        disconnect_all(connections);
    }

    // Memory.
    {
        let before = LIVE.load(Ordering::Relaxed);
        let connections = connect_ticks(1000);
        let after = LIVE.load(Ordering::Relaxed);
        println!(
            "bytes_per_connection={} (1,000 typed receivers, records and snapshot)",
            (after - before) / 1000
        );
        disconnect_all(connections);
        let ns = Namespace::get("bench_memory").unwrap_or_else(|e| panic!("{e}"));
        let before = LIVE.load(Ordering::Relaxed);
        for i in 0..1000 {
            let _ = ns.signal(&format!("signal_{i}"));
        }
        let after = LIVE.load(Ordering::Relaxed);
        println!(
            "bytes_per_signal={} (1,000 signals created by name, no receivers)",
            (after - before) / 1000
        );
    }
    println!("# took {:.1} s", started.elapsed().as_secs_f64());
}
