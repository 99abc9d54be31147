//! Dead weak receivers are reclaimed without waiting for a send that would call them: memory
//! stays proportional to the live receivers, whether the signal is never sent, or sent only
//! by other senders. Each connect, disconnect and (now and then) send sweeps a bounded number
//! of records, so no single call scans a long list.

use std::sync::{Arc, Weak};

use signals_core::{
    signal, Connection, DynKwargs, Kwargs, NamedSignal, Namespace, Receiver, SenderKey, Signal,
};

#[signal(namespace = "rel_weak_reclaim", sender = u64)]
struct SessionEvent;

/// A session target of 64 KiB: a record that kept its `Weak` would keep this allocation.
struct Session {
    _state: Vec<u8>,
}

fn session() -> Arc<Session> {
    Arc::new(Session {
        _state: vec![0; 64 * 1024],
    })
}

/// Connects `n` weak receivers whose targets die: each as soon as it is connected, or all of
/// them after the last connect (`together`). Returns our own `Weak`s of the targets (so we
/// can tell whether anything else still holds their allocations) and the connections.
fn dead_weak_receivers(
    n: usize,
    together: bool,
    connect: impl Fn(&Arc<Session>, usize) -> Connection,
) -> (Vec<Weak<Session>>, Vec<Connection>) {
    let mut weaks = Vec::new();
    let mut connections = Vec::new();
    let mut alive = Vec::new();
    for i in 0..n {
        let target = session();
        weaks.push(Arc::downgrade(&target));
        connections.push(connect(&target, i));
        if together {
            alive.push(target);
        }
    }
    drop(alive);
    (weaks, connections)
}

/// How many targets' allocations something besides our own `Weak` still holds.
fn held(weaks: &[Weak<Session>]) -> usize {
    weaks.iter().filter(|w| w.weak_count() > 1).count()
}

fn still_connected(connections: &[Connection]) -> usize {
    connections.iter().filter(|c| c.is_connected()).count()
}

#[test]
fn weak_receivers_whose_targets_died_are_reclaimed_by_later_connects_without_a_send() {
    let signal = Namespace::get("rel_weak_reclaim")
        .and_then(|ns| ns.signal("never_sent"))
        .unwrap();
    let n = 3_000;
    let (weaks, connections) = dead_weak_receivers(n, false, |target, _| {
        signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).weak(target))
    });
    // Each connect swept a bounded share: what is left is at most one sweep's worth.
    let left = still_connected(&connections);
    assert!(
        left <= 8,
        "{left} of {n} dead weak records left without a send"
    );
    assert!(
        held(&weaks) <= 8,
        "{} targets' allocations still held",
        held(&weaks)
    );
    assert!(
        signal.connections().is_empty(),
        "dead weak receivers are not listed"
    );
    assert!(!signal.has_receivers_for(&"any"));
    // A disconnect sweeps too: a few more changes leave nothing.
    for _ in 0..4 {
        let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
        c.disconnect();
    }
    assert_eq!(still_connected(&connections), 0);
    assert_eq!(held(&weaks), 0, "every target's allocation was freed");
}

#[test]
fn per_sender_weak_receivers_are_reclaimed_by_sends_from_other_senders() {
    // Sessions, each its own sender id, all dropped after the last connect; the signal is
    // then sent only by other senders, which never call the dead receivers.
    let signal = SessionEvent::signal();
    let n = 800;
    let (weaks, connections) = dead_weak_receivers(n, true, |target, i| {
        signal.connect(
            Receiver::new(|_: &u64, _: &SessionEvent| {})
                .sender(&(i as u64))
                .weak(target),
        )
    });
    let busy = signal.connect(|_: &u64, _: &SessionEvent| {});
    let before = still_connected(&connections);
    assert!(
        before >= n - 8,
        "only the last connect swept, and only a bounded share"
    );
    let mut sent = 0;
    // Checked between batches: `is_connected` looks each connection up.
    while still_connected(&connections) > 0 && sent < 1_000_000 {
        for _ in 0..256 {
            let report = SessionEvent.send(&u64::MAX);
            assert_eq!(report.receivers_called(), 1);
        }
        sent += 256;
    }
    assert_eq!(still_connected(&connections), 0, "after {sent} sends");
    assert_eq!(held(&weaks), 0);
    // Bounded work per send: a share every few hundred sends, not a scan of the list.
    assert!(
        sent >= before / 8,
        "{sent} sends reclaimed {before} records: more than a bounded share each"
    );
    busy.disconnect();
}

#[test]
fn a_by_name_send_takes_its_share_of_the_sweep_too() {
    let signal: NamedSignal = Namespace::get("rel_weak_reclaim")
        .and_then(|ns| ns.signal("by_name"))
        .unwrap();
    let (weaks, connections) = dead_weak_receivers(64, true, |target, i| {
        signal.connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {})
                .sender(&(i as u64))
                .weak(target),
        )
    });
    let _busy = signal
        .connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {})
        .scoped();
    let bag = DynKwargs::new();
    let mut sent = 0;
    while still_connected(&connections) > 0 && sent < 100_000 {
        for _ in 0..256 {
            assert_eq!(signal.send(&"other", &bag).unwrap().receivers_called(), 1);
        }
        sent += 256;
    }
    assert_eq!(still_connected(&connections), 0, "after {sent} sends");
    assert_eq!(held(&weaks), 0);
}
