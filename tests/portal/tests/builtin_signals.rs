//! Each of CKAN's 13 built-in signals, driven through the portal's host API: the exact sender
//! and keyword arguments at each point it is sent, and nothing sent where it must not be.
//! Also: the toolkit aliases and the registered names reach the same signals, by-name
//! receivers read the same sends through `dyn Kwargs`, and the registry and listing know all 13.

use std::sync::{Arc, Mutex};

use ckan_portal::{ActionError, LoginFailed, Portal};
use ckan_signals::model::{ActionContext, User};
use ckan_signals::toolkit::signals;
use ckan_signals::{ActionSucceeded, DatastoreUpsert};
use portal_tests::{event, isolate, Event, Recorder};
use serde_json::{json, Value};
use signals_core::{Kwargs, NamedSignal, Namespace, Receiver, SenderKey};

/// The web app, as the request and login signals send it.
fn app() -> Value {
    json!({ "name": "ckan" })
}

fn admin() -> ActionContext {
    ActionContext {
        user: Some("admin".into()),
        ignore_auth: true,
    }
}

fn admin_json() -> Value {
    json!({ "user": "admin", "ignore_auth": true })
}

fn user_json(id: &str, name: &str, email: &str, fullname: Option<&str>) -> Value {
    json!({ "id": id, "name": name, "email": email, "fullname": fullname, "sysadmin": false })
}

fn create_user(portal: &mut Portal, name: &str, password: &str) -> Value {
    portal
        .action(
            "user_create",
            ActionContext::default(),
            json!({ "name": name, "email": format!("{name}@example.org"), "password": password }),
        )
        .expect("user_create")
}

/// A dataset `camels` (dataset-1) with an uploaded resource (resource-2) and a link
/// (resource-3).
fn portal_with_resources() -> Portal {
    let mut portal = Portal::new();
    portal
        .action("package_create", admin(), json!({ "name": "camels" }))
        .expect("package_create");
    portal
        .action(
            "resource_create",
            admin(),
            json!({ "package_id": "camels", "upload": "id,name\n1,Humphrey\n" }),
        )
        .expect("resource_create (upload)");
    portal
        .action(
            "resource_create",
            admin(),
            json!({ "package_id": "camels", "url": "https://example.org/camels.csv" }),
        )
        .expect("resource_create (link)");
    portal
}

#[test]
fn request_started_and_finished_are_sent_once_per_request_around_the_handler() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let recorder = Recorder::all();

    let mut seen_by_handler = Vec::new();
    let ok = portal.request(|_| {
        seen_by_handler = recorder.log().events();
        Ok(7)
    });
    assert_eq!(ok, Ok(7));
    // request_started went out before the handler ran, request_finished not yet.
    assert_eq!(
        seen_by_handler,
        [event("request_started", app(), Value::Null)]
    );
    let failed: Result<(), String> = portal.request(|_| Err("bad input".into()));
    assert_eq!(failed, Err("bad input".to_owned()));

    let response = |status: u16| json!({ "response": { "status": status, "content_type": "application/json", "content_length": 0 } });
    assert_eq!(
        recorder.take(),
        [
            event("request_started", app(), Value::Null),
            event("request_finished", app(), response(200)),
            event("request_started", app(), Value::Null),
            event("request_finished", app(), response(400)),
        ]
    );
}

#[test]
fn a_request_that_creates_a_user_sends_its_signals_between_started_and_finished() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let recorder = Recorder::all();
    let data = json!({ "name": "alice", "email": "alice@example.org", "password": "pw" });
    let input = data.clone();
    portal
        .request(|p| {
            p.action("user_create", ActionContext::default(), input)
                .map_err(|e| e.to_string())
        })
        .expect("user_create");
    let alice = user_json("user-1", "alice", "alice@example.org", None);
    let context = json!({ "user": null, "ignore_auth": false });
    assert_eq!(
        recorder.take(),
        [
            event("request_started", app(), Value::Null),
            event("user_created", json!("alice"), json!({ "user": alice })),
            event(
                "action_succeed",
                json!("user_create"),
                json!({ "context": context, "data_dict": data, "result": alice }),
            ),
            event(
                "request_finished",
                app(),
                json!({ "response": { "status": 200, "content_type": "application/json", "content_length": 0 } }),
            ),
        ]
    );
}

