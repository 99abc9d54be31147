//! Each of CKAN's 13 built-in signals, driven through the portal's real HTTP server
//! ([`TestPortal`]): the exact sender and keyword arguments at each point of a request it is
//! sent, nothing sent where it must not be, and each request's `request_started` first and
//! `request_finished` (with the real status, content type and length) last. The start-up's
//! `register_blueprint` is not a request: it is driven on the application core directly, and
//! once through a server started with plugin-declared types.
//! Also: the toolkit aliases and the registered names reach the same signals, by-name
//! receivers read the same sends through `dyn Kwargs`, and the registry and listing know all 13.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ckan_portal::server::ServerOptions;
use ckan_portal::store::PasswordCost;
use ckan_portal::Portal;
use ckan_signals::model::{ActionContext, Response, User};
use ckan_signals::toolkit::signals;
use ckan_signals::{ActionSucceeded, DatastoreUpsert, FailedLogin};
use portal_tests::{event, isolate, Event, Recorder, Reply, TestPortal};
use serde_json::{json, Value};
use signals_core::{Kwargs, NamedSignal, Namespace, Receiver, SenderKey, Signal};

/// The content type of the action API's answers.
const JSON: &str = "application/json;charset=utf-8";
/// The content type of the pages (redirects, errors of the forms).
const TEXT: &str = "text/plain; charset=utf-8";
/// The content type of a downloaded file.
const OCTETS: &str = "application/octet-stream";
/// The uploaded file of [`with_resources`].
const CSV: &str = "id,name\n1,Humphrey\n";
/// A password long enough for `user_create` (8 characters or more).
const PASSWORD: &str = "correct horse";

/// The web app, as the request and login signals send it.
fn app() -> Value {
    json!({ "name": "ckan" })
}

/// The action context of a call made with the sysadmin `admin`'s API token.
fn admin_json() -> Value {
    json!({ "user": "admin", "ignore_auth": false })
}

/// The action context of an anonymous call.
fn anonymous() -> Value {
    json!({ "user": null, "ignore_auth": false })
}

fn user_json(id: &str, name: &str, email: &str, fullname: Option<&str>) -> Value {
    json!({ "id": id, "name": name, "email": email, "fullname": fullname, "sysadmin": false })
}

/// `request_started`, as the signals layer sends it before each request's handler.
fn started() -> Event {
    event("request_started", app(), Value::Null)
}

/// The `request_finished` the layer must have sent for `reply` (its headers aside, see
/// [`take`]): checks that the client got `status` and `content_type` (no `Content-Type` header
/// when empty), and expects the length of the body the client received.
fn finished(reply: &Reply, status: u16, content_type: &str) -> Event {
    assert_eq!(reply.status, status, "the status of: {}", reply.text);
    let header = (!content_type.is_empty()).then_some(content_type);
    assert_eq!(reply.header("content-type"), header, "{}", reply.text);
    event(
        "request_finished",
        app(),
        json!({ "response": {
            "status": status,
            "content_type": content_type,
            "content_length": reply.text.len(),
        } }),
    )
}

/// One HTTP request's events: `request_started`, the signals its handler sent, then its
/// `request_finished`.
fn http(inner: Vec<Event>, finished: Event) -> Vec<Event> {
    let mut events = vec![started()];
    events.extend(inner);
    events.push(finished);
    events
}

/// The headers each `request_finished` recorded so far carried, in order.
fn finished_headers(recorder: &Recorder) -> Vec<Vec<(String, String)>> {
    recorder
        .log()
        .of("request_finished")
        .iter()
        .map(|e| {
            serde_json::from_value(e.kwargs["response"]["headers"].clone())
                .expect("the headers are (name, value) pairs")
        })
        .collect()
}

/// The first value of the header `name` in `headers`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Removes and returns the recorded events, each `request_finished`'s headers checked and
/// removed (the `date` header a server adds varies): every name is lowercase, the
/// `content-type` header is there exactly when the response has a content type, and equals
/// it, and a `content-length` header, if any, equals the content length.
fn take(recorder: &Recorder) -> Vec<Event> {
    let mut events = recorder.take();
    for e in events.iter_mut().filter(|e| e.signal == "request_finished") {
        let response = e.kwargs["response"]
            .as_object_mut()
            .expect("request_finished carries a response");
        let headers: Vec<(String, String)> =
            serde_json::from_value(response.remove("headers").expect("the headers"))
                .expect("the headers are (name, value) pairs");
        for (name, _) in &headers {
            assert_eq!(*name, name.to_lowercase(), "a header name in {headers:?}");
        }
        let content_type = response["content_type"].as_str().unwrap_or_default();
        let expected = (!content_type.is_empty()).then_some(content_type);
        assert_eq!(header(&headers, "content-type"), expected, "{headers:?}");
        if let Some(length) = header(&headers, "content-length") {
            assert_eq!(
                json!(length.parse::<usize>().ok()),
                response["content_length"]
            );
        }
    }
    events
}

/// The link of the last reset mail sent to `user` (`/user/reset/<id>?key=<key>`).
fn reset_link(portal: &TestPortal, user: &str) -> String {
    portal
        .portal(|p| p.mail())
        .expect("the mail")
        .into_iter()
        .rev()
        .find(|m| m.recipient == user)
        .map(|m| m.body)
        .unwrap_or_else(|| panic!("no reset link was mailed to {user}"))
}

/// The reset key in a reset link.
fn key_of(link: &str) -> &str {
    link.split_once("?key=").expect("a key in the link").1
}

/// The download URL of a resource of the dataset `dataset-1`, under the core `dataset` type.
fn download(resource: &str) -> String {
    format!("/dataset/dataset-1/resource/{resource}/download")
}

/// A dataset `camels` (dataset-1) with an uploaded resource (resource-1) and a link
/// (resource-2), created by the sysadmin over the action API.
fn with_resources(portal: &TestPortal) {
    let dataset = portal.admin_action("package_create", &json!({ "name": "camels" }));
    assert_eq!(dataset["id"], "dataset-1");
    let upload = portal.admin_action(
        "resource_create",
        &json!({ "package_id": "camels", "upload": CSV }),
    );
    assert_eq!(upload["id"], "resource-1");
    let link = portal.admin_action(
        "resource_create",
        &json!({ "package_id": "camels", "url": "https://example.org/camels.csv" }),
    );
    assert_eq!(link["id"], "resource-2");
}

#[test]
fn request_started_and_finished_are_sent_once_per_request_around_the_handler() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let recorder = Recorder::all();
    // The login handler sends failed_login: what the log holds at that point is what was sent
    // before the handler's own signal.
    let seen_by_handler = Arc::new(Mutex::new(Vec::new()));
    let (seen, log) = (Arc::clone(&seen_by_handler), recorder.log().clone());
    let _probe = FailedLogin::signal()
        .connect(move |_: &str, _: &FailedLogin| {
            *seen.lock().unwrap() = log.events();
        })
        .scoped();

    let login = portal.post_form(
        "/user/login",
        &[("login", "nobody"), ("password", "x")],
        None,
    );
    // request_started went out before the handler ran, request_finished not yet.
    assert_eq!(
        *seen_by_handler.lock().unwrap(),
        [
            started(),
            event("failed_login", json!("nobody"), Value::Null)
        ]
    );
    let home = portal.get("/", None);
    assert_eq!(
        home.text,
        "A CKAN-like portal. The action API is at /api/3/action/\n"
    );
    let wrong_method = portal.get("/api/3/action/package_create", None);
    assert_eq!(
        wrong_method.json,
        "Bad request - JSON Error: Invalid request. Please use POST method for your request"
    );
    let nowhere = portal.get("/no/such/page", None);
    assert_eq!(
        take(&recorder),
        [
            http(
                vec![event("failed_login", json!("nobody"), Value::Null)],
                finished(&login, 401, TEXT),
            ),
            http(vec![], finished(&home, 200, TEXT)),
            http(vec![], finished(&wrong_method, 400, JSON)),
            // axum's fallback: an empty 404 without a content type.
            http(vec![], finished(&nowhere, 404, "")),
        ]
        .concat()
    );
    assert!(nowhere.text.is_empty());
}

