//! The runtime's promises, one test group per promise of the signals-core issue.
//! Every test uses a namespace of its own: signals are process-wide and tests run in parallel.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::Log;
use signals_core::{
    DynKwargs, Error, FailureKind, Kwargs, NameKind, NameRule, Namespace, Receiver,
    ReceiverConnected, ReceiverDisconnected, ReceiverId, SenderFilter, SenderKey, Signal,
};

hand_signal!(UserCreated, "t_typed", "user_created", str, () { user: String });
hand_signal!(Numbered, "t_values", "isignal_number", i64, i64 {});
hand_signal!(Ordered, "t_order", "ordered", str, () {});
hand_signal!(Failing, "t_fail", "failing", str, () {});
hand_signal!(Conflict1, "t_conflict", "same_name", str, () {});
hand_signal!(Conflict2, "t_conflict", "same_name", str, () {});
hand_signal!(Filtered, "t_filter", "filtered", str, () {});
hand_signal!(IntSent, "t_int", "int_sent", i64, () {});
hand_signal!(NoneSent, "t_none", "none_sent", Option<String>, () { user: String });
hand_signal!(Reentrant, "t_reentrant", "reentrant", str, () { depth: u32 });
hand_signal!(Mutable, "t_mutable", "mutable", str, () {});
hand_signal!(Merged, "t_merged", "merged", str, () {});
hand_signal!(Weakly, "t_weak", "weakly", str, () {});
hand_signal!(WeakKeyed, "t_weak_keyed", "weak_keyed", str, () {});
hand_signal!(WeakFn, "t_weak_fn", "weak_fn", str, () {});
hand_signal!(Muted, "t_mute", "muted", str, () {});
hand_signal!(Meta, "t_meta", "watched", str, () {});
hand_signal!(Scoped, "t_scope", "scoped", str, () {});
hand_signal!(Keyed, "t_keyed", "keyed", str, () {});
hand_signal!(Blocked, "t_block", "blocked", str, () {});

// 1. Namespaces and names ------------------------------------------------------------------

#[test]
fn namespaces_and_signals_are_interned_singletons() {
    let a = Namespace::get("t_ns").unwrap();
    assert_eq!(a, Namespace::get("t_ns").unwrap());
    assert_ne!(a, Namespace::get("t_ns2").unwrap());
    let s = a.signal("one").unwrap();
    assert_eq!(s, a.signal("one").unwrap());
    assert_ne!(s, Namespace::get("t_ns2").unwrap().signal("one").unwrap());
    assert_eq!(s.qualified_name(), "t_ns.one");
    assert!(Namespace::all().iter().any(|n| n.name() == "t_ns"));
    assert!(a.signals().contains(&s));
}

#[test]
fn invalid_names_say_which_rule_they_broke() {
    let cases: [(&str, NameRule); 3] = [
        ("", NameRule::Empty),
        ("has space", NameRule::BadCharacter { index: 3 }),
        (&"x".repeat(256), NameRule::TooLong { len: 256 }),
    ];
    for (name, rule) in cases {
        let err = Namespace::get(name).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidName {
                kind: NameKind::Namespace,
                name: name.to_owned(),
                rule
            }
        );
    }
    let err = Namespace::get("t_names")
        .unwrap()
        .signal("bad/name")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid signal name \"bad/name\": the character at byte 3 is not allowed; \
         use only ASCII letters, digits, `_`, `.` and `-`"
    );
    assert_eq!(
        Namespace::get("").unwrap_err().to_string(),
        "invalid namespace name \"\": it is empty; give it at least one character"
    );
    assert_eq!(
        Namespace::get(&"y".repeat(300)).unwrap_err().to_string(),
        // A long name is quoted up to 64 characters, then `…` and its length.
        format!(
            "invalid namespace name \"{}…\" (300 bytes): it is 300 bytes long; shorten it to at \
             most 255 bytes",
            "y".repeat(64)
        )
    );
    let err = Namespace::get_bytes(b"caf\xc3\xa9\xff").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid namespace name \"caf\u{e9}\u{fffd}\": the character at byte 3 is not allowed; \
         use only ASCII letters, digits, `_`, `.` and `-`"
    );
}

// 2. Typed signals -----------------------------------------------------------------------------

