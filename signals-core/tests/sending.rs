//! Sends through the typed handle (`T::signal().sending(sender, &ev)`): fail-fast, collecting,
//! async sequential and concurrent. Each test keeps a behaviour that a 0.1 doc example of
//! `TypedSignal::try_send`, `send_collect`, `send_async`, `try_send_async`,
//! `send_collect_async`, `send_async_concurrent` or `send_collect_async_concurrent` asserted.
//!
//! Every test uses a signal of its own (`t_sending_*`): signals are process-wide and tests run
//! in parallel.

use futures::executor::block_on;
use signals_core::{signal, Receiver, Signal};

#[signal(namespace = "t_sending_fail_fast")]
struct Refused {
    id: u32,
}

/// Was `TypedSignal::try_send`: a fail-fast send through the handle returns the failure of a
/// receiver that returned an error.
#[test]
fn a_fail_fast_send_through_the_handle_returns_the_failure() {
    let _c = Refused::signal()
        .connect(|_: &str, _: &Refused| Err::<(), _>("no"))
        .scoped();
    assert!(Refused::signal()
        .sending("web", &Refused { id: 1 })
        .fail_fast()
        .run()
        .into_result()
        .is_err());
}

#[signal(namespace = "t_sending_collect", output = u32)]
struct Counted {
    n: u32,
}

/// Was `TypedSignal::send_collect`: a collecting send through the handle returns each value.
#[test]
fn a_collecting_send_through_the_handle_returns_the_values() {
    let _c = Counted::signal()
        .connect(|_: &str, ev: &Counted| ev.n)
        .scoped();
    assert_eq!(
        Counted::signal()
            .sending("web", &Counted { n: 3 })
            .collect()
            .run()
            .into_values(),
        [3]
    );
}

#[signal(namespace = "t_sending_async")]
struct Published {
    id: u32,
}

/// Was `TypedSignal::send_async`: an async send through the handle runs an async receiver.
#[test]
fn an_async_send_through_the_handle_runs_an_async_receiver() {
    let _c = Published::signal()
        .connect(Receiver::new_async(|_: &str, _: &Published| {
            Box::pin(async {})
        }))
        .scoped();
    let args = Published { id: 1 };
    let report = block_on(Published::signal().send_async("web", &args));
    assert_eq!(report.receivers_called(), 1);
}

#[signal(namespace = "t_sending_fail_fast_async")]
struct Uploaded {
    id: u32,
}

/// Was `TypedSignal::try_send_async`: a fail-fast async send through the handle that meets no
/// failure returns how many receivers it called.
#[test]
fn a_fail_fast_async_send_through_the_handle_counts_the_receivers() {
    let _ok = Uploaded::signal()
        .connect(Receiver::new_async(|_: &str, _: &Uploaded| {
            Box::pin(async {})
        }))
        .scoped();
    let args = Uploaded { id: 1 };
    let called = block_on(
        Uploaded::signal()
            .sending("web", &args)
            .fail_fast()
            .run_async(),
    )
    .into_result();
    assert_eq!(called.unwrap(), 1);
}

#[signal(namespace = "t_sending_collect_async", output = u32)]
struct Measured {
    n: u32,
}

/// Was `TypedSignal::send_collect_async`: a collecting async send through the handle returns
/// an async receiver's value.
#[test]
fn a_collecting_async_send_through_the_handle_returns_async_values() {
    let _c = Measured::signal()
        .connect(Receiver::new_async(|_: &str, ev: &Measured| {
            Box::pin(async move { ev.n })
        }))
        .scoped();
    let args = Measured { n: 5 };
    let collected = block_on(
        Measured::signal()
            .sending("web", &args)
            .collect()
            .run_async(),
    );
    assert_eq!(collected.into_values(), [5]);
}

#[signal(namespace = "t_sending_concurrent")]
struct Together {
    id: u32,
}

/// Was `TypedSignal::send_async_concurrent`: a concurrent send through the handle calls an
/// async receiver and a sync one.
#[test]
fn a_concurrent_send_through_the_handle_calls_async_and_sync_receivers() {
    let _a = Together::signal()
        .connect(Receiver::new_async(|_: &str, _: &Together| {
            Box::pin(async {})
        }))
        .scoped();
    let _b = Together::signal()
        .connect(|_: &str, _: &Together| {})
        .scoped();
    let args = Together { id: 1 };
    let report = block_on(Together::signal().sending("web", &args).run_concurrent());
    assert_eq!(report.receivers_called(), 2);
}

#[signal(namespace = "t_sending_collect_concurrent", output = u32)]
struct Summed {
    n: u32,
}

/// Was `TypedSignal::send_collect_async_concurrent`: a collecting concurrent send through the
/// handle returns an async receiver's value.
#[test]
fn a_collecting_concurrent_send_through_the_handle_returns_async_values() {
    let _a = Summed::signal()
        .connect(Receiver::new_async(|_: &str, ev: &Summed| {
            Box::pin(async move { ev.n })
        }))
        .scoped();
    let args = Summed { n: 5 };
    let collected = block_on(
        Summed::signal()
            .sending("web", &args)
            .collect()
            .run_concurrent(),
    );
    assert_eq!(collected.into_values(), [5]);
}