#[test]
fn a_request_that_creates_a_user_sends_its_signals_between_started_and_finished() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let recorder = Recorder::all();
    let form = [
        ("name", "alice"),
        ("email", "alice@example.org"),
        ("password", PASSWORD),
    ];
    let reply = portal.post_form("/user/register", &form, None);
    let headers = finished_headers(&recorder);
    // user-1 is the sysadmin `admin` the test portal starts with.
    let alice = user_json("user-2", "alice", "alice@example.org", None);
    let data = json!({ "name": "alice", "email": "alice@example.org", "password": PASSWORD });
    assert_eq!(
        take(&recorder),
        http(
            vec![
                event("user_created", json!("alice"), json!({ "user": alice })),
                event(
                    "action_succeed",
                    json!("user_create"),
                    json!({ "context": anonymous(), "data_dict": data, "result": alice }),
                ),
            ],
            finished(&reply, 302, TEXT),
        )
    );
    assert_eq!(reply.text, "Redirecting to /user/login\n");
    // The response request_finished carried is the one the client got: its redirect too.
    assert_eq!(headers.len(), 1);
    assert_eq!(header(&headers[0], "location"), Some("/user/login"));
    assert_eq!(reply.header("location"), Some("/user/login"));
}

/// An application core, as the server opens it before start-up.
fn core() -> Portal {
    Portal::open(None, PasswordCost::CheapForTests).expect("an in-memory portal")
}

#[test]
fn register_blueprint_is_sent_by_dataset_then_resource() {
    let _iso = isolate();
    let mut portal = core();
    let recorder = Recorder::all();
    portal.start_up(&["camel-photos"], &[]);
    assert_eq!(
        recorder.take(),
        [
            event(
                "register_blueprint",
                json!("dataset"),
                json!({ "blueprint": { "name": "camel-photos", "url_prefix": "/camel-photos" } }),
            ),
            event(
                "register_blueprint",
                json!("resource"),
                json!({ "blueprint": { "name": "camel-photos_resource", "url_prefix": "/camel-photos/<id>/resource" } }),
            ),
        ]
    );
}

/// CKAN's `register_package_blueprints`: with no IDatasetForm plugin declaring `dataset`, the
/// core `dataset` and `resource` blueprints are registered without a signal; the core `group`
/// and `organization` ones are never announced either.
#[test]
fn start_up_registers_the_core_blueprints_without_a_signal() {
    let _iso = isolate();
    let mut portal = core();
    let recorder = Recorder::all();
    portal.start_up(&[], &[("group", false), ("organization", true)]);
    assert_eq!(recorder.take(), []);
    let registered: Vec<(&str, &str, Option<&str>)> = portal
        .blueprints()
        .iter()
        .map(|(b, sender)| (b.name.as_str(), b.url_prefix.as_str(), *sender))
        .collect();
    assert_eq!(
        registered,
        [
            ("dataset", "/dataset", None),
            ("resource", "/dataset/<id>/resource", None),
            ("group", "/group", None),
            ("organization", "/organization", None),
        ]
    );
}

/// Plugin-declared types are announced, each just before it is registered: dataset then
/// resource per dataset type, then `group` or `organization` per group type. A plugin that
/// declares the default type `dataset` itself replaces the core blueprints and is announced,
/// as in CKAN.
#[test]
fn start_up_announces_every_plugin_declared_type() {
    let _iso = isolate();
    let mut portal = core();
    let recorder = Recorder::all();
    portal.start_up(
        &["dataset", "camel-photos"],
        &[
            ("group", false),
            ("camel-clubs", false),
            ("camel-breeders", true),
        ],
    );
    let blueprint = |name: &str, url_prefix: &str| json!({ "blueprint": { "name": name, "url_prefix": url_prefix } });
    assert_eq!(
        recorder.take(),
        [
            event(
                "register_blueprint",
                json!("dataset"),
                blueprint("dataset", "/dataset")
            ),
            event(
                "register_blueprint",
                json!("resource"),
                blueprint("dataset_resource", "/dataset/<id>/resource"),
            ),
            event(
                "register_blueprint",
                json!("dataset"),
                blueprint("camel-photos", "/camel-photos"),
            ),
            event(
                "register_blueprint",
                json!("resource"),
                blueprint("camel-photos_resource", "/camel-photos/<id>/resource"),
            ),
            event(
                "register_blueprint",
                json!("group"),
                blueprint("camel-clubs", "/camel-clubs"),
            ),
            event(
                "register_blueprint",
                json!("organization"),
                blueprint("camel-breeders", "/camel-breeders"),
            ),
        ]
    );
    let registered: Vec<(&str, Option<&str>)> = portal
        .blueprints()
        .iter()
        .map(|(b, sender)| (b.name.as_str(), *sender))
        .collect();
    assert_eq!(
        registered,
        [
            ("dataset", Some("dataset")),
            ("dataset_resource", Some("resource")),
            ("camel-photos", Some("dataset")),
            ("camel-photos_resource", Some("resource")),
            ("group", None),
            ("organization", None),
            ("camel-clubs", Some("group")),
            ("camel-breeders", Some("organization")),
        ]
    );
}

#[test]
fn register_group_type_sends_group_or_organization_and_skips_the_core_types() {
    let _iso = isolate();
    let recorder = Recorder::all();
    // A type named like a core type but of the other kind is still a core type.
    core().start_up(
        &[],
        &[("organization", true), ("group", false), ("group", true)],
    );
    assert_eq!(recorder.take(), []);
    let mut portal = core();
    portal.start_up(
        &[],
        &[
            ("organization", true),
            ("camel-clubs", false),
            ("group", true),
            ("camel-breeders", true),
        ],
    );
    assert_eq!(
        recorder.take(),
        [
            event(
                "register_blueprint",
                json!("group"),
                json!({ "blueprint": { "name": "camel-clubs", "url_prefix": "/camel-clubs" } }),
            ),
            event(
                "register_blueprint",
                json!("organization"),
                json!({ "blueprint": { "name": "camel-breeders", "url_prefix": "/camel-breeders" } }),
            ),
        ]
    );
    let registered: Vec<&str> = portal
        .blueprints()
        .iter()
        .map(|(b, _)| b.name.as_str())
        .collect();
    assert_eq!(
        registered,
        [
            "dataset",
            "resource",
            "group",
            "organization",
            "camel-clubs",
            "camel-breeders"
        ]
    );
}

