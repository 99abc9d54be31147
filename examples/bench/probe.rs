//! A probe for instruction counts: one million typed sends to `N` receivers (env `N`,
//! default 1), repeatable under callgrind whatever the machine's load:
//!
//! ```text
//! cargo build --release --example probe
//! N=100 valgrind --tool=callgrind ./target/release/examples/probe
//! callgrind_annotate callgrind.out.<pid> | head
//! ```

#[path = "cases.rs"]
mod cases;

use std::hint::black_box;

use cases::*;
use signals_core::Signal;

#[inline(never)]
fn one_send(t: &Tick) {
    drop(black_box(t.send(black_box("s"))));
}

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let connections = connect_ticks(n);
    let tick = Tick { n: 1 };
    let start = std::time::Instant::now();
    for _ in 0..1_000_000 {
        one_send(&tick);
    }
    println!(
        "{:.2} ns per send to {n} receivers",
        start.elapsed().as_nanos() as f64 / 1e6
    );
    disconnect_all(connections);
}
