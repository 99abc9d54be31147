//! By-name receivers of one kwarg (`Receiver::kwarg`): what a plugin that cannot name the
//! signal's struct and wants one argument relies on. Where the bag is always the signal's
//! struct (a typed send, or a by-name send, of a declared signal with no output), the kwarg is
//! read at its field's offset; elsewhere by name. Either way the receiver must get the value
//! of the field it names, keep connection order among other receivers, be counted exactly,
//! and, when the kwarg is missing or of another type, not be called and say why.
//!
//! Every test uses signals of its own: signals are process-wide and tests run in parallel.

use std::sync::{Arc, Mutex};

use signals_core::__private::Field;
use signals_core::{
    signal, DynKwargs, FailureKind, KwargError, Kwargs, NamedSignal, Namespace, Receiver, Sender,
    SenderKey, Signal, SignalCell,
};

type Log = Arc<Mutex<Vec<String>>>;

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

/// A receiver's function for the kwarg `name` read as a `V`, logging `name=value from key`.
fn logger<V: std::fmt::Debug + Send + Sync + 'static>(
    log: &Log,
    name: &'static str,
) -> impl Fn(&SenderKey<'_>, &V) + Send + Sync + 'static {
    let log = log.clone();
    move |sender: &SenderKey<'_>, value: &V| {
        log.lock()
            .unwrap()
            .push(format!("{name}={value:?} from {sender}"))
    }
}

/// Connects, for as long as the guard lives, a receiver of the kwarg `name` read as a `V`
/// that logs under the same name (see [`logger`]).
fn connect_logger<V: std::fmt::Debug + Send + Sync + serde::de::DeserializeOwned + 'static>(
    signal: NamedSignal,
    log: &Log,
    name: &'static str,
) -> signals_core::ScopedConnection {
    signal
        .connect(Receiver::kwarg(name, logger::<V>(log, name)))
        .scoped()
}

/// Fields of many sizes and alignments, so that a wrong offset reads another field.
#[signal(namespace = "t_kwarg_fields")]
struct Mixed {
    flag: bool,
    title: String,
    small: u8,
    big: u128,
    ids: Vec<u32>,
    maybe: Option<String>,
    r#type: i16,
}

fn mixed() -> Mixed {
    Mixed {
        flag: true,
        title: "t".into(),
        small: 7,
        big: u128::MAX - 1,
        ids: vec![1, 2, 3],
        maybe: Some("m".into()),
        r#type: -3,
    }
}

/// Connects one receiver per field of `Mixed`, in declaration order.
fn connect_every_field(signal: NamedSignal, log: &Log) -> Vec<signals_core::ScopedConnection> {
    macro_rules! each {
        ($($name:literal: $ty:ty),*) => {
            vec![$({
                let log = log.clone();
                signal
                    .connect(Receiver::kwarg($name, move |sender: &SenderKey<'_>, value: &$ty| {
                        log.lock().unwrap().push(format!("{}={value:?} from {sender}", $name))
                    }))
                    .scoped()
            }),*]
        };
    }
    each!("flag": bool, "title": String, "small": u8, "big": u128, "ids": Vec<u32>,
          "maybe": Option<String>, "type": i16)
}

fn every_field_logged() -> Vec<String> {
    [
        "flag=true",
        "title=\"t\"",
        "small=7",
        "big=340282366920938463463374607431768211454",
        "ids=[1, 2, 3]",
        "maybe=Some(\"m\")",
        "type=-3",
    ]
    .iter()
    .map(|line| format!("{line} from \"web\""))
    .collect()
}

#[test]
fn each_receiver_gets_the_field_it_names_from_a_typed_send() {
    let log = Log::default();
    let _connections = connect_every_field(Mixed::named(), &log);
    let report = mixed().send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 7);
    assert_eq!(taken(&log), every_field_logged());
}

#[signal(namespace = "t_kwarg_by_name_send")]
struct Sent {
    flag: bool,
    title: String,
    small: u8,
    big: u128,
    ids: Vec<u32>,
    maybe: Option<String>,
    r#type: i16,
}