/// The server's start-up announces the plugin-declared types before it serves anything (no
/// request is under way: no `request_started` around them), and serves their routes.
#[test]
fn a_server_started_with_plugin_declared_types_announces_them_then_serves_them() {
    let _iso = isolate();
    let recorder = Recorder::all();
    let portal = TestPortal::with(ServerOptions {
        signal_timeout: Duration::from_secs(2),
        dataset_types: vec!["camel-photos".into()],
        group_types: vec![("camel-clubs".into(), false), ("organization".into(), true)],
        ..ServerOptions::default()
    });
    let blueprint = |name: &str, url_prefix: &str| json!({ "blueprint": { "name": name, "url_prefix": url_prefix } });
    assert_eq!(
        take(&recorder),
        [
            event(
                "register_blueprint",
                json!("dataset"),
                blueprint("camel-photos", "/camel-photos"),
            ),
            event(
                "register_blueprint",
                json!("resource"),
                blueprint("camel-photos_resource", "/camel-photos/<id>/resource"),
            ),
            event(
                "register_blueprint",
                json!("group"),
                blueprint("camel-clubs", "/camel-clubs"),
            ),
        ]
    );
    let registered = portal.portal(|p| {
        p.blueprints()
            .iter()
            .map(|(b, sender)| (b.name.clone(), *sender))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        registered,
        [
            ("camel-photos".to_owned(), Some("dataset")),
            ("camel-photos_resource".to_owned(), Some("resource")),
            ("dataset".to_owned(), None),
            ("resource".to_owned(), None),
            ("group".to_owned(), None),
            ("organization".to_owned(), None),
            ("camel-clubs".to_owned(), Some("group")),
        ]
    );

    let photos = portal.get("/camel-photos", None);
    assert_eq!(photos.text, "The `camel-photos` blueprint.\n");
    let clubs = portal.get("/camel-clubs", None);
    assert_eq!(clubs.text, "The `camel-clubs` blueprint.\n");
    assert_eq!(
        take(&recorder),
        [
            http(vec![], finished(&photos, 200, TEXT)),
            http(vec![], finished(&clubs, 200, TEXT)),
        ]
        .concat()
    );
    // A file is downloaded through the plugin type's resource blueprint too.
    with_resources(&portal);
    recorder.take();
    let file = portal.get("/camel-photos/dataset-1/resource/resource-1/download", None);
    assert_eq!(file.text, CSV);
    assert_eq!(
        without_action_succeed(take(&recorder)),
        http(
            vec![event("resource_download", json!("resource-1"), Value::Null)],
            finished(&file, 200, OCTETS),
        )
    );
}

#[test]
fn user_created_is_sent_once_per_user_before_action_succeed_and_never_for_invalid_input() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let recorder = Recorder::all();
    // As the sysadmin: CKAN refuses `user_create` over the API to anyone else unless
    // `ckan.auth.create_user_via_api` is on.
    let token = Some(portal.admin_token.as_str());

    let data = json!({ "name": "alice", "email": "alice@example.org", "password": PASSWORD, "fullname": "Alice Liddell" });
    let reply = portal.action("user_create", &data, token);
    let alice = user_json(
        "user-2",
        "alice",
        "alice@example.org",
        Some("Alice Liddell"),
    );
    assert_eq!(reply.json["success"], true, "{}", reply.text);
    assert_eq!(reply.json["result"], alice);
    assert_eq!(
        take(&recorder),
        http(
            vec![
                event("user_created", json!("alice"), json!({ "user": alice })),
                event(
                    "action_succeed",
                    json!("user_create"),
                    json!({ "context": admin_json(), "data_dict": data, "result": alice }),
                ),
            ],
            finished(&reply, 200, JSON),
        )
    );

    // A taken name, a missing e-mail, a missing password, a short one: no user, so no
    // user_created (and no action_succeed), over the action API and the form alike.
    let invalid = [
        (
            json!({ "name": "alice", "email": "a2@example.org", "password": PASSWORD }),
            json!({ "__type": "Validation Error", "name": ["That login name is not available."] }),
        ),
        (
            json!({ "name": "bob", "password": PASSWORD }),
            json!({ "__type": "Validation Error", "email": ["Missing value"] }),
        ),
        (
            json!({ "name": "bob", "email": "bob@example.org" }),
            json!({ "__type": "Validation Error", "password": ["Missing value"] }),
        ),
        (
            json!({ "name": "bob", "email": "bob@example.org", "password": "short" }),
            json!({ "__type": "Validation Error", "password": ["Your password must be 8 characters or longer"] }),
        ),
    ];
    let mut expected = Vec::new();
    for (data, error) in invalid {
        let reply = portal.action("user_create", &data, token);
        assert_eq!(reply.json["success"], false, "{data}");
        assert_eq!(reply.json["error"], error, "{data}");
        expected.extend(http(vec![], finished(&reply, 409, JSON)));
    }
    let form = portal.post_form(
        "/user/register",
        &[
            ("name", "alice"),
            ("email", "a3@example.org"),
            ("password", PASSWORD),
        ],
        None,
    );
    assert!(form.text.contains("That login name is not available."));
    expected.extend(http(vec![], finished(&form, 409, TEXT)));
    assert_eq!(take(&recorder), expected);
    // bob was never created: only admin and alice are users, and logging in as bob fails.
    assert_eq!(portal.portal(|p| p.user_count()), Ok(2));
    let login = portal.post_form(
        "/user/login",
        &[("login", "bob"), ("password", PASSWORD)],
        None,
    );
    assert_eq!(
        take(&recorder),
        http(
            vec![event("failed_login", json!("bob"), Value::Null)],
            finished(&login, 401, TEXT),
        )
    );
}

#[test]
fn failed_login_carries_the_login_as_typed_and_logged_in_out_carry_the_user() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("alice", PASSWORD);
    let recorder = Recorder::all();

    let login = |login: &str, password: &str| {
        portal.post_form(
            "/user/login",
            &[("login", login), ("password", password)],
            None,
        )
    };
    let wrong = login("alice", "hunter2");
    // E-mail addresses are compared as typed.
    let upper = login("ALICE@example.org", PASSWORD);
    let empty = login("", "");
    let ok = login("alice@example.org", PASSWORD);
    let session = ok.session().expect("a session cookie");
    assert!(session.starts_with("ckan="), "{session}");
    let logout = portal.get("/user/_logout", Some(&session));
    // The session is over: nothing to send, the same redirect.
    let again = portal.get("/user/_logout", Some(&session));
    let anonymous = portal.get("/user/_logout", None);
    let headers = finished_headers(&recorder);

    let alice = user_json("user-2", "alice", "alice@example.org", None);
    let failed = |login: &str| event("failed_login", json!(login), Value::Null);
    assert_eq!(
        take(&recorder),
        [
            http(vec![failed("alice")], finished(&wrong, 401, TEXT)),
            http(
                vec![failed("ALICE@example.org")],
                finished(&upper, 401, TEXT)
            ),
            http(vec![failed("")], finished(&empty, 401, TEXT)),
            http(
                vec![event("logged_in", app(), json!({ "user": alice }))],
                finished(&ok, 302, TEXT),
            ),
            http(
                vec![event("logged_out", app(), json!({ "user": alice }))],
                finished(&logout, 302, TEXT),
            ),
            http(vec![], finished(&again, 302, TEXT)),
            http(vec![], finished(&anonymous, 302, TEXT)),
        ]
        .concat()
    );
    // request_finished saw the session cookie being set, then cleared.
    let cookie = |i: usize| {
        header(&headers[i], "set-cookie")
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header(&headers[0], "set-cookie"), None);
    assert!(
        cookie(3).starts_with(&format!("{session}; ")),
        "{}",
        cookie(3)
    );
    assert_eq!(header(&headers[3], "location"), Some("/dashboard/datasets"));
    assert_eq!(cookie(4), "ckan=; Path=/; Max-Age=0");
    assert_eq!(header(&headers[4], "location"), Some("/user/logged_out"));
}

