//! Signals across processes (`signals_core::wire`): the schema version, a struct's JSON and
//! a send from it (typed receivers get the struct, from a sender rebuilt from its key), the
//! by-name bag for every other signal, the senders' wire form, and each error's message.
//!
//! Every test uses a signal of its own (`t_wire_*`): signals are process-wide and tests run
//! in parallel.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::executor::block_on;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signals_core::wire::{sender_from_json, sender_to_json, WireError};
use signals_core::{
    registry, signal, DynKwargs, Error, FailureKind, Kwargs, NamedSignal, Namespace, Receiver,
    Sender, SenderKey, Signal,
};

/// What a receiver saw: the sender's key and the struct (or the bag's JSON).
type Seen<T> = Arc<Mutex<Vec<(SenderKey<'static>, T)>>>;

/// Connects a typed receiver that records each send; disconnected with the guard.
fn record<T: Signal<Output = ()> + Clone>() -> (Seen<T>, signals_core::ScopedConnection) {
    let seen: Seen<T> = Arc::default();
    let log = seen.clone();
    let connection = T::signal()
        .connect(move |sender: &T::Sender, ev: &T| {
            let key = sender.sender_key().into_owned();
            log.lock().unwrap().push((key, ev.clone()));
        })
        .scoped();
    (seen, connection)
}

/// Connects a by-name receiver that records the sender's key and reads `name` as a `V`.
fn record_by_name<V>(
    signal: NamedSignal,
    name: &'static str,
) -> (Seen<V>, signals_core::ScopedConnection)
where
    V: serde::de::DeserializeOwned + Clone + Send + 'static,
{
    let seen: Seen<V> = Arc::default();
    let log = seen.clone();
    let connection = signal
        .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            let value = kwargs
                .read::<V>(name)
                .map_err(|e| e.to_string())?
                .into_owned();
            log.lock()
                .unwrap()
                .push((sender.clone().into_owned(), value));
            Ok::<(), String>(())
        })
        .scoped();
    (seen, connection)
}

fn taken<T>(seen: &Seen<T>) -> Vec<(SenderKey<'static>, T)> {
    std::mem::take(&mut *seen.lock().unwrap())
}

/// Sends `kwargs` from `key`, sync then async; both sends must succeed.
fn send_both_ways(signal: NamedSignal, key: &SenderKey<'_>, kwargs: Value) {
    let report = signal.send_json(key, kwargs.clone()).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let report = block_on(signal.send_json_async(key, kwargs)).unwrap();
    assert!(report.is_ok(), "{report:?}");
}

// ---- the schema version ----

#[signal(namespace = "t_wire_schema", schema = 3)]
#[derive(Serialize, Deserialize)]
struct Versioned {
    id: u32,
}

#[signal(namespace = "t_wire_schema")]
struct Unversioned;

#[test]
fn the_schema_version_is_in_the_trait_the_declaration_and_the_listing() {
    assert_eq!((Versioned::SCHEMA, Unversioned::SCHEMA), (3, 1));
    let ns = Namespace::get("t_wire_schema").unwrap();
    let declared = |name: &str| ns.signal(name).unwrap().declaration().unwrap();
    assert_eq!(declared("versioned").schema, 3);
    assert_eq!(declared("unversioned").schema, 1);

    let decl = |name: &str| {
        *registry()
            .signals()
            .iter()
            .find(|d| (d.namespace(), d.name()) == ("t_wire_schema", name))
            .unwrap()
    };
    assert_eq!(
        (
            decl("versioned").schema(),
            decl("versioned").is_serializable()
        ),
        (3, true)
    );
    assert_eq!(
        (
            decl("unversioned").schema(),
            decl("unversioned").is_serializable()
        ),
        (1, false)
    );

    let listing = serde_json::to_value(signals_core::listing()).unwrap();
    let entry = |name: &str| -> Value {
        listing["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["namespace"] == "t_wire_schema" && s["name"] == name)
            .unwrap()["declaration"]
            .clone()
    };
    assert_eq!(entry("versioned")["schema"], 3);
    assert_eq!(entry("versioned")["serializable"], true);
    assert_eq!(
        entry("versioned")["kwargs"],
        json!([{"name": "id", "type": "u32", "docs": ""}])
    );
    assert_eq!(entry("unversioned")["schema"], 1);
    assert_eq!(entry("unversioned")["serializable"], false);
}

// ---- a serializable struct crosses as itself ----

#[signal(namespace = "t_wire_typed")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    id: u32,
    tags: Vec<String>,
    note: Option<String>,
}