#[test]
fn typed_and_by_name_reach_the_same_receivers() {
    let log = Log::default();
    let by_name = Namespace::get("t_typed")
        .unwrap()
        .signal("user_created")
        .unwrap();
    assert_eq!(by_name, UserCreated::named());
    assert_eq!(
        by_name.declaration().map(|d| d.type_name),
        Some(std::any::type_name::<UserCreated>())
    );
    let l = log.clone();
    let typed = UserCreated::signal()
        .connect(move |name: &str, ev: &UserCreated| l.push(format!("typed {name} {}", ev.user)));
    let l = log.clone();
    let dynamic = by_name.connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
        l.push(format!(
            "by-name {sender} {}",
            kwargs.get::<String>("user").unwrap()
        ))
    });
    let report = UserCreated {
        user: "alice".into(),
    }
    .send("alice");
    assert_eq!(report.receivers_called(), 2);
    // A by-name send of a declared signal, carrying its struct, reaches both as well.
    let report = by_name
        .send(&"bob", &UserCreated { user: "bob".into() })
        .unwrap();
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(
        log.take(),
        [
            "typed alice alice",
            "by-name \"alice\" alice",
            "typed bob bob",
            "by-name \"bob\" bob"
        ]
    );
    typed.disconnect();
    dynamic.disconnect();
}

#[test]
fn a_second_struct_for_a_declared_name_is_an_error_naming_both() {
    let first = Conflict1::signal();
    assert!(first.check().is_ok());
    let second = Conflict2::signal();
    let expected = Error::TypeConflict {
        signal: "t_conflict.same_name".into(),
        declared: std::any::type_name::<Conflict1>(),
        requested: std::any::type_name::<Conflict2>(),
    };
    assert_eq!(second.check(), Err(expected.clone()));
    assert_eq!(first.named().typed::<Conflict2>().unwrap_err(), expected);
    assert!(expected.to_string().contains("runtime::Conflict1"));
    assert!(expected.to_string().contains("runtime::Conflict2"));
    // The detached second signal still works for its own receivers.
    let c = Conflict2::signal().connect(|_: &str, _: &Conflict2| {});
    assert_eq!(Conflict2 {}.send("x").receivers_called(), 1);
    assert_eq!(Conflict1 {}.send("x").receivers_called(), 0);
    c.disconnect();
}

// 3. The kwargs bag by name --------------------------------------------------------------------

#[test]
fn by_name_sends_of_undeclared_signals_carry_a_runtime_bag() {
    let signal = Namespace::get("t_dyn").unwrap().signal("custom").unwrap();
    let log = Log::default();
    let l = log.clone();
    let c = signal.connect(move |_: &SenderKey<'_>, kwargs: &dyn Kwargs| {
        l.push(format!("{:?}", kwargs.names()));
        assert_eq!(kwargs.get::<u32>("n"), Some(&1));
        assert_eq!(kwargs.get::<u64>("n"), None);
        assert_eq!(kwargs.get::<u32>("missing"), None);
        assert!(kwargs.try_get::<u32>("missing").is_err());
    });
    let report = signal
        .send(&"me", &DynKwargs::new().with("n", 1u32).with("s", "x"))
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.failures());
    assert_eq!(log.take(), ["[\"n\", \"s\"]"]);
    c.disconnect();
}

#[test]
fn a_by_name_send_to_a_declared_signal_must_carry_its_struct() {
    let log = Log::default();
    let l = log.clone();
    let c = UserCreated::signal().connect(move |_: &str, ev: &UserCreated| l.push(&ev.user));
    let err = UserCreated::named()
        .send(&"x", &DynKwargs::new().with("user", "x".to_string()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "signal `t_typed.user_created` is declared by `{0}`, so a by-name send must carry a \
             `{0}`, not a `signals_core::kwargs::DynKwargs`; build the struct, or send through the typed API",
            std::any::type_name::<UserCreated>()
        )
    );
    assert_eq!(log.len(), 0);
    // A sender that cannot be rebuilt from its key is an error too, never a panic.
    let err = NoneSent::named()
        .send(&5, &NoneSent { user: "bob".into() })
        .unwrap_err();
    assert!(matches!(err, Error::SenderNotRecoverable { .. }), "{err}");
    c.disconnect();
}