#[test]
fn the_reset_flow_sends_request_then_perform_with_none_or_the_name_in_the_form() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("bob", "old password");
    let recorder = Recorder::all();

    let request = |user: &str| portal.post_form("/user/reset", &[("user", user)], None);
    let perform = |link: &str, password: &str, name: Option<&str>| {
        let mut form = vec![("password1", password), ("password2", password)];
        form.extend(name.map(|name| ("name", name)));
        portal.post_form(link, &form, None)
    };

    let requested = request("bob");
    let link = reset_link(&portal, "bob");
    assert!(link.starts_with("/user/reset/user-2?key="), "{link}");
    let performed = perform(&link, "battery staple", None);
    // The link is used: no second perform.
    let used = perform(&link, "again and again", None);
    assert!(used.text.contains("the reset link is invalid or used"));
    let requested_again = request("bob");
    let link = reset_link(&portal, "bob");
    // Two different passwords: nothing happens.
    let mismatch = portal.post_form(
        &link,
        &[("password1", "staple battery"), ("password2", "stapler")],
        None,
    );
    let performed_named = perform(&link, "staple battery", Some("bob"));
    let nobody = request("nobody");

    let bob = user_json("user-2", "bob", "bob@example.org", None);
    let requested_event = || {
        event(
            "request_password_reset",
            json!("bob"),
            json!({ "user": bob }),
        )
    };
    assert_eq!(
        without_action_succeed(take(&recorder)),
        [
            http(vec![requested_event()], finished(&requested, 302, TEXT)),
            http(
                vec![event(
                    "perform_password_reset",
                    Value::Null,
                    json!({ "user": bob })
                )],
                finished(&performed, 302, TEXT),
            ),
            http(vec![], finished(&used, 409, TEXT)),
            http(
                vec![requested_event()],
                finished(&requested_again, 302, TEXT)
            ),
            http(vec![], finished(&mismatch, 400, TEXT)),
            http(
                vec![event(
                    "perform_password_reset",
                    json!("bob"),
                    json!({ "user": bob })
                )],
                finished(&performed_named, 302, TEXT),
            ),
            http(vec![], finished(&nobody, 404, TEXT)),
        ]
        .concat()
    );
    // The new password is the one that works.
    assert_eq!(portal.login("bob", "battery staple"), None);
    assert_eq!(portal.login("bob", "old password"), None);
    assert!(portal.login("bob", "staple battery").is_some());
}

#[test]
fn resource_download_is_sent_for_uploads_only() {
    let _iso = isolate();
    let portal = TestPortal::start();
    with_resources(&portal);
    let recorder = Recorder::all();

    let upload = portal.get(&download("resource-1"), None);
    assert_eq!(upload.text, CSV);
    // A link is not served by the portal: a redirect to it.
    let link = portal.get(&download("resource-2"), None);
    assert_eq!(
        link.header("location"),
        Some("https://example.org/camels.csv")
    );
    let missing = portal.get(&download("resource-99"), None);
    assert!(missing.text.contains("resource `resource-99`"));
    let again = portal.get(&download("resource-1"), None);
    assert_eq!(again.text, CSV);
    let headers = finished_headers(&recorder);
    let downloaded = || event("resource_download", json!("resource-1"), Value::Null);
    assert_eq!(
        without_action_succeed(take(&recorder)),
        [
            http(vec![downloaded()], finished(&upload, 200, OCTETS)),
            http(vec![], finished(&link, 302, TEXT)),
            http(vec![], finished(&missing, 404, TEXT)),
            http(vec![downloaded()], finished(&again, 200, OCTETS)),
        ]
        .concat()
    );
    assert_eq!(
        header(&headers[1], "location"),
        Some("https://example.org/camels.csv")
    );
}

#[test]
fn action_succeed_is_sent_for_write_and_read_actions_with_context_data_dict_and_result() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let recorder = Recorder::all();
    let token = Some(portal.admin_token.as_str());

    let create = json!({ "name": "camels", "title": "Camels" });
    let created = portal.action("package_create", &create, token);
    // A read action over GET, anonymous: the query string is the data_dict.
    let shown = portal.get("/api/3/action/package_show?id=camels", None);
    let update = json!({ "id": "dataset-1", "title": "Camels, updated" });
    let updated = portal.action("package_update", &update, token);
    // Failing and unknown actions send nothing.
    let llamas = portal.action("package_show", &json!({ "id": "llamas" }), token);
    assert_eq!(
        llamas.json["error"],
        json!({ "__type": "Not Found Error", "message": "Not found: dataset `llamas`" })
    );
    let unknown = portal.action("package_delete", &json!({ "id": "camels" }), token);
    assert_eq!(
        unknown.json,
        json!("Bad request - Action name not known: package_delete")
    );
    let anonymous_create = portal.action("package_create", &json!({ "name": "goats" }), None);
    assert_eq!(
        anonymous_create.json["error"]["__type"],
        "Authorization Error"
    );
    let not_an_object = portal.action("package_create", &json!(["goats"]), token);
    assert_eq!(
        not_an_object.json,
        "Bad request - JSON Error: Request data JSON decoded to [\"goats\"] but it needs to be a dictionary."
    );

    let dataset = |title: &str| json!({ "id": "dataset-1", "name": "camels", "title": title, "resources": [] });
    for (reply, title) in [
        (&created, "Camels"),
        (&shown, "Camels"),
        (&updated, "Camels, updated"),
    ] {
        assert_eq!(reply.json["result"], dataset(title), "{}", reply.text);
    }
    assert_eq!(
        take(&recorder),
        [
            http(
                vec![event(
                    "action_succeed",
                    json!("package_create"),
                    json!({ "context": admin_json(), "data_dict": create, "result": dataset("Camels") }),
                )],
                finished(&created, 200, JSON),
            ),
            http(
                vec![event(
                    "action_succeed",
                    json!("package_show"),
                    json!({ "context": anonymous(), "data_dict": { "id": "camels" }, "result": dataset("Camels") }),
                )],
                finished(&shown, 200, JSON),
            ),
            http(
                vec![event(
                    "action_succeed",
                    json!("package_update"),
                    json!({ "context": admin_json(), "data_dict": update, "result": dataset("Camels, updated") }),
                )],
                finished(&updated, 200, JSON),
            ),
            http(vec![], finished(&llamas, 404, JSON)),
            http(vec![], finished(&unknown, 400, JSON)),
            http(vec![], finished(&anonymous_create, 403, JSON)),
            http(vec![], finished(&not_an_object, 400, JSON)),
        ]
        .concat()
    );
}