fn saved() -> Saved {
    Saved {
        id: 7,
        tags: vec!["a".into(), "b".into()],
        note: None,
    }
}

/// The JSON a transport would carry: the sender's wire form and the struct's, through text.
fn over_the_wire(
    signal: NamedSignal,
    sender: &(impl Sender + ?Sized),
    kwargs: &dyn Kwargs,
) -> (Value, Value) {
    let sender = sender_to_json(sender).unwrap();
    let kwargs = signal.to_json(kwargs).unwrap();
    let text = serde_json::to_string(&(sender, kwargs)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_serializable_struct_reaches_typed_and_by_name_receivers_from_a_str_sender() {
    let signal = Saved::named();
    assert!(signal.is_serializable());
    let (typed, _t) = record::<Saved>();
    let (by_name, _b) = record_by_name::<Vec<String>>(signal, "tags");

    let (sender, kwargs) = over_the_wire(signal, "api", &saved());
    assert_eq!(sender, json!("api"));
    assert_eq!(kwargs, json!({"id": 7, "tags": ["a", "b"], "note": null}));
    let key = sender_from_json(&sender).unwrap();

    let report = signal.send_json(&key, kwargs.clone()).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(taken(&typed), [(SenderKey::from("api"), saved())]);
    assert_eq!(
        taken(&by_name),
        [(
            SenderKey::from("api"),
            vec!["a".to_string(), "b".to_string()]
        )]
    );

    let report = block_on(signal.send_json_async(&key, kwargs)).unwrap();
    assert_eq!(report.receivers_called(), 2);
    assert_eq!(taken(&typed), [(SenderKey::from("api"), saved())]);
    assert_eq!(taken(&by_name).len(), 1);
}

#[signal(namespace = "t_wire_typed_async")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Published {
    name: String,
}

#[test]
fn an_async_send_from_json_awaits_async_typed_receivers() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let _c = Published::signal()
        .connect(Receiver::new_async(move |sender: &str, ev: &Published| {
            let log = log.clone();
            Box::pin(async move {
                log.lock().unwrap().push(format!("{sender} {}", ev.name));
            })
        }))
        .scoped();
    let signal = Published::named();
    let kwargs = signal
        .to_json(&Published {
            name: "camels".into(),
        })
        .unwrap();
    let future = signal.send_json_async("portal", kwargs);
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing runs before the first poll"
    );
    let report = block_on(future).unwrap();
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(*seen.lock().unwrap(), ["portal camels"]);
}

#[signal(namespace = "t_wire_int", sender = i64)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Numbered {
    n: i64,
}

#[test]
fn an_integer_sender_is_rebuilt_from_its_wire_form() {
    let signal = Numbered::named();
    let (typed, _t) = record::<Numbered>();
    let (sender, kwargs) = over_the_wire(signal, &-42i64, &Numbered { n: 1 });
    assert_eq!(sender, json!({"int": "-42"}));
    let key = sender_from_json(&sender).unwrap();
    send_both_ways(signal, &key, kwargs);
    assert_eq!(
        taken(&typed),
        [
            (SenderKey::Int(-42), Numbered { n: 1 }),
            (SenderKey::Int(-42), Numbered { n: 1 })
        ]
    );

    // A key the declared sender type cannot stand for is refused, naming the type.
    let error = signal.send_json(&"api", json!({"n": 1})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "signal `t_wire_int.numbered` expects senders of type `i64`, which cannot be rebuilt \
         from the sender key \"api\"; send from a sender of that type, or implement \
         `Sender::owned_from_sender_key` for it"
    );
    let too_big = SenderKey::Int(i128::from(i64::MAX) + 1);
    assert!(matches!(
        signal.send_json(&too_big, json!({"n": 1})),
        Err(WireError::SenderNotRecoverable {
            sender_type: "i64",
            ..
        })
    ));
    assert!(taken(&typed).is_empty());
}

