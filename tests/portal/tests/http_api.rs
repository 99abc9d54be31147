//! What a CKAN client relies on, over real HTTP: the action API's envelope and content type,
//! each error's status and `__type`, read actions over `GET`, the unversioned path, the API
//! token in the `Authorization` header, the login session cookie; `user_create`'s commit
//! (`user_created` is sent before it, and a failing receiver rolls the user back); the
//! `notify` plugin's webhook, a real POST that may fail without failing the action.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ckan_portal::server::ServerOptions;
use ckan_signals::host;
use ckan_signals::{ActionSucceeded, UserCreated, UserLoggedIn, UserLoggedOut};
use portal_tests::{event, isolate, record, Log, Reply, TestPortal};
use serde_json::{json, Value};
use signals_core::{NamedSignal, Receiver, ReceiverInfo, Signal};

const JSON: &str = "application/json;charset=utf-8";

/// The `help` link of the envelope: always the v3 `help_show` of the action.
fn help(portal: &TestPortal, name: &str) -> String {
    format!("{}/api/3/action/help_show?name={name}", portal.url())
}

fn success(portal: &TestPortal, name: &str, result: Value) -> Value {
    json!({ "help": help(portal, name), "success": true, "result": result })
}

fn failure(portal: &TestPortal, name: &str, error: Value) -> Value {
    json!({ "help": help(portal, name), "success": false, "error": error })
}

/// The answer to a bad request, as CKAN's `_finish_bad_request` gives it: a bare JSON string
/// `Bad request - ...`, no envelope.
fn bad_request(_portal: &TestPortal, _name: &str, message: &str) -> Value {
    json!(format!("Bad request - {message}"))
}

/// Asserts a JSON answer exactly: its status, CKAN's JSON content type and its body.
#[track_caller]
fn assert_json(reply: &Reply, status: u16, body: &Value) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some(JSON), "{}", reply.text);
    assert_eq!(&reply.json, body, "{}", reply.text);
}

fn api_url(portal: &TestPortal, path: &str) -> String {
    format!("{}{path}", portal.url())
}