#[test]
fn a_by_name_send_of_the_struct_and_of_a_bag_built_at_run_time_give_the_same_values() {
    let log = Log::default();
    let signal = Sent::named();
    let _connections = connect_every_field(signal, &log);
    let Mixed {
        flag,
        title,
        small,
        big,
        ids,
        maybe,
        r#type,
    } = mixed();
    let report = signal
        .send(
            &"web",
            &Sent {
                flag,
                title: title.clone(),
                small,
                big,
                ids: ids.clone(),
                maybe: maybe.clone(),
                r#type,
            },
        )
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 7);
    assert_eq!(taken(&log), every_field_logged());

    // An undeclared signal: its bags are read by name.
    let undeclared = Namespace::get("t_kwarg_by_name_send")
        .unwrap()
        .signal("undeclared")
        .unwrap();
    let _others = connect_every_field(undeclared, &log);
    let bag = DynKwargs::new()
        .with("flag", flag)
        .with("title", title)
        .with("small", small)
        .with("big", big)
        .with("ids", ids)
        .with("maybe", maybe)
        .with("type", r#type);
    let report = undeclared.send(&"web", &bag).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 7);
    assert_eq!(taken(&log), every_field_logged());
}

#[signal(namespace = "t_kwarg_order")]
struct Ordered {
    n: u64,
}

#[test]
fn receivers_of_one_kwarg_keep_connection_order_among_typed_and_whole_bag_ones() {
    let log = Log::default();
    let typed = {
        let log = log.clone();
        move |sender: &str, ev: &Ordered| {
            log.lock()
                .unwrap()
                .push(format!("typed={} from {sender}", ev.n))
        }
    };
    let whole = {
        let log = log.clone();
        move |sender: &SenderKey<'_>, kw: &dyn Kwargs| {
            log.lock()
                .unwrap()
                .push(format!("bag={:?} from {sender}", kw.get::<u64>("n")))
        }
    };
    let _a = Ordered::signal().connect(typed).scoped();
    let _b = connect_logger::<u64>(Ordered::named(), &log, "n");
    let _c = Ordered::named().connect(whole).scoped();
    let report = Ordered { n: 4 }.send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 3);
    assert_eq!(
        taken(&log),
        [
            "typed=4 from web",
            "n=4 from \"web\"",
            "bag=Some(4) from \"web\"",
        ]
    );
}

#[signal(namespace = "t_kwarg_unreadable")]
struct Unreadable {
    id: u32,
}

/// The one failure of `report`, as a kwarg failure's error.
fn kwarg_failure(report: &signals_core::SendReport) -> &KwargError {
    assert_eq!(report.failures().len(), 1, "{report:?}");
    match &report.failures()[0].kind {
        FailureKind::Kwarg(error) => error,
        other => panic!("not a kwarg failure: {other:?}"),
    }
}

#[test]
fn a_missing_kwarg_or_one_of_another_type_is_reported_and_the_receiver_not_called() {
    let log = Log::default();
    let signal = Unreadable::named();
    let _missing = connect_logger::<u32>(signal, &log, "idd");
    let _ok = connect_logger::<u32>(signal, &log, "id");
    let report = Unreadable { id: 5 }.send("web");
    assert_eq!(
        report.receivers_called(),
        1,
        "the failing one was not called"
    );
    assert_eq!(
        kwarg_failure(&report).to_string(),
        "no keyword argument named `idd`; the arguments are: id"
    );
    let failure = report.failures()[0].to_string();
    assert!(
        failure.ends_with("was not called: no keyword argument named `idd`; the arguments are: id"),
        "{failure}"
    );
    assert_eq!(taken(&log), ["id=5 from \"web\""]);
    drop(_missing);

    let _wrong = signal
        .connect(Receiver::kwarg("id", logger::<u64>(&log, "id64")).key("wrong"))
        .scoped();
    let report = Unreadable { id: 6 }.send("web");
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(
        kwarg_failure(&report).to_string(),
        "keyword argument `id` is a `u32`, not a `u64`; read it as `u32`"
    );
    assert_eq!(taken(&log), ["id=6 from \"web\""]);

    // The same from a bag built at run time, to a signal no struct declares.
    let undeclared = Namespace::get("t_kwarg_unreadable")
        .unwrap()
        .signal("undeclared")
        .unwrap();
    let _typo = connect_logger::<String>(undeclared, &log, "nme");
    let report = undeclared
        .send(&"cli", &DynKwargs::new().with("name", "x".to_string()))
        .unwrap();
    assert_eq!(report.receivers_called(), 0);
    assert_eq!(
        kwarg_failure(&report).to_string(),
        "no keyword argument named `nme`; the arguments are: name"
    );
    assert!(taken(&log).is_empty());
}

#[signal(namespace = "t_kwarg_output", output = u64)]
struct Doubled {
    n: u64,
}

