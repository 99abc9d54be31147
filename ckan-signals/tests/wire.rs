//! Every built-in signal crosses processes as itself: its struct and its sender go to JSON
//! (`NamedSignal::to_json`, `wire::sender_to_json`), through text, and a send from that JSON
//! (`send_json`, `send_json_async`) gives a fresh typed receiver the same struct from the same
//! sender.
//!
//! Each test uses one signal, and no other test in this binary uses it: signals are
//! process-wide and tests run in parallel.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use ckan_signals::model::{ActionContext, Blueprint, Response, User, WebApp};
use ckan_signals::*;
use serde_json::{json, Value};
use signals_core::wire::{sender_from_json, sender_to_json};
use signals_core::{Sender, Signal};

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// Sends `event` from `sender` through JSON, sync then async, and checks that a typed
/// receiver got the same struct from the same sender each time.
fn round_trip<T>(event: T, sender: &T::Sender)
where
    T: Signal<Output = ()> + Clone + PartialEq + Debug,
    T::Sender: ToOwned,
    <T::Sender as ToOwned>::Owned: PartialEq + Debug + Send + 'static,
{
    let named = T::named();
    assert!(named.is_serializable(), "{named}");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let _c = T::signal()
        .connect(move |sender: &T::Sender, ev: &T| {
            log.lock().unwrap().push((sender.to_owned(), ev.clone()));
        })
        .scoped();

    // The sending process: the sender and the kwargs as JSON text.
    let wire = json!({
        "signal": named.qualified_name(),
        "schema": named.declaration().unwrap().schema,
        "sender": sender_to_json(sender).unwrap(),
        "kwargs": named.to_json(&event).unwrap(),
    })
    .to_string();

    // The receiving process.
    let wire: Value = serde_json::from_str(&wire).unwrap();
    assert_eq!(wire["signal"], named.qualified_name());
    assert_eq!(wire["schema"], 1);
    let key = sender_from_json(&wire["sender"]).unwrap();
    assert_eq!(key, sender.sender_key());
    let report = named.send_json(&key, wire["kwargs"].clone()).unwrap();
    assert!(report.is_ok(), "{named}: {report:?}");
    let report = block_on(named.send_json_async(&key, wire["kwargs"].clone())).unwrap();
    assert!(report.is_ok(), "{named}: {report:?}");

    let expected = [
        (sender.to_owned(), event.clone()),
        (sender.to_owned(), event),
    ];
    assert_eq!(*seen.lock().unwrap(), expected, "{named}");
}

fn app() -> WebApp {
    WebApp::new("ckan")
}

fn user() -> User {
    User {
        id: "u-1".into(),
        name: "alice".into(),
        email: "alice@example.org".into(),
        fullname: Some("Alice Liddell".into()),
        sysadmin: false,
    }
}

#[test]
fn request_started() {
    round_trip(RequestStarted, &app());
}

#[test]
fn request_finished() {
    let response = Response {
        status: 404,
        content_type: "text/html".into(),
        content_length: 12,
        headers: vec![("x-request-id".into(), "r-1".into())],
    };
    round_trip(RequestFinished { response }, &app());
}

#[test]
fn register_blueprint() {
    let blueprint = Blueprint {
        name: "camel-photos".into(),
        url_prefix: "/camel-photos".into(),
    };
    round_trip(RegisterBlueprint { blueprint }, "dataset");
}

#[test]
fn resource_download() {
    round_trip(ResourceDownload, "r-1");
}

#[test]
fn user_logged_in() {
    round_trip(UserLoggedIn { user: user() }, &app());
}

#[test]
fn user_logged_out() {
    round_trip(UserLoggedOut { user: user() }, &app());
}

#[test]
fn failed_login() {
    round_trip(FailedLogin, "mallory");
}

#[test]
fn user_created() {
    round_trip(UserCreated { user: user() }, "alice");
}

#[test]
fn request_password_reset() {
    round_trip(RequestPasswordReset { user: user() }, "alice");
}

#[test]
fn perform_password_reset() {
    // CKAN sends it from `None`; a `Some` sender crosses too.
    round_trip(PerformPasswordReset { user: user() }, &None);
    round_trip(PerformPasswordReset { user: user() }, &Some("web".into()));
}

#[test]
fn action_succeeded() {
    let event = ActionSucceeded {
        context: ActionContext {
            user: Some("alice".into()),
            ignore_auth: true,
        },
        data_dict: json!({"id": "d-1", "tags": [{"name": "camels"}]}),
        result: json!({"id": "d-1", "num_resources": 2, "private": false}),
    };
    round_trip(event, "package_create");
}

#[test]
fn datastore_upsert() {
    round_trip(
        DatastoreUpsert {
            records: Some(json!([{"a": 1}, {"a": 2.5}])),
        },
        "r-1",
    );
    round_trip(DatastoreUpsert { records: None }, "r-2");
}

#[test]
fn datastore_delete() {
    let event = DatastoreDelete {
        result: json!({"deleted": 3}),
        data_dict: json!({"resource_id": "r-1", "filters": {"a": 1}}),
    };
    round_trip(event, "r-1");
}

#[test]
fn every_built_in_signal_is_serializable_and_listed_so() {
    let listing = serde_json::to_value(signals_core::listing()).unwrap();
    let ours: Vec<&Value> = listing["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["declaration"]["crate_name"] == "ckan-signals")
        .collect();
    assert_eq!(ours.len(), 13);
    for signal in ours {
        assert_eq!(signal["declaration"]["serializable"], true, "{signal}");
        assert_eq!(signal["declaration"]["schema"], 1, "{signal}");
    }
}