#[test]
fn a_by_name_send_rebuilds_owned_senders_from_their_keys() {
    let log = Log::default();
    let l = log.clone();
    let none = NoneSent::signal()
        .connect(move |s: &Option<String>, ev: &NoneSent| l.push(format!("{s:?} {}", ev.user)));
    let l = log.clone();
    let int = IntSent::signal().connect(move |s: &i64, _: &IntSent| l.push(format!("{s}")));
    let bag = NoneSent { user: "u".into() };
    assert_eq!(
        NoneSent::named()
            .send(&"bob", &bag)
            .unwrap()
            .receivers_called(),
        1
    );
    assert_eq!(
        NoneSent::named()
            .send(&None::<String>, &bag)
            .unwrap()
            .receivers_called(),
        1
    );
    assert_eq!(
        IntSent::named()
            .send(&7u8, &IntSent {})
            .unwrap()
            .receivers_called(),
        1
    );
    assert_eq!(log.take(), ["Some(\"bob\") u", "None u", "7"]);
    // The async by-name send holds the rebuilt sender across its awaits.
    let report = futures::executor::block_on(IntSent::named().send_async(&9u8, &IntSent {}));
    assert_eq!(report.unwrap().receivers_called(), 1);
    let report = futures::executor::block_on(NoneSent::named().send_async(&"ann", &bag));
    assert_eq!(report.unwrap().receivers_called(), 1);
    assert_eq!(log.take(), ["9", "Some(\"ann\") u"]);
    // Out of the sender type's range: an error, and nobody is called.
    let err = IntSent::named()
        .send(&(1i128 << 70), &IntSent {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signal `t_int.int_sent` expects senders of type `i64`, which cannot be rebuilt from \
         the sender key 1180591620717411303424; send through the typed API instead"
    );
    assert_eq!(log.len(), 0);
    none.disconnect();
    int.disconnect();
}

// 4. Senders ---------------------------------------------------------------------------------

#[test]
fn sender_filters_match_strings_integers_and_none_by_value() {
    static ANY: AtomicUsize = AtomicUsize::new(0);
    static TEN: AtomicUsize = AtomicUsize::new(0);
    let any = IntSent::signal().connect(|_: &i64, _: &IntSent| {
        ANY.fetch_add(1, Ordering::SeqCst);
    });
    // A typed receiver's sender is of the signal's sender type (a `u8` here would not compile:
    // `tests/ui/receiver_sender_wrong_type.rs`); by name, integers match by value whatever
    // their width (`has_receivers_for(&10i32)` below).
    let ten = IntSent::signal().connect(
        Receiver::new(|_: &i64, _: &IntSent| {
            TEN.fetch_add(1, Ordering::SeqCst);
        })
        .sender(&10i64),
    );
    let _ = IntSent {}.send(&10);
    let _ = IntSent {}.send(&11);
    assert_eq!(
        (ANY.load(Ordering::SeqCst), TEN.load(Ordering::SeqCst)),
        (2, 1)
    );
    assert!(IntSent::signal().named().has_receivers_for(&10i32));

    let log = Log::default();
    let l = log.clone();
    let none = NoneSent::signal().connect(
        Receiver::new(move |s: &Option<String>, _: &NoneSent| l.push(format!("{s:?}")))
            .sender(&None::<String>),
    );
    let _ = NoneSent { user: "u".into() }.send(&None);
    let _ = NoneSent { user: "u".into() }.send(&Some("bob".into()));
    assert_eq!(log.take(), ["None"]);
    for c in [any, ten, none] {
        c.disconnect();
    }

    // One signal with receivers waiting on a string, an integer and no sender of the same
    // value: a by-name send from each reaches its own receiver only.
    let signal = Namespace::get("t_filter_kinds")
        .unwrap()
        .signal("s")
        .unwrap();
    let log = Log::default();
    let mut guards = Vec::new();
    for (label, key) in [
        ("str 5", SenderKey::from("5")),
        ("int 5", SenderKey::Int(5)),
        ("none", SenderKey::None),
        ("empty str", SenderKey::from("")),
        ("int 0", SenderKey::Int(0)),
    ] {
        let l = log.clone();
        guards.push(
            signal
                .connect(
                    Receiver::new(move |_: &SenderKey<'_>, _: &dyn Kwargs| l.push(label))
                        .sender(&key),
                )
                .scoped(),
        );
    }
    let bag = DynKwargs::new();
    for (sender, expected) in [
        (SenderKey::from("5"), "str 5"),
        (SenderKey::Int(5), "int 5"),
        (SenderKey::None, "none"),
        (SenderKey::from(""), "empty str"),
        (SenderKey::Int(0), "int 0"),
    ] {
        assert!(signal.send(&sender, &bag).unwrap().is_ok());
        assert_eq!(log.take(), [expected], "sent from {sender:?}");
    }
}

#[test]
fn every_sender_is_not_a_sender_value() {
    let signal = Namespace::get("t_any").unwrap().signal("zero").unwrap();
    let c = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).sender(&0i64));
    assert!(signal.has_receivers_for(&0));
    assert!(!signal.has_receivers_for(&SenderKey::None));
    assert!(!signal.has_receivers_for(&"0"));
    assert_eq!(c.receiver().unwrap().id, c.receiver().unwrap().id);
    assert_eq!(
        signal.connections()[0].filter,
        SenderFilter::Only(SenderKey::Int(0))
    );
    c.disconnect();
}

// 5. Connecting ----------------------------------------------------------------------------------

