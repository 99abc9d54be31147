//! CKAN's own tests of its signals (`ckan/tests/lib/test_signals.py` and the `example_isignal`
//! plugin's tests), ported to the portal: each receiver is a mock that counts its calls and
//! keeps their arguments, and the portal is driven over real HTTP, as CKAN's tests drive its
//! Flask app through the test client.

use std::time::Duration;

use ckan_portal::server::ServerOptions;
use ckan_signals::host;
use ckan_signals::toolkit::signals;
use ckan_signals::{
    FailedLogin, PerformPasswordReset, RegisterBlueprint, RequestFinished, RequestPasswordReset,
    RequestStarted, UserCreated, UserLoggedIn,
};
use ckanext_example_isignal::IsignalNumber;
use portal_tests::{event, isolate, record, Log, TestPortal};
use serde_json::{json, Value};
use signals_core::Signal;

/// A user as the portal serializes it (`register` gives no full name).
fn user_json(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "email": format!("{name}@example.org"),
        "fullname": null,
        "sysadmin": false,
    })
}

/// `app.get("/")`: one request through the portal.
fn get_root(portal: &TestPortal) {
    let reply = portal.get("/", None);
    assert_eq!(reply.status, 200, "GET /: {}", reply.text);
    assert_eq!(
        reply.text,
        "A CKAN-like portal. The action API is at /api/3/action/\n"
    );
}

#[test]
fn test_request_signals() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let start_receiver = Log::default();
    let finish_receiver = Log::default();
    let _s = record::<RequestStarted>(&start_receiver);
    let _f = record::<RequestFinished>(&finish_receiver);

    get_root(&portal);
    assert_eq!(start_receiver.count("request_started"), 1);
    assert_eq!(finish_receiver.count("request_finished"), 1);
    get_root(&portal);
    assert_eq!(start_receiver.count("request_started"), 2);
    assert_eq!(finish_receiver.count("request_finished"), 2);
    // Sent by the web app; `request_finished` carries the response that went out.
    let started = start_receiver.events();
    assert_eq!(
        started[0],
        event("request_started", json!({ "name": "ckan" }), Value::Null)
    );
    for finished in finish_receiver.events() {
        assert_eq!(finished.sender, json!({ "name": "ckan" }));
        assert_eq!(finished.kwargs["response"]["status"], 200);
        assert_eq!(
            finished.kwargs["response"]["content_type"],
            "text/plain; charset=utf-8"
        );
    }
}

#[test]
fn test_register_blueprint() {
    // `@pytest.mark.ckan_config("ckan.plugins", "example_idatasetform")`: a plugin-defined
    // dataset type registers its blueprints when the app starts.
    let _iso = isolate();
    let receiver = Log::default();
    let _c = record::<RegisterBlueprint>(&receiver);
    let portal = TestPortal::with(ServerOptions {
        signal_timeout: Duration::from_secs(2),
        dataset_types: vec!["fancy_type".into()],
        ..ServerOptions::default()
    });
    let senders: Vec<Value> = receiver.events().into_iter().map(|e| e.sender).collect();
    assert_eq!(senders, [json!("dataset"), json!("resource")]);
    assert_eq!(
        receiver.events(),
        [
            event(
                "register_blueprint",
                json!("dataset"),
                json!({ "blueprint": { "name": "fancy_type", "url_prefix": "/fancy_type" } }),
            ),
            event(
                "register_blueprint",
                json!("resource"),
                json!({ "blueprint": {
                    "name": "fancy_type_resource",
                    "url_prefix": "/fancy_type/<id>/resource",
                } }),
            ),
        ]
    );
    // The blueprint is mounted: its prefix answers.
    let page = portal.get("/fancy_type", None);
    assert_eq!(
        (page.status, page.text.as_str()),
        (200, "The `fancy_type` blueprint.\n")
    );
}

#[test]
fn test_user_created() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let created_receiver = Log::default();
    let _c = record::<UserCreated>(&created_receiver);
    portal.register("test_user", "correct123");
    let calls = created_receiver.events();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].sender, json!("test_user"));
    assert_eq!(calls[0].kwargs["user"]["name"], "test_user");
    // The sysadmin `admin` is user-1.
    assert_eq!(
        calls[0].kwargs,
        json!({ "user": user_json("user-2", "test_user") })
    );
}

#[test]
fn test_password_reset() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("forgetful", "correct123");
    let request_reset_receiver = Log::default();
    let perform_reset_receiver = Log::default();
    let _r = record::<RequestPasswordReset>(&request_reset_receiver);
    let _p = record::<PerformPasswordReset>(&perform_reset_receiver);

    let reply = portal.post_form("/user/reset", &[("user", "forgetful")], None);
    assert_eq!(reply.status, 302, "POST /user/reset: {}", reply.text);
    assert_eq!(request_reset_receiver.count("request_password_reset"), 1);
    assert_eq!(perform_reset_receiver.count("perform_password_reset"), 0);

    // The link the portal mailed.
    let mail = portal.portal(|p| p.mail()).expect("the mail");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].recipient, "forgetful");
    let link = mail[0].body.clone();
    assert!(link.starts_with("/user/reset/user-2?key="), "{link}");
    let form = [("password1", "new_password"), ("password2", "new_password")];
    let reply = portal.post_form(&link, &form, None);
    assert_eq!(reply.status, 302, "POST {link}: {}", reply.text);
    assert_eq!(request_reset_receiver.count("request_password_reset"), 1);
    assert_eq!(perform_reset_receiver.count("perform_password_reset"), 1);
    assert_eq!(
        perform_reset_receiver.events()[0].kwargs["user"]["name"],
        "forgetful"
    );
    // No name in the form: the sender is None, as is common in CKAN.
    assert_eq!(
        perform_reset_receiver.events(),
        [event(
            "perform_password_reset",
            Value::Null,
            json!({ "user": user_json("user-2", "forgetful") }),
        )]
    );
    assert_eq!(
        request_reset_receiver.events(),
        [event(
            "request_password_reset",
            json!("forgetful"),
            json!({ "user": user_json("user-2", "forgetful") }),
        )]
    );
    // The new password works, the old one no longer does.
    assert!(portal.login("forgetful", "new_password").is_some());
    assert_eq!(portal.login("forgetful", "correct123"), None);
}

#[test]
fn test_failed_login() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("unlucky", "correct123");
    let user = user_json("user-2", "unlucky");
    let failed_receiver = Log::default();
    let success_receiver = Log::default();
    let _f = record::<FailedLogin>(&failed_receiver);
    let _s = record::<UserLoggedIn>(&success_receiver);

    for call_count in 1..=3 {
        let reply = portal.post_form(
            "/user/login",
            &[("login", "unlucky"), ("password", "wrong")],
            None,
        );
        assert_eq!(reply.status, 401, "{}", reply.text);
        assert_eq!(reply.session(), None);
        assert_eq!(failed_receiver.count("failed_login"), call_count);
        assert_eq!(failed_receiver.events()[call_count - 1].sender, "unlucky");
    }
    assert_eq!(success_receiver.count("logged_in"), 0);
    assert!(portal.login("unlucky", "correct123").is_some());
    assert_eq!(failed_receiver.count("failed_login"), 3);
    let logged_in = success_receiver.events();
    assert_eq!(logged_in.len(), 1);
    assert_eq!(logged_in[0].kwargs["user"], user);
    assert_eq!(logged_in[0].sender, json!({ "name": "ckan" }));
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
