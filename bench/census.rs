//! An allocation census of connections: the heap blocks that 1,000 connections to one signal
//! leave live, by size, and the total per connection. Where the report's `bytes_per_connection`
//! says how much, this says what it is made of (a record, a description, a closure, the
//! store's arrays, the indexes):
//!
//! ```text
//! cargo run --release -p signals-bench --example census             # typed receivers
//! KIND=kwarg cargo run --release -p signals-bench --example census  # Receiver::kwarg ones
//! KIND=by_name cargo run --release -p signals-bench --example census
//! ```
//!
//! The harness's own `Vec<Connection>` (24 bytes a connection) and each receiver's key (a
//! `String`, `bench-<i>`) are counted too, as in the report.

#[path = "cases.rs"]
mod cases;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use cases::{connect_dynamic, connect_kwarg, connect_ticks, disconnect_all};

/// Whether allocations are counted.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Live blocks by size: how many, and how many bytes.
static LIVE: Mutex<BTreeMap<usize, (isize, isize)>> = Mutex::new(BTreeMap::new());

thread_local! {
    /// Set while this thread records an allocation (the census's own map allocates).
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

fn record(size: usize, delta: isize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    RECORDING.with(|recording| {
        if recording.replace(true) {
            return;
        }
        if let Ok(mut live) = LIVE.lock() {
            let (blocks, bytes) = live.entry(size).or_insert((0, 0));
            *blocks += delta;
            *bytes += delta * size as isize;
        }
        recording.set(false);
    });
}

struct Census;

// SAFETY: every call is passed on to the system allocator unchanged; the census only counts.
unsafe impl GlobalAlloc for Census {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size(), 1);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(layout.size(), -1);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(layout.size(), -1);
        record(new_size, 1);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Census = Census;

fn main() {
    const N: usize = 1000;
    let kind = std::env::var("KIND").unwrap_or_default();
    let connect = match kind.as_str() {
        "kwarg" => connect_kwarg,
        "by_name" => connect_dynamic,
        _ => connect_ticks,
    };
    // The signal itself, and its first list, before the count.
    disconnect_all(connect(1));
    COUNTING.store(true, Ordering::Relaxed);
    let connections = connect(N);
    COUNTING.store(false, Ordering::Relaxed);
    let live = LIVE.lock().map(|live| live.clone()).unwrap_or_default();
    println!(
        "# {N} connections ({}): live blocks by size",
        if kind.is_empty() { "typed" } else { &kind }
    );
    let mut total = 0;
    for (size, (blocks, bytes)) in live {
        if blocks != 0 {
            println!(
                "size={size} blocks={blocks} bytes_per_connection={:.1}",
                bytes as f64 / N as f64
            );
            total += bytes;
        }
    }
    println!("bytes_per_connection={:.1}", total as f64 / N as f64);
    disconnect_all(connections);
}