/// `POST path` with a raw body sent as JSON, and extra headers.
fn post_raw(portal: &TestPortal, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = portal
        .client()
        .post(api_url(portal, path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    portal.send(request)
}

/// `POST /api/3/action/{name}` with a JSON body and extra headers.
fn post_action(portal: &TestPortal, name: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    post_raw(
        portal,
        &format!("/api/3/action/{name}"),
        &body.to_string(),
        headers,
    )
}

fn user_json(id: &str, name: &str, email: &str, sysadmin: bool) -> Value {
    json!({ "id": id, "name": name, "email": email, "fullname": null, "sysadmin": sysadmin })
}

/// The sysadmin as an anonymous caller sees it: without the e-mail address (CKAN shows it
/// only to the user themselves and to sysadmins).
fn admin_user_public() -> Value {
    json!({ "id": "user-1", "name": "admin", "fullname": null, "sysadmin": true })
}

fn admin_user() -> Value {
    user_json("user-1", "admin", "admin@localhost", true)
}

fn camels() -> Value {
    json!({ "id": "dataset-1", "name": "camels", "title": "Camels", "resources": [] })
}

/// The connection named `name` on `signal`: its name, location and plugin, as failures show
/// them.
fn receiver_info(signal: NamedSignal, name: &str) -> Arc<ReceiverInfo> {
    signal
        .connections()
        .into_iter()
        .find(|c| c.receiver.name == name)
        .unwrap_or_else(|| panic!("no receiver `{name}` on {signal}"))
        .receiver
}

fn is_token(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn a_successful_action_answers_ckans_envelope_as_json() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let reply = portal.action(
        "package_create",
        &json!({ "name": "camels", "title": "Camels" }),
        Some(&portal.admin_token),
    );
    assert_json(&reply, 200, &success(&portal, "package_create", camels()));
    assert!(reply.json["help"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    // The body is that one JSON document, nothing around it.
    assert_eq!(
        serde_json::from_str::<Value>(&reply.text).unwrap(),
        reply.json
    );
    let resource = portal.action(
        "resource_create",
        &json!({ "package_id": "dataset-1", "url": "https://example.org/camels.csv" }),
        Some(&portal.admin_token),
    );
    assert_json(
        &resource,
        200,
        &success(
            &portal,
            "resource_create",
            json!({
                "id": "resource-1",
                "package_id": "dataset-1",
                "url_type": "link",
                "url": "https://example.org/camels.csv",
            }),
        ),
    );
}

#[test]
fn read_actions_answer_get_with_query_parameters() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.admin_action(
        "package_create",
        &json!({ "name": "camels", "title": "Camels" }),
    );
    portal.admin_action(
        "resource_create",
        &json!({ "package_id": "camels", "upload": "a,b\n" }),
    );
    let resource = json!({
        "id": "resource-1", "package_id": "dataset-1", "url_type": "upload", "url": null,
    });
    let dataset = json!({
        "id": "dataset-1", "name": "camels", "title": "Camels", "resources": [resource],
    });
    // Anonymous reads, by name or id; an unknown parameter is ignored.
    for query in [
        "id=camels",
        "id=dataset-1",
        "id=camels&include_tracking=false",
    ] {
        let reply = portal.get(&format!("/api/3/action/package_show?{query}"), None);
        assert_json(
            &reply,
            200,
            &success(&portal, "package_show", dataset.clone()),
        );
    }
    let reply = portal.get("/api/3/action/resource_show?id=resource-1", None);
    assert_json(&reply, 200, &success(&portal, "resource_show", resource));
    let reply = portal.get("/api/3/action/user_show?id=admin", None);
    assert_json(
        &reply,
        200,
        &success(&portal, "user_show", admin_user_public()),
    );
    // The sysadmin sees its own e-mail address.
    let own = portal.send(
        portal
            .client()
            .get(format!("{}/api/3/action/user_show?id=admin", portal.url()))
            .header("authorization", &portal.admin_token),
    );
    assert_json(&own, 200, &success(&portal, "user_show", admin_user()));
    // Percent-encoded values are decoded.
    let reply = portal.get("/api/3/action/user_show?id=user%2D1", None);
    assert_json(
        &reply,
        200,
        &success(&portal, "user_show", admin_user_public()),
    );
    // No parameter: the validation error of the missing `id`.
    let reply = portal.get("/api/3/action/package_show", None);
    assert_json(
        &reply,
        409,
        &failure(
            &portal,
            "package_show",
            json!({ "__type": "Validation Error", "id": ["Missing value"] }),
        ),
    );
}

#[test]
fn the_unversioned_path_is_the_same_api() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let token = portal.admin_token.clone();
    let reply = post_raw(
        &portal,
        "/api/action/package_create",
        r#"{"name": "camels", "title": "Camels"}"#,
        &[("authorization", &token)],
    );
    // The `help` link is the v3 one, as CKAN's (`ver` defaults to 3).
    assert_json(&reply, 200, &success(&portal, "package_create", camels()));
    let reply = portal.get("/api/action/package_show?id=camels", None);
    assert_json(&reply, 200, &success(&portal, "package_show", camels()));
    let reply = post_raw(&portal, "/api/action/package_show", "", &[]);
    assert_json(
        &reply,
        409,
        &failure(
            &portal,
            "package_show",
            json!({ "__type": "Validation Error", "id": ["Missing value"] }),
        ),
    );
    let reply = post_raw(&portal, "/api/action/no_such_action", "{}", &[]);
    assert_json(
        &reply,
        400,
        &bad_request(
            &portal,
            "no_such_action",
            "Action name not known: no_such_action",
        ),
    );
}

#[test]
fn validation_errors_answer_409_with_each_fields_messages() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let token = portal.admin_token.clone();
    let validation = |field: &str, message: &str| {
        let mut error = json!({ "__type": "Validation Error" });
        error[field] = json!([message]);
        error
    };
    let cases = [
        (
            "package_create",
            json!({ "title": "No name" }),
            validation("name", "Missing value"),
        ),
        (
            "package_create",
            json!({ "name": "" }),
            validation("name", "Missing value"),
        ),
        (
            "user_create",
            json!({ "name": "carol", "email": "carol@example.org", "password": "short" }),
            validation("password", "Your password must be 8 characters or longer"),
        ),
        (
            "user_create",
            json!({ "name": "carol", "password": "long enough" }),
            validation("email", "Missing value"),
        ),
        (
            "user_create",
            json!({ "name": "admin", "email": "a@example.org", "password": "long enough" }),
            validation("name", "That login name is not available."),
        ),
        (
            "resource_create",
            json!({ "package_id": "camels" }),
            validation("url", "Missing value: give a `url` or an `upload`"),
        ),
    ];
    portal.admin_action("package_create", &json!({ "name": "camels" }));
    for (name, body, error) in cases {
        let reply = portal.action(name, &body, Some(&token));
        assert_json(&reply, 409, &failure(&portal, name, error));
    }
    let reply = portal.action("package_create", &json!({ "name": "camels" }), Some(&token));
    assert_json(
        &reply,
        409,
        &failure(
            &portal,
            "package_create",
            validation("name", "That URL is already in use."),
        ),
    );
    // Nothing was created by the failed calls.
    assert_eq!(portal.portal(|p| p.user_count()), Ok(1));
}

#[test]
fn a_missing_object_answers_404() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let token = portal.admin_token.clone();
    let not_found = |message: &str| json!({ "__type": "Not Found Error", "message": message });
    let cases = [
        (
            "package_show",
            json!({ "id": "nothing" }),
            "Not found: dataset `nothing`",
        ),
        (
            "package_update",
            json!({ "id": "nothing", "title": "x" }),
            "Not found: dataset `nothing`",
        ),
        (
            "user_show",
            json!({ "id": "nobody" }),
            "Not found: user `nobody`",
        ),
        (
            "resource_show",
            json!({ "id": "resource-9" }),
            "Not found: resource `resource-9`",
        ),
        (
            "api_token_create",
            json!({ "user": "nobody", "name": "ci" }),
            "Not found: user `nobody`",
        ),
    ];
    for (name, body, message) in cases {
        let reply = portal.action(name, &body, Some(&token));
        assert_json(&reply, 404, &failure(&portal, name, not_found(message)));
    }
    let reply = portal.get("/api/3/action/package_show?id=nothing", None);
    assert_json(
        &reply,
        404,
        &failure(
            &portal,
            "package_show",
            not_found("Not found: dataset `nothing`"),
        ),
    );
}

