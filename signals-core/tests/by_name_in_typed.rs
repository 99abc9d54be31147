//! By-name receivers reached by a typed send: what a plugin that cannot name the signal's
//! struct relies on. For a signal with no output the engine calls the by-name closure straight
//! from the typed list (the typed send's input begins with the by-name view); for a signal
//! with an output, through a function that checks the value's type. Both must give the
//! receiver the sender's key and the struct's fields, keep connection order among typed
//! receivers, count exactly, and report a value of the wrong type as a failure.
//!
//! Every test uses signals of its own: signals are process-wide and tests run in parallel.

use std::sync::{Arc, Mutex};

use futures::executor::block_on;
use signals_core::{signal, FailureKind, Kwargs, Receiver, Sender, SenderKey, Signal};

type Log = Arc<Mutex<Vec<String>>>;

fn typed_logger<T: Signal<Sender = str>>(log: &Log, tag: &'static str) -> impl Fn(&str, &T) {
    let log = log.clone();
    move |sender: &str, _: &T| log.lock().unwrap().push(format!("{tag}:{sender}"))
}

/// Logs `tag:key:n`, the key as `SenderKey` displays it (a string key in quotes).
fn by_name_logger(log: &Log, tag: &'static str) -> impl Fn(&SenderKey<'_>, &dyn Kwargs) {
    let log = log.clone();
    move |sender: &SenderKey<'_>, kw: &dyn Kwargs| {
        let n = kw.get::<u64>("n").copied();
        log.lock().unwrap().push(format!("{tag}:{sender}:{n:?}"));
    }
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[signal(namespace = "t_by_name_in_typed_order")]
struct Mixed {
    n: u64,
}

#[test]
fn by_name_receivers_of_a_signal_with_no_output_get_the_key_and_the_fields_in_order() {
    let log = Log::default();
    let _a = Mixed::signal()
        .connect(typed_logger::<Mixed>(&log, "typed-1"))
        .scoped();
    let _b = Mixed::named()
        .connect(by_name_logger(&log, "named-2"))
        .scoped();
    let _c = Mixed::signal()
        .connect(typed_logger::<Mixed>(&log, "typed-3"))
        .scoped();
    let _d = Mixed::named()
        .connect(by_name_logger(&log, "named-4"))
        .scoped();
    let report = Mixed { n: 7 }.send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 4);
    assert_eq!(
        taken(&log),
        [
            "typed-1:web",
            r#"named-2:"web":Some(7)"#,
            "typed-3:web",
            r#"named-4:"web":Some(7)"#
        ]
    );
}

#[signal(namespace = "t_by_name_in_typed_plain")]
struct Plain {
    n: u64,
}