#[test]
fn on_a_signal_with_an_output_the_receiver_reads_by_name_and_its_value_is_collected() {
    let _double = Doubled::named()
        .connect(Receiver::kwarg("n", |_: &SenderKey<'_>, n: &u64| n * 2))
        .scoped();
    let _typed = Doubled::signal()
        .connect(|_: &str, ev: &Doubled| ev.n + 1)
        .scoped();
    let collected = Doubled { n: 21 }.sending("web").collect().run();
    assert!(collected.report.is_ok(), "{:?}", collected.report);
    assert_eq!(collected.into_values(), [42, 22]);
}

#[signal(namespace = "t_kwarg_options")]
struct Options {
    n: u64,
}

#[test]
fn sender_filters_weak_targets_keys_and_disconnects_work_as_for_any_receiver() {
    let log = Log::default();
    let signal = Options::named();
    let only_web = signal.connect(Receiver::kwarg("n", logger::<u64>(&log, "web")).sender("web"));
    let target = Arc::new(());
    let _weak = signal
        .connect(Receiver::kwarg("n", logger::<u64>(&log, "weak")).weak(&target))
        .scoped();
    assert_eq!(Options { n: 1 }.send("web").receivers_called(), 2);
    assert_eq!(Options { n: 2 }.send("cli").receivers_called(), 1);
    assert_eq!(
        taken(&log),
        [
            "web=1 from \"web\"",
            "weak=1 from \"web\"",
            "weak=2 from \"cli\""
        ]
    );
    drop(target);
    let report = Options { n: 3 }.send("web");
    assert_eq!(
        report.receivers_called(),
        1,
        "the weak one's target is gone"
    );
    assert!(report.is_ok(), "{report:?}");
    assert!(only_web.disconnect());
    assert_eq!(Options { n: 4 }.send("web").receivers_called(), 0);
    assert_eq!(taken(&log), ["web=3 from \"web\""]);

    // A function connected twice is one receiver; a key tells two apart.
    fn on_n(_: &SenderKey<'_>, _: &u64) {}
    let first = signal.connect(Receiver::kwarg("n", on_n));
    let again = signal.connect(Receiver::kwarg("n", on_n));
    assert_eq!(Options { n: 5 }.send("web").receivers_called(), 1);
    let keyed = signal.connect(Receiver::kwarg("n", on_n).key("second"));
    assert_eq!(Options { n: 6 }.send("web").receivers_called(), 2);
    assert!(first.disconnect());
    assert!(!again.disconnect(), "the same connection");
    assert!(keyed.disconnect());
}

/// A sender whose key panics.
struct Broken;

impl Sender for Broken {
    fn sender_key(&self) -> SenderKey<'_> {
        panic!("no key")
    }
}

#[signal(namespace = "t_kwarg_no_key", sender = Broken)]
struct NoKey {
    n: u64,
}

#[test]
fn a_sender_whose_key_panics_leaves_the_receiver_uncalled_and_the_send_going() {
    let log = Log::default();
    let _kwarg = connect_logger::<u64>(NoKey::named(), &log, "n");
    let _typed = NoKey::signal().connect(|_: &Broken, _: &NoKey| {}).scoped();
    let report = NoKey { n: 1 }.send(&Broken);
    assert_eq!(report.receivers_called(), 1, "the typed one only");
    assert_eq!(report.failures().len(), 1, "{report:?}");
    assert!(
        report.failures()[0].to_string().contains("sender_key"),
        "{report:?}"
    );
    assert!(taken(&log).is_empty());
}

/// A signal implemented by hand, `$ty { n: u64, m: u64 }` named `$name`, whose field table is
/// `SWAPPED`.
macro_rules! hand_made {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        struct $ty {
            n: u64,
            m: u64,
        }

        impl Kwargs for $ty {
            fn kwarg(&self, name: &str) -> Option<signals_core::Kwarg<'_>> {
                match name {
                    "n" => Some(signals_core::Kwarg::new("n", &self.n)),
                    "m" => Some(signals_core::Kwarg::new("m", &self.m)),
                    _ => None,
                }
            }
            fn kwargs(&self) -> Vec<signals_core::Kwarg<'_>> {
                vec![
                    signals_core::Kwarg::new("n", &self.n),
                    signals_core::Kwarg::new("m", &self.m),
                ]
            }
        }

        impl Signal for $ty {
            type Sender = str;
            type Output = ();
            const NAMESPACE: &'static str = "t_kwarg_hand_made";
            const NAME: &'static str = $name;
            const FIELDS: &'static [Field] = SWAPPED;
            fn named() -> NamedSignal {
                static CELL: SignalCell = SignalCell::new();
                CELL.resolve::<Self>()
            }
        }
    };
}