fn filtered_receiver(_: &str, _: &Filtered) {
    FILTERED_CALLS.fetch_add(1, Ordering::SeqCst);
}
static FILTERED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn same_fn_twice_is_one_receiver_and_disconnect_removes_it_everywhere() {
    let signal = Filtered::signal();
    let a = signal.connect(filtered_receiver);
    let b = signal.connect(filtered_receiver);
    assert_eq!(a, b);
    assert!(a.is_new() && !b.is_new());
    let x = signal.connect(Receiver::new(filtered_receiver).sender("x"));
    let y = signal.connect(Receiver::new(filtered_receiver).sender("y"));
    assert_eq!(signal.named().connections().len(), 3);
    // Any + X: called once when X sends.
    let _ = Filtered {}.send("x");
    assert_eq!(FILTERED_CALLS.swap(0, Ordering::SeqCst), 1);
    assert_eq!(signal.named().receivers_for("x").len(), 1);
    // The pair only.
    assert_eq!(signal.named().disconnect_from(&filtered_receiver, "x"), 1);
    assert!(!x.is_connected() && y.is_connected() && a.is_connected());
    // Every sender.
    assert_eq!(signal.named().disconnect(&filtered_receiver), 2);
    assert!(!a.is_connected() && !y.is_connected());
    let _ = Filtered {}.send("y");
    assert_eq!(FILTERED_CALLS.load(Ordering::SeqCst), 0);
}

#[test]
fn closures_are_distinct_unless_keyed() {
    let log = Log::default();
    let signal = Keyed::signal();
    let mk = |tag: &'static str| {
        let l = log.clone();
        move |_: &str, _: &Keyed| l.push(tag)
    };
    let c1 = signal.connect(mk("a"));
    let c2 = signal.connect(mk("b"));
    assert_ne!(c1, c2);
    let k1 = signal.connect(Receiver::new(mk("k1")).key("audit"));
    let k2 = signal.connect(Receiver::new(mk("k2")).key("audit"));
    assert_eq!(k1, k2);
    let _ = Keyed {}.send("s");
    assert_eq!(log.take(), ["a", "b", "k1"]);
    assert_eq!(signal.named().disconnect(&ReceiverId::key("audit")), 1);
    assert_eq!(
        signal.named().disconnect(&mk("z")),
        0,
        "a capturing closure has no identity"
    );
    c1.disconnect();
    c2.disconnect();
    assert!(!signal.named().has_receivers());
}

#[test]
fn handles_block_and_scope_connections() {
    let log = Log::default();
    let l = log.clone();
    let signal = Blocked::signal();
    let c = signal.connect(move |_: &str, _: &Blocked| l.push("called"));
    {
        let _outer = c.block();
        {
            let _inner = c.block();
        }
        let _ = Blocked {}.send("s");
        assert!(c.is_connected());
        assert!(!signal.named().has_receivers_for("s"));
    }
    let _ = Blocked {}.send("s");
    assert_eq!(log.take(), ["called"]);
    {
        let l = log.clone();
        let _scoped = signal
            .connect(move |_: &str, _: &Blocked| l.push("scoped"))
            .scoped();
        let _ = Blocked {}.send("s");
    }
    let _ = Blocked {}.send("s");
    assert_eq!(log.take(), ["called", "scoped", "called"]);
    assert!(c.disconnect());
    assert!(!c.disconnect(), "a second disconnect finds nothing");
}

#[test]
fn weakly_bound_receivers_go_with_their_target() {
    struct Target {
        log: Log,
    }
    let log = Log::default();
    let target = Arc::new(Target { log: log.clone() });
    let signal = Weakly::signal();
    let weak = Arc::downgrade(&target);
    let c = signal.connect(
        Receiver::new(move |_: &str, _: &Weakly| {
            if let Some(t) = weak.upgrade() {
                t.log.push("hit")
            }
        })
        .weak(&target),
    );
    assert!(c.receiver().unwrap().weak);
    let _ = Weakly {}.send("s");
    assert_eq!(
        Arc::strong_count(&target),
        1,
        "the receiver holds the target weakly"
    );
    drop(target);
    assert!(!signal.named().has_receivers_for("s"));
    assert!(signal.named().receivers_for("s").is_empty());
    let report = Weakly {}.send("s");
    assert_eq!(report.receivers_called(), 0);
    assert!(
        !c.is_connected(),
        "the first send after the drop disconnects it"
    );
    assert_eq!(log.take(), ["hit"]);
}

static WEAK_FN_CALLS: AtomicUsize = AtomicUsize::new(0);

