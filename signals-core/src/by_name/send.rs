//! A by-name send: to a signal a struct declares, through the struct's own way (its
//! binding's `send_by_name`); to any other, through the by-name receiver lists here; and a
//! bag that is not the declared struct (decoded from JSON) to by-name receivers alone.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::by_name::handle::NamedSignal;
use crate::engine::cache::{owned_snapshot, with_snapshot};
use crate::engine::deliver::{await_receivers, call_receivers, Concurrency, Mode};
use crate::engine::signal::{ByNameInput, SignalCore};
use crate::engine::snapshot::{
    downcast, downcast_owned, ByNameSendFuture, ByNameShape, SharedSnapshot, Snapshot,
};
use crate::error::Error;
use crate::future::{drop_quietly, BoxFuture};
use crate::kwargs::Kwargs;
use crate::receiver::{AnyValue, ReceiverInfo};
use crate::report::{Response, SendReport};
use crate::sender::SenderKey;

impl NamedSignal {
    /// A by-name send, collecting each value into `collect` when it is given.
    pub(crate) fn send_in(
        &self,
        mode: Mode,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
        collect: Option<&mut Vec<Response<AnyValue>>>,
    ) -> Result<SendReport, Error> {
        let core = self.core();
        // Dispatched by the snapshot's own shape, which a signal's binding decides.
        with_snapshot(core, |snapshot| match downcast::<ByNameShape>(snapshot) {
            Some(by_name) => Ok(send_unbound(by_name, core, key, args, mode, collect)),
            None => match core.binding() {
                Some(binding) => (binding.send_by_name)(snapshot, core, key, args, mode, collect),
                None => Ok(SendReport::default()),
            },
        })
    }

    /// A by-name async send, with the values it collected when `collect` is set.
    pub(crate) fn send_async_in<'a>(
        &self,
        how: Concurrency,
        key: SenderKey<'a>,
        args: &'a dyn Kwargs,
        collect: bool,
    ) -> ByNameSendFuture<'a> {
        let core = self.core();
        Box::pin(async move {
            let snapshot = owned_snapshot(core);
            match (
                downcast::<ByNameShape>(&*snapshot).is_some(),
                core.binding(),
            ) {
                (false, Some(binding)) => {
                    (binding.send_by_name_async)(snapshot, core, key, args, how, collect).await
                }
                _ => Ok(send_unbound_async(snapshot, core, key, args, how, collect).await),
            }
        })
    }

    /// A by-name send of a bag that is not the declared struct (a bag decoded from JSON, see
    /// `crate::wire`): to a signal no struct declares, as [`send_in`](Self::send_in) sends
    /// it; to a declared one, through a by-name view of its receivers, where each typed
    /// receiver is reported ([`FailureKind::TypedReceiver`](crate::FailureKind::TypedReceiver))
    /// instead of called.
    pub(crate) fn send_bag_in(
        &self,
        mode: Mode,
        key: &SenderKey<'_>,
        args: &dyn Kwargs,
    ) -> SendReport {
        let core = self.core();
        let unbound = with_snapshot(core, |snapshot| {
            downcast::<ByNameShape>(snapshot)
                .map(|by_name| send_unbound(by_name, core, key, args, mode, None))
        });
        unbound.unwrap_or_else(|| {
            let view = core.by_name_view();
            let report = send_unbound(&view, core, key, args, mode, None);
            // A change during the send may have left this the last reference to a closure.
            drop_quietly(view);
            report
        })
    }

    /// The async [`send_bag_in`](Self::send_bag_in).
    pub(crate) fn send_bag_async_in<'a>(
        &self,
        how: Concurrency,
        key: SenderKey<'a>,
        args: &'a dyn Kwargs,
    ) -> BoxFuture<'a, SendReport> {
        let core = self.core();
        Box::pin(async move {
            let mut snapshot = owned_snapshot(core);
            if downcast::<ByNameShape>(&*snapshot).is_none() {
                drop_quietly(std::mem::replace(&mut snapshot, core.by_name_view()));
            }
            let (report, _) = send_unbound_async(snapshot, core, key, args, how, false).await;
            report
        })
    }
}

/// A send to a signal no struct declares: every receiver takes the key and the bag.
fn send_unbound(
    snapshot: &Snapshot<ByNameShape>,
    core: &'static SignalCore,
    key: &SenderKey<'_>,
    args: &dyn Kwargs,
    mode: Mode,
    mut collect: Option<&mut Vec<Response<AnyValue>>>,
) -> SendReport {
    if !core.live.load(Ordering::Acquire) {
        return SendReport::default();
    }
    let mut push = |receiver: &Arc<ReceiverInfo>, value: AnyValue| {
        if let Some(responses) = collect.as_mut() {
            responses.push(Response {
                receiver: receiver.clone(),
                value,
            });
        }
    };
    let report = call_receivers(
        core,
        snapshot.receivers_for_key(key),
        mode,
        &ByNameInput::new(key, args),
        Some(&mut push),
    );
    if snapshot.has_weak() {
        core.sweep_now_and_then();
    }
    report
}

/// The async send to a signal no struct declares.
fn send_unbound_async<'a>(
    snapshot: SharedSnapshot,
    core: &'static SignalCore,
    key: SenderKey<'a>,
    args: &'a dyn Kwargs,
    how: Concurrency,
    collect: bool,
) -> BoxFuture<'a, (SendReport, Vec<Response<AnyValue>>)> {
    Box::pin(async move {
        let Some(snapshot) = downcast_owned::<ByNameShape>(snapshot) else {
            return (SendReport::default(), Vec::new());
        };
        if !core.live.load(Ordering::Acquire) {
            return (SendReport::default(), Vec::new());
        }
        let list = snapshot.receivers_for_key(&key);
        // An async by-name receiver may keep its sender's key: it gets an owned one.
        let owned = key.clone().into_owned();
        let mut values = Vec::new();
        let input = ByNameInput::new(&key, args);
        let report = await_receivers(
            core,
            list,
            how,
            &input,
            |call| call(&owned, args),
            collect.then_some(&mut values),
        )
        .await;
        // A change during the send may have left this the last reference to a closure.
        drop_quietly(snapshot);
        (report, values)
    })
}
