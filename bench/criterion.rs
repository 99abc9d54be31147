//! Criterion benchmarks (`cargo bench`): every case of the quick ratio report, with the floor
//! and the `signals2` crate measured in the same run.

#[path = "cases.rs"]
mod cases;

use std::hint::black_box;

use cases::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use signals_core::Signal;

fn typed_send(c: &mut Criterion) {
    let mut group = c.benchmark_group("typed_send");
    let args = Args { n: 7 };
    for n in [0, 1, 10, 100] {
        let connections = connect_ticks(n);
        let tick = Tick { n: 7 };
        group.bench_with_input(BenchmarkId::new("signals_core", n), &n, |b, _| {
            b.iter(|| drop(black_box(tick.send(black_box("s")))))
        });
        let floor = Floor::new(n);
        group.bench_with_input(BenchmarkId::new("floor", n), &n, |b, _| {
            b.iter(|| floor.send(black_box(&args)))
        });
        let s2 = signals2_with(n);
        group.bench_with_input(BenchmarkId::new("signals2", n), &n, |b, _| {
            use signals2::emit::Emit1;
            b.iter(|| s2.emit(black_box(7)))
        });
        disconnect_all(connections);
    }
    group.finish();
}

fn by_name_receivers(c: &mut Criterion) {
    let mut group = c.benchmark_group("by_name_receivers");
    for n in [1, 10, 100] {
        let connections = connect_dynamic(n);
        let ev = Dynamic { n: 7 };
        group.bench_with_input(BenchmarkId::new("signals_core", n), &n, |b, _| {
            b.iter(|| drop(black_box(ev.send(black_box("s")))))
        });
        disconnect_all(connections);
        let connections = connect_kwarg(n);
        let ev = DynamicKwarg { n: 7 };
        group.bench_with_input(BenchmarkId::new("one_kwarg", n), &n, |b, _| {
            b.iter(|| drop(black_box(ev.send(black_box("s")))))
        });
        disconnect_all(connections);
    }
    group.finish();
}

fn filtered(c: &mut Criterion) {
    let mut group = c.benchmark_group("filtered");
    let ev = Filtered { n: 7 };
    for waiting in [1, 1000] {
        let connections = connect_filtered(waiting, 0);
        group.bench_with_input(
            BenchmarkId::new("matches_none", waiting),
            &waiting,
            |b, _| b.iter(|| drop(black_box(ev.send(black_box("nobody"))))),
        );
        disconnect_all(connections);
    }
    let connections = connect_filtered(990, 10);
    group.bench_function("matches_10_of_1000", |b| {
        b.iter(|| drop(black_box(ev.send(black_box("hit")))))
    });
    disconnect_all(connections);
    group.finish();
}

fn connect_disconnect(c: &mut Criterion) {
    let mut group = c.benchmark_group("connect_disconnect");
    for n in [100, 10_000] {
        let present = connect_ticks(n);
        group.bench_with_input(BenchmarkId::new("signals_core", n), &n, |b, _| {
            b.iter(one_connect_disconnect)
        });
        let mut floor = Floor::new(n);
        group.bench_with_input(BenchmarkId::new("floor", n), &n, |b, _| {
            b.iter(|| floor.push_pop())
        });
        disconnect_all(present);
    }
    // 100 present, after 64 threads each fetched the signal's snapshot.
    let present = connect_ticks(100);
    threads_that_sent(64);
    group.bench_with_input(BenchmarkId::new("after_64_threads", 100), &100, |b, _| {
        b.iter(one_connect_disconnect)
    });
    disconnect_all(present);
    group.finish();
}

fn send_under_churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_under_churn");
    let n = 10;
    let connections = connect_ticks(n);
    let tick = Tick { n: 7 };
    group.bench_with_input(BenchmarkId::new("without_churn", n), &n, |b, _| {
        b.iter(|| drop(black_box(tick.send(black_box("s")))))
    });
    {
        // Another thread connects and disconnects a receiver to `Tick` meanwhile.
        let _churn = churn();
        group.bench_with_input(BenchmarkId::new("with_churn", n), &n, |b, _| {
            b.iter(|| drop(black_box(tick.send(black_box("s")))))
        });
    }
    disconnect_all(connections);
    group.finish();
}

fn registry_build(c: &mut Criterion) {
    let subscribers = signals_core::registry().subscribers().len();
    c.bench_function(&format!("registry_build_{subscribers}_subscribers"), |b| {
        b.iter(|| drop(black_box(signals_core::registry::rebuild_for_benchmark())))
    });
}

criterion_group!(
    benches,
    typed_send,
    by_name_receivers,
    filtered,
    connect_disconnect,
    send_under_churn,
    registry_build
);
criterion_main!(benches);