fn weak_fn_receiver(_: &str, _: &WeakFn) {
    WEAK_FN_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn one_function_bound_weakly_to_two_targets_is_two_receivers() {
    // A function has an identity of its own, but a weak connection is tied to its target:
    // the same function bound to another target is another receiver, which lives as long
    // as its own target.
    let (a, b) = (Arc::new(1u8), Arc::new(2u8));
    let signal = WeakFn::signal();
    let first = signal.connect(Receiver::new(weak_fn_receiver).weak(&a));
    let second = signal.connect(Receiver::new(weak_fn_receiver).weak(&b));
    assert!(first.is_new() && second.is_new());
    assert_ne!(first, second);
    assert_eq!(WeakFn {}.send("s").receivers_called(), 2);
    drop(a);
    assert_eq!(WeakFn {}.send("s").receivers_called(), 1);
    assert!(second.is_connected());
    assert_eq!(WEAK_FN_CALLS.load(Ordering::SeqCst), 3);
    drop(b);
    assert_eq!(WeakFn {}.send("s").receivers_called(), 0);
    assert!(!signal.named().has_receivers_for("s"));
}

#[test]
fn a_weak_receiver_is_never_merged_with_a_strong_one_of_the_same_key() {
    let log = Log::default();
    let signal = WeakKeyed::signal();
    // A receiver bound weakly to `target`, keyed "k", that logs `entry` while it lives.
    let weak_receiver = |target: &Arc<Log>, entry: &'static str| {
        let w = Arc::downgrade(target);
        Receiver::new(move |_: &str, _: &WeakKeyed| {
            if let Some(l) = w.upgrade() {
                l.push(entry)
            }
        })
        .weak(target)
        .key("k")
    };
    let target = Arc::new(log.clone());
    let weak = signal.connect(weak_receiver(&target, "weak"));
    let l = log.clone();
    let strong =
        signal.connect(Receiver::new(move |_: &str, _: &WeakKeyed| l.push("strong")).key("k"));
    assert!(strong.is_new(), "the strong connection is its own");
    assert!(!strong.receiver().unwrap().weak);
    let _ = WeakKeyed {}.send("s");
    assert_eq!(log.take(), ["weak", "strong"]);
    drop(target);
    let _ = WeakKeyed {}.send("s");
    assert_eq!(
        log.take(),
        ["strong"],
        "the weak target's end leaves the strong one"
    );
    assert!(!weak.is_connected());
    assert!(strong.is_connected());

    // The other way round: a weak connect finds no strong connection to return.
    let target = Arc::new(log.clone());
    let again = signal.connect(weak_receiver(&target, "weak again"));
    assert!(again.is_new());
    assert!(again.receiver().unwrap().weak);
    let _ = WeakKeyed {}.send("s");
    assert_eq!(log.take(), ["strong", "weak again"]);

    // Two weak connects with the same key are one connection, while its target lives.
    let twice = signal.connect(weak_receiver(&target, "weak twice"));
    assert!(!twice.is_new());
    assert_eq!(twice, again);
    let _ = WeakKeyed {}.send("s");
    assert_eq!(log.take(), ["strong", "weak again"]);
    assert!(strong.disconnect());
    assert!(again.disconnect());
}

// 6. Sending ----------------------------------------------------------------------------------

#[derive(Debug)]
struct Refused;
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}
impl std::error::Error for Refused {}

#[test]
fn robust_send_reports_each_failure_and_fail_fast_stops() {
    let log = Log::default();
    let signal = Failing::signal();
    let l = log.clone();
    let first = signal.connect(
        Receiver::new(move |_: &str, _: &Failing| -> Result<(), Refused> {
            l.push("first");
            Err(Refused)
        })
        .name("first"),
    );
    let l = log.clone();
    let line = line!() + 1;
    let second = signal.connect(move |_: &str, _: &Failing| -> () {
        l.push("second");
        panic!("boom");
    });
    let l = log.clone();
    let third = signal.connect(move |_: &str, _: &Failing| l.push("third"));

    let report = Failing {}.send("s");
    assert_eq!(report.receivers_called(), 3);
    assert_eq!(log.take(), ["first", "second", "third"]);
    let failures = report.failures();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].receiver.name, "first");
    assert!(matches!(&failures[0].kind, FailureKind::Error(e) if e.to_string() == "refused"));
    assert!(matches!(&failures[1].kind, FailureKind::Panic(m) if m == "boom"));
    assert_eq!(failures[1].receiver.location.line, line);
    assert!(failures[1].receiver.location.file.ends_with("runtime.rs"));
    assert!(failures[0].to_string().starts_with("receiver `first` at "));
    assert!(failures[0]
        .to_string()
        .ends_with("returned an error: refused"));

    let err = Failing {}
        .sending("s")
        .fail_fast()
        .run()
        .into_result()
        .unwrap_err();
    assert_eq!(err.receiver.name, "first");
    assert_eq!(
        log.take(),
        ["first"],
        "fail-fast stops at the first failure"
    );

    // The signal stays usable.
    for c in [first, second] {
        c.disconnect();
    }
    assert_eq!(
        Failing {}
            .sending("s")
            .fail_fast()
            .run()
            .into_result()
            .unwrap(),
        1
    );
    assert_eq!(log.take(), ["third"]);
    third.disconnect();
}