#[signal(namespace = "t_wire_option", sender = Option<String>)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reset {
    user: String,
}

#[test]
fn an_option_sender_crosses_as_null_or_as_its_string() {
    let signal = Reset::named();
    let (typed, _t) = record::<Reset>();
    for sender in [None, Some("web".to_string())] {
        let (json_sender, kwargs) = over_the_wire(
            signal,
            &sender,
            &Reset {
                user: "alice".into(),
            },
        );
        let key = sender_from_json(&json_sender).unwrap();
        assert_eq!(key, sender.sender_key());
        send_both_ways(signal, &key, kwargs);
    }
    let reset = Reset {
        user: "alice".into(),
    };
    assert_eq!(
        taken(&typed),
        [
            (SenderKey::None, reset.clone()),
            (SenderKey::None, reset.clone()),
            (SenderKey::from("web"), reset.clone()),
            (SenderKey::from("web"), reset),
        ]
    );
}

#[signal(namespace = "t_wire_unit", sender = ())]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Started;

#[test]
fn a_unit_struct_from_no_sender_crosses_as_null() {
    let signal = Started::named();
    let (typed, _t) = record::<Started>();
    let (sender, kwargs) = over_the_wire(signal, &(), &Started);
    assert_eq!((&sender, &kwargs), (&Value::Null, &Value::Null));
    let key = sender_from_json(&sender).unwrap();
    assert!(signal.send_json(&key, kwargs).unwrap().is_ok());
    assert_eq!(taken(&typed), [(SenderKey::None, Started)]);
}

#[test]
fn json_that_does_not_decode_into_the_struct_is_refused_before_any_receiver_runs() {
    let signal = Saved::named();
    let (typed, _t) = record::<Saved>();
    let error = signal
        .send_json("api", json!({"id": "seven", "tags": []}))
        .unwrap_err();
    assert!(
        matches!(&error, WireError::Undecodable { expected, .. } if expected.ends_with("Saved"))
    );
    let expected = std::any::type_name::<Saved>();
    assert_eq!(
        error.to_string(),
        format!(
            "the JSON keyword arguments of signal `t_wire_typed.saved` do not decode as \
             `{expected}`: invalid type: string \"seven\", expected u32; send JSON that \
             `to_json` made from a struct of the same schema version"
        )
    );
    assert!(block_on(signal.send_json_async("api", json!([1]))).is_err());
    assert!(taken(&typed).is_empty());
}

// ---- any other bag crosses by name ----

/// Not `Serialize`: its signal's struct cannot cross as itself.
#[derive(Debug, Clone, PartialEq)]
struct Opaque(u8);

#[signal(namespace = "t_wire_opaque")]
#[derive(Debug, Clone, PartialEq)]
struct Uploaded {
    name: String,
    size: u64,
    handle: Opaque,
}

#[signal(namespace = "t_wire_plain")]
#[derive(Debug, Clone, PartialEq)]
struct Plain {
    name: String,
    size: Option<u64>,
}