#[test]
fn register_blueprint_is_sent_by_dataset_then_resource() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let recorder = Recorder::all();
    portal.register_dataset_type("camel-photos");
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
    let mut portal = Portal::new();
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
    let mut portal = Portal::new();
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
    let mut portal = Portal::new();
    let recorder = Recorder::all();
    portal.register_group_type("organization", true);
    portal.register_group_type("group", false);
    // A type named like a core type but of the other kind is still a core type.
    portal.register_group_type("group", true);
    assert_eq!(recorder.take(), []);
    portal.register_group_type("camel-clubs", false);
    portal.register_group_type("camel-breeders", true);
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
}

#[test]
fn user_created_is_sent_once_per_user_before_action_succeed_and_never_for_invalid_input() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let recorder = Recorder::all();

    let data = json!({ "name": "alice", "email": "alice@example.org", "password": "pw", "fullname": "Alice Liddell" });
    let result = portal
        .action("user_create", ActionContext::default(), data.clone())
        .expect("user_create");
    let alice = user_json(
        "user-1",
        "alice",
        "alice@example.org",
        Some("Alice Liddell"),
    );
    assert_eq!(result, alice);
    let context = json!({ "user": null, "ignore_auth": false });
    assert_eq!(
        recorder.take(),
        [
            event("user_created", json!("alice"), json!({ "user": alice })),
            event(
                "action_succeed",
                json!("user_create"),
                json!({ "context": context, "data_dict": data, "result": alice }),
            ),
        ]
    );

    // A taken name, a missing e-mail, a missing password: no user, so no user_created (and
    // no action_succeed).
    let invalid = [
        (
            json!({ "name": "alice", "email": "a2@example.org", "password": "pw" }),
            "user name `alice` is taken",
        ),
        (
            json!({ "name": "bob", "password": "pw" }),
            "`email` is required",
        ),
        (
            json!({ "name": "bob", "email": "bob@example.org" }),
            "`password` is required",
        ),
    ];
    for (data, problem) in invalid {
        assert_eq!(
            portal.action("user_create", ActionContext::default(), data),
            Err(ActionError::Validation(problem.to_owned()))
        );
    }
    assert_eq!(recorder.take(), []);
    // bob was never created: logging in as him fails.
    assert_eq!(portal.login("bob", "pw"), Err(LoginFailed));
}

#[test]
fn failed_login_carries_the_login_as_typed_and_logged_in_out_carry_the_user() {
    let _iso = isolate();
    let mut portal = Portal::new();
    create_user(&mut portal, "alice", "correct horse");
    let recorder = Recorder::all();

    assert_eq!(portal.login("alice", "hunter2"), Err(LoginFailed));
    assert_eq!(
        portal.login("ALICE@example.org", "correct horse"),
        Err(LoginFailed)
    );
    assert_eq!(portal.login("", ""), Err(LoginFailed));
    let user = portal
        .login("alice@example.org", "correct horse")
        .expect("login by e-mail");
    assert_eq!(user.name, "alice");
    portal.logout();
    portal.logout(); // nobody is logged in: nothing to send

    let alice = user_json("user-1", "alice", "alice@example.org", None);
    assert_eq!(
        recorder.take(),
        [
            event("failed_login", json!("alice"), Value::Null),
            event("failed_login", json!("ALICE@example.org"), Value::Null),
            event("failed_login", json!(""), Value::Null),
            event("logged_in", app(), json!({ "user": alice })),
            event("logged_out", app(), json!({ "user": alice })),
        ]
    );
}