fn x2(sender: &i64, _: &Numbered) -> i64 {
    sender * 2
}
fn x10(sender: &i64, _: &Numbered) -> i64 {
    sender * 10
}

#[test]
fn collecting_send_returns_receiver_value_pairs() {
    let signal = Numbered::signal();
    let a = signal.connect(x2);
    let b = signal.connect(Receiver::new(x10).sender(&10i64));
    let five = Numbered {}.sending(&5).collect().run();
    assert_eq!(five.responses.len(), 1);
    assert!(five.responses[0].receiver.name.ends_with("x2"));
    assert_eq!(five.into_values(), [10]);
    assert_eq!(
        Numbered {}.sending(&10).collect().run().into_values(),
        [20, 100]
    );
    a.disconnect();
    b.disconnect();
    assert!(signal.named().receivers_for(&10).is_empty());
}

// 7. Order ----------------------------------------------------------------------------------

#[test]
fn receivers_run_in_connection_order() {
    let log = Log::default();
    let signal = Ordered::signal();
    let by_name = signal.named();
    let mut connections = Vec::new();
    for i in 0..5 {
        let l = log.clone();
        connections.push(if i % 2 == 0 {
            signal.connect(move |_: &str, _: &Ordered| l.push(format!("t{i}")))
        } else {
            by_name.connect(
                Receiver::new(move |_: &SenderKey<'_>, _: &dyn Kwargs| l.push(format!("n{i}")))
                    .sender(&"s"),
            )
        });
    }
    let _ = Ordered {}.send("s");
    assert_eq!(log.take(), ["t0", "n1", "t2", "n3", "t4"]);
    let _ = Ordered {}.send("other");
    assert_eq!(log.take(), ["t0", "t2", "t4"]);
    let names: Vec<_> = by_name
        .receivers_for("s")
        .iter()
        .map(|r| r.location.line)
        .collect();
    assert_eq!(names.len(), 5);
    for c in connections {
        c.disconnect();
    }
}

// 8. Re-entrancy: receivers that send, connect and disconnect ------------------------------

#[test]
fn receivers_may_send_connect_and_disconnect_during_a_send() {
    let log = Log::default();
    let signal = Mutable::signal();
    let l = log.clone();
    let late = Arc::new(std::sync::Mutex::new(None));
    let late2 = late.clone();
    let victim_slot: Arc<std::sync::Mutex<Option<signals_core::Connection>>> = Default::default();
    let victim_slot2 = victim_slot.clone();
    let first = signal.connect(move |_: &str, _: &Mutable| {
        l.push("first");
        // Connect a new receiver: not called by this send.
        let l2 = l.clone();
        let c = Mutable::signal().connect(move |_: &str, _: &Mutable| l2.push("late"));
        *late2.lock().unwrap() = Some(c);
        // Disconnect a later receiver: not called after this.
        if let Some(v) = victim_slot2.lock().unwrap().take() {
            v.disconnect();
        }
    });
    let l = log.clone();
    let victim = signal.connect(move |_: &str, _: &Mutable| l.push("victim"));
    *victim_slot.lock().unwrap() = Some(victim);
    let _ = Mutable {}.send("s");
    assert_eq!(log.take(), ["first"]);
    let late = late.lock().unwrap().take().unwrap();
    late.disconnect();
    first.disconnect();

    // A receiver that disconnects itself, and sends re-entrantly with bounded depth.
    let l = log.clone();
    let own: Arc<std::sync::Mutex<Option<signals_core::Connection>>> = Default::default();
    let own2 = own.clone();
    let c = Reentrant::signal().connect(move |_: &str, ev: &Reentrant| {
        l.push(format!("depth {}", ev.depth));
        if ev.depth < 3 {
            let inner = Reentrant {
                depth: ev.depth + 1,
            }
            .send("s");
            assert!(inner.is_ok());
        } else if let Some(me) = own2.lock().unwrap().take() {
            me.disconnect();
        }
    });
    *own.lock().unwrap() = Some(c);
    let _ = Reentrant { depth: 0 }.send("s");
    assert_eq!(log.take(), ["depth 0", "depth 1", "depth 2", "depth 3"]);
    assert!(!c.is_connected());
    assert_eq!(Reentrant { depth: 0 }.send("s").receivers_called(), 0);
}

static MERGED_CALLS: AtomicUsize = AtomicUsize::new(0);

fn merged_receiver(_: &str, _: &Merged) {
    MERGED_CALLS.fetch_add(1, Ordering::SeqCst);
}

/// A receiver connected for every sender and for "dataset" runs once for "dataset", at its
/// first connection's place; if an earlier receiver disconnects that connection during the
/// send, its "dataset" connection still holds it, and it is called (as it would be had the
/// disconnect come before the send).
#[test]
fn a_merged_receiver_runs_while_any_of_its_connections_holds() {
    let signal = Merged::signal();
    let any_slot: Arc<std::sync::Mutex<Option<signals_core::Connection>>> = Default::default();
    let slot = any_slot.clone();
    let first = signal.connect(move |_: &str, _: &Merged| {
        if let Some(any) = slot.lock().unwrap().take() {
            assert!(any.disconnect());
        }
    });
    let any = signal.connect(merged_receiver);
    let dataset = signal.connect(Receiver::new(merged_receiver).sender("dataset"));
    *any_slot.lock().unwrap() = Some(any);
    assert_eq!(Merged {}.send("dataset").receivers_called(), 2);
    assert_eq!(MERGED_CALLS.load(Ordering::SeqCst), 1);
    // And with its every-sender connection blocked during the send, by an earlier receiver.
    assert!(dataset.disconnect());
    let any_slot: Arc<std::sync::Mutex<Option<signals_core::Connection>>> = Default::default();
    let guard_slot: Arc<std::sync::Mutex<Option<signals_core::BlockGuard>>> = Default::default();
    let (slot, guard) = (any_slot.clone(), guard_slot.clone());
    let blocker = signal.connect(move |_: &str, _: &Merged| {
        if let Some(any) = slot.lock().unwrap().take() {
            *guard.lock().unwrap() = Some(any.block());
        }
    });
    let any = signal.connect(merged_receiver);
    let dataset = signal.connect(Receiver::new(merged_receiver).sender("dataset"));
    *any_slot.lock().unwrap() = Some(any);
    assert_eq!(Merged {}.send("dataset").receivers_called(), 3);
    assert_eq!(MERGED_CALLS.load(Ordering::SeqCst), 2);
    assert!(guard_slot.lock().unwrap().is_some(), "the block happened");
    drop(guard_slot.lock().unwrap().take());
    for c in [first, any, dataset, blocker] {
        c.disconnect();
    }
}

/// A receiver disconnected between the moment a send picks its snapshot and its first call
/// is not called. User code runs there: the send drops the snapshot its thread had cached,
/// and with it the last copy of a disconnected closure, whose `Drop` may disconnect others.
/// Here the closure of `a` owns `b`'s scoped connection: the second send drops it.
#[test]
fn a_receiver_disconnected_before_the_first_call_of_a_send_is_not_called() {
    #[signals_core::signal(namespace = "t_drop_disconnect")]
    struct Declared {}

    let b_calls = Arc::new(AtomicUsize::new(0));
    let c_calls = Arc::new(AtomicUsize::new(0));
    let counter = |calls: &Arc<AtomicUsize>| {
        let calls = calls.clone();
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
        }
    };

    // By name (the thread cache shared by a thread's signals).
    let signal = Namespace::get("t_drop_disconnect")
        .unwrap()
        .signal("by_name")
        .unwrap();
    let (b, c) = (counter(&b_calls), counter(&c_calls));
    let b = signal
        .connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| b())
        .scoped();
    let _c = signal
        .connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| c())
        .scoped();
    let a = signal.connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
        let _owned = &b;
    });
    assert_eq!(
        signal
            .send(&"s", &DynKwargs::new())
            .unwrap()
            .receivers_called(),
        3
    );
    a.disconnect();
    let report = signal.send(&"s", &DynKwargs::new()).unwrap();
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(
        b_calls.load(Ordering::SeqCst),
        1,
        "b was called after its disconnect"
    );
    assert_eq!(c_calls.load(Ordering::SeqCst), 2);

    // Typed, through the signal type's own thread slot.
    b_calls.store(0, Ordering::SeqCst);
    c_calls.store(0, Ordering::SeqCst);
    let (b, c) = (counter(&b_calls), counter(&c_calls));
    let b = Declared::signal()
        .connect(move |_: &str, _: &Declared| b())
        .scoped();
    let _c = Declared::signal()
        .connect(move |_: &str, _: &Declared| c())
        .scoped();
    let a = Declared::signal().connect(move |_: &str, _: &Declared| {
        let _owned = &b;
    });
    assert_eq!(Declared {}.send("s").receivers_called(), 3);
    a.disconnect();
    assert_eq!(Declared {}.send("s").receivers_called(), 1);
    assert_eq!(
        b_calls.load(Ordering::SeqCst),
        1,
        "b was called after its disconnect"
    );
    assert_eq!(c_calls.load(Ordering::SeqCst), 2);
}

