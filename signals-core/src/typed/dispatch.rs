//! The way of a typed send, up to the engine's delivery loop: the check that anybody
//! listens, inlined into the caller; then, out of line, this thread's cached snapshot of the
//! signal and the receiver list for the sender.

use std::sync::atomic::Ordering;

use crate::engine::cache::owned_snapshot;
use crate::engine::cache::with_snapshot;
use crate::engine::deliver::{await_receivers, call_receivers, Collect, Concurrency, Mode};
use crate::engine::signal::SignalCore;
use crate::engine::snapshot::{downcast, downcast_owned, ReceiverList, Snapshot};
use crate::future::drop_quietly;
use crate::report::{Response, SendReport};
use crate::sender::Sender;
use crate::typed::handle::TypedSignal;
use crate::typed::shape::{view_key, AsyncTypedCall, Delivery, ThreadSnapshot, TypedShape};
use crate::typed::signal::Signal;

impl<T: Signal> TypedSignal<T> {
    pub(crate) async fn dispatch_async(
        self,
        args: &T,
        sender: &T::Sender,
        how: Concurrency,
        collect: Option<&mut Vec<Response<T::Output>>>,
    ) -> SendReport {
        let core = self.named.core();
        if !core.live.load(Ordering::Acquire) {
            return SendReport::default();
        }
        let owned = match T::thread_snapshot().and_then(|l| l.try_with(|s| s.0.owned(core)).ok()) {
            Some(owned) => owned,
            None => downcast_owned::<TypedShape<T>>(owned_snapshot(core)),
        };
        let Some(snapshot) = owned else {
            return SendReport::default();
        };
        let list = snapshot.receivers_for_with(|| sender.sender_key());
        let key = list.has_by_name().then(|| view_key(sender)).flatten();
        let input = Delivery::with_key(sender, args, key.as_ref());
        let report =
            await_receivers(core, list, how, &input, |call| call(sender, args), collect).await;
        // A change during the send may have left this the last reference to a closure.
        drop_quietly(snapshot);
        report
    }

    #[inline]
    pub(crate) fn dispatch(
        &self,
        args: &T,
        sender: &T::Sender,
        mode: Mode,
        collect: Option<&mut Collect<'_, T::Output>>,
    ) -> SendReport {
        let core = self.named.core();
        if !core.live.load(Ordering::Acquire) {
            return SendReport::default();
        }
        match (mode, collect) {
            (Mode::Robust, None) => send_live(core, args, sender),
            (mode, collect) => send_live_with(core, args, sender, mode, collect),
        }
    }
}

// A send to a signal with receivers is out of line, so that a send nobody listens to costs
// its caller one load and no frame. The plain robust send has an entry of its own, with
// fewer arguments to keep across the receivers' calls.

/// A robust send that collects nothing, to a signal with receivers.
#[inline(never)]
fn send_live<T: Signal>(core: &'static SignalCore, args: &T, sender: &T::Sender) -> SendReport {
    send_live_body(core, args, sender, Mode::Robust, None)
}

/// Any other send to a signal with receivers.
#[inline(never)]
fn send_live_with<T: Signal>(
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    send_live_body(core, args, sender, mode, collect)
}

/// The body of [`send_live`] and [`send_live_with`].
#[inline(always)]
fn send_live_body<T: Signal>(
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    mut collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    if let Some(local) = T::thread_snapshot() {
        // `try_with` fails only while the thread is torn down: then take the shared path.
        let sent = local.try_with(|slot| match slot.0.cached() {
            Some(snapshot) => send_to_snapshot(
                core,
                Some(&snapshot),
                args,
                sender,
                mode,
                collect.as_deref_mut(),
            ),
            None => send_fresh(slot, core, args, sender, mode, collect.as_deref_mut()),
        });
        if let Ok(report) = sent {
            return report;
        }
    }
    send_shared(core, args, sender, mode, collect)
}