#[test]
fn datastore_upsert_carries_the_records_or_none_and_datastore_delete_result_and_data_dict() {
    let _iso = isolate();
    let portal = TestPortal::start();
    with_resources(&portal);
    let recorder = Recorder::all();
    let upsert = |data: &Value| portal.action("datastore_upsert", data, Some(&portal.admin_token));

    // As in CKAN, the signal carries the records the call gave, whether or not the call asks
    // for them back (`include_records`, default false); `None` only when it gave none.
    let records = json!([{ "name": "Humphrey" }, { "name": "Clyde" }]);
    let with_records = json!({ "resource_id": "resource-1", "records": records });
    let sandy = json!([{ "name": "Sandy" }]);
    let returning =
        json!({ "resource_id": "resource-1", "records": sandy, "include_records": true });
    let without = json!({ "resource_id": "resource-1" });
    let delete = json!({ "resource_id": "resource-1" });
    let upserted = json!({ "resource_id": "resource-1" });
    let returned = json!({ "resource_id": "resource-1", "records": sandy });

    let first = upsert(&with_records);
    assert_eq!(first.json["result"], upserted);
    let second = upsert(&returning);
    assert_eq!(second.json["result"], returned);
    let third = upsert(&without);
    assert_eq!(third.json["result"], upserted);
    let missing = upsert(&json!({ "resource_id": "resource-99", "records": [] }));
    assert_eq!(
        missing.json["error"],
        json!({ "__type": "Not Found Error", "message": "Not found: resource `resource-99`" })
    );
    let deleted = json!({ "resource_id": "resource-1", "deleted": 3 });
    let removed = portal.action("datastore_delete", &delete, Some(&portal.admin_token));
    assert_eq!(removed.json["result"], deleted);
    // A resource without datastore rows has no table: CKAN's NotFound, and no signal.
    let no_table = portal.action(
        "datastore_delete",
        &json!({ "resource_id": "resource-2" }),
        Some(&portal.admin_token),
    );
    assert_eq!(
        no_table.json["error"],
        json!({ "__type": "Not Found Error", "message": "Not found: datastore table `resource-2`" })
    );

    let succeed = |action: &str, data: &Value, result: &Value| {
        event(
            "action_succeed",
            json!(action),
            json!({ "context": admin_json(), "data_dict": data, "result": result }),
        )
    };
    assert_eq!(
        without_lookups(take(&recorder)),
        [
            http(
                vec![
                    event(
                        "datastore_upsert",
                        json!("resource-1"),
                        json!({ "records": records })
                    ),
                    succeed("datastore_upsert", &with_records, &upserted),
                ],
                finished(&first, 200, JSON),
            ),
            http(
                vec![
                    event(
                        "datastore_upsert",
                        json!("resource-1"),
                        json!({ "records": sandy })
                    ),
                    succeed("datastore_upsert", &returning, &returned),
                ],
                finished(&second, 200, JSON),
            ),
            http(
                vec![
                    event(
                        "datastore_upsert",
                        json!("resource-1"),
                        json!({ "records": null })
                    ),
                    succeed("datastore_upsert", &without, &upserted),
                ],
                finished(&third, 200, JSON),
            ),
            http(vec![], finished(&missing, 404, JSON)),
            http(
                vec![
                    event(
                        "datastore_delete",
                        json!("resource-1"),
                        json!({ "result": deleted, "data_dict": delete }),
                    ),
                    succeed("datastore_delete", &delete, &deleted),
                ],
                finished(&removed, 200, JSON),
            ),
            http(vec![], finished(&no_table, 404, JSON)),
        ]
        .concat()
    );
}

/// A by-name receiver's view of one send: the sender key, the kwargs' names, and what it read.
type Seen = Arc<Mutex<Vec<String>>>;

fn seen_log() -> (Seen, Seen) {
    let seen: Seen = Arc::default();
    (seen.clone(), seen)
}

#[test]
fn by_name_receivers_read_the_same_sends_through_dyn_kwargs() -> Result<(), signals_core::Error> {
    let _iso = isolate();
    let portal = TestPortal::start();
    with_resources(&portal);
    portal.register("alice", PASSWORD);
    let recorder = Recorder::all();

    let (seen, log) = seen_log();
    let _logged_in = signals::ckan()
        .signal("logged_in")?
        .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            let user = kwargs.get::<User>("user").map(|u| u.email.clone());
            log.lock()
                .unwrap()
                .push(format!("logged_in {sender} {:?} {user:?}", kwargs.names()));
        })
        .scoped();
    let log = seen.clone();
    let _upsert = signals::ckanext()
        .signal("datastore_upsert")?
        .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            let records = kwargs
                .get::<Option<Value>>("records")
                .map(|r| r.as_ref().and_then(Value::as_array).map(Vec::len));
            let missing = kwargs.try_get::<Value>("record").unwrap_err().to_string();
            let whole = kwargs.downcast_ref::<DatastoreUpsert>().is_some();
            log.lock()
                .unwrap()
                .push(format!("upsert {sender} {records:?} {whole} {missing}"));
        })
        .scoped();
    let log = seen.clone();
    // Only sends from `package_create`.
    let _create = signals::ckan()
        .signal("action_succeed")?
        .connect(
            Receiver::new(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
                let user = kwargs
                    .get::<ActionContext>("context")
                    .and_then(|c| c.user.clone());
                let name = kwargs
                    .downcast_ref::<ActionSucceeded>()
                    .and_then(|ev| ev.result.get("name").cloned());
                log.lock()
                    .unwrap()
                    .push(format!("action {sender} {user:?} {name:?}"));
            })
            .sender("package_create"),
        )
        .scoped();
    let log = seen.clone();
    // The layer's sends, read by name too.
    let _finished = signals::ckan()
        .signal("request_finished")?
        .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            let status = kwargs.get::<Response>("response").map(|r| r.status);
            log.lock()
                .unwrap()
                .push(format!("request_finished {sender} {status:?}"));
        })
        .scoped();
    let log = seen.clone();
    // The alias is not the registered name: nothing is ever sent to `ckan.user_logged_in`.
    let _alias = signals::ckan()
        .signal("user_logged_in")?
        .connect(move |sender: &SenderKey<'_>, _: &dyn Kwargs| {
            log.lock().unwrap().push(format!("user_logged_in {sender}"));
        })
        .scoped();

    assert!(portal.login("alice", PASSWORD).is_some());
    portal.admin_action(
        "datastore_upsert",
        &json!({ "resource_id": "resource-1", "records": [{ "a": 1 }, { "a": 2 }] }),
    );
    portal.admin_action("datastore_upsert", &json!({ "resource_id": "resource-1" }));
    portal.admin_action("package_show", &json!({ "id": "camels" }));
    portal.admin_action("package_create", &json!({ "name": "llamas" }));

    assert_eq!(
        *seen.lock().unwrap(),
        [
            r#"logged_in "ckan" ["user"] Some("alice@example.org")"#,
            r#"request_finished "ckan" Some(302)"#,
            r#"upsert "resource-1" Some(Some(2)) true no keyword argument named `record`; the arguments are: records"#,
            r#"request_finished "ckan" Some(200)"#,
            r#"upsert "resource-1" Some(None) true no keyword argument named `record`; the arguments are: records"#,
            r#"request_finished "ckan" Some(200)"#,
            r#"request_finished "ckan" Some(200)"#,
            r#"action "package_create" Some("admin") Some(String("llamas"))"#,
            r#"request_finished "ckan" Some(200)"#,
        ]
    );
    // The typed receivers saw the same sends.
    let log = recorder.log();
    assert_eq!(log.count("request_started"), 5);
    assert_eq!(log.count("request_finished"), 5);
    assert_eq!(log.count("logged_in"), 1);
    assert_eq!(log.count("datastore_upsert"), 2);
    // Four actions called, and each upsert's own `resource_show` (which calls `package_show`).
    assert_eq!(log.count("action_succeed"), 8);
    Ok(())
}