#[test]
fn a_struct_that_is_not_serializable_crosses_by_name_and_its_typed_receivers_are_reported() {
    let signal = Uploaded::named();
    assert!(!signal.is_serializable());
    let uploaded = Uploaded {
        name: "a.csv".into(),
        size: 10,
        handle: Opaque(1),
    };
    assert_eq!(
        signal.to_json(&uploaded).unwrap_err(),
        WireError::NotSerializable {
            signal: "t_wire_opaque.uploaded".into(),
            kwarg: "handle".into(),
            type_name: std::any::type_name::<Opaque>(),
        }
    );

    // Whatever a struct's fields, those of plain types cross by name.
    let plain = Plain::named();
    assert!(!plain.is_serializable());
    let kwargs = plain
        .to_json(&Plain {
            name: "a.csv".into(),
            size: Some(10),
        })
        .unwrap();
    assert_eq!(kwargs, json!({"name": "a.csv", "size": 10}));

    // The receiving side: by-name receivers read the bag, typed receivers are reported.
    let (by_name, _b) = record_by_name::<String>(signal, "name");
    let (typed, _t) = record::<Uploaded>();
    let report = signal
        .send_json("api", json!({"name": "a.csv", "size": 10}))
        .unwrap();
    assert_eq!(report.receivers_called(), 1);
    assert_eq!(report.failures().len(), 1);
    assert!(matches!(
        report.failures()[0].kind,
        FailureKind::TypedReceiver
    ));
    let message = report.failures()[0].to_string();
    assert!(
        message.ends_with(
            " is typed; a bag decoded from JSON cannot reach it \u{2014} derive Serialize and \
             Deserialize on the signal's struct"
        ),
        "{message}"
    );
    assert_eq!(
        taken(&by_name),
        [(SenderKey::from("api"), "a.csv".to_string())]
    );

    let report = block_on(signal.send_json_async("api", json!({"name": "b.csv"}))).unwrap();
    assert_eq!((report.receivers_called(), report.failures().len()), (1, 1));
    assert_eq!(
        taken(&by_name),
        [(SenderKey::from("api"), "b.csv".to_string())]
    );
    assert!(taken(&typed).is_empty());
}

#[test]
fn a_signal_no_struct_declares_sends_the_json_object_as_a_bag_of_values() {
    let signal = Namespace::get("t_wire_by_name")
        .unwrap()
        .signal("imported")
        .unwrap();
    assert!(!signal.is_serializable());
    let bag = DynKwargs::new()
        .with("name", "a.csv".to_string())
        .with("label", "static")
        .with("rows", 3u32)
        .with("ratio", 0.5f64)
        .with("ok", true)
        .with("owner", None::<String>)
        .with("meta", json!({"k": [1, 2]}));
    let (sender, kwargs) = over_the_wire(signal, &3u8, &bag);
    assert_eq!(
        kwargs,
        json!({"name": "a.csv", "label": "static", "rows": 3, "ratio": 0.5, "ok": true,
               "owner": null, "meta": {"k": [1, 2]}})
    );

    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let _c = signal
        .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            // Each value is a `serde_json::Value`, which `read` decodes.
            assert!(kwargs.get::<Value>("rows").is_some());
            let read = (
                sender.as_int(),
                kwargs.read::<String>("name").unwrap().into_owned(),
                *kwargs.read::<u32>("rows").unwrap(),
                kwargs.read::<Option<String>>("owner").unwrap().into_owned(),
                kwargs
                    .read::<BTreeMap<String, Vec<u8>>>("meta")
                    .unwrap()
                    .into_owned(),
            );
            log.lock().unwrap().push(read);
        })
        .scoped();
    let key = sender_from_json(&sender).unwrap();
    assert_eq!(
        signal
            .send_json(&key, kwargs.clone())
            .unwrap()
            .receivers_called(),
        1
    );
    assert_eq!(
        block_on(signal.send_json_async(&key, kwargs))
            .unwrap()
            .receivers_called(),
        1
    );
    let meta = BTreeMap::from([("k".to_string(), vec![1, 2])]);
    let expected = (Some(3), "a.csv".to_string(), 3, None, meta);
    assert_eq!(*seen.lock().unwrap(), [expected.clone(), expected]);

    // `null` is an empty bag; any other JSON that is not an object is refused.
    assert!(signal.send_json("api", Value::Null).is_ok());
    assert_eq!(
        signal.send_json("api", json!([1])).unwrap_err().to_string(),
        "the JSON keyword arguments of signal `t_wire_by_name.imported` are an array, not an \
         object of arguments by name; send the object `to_json` makes"
    );
    assert!(matches!(
        block_on(signal.send_json_async("api", json!("x"))),
        Err(WireError::NotAnObject {
            found: "a string",
            ..
        })
    ));
}