#[test]
fn the_reset_flow_sends_request_then_perform_with_none_or_the_name_in_the_form() {
    let _iso = isolate();
    let mut portal = Portal::new();
    create_user(&mut portal, "bob", "old");
    let recorder = Recorder::all();

    let token = portal.request_password_reset("bob").expect("request");
    assert_eq!(token, "reset-bob-2");
    portal
        .perform_password_reset(&token, "battery staple", None)
        .expect("perform without a name");
    // The link is used: no second perform.
    assert_eq!(
        portal.perform_password_reset(&token, "again", None),
        Err(ActionError::Validation(
            "the reset link is invalid or used".into()
        ))
    );
    let token = portal.request_password_reset("bob").expect("request again");
    portal
        .perform_password_reset(&token, "staple battery", Some("bob"))
        .expect("perform with the name");
    assert_eq!(
        portal.request_password_reset("nobody"),
        Err(ActionError::NotFound("user `nobody`".into()))
    );

    let bob = user_json("user-1", "bob", "bob@example.org", None);
    assert_eq!(
        without_action_succeed(recorder.take()),
        [
            event(
                "request_password_reset",
                json!("bob"),
                json!({ "user": bob })
            ),
            event(
                "perform_password_reset",
                Value::Null,
                json!({ "user": bob })
            ),
            event(
                "request_password_reset",
                json!("bob"),
                json!({ "user": bob })
            ),
            event(
                "perform_password_reset",
                json!("bob"),
                json!({ "user": bob })
            ),
        ]
    );
    // The new password is the one that works.
    assert_eq!(portal.login("bob", "battery staple"), Err(LoginFailed));
    assert_eq!(
        portal.login("bob", "staple battery").map(|u| u.name),
        Ok("bob".to_owned())
    );
}

#[test]
fn resource_download_is_sent_for_uploads_only() {
    let _iso = isolate();
    let mut portal = portal_with_resources();
    let recorder = Recorder::all();

    assert_eq!(
        portal.download("resource-2"),
        Ok(Some(b"id,name\n1,Humphrey\n".to_vec()))
    );
    assert_eq!(portal.download("resource-3"), Ok(None)); // a link: not served by the portal
    assert_eq!(
        portal.download("resource-99"),
        Err(ActionError::NotFound("resource `resource-99`".into()))
    );
    assert_eq!(portal.download("resource-2").map(|b| b.is_some()), Ok(true));
    assert_eq!(
        without_action_succeed(recorder.take()),
        [
            event("resource_download", json!("resource-2"), Value::Null),
            event("resource_download", json!("resource-2"), Value::Null),
        ]
    );
}

#[test]
fn action_succeed_is_sent_for_write_and_read_actions_with_context_data_dict_and_result() {
    let _iso = isolate();
    let mut portal = Portal::new();
    let recorder = Recorder::all();

    let create = json!({ "name": "camels", "title": "Camels" });
    portal
        .action("package_create", admin(), create.clone())
        .expect("package_create");
    let show = json!({ "id": "camels" });
    portal
        .action("package_show", ActionContext::default(), show.clone())
        .expect("package_show");
    let update = json!({ "id": "dataset-1", "title": "Camels, updated" });
    portal
        .action("package_update", admin(), update.clone())
        .expect("package_update");
    // Failing and unknown actions send nothing.
    assert_eq!(
        portal.action("package_show", admin(), json!({ "id": "llamas" })),
        Err(ActionError::NotFound("dataset `llamas`".into()))
    );
    assert_eq!(
        portal.action("package_delete", admin(), json!({ "id": "camels" })),
        Err(ActionError::UnknownAction("package_delete".into()))
    );

    let dataset = |title: &str| json!({ "id": "dataset-1", "name": "camels", "title": title, "resources": [] });
    let anonymous = json!({ "user": null, "ignore_auth": false });
    assert_eq!(
        recorder.take(),
        [
            event(
                "action_succeed",
                json!("package_create"),
                json!({ "context": admin_json(), "data_dict": create, "result": dataset("Camels") }),
            ),
            event(
                "action_succeed",
                json!("package_show"),
                json!({ "context": anonymous, "data_dict": show, "result": dataset("Camels") }),
            ),
            event(
                "action_succeed",
                json!("package_update"),
                json!({ "context": admin_json(), "data_dict": update, "result": dataset("Camels, updated") }),
            ),
        ]
    );
}