hand_made!(
    /// Its field table says `n` lies where `m` does, while its by-name read of `n` gives the
    /// field `n`: a receiver of `n` then shows which read it took. (It breaks
    /// `Field::new`'s agreement on purpose, with fields of one type: the values differ, and
    /// nothing reads memory it should not.)
    HandMade,
    "hand_made"
);

hand_made!(
    /// The same, with the field table of another struct (`HandMade`'s): it is not used.
    Borrowed,
    "borrowed"
);

/// `FIELDS` for `HandMade` says `n` lies at `m`'s offset.
const SWAPPED: &[Field] =
    // SAFETY: the offset holds a `u64` in every `HandMade`, alive as the struct is.
    &[unsafe { Field::new::<HandMade, u64>("n", std::mem::offset_of!(HandMade, m)) }];

#[test]
fn the_field_table_is_read_for_the_struct_it_belongs_to_and_no_other() {
    let log = Log::default();
    let _a = connect_logger::<u64>(HandMade::named(), &log, "n");
    let _b = connect_logger::<u64>(Borrowed::named(), &log, "n");
    // A typed send: the offset `FIELDS` gives (`m`'s) for `HandMade`; by name for `Borrowed`,
    // whose table is `HandMade`'s.
    assert_eq!(HandMade { n: 1, m: 2 }.send("web").receivers_called(), 1);
    assert_eq!(Borrowed { n: 1, m: 2 }.send("web").receivers_called(), 1);
    assert_eq!(taken(&log), ["n=2 from \"web\"", "n=1 from \"web\""]);
}