/// Calls the receivers of `snapshot` for a send of `args` from `sender`.
#[inline(always)]
fn send_to_snapshot<T: Signal>(
    core: &'static SignalCore,
    snapshot: Option<&Snapshot<TypedShape<T>>>,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    let Some(snapshot) = snapshot else {
        return SendReport::default();
    };
    if let Some(receivers) = snapshot.plain_list() {
        return call_receivers(core, receivers, mode, &Delivery::new(sender, args), collect);
    }
    match (mode, collect) {
        (Mode::Robust, None) => send_to_other(core, snapshot, args, sender),
        (mode, collect) => send_to_other_with(core, snapshot, args, sender, mode, collect),
    }
}

// A send to a snapshot that is not plain is out of line too, with an entry of its own for
// the plain robust send, as for `send_live`: its loop then tests no mode per receiver.

/// [`send_to_snapshot`] when the snapshot is not plain, for a robust send that collects
/// nothing.
#[inline(never)]
fn send_to_other<T: Signal>(
    core: &'static SignalCore,
    snapshot: &Snapshot<TypedShape<T>>,
    args: &T,
    sender: &T::Sender,
) -> SendReport {
    send_to_other_body(core, snapshot, args, sender, Mode::Robust, None)
}

/// [`send_to_snapshot`] when the snapshot is not plain, for any other send.
#[inline(never)]
fn send_to_other_with<T: Signal>(
    core: &'static SignalCore,
    snapshot: &Snapshot<TypedShape<T>>,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    send_to_other_body(core, snapshot, args, sender, mode, collect)
}

/// The body of [`send_to_other`] and [`send_to_other_with`]: the snapshot has weakly bound
/// receivers (the send takes its share of the sweep of dead ones), receivers filtering on
/// senders (the send picks its sender's list) or by-name receivers.
#[inline(always)]
fn send_to_other_body<T: Signal>(
    core: &'static SignalCore,
    snapshot: &Snapshot<TypedShape<T>>,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    if snapshot.has_weak() {
        core.sweep_now_and_then();
    }
    let receivers = snapshot.receivers_for_with(|| sender.sender_key());
    if receivers.has_by_name() {
        return send_with_by_name(core, receivers, args, sender, mode, collect);
    }
    call_receivers(core, receivers, mode, &Delivery::new(sender, args), collect)
}

/// A typed send to a list with by-name receivers: the by-name view of the send (the sender's
/// key and the struct as the bag) is made once, for all of them.
#[inline(always)]
fn send_with_by_name<T: Signal>(
    core: &'static SignalCore,
    receivers: &ReceiverList<Delivery<T>, T::Output, AsyncTypedCall<T>>,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    let key = view_key(sender);
    call_receivers(
        core,
        receivers,
        mode,
        &Delivery::with_key(sender, args, key.as_ref()),
        collect,
    )
}

/// The send path when this thread's slot holds no current snapshot: fetches it first.
#[cold]
#[inline(never)]
fn send_fresh<T: Signal>(
    slot: &ThreadSnapshot<T>,
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    let fresh = slot.0.fresh(core);
    let report = send_to_snapshot(core, fresh.as_deref(), args, sender, mode, collect);
    // Not cached when the slot was borrowed: a change during the send may have left this the
    // last reference to a closure.
    drop_quietly(fresh);
    report
}

/// The send path through the cache shared by a thread's signals: for hand-written signal
/// types without a slot of their own, and while the thread is torn down.
#[inline(never)]
fn send_shared<T: Signal>(
    core: &'static SignalCore,
    args: &T,
    sender: &T::Sender,
    mode: Mode,
    collect: Option<&mut Collect<'_, T::Output>>,
) -> SendReport {
    with_snapshot(core, |erased| {
        send_to_snapshot(
            core,
            downcast::<TypedShape<T>>(erased),
            args,
            sender,
            mode,
            collect,
        )
    })
}