// 9. Helpers: has_receivers_for, receivers_for, meta-signals, mute, temporary connections ----

#[test]
fn meta_signals_announce_connections_of_one_signal() {
    let log = Log::default();
    let l = log.clone();
    let on = ReceiverConnected::signal().connect(
        Receiver::new(move |_: &str, ev: &ReceiverConnected| {
            l.push(format!("+{} {}", ev.receiver.name, ev.filter))
        })
        .sender("t_meta.watched"),
    );
    let l = log.clone();
    let off = ReceiverDisconnected::signal().connect(
        Receiver::new(move |_: &str, ev: &ReceiverDisconnected| {
            l.push(format!("-{}", ev.receiver.name))
        })
        .sender("t_meta.watched"),
    );
    let c = Meta::signal().connect(
        Receiver::new(|_: &str, _: &Meta| {})
            .name("watcher")
            .sender("s"),
    );
    c.disconnect();
    // Another signal's changes are not announced to these subscribers.
    Filtered::signal()
        .connect(|_: &str, _: &Filtered| {})
        .disconnect();
    assert_eq!(log.take(), ["+watcher sender \"s\"", "-watcher"]);
    on.disconnect();
    off.disconnect();
}

#[test]
fn a_watcher_of_connections_is_not_told_of_connections_to_its_own_signal() {
    let log = Log::default();
    let l = log.clone();
    let watcher = ReceiverConnected::signal().connect(
        Receiver::new(move |_: &str, ev: &ReceiverConnected| {
            l.push(format!("+{}", ev.receiver.name))
        })
        .name("t_meta_self")
        .sender("signals.receiver_connected"),
    );
    let l = log.clone();
    let leaving = ReceiverDisconnected::signal().connect(
        Receiver::new(move |_: &str, ev: &ReceiverDisconnected| {
            if ev.receiver.name.starts_with("t_meta_self") {
                l.push(format!("-{}", ev.receiver.name))
            }
        })
        .sender("signals.receiver_connected"),
    );
    // Another receiver of `receiver_connected`: not announced either (blinker's rule).
    let other = ReceiverConnected::signal().connect(
        Receiver::new(|_: &str, _: &ReceiverConnected| {})
            .name("t_meta_self_other")
            .sender("nobody"),
    );
    other.disconnect();
    watcher.disconnect();
    leaving.disconnect();
    assert_eq!(log.take(), ["-t_meta_self_other", "-t_meta_self"]);
}