#[test]
fn a_write_without_a_valid_token_answers_403() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let denied = |action: &str| {
        json!({
            "__type": "Authorization Error",
            "message": format!(
                "Access denied: User not authorized to call {action}: log in, or send an API \
                 token in the Authorization header"
            ),
        })
    };
    let body = json!({ "name": "camels" });
    for token in [None, Some("not-a-token"), Some("Bearer not-a-token")] {
        let reply = portal.action("package_create", &body, token);
        assert_json(
            &reply,
            403,
            &failure(&portal, "package_create", denied("package_create")),
        );
    }
    // Nothing was created.
    let reply = portal.get("/api/3/action/package_show?id=camels", None);
    assert_eq!(reply.status, 404, "{}", reply.text);

    // A user who is not a sysadmin may not edit another user.
    portal.register("bob", "bob password");
    let bob = portal.admin_action("api_token_create", &json!({ "user": "bob", "name": "cli" }))
        ["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = portal.action(
        "user_update",
        &json!({ "id": "admin", "fullname": "Not Admin" }),
        Some(&bob),
    );
    assert_json(
        &reply,
        403,
        &failure(
            &portal,
            "user_update",
            json!({
                "__type": "Authorization Error",
                "message": "Access denied: User bob not authorized to edit user admin",
            }),
        ),
    );
    let admin = portal.get("/api/3/action/user_show?id=admin", None);
    assert_eq!(admin.json["result"], admin_user_public());
}

