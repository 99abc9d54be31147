//! The engine's in-place changes (`engine/slots.rs`, `engine/retire.rs`, `SignalCore::publish`):
//! a connect appends to a store the snapshots share, a disconnect or a block switches an entry
//! off in place, the list is rebuilt only when the store is full, half off, or for a change an
//! append cannot express. These tests check what a user relies on through all of that: exact
//! delivery, connection order, counts, and that a disconnected receiver's captures are
//! dropped.
//!
//! Every test uses signals of its own: signals are process-wide and tests run in parallel. The
//! counting global allocator (one per test binary, which is why every test of this file lives
//! here) counts on the thread that allocates only, so it does not disturb the other tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use signals_core::{
    signal, BlockGuard, Connection, Kwargs, Receiver, ReceiverConnected, ReceiverDisconnected,
    SenderKey, Signal,
};

// ---------------------------------------------------------------------------------------------
// A counting allocator (as in no_alloc.rs): allocations made on the current thread.

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` with a `const` initializer, so counting never allocates or re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract; we pass it through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Runs `body` on a thread and fails if it does not finish within `limit` (a deadlock fails
/// the test rather than hanging it).
fn with_watchdog<R: Send + 'static>(
    limit: Duration,
    body: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done, wait) = mpsc::channel();
    let worker = thread::spawn(move || {
        let result = body();
        let _ = done.send(());
        result
    });
    match wait.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            worker.join().expect("the test body panicked")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("expected the test body to finish within {limit:?} (a deadlock?)")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A model of a test's connections: what a send must call, in order.

/// Which kind of receiver a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `Fn(&str, &Signal)`.
    Typed,
    /// `Fn(&SenderKey, &dyn Kwargs)`, connected through `Signal::named()`.
    ByName,
}

/// The connections a test made, in connection order, and the blocks it holds on them.
#[derive(Default)]
struct Model {
    connected: Vec<(usize, Kind, Connection)>,
    blocks: HashMap<usize, BlockGuard>,
}

impl Model {
    fn add(&mut self, id: usize, kind: Kind, connection: Connection) {
        assert!(
            connection.is_new(),
            "expected receiver {id} to be a new connection"
        );
        self.connected.push((id, kind, connection));
    }

    fn connection(&self, id: usize) -> Connection {
        self.connected
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, _, c)| *c)
            .unwrap_or_else(|| panic!("receiver {id} is not connected in the model"))
    }

    fn kind(&self, id: usize) -> Kind {
        self.connected
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, k, _)| *k)
            .unwrap_or_else(|| panic!("receiver {id} is not connected in the model"))
    }

    /// Disconnects `id`; a block held on it is dropped after (it then does nothing).
    fn disconnect(&mut self, id: usize) {
        let at = self
            .connected
            .iter()
            .position(|(i, _, _)| *i == id)
            .unwrap_or_else(|| panic!("receiver {id} is not connected in the model"));
        let (_, _, connection) = self.connected.remove(at);
        assert!(
            connection.disconnect(),
            "expected disconnect of receiver {id} to report it was connected"
        );
        drop(self.blocks.remove(&id));
    }

    fn block(&mut self, id: usize) {
        let guard = self.connection(id).block();
        assert!(
            self.blocks.insert(id, guard).is_none(),
            "the test blocks receiver {id} once"
        );
    }

    fn unblock(&mut self, id: usize) {
        let guard = self
            .blocks
            .remove(&id)
            .unwrap_or_else(|| panic!("receiver {id} is not blocked in the model"));
        drop(guard);
    }

    fn is_blocked(&self, id: usize) -> bool {
        self.blocks.contains_key(&id)
    }

    /// The connected receivers' ids, in connection order (blocked ones included).
    fn ids(&self) -> Vec<usize> {
        self.connected.iter().map(|(id, _, _)| *id).collect()
    }

    /// What a send must call: the connected, unblocked receivers in connection order.
    fn expected(&self) -> Vec<(usize, Kind)> {
        self.connected
            .iter()
            .filter(|(id, _, _)| !self.blocks.contains_key(id))
            .map(|(id, kind, _)| (*id, *kind))
            .collect()
    }

    fn disconnect_all(&mut self) {
        for id in self.ids() {
            self.disconnect(id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Order and exact delivery after many in-place changes.

#[signal(namespace = "t_inplace_order")]
struct Ordered {
    n: u32,
}

fn connect_ordered(log: &Arc<Mutex<Vec<usize>>>, id: usize) -> Connection {
    let log = log.clone();
    Ordered::signal().connect(move |_: &str, _: &Ordered| log.lock().unwrap().push(id))
}

fn check_ordered(log: &Mutex<Vec<usize>>, model: &Model, phase: &str) {
    let expected: Vec<usize> = model.expected().into_iter().map(|(id, _)| id).collect();
    let report = Ordered { n: 0 }.send("s");
    let called = std::mem::take(&mut *log.lock().unwrap());
    assert_eq!(
        called, expected,
        "{phase}: expected exactly the connected, unblocked receivers, each once, in connection \
         order"
    );
    assert_eq!(
        report.receivers_called(),
        expected.len(),
        "{phase}: expected receivers_called() to be the number of connected, unblocked receivers"
    );
    assert!(
        report.is_ok(),
        "{phase}: expected no failures, got {:?}",
        report.failures()
    );
}

#[test]
fn order_and_exact_delivery_survive_many_in_place_changes() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut model = Model::default();

    for id in 0..200 {
        model.add(id, Kind::Typed, connect_ordered(&log, id));
    }
    check_ordered(&log, &model, "after 200 connects");

    // A deterministic pseudo-random set (every index with (i * 7919) % 3 == 0), and the last
    // 20: 80 of the 200, switched off in place (the store is not half off yet).
    for id in (0..200).filter(|i| (i * 7919) % 3 == 0 || *i >= 180) {
        model.disconnect(id);
    }
    assert_eq!(model.ids().len(), 120);
    check_ordered(&log, &model, "after disconnecting 80 of 200");

    for id in 200..250 {
        model.add(id, Kind::Typed, connect_ordered(&log, id));
    }
    check_ordered(&log, &model, "after 50 more connects");

    // Block 10 spread over the list (old and new receivers), then unblock 5 of them.
    let to_block: Vec<usize> = model.ids().into_iter().step_by(17).take(10).collect();
    assert_eq!(to_block.len(), 10);
    for &id in &to_block {
        model.block(id);
    }
    check_ordered(&log, &model, "after blocking 10");
    for &id in to_block.iter().step_by(2) {
        model.unblock(id);
    }
    check_ordered(&log, &model, "after unblocking 5 of the 10");

    // 250 entries written, 80 off for good: disconnecting 70 more crosses the compaction
    // threshold (`Snapshot::without`: more off than half as many as are on, plus four; at the
    // 7th), so the list is compacted in the middle of this phase, and the later disconnects go
    // in place on the compacted store. One still blocked
    // receiver is among them.
    let still_blocked: Vec<usize> = to_block.iter().copied().skip(1).step_by(2).collect();
    let mut more: Vec<usize> = model.ids().into_iter().step_by(2).take(69).collect();
    if !more.contains(&still_blocked[0]) {
        more.push(still_blocked[0]);
    } else {
        more.extend(model.ids().into_iter().skip(1).step_by(2).take(1));
    }
    assert_eq!(more.len(), 70);
    for &id in &more {
        model.disconnect(id);
    }
    check_ordered(&log, &model, "after 70 more disconnects (a compaction)");

    // The receivers blocked since before the compaction are not in the compacted store:
    // unblocked, each must be called at its connection's place, not at the end.
    let blocked_now: Vec<usize> = still_blocked
        .iter()
        .copied()
        .filter(|id| model.is_blocked(*id))
        .collect();
    assert!(
        !blocked_now.is_empty(),
        "the test keeps a receiver blocked across the compaction"
    );
    for &id in &blocked_now {
        model.unblock(id);
        check_ordered(
            &log,
            &model,
            &format!("after unblocking {id} after the compaction"),
        );
    }

    // Blocks in place on the compacted store.
    let ids = model.ids();
    let again = [ids[0], ids[ids.len() / 2], ids[ids.len() - 1]];
    for id in again {
        model.block(id);
    }
    check_ordered(&log, &model, "after blocking 3 after the compaction");
    for id in again {
        model.unblock(id);
    }
    check_ordered(&log, &model, "after unblocking them");

    // Enough connects to fill the compacted store: a rebuild when it is full.
    for id in 300..400 {
        model.add(id, Kind::Typed, connect_ordered(&log, id));
    }
    check_ordered(&log, &model, "after 100 connects past the store's capacity");

    model.disconnect_all();
    check_ordered(&log, &model, "after disconnecting every receiver");
}

// ---------------------------------------------------------------------------------------------
// 2. The same with typed and by-name receivers on one typed signal.

#[signal(namespace = "t_inplace_mixed")]
struct Mixed {
    n: u32,
}

/// What a receiver of `Mixed` records: its id, its kind, and the `n` it read.
type MixedLog = Arc<Mutex<Vec<(usize, Kind, Option<u32>)>>>;

fn connect_mixed(log: &MixedLog, id: usize, kind: Kind) -> Connection {
    let log = log.clone();
    match kind {
        Kind::Typed => Mixed::signal().connect(move |_: &str, ev: &Mixed| {
            log.lock().unwrap().push((id, Kind::Typed, Some(ev.n)))
        }),
        Kind::ByName => Mixed::named().connect(move |sender: &SenderKey<'_>, kw: &dyn Kwargs| {
            assert_eq!(sender.as_str(), Some("s"), "by-name receiver {id}'s sender");
            log.lock()
                .unwrap()
                .push((id, Kind::ByName, kw.get::<u32>("n").copied()))
        }),
    }
}

/// Sends once typed and once by name (with the struct), each with an `n` of its own, and
/// checks both reached exactly the model's receivers, in order, each as its kind.
fn check_mixed(log: &MixedLog, model: &Model, n: &mut u32, phase: &str) {
    for by_name in [false, true] {
        *n += 1;
        let args = Mixed { n: *n };
        let report = if by_name {
            Mixed::named()
                .send(&"s", &args)
                .expect("a by-name send carrying the struct")
        } else {
            args.send("s")
        };
        let how = if by_name {
            "by-name send"
        } else {
            "typed send"
        };
        let expected: Vec<(usize, Kind, Option<u32>)> = model
            .expected()
            .into_iter()
            .map(|(id, kind)| (id, kind, Some(*n)))
            .collect();
        let called = std::mem::take(&mut *log.lock().unwrap());
        assert_eq!(
            called, expected,
            "{phase}, {how}: expected exactly the connected, unblocked receivers in connection \
             order, each called as its kind (typed or by name) and reading n = {n}"
        );
        assert_eq!(
            report.receivers_called(),
            expected.len(),
            "{phase}, {how}: expected receivers_called() to be the number of connected, \
             unblocked receivers"
        );
        assert!(
            report.is_ok(),
            "{phase}, {how}: expected no failures, got {:?}",
            report.failures()
        );
    }
}

fn mixed_kind(id: usize) -> Kind {
    if id % 3 == 1 {
        Kind::ByName
    } else {
        Kind::Typed
    }
}

#[test]
fn typed_and_by_name_receivers_keep_their_order_and_kind_through_in_place_changes() {
    let log: MixedLog = Arc::default();
    let mut model = Model::default();
    let mut n = 0;

    for id in 0..90 {
        model.add(id, mixed_kind(id), connect_mixed(&log, id, mixed_kind(id)));
        check_mixed(&log, &model, &mut n, &format!("after connecting {id}"));
    }

    // 36 of 90 off in place.
    for id in (0..90).filter(|i| (i * 7919) % 5 < 2) {
        model.disconnect(id);
        check_mixed(&log, &model, &mut n, &format!("after disconnecting {id}"));
    }

    // A by-name receiver blocked and unblocked in place keeps its kind.
    let ids = model.ids();
    let by_name: Vec<usize> = ids
        .iter()
        .copied()
        .filter(|id| model.kind(*id) == Kind::ByName)
        .collect();
    let typed: Vec<usize> = ids
        .iter()
        .copied()
        .filter(|id| model.kind(*id) == Kind::Typed)
        .collect();
    let (named_a, named_b, typed_a) = (by_name[2], by_name[by_name.len() - 3], typed[5]);
    model.block(named_a);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after blocking by-name {named_a}"),
    );
    model.block(typed_a);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after blocking typed {typed_a}"),
    );
    model.unblock(named_a);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after unblocking by-name {named_a}"),
    );
    model.unblock(typed_a);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after unblocking typed {typed_a}"),
    );

    // A by-name receiver blocked across the compactions that this phase's disconnects make
    // (the compaction threshold of `Snapshot::without` is crossed several times here).
    model.block(named_b);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after blocking by-name {named_b}"),
    );
    let more: Vec<usize> = model
        .ids()
        .into_iter()
        .filter(|id| *id != named_b)
        .step_by(2)
        .take(25)
        .collect();
    for id in more {
        model.disconnect(id);
        check_mixed(&log, &model, &mut n, &format!("after disconnecting {id}"));
    }
    model.unblock(named_b);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after unblocking by-name {named_b}, blocked across the compaction"),
    );

    // Past the compacted store's capacity.
    for id in 100..160 {
        model.add(id, mixed_kind(id), connect_mixed(&log, id, mixed_kind(id)));
        check_mixed(&log, &model, &mut n, &format!("after connecting {id}"));
    }

    // In place again on the rebuilt store.
    let last_named = *model
        .ids()
        .iter()
        .rev()
        .find(|id| model.kind(**id) == Kind::ByName)
        .expect("a by-name receiver");
    model.block(last_named);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after blocking by-name {last_named}"),
    );
    model.unblock(last_named);
    check_mixed(
        &log,
        &model,
        &mut n,
        &format!("after unblocking by-name {last_named}"),
    );

    for id in model.ids() {
        model.disconnect(id);
        check_mixed(&log, &model, &mut n, &format!("after disconnecting {id}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 3. A disconnected receiver's captures are dropped.

/// Where the receiver whose captures are watched sits in a list of 50.
#[derive(Clone, Copy, Debug)]
enum Place {
    Last,
    Middle,
}

/// Connects 50 receivers to `T`, the one at `place` holding a clone of `token`.
fn connect_fifty<T>(place: Place, token: &Arc<()>) -> (Vec<Connection>, Connection)
where
    T: Signal<Sender = str, Output = ()>,
{
    let watched_at = match place {
        Place::Last => 49,
        Place::Middle => 25,
    };
    let mut others = Vec::new();
    let mut watched = None;
    for i in 0..50 {
        if i == watched_at {
            let token = token.clone();
            watched = Some(T::signal().connect(move |_: &str, _: &T| {
                black_box(&token);
            }));
        } else {
            others.push(T::signal().connect(move |_: &str, _: &T| {
                black_box(i);
            }));
        }
    }
    (others, watched.expect("connected"))
}

fn disconnect_others(others: Vec<Connection>) {
    for c in others {
        assert!(
            c.disconnect(),
            "expected every other receiver to be connected still"
        );
    }
}

fn dropped_on_the_same_thread<T>(make: fn() -> T, place: Place)
where
    T: Signal<Sender = str, Output = ()>,
{
    let token = Arc::new(());
    let (others, watched) = connect_fifty::<T>(place, &token);
    assert_eq!(
        make().send("s").receivers_called(),
        50,
        "{place:?}: expected 50 called"
    );
    assert!(
        Arc::strong_count(&token) >= 2,
        "{place:?}: the connected receiver holds the token"
    );
    assert!(watched.disconnect(), "{place:?}: expected it was connected");
    assert_eq!(
        make().send("s").receivers_called(),
        49,
        "{place:?}: expected the 49 others called after the disconnect"
    );
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "{place:?}: expected the disconnected receiver's captured Arc dropped once this \
         thread sent again"
    );
    disconnect_others(others);
}

#[signal(namespace = "t_inplace_drop")]
struct DropLast;
#[signal(namespace = "t_inplace_drop")]
struct DropMiddle;

#[test]
fn a_disconnected_receivers_captures_are_dropped_by_the_next_send() {
    dropped_on_the_same_thread(|| DropLast, Place::Last);
    dropped_on_the_same_thread(|| DropMiddle, Place::Middle);
}

/// What the main thread asks the other thread to do.
enum Order {
    Send,
    Exit,
}

/// A thread that sends `T` when told, and reports how many receivers each send called.
fn sending_thread<T>(
    make: fn() -> T,
) -> (
    mpsc::Sender<Order>,
    mpsc::Receiver<usize>,
    thread::JoinHandle<()>,
)
where
    T: Signal<Sender = str, Output = ()> + 'static,
{
    let (order, orders) = mpsc::channel();
    let (report, reports) = mpsc::channel();
    let handle = thread::spawn(move || {
        for o in orders {
            match o {
                Order::Send => report
                    .send(make().send("s").receivers_called())
                    .expect("the main thread listens"),
                Order::Exit => break,
            }
        }
    });
    (order, reports, handle)
}

fn ask(orders: &mpsc::Sender<Order>, reports: &mpsc::Receiver<usize>) -> usize {
    orders.send(Order::Send).expect("the other thread listens");
    reports
        .recv_timeout(Duration::from_secs(60))
        .expect("expected the other thread to report its send within a minute")
}

/// Another thread sent before the disconnect (it caches the list that calls the receiver),
/// sends again after it; `exit` says whether it then exits instead of sending again.
fn dropped_once_the_other_thread_moved_on<T>(make: fn() -> T, place: Place, exit: bool)
where
    T: Signal<Sender = str, Output = ()> + 'static,
{
    let token = Arc::new(());
    let (others, watched) = connect_fifty::<T>(place, &token);
    let (orders, reports, handle) = sending_thread(make);
    assert_eq!(
        ask(&orders, &reports),
        50,
        "{place:?}: expected the other thread's send before the disconnect to call 50"
    );
    assert_eq!(
        make().send("s").receivers_called(),
        50,
        "{place:?}: expected 50 called"
    );
    assert!(watched.disconnect(), "{place:?}: expected it was connected");
    assert_eq!(
        make().send("s").receivers_called(),
        49,
        "{place:?}: expected this thread's send after the disconnect to call the 49 others"
    );
    if exit {
        orders.send(Order::Exit).expect("the other thread listens");
        handle.join().expect("the other thread ran");
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "{place:?}: expected the captured Arc dropped once both threads had moved on: this \
             one sent again and the other exited"
        );
    } else {
        assert_eq!(
            ask(&orders, &reports),
            49,
            "{place:?}: expected the other thread's send after the disconnect to call the 49 \
             others"
        );
        // The other thread is still alive: its cache, not its exit, let go of the list.
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "{place:?}: expected the captured Arc dropped once both threads sent again"
        );
        orders.send(Order::Exit).expect("the other thread listens");
        handle.join().expect("the other thread ran");
    }
    disconnect_others(others);
}

#[signal(namespace = "t_inplace_drop_thread")]
struct ThreadLast;
#[signal(namespace = "t_inplace_drop_thread")]
struct ThreadMiddle;
#[signal(namespace = "t_inplace_drop_exit")]
struct ExitLast;
#[signal(namespace = "t_inplace_drop_exit")]
struct ExitMiddle;

#[test]
fn a_disconnected_receivers_captures_are_dropped_once_another_thread_sends_again() {
    dropped_once_the_other_thread_moved_on(|| ThreadLast, Place::Last, false);
    dropped_once_the_other_thread_moved_on(|| ThreadMiddle, Place::Middle, false);
}

#[test]
fn a_disconnected_receivers_captures_are_dropped_once_another_thread_exits() {
    dropped_once_the_other_thread_moved_on(|| ExitLast, Place::Last, true);
    dropped_once_the_other_thread_moved_on(|| ExitMiddle, Place::Middle, true);
}

// ---------------------------------------------------------------------------------------------
// 4. Changes made by a receiver during a send.

/// A receiver that records `id`.
fn recorder<T: Signal<Sender = str, Output = ()>>(
    log: &Arc<Mutex<Vec<usize>>>,
    id: usize,
) -> impl Fn(&str, &T) + Send + Sync + 'static {
    let log = log.clone();
    move |_: &str, _: &T| log.lock().unwrap().push(id)
}

/// Connects, when `filtered`, a receiver for another sender: the list for every sender can
/// then not be changed in place, and each change rebuilds it.
fn maybe_filtered<T: Signal<Sender = str, Output = ()>>(
    log: &Arc<Mutex<Vec<usize>>>,
    filtered: bool,
) -> Option<Connection> {
    filtered.then(|| T::signal().connect(Receiver::new(recorder::<T>(log, 99)).sender("elsewhere")))
}

fn take(log: &Mutex<Vec<usize>>) -> Vec<usize> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[signal(namespace = "t_inplace_during")]
struct DuringDisconnect;

#[test]
fn a_receiver_disconnected_by_an_earlier_one_is_not_called_nor_counted() {
    for filtered in [false, true] {
        let log = Arc::new(Mutex::new(Vec::new()));
        let victim: Arc<Mutex<Option<Connection>>> = Arc::default();
        let slot = victim.clone();
        let l = log.clone();
        let a = DuringDisconnect::signal().connect(move |_: &str, _: &DuringDisconnect| {
            l.lock().unwrap().push(0);
            let later = slot.lock().unwrap().take();
            if let Some(c) = later {
                assert!(c.disconnect(), "the later receiver was connected");
            }
        });
        let b = DuringDisconnect::signal().connect(recorder(&log, 1));
        let c = DuringDisconnect::signal().connect(recorder(&log, 2));
        let d = DuringDisconnect::signal().connect(recorder(&log, 3));
        let other = maybe_filtered::<DuringDisconnect>(&log, filtered);
        *victim.lock().unwrap() = Some(c);

        let report = DuringDisconnect.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 3],
            "filtered = {filtered}: expected receiver 2, disconnected by receiver 0 during the \
             send, not called by it"
        );
        assert_eq!(
            report.receivers_called(),
            3,
            "filtered = {filtered}: expected receivers_called() not to count the receiver \
             disconnected during the send"
        );
        let report = DuringDisconnect.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 3],
            "filtered = {filtered}: expected 0, 1, 3 next"
        );
        assert_eq!(
            report.receivers_called(),
            3,
            "filtered = {filtered}: expected 3 next"
        );
        assert!(!c.is_connected(), "expected receiver 2 disconnected");
        for conn in [a, b, d].into_iter().chain(other) {
            assert!(conn.disconnect(), "expected it connected until now");
        }
    }
}

#[signal(namespace = "t_inplace_during")]
struct DuringConnect;

#[test]
fn a_receiver_connected_during_a_send_is_called_by_the_next_one_only() {
    for filtered in [false, true] {
        let log = Arc::new(Mutex::new(Vec::new()));
        let armed = Arc::new(AtomicBool::new(true));
        let added: Arc<Mutex<Option<Connection>>> = Arc::default();
        let (l, a_log, slot) = (log.clone(), log.clone(), added.clone());
        let a = DuringConnect::signal().connect(move |_: &str, _: &DuringConnect| {
            l.lock().unwrap().push(0);
            if armed.swap(false, Ordering::SeqCst) {
                let new = DuringConnect::signal().connect(recorder(&a_log, 4));
                *slot.lock().unwrap() = Some(new);
            }
        });
        let rest: Vec<Connection> = (1..4)
            .map(|id| DuringConnect::signal().connect(recorder(&log, id)))
            .collect();
        let other = maybe_filtered::<DuringConnect>(&log, filtered);

        let report = DuringConnect.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 2, 3],
            "filtered = {filtered}: expected the receiver connected during the send not called \
             by it"
        );
        assert_eq!(
            report.receivers_called(),
            4,
            "filtered = {filtered}: expected 4 called"
        );
        let report = DuringConnect.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 2, 3, 4],
            "filtered = {filtered}: expected the receiver connected during the last send called \
             by the next one, last"
        );
        assert_eq!(
            report.receivers_called(),
            5,
            "filtered = {filtered}: expected 5 called"
        );
        let new = added.lock().unwrap().take().expect("connected in the send");
        for conn in [a, new].into_iter().chain(rest).chain(other) {
            assert!(conn.disconnect(), "expected it connected until now");
        }
    }
}

#[signal(namespace = "t_inplace_during")]
struct DuringBlock;

#[test]
fn a_receiver_blocked_by_an_earlier_one_is_not_called() {
    for filtered in [false, true] {
        let log = Arc::new(Mutex::new(Vec::new()));
        let victim: Arc<Mutex<Option<Connection>>> = Arc::default();
        let guard: Arc<Mutex<Option<BlockGuard>>> = Arc::default();
        let (l, slot, held) = (log.clone(), victim.clone(), guard.clone());
        let a = DuringBlock::signal().connect(move |_: &str, _: &DuringBlock| {
            l.lock().unwrap().push(0);
            let later = slot.lock().unwrap().take();
            if let Some(c) = later {
                let block = c.block();
                *held.lock().unwrap() = Some(block);
            }
        });
        let b = DuringBlock::signal().connect(recorder(&log, 1));
        let c = DuringBlock::signal().connect(recorder(&log, 2));
        let d = DuringBlock::signal().connect(recorder(&log, 3));
        let other = maybe_filtered::<DuringBlock>(&log, filtered);
        *victim.lock().unwrap() = Some(c);

        let report = DuringBlock.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 3],
            "filtered = {filtered}: expected receiver 2, blocked by receiver 0 during the send, \
             not called by it"
        );
        assert_eq!(
            report.receivers_called(),
            3,
            "filtered = {filtered}: expected 3 called"
        );
        let report = DuringBlock.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 3],
            "filtered = {filtered}: still blocked"
        );
        assert_eq!(
            report.receivers_called(),
            3,
            "filtered = {filtered}: expected 3"
        );
        let block = guard.lock().unwrap().take().expect("blocked in the send");
        drop(block);
        let report = DuringBlock.send("s");
        assert_eq!(
            take(&log),
            [0, 1, 2, 3],
            "filtered = {filtered}: expected receiver 2 called at its place once unblocked"
        );
        assert_eq!(
            report.receivers_called(),
            4,
            "filtered = {filtered}: expected 4"
        );
        for conn in [a, b, c, d].into_iter().chain(other) {
            assert!(conn.disconnect(), "expected it connected until now");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Churn: sends on one thread, connects and disconnects on another.

#[signal(namespace = "t_inplace_churn")]
struct Churned;

#[test]
fn churn_on_another_thread_never_disturbs_the_permanent_receivers() {
    const SENDS: usize = 20_000;
    let counters: Arc<Vec<AtomicUsize>> = Arc::new((0..5).map(|_| AtomicUsize::new(0)).collect());
    let permanent: Vec<Connection> = (0..5)
        .map(|k| {
            let counters = counters.clone();
            Churned::signal().connect(move |_: &str, _: &Churned| {
                counters[k].fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    let token = Arc::new(());
    let temporary = |token: &Arc<()>| {
        let token = token.clone();
        Churned::signal().connect(move |_: &str, _: &Churned| {
            black_box(&token);
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    /// Stops the churn however the sends end (a failed assertion included).
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    // The sends start once the churn has: they overlap it from the first.
    let rounds = Arc::new(AtomicUsize::new(0));
    let churner = {
        let (stop, rounds, token) = (stop.clone(), rounds.clone(), token.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let c = temporary(&token);
                assert!(c.disconnect(), "expected the temporary receiver connected");
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let stopper = StopOnDrop(stop.clone());
    let started = rounds.clone();
    let (odd, with_temporary) = with_watchdog(Duration::from_secs(300), move || {
        while started.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        let mut odd = Vec::new();
        let mut with_temporary = 0usize;
        for _ in 0..SENDS {
            let report = Churned.send("s");
            assert!(
                report.is_ok(),
                "expected no failures: {:?}",
                report.failures()
            );
            match report.receivers_called() {
                5 => {}
                6 => with_temporary += 1,
                n => odd.push(n),
            }
        }
        (odd, with_temporary)
    });
    drop(stopper);
    churner.join().expect("the churn thread ran");
    let rounds = rounds.load(Ordering::SeqCst);

    assert!(
        odd.is_empty(),
        "expected every send to call 5 receivers, or 6 while the temporary one was connected; \
         {} sends called another number: {:?}",
        odd.len(),
        &odd[..odd.len().min(20)]
    );
    for (k, counter) in counters.iter().enumerate() {
        assert_eq!(
            counter.load(Ordering::Relaxed),
            SENDS,
            "expected permanent receiver {k} called exactly once per send"
        );
    }
    assert!(
        rounds > 0,
        "expected the churn thread to connect and disconnect"
    );
    eprintln!("churn: {rounds} connect/disconnect rounds, {with_temporary} sends called 6");

    // The churn ended; a final connect and disconnect, then exactly the 5.
    assert!(temporary(&token).disconnect(), "expected it connected");
    let report = Churned.send("s");
    assert_eq!(
        report.receivers_called(),
        5,
        "expected exactly the 5 permanent receivers called after the churn"
    );
    for (k, counter) in counters.iter().enumerate() {
        assert_eq!(
            counter.load(Ordering::Relaxed),
            SENDS + 1,
            "expected permanent receiver {k} called by the final send"
        );
    }
    // The sending thread exited and this one sent after the last disconnect: no list that
    // may call a temporary receiver remains.
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "expected every temporary receiver's captures dropped after the churn"
    );
    for c in permanent {
        assert!(c.disconnect(), "expected it connected");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Meta-signals: announcements are recorded only when somebody listens.

#[signal(namespace = "t_inplace_alloc")]
struct Crowded;
#[signal(namespace = "t_inplace_alloc")]
struct Elsewhere;

/// How many allocations a connect and a disconnect may make together, with nobody listening
/// to the meta-signals, on a signal with 100 receivers (averaged over 1,000 pairs).
///
/// Measured at this commit: 16.3 per pair (18.3 with a listener). A connect allocates its
/// record (boxed), the receiver's description and active flag (`Arc`s), the closure (boxed
/// twice: the typed call and its erasure), the next snapshot and its retired list, and the
/// aftermath's list of replaced snapshots: 8. A disconnect its aftermath's lists, the indices
/// to switch off, the retired box and list, and the next snapshot with its retired list: 8.
/// Every 54 pairs the store (room for 100 + 50 + 4) is full and is rebuilt, a dozen
/// allocations more, shared by the pairs (the 0.3). The bound leaves a few for the engine to
/// change, no more: a list rebuilt at every change (a dozen allocations or more each, two
/// changes a pair) would exceed it. Announcements recorded for nobody (one allocation per
/// change, 18.3 a pair) the test catches by comparing with a listener's count instead.
const PAIR_BOUND: usize = 20;

fn connect_disconnect_pairs(pairs: usize) {
    for i in 0..pairs {
        let c = Crowded::signal().connect(move |_: &str, _: &Crowded| {
            black_box(i);
        });
        assert!(c.disconnect(), "expected the receiver connected");
    }
}

#[test]
fn connects_and_disconnects_record_announcements_only_when_somebody_listens() {
    const PAIRS: usize = 1_000;
    assert!(
        !ReceiverConnected::named().has_receivers()
            && !ReceiverDisconnected::named().has_receivers(),
        "expected nobody connected to the meta-signals in this test binary"
    );
    let crowd: Vec<Connection> = (0..100usize)
        .map(|i| {
            Crowded::signal().connect(move |_: &str, _: &Crowded| {
                black_box(i);
            })
        })
        .collect();
    let elsewhere = Elsewhere::named().qualified_name();
    // Warm-up: the thread's caches, the registry.
    connect_disconnect_pairs(10);
    assert_eq!(
        Crowded.send("s").receivers_called(),
        100,
        "expected the 100"
    );

    let quiet = allocations_during(|| connect_disconnect_pairs(PAIRS));

    let listener = ReceiverConnected::signal()
        .connect(Receiver::new(|_: &str, _: &ReceiverConnected| {}).sender(elsewhere));
    connect_disconnect_pairs(10);
    let told = allocations_during(|| connect_disconnect_pairs(PAIRS));
    assert!(listener.disconnect(), "expected the listener connected");

    eprintln!(
        "allocations per connect+disconnect pair: {:.2} with nobody listening, {:.2} with a \
         listener of receiver_connected for another signal",
        quiet as f64 / PAIRS as f64,
        told as f64 / PAIRS as f64
    );
    assert!(
        told > quiet,
        "expected a change to allocate more when somebody listens to receiver_connected (its \
         announcements recorded) than when nobody does: {told} with a listener, {quiet} without"
    );
    assert!(
        quiet <= PAIR_BOUND * PAIRS,
        "expected at most {PAIR_BOUND} allocations per connect+disconnect pair with nobody \
         listening, got {quiet} for {PAIRS} pairs"
    );
    assert_eq!(
        Crowded.send("s").receivers_called(),
        100,
        "expected the 100"
    );
    for c in crowd {
        assert!(c.disconnect(), "expected it connected");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. A compaction (a rebuild of the list) in the middle of a send.

#[signal(namespace = "t_inplace_compact")]
struct Compacted;

/// How the disconnecting receiver forces a rebuild of the list it is called from.
#[derive(Clone, Copy, Debug)]
enum Rebuild {
    /// Disconnects (in place), then connects a receiver for another sender (which the list
    /// for every sender cannot take in place: a rebuild).
    After,
    /// Connects a receiver for another sender first, then disconnects (each a rebuild).
    Before,
    /// Only disconnects, enough for the store to be more than half off: a compaction.
    ByCount,
}

/// Connects `count` receivers; the one at `disconnector` disconnects `victims` (and forces a
/// rebuild as `how` says) during the first send, then sends the signal once more from
/// inside. Checks that send, the nested one and the next.
fn compaction_during_a_send(count: usize, disconnector: usize, victims: &[usize], how: Rebuild) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let connections: Arc<Mutex<HashMap<usize, Connection>>> = Arc::default();
    let filtered: Arc<Mutex<Option<Connection>>> = Arc::default();
    let nested: Arc<Mutex<Option<usize>>> = Arc::default();
    let armed = Arc::new(AtomicBool::new(true));
    for id in 0..count {
        let c = if id == disconnector {
            let (log, connections, filtered, nested, armed) = (
                log.clone(),
                connections.clone(),
                filtered.clone(),
                nested.clone(),
                armed.clone(),
            );
            let victims = victims.to_vec();
            Compacted::signal().connect(move |_: &str, _: &Compacted| {
                log.lock().unwrap().push(id);
                if !armed.swap(false, Ordering::SeqCst) {
                    return;
                }
                let elsewhere = || {
                    Compacted::signal().connect(
                        Receiver::new(|_: &str, _: &Compacted| -> () {
                            panic!("the receiver for another sender is never called")
                        })
                        .sender("elsewhere"),
                    )
                };
                if let Rebuild::Before = how {
                    *filtered.lock().unwrap() = Some(elsewhere());
                }
                for victim in &victims {
                    let c = connections.lock().unwrap().remove(victim);
                    let c = c.expect("a victim is connected");
                    assert!(c.disconnect(), "expected victim {victim} connected");
                }
                if let Rebuild::After = how {
                    *filtered.lock().unwrap() = Some(elsewhere());
                }
                // A nested send sees the list after the changes.
                let report = Compacted.send("s");
                *nested.lock().unwrap() = Some(report.receivers_called());
            })
        } else {
            Compacted::signal().connect(recorder(&log, id))
        };
        connections.lock().unwrap().insert(id, c);
    }
    let survivors: Vec<usize> = (0..count).filter(|id| !victims.contains(id)).collect();
    let later_survivors = survivors.iter().copied().filter(|id| *id > disconnector);
    // The first send: every receiver up to the disconnector, then the nested send (every
    // survivor, the disconnector recording itself without acting), then the survivors after it.
    let expected: Vec<usize> = (0..=disconnector)
        .chain(survivors.iter().copied())
        .chain(later_survivors.clone())
        .collect();

    let report = Compacted.send("s");
    let called = take(&log);
    assert_eq!(
        called, expected,
        "{how:?}, {count} receivers: expected the receivers up to the disconnector, then the \
         nested send's survivors, then only the survivors after the disconnector"
    );
    assert!(
        report.is_ok(),
        "{how:?}: expected no failures: {:?}",
        report.failures()
    );
    assert_eq!(
        report.receivers_called(),
        disconnector + 1 + later_survivors.count(),
        "{how:?}: expected receivers_called() to count the receivers called before the \
         changes and the survivors after the disconnector only"
    );
    assert_eq!(
        nested.lock().unwrap().take(),
        Some(survivors.len()),
        "{how:?}: expected the nested send to call exactly the survivors"
    );

    let report = Compacted.send("s");
    assert_eq!(
        take(&log),
        survivors,
        "{how:?}: expected the next send to call exactly the survivors, in order"
    );
    assert_eq!(
        report.receivers_called(),
        survivors.len(),
        "{how:?}: expected the next send to count exactly the survivors"
    );

    // The list still takes a new receiver, at the end.
    let last = Compacted::signal().connect(recorder(&log, 1000));
    let report = Compacted.send("s");
    let mut with_last = survivors.clone();
    with_last.push(1000);
    assert_eq!(
        take(&log),
        with_last,
        "{how:?}: expected a receiver connected after it all called last"
    );
    assert_eq!(report.receivers_called(), survivors.len() + 1);

    assert!(last.disconnect());
    for (_, c) in connections.lock().unwrap().drain() {
        assert!(c.disconnect(), "expected every survivor connected");
    }
    let filtered = filtered.lock().unwrap().take();
    if let Some(c) = filtered {
        assert!(c.disconnect(), "expected the filtered receiver connected");
    }
}

#[test]
fn a_rebuild_during_a_send_calls_only_the_survivors() {
    // 12 receivers: the fourth disconnects 9 of the others (two it follows, seven after it).
    let victims = [0, 2, 4, 5, 6, 7, 9, 10, 11];
    compaction_during_a_send(12, 3, &victims, Rebuild::After);
    compaction_during_a_send(12, 3, &victims, Rebuild::Before);
    // 50 receivers: the sixth disconnects 40 after it, one at a time. 50 written: the 20th
    // disconnect crosses the compaction threshold (more off than half as many as are on,
    // plus four), so the list is compacted in the middle of the send; the later disconnects go
    // to the new list.
    let victims: Vec<usize> = (6..50).filter(|id| id % 10 != 0).collect();
    assert_eq!(victims.len(), 40);
    compaction_during_a_send(50, 5, &victims, Rebuild::ByCount);
}

// ---------------------------------------------------------------------------------------------
// A fail-fast send's `stopped_early` with entries switched off after the failing one.

#[signal(namespace = "t_inplace_stopped")]
struct StopsEarly;

#[test]
fn a_failure_before_only_switched_off_entries_did_not_stop_early() {
    let failing =
        StopsEarly::signal().connect(|_: &str, _: &StopsEarly| -> Result<(), std::io::Error> {
            Err(std::io::Error::other("refused"))
        });
    let later = StopsEarly::signal().connect(|_: &str, _: &StopsEarly| {});

    let report = StopsEarly.sending("s").fail_fast().run();
    assert_eq!(report.receivers_called(), 1);
    assert!(
        report.stopped_early(),
        "a receiver after the failing one would have been called"
    );

    let block = later.block();
    let report = StopsEarly.sending("s").fail_fast().run();
    assert_eq!(report.receivers_called(), 1);
    assert!(
        !report.stopped_early(),
        "the only receiver after the failing one is blocked: the send did not stop early"
    );
    drop(block);

    assert!(later.disconnect());
    let report = StopsEarly.sending("s").fail_fast().run();
    assert_eq!(report.receivers_called(), 1);
    assert!(
        !report.stopped_early(),
        "the only receiver after the failing one is disconnected: the send did not stop early"
    );
    failing.disconnect();
}
