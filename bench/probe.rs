//! A probe for instruction counts: one million typed sends to `N` receivers (env `N`,
//! default 1), repeatable under callgrind whatever the machine's load. With `FLOOR=1` it runs
//! the floor loop instead (`one_floor_send`), for instruction ratios; with `BY_NAME=1`, sends
//! to by-name receivers (`one_by_name_send`); with `KWARG=1`, to by-name receivers of one kwarg
//! (`one_kwarg_send`); with `FILTERED=1`, a send that matches none of
//! `N` receivers waiting on other senders (`one_filtered_send`); with `CONNECT=1`, 10,000
//! connect-and-disconnect pairs while `N` receivers are connected (`one_connect`); with
//! `LOOP=1`, typed sends inlined into a loop, as the report and criterion make them
//! (`sends_in_loop`). `SENDS` sets how many sends (default 1,000,000), for `perf stat`'s
//! cycles per send:
//!
//! ```text
//! cargo build --release -p signals-bench --example probe
//! N=100 valgrind --tool=callgrind ./target/release/examples/probe
//! callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep one_
//! ```
//!
//! It prints first the signals-core features it was built with; to count with the `tracing`
//! feature, build it with `--features signals-core/tracing`.

#[path = "cases.rs"]
mod cases;

use std::hint::black_box;

use cases::*;
use signals_core::Signal;

#[inline(never)]
fn one_send(t: &Tick) {
    drop(black_box(t.send(black_box("s"))));
}

/// `count` sends in one frame, as the report's and criterion's loops make them: the send is
/// inlined into the loop, so its frame is set up once.
#[inline(never)]
fn sends_in_loop(t: &Tick, count: usize) {
    for _ in 0..count {
        drop(black_box(t.send(black_box("s"))));
    }
}

#[inline(never)]
fn one_by_name_send(ev: &Dynamic) {
    drop(black_box(ev.send(black_box("s"))));
}

#[inline(never)]
fn one_kwarg_send(ev: &DynamicKwarg) {
    drop(black_box(ev.send(black_box("s"))));
}

#[inline(never)]
fn one_filtered_send(ev: &Filtered) {
    drop(black_box(ev.send(black_box("hit"))));
}

#[inline(never)]
fn one_connect() {
    Tick::signal()
        .connect(|_: &str, t: &Tick| {
            black_box(t.n);
        })
        .disconnect();
}

#[inline(never)]
fn one_floor_send(floor: &Floor, args: &Args) {
    floor.send(black_box(args));
}

fn main() {
    let features = signals_core::FEATURES;
    let default = if features.is_empty() {
        " (default)"
    } else {
        ""
    };
    println!("features: signals-core {features:?}{default}");
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let by_name = std::env::var_os("BY_NAME").is_some();
    let filtered = std::env::var_os("FILTERED").is_some();
    let kwarg = std::env::var_os("KWARG").is_some();
    let connections = if by_name {
        connect_dynamic(n)
    } else if kwarg {
        connect_kwarg(n)
    } else if filtered {
        connect_filtered(n, 0)
    } else {
        connect_ticks(n)
    };
    let ev = Dynamic { n: 1 };
    let kw = DynamicKwarg { n: 1 };
    let miss = Filtered { n: 1 };
    let tick = Tick { n: 1 };
    let floor = Floor::new(n);
    let args = Args { n: 1 };
    let run_floor = std::env::var_os("FLOOR").is_some();
    if std::env::var_os("CONNECT").is_some() {
        let start = std::time::Instant::now();
        for _ in 0..10_000 {
            one_connect();
        }
        println!(
            "{:.0} ns per connect and disconnect with {n} receivers",
            start.elapsed().as_nanos() as f64 / 1e4
        );
        disconnect_all(connections);
        return;
    }
    let in_loop = std::env::var_os("LOOP").is_some();
    let sends: usize = std::env::var("SENDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let start = std::time::Instant::now();
    if in_loop {
        sends_in_loop(&tick, sends);
    }
    // Without `LOOP`, one call per send.
    let calls = if in_loop { 0 } else { sends };
    for _ in 0..calls {
        if run_floor {
            one_floor_send(&floor, &args);
        } else if by_name {
            one_by_name_send(&ev);
        } else if kwarg {
            one_kwarg_send(&kw);
        } else if filtered {
            one_filtered_send(&miss);
        } else {
            one_send(&tick);
        }
    }
    println!(
        "{:.2} ns per send to {n} receivers",
        start.elapsed().as_nanos() as f64 / sends as f64
    );
    disconnect_all(connections);
}
