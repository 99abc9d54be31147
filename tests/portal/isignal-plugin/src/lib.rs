//! CKAN's `example_isignal` plugin (`ckanext/example_isignal`), ported: a signal
//! `ckanext.isignal_number` whose receivers return values, subscribed through the plugin's
//! `subscriptions` (CKAN's `ISignal.get_signal_subscriptions`).
//!
//! Beside it, small plugins the plugin host's tests need:
//! - `shared_any` and `shared_ten` subscribe the SAME function, [`shared`], one to every
//!   sender and one to sender 10 only: CKAN's unload disconnected a bare callable from every
//!   sender, taking the other plugin's subscription with it.
//! - `broken_subscriptions` connects [`shared`] to every sender, then asks for a signal by an
//!   invalid name: its load fails and must leave nothing connected.

use signals_core::prelude::*;

/// CKAN's example signal: sent by a number, each receiver returns a number.
#[signal(namespace = "ckanext", name = "isignal_number", sender = i64, output = i64)]
#[derive(Debug, Clone)]
pub struct IsignalNumber;

/// Doubles the sender. Subscribed for every sender.
pub fn x2(sender: &i64, _ev: &IsignalNumber) -> i64 {
    sender * 2
}

/// Multiplies the sender by ten. Subscribed for sender 10 only.
pub fn x10(sender: &i64, _ev: &IsignalNumber) -> i64 {
    sender * 10
}

/// CKAN's `ExampleISignalPlugin`.
#[plugin(name = "example_isignal")]
#[derive(Default)]
pub struct ExampleISignalPlugin;

impl Plugin for ExampleISignalPlugin {
    fn subscriptions(&self, s: &mut Subscriptions) {
        // `{isignal_number: [x2, {"receiver": x10, "sender": 10}]}`
        let number = IsignalNumber::signal();
        s.connect(number, x2)
            .connect(number, Receiver::new(x10).sender(&10i64));
    }
}

/// A signal for the shared-subscriber plugins, so they never disturb `isignal_number`.
#[signal(namespace = "ckanext", name = "example_isignal_shared", sender = i64, output = i64)]
#[derive(Debug, Clone)]
pub struct SharedNumber;

/// The function both `shared_any` and `shared_ten` subscribe.
pub fn shared(sender: &i64, _ev: &SharedNumber) -> i64 {
    *sender + 1
}

/// Subscribes [`shared`] to every sender.
#[plugin(name = "shared_any")]
#[derive(Default)]
pub struct SharedAny;

impl Plugin for SharedAny {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(SharedNumber::signal(), shared);
    }
}

/// Subscribes [`shared`] to sender 10 only.
#[plugin(name = "shared_ten")]
#[derive(Default)]
pub struct SharedTen;

impl Plugin for SharedTen {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(SharedNumber::signal(), Receiver::new(shared).sender(&10i64));
    }
}

/// Subscribes [`shared`] to sender 7 only, then asks for a signal whose name breaks the
/// naming rules: loading it fails, and the sender-7 subscription must be undone.
#[plugin(name = "broken_subscriptions")]
#[derive(Default)]
pub struct BrokenSubscriptions;

impl Plugin for BrokenSubscriptions {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(SharedNumber::signal(), Receiver::new(shared).sender(&7i64))
            .connect_by_name(
                "ckanext",
                "no spaces allowed",
                |_: &SenderKey<'_>, _: &dyn Kwargs| {},
            );
    }
}

/// Subscribes [`shared`] to every sender, as `shared_any` does: two plugins making the very
/// same subscription.
#[plugin(name = "shared_any_again")]
#[derive(Default)]
pub struct SharedAnyAgain;

impl Plugin for SharedAnyAgain {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(SharedNumber::signal(), shared);
    }
}
