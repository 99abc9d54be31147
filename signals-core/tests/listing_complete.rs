//! The listing shows what a user asks it for: by-name subscribers of plugins not loaded, to
//! signals nobody has looked up yet, and blocked connections as blocked. A binary of its own:
//! the first test to look the signal up would create it.

use signals_core::{listing, subscriber, Kwargs, Namespace, Receiver, SenderKey};

/// A plugin's by-name subscriber to a signal of a crate this binary does not link.
#[subscriber(
    namespace = "listing_complete",
    signal = "optional_dep",
    plugin = "listing_complete_plugin"
)]
fn on_optional(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}

#[test]
fn a_subscriber_to_a_signal_nobody_looked_up_is_listed_and_a_blocked_one_says_so() {
    let listed = listing();
    let entry = listed
        .signals
        .iter()
        .find(|s| s.namespace == "listing_complete" && s.name == "optional_dep")
        .expect("the subscriber's signal is listed");
    assert!(entry.declaration.is_none());
    assert_eq!(entry.subscribers.len(), 1);
    let sub = &entry.subscribers[0];
    assert!(sub.name.ends_with("on_optional"));
    assert_eq!(sub.plugin.as_deref(), Some("listing_complete_plugin"));
    assert!(!sub.connected && !sub.blocked);
    assert!(
        Namespace::get("listing_complete")
            .unwrap()
            .signals()
            .is_empty(),
        "listing does not create the signal"
    );

    let signal = Namespace::get("listing_complete")
        .unwrap()
        .signal("blocked")
        .unwrap();
    let c = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).name("held"));
    let guard = c.block();
    let listed = listing();
    let entry = listed
        .signals
        .iter()
        .find(|s| s.namespace == "listing_complete" && s.name == "blocked")
        .unwrap();
    assert!(entry.subscribers[0].connected && entry.subscribers[0].blocked);
    let text = listed.to_string();
    assert!(
        text.contains("      held (any sender, blocked) at "),
        "{text}"
    );
    drop(guard);
    c.disconnect();
}