#[test]
fn datastore_upsert_carries_the_records_or_none_and_datastore_delete_result_and_data_dict() {
    let _iso = isolate();
    let mut portal = portal_with_resources();
    let recorder = Recorder::all();

    // As in CKAN, the signal carries the records the call gave, whether or not the call asks
    // for them back (`include_records`, default false); `None` only when it gave none.
    let records = json!([{ "name": "Humphrey" }, { "name": "Clyde" }]);
    let with_records = json!({ "resource_id": "resource-2", "records": records });
    let sandy = json!([{ "name": "Sandy" }]);
    let returning =
        json!({ "resource_id": "resource-2", "records": sandy, "include_records": true });
    let without = json!({ "resource_id": "resource-2" });
    let delete = json!({ "resource_id": "resource-2" });
    let upserted = json!({ "resource_id": "resource-2" });
    let returned = json!({ "resource_id": "resource-2", "records": sandy });
    assert_eq!(
        portal.action("datastore_upsert", admin(), with_records.clone()),
        Ok(upserted.clone())
    );
    assert_eq!(
        portal.action("datastore_upsert", admin(), returning.clone()),
        Ok(returned.clone())
    );
    assert_eq!(
        portal.action("datastore_upsert", admin(), without.clone()),
        Ok(upserted.clone())
    );
    assert_eq!(
        portal.action(
            "datastore_upsert",
            admin(),
            json!({ "resource_id": "resource-99", "records": [] })
        ),
        Err(ActionError::NotFound("resource `resource-99`".into()))
    );
    let deleted = json!({ "resource_id": "resource-2", "deleted": 3 });
    assert_eq!(
        portal.action("datastore_delete", admin(), delete.clone()),
        Ok(deleted.clone())
    );
    assert_eq!(
        portal.action(
            "datastore_delete",
            admin(),
            json!({ "resource_id": "resource-3" })
        ),
        Err(ActionError::NotFound("datastore table `resource-3`".into()))
    );

    let succeed = |action: &str, data: &Value, result: &Value| {
        event(
            "action_succeed",
            json!(action),
            json!({ "context": admin_json(), "data_dict": data, "result": result }),
        )
    };
    assert_eq!(
        without_lookups(recorder.take()),
        [
            event(
                "datastore_upsert",
                json!("resource-2"),
                json!({ "records": records })
            ),
            succeed("datastore_upsert", &with_records, &upserted),
            event(
                "datastore_upsert",
                json!("resource-2"),
                json!({ "records": sandy })
            ),
            succeed("datastore_upsert", &returning, &returned),
            event(
                "datastore_upsert",
                json!("resource-2"),
                json!({ "records": null })
            ),
            succeed("datastore_upsert", &without, &upserted),
            event(
                "datastore_delete",
                json!("resource-2"),
                json!({ "result": deleted, "data_dict": delete }),
            ),
            succeed("datastore_delete", &delete, &deleted),
        ]
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
    let mut portal = portal_with_resources();
    create_user(&mut portal, "alice", "pw");
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
    // The alias is not the registered name: nothing is ever sent to `ckan.user_logged_in`.
    let _alias = signals::ckan()
        .signal("user_logged_in")?
        .connect(move |sender: &SenderKey<'_>, _: &dyn Kwargs| {
            log.lock().unwrap().push(format!("user_logged_in {sender}"));
        })
        .scoped();

    portal.login("alice", "pw").expect("login");
    portal
        .action(
            "datastore_upsert",
            admin(),
            json!({ "resource_id": "resource-2", "records": [{ "a": 1 }, { "a": 2 }] }),
        )
        .expect("upsert");
    portal
        .action(
            "datastore_upsert",
            admin(),
            json!({ "resource_id": "resource-2" }),
        )
        .expect("upsert without records");
    portal
        .action("package_show", admin(), json!({ "id": "camels" }))
        .expect("package_show");
    portal
        .action("package_create", admin(), json!({ "name": "llamas" }))
        .expect("package_create");

    assert_eq!(
        *seen.lock().unwrap(),
        [
            r#"logged_in "ckan" ["user"] Some("alice@example.org")"#,
            r#"upsert "resource-2" Some(Some(2)) true no keyword argument named `record`; the arguments are: records"#,
            r#"upsert "resource-2" Some(None) true no keyword argument named `record`; the arguments are: records"#,
            r#"action "package_create" Some("admin") Some(String("llamas"))"#,
        ]
    );
    // The typed receivers saw the same sends.
    let log = recorder.log();
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

    // A send through the alias reaches a receiver connected by registered name, and back.
    let _iso = isolate();
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
    let mut portal = Portal::new();
    create_user(&mut portal, "carol", "pw");
    portal.login("carol", "pw").expect("login");
    portal.logout();
    assert_eq!(*seen.lock().unwrap(), [r#""ckan" ["user"]"#]);
    assert_eq!(recorder.log().count("logged_out"), 1);
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

/// Every event a whole portal session records, compared with the plugins' own logs.
#[test]
fn a_whole_session_records_every_built_in_signal() {
    let _iso = isolate();
    let recorder = Recorder::all();
    let mut portal = Portal::new();
    portal.register_dataset_type("camel-photos");
    create_user(&mut portal, "alice", "pw");
    let _ = portal.login("alice", "nope");
    portal.login("alice", "pw").expect("login");
    portal
        .action("package_create", admin(), json!({ "name": "camels" }))
        .expect("package_create");
    portal
        .action(
            "resource_create",
            admin(),
            json!({ "package_id": "camels", "upload": "x" }),
        )
        .expect("resource_create");
    portal.download("resource-3").expect("download");
    portal
        .action(
            "datastore_upsert",
            admin(),
            json!({ "resource_id": "resource-3", "records": [] }),
        )
        .expect("upsert");
    portal
        .action(
            "datastore_delete",
            admin(),
            json!({ "resource_id": "resource-3" }),
        )
        .expect("delete");
    let token = portal.request_password_reset("alice").expect("reset");
    portal
        .perform_password_reset(&token, "new", None)
        .expect("perform");
    portal.request(|_| Ok(())).expect("request");
    portal.logout();

    let names: Vec<&str> = recorder.take().iter().map(|e: &Event| e.signal).collect();
    assert_eq!(
        names,
        [
            "register_blueprint",
            "register_blueprint",
            "user_created",
            "action_succeed",
            "failed_login",
            "logged_in",
            "action_succeed",
            "action_succeed",
            // download: resource_show (calling package_show), then package_show
            "action_succeed",
            "action_succeed",
            "action_succeed",
            "resource_download",
            // datastore_upsert: resource_show (calling package_show) first
            "action_succeed",
            "action_succeed",
            "datastore_upsert",
            "action_succeed",
            "action_succeed",
            "action_succeed",
            "datastore_delete",
            "action_succeed",
            // reset: user_show; then user_show and user_update
            "action_succeed",
            "request_password_reset",
            "action_succeed",
            "action_succeed",
            "perform_password_reset",
            "request_started",
            "request_finished",
            "logged_out",
        ]
    );
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 13);
    assert!(portal.receiver_failures.is_empty());
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

/// CKAN's download view calls `get_action('resource_show')` (which calls
/// `get_action('package_show')`), then `get_action('package_show')`: three `action_succeed`
/// sends, in the downloader's context, before `resource_download` (links too, without it).
#[test]
fn a_download_sends_action_succeed_for_its_lookups_as_ckan_does() {
    let _iso = isolate();
    let mut portal = portal_with_resources();
    create_user(&mut portal, "alice", "pw");
    portal.login("alice", "pw").expect("login");
    let recorder = Recorder::all();
    portal.download("resource-2").expect("download");
    portal.download("resource-3").expect("a link");
    let events = recorder.take();
    assert_eq!(
        signals_and_senders(&events),
        [
            ("action_succeed", json!("package_show")),
            ("action_succeed", json!("resource_show")),
            ("action_succeed", json!("package_show")),
            ("resource_download", json!("resource-2")),
            ("action_succeed", json!("package_show")),
            ("action_succeed", json!("resource_show")),
            ("action_succeed", json!("package_show")),
        ]
    );
    let alice = json!({ "user": "alice", "ignore_auth": false });
    assert_eq!(events[0].kwargs["context"], alice);
    assert_eq!(
        events[0].kwargs["data_dict"],
        json!({ "id": "dataset-1", "include_tracking": false })
    );
    assert_eq!(events[1].kwargs["data_dict"], json!({ "id": "resource-2" }));
    assert_eq!(events[1].kwargs["result"]["id"], json!("resource-2"));
    assert_eq!(events[2].kwargs["data_dict"], json!({ "id": "dataset-1" }));
    assert!(events
        .iter()
        .filter(|e| e.signal == "action_succeed")
        .all(|e| e.kwargs["context"] == alice));
    // An unknown resource: `resource_show` fails, nothing is sent.
    assert!(portal.download("resource-99").is_err());
    assert_eq!(recorder.take(), []);
}

/// CKAN's reset views: the request calls `get_action('user_show')` with auth ignored; the
/// perform calls `user_show`, then `user_update` with the new password and reset key, in the
/// context of the user being reset, then sends `perform_password_reset`.
#[test]
fn the_reset_flow_sends_action_succeed_for_user_show_and_user_update() {
    let _iso = isolate();
    let mut portal = Portal::new();
    create_user(&mut portal, "bob", "old");
    let recorder = Recorder::all();
    let token = portal.request_password_reset("bob").expect("request");
    portal
        .perform_password_reset(&token, "battery staple", None)
        .expect("perform");
    let events = recorder.take();
    assert_eq!(
        signals_and_senders(&events),
        [
            ("action_succeed", json!("user_show")),
            ("request_password_reset", json!("bob")),
            ("action_succeed", json!("user_show")),
            ("action_succeed", json!("user_update")),
            ("perform_password_reset", Value::Null),
        ]
    );
    let bob = user_json("user-1", "bob", "bob@example.org", None);
    assert_eq!(
        events[0].kwargs,
        json!({
            "context": { "user": null, "ignore_auth": true },
            "data_dict": { "id": "bob" },
            "result": bob,
        })
    );
    assert_eq!(
        events[2].kwargs["context"],
        json!({ "user": "bob", "ignore_auth": false })
    );
    let mut update = bob.clone();
    update["password"] = json!("battery staple");
    update["reset_key"] = json!(token);
    assert_eq!(
        events[3].kwargs,
        json!({
            "context": { "user": "bob", "ignore_auth": false },
            "data_dict": update,
            "result": bob,
        })
    );
    // An unknown user: `user_show` fails, nothing is sent.
    assert!(portal.request_password_reset("nobody").is_err());
    assert_eq!(recorder.take(), []);
}

/// CKAN's `datastore_upsert` and `datastore_delete` look the resource up with
/// `get_action('resource_show')` first, in the caller's context.
#[test]
fn datastore_actions_send_action_succeed_for_their_resource_show() {
    let _iso = isolate();
    let mut portal = portal_with_resources();
    let recorder = Recorder::all();
    portal
        .action(
            "datastore_upsert",
            admin(),
            json!({ "resource_id": "resource-2", "records": [{ "a": 1 }] }),
        )
        .expect("upsert");
    portal
        .action(
            "datastore_delete",
            admin(),
            json!({ "resource_id": "resource-2" }),
        )
        .expect("delete");
    let events = recorder.take();
    assert_eq!(
        signals_and_senders(&events),
        [
            ("action_succeed", json!("package_show")),
            ("action_succeed", json!("resource_show")),
            ("datastore_upsert", json!("resource-2")),
            ("action_succeed", json!("datastore_upsert")),
            ("action_succeed", json!("package_show")),
            ("action_succeed", json!("resource_show")),
            ("datastore_delete", json!("resource-2")),
            ("action_succeed", json!("datastore_delete")),
        ]
    );
    assert_eq!(events[1].kwargs["context"], admin_json());
    assert_eq!(events[1].kwargs["data_dict"], json!({ "id": "resource-2" }));
    // An unknown resource: `resource_show` fails first, nothing is sent.
    assert_eq!(
        portal.action(
            "datastore_upsert",
            admin(),
            json!({ "resource_id": "resource-99" })
        ),
        Err(ActionError::NotFound("resource `resource-99`".into()))
    );
    assert_eq!(recorder.take(), []);
}
