//! CKAN's own tests of its signals (`ckan/tests/lib/test_signals.py` and the `example_isignal`
//! plugin's tests), ported to the portal: each receiver is a mock that counts its calls and
//! keeps their arguments.

use ckan_portal::Portal;
use ckan_signals::host;
use ckan_signals::model::ActionContext;
use ckan_signals::toolkit::signals;
use ckan_signals::{
    FailedLogin, PerformPasswordReset, RegisterBlueprint, RequestFinished, RequestPasswordReset,
    RequestStarted, UserCreated, UserLoggedIn,
};
use ckanext_example_isignal::IsignalNumber;
use portal_tests::{isolate, record, Log};
use serde_json::{json, Value};
use signals_core::Signal;

/// `app.get("/")`: one request through the portal.
fn get(portal: &mut Portal) {
    portal.request(|_| Ok(())).expect("GET /");
}

/// `POST /user/register`.
fn register(portal: &mut Portal, name: &str) -> Value {
    portal
        .request(|p| {
            p.action(
                "user_create",
                ActionContext::default(),
                json!({ "name": name, "email": format!("{name}@example.org"), "password": "correct123" }),
            )
            .map_err(|e| e.to_string())
        })
        .expect("register")
}

/// `POST /user/login`.
fn login(portal: &mut Portal, name: &str, password: &str) -> bool {
    portal
        .request(|p| p.login(name, password).map_err(|e| e.to_string()))
        .is_ok()
}

#[test]
fn test_request_signals() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let start_receiver = Log::default();
    let finish_receiver = Log::default();
    let _s = record::<RequestStarted>(&start_receiver);
    let _f = record::<RequestFinished>(&finish_receiver);

    get(&mut portal);
    assert_eq!(start_receiver.count("request_started"), 1);
    assert_eq!(finish_receiver.count("request_finished"), 1);
    get(&mut portal);
    assert_eq!(start_receiver.count("request_started"), 2);
    assert_eq!(finish_receiver.count("request_finished"), 2);
}

#[test]
fn test_register_blueprint() {
    // `@pytest.mark.ckan_config("ckan.plugins", "example_idatasetform")`: a plugin-defined
    // dataset type registers its blueprints.
    let _iso = isolate();
    let mut portal = Portal::new();
    let receiver = Log::default();
    let _c = record::<RegisterBlueprint>(&receiver);
    portal.register_dataset_type("fancy_type");
    let senders: Vec<Value> = receiver.events().into_iter().map(|e| e.sender).collect();
    assert_eq!(senders, [json!("dataset"), json!("resource")]);
}

#[test]
fn test_user_created() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let created_receiver = Log::default();
    let _c = record::<UserCreated>(&created_receiver);
    register(&mut portal, "test_user");
    let calls = created_receiver.events();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].sender, json!("test_user"));
    assert_eq!(calls[0].kwargs["user"]["name"], "test_user");
}

#[test]
fn test_password_reset() {
    let _iso = isolate();
    let mut portal = Portal::new();
    register(&mut portal, "forgetful");
    let request_reset_receiver = Log::default();
    let perform_reset_receiver = Log::default();
    let _r = record::<RequestPasswordReset>(&request_reset_receiver);
    let _p = record::<PerformPasswordReset>(&perform_reset_receiver);

    let token = portal
        .request(|p| {
            p.request_password_reset("forgetful")
                .map_err(|e| e.to_string())
        })
        .expect("POST /user/reset");
    assert_eq!(request_reset_receiver.count("request_password_reset"), 1);
    assert_eq!(perform_reset_receiver.count("perform_password_reset"), 0);
    portal
        .request(|p| {
            p.perform_password_reset(&token, "new_password", None)
                .map_err(|e| e.to_string())
        })
        .expect("POST /user/reset/<id>");
    assert_eq!(request_reset_receiver.count("request_password_reset"), 1);
    assert_eq!(perform_reset_receiver.count("perform_password_reset"), 1);
    assert_eq!(
        perform_reset_receiver.events()[0].kwargs["user"]["name"],
        "forgetful"
    );
}

#[test]
fn test_failed_login() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let user = register(&mut portal, "unlucky");
    let failed_receiver = Log::default();
    let success_receiver = Log::default();
    let _f = record::<FailedLogin>(&failed_receiver);
    let _s = record::<UserLoggedIn>(&success_receiver);

    for call_count in 1..=3 {
        assert!(!login(&mut portal, "unlucky", "wrong"));
        assert_eq!(failed_receiver.count("failed_login"), call_count);
        assert_eq!(failed_receiver.events()[call_count - 1].sender, "unlucky");
    }
    assert!(login(&mut portal, "unlucky", "correct123"));
    assert_eq!(failed_receiver.count("failed_login"), 3);
    let logged_in = success_receiver.events();
    assert_eq!(logged_in.len(), 1);
    assert_eq!(logged_in[0].kwargs["user"], user);
}

#[test]
fn test_isignal_plugin_subscriptions() {
    let _iso = isolate();
    let signal = IsignalNumber::signal().named();
    // The same signal by name, as another extension would reach it.
    assert_eq!(signal, signals::ckanext().signal("isignal_number").unwrap());

    assert!(signal.receivers_for(&10i64).is_empty());
    {
        let _plugin = host::use_plugin("example_isignal").expect("use_plugin");
        let receivers: Vec<String> = signal
            .receivers_for(&10i64)
            .iter()
            .map(|r| format!("{} ({})", r.name, r.plugin.as_deref().unwrap_or("-")))
            .collect();
        assert_eq!(
            receivers,
            [
                "ckanext_example_isignal::x2 (example_isignal)",
                "ckanext_example_isignal::x10 (example_isignal)",
            ]
        );
        assert_eq!(signal.receivers_for(&5i64).len(), 1);
    }
    assert!(signal.receivers_for(&10i64).is_empty());
    assert!(!host::is_loaded("example_isignal"));
}

#[test]
fn test_isignal_return_values() {
    let _iso = isolate();
    assert_eq!(
        IsignalNumber.sending(&10).collect().run().into_values(),
        Vec::<i64>::new()
    );
    let _plugin = host::use_plugin("example_isignal").expect("use_plugin");
    // `signal.send(5)`: only x2 listens to 5.
    assert_eq!(
        IsignalNumber.sending(&5).collect().run().into_values(),
        [10]
    );
    // `signal.send(10)`: x2 then x10, in connection order (CKAN's order is undefined).
    let collected = IsignalNumber.sending(&10).collect().run();
    assert_eq!(collected.report.receivers_called(), 2);
    assert!(collected.report.is_ok());
    let pairs: Vec<(String, i64)> = collected
        .responses
        .into_iter()
        .map(|r| (r.receiver.name.to_string(), r.value))
        .collect();
    assert_eq!(
        pairs,
        [
            ("ckanext_example_isignal::x2".to_owned(), 20),
            ("ckanext_example_isignal::x10".to_owned(), 100),
        ]
    );
    // A sender of another kind is another sender: the string "10" reaches only x2.
    let for_string: Vec<String> = IsignalNumber::signal()
        .named()
        .receivers_for("10")
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(for_string, ["ckanext_example_isignal::x2"]);
    assert_eq!(
        IsignalNumber::signal().named().receivers_for(&10u8).len(),
        2
    );
}
