//! CKAN's `example_isignal` test `test_return_value`, written the way CKAN writes it: the
//! plugin subscribes by name (it imports no crate that declares the signal) with plain
//! closures returning numbers, and the test sends by name and collects the values.
//!
//! ```python
//! def get_signal_subscriptions(self):
//!     return {tk.signals.ckanext.signal("isignal_number"): [
//!         lambda sender: sender * 2,
//!         {"receiver": lambda sender: sender * 10, "sender": 10},
//!     ]}
//!
//! def test_return_value():
//!     signal = tk.signals.ckanext.signal("isignal_number")
//!     assert [v for _, v in signal.send(5)] == [10]
//!     assert sorted(v for _, v in signal.send(10)) == [20, 100]
//! ```

use signals_core::plugins::{self, Plugin, Subscriptions};
use signals_core::{plugin, DynKwargs, FailureKind, Kwargs, Namespace, Receiver, SenderKey};

/// No struct in this binary declares `ckanext.isignal_number_by_name`: like CKAN's signal, it
/// exists because someone asked for it by name.
const NAME: &str = "isignal_number_by_name";

#[plugin(name = "example_isignal_by_name")]
#[derive(Default)]
struct ExampleISignalByName;

impl Plugin for ExampleISignalByName {
    fn subscriptions(&self, s: &mut Subscriptions) {
        let number = |sender: &SenderKey<'_>| sender.as_int().unwrap_or_default() as i64;
        s.connect_by_name(
            "ckanext",
            NAME,
            move |sender: &SenderKey<'_>, _: &dyn Kwargs| number(sender) * 2,
        )
        .connect_by_name(
            "ckanext",
            NAME,
            Receiver::new(move |sender: &SenderKey<'_>, _: &dyn Kwargs| number(sender) * 10)
                .sender(&10),
        );
    }
}

fn values(sender: i64) -> Vec<i64> {
    let signal = Namespace::get("ckanext").unwrap().signal(NAME).unwrap();
    let collected = signal
        .sending(&sender, &DynKwargs::new())
        .collect::<i64>()
        .run()
        .expect("a by-name send to an undeclared signal takes any bag");
    assert!(collected.report.is_ok(), "{:?}", collected.report);
    collected.into_values()
}

#[test]
fn test_return_value() {
    let signal = Namespace::get("ckanext").unwrap().signal(NAME).unwrap();
    assert!(signal.receivers_for(&10).is_empty());
    {
        let _plugin = plugins::use_plugin("example_isignal_by_name").unwrap();
        assert_eq!(values(5), [10]);
        let mut ten = values(10);
        ten.sort();
        assert_eq!(ten, [20, 100]);

        // A value of another type than the one collected is a failure in the report, with
        // the receiver and both types, never a panic; the send goes on.
        let collected = signal
            .sending(&5, &DynKwargs::new())
            .collect::<String>()
            .run()
            .unwrap();
        assert!(collected.responses.is_empty());
        let failures = collected.report.failures();
        assert_eq!(failures.len(), 1);
        assert!(matches!(
            failures[0].kind,
            FailureKind::WrongValue {
                expected: "alloc::string::String",
                actual: "i64"
            }
        ));
        let message = failures[0].to_string();
        assert!(
            message.contains(
                "returned a `i64`, but this send collects `alloc::string::String` values"
            ),
            "{message}"
        );
        assert_eq!(
            failures[0].receiver.plugin.as_deref(),
            Some("example_isignal_by_name")
        );

        // The async send collects the same values, in connection order.
        let bag = DynKwargs::new();
        let collected = block_on(signal.sending(&10, &bag).collect::<i64>().run_async());
        assert_eq!(collected.unwrap().into_values(), [20, 100]);
    }
    assert!(signal.receivers_for(&10).is_empty());
}

/// Polls a future that never waits on anything to completion (the receivers here are sync).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}