#[test]
fn a_by_name_value_of_another_type_is_not_serializable() {
    let signal = Namespace::get("t_wire_by_name_opaque")
        .unwrap()
        .signal("x")
        .unwrap();
    let bag = DynKwargs::new()
        .with("ok", 1u8)
        .with("at", std::time::Duration::ZERO);
    let error = signal.to_json(&bag).unwrap_err();
    assert_eq!(
        error.to_string(),
        "keyword argument `at` of signal `t_wire_by_name_opaque.x` is a `core::time::Duration`, \
         which has no JSON form here; declare the signal with a struct that derives `Serialize` \
         and `Deserialize`, or send the value as a `serde_json::Value`, a string, a bool or a \
         number"
    );
    // A declared, serializable signal's bag that is not its struct crosses by name too.
    let kwargs = Saved::named()
        .to_json(&DynKwargs::new().with("id", 1u32))
        .unwrap();
    assert_eq!(kwargs, json!({"id": 1}));
}

#[signal(namespace = "t_wire_unencodable")]
#[derive(Serialize, Deserialize)]
struct Keyed {
    by_pair: BTreeMap<Vec<u8>, u8>,
}

#[test]
fn values_without_a_json_form_are_unencodable() {
    let keyed = Keyed {
        by_pair: BTreeMap::from([(vec![1], 1)]),
    };
    assert_eq!(
        Keyed::named().to_json(&keyed).unwrap_err().to_string(),
        "the keyword arguments of signal `t_wire_unencodable.keyed` do not encode as JSON: key \
         must be a string; give the values a JSON form (string map keys, integers within 64 \
         bits)"
    );
    let signal = Namespace::get("t_wire_unencodable")
        .unwrap()
        .signal("big")
        .unwrap();
    assert_eq!(
        signal
            .to_json(&DynKwargs::new().with("n", u128::MAX))
            .unwrap_err(),
        WireError::Unencodable {
            signal: "t_wire_unencodable.big".into(),
            error: "keyword argument `n`: number out of range".into(),
        }
    );
}

// ---- senders ----

#[test]
fn integer_senders_round_trip_at_the_extremes() {
    for value in [i128::MAX, i128::MIN, 0, -1, i128::from(u64::MAX)] {
        let json = sender_to_json(&SenderKey::Int(value)).unwrap();
        assert_eq!(json, json!({"int": value.to_string()}));
        let text = serde_json::to_string(&json).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(sender_from_json(&back).unwrap(), SenderKey::Int(value));
    }
    assert_eq!(
        sender_to_json(&SenderKey::Int(i128::MIN)).unwrap(),
        json!({"int": "-170141183460469231731687303715884105728"})
    );
}

#[test]
fn identity_senders_cannot_cross() {
    let error = sender_to_json(&SenderKey::Id(9)).unwrap_err();
    assert_eq!(error, WireError::SenderCannotCross { id: 9 });
    assert_eq!(
        error.to_string(),
        "the identity sender #9 cannot cross processes: an identity means nothing in another \
         process; send from a string or integer sender"
    );
}

#[test]
fn json_that_is_not_a_sender_is_refused() {
    for json in [
        json!(5),
        json!(true),
        json!([]),
        json!({"int": 5}),
        json!({"int": "5x"}),
        json!({"int": "1", "str": "a"}),
        json!({"int": "170141183460469231731687303715884105728"}),
    ] {
        assert!(
            matches!(sender_from_json(&json), Err(WireError::NotASender { .. })),
            "{json}"
        );
    }
    assert_eq!(
        sender_from_json(&json!({"int": 5}))
            .unwrap_err()
            .to_string(),
        "`{\"int\":5}` is not a sender: a sender crosses as null, a string or \
         {\"int\": \"<decimal>\"}; make it with `sender_to_json`"
    );
    let long = json!("x".repeat(100));
    let long = json!([long]);
    let message = sender_from_json(&long).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "`[\"{}…` (104 bytes) is not a sender",
            "x".repeat(62)
        )),
        "{message}"
    );
}

#[test]
fn other_errors_of_the_send_are_passed_on_as_they_are() {
    let error = Error::TypeConflict {
        signal: "a.b".into(),
        declared: "A",
        requested: "B",
    };
    let wire = WireError::from(error.clone());
    assert_eq!(wire.to_string(), error.to_string());
    assert_eq!(wire, WireError::Other(error));
}