#[test]
fn muting_nests() {
    let c = Muted::signal().connect(|_: &str, _: &Muted| {});
    let signal = Muted::signal().named();
    {
        let _a = signal.mute();
        {
            let _b = signal.mute();
            assert!(signal.is_muted());
        }
        assert!(signal.is_muted(), "the outer mute still holds");
        assert_eq!(Muted {}.send("s").receivers_called(), 0);
        assert!(!signal.has_receivers_for("s"));
    }
    assert!(!signal.is_muted());
    assert_eq!(Muted {}.send("s").receivers_called(), 1);
    c.disconnect();
}

fn scoped_receiver(_: &str, _: &Scoped) {}

#[test]
fn a_temporary_connection_restores_the_state_exactly() {
    let signal = Scoped::signal();
    let before = signal.named().connections();
    {
        let _t = signal.connect(scoped_receiver).scoped();
        assert_eq!(signal.named().connections().len(), before.len() + 1);
    }
    assert_eq!(signal.named().connections(), before);
    // Already connected: the scope leaves the earlier connection alone (blinker's
    // `connected_to` would remove it).
    let keep = signal.connect(Receiver::new(scoped_receiver).sender("x"));
    let any = signal.connect(scoped_receiver);
    {
        let _t = signal.connect(scoped_receiver).scoped();
    }
    assert!(keep.is_connected() && any.is_connected());
    assert_eq!(signal.named().connections().len(), 2);
    signal.named().disconnect(&scoped_receiver);
}

#[test]
fn overlapping_scopes_of_one_receiver_keep_it_until_the_last_ends() {
    let signal = Scoped::signal();
    let called = || Scoped {}.send("y").receivers_called();
    // Two scopes that overlap (two tests on two threads, say): the first to end leaves the
    // receiver to the other.
    let first = signal.connect(scoped_receiver).scoped();
    let second = signal.connect(scoped_receiver).scoped();
    assert!(first.connection().is_new() && !second.connection().is_new());
    drop(first);
    assert_eq!(called(), 1, "the second scope still holds it");
    drop(second);
    assert_eq!(called(), 0);
    assert!(signal.named().connections().is_empty());

    // A plain connect made during a scope holds the receiver for good.
    let scope = signal.connect(scoped_receiver).scoped();
    let plain = signal.connect(scoped_receiver);
    drop(scope);
    assert!(plain.is_connected());
    assert_eq!(called(), 1);
    // An explicit disconnect ends it whatever holds it.
    let scope = signal.connect(scoped_receiver).scoped();
    assert!(plain.disconnect());
    assert!(!scope.connection().is_connected());
    drop(scope);
    assert_eq!(called(), 0);
}