#[test]
fn a_by_name_receiver_connected_to_a_list_of_typed_ones_is_called_by_the_next_send() {
    let log = Log::default();
    let _typed = Plain::signal()
        .connect(typed_logger::<Plain>(&log, "typed"))
        .scoped();
    // A send to typed receivers alone, then one with a by-name receiver too, then alone again.
    assert_eq!(Plain { n: 1 }.send("a").receivers_called(), 1);
    let named = Plain::named().connect(by_name_logger(&log, "named"));
    assert_eq!(Plain { n: 2 }.send("b").receivers_called(), 2);
    named.disconnect();
    assert_eq!(Plain { n: 3 }.send("c").receivers_called(), 1);
    assert_eq!(
        taken(&log),
        ["typed:a", "typed:b", r#"named:"b":Some(2)"#, "typed:c"]
    );
}

#[signal(namespace = "t_by_name_in_typed_filtered")]
struct Filtered {
    n: u64,
}

#[test]
fn a_by_name_receiver_filtering_on_a_sender_gets_that_sender_only() {
    let log = Log::default();
    let _named = Filtered::named()
        .connect(Receiver::new(by_name_logger(&log, "named")).sender("x"))
        .scoped();
    let _typed = Filtered::signal()
        .connect(typed_logger::<Filtered>(&log, "typed"))
        .scoped();
    assert_eq!(Filtered { n: 1 }.send("x").receivers_called(), 2);
    assert_eq!(Filtered { n: 2 }.send("y").receivers_called(), 1);
    assert_eq!(taken(&log), [r#"named:"x":Some(1)"#, "typed:x", "typed:y"]);
}

#[signal(namespace = "t_by_name_in_typed_wrong_value")]
struct NoOutput {
    n: u64,
}

#[test]
fn a_value_from_a_by_name_receiver_of_a_signal_with_no_output_is_a_failure_not_a_panic() {
    let log = Log::default();
    let _valued = NoOutput::named()
        .connect(|_: &SenderKey<'_>, kw: &dyn Kwargs| kw.get::<u64>("n").copied().unwrap_or(0))
        .scoped();
    let _after = NoOutput::signal()
        .connect(typed_logger::<NoOutput>(&log, "after"))
        .scoped();
    let report = NoOutput { n: 5 }.send("web");
    assert_eq!(report.receivers_called(), 2, "both ran");
    assert_eq!(taken(&log), ["after:web"]);
    let failures = report.failures();
    assert_eq!(failures.len(), 1, "{report:?}");
    match &failures[0].kind {
        FailureKind::WrongValue { expected, actual } => {
            assert_eq!((*expected, *actual), ("()", "u64"));
        }
        other => panic!("not a wrong value: {other:?}"),
    }
}

#[signal(namespace = "t_by_name_in_typed_output", output = u64)]
struct WithOutput {
    n: u64,
}

#[test]
fn by_name_receivers_of_a_signal_with_an_output_give_values_of_its_type_or_fail() {
    let _typed = WithOutput::signal()
        .connect(|_: &str, ev: &WithOutput| ev.n)
        .scoped();
    let _named = WithOutput::named()
        .connect(|sender: &SenderKey<'_>, kw: &dyn Kwargs| {
            let n = kw.get::<u64>("n").copied().unwrap_or(0);
            if sender.to_string().contains("web") {
                n * 10
            } else {
                0
            }
        })
        .scoped();
    let _wrong = WithOutput::named()
        .connect(|_: &SenderKey<'_>, _: &dyn Kwargs| "not a number".to_owned())
        .scoped();
    let collected = WithOutput::signal()
        .sending("web", &WithOutput { n: 4 })
        .collect()
        .run();
    assert_eq!(collected.report.receivers_called(), 3);
    let failures = collected.report.failures();
    assert_eq!(failures.len(), 1);
    assert!(matches!(
        failures[0].kind,
        FailureKind::WrongValue {
            expected: "u64",
            actual: "alloc::string::String"
        }
    ));
    assert_eq!(collected.into_values(), [4, 40]);
}

/// A sender whose `sender_key` panics: user code the send must survive.
struct KeyPanics;

impl Sender for KeyPanics {
    fn sender_key(&self) -> SenderKey<'_> {
        panic!("no key for this sender")
    }
}

#[signal(namespace = "t_by_name_in_typed_key_panics", sender = KeyPanics)]
struct Keyless {
    n: u64,
}

#[signal(namespace = "t_by_name_in_typed_key_panics_async", sender = KeyPanics)]
struct KeylessAsync {
    n: u64,
}

#[test]
fn a_sender_key_that_panics_fails_the_by_name_receivers_only_and_the_send_goes_on() {
    let log = Log::default();
    let typed_log = log.clone();
    let _typed = Keyless::signal()
        .connect(move |_: &KeyPanics, ev: &Keyless| {
            typed_log.lock().unwrap().push(format!("typed:{}", ev.n));
        })
        .scoped();
    let _named = Keyless::named()
        .connect(by_name_logger(&log, "named"))
        .scoped();
    let report = Keyless { n: 3 }.send(&KeyPanics);
    assert_eq!(taken(&log), ["typed:3"]);
    assert_eq!(
        report.receivers_called(),
        1,
        "the by-name receiver did not run"
    );
    let failures = report.failures();
    assert_eq!(failures.len(), 1, "{report:?}");
    assert_eq!(
        failures[0].to_string(),
        format!(
            "receiver {} returned an error: not called: the sender's key could not be made \
             (the sender's `Sender::sender_key` panicked); fix that implementation",
            failures[0].receiver
        )
    );
}

#[test]
fn an_async_send_makes_no_sender_key_without_by_name_receivers() {
    let log = Log::default();
    let typed_log = log.clone();
    let _typed = KeylessAsync::signal()
        .connect(move |_: &KeyPanics, ev: &KeylessAsync| {
            typed_log.lock().unwrap().push(format!("typed:{}", ev.n));
        })
        .scoped();
    let args = KeylessAsync { n: 4 };
    let report = block_on(KeylessAsync::signal().send_async(&KeyPanics, &args));
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 1);
    // With a by-name receiver, the key is made and its panic fails that receiver alone.
    let _named = KeylessAsync::named()
        .connect(by_name_logger(&log, "named"))
        .scoped();
    let report = block_on(KeylessAsync::signal().send_async(&KeyPanics, &args));
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(report.failures().len(), 1, "{report:?}");
    assert_eq!(taken(&log), ["typed:4", "typed:4"]);
}