#[test]
fn bad_requests_answer_400() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let token = portal.admin_token.clone();
    let auth = [("authorization", token.as_str())];
    let path = "/api/3/action/package_create";

    let reply = post_raw(&portal, path, r#"{"name": "#, &auth);
    assert_json(
        &reply,
        400,
        &bad_request(
            &portal,
            "package_create",
            "JSON Error: Error decoding JSON data. Error: EOF while parsing a value at line 1 column 9",
        ),
    );
    let reply = post_raw(&portal, path, "camels", &auth);
    assert_json(
        &reply,
        400,
        &bad_request(
            &portal,
            "package_create",
            "JSON Error: Error decoding JSON data. Error: expected value at line 1 column 1",
        ),
    );
    for (body, shown) in [
        ("[1, 2]", "[1,2]"),
        (r#""camels""#, r#""camels""#),
        ("7", "7"),
    ] {
        let reply = post_raw(&portal, path, body, &auth);
        assert_json(
            &reply,
            400,
            &bad_request(
                &portal,
                "package_create",
                &format!(
                    "JSON Error: Request data JSON decoded to {shown} but it needs to be a \
                     dictionary."
                ),
            ),
        );
    }
    let reply = post_raw(&portal, "/api/3/action/package_destroy", "{}", &auth);
    assert_json(
        &reply,
        400,
        &bad_request(
            &portal,
            "package_destroy",
            "Action name not known: package_destroy",
        ),
    );
    let reply = portal.get("/api/3/action/package_destroy?id=camels", None);
    assert_json(
        &reply,
        400,
        &bad_request(
            &portal,
            "package_destroy",
            "Action name not known: package_destroy",
        ),
    );
    // A write action over GET, even with a valid token.
    let mut get = portal
        .client()
        .get(api_url(&portal, "/api/3/action/package_create?name=camels"));
    get = get.header("authorization", token.as_str());
    let reply = portal.send(get);
    assert_json(
        &reply,
        400,
        &bad_request(
            &portal,
            "package_create",
            "JSON Error: Invalid request. Please use POST method for your request",
        ),
    );
    // None of them created anything.
    let reply = portal.get("/api/3/action/package_show?id=camels", None);
    assert_eq!(reply.status, 404, "{}", reply.text);
    // An empty body is an empty `data_dict`, as in CKAN.
    let reply = post_raw(&portal, path, "", &auth);
    assert_json(
        &reply,
        409,
        &failure(
            &portal,
            "package_create",
            json!({ "__type": "Validation Error", "name": ["Missing value"] }),
        ),
    );
}

#[test]
fn the_authorization_header_takes_the_bare_token_or_bearer() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let log = Log::default();
    let _r = record::<ActionSucceeded>(&log);
    let bare = portal.admin_token.clone();
    let bearer = format!("Bearer {bare}");
    for (name, header) in [("camels", &bare), ("llamas", &bearer)] {
        let body = json!({ "name": name });
        let reply = post_action(
            &portal,
            "package_create",
            &body,
            &[("authorization", header)],
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json["result"]["name"], name);
    }
    // CKAN's context for a caller with the sysadmin's token.
    let contexts: Vec<Value> = log
        .events()
        .into_iter()
        .map(|e| e.kwargs["context"].clone())
        .collect();
    assert_eq!(
        contexts,
        [
            json!({ "user": "admin", "ignore_auth": false }),
            json!({ "user": "admin", "ignore_auth": false }),
        ]
    );
    // The header's name is case-insensitive, as any HTTP header's.
    let reply = post_action(
        &portal,
        "package_create",
        &json!({ "name": "goats" }),
        &[("AUTHORIZATION", &bare)],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[test]
fn api_token_create_makes_a_token_that_authenticates_its_user() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("bob", "bob password");
    let reply = portal.action(
        "api_token_create",
        &json!({ "user": "bob", "name": "ci" }),
        Some(&portal.admin_token),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json["result"]["token"].as_str().unwrap().to_owned();
    assert!(is_token(&token), "{token}");
    assert_json(
        &reply,
        200,
        &success(&portal, "api_token_create", json!({ "token": token })),
    );
    assert_ne!(token, portal.admin_token);

    // The token is bob's: he may update himself and make himself another token.
    let reply = portal.action(
        "user_update",
        &json!({ "id": "bob", "fullname": "Bob Builder" }),
        Some(&token),
    );
    let mut bob = user_json("user-2", "bob", "bob@example.org", false);
    bob["fullname"] = json!("Bob Builder");
    assert_json(&reply, 200, &success(&portal, "user_update", bob));
    let reply = portal.action(
        "api_token_create",
        &json!({ "user": "bob", "name": "laptop" }),
        Some(&token),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let second = reply.json["result"]["token"].as_str().unwrap();
    assert!(is_token(second) && second != token, "{second}");

    // But not a token for admin; and an anonymous caller none at all.
    let reply = portal.action(
        "api_token_create",
        &json!({ "user": "admin", "name": "stolen" }),
        Some(&token),
    );
    assert_json(
        &reply,
        403,
        &failure(
            &portal,
            "api_token_create",
            json!({
                "__type": "Authorization Error",
                "message": "Access denied: User bob not authorized to create tokens for admin",
            }),
        ),
    );
    let reply = portal.action(
        "api_token_create",
        &json!({ "user": "bob", "name": "anon" }),
        None,
    );
    assert_json(
        &reply,
        403,
        &failure(
            &portal,
            "api_token_create",
            json!({
                "__type": "Authorization Error",
                "message": "Access denied: User not authorized to call api_token_create: log in, \
                            or send an API token in the Authorization header",
            }),
        ),
    );
}

#[test]
fn login_sets_a_session_cookie_and_logout_clears_it() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("alice", "alice password");
    let log = Log::default();
    let _in = record::<UserLoggedIn>(&log);
    let _out = record::<UserLoggedOut>(&log);
    let alice = user_json("user-2", "alice", "alice@example.org", false);

    let reply = portal.post_form(
        "/user/login",
        &[("login", "alice"), ("password", "wrong")],
        None,
    );
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(reply.header("set-cookie"), None);

    // By e-mail as well as by name.
    let reply = portal.post_form(
        "/user/login",
        &[
            ("login", "alice@example.org"),
            ("password", "alice password"),
        ],
        None,
    );
    assert_eq!(reply.status, 302, "{}", reply.text);
    assert_eq!(reply.header("location"), Some("/dashboard/datasets"));
    let cookie = reply.session().expect("a session cookie");
    let id = cookie.strip_prefix("ckan=").expect("the `ckan` cookie");
    assert!(is_token(id), "{cookie}");
    assert_eq!(
        reply.header("set-cookie"),
        Some(format!("{cookie}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    assert_eq!(
        log.events(),
        [event(
            "logged_in",
            json!({ "name": "ckan" }),
            json!({ "user": alice }),
        )]
    );

    // The session authenticates API calls.
    let reply = post_action(
        &portal,
        "package_create",
        &json!({ "name": "camels" }),
        &[("cookie", &cookie)],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);

    let reply = portal.get("/user/_logout", Some(&cookie));
    assert_eq!(reply.status, 302, "{}", reply.text);
    assert_eq!(reply.header("location"), Some("/user/logged_out"));
    assert_eq!(reply.header("set-cookie"), Some("ckan=; Path=/; Max-Age=0"));
    assert_eq!(reply.session(), None);
    assert_eq!(
        log.events()[1..],
        [event(
            "logged_out",
            json!({ "name": "ckan" }),
            json!({ "user": alice }),
        )]
    );

    // The old session no longer authenticates; logging out again sends nothing.
    let reply = post_action(
        &portal,
        "package_create",
        &json!({ "name": "llamas" }),
        &[("cookie", &cookie)],
    );
    assert_eq!(reply.status, 403, "{}", reply.text);
    let reply = portal.get("/user/_logout", Some(&cookie));
    assert_eq!(reply.status, 302, "{}", reply.text);
    assert_eq!(log.events().len(), 2);
}

/// A database file in the temporary directory, removed (with its journal) when dropped.
struct TempDatabase(PathBuf);

impl TempDatabase {
    fn new(name: &str) -> TempDatabase {
        let path = std::env::temp_dir().join(format!(
            "portal-tests-http-api-{}-{name}.sqlite",
            std::process::id()
        ));
        let database = TempDatabase(path);
        database.remove();
        database
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.0);
        let mut journal = self.0.clone().into_os_string();
        journal.push("-journal");
        let _ = std::fs::remove_file(journal);
    }

    /// How many committed users named `name` a second connection sees.
    fn committed_users(&self, name: &str) -> Result<i64, String> {
        let db = rusqlite::Connection::open(&self.0).map_err(|e| e.to_string())?;
        db.query_row("SELECT COUNT(*) FROM user WHERE name = ?1", [name], |row| {
            row.get(0)
        })
        .map_err(|e| e.to_string())
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        self.remove();
    }
}

#[test]
fn user_created_is_sent_before_the_commit() {
    let _iso = isolate();
    let database = Arc::new(TempDatabase::new("commit"));
    let portal = TestPortal::with(ServerOptions {
        database: Some(database.0.clone()),
        signal_timeout: Duration::from_secs(2),
        ..ServerOptions::default()
    });
    // From inside the receiver, another connection looks for the new user: not committed yet.
    let seen: Arc<Mutex<Vec<Result<i64, String>>>> = Arc::default();
    let (db, out) = (Arc::clone(&database), Arc::clone(&seen));
    let _look = UserCreated::signal()
        .connect(move |name: &str, ev: &UserCreated| {
            assert_eq!(ev.user.name, name);
            out.lock().unwrap().push(db.committed_users(name));
        })
        .scoped();
    let reply = portal.action(
        "user_create",
        &json!({ "name": "carol", "email": "carol@example.org", "password": "carol password" }),
        None,
    );
    assert_json(
        &reply,
        200,
        &success(
            &portal,
            "user_create",
            user_json("user-2", "carol", "carol@example.org", false),
        ),
    );
    assert_eq!(*seen.lock().unwrap(), [Ok(0)]);
    // Once the action answered, it is committed.
    assert_eq!(database.committed_users("carol"), Ok(1));
    assert_eq!(database.committed_users("admin"), Ok(1));
}

#[test]
fn a_failing_user_created_receiver_rolls_the_user_back() {
    let _iso = isolate();
    for panics in [false, true] {
        let portal = TestPortal::start();
        let created = Log::default();
        let succeeded = Log::default();
        let _c = record::<UserCreated>(&created);
        let _s = record::<ActionSucceeded>(&succeeded);
        let reject = UserCreated::signal()
            .connect(
                Receiver::new(move |_: &str, _: &UserCreated| -> Result<(), String> {
                    if panics {
                        panic!("no new users today");
                    }
                    Err("no new users today".to_owned())
                })
                .name("http_api::reject_new_users"),
            )
            .scoped();
        // Connected after the failing one: blinker stops at the first exception, so does the
        // portal's send.
        let after = Log::default();
        let _after = record::<UserCreated>(&after);
        let info = receiver_info(UserCreated::signal().named(), "http_api::reject_new_users");
        assert!(
            info.location
                .to_string()
                .starts_with("tests/portal/tests/http_api.rs:"),
            "{info}"
        );
        let failure_text = if panics {
            format!("receiver {info} panicked: no new users today")
        } else {
            format!("receiver {info} returned an error: no new users today")
        };
        let carol = json!({
            "name": "carol", "email": "carol@example.org", "password": "carol password",
        });

        let reply = portal.action("user_create", &carol, None);
        assert_json(
            &reply,
            500,
            &failure(
                &portal,
                "user_create",
                // CKAN's fixed message: the details go to the server's log, not to the client.
                json!({ "__type": "Internal Server Error", "message": "Internal Server Error" }),
            ),
        );
        // user_created was sent (the recorder saw carol), then the transaction rolled back.
        assert_eq!(created.events().len(), 1);
        assert_eq!(
            after.events(),
            Vec::new(),
            "the send stopped at the failure"
        );
        assert_eq!(created.events()[0].sender, json!("carol"));
        assert_eq!(
            portal.portal(|p| p.receiver_failures()),
            [failure_text.as_str()]
        );
        assert_eq!(portal.portal(|p| p.user_count()), Ok(1));
        let reply = portal.get("/api/3/action/user_show?id=carol", None);
        assert_json(
            &reply,
            404,
            &failure(
                &portal,
                "user_show",
                json!({ "__type": "Not Found Error", "message": "Not found: user `carol`" }),
            ),
        );
        assert_eq!(portal.login("carol", "carol password"), None);
        assert_eq!(succeeded.events(), Vec::new());

        // The form's registration fails the same way.
        let reply = portal.post_form(
            "/user/register",
            &[
                ("name", "carol"),
                ("email", "carol@example.org"),
                ("password", "carol password"),
            ],
            None,
        );
        assert_eq!(reply.status, 500, "{}", reply.text);
        // The page says no more than the API: the details are in the log only.
        assert_eq!(reply.text, "Internal Server Error\n");
        assert_eq!(portal.portal(|p| p.user_count()), Ok(1));

        // Without the failing receiver, the same user is created.
        drop(reject);
        let reply = portal.action("user_create", &carol, None);
        let user = user_json("user-2", "carol", "carol@example.org", false);
        assert_json(&reply, 200, &success(&portal, "user_create", user.clone()));
        assert_eq!(portal.portal(|p| p.user_count()), Ok(2));
        assert!(portal.login("carol", "carol password").is_some());
        assert_eq!(
            succeeded.events(),
            [event(
                "action_succeed",
                json!("user_create"),
                json!({
                    "context": { "user": null, "ignore_auth": false },
                    "data_dict": carol,
                    "result": user,
                }),
            )]
        );
        assert_eq!(portal.portal(|p| p.receiver_failures().len()), 2);
    }
}

#[test]
fn package_create_posts_to_the_webhook() {
    let _iso = isolate();
    host::load_plugins(&["notify"]).expect("load notify");
    let portal = TestPortal::start();
    let reply = portal.action(
        "package_create",
        &json!({ "name": "camels", "title": "Camels" }),
        Some(&portal.admin_token),
    );
    assert_json(&reply, 200, &success(&portal, "package_create", camels()));
    let body = r#"{"action":"package_create","dataset":"camels"}"#;
    assert_eq!(portal.webhook_calls(), [body]);
    let calls = ckanext_notify::webhook_calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].starts_with("POST http://127.0.0.1:")
            && calls[0].ends_with(&format!("/hooks/datasets {body} -> 202 Accepted")),
        "{calls:?}"
    );
    // Only package_create posts.
    portal.admin_action("package_update", &json!({ "id": "camels", "title": "C" }));
    portal.get("/api/3/action/package_show?id=camels", None);
    assert_eq!(portal.webhook_calls(), [body]);
    assert_eq!(
        portal.portal(|p| p.receiver_failures()),
        Vec::<String>::new()
    );
}

#[test]
fn a_failing_webhook_is_reported_and_the_action_still_succeeds() {
    let _iso = isolate();
    host::load_plugins(&["notify"]).expect("load notify");
    let portal = TestPortal::start();
    // Nothing listens on port 1: the connection is refused.
    ckanext_notify::set_webhook_url(Some("http://127.0.0.1:1/x".into()));
    let reply = portal.action(
        "package_create",
        &json!({ "name": "camels", "title": "Camels" }),
        Some(&portal.admin_token),
    );
    assert_json(&reply, 200, &success(&portal, "package_create", camels()));
    let info = receiver_info(ActionSucceeded::signal().named(), "ckanext_notify::webhook");
    assert_eq!(info.plugin.as_deref(), Some("notify"));
    assert_eq!(
        portal.portal(|p| p.receiver_failures()),
        [format!(
            "receiver {info} returned an error: the webhook POST to http://127.0.0.1:1/x \
             failed: error sending request for url (http://127.0.0.1:1/x)"
        )]
    );
    assert_eq!(ckanext_notify::webhook_calls(), Vec::<String>::new());
    assert_eq!(portal.webhook_calls(), Vec::<String>::new());
    // The dataset was created.
    let reply = portal.get("/api/3/action/package_show?id=camels", None);
    assert_json(&reply, 200, &success(&portal, "package_show", camels()));
}

/// An async `action_succeed` receiver that calls the portal back over HTTP: no lock is held
/// while receivers run, so the inner request is answered and the outer one completes.
#[test]
fn an_async_receiver_can_call_the_portal_back() {
    let _iso = isolate();
    let portal = TestPortal::start();
    let url = format!("{}/api/3/action/package_show?id=camels", portal.url());
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let _call_back = ActionSucceeded::signal()
        .connect(
            Receiver::new_async(move |_: &str, _: &ActionSucceeded| {
                let (url, log) = (url.clone(), log.clone());
                Box::pin(async move {
                    let answer = reqwest::get(&url).await.map_err(|e| e.to_string())?;
                    let status = answer.status().as_u16();
                    let body: Value = answer.json().await.map_err(|e| e.to_string())?;
                    log.lock()
                        .unwrap()
                        .push(format!("{status} {}", body["result"]["name"]));
                    Ok::<(), String>(())
                })
            })
            .sender(&"package_create")
            .name("http_api::call_back"),
        )
        .scoped();
    let started = std::time::Instant::now();
    let reply = portal.action(
        "package_create",
        &json!({ "name": "camels" }),
        Some(&portal.admin_token),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the call back was held up: {:?}",
        started.elapsed()
    );
    assert_eq!(*seen.lock().unwrap(), ["200 \"camels\""]);
    assert_eq!(
        portal.portal(|p| p.receiver_failures()),
        Vec::<String>::new()
    );
}

/// CKAN's password rule holds for `user_update` and the reset form as for `user_create`.
#[test]
fn a_short_password_is_refused_by_update_and_reset_too() {
    let _iso = isolate();
    let portal = TestPortal::start();
    portal.register("bob", "bob's long password");
    let refused = json!({ "__type": "Validation Error", "password": ["Your password must be 8 characters or longer"] });
    let reply = portal.action(
        "user_update",
        &json!({ "id": "bob", "password": "x" }),
        Some(&portal.admin_token),
    );
    assert_json(&reply, 409, &failure(&portal, "user_update", refused));
    let reply = portal.post_form("/user/reset", &[("user", "bob")], None);
    assert_eq!(reply.status, 302, "{}", reply.text);
    let link = portal
        .portal(|p| p.mail())
        .expect("the mail")
        .pop()
        .expect("a reset link")
        .body;
    let reply = portal.post_form(&link, &[("password1", ""), ("password2", "")], None);
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(
        reply.text,
        "validation error: password: Your password must be 8 characters or longer\n"
    );
    assert!(portal.login("bob", "x").is_none());
    assert!(portal.login("bob", "").is_none());
    assert!(portal.login("bob", "bob's long password").is_some());
}
