//! A send that collects nothing and meets no failure allocates nothing: a counting global
//! allocator watches 10,000 sends of each kind on this thread (after one warm-up send, which
//! fills the thread's snapshot cache).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use signals_core::{DynKwargs, Kwargs, Namespace, Receiver, SenderKey, Signal};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated less bytes freed on this thread.
    static BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count_bytes(delta: isize) {
    let _ = BYTES.try_with(|n| n.set(n.get() + delta));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` with a `const` initializer, so counting never allocates or re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        count_bytes(layout.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract; we pass it through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_bytes(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        count_bytes(new_size as isize - layout.size() as isize);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(mut f: impl FnMut()) -> usize {
    f(); // warm-up: the first send on a thread caches the snapshot
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..10_000 {
        f();
    }
    ALLOCATIONS.with(Cell::get) - before
}

hand_signal!(Plain, "t_alloc", "plain", str, () { n: u64 });
hand_signal!(Valued, "t_alloc", "valued", i64, i64 { n: u64 });

fn typed_receiver(_: &str, ev: &Plain) {
    black_box(ev.n);
}

fn valued_receiver(sender: &i64, ev: &Valued) -> i64 {
    sender + ev.n as i64
}

#[test]
fn sends_that_collect_nothing_allocate_nothing() {
    let plain = Plain::signal();
    let mut connections = vec![
        plain.connect(typed_receiver),
        plain.connect(|_: &str, ev: &Plain| {
            black_box(ev);
        }),
        plain.connect(
            Receiver::new(|_: &str, ev: &Plain| {
                black_box(ev);
            })
            .sender("x"),
        ),
        plain
            .named()
            .connect(|_: &SenderKey<'_>, kwargs: &dyn Kwargs| {
                black_box(kwargs.get::<u64>("n"));
            }),
    ];
    let args = Plain { n: 7 };

    assert_eq!(
        allocations_during(|| drop(black_box(args.send("x")))),
        0,
        "typed send, filtered sender"
    );
    assert_eq!(
        allocations_during(|| drop(black_box(args.send("y")))),
        0,
        "typed send, other sender"
    );
    assert_eq!(
        allocations_during(|| {
            black_box(args.sending("x").fail_fast().run().into_result().is_ok());
        }),
        0,
        "fail-fast send"
    );
    assert!(plain.named().has_receivers_for("x"));
    assert_eq!(
        allocations_during(|| {
            black_box(plain.named().has_receivers_for("x"));
        }),
        0,
        "has_receivers_for"
    );
    {
        let _mute = plain.named().mute();
        assert_eq!(
            allocations_during(|| drop(black_box(args.send("x")))),
            0,
            "muted send"
        );
    }

    // A signal with values: the non-collecting send drops them without allocating.
    connections.push(Valued::signal().connect(valued_receiver));
    let valued = Valued { n: 1 };
    assert_eq!(
        allocations_during(|| drop(black_box(valued.send(&3)))),
        0,
        "send with outputs"
    );
    // A by-name send to it: the `i64` sender is rebuilt from the key on the stack.
    assert_eq!(
        allocations_during(|| drop(black_box(Valued::named().send(&3u8, &valued)))),
        0,
        "by-name send to a typed signal with a rebuilt sender"
    );
    // The control: a collecting send does allocate (its Vec), so the counter works.
    assert_eq!(
        allocations_during(|| drop(black_box(valued.sending(&3).collect().run()))),
        10_000
    );

    // By-name sends of an undeclared signal, with a bag built once.
    let by_name = Namespace::get("t_alloc")
        .unwrap()
        .signal("by_name")
        .unwrap();
    connections.push(by_name.connect(|_: &SenderKey<'_>, kwargs: &dyn Kwargs| {
        black_box(kwargs.get::<u32>("n"));
    }));
    let bag = DynKwargs::new().with("n", 1u32);
    assert_eq!(
        allocations_during(|| drop(black_box(by_name.send(&"s", &bag)))),
        0,
        "by-name send"
    );

    // A send to a signal without receivers.
    let empty = Namespace::get("t_alloc").unwrap().signal("empty").unwrap();
    assert_eq!(
        allocations_during(|| drop(black_box(empty.send(&"s", &bag)))),
        0,
        "send without receivers"
    );

    for c in connections {
        c.disconnect();
    }
}

/// A thread's by-name snapshot cache costs what the thread uses, not the highest signal id it
/// sent: a thread that sends one signal created after 20,000 others keeps a few hundred bytes
/// (a cache indexed by id would keep 16 bytes per id: 320 KB).
#[test]
fn a_thread_that_sent_one_signal_with_a_high_id_keeps_a_small_cache() {
    let namespace = Namespace::get("t_alloc_ids").unwrap();
    let mut last = None;
    for i in 0..20_000 {
        last = Some(namespace.signal(&format!("s{i}")).unwrap());
    }
    let last = last.unwrap();
    let _c = last
        .connect(|_: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            black_box(kwargs.get::<u32>("n"));
        })
        .scoped();
    let kept = std::thread::spawn(move || {
        let bag = DynKwargs::new().with("n", 1u32);
        // Whatever the thread's first use of thread-locals costs, before the send.
        black_box(Namespace::get("t_alloc_ids").unwrap());
        let before = BYTES.with(Cell::get);
        for _ in 0..3 {
            assert_eq!(last.send(&"s", &bag).unwrap().receivers_called(), 1);
        }
        BYTES.with(Cell::get) - before
    })
    .join()
    .unwrap();
    assert!(
        kept < 1024,
        "a thread that sent one signal keeps {kept} bytes after its sends"
    );
}