/// `(alias, namespace, registered name, declaring type)` for each built-in signal.
fn built_ins() -> [(NamedSignal, &'static str, &'static str, &'static str); 13] {
    [
        (
            signals::request_started().named(),
            "ckan",
            "request_started",
            "RequestStarted",
        ),
        (
            signals::request_finished().named(),
            "ckan",
            "request_finished",
            "RequestFinished",
        ),
        (
            signals::register_blueprint().named(),
            "ckan",
            "register_blueprint",
            "RegisterBlueprint",
        ),
        (
            signals::resource_download().named(),
            "ckan",
            "resource_download",
            "ResourceDownload",
        ),
        (
            signals::user_logged_in().named(),
            "ckan",
            "logged_in",
            "UserLoggedIn",
        ),
        (
            signals::user_logged_out().named(),
            "ckan",
            "logged_out",
            "UserLoggedOut",
        ),
        (
            signals::failed_login().named(),
            "ckan",
            "failed_login",
            "FailedLogin",
        ),
        (
            signals::user_created().named(),
            "ckan",
            "user_created",
            "UserCreated",
        ),
        (
            signals::request_password_reset().named(),
            "ckan",
            "request_password_reset",
            "RequestPasswordReset",
        ),
        (
            signals::perform_password_reset().named(),
            "ckan",
            "perform_password_reset",
            "PerformPasswordReset",
        ),
        (
            signals::action_succeeded().named(),
            "ckan",
            "action_succeed",
            "ActionSucceeded",
        ),
        (
            signals::datastore_upsert().named(),
            "ckanext",
            "datastore_upsert",
            "DatastoreUpsert",
        ),
        (
            signals::datastore_delete().named(),
            "ckanext",
            "datastore_delete",
            "DatastoreDelete",
        ),
    ]
}

#[test]
fn toolkit_aliases_and_registered_names_reach_the_same_signals() -> Result<(), signals_core::Error>
{
    for (alias, namespace, name, rust_type) in built_ins() {
        let by_name = Namespace::get(namespace)?.signal(name)?;
        assert_eq!(alias, by_name, "{namespace}.{name}");
        assert_eq!(alias.qualified_name(), format!("{namespace}.{name}"));
        assert_eq!(
            alias.declaration().map(|d| d.type_name),
            Some(format!("ckan_signals::signals::{rust_type}").as_str())
        );
    }
    assert_eq!(signals::ckan(), Namespace::get("ckan")?);
    assert_eq!(signals::ckanext(), Namespace::get("ckanext")?);
    // The three aliases that differ from their registered names are other (empty) signals,
    // and the datastore signals live in `ckanext`, not `ckan`.
    let ckan = signals::ckan();
    assert_ne!(
        signals::user_logged_in().named(),
        ckan.signal("user_logged_in")?
    );
    assert_ne!(
        signals::user_logged_out().named(),
        ckan.signal("user_logged_out")?
    );
    assert_ne!(
        signals::action_succeeded().named(),
        ckan.signal("action_succeeded")?
    );
    assert_ne!(
        signals::datastore_upsert().named(),
        ckan.signal("datastore_upsert")?
    );
    assert_eq!(
        ckan.signal("action_succeeded")?
            .declaration()
            .map(|d| d.type_name),
        None
    );

    // A send through the alias (the portal's logout) reaches a receiver connected by
    // registered name, and back.
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("carol", PASSWORD);
    let session = portal.login("carol", PASSWORD).expect("carol logs in");
    let (seen, log) = seen_log();
    let _by_name = ckan
        .signal("logged_out")?
        .connect(move |sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
            log.lock()
                .unwrap()
                .push(format!("{sender} {:?}", kwargs.names()));
        })
        .scoped();
    let recorder = Recorder::all();
    let logout = portal.get("/user/_logout", Some(&session));
    assert_eq!(*seen.lock().unwrap(), [r#""ckan" ["user"]"#]);
    let carol = user_json("user-2", "carol", "carol@example.org", None);
    assert_eq!(
        take(&recorder),
        http(
            vec![event("logged_out", app(), json!({ "user": carol }))],
            finished(&logout, 302, TEXT),
        )
    );
    Ok(())
}

#[test]
fn the_registry_declares_all_13_with_their_senders_and_kwargs() {
    let declared: Vec<(&str, &str, &str, &str, String)> = signals_core::registry()
        .signals()
        .iter()
        .filter(|d| d.crate_name() == "ckan-signals")
        .map(|d| {
            let kwargs: Vec<String> = d
                .kwargs()
                .iter()
                .map(|k| format!("{}: {}", k.name(), k.type_name()))
                .collect();
            (
                d.namespace(),
                d.name(),
                d.rust_type(),
                d.sender_type(),
                kwargs.join(", "),
            )
        })
        .collect();
    let expected = [
        (
            "ckan",
            "action_succeed",
            "ActionSucceeded",
            "str",
            "context: ActionContext, data_dict: Value, result: Value",
        ),
        ("ckan", "failed_login", "FailedLogin", "str", ""),
        ("ckan", "logged_in", "UserLoggedIn", "WebApp", "user: User"),
        (
            "ckan",
            "logged_out",
            "UserLoggedOut",
            "WebApp",
            "user: User",
        ),
        (
            "ckan",
            "perform_password_reset",
            "PerformPasswordReset",
            "Option<String>",
            "user: User",
        ),
        (
            "ckan",
            "register_blueprint",
            "RegisterBlueprint",
            "str",
            "blueprint: Blueprint",
        ),
        (
            "ckan",
            "request_finished",
            "RequestFinished",
            "WebApp",
            "response: Response",
        ),
        (
            "ckan",
            "request_password_reset",
            "RequestPasswordReset",
            "str",
            "user: User",
        ),
        ("ckan", "request_started", "RequestStarted", "WebApp", ""),
        ("ckan", "resource_download", "ResourceDownload", "str", ""),
        ("ckan", "user_created", "UserCreated", "str", "user: User"),
        (
            "ckanext",
            "datastore_delete",
            "DatastoreDelete",
            "str",
            "result: Value, data_dict: Value",
        ),
        (
            "ckanext",
            "datastore_upsert",
            "DatastoreUpsert",
            "str",
            "records: Option<Value>",
        ),
    ];
    let expected: Vec<(&str, &str, String, &str, String)> = expected
        .iter()
        .map(|&(ns, name, ty, sender, kwargs)| {
            (
                ns,
                name,
                format!("ckan_signals::signals::{ty}"),
                sender,
                kwargs.to_owned(),
            )
        })
        .collect();
    let declared: Vec<(&str, &str, String, &str, String)> = declared
        .into_iter()
        .map(|(ns, name, ty, sender, kwargs)| (ns, name, ty.to_owned(), sender, kwargs))
        .collect();
    assert_eq!(declared, expected);
    assert_eq!(
        signals_core::registry()
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
}

/// `(qualified name, [(subscriber, plugin, sender, connected)])` for the 13 built-in signals.
fn listed_subscribers() -> Vec<(String, Vec<String>)> {
    let listing = signals_core::listing();
    let mut found = Vec::new();
    for (_, namespace, name, _) in built_ins() {
        let entry = listing
            .signals
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
            .unwrap_or_else(|| panic!("{namespace}.{name} is not listed"));
        assert_eq!(
            entry.declaration.map(|d| d.crate_name()),
            Some("ckan-signals")
        );
        let subscribers = entry
            .subscribers
            .iter()
            .map(|s| {
                format!(
                    "{} ({}, {}, {})",
                    s.name,
                    s.plugin.as_deref().unwrap_or("-"),
                    s.sender,
                    if s.connected {
                        "connected"
                    } else {
                        "not connected"
                    }
                )
            })
            .collect();
        found.push((format!("{namespace}.{name}"), subscribers));
    }
    found
}

fn expected_subscribers(state: &str) -> Vec<(String, Vec<String>)> {
    let one = |line: &str| vec![format!("{line}, {state})")];
    vec![
        ("ckan.request_started".into(), vec![]),
        ("ckan.request_finished".into(), vec![]),
        ("ckan.register_blueprint".into(), vec![]),
        (
            "ckan.resource_download".into(),
            one("ckanext_stats::download (stats, any sender"),
        ),
        (
            "ckan.logged_in".into(),
            one("ckanext_audit::logged_in (audit, any sender"),
        ),
        ("ckan.logged_out".into(), vec![]),
        (
            "ckan.failed_login".into(),
            one("ckanext_audit::failed_login (audit, any sender"),
        ),
        (
            "ckan.user_created".into(),
            one("ckanext_audit::user_created (audit, any sender"),
        ),
        (
            "ckan.request_password_reset".into(),
            one("ckanext_audit::reset_requested (audit, any sender"),
        ),
        (
            "ckan.perform_password_reset".into(),
            one("ckanext_audit::reset_performed (audit, any sender"),
        ),
        // The activity plugin subscribes in code: listed only while it is loaded. The notify
        // plugin's webhook is a link-time (async) subscriber: listed either way.
        (
            "ckan.action_succeed".into(),
            if state == "connected" {
                ["package_create", "package_update", "resource_create"]
                    .iter()
                    .zip(["package_created", "package_updated", "resource_created"])
                    .map(|(action, f)| {
                        format!("ckanext_activity::{f} (activity, sender \"{action}\", connected)")
                    })
                    .chain(one(
                        "ckanext_notify::webhook (notify, sender \"package_create\"",
                    ))
                    .collect()
            } else {
                one("ckanext_notify::webhook (notify, sender \"package_create\"")
            },
        ),
        (
            "ckanext.datastore_upsert".into(),
            one("ckanext_stats::upsert (stats, any sender"),
        ),
        (
            "ckanext.datastore_delete".into(),
            one("ckanext_stats::delete (stats, any sender"),
        ),
    ]
}

#[test]
fn the_listing_shows_all_13_with_namespace_kwargs_and_subscribers() {
    let _iso = isolate();
    // No plugin loaded: the plugins' link-time subscribers are listed, not connected.
    assert_eq!(listed_subscribers(), expected_subscribers("not connected"));
    ckan_signals::host::load_plugins(&["activity", "audit", "stats", "notify"]).expect("load");
    assert_eq!(listed_subscribers(), expected_subscribers("connected"));

    let listing = signals_core::listing();
    let text = listing.to_string();
    for (_, namespace, name, rust_type) in built_ins() {
        assert!(
            text.contains(&format!("\n{namespace}.{name}\n"))
                || text.starts_with(&format!("{namespace}.{name}\n")),
            "{namespace}.{name} missing from:\n{text}"
        );
        assert!(text.contains(&format!(
            "    declared by ckan_signals::signals::{rust_type} at ckan-signals/src/signals.rs:"
        )));
    }
    assert!(text.contains("\nckan.logged_in\n    Sent after a user logged in. Registered as `logged_in` (CKAN 2.11+).\n"));
    assert!(text.contains("    sender: Option<String>  output: ()\n    kwargs: user: User\n"));
    assert!(text.contains("      ckanext_audit::failed_login (any sender, plugin audit) at examples/plugins/audit/src/lib.rs:"));
    assert!(text.contains("  audit ((subscribers only), loaded)\n"));
    assert!(text.contains("  activity (ckanext_activity::ActivityPlugin, loaded)\n"));

    let json = serde_json::to_value(&listing).expect("the listing is JSON");
    let names: Vec<String> = json["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .filter(|s| s["declaration"]["crate_name"] == "ckan-signals")
        .map(|s| {
            format!(
                "{}.{}",
                s["namespace"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    let mut expected: Vec<String> = built_ins()
        .iter()
        .map(|(_, ns, name, _)| format!("{ns}.{name}"))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
}

/// The names of one HTTP request's events: `request_started`, `inner`, `request_finished`.
fn request_of(inner: &[&'static str]) -> Vec<&'static str> {
    let mut names = vec!["request_started"];
    names.extend_from_slice(inner);
    names.push("request_finished");
    names
}

/// Every event a whole portal session records, from the server's start-up to the logout.
#[test]
fn a_whole_session_records_every_built_in_signal() {
    let _iso = isolate();
    let recorder = Recorder::all();
    let portal = TestPortal::with(ServerOptions {
        signal_timeout: Duration::from_secs(2),
        dataset_types: vec!["camel-photos".into()],
        ..ServerOptions::default()
    });
    let token = Some(portal.admin_token.as_str());
    let ok = |reply: Reply| {
        assert!(reply.status < 400, "{}: {}", reply.status, reply.text);
        reply
    };
    portal.register("alice", PASSWORD);
    assert_eq!(portal.login("alice", "nope"), None);
    let session = portal.login("alice", PASSWORD).expect("login");
    ok(portal.action("package_create", &json!({ "name": "camels" }), token));
    ok(portal.action(
        "resource_create",
        &json!({ "package_id": "camels", "upload": "x" }),
        token,
    ));
    let file = ok(portal.get(
        "/camel-photos/dataset-1/resource/resource-1/download",
        Some(&session),
    ));
    assert_eq!(file.text, "x");
    ok(portal.action(
        "datastore_upsert",
        &json!({ "resource_id": "resource-1", "records": [{ "a": 1 }] }),
        token,
    ));
    ok(portal.action(
        "datastore_delete",
        &json!({ "resource_id": "resource-1" }),
        token,
    ));
    ok(portal.post_form("/user/reset", &[("user", "alice")], None));
    let link = reset_link(&portal, "alice");
    ok(portal.post_form(
        &link,
        &[
            ("password1", "a new password"),
            ("password2", "a new password"),
        ],
        None,
    ));
    ok(portal.get("/", None));
    ok(portal.get("/user/_logout", Some(&session)));

    let names: Vec<&str> = take(&recorder).iter().map(|e: &Event| e.signal).collect();
    let expected = [
        // start-up, before any request
        vec!["register_blueprint", "register_blueprint"],
        request_of(&["user_created", "action_succeed"]),
        request_of(&["failed_login"]),
        request_of(&["logged_in"]),
        request_of(&["action_succeed"]),
        request_of(&["action_succeed"]),
        // download: resource_show (calling package_show), then package_show
        request_of(&[
            "action_succeed",
            "action_succeed",
            "action_succeed",
            "resource_download",
        ]),
        // datastore_upsert: resource_show (calling package_show) first
        request_of(&[
            "action_succeed",
            "action_succeed",
            "datastore_upsert",
            "action_succeed",
        ]),
        request_of(&[
            "action_succeed",
            "action_succeed",
            "datastore_delete",
            "action_succeed",
        ]),
        // reset: user_show; then user_show and user_update
        request_of(&["action_succeed", "request_password_reset"]),
        request_of(&["action_succeed", "action_succeed", "perform_password_reset"]),
        request_of(&[]),
        request_of(&["logged_out"]),
    ]
    .concat();
    assert_eq!(names, expected);
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 13);
    assert_eq!(
        portal.portal(|p| p.receiver_failures()),
        Vec::<String>::new()
    );
}

/// The events, without the `action_succeed` sends (tests of other signals).
fn without_action_succeed(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter(|e| e.signal != "action_succeed")
        .collect()
}

/// The events, without the `action_succeed` sends of the `package_show` and `resource_show`
/// lookups an action makes.
fn without_lookups(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter(|e| {
            e.signal != "action_succeed"
                || !matches!(e.sender.as_str(), Some("package_show" | "resource_show"))
        })
        .collect()
}

/// `(signal, sender)` of each event.
fn signals_and_senders(events: &[Event]) -> Vec<(&'static str, Value)> {
    events
        .iter()
        .map(|e| (e.signal, e.sender.clone()))
        .collect()
}

/// `(signal, sender)` of one HTTP request's events: `request_started`, `inner`,
/// `request_finished`, all three from the web app but the inner ones.
fn request_senders(inner: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut events = vec![("request_started", app())];
    events.extend_from_slice(inner);
    events.push(("request_finished", app()));
    events
}

/// The `request_finished` events, with their headers already removed by [`take`].
fn responses(events: &[Event]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.signal == "request_finished")
        .map(|e| e.kwargs["response"].clone())
        .collect()
}

/// CKAN's download view calls `get_action('resource_show')` (which calls
/// `get_action('package_show')`), then `get_action('package_show')`: three `action_succeed`
/// sends, in the downloader's context, before `resource_download` (links too, without it).
#[test]
fn a_download_sends_action_succeed_for_its_lookups_as_ckan_does() {
    let _iso = isolate();
    let portal = TestPortal::start();
    with_resources(&portal);
    portal.register("alice", PASSWORD);
    let session = portal.login("alice", PASSWORD).expect("login");
    let recorder = Recorder::all();
    let file = portal.get(&download("resource-1"), Some(&session));
    let link = portal.get(&download("resource-2"), Some(&session));
    let events = take(&recorder);
    let lookups = [
        ("action_succeed", json!("package_show")),
        ("action_succeed", json!("resource_show")),
        ("action_succeed", json!("package_show")),
    ];
    let mut with_download = lookups.to_vec();
    with_download.push(("resource_download", json!("resource-1")));
    assert_eq!(
        signals_and_senders(&events),
        [request_senders(&with_download), request_senders(&lookups)].concat()
    );
    assert_eq!(
        responses(&events),
        [
            finished(&file, 200, OCTETS).kwargs["response"].clone(),
            finished(&link, 302, TEXT).kwargs["response"].clone(),
        ]
    );
    let alice = json!({ "user": "alice", "ignore_auth": false });
    assert_eq!(events[1].kwargs["context"], alice);
    assert_eq!(
        events[1].kwargs["data_dict"],
        json!({ "id": "dataset-1", "include_tracking": false })
    );
    assert_eq!(events[2].kwargs["data_dict"], json!({ "id": "resource-1" }));
    assert_eq!(events[2].kwargs["result"]["id"], json!("resource-1"));
    assert_eq!(events[3].kwargs["data_dict"], json!({ "id": "dataset-1" }));
    let succeeded: Vec<&Event> = events
        .iter()
        .filter(|e| e.signal == "action_succeed")
        .collect();
    assert_eq!(succeeded.len(), 6);
    assert!(succeeded.iter().all(|e| e.kwargs["context"] == alice));
    // Anonymous, the context has no user.
    portal.get(&download("resource-1"), None);
    let events = take(&recorder);
    assert_eq!(events[1].kwargs["context"], anonymous());
    // An unknown resource: `resource_show` fails, nothing is sent but the request's own.
    let missing = portal.get(&download("resource-99"), Some(&session));
    assert_eq!(take(&recorder), http(vec![], finished(&missing, 404, TEXT)));
}

/// CKAN's reset views: the request calls `get_action('user_show')` with auth ignored; the
/// perform calls `user_show`, then `user_update` with the new password and reset key, in the
/// context of the user being reset, then sends `perform_password_reset`.
#[test]
fn the_reset_flow_sends_action_succeed_for_user_show_and_user_update() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("bob", "old password");
    let recorder = Recorder::all();
    let requested = portal.post_form("/user/reset", &[("user", "bob")], None);
    let link = reset_link(&portal, "bob");
    let performed = portal.post_form(
        &link,
        &[
            ("password1", "battery staple"),
            ("password2", "battery staple"),
        ],
        None,
    );
    let events = take(&recorder);
    assert_eq!(
        signals_and_senders(&events),
        [
            request_senders(&[
                ("action_succeed", json!("user_show")),
                ("request_password_reset", json!("bob")),
            ]),
            request_senders(&[
                ("action_succeed", json!("user_show")),
                ("action_succeed", json!("user_update")),
                ("perform_password_reset", Value::Null),
            ]),
        ]
        .concat()
    );
    assert_eq!(
        responses(&events),
        [
            finished(&requested, 302, TEXT).kwargs["response"].clone(),
            finished(&performed, 302, TEXT).kwargs["response"].clone(),
        ]
    );
    let bob = user_json("user-2", "bob", "bob@example.org", None);
    assert_eq!(
        events[1].kwargs,
        json!({
            "context": { "user": null, "ignore_auth": true },
            "data_dict": { "id": "bob" },
            "result": bob,
        })
    );
    assert_eq!(
        events[5].kwargs["context"],
        json!({ "user": "bob", "ignore_auth": false })
    );
    let mut update = bob.clone();
    update["password"] = json!("battery staple");
    update["reset_key"] = json!(key_of(&link));
    assert_eq!(
        events[6].kwargs,
        json!({
            "context": { "user": "bob", "ignore_auth": false },
            "data_dict": update,
            "result": bob,
        })
    );
    // An unknown user: `user_show` fails, nothing is sent but the request's own.
    let nobody = portal.post_form("/user/reset", &[("user", "nobody")], None);
    assert_eq!(take(&recorder), http(vec![], finished(&nobody, 404, TEXT)));
}

/// CKAN's `datastore_upsert` and `datastore_delete` look the resource up with
/// `get_action('resource_show')` first, in the caller's context.
#[test]
fn datastore_actions_send_action_succeed_for_their_resource_show() {
    let _iso = isolate();
    let portal = TestPortal::start();
    with_resources(&portal);
    let recorder = Recorder::all();
    let token = Some(portal.admin_token.as_str());
    let upsert = portal.action(
        "datastore_upsert",
        &json!({ "resource_id": "resource-1", "records": [{ "a": 1 }] }),
        token,
    );
    let delete = portal.action(
        "datastore_delete",
        &json!({ "resource_id": "resource-1" }),
        token,
    );
    let events = take(&recorder);
    assert_eq!(
        signals_and_senders(&events),
        [
            request_senders(&[
                ("action_succeed", json!("package_show")),
                ("action_succeed", json!("resource_show")),
                ("datastore_upsert", json!("resource-1")),
                ("action_succeed", json!("datastore_upsert")),
            ]),
            request_senders(&[
                ("action_succeed", json!("package_show")),
                ("action_succeed", json!("resource_show")),
                ("datastore_delete", json!("resource-1")),
                ("action_succeed", json!("datastore_delete")),
            ]),
        ]
        .concat()
    );
    assert_eq!(
        responses(&events),
        [
            finished(&upsert, 200, JSON).kwargs["response"].clone(),
            finished(&delete, 200, JSON).kwargs["response"].clone(),
        ]
    );
    for lookup in [&events[1], &events[2], &events[7], &events[8]] {
        assert_eq!(lookup.kwargs["context"], admin_json(), "{lookup:?}");
    }
    assert_eq!(events[2].kwargs["data_dict"], json!({ "id": "resource-1" }));
    assert_eq!(events[8].kwargs["data_dict"], json!({ "id": "resource-1" }));
    // An unknown resource: `resource_show` fails first, nothing is sent but the request's own.
    let missing = portal.action(
        "datastore_upsert",
        &json!({ "resource_id": "resource-99" }),
        token,
    );
    assert_eq!(
        missing.json["error"],
        json!({ "__type": "Not Found Error", "message": "Not found: resource `resource-99`" })
    );
    assert_eq!(take(&recorder), http(vec![], finished(&missing, 404, JSON)));
}