#[test]
fn the_signal_attribute_lists_every_field_where_it_lies() {
    let fields: Vec<(&str, usize)> = <Mixed as Signal>::FIELDS
        .iter()
        .map(|field| (field.name(), field.offset()))
        .collect();
    assert_eq!(
        fields,
        [
            ("flag", std::mem::offset_of!(Mixed, flag)),
            ("title", std::mem::offset_of!(Mixed, title)),
            ("small", std::mem::offset_of!(Mixed, small)),
            ("big", std::mem::offset_of!(Mixed, big)),
            ("ids", std::mem::offset_of!(Mixed, ids)),
            ("maybe", std::mem::offset_of!(Mixed, maybe)),
            ("type", std::mem::offset_of!(Mixed, r#type)),
        ]
    );
}

#[signal(namespace = "t_kwarg_identity")]
struct Two {
    a: u64,
    b: u64,
}

/// What `log_kwarg`'s receivers saw.
static TWO_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A helper that makes the same closure (capturing nothing) for any kwarg.
fn log_kwarg(
    name: &'static str,
) -> Receiver<signals_core::marker::OneKwarg<impl Fn(&SenderKey<'_>, &u64) + Send + Sync>> {
    Receiver::kwarg(name, |_: &SenderKey<'_>, value: &u64| {
        TWO_LOG.lock().unwrap().push(value.to_string())
    })
}

#[test]
fn one_function_for_two_kwargs_is_two_receivers_and_for_one_kwarg_one() {
    let signal = Two::named();
    let a = signal.connect(log_kwarg("a"));
    let b = signal.connect(log_kwarg("b"));
    let a_again = signal.connect(log_kwarg("a"));
    // One of them for one sender too: merged with its connection for every sender.
    let a_web = signal.connect(log_kwarg("a").sender("web"));
    assert!(a.is_new() && b.is_new() && !a_again.is_new() && a_web.is_new());
    let report = Two { a: 1, b: 2 }.send("web");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(*TWO_LOG.lock().unwrap(), ["1", "2"]);
    for connection in [a, b, a_web] {
        assert!(connection.disconnect());
    }
    assert!(!Two::named().has_receivers());
}

#[signal(namespace = "t_kwarg_disconnect")]
struct Both {
    a: u64,
    b: u64,
}

#[test]
fn disconnecting_a_function_disconnects_its_receivers_of_one_kwarg_too() {
    fn on_value(_: &SenderKey<'_>, _: &u64) {}
    fn on_bag(_: &SenderKey<'_>, _: &dyn Kwargs) {}
    fn other(_: &SenderKey<'_>, _: &u64) {}
    let signal = Both::named();
    signal.connect(Receiver::kwarg("a", on_value));
    signal.connect(Receiver::kwarg("b", on_value).sender("web"));
    signal.connect(on_bag);
    signal.connect(Receiver::kwarg("a", other));
    assert_eq!(Both { a: 1, b: 2 }.send("web").receivers_called(), 4);
    assert_eq!(
        signal.disconnect_from(&on_value, &"web"),
        1,
        "the one for `web`"
    );
    assert_eq!(signal.disconnect(&on_value), 1);
    assert_eq!(signal.disconnect(&on_value), 0);
    assert_eq!(Both { a: 1, b: 2 }.send("web").receivers_called(), 2);
    assert_eq!(signal.disconnect(&on_bag), 1);
    assert_eq!(signal.disconnect(&other), 1);
    assert!(!signal.has_receivers());
}

#[signal(namespace = "t_kwarg_async")]
struct Later {
    n: u64,
}

#[test]
fn async_and_fail_fast_sends_call_it_as_a_sync_send_does() {
    let log = Log::default();
    let _a = connect_logger::<u64>(Later::named(), &log, "n");
    let _missing = connect_logger::<u64>(Later::named(), &log, "m");
    let _b = Later::named()
        .connect(Receiver::kwarg("n", logger::<u64>(&log, "again")).key("again"))
        .scoped();
    let report = futures::executor::block_on(Later { n: 3 }.send_async("web"));
    assert_eq!(report.receivers_called(), 2);
    assert!(matches!(report.failures()[0].kind, FailureKind::Kwarg(_)));
    assert_eq!(taken(&log), ["n=3 from \"web\"", "again=3 from \"web\""]);
    let report = futures::executor::block_on(Later { n: 4 }.sending("web").run_concurrent());
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(taken(&log), ["n=4 from \"web\"", "again=4 from \"web\""]);
    // Fail-fast: the send stops at the receiver that could not read its kwarg.
    let report = Later { n: 5 }.sending("web").fail_fast().run();
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(report.failures().len(), 1);
    assert_eq!(taken(&log), ["n=5 from \"web\""]);
}

#[signal(namespace = "t_kwarg_json")]
struct NotSerializable {
    n: u64,
}

#[test]
fn a_bag_decoded_from_json_has_its_kwarg_decoded_or_the_failure_says_why() {
    let log = Log::default();
    let signal = NotSerializable::named();
    let _typed_read = signal
        .connect(Receiver::kwarg("n", logger::<u64>(&log, "u64")))
        .scoped();
    let _json_read = signal
        .connect(Receiver::kwarg("n", logger::<serde_json::Value>(&log, "json")).key("json"))
        .scoped();
    let report = signal
        .send_json(&"web", serde_json::json!({"n": 7}))
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(
        taken(&log),
        ["u64=7 from \"web\"", "json=Number(7) from \"web\""]
    );

    let report = signal
        .send_json(&"web", serde_json::json!({"n": "seven"}))
        .unwrap();
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(
        kwarg_failure(&report).to_string(),
        "keyword argument `n` does not decode as a `u64`: invalid type: string \"seven\", \
         expected u64; read it as the type its signal declares, or as a `serde_json::Value`"
    );
    assert_eq!(taken(&log), ["json=String(\"seven\") from \"web\""]);
}

#[signal(namespace = "t_kwarg_rebuilt")]
struct Rebuilt {
    n: u64,
    s: String,
}

#[test]
fn lists_built_anew_still_read_each_kwarg_where_it_lies() {
    let log = Log::default();
    let signal = Rebuilt::named();
    let mut connections = Vec::new();
    // More than the first store holds, and sender filters, which build every list anew.
    for i in 0..40u64 {
        let receiver = if i % 2 == 0 {
            signal.connect(Receiver::kwarg("n", logger::<u64>(&log, "n")).key(format!("n{i}")))
        } else {
            signal.connect(
                Receiver::kwarg("s", logger::<String>(&log, "s"))
                    .key(format!("s{i}"))
                    .sender(if i % 3 == 0 { "web" } else { "cli" }),
            )
        };
        connections.push(receiver);
    }
    let report = Rebuilt {
        n: 9,
        s: "x".into(),
    }
    .send("web");
    assert!(report.is_ok(), "{report:?}");
    let web_s = (0..40).filter(|i| i % 2 == 1 && i % 3 == 0).count();
    assert_eq!(report.receivers_called(), 20 + web_s);
    let lines = taken(&log);
    assert_eq!(
        lines.iter().filter(|l| *l == "n=9 from \"web\"").count(),
        20
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| *l == "s=\"x\" from \"web\"")
            .count(),
        web_s
    );
    for connection in connections {
        assert!(connection.disconnect());
    }
}
