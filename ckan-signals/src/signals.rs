//! CKAN's 13 built-in signals, with CKAN's namespaces, registered names, senders and keyword
//! arguments (CKAN 2.10 to 2.12).
//!
//! Three registered names differ from their Python aliases: `user_logged_in` is registered as
//! `logged_in`, `user_logged_out` as `logged_out`, and `action_succeeded` as
//! `action_succeed`. The Rust type takes the alias; the registered name is what
//! `ckan.signal("...")` must be asked for.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use signals_core::signal;

use crate::model::{ActionContext, Blueprint, Response, User, WebApp};

/// Sent when a request's context is set up, before any request processing happens.
///
/// Sender: the web app. No keyword arguments. With the `tower` feature,
/// `ckan_signals::layer::SignalsLayer` sends it before each request of the service it wraps.
///
/// ```
/// use ckan_signals::model::WebApp;
/// use ckan_signals::RequestStarted;
/// use signals_core::Signal;
///
/// let _c = RequestStarted::signal()
///     .connect(|app: &WebApp, _: &RequestStarted| {
///         assert_eq!(app.name, "ckan");
///     })
///     .scoped();
/// assert_eq!(RequestStarted.send(&WebApp::new("ckan")).receivers_called(), 1);
/// ```
#[signal(namespace = "ckan", sender = WebApp)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestStarted;

/// Sent right before the response is sent to the client.
///
/// Sender: the web app. With the `tower` feature, `ckan_signals::layer::SignalsLayer` sends
/// it after each request of the service it wraps, with the response's head.
///
/// ```
/// use ckan_signals::model::{Response, WebApp};
/// use ckan_signals::RequestFinished;
/// use signals_core::Signal;
///
/// let _c = RequestFinished::signal()
///     .connect(|_: &WebApp, ev: &RequestFinished| {
///         assert_eq!(ev.response.status, 404);
///     })
///     .scoped();
/// let response = Response {
///     status: 404,
///     content_type: "text/html".into(),
///     content_length: 0,
///     headers: vec![("content-type".into(), "text/html".into())],
/// };
/// assert_eq!(RequestFinished { response }.send(&WebApp::new("ckan")).receivers_called(), 1);
/// ```
#[signal(namespace = "ckan", sender = WebApp)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFinished {
    /// The response about to go out.
    pub response: Response,
}

/// Sent when a blueprint for a plugin-defined dataset, resource, group or organization type is
/// about to be registered in the application.
///
/// Sender: the blueprint type: `"dataset"`, `"resource"`, `"group"` or `"organization"`.
///
/// ```
/// use ckan_signals::model::Blueprint;
/// use ckan_signals::RegisterBlueprint;
/// use signals_core::{Receiver, Signal};
///
/// let on_dataset = |_: &str, ev: &RegisterBlueprint| assert_eq!(ev.blueprint.name, "camel-photos");
/// let _c = RegisterBlueprint::signal().connect(Receiver::new(on_dataset).sender("dataset"));
/// let blueprint = Blueprint { name: "camel-photos".into(), url_prefix: "/camel-photos".into() };
/// assert_eq!(RegisterBlueprint { blueprint }.send("dataset").receivers_called(), 1);
/// ```
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterBlueprint {
    /// The blueprint being registered.
    pub blueprint: Blueprint,
}

/// Sent just before a file from an uploaded resource is sent to the user (not for links).
///
/// Sender: the resource's id. No keyword arguments.
///
/// ```
/// use ckan_signals::ResourceDownload;
/// use signals_core::Signal;
///
/// let _c = ResourceDownload::signal()
///     .connect(|id: &str, _: &ResourceDownload| {
///         assert_eq!(id, "r-1");
///     })
///     .scoped();
/// assert_eq!(ResourceDownload.send("r-1").receivers_called(), 1);
/// ```
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDownload;

/// Sent after a user logged in. Registered as `logged_in` (CKAN 2.11+).
///
/// Sender: the web app.
///
/// ```
/// use ckan_signals::model::{User, WebApp};
/// use ckan_signals::UserLoggedIn;
/// use signals_core::Signal;
///
/// let _c = UserLoggedIn::signal()
///     .connect(|_: &WebApp, ev: &UserLoggedIn| assert_eq!(ev.user.name, "alice"))
///     .scoped();
/// let user = User { id: "u-1".into(), name: "alice".into(), email: "a@example.org".into(), fullname: None, sysadmin: false };
/// assert_eq!(UserLoggedIn { user }.send(&WebApp::new("ckan")).receivers_called(), 1);
/// assert_eq!(UserLoggedIn::signal().named().qualified_name(), "ckan.logged_in");
/// ```
#[signal(namespace = "ckan", name = "logged_in", sender = WebApp)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLoggedIn {
    /// The user who logged in.
    pub user: User,
}

/// Sent after a user logged out. Registered as `logged_out` (CKAN 2.11+).
///
/// Sender: the web app.
///
/// ```
/// use ckan_signals::model::{User, WebApp};
/// use ckan_signals::UserLoggedOut;
/// use signals_core::Signal;
///
/// let _c = UserLoggedOut::signal()
///     .connect(|_: &WebApp, ev: &UserLoggedOut| assert_eq!(ev.user.name, "alice"))
///     .scoped();
/// let user = User { id: "u-1".into(), name: "alice".into(), email: "a@example.org".into(), fullname: None, sysadmin: false };
/// assert_eq!(UserLoggedOut { user }.send(&WebApp::new("ckan")).receivers_called(), 1);
/// assert_eq!(UserLoggedOut::signal().named().qualified_name(), "ckan.logged_out");
/// ```
#[signal(namespace = "ckan", name = "logged_out", sender = WebApp)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLoggedOut {
    /// The user who logged out.
    pub user: User,
}

/// Sent after a failed login attempt.
///
/// Sender: the login as typed (a user name or an e-mail address). No keyword arguments.
///
/// ```
/// use ckan_signals::FailedLogin;
/// use signals_core::Signal;
///
/// let _c = FailedLogin::signal()
///     .connect(|login: &str, _: &FailedLogin| {
///         assert_eq!(login, "alice@example.org");
///     })
///     .scoped();
/// assert_eq!(FailedLogin.send("alice@example.org").receivers_called(), 1);
/// ```
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedLogin;

/// Sent when a new user is created (before the commit).
///
/// Sender: the new user's name.
///
/// ```
/// use ckan_signals::model::{User, WebApp};
/// use ckan_signals::UserCreated;
/// use signals_core::Signal;
///
/// let _c = UserCreated::signal()
///     .connect(|_: &str, ev: &UserCreated| assert_eq!(ev.user.name, "alice"))
///     .scoped();
/// let user = User { id: "u-1".into(), name: "alice".into(), email: "a@example.org".into(), fullname: None, sysadmin: false };
/// assert_eq!(UserCreated { user }.send("alice").receivers_called(), 1);
/// assert_eq!(UserCreated::signal().named().qualified_name(), "ckan.user_created");
/// ```
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    /// The new user.
    pub user: User,
}

/// Sent just after the mail with a password reset link was sent to a user.
///
/// Sender: the user's name.
///
/// ```
/// use ckan_signals::model::{User, WebApp};
/// use ckan_signals::RequestPasswordReset;
/// use signals_core::Signal;
///
/// let _c = RequestPasswordReset::signal()
///     .connect(|_: &str, ev: &RequestPasswordReset| assert_eq!(ev.user.name, "alice"))
///     .scoped();
/// let user = User { id: "u-1".into(), name: "alice".into(), email: "a@example.org".into(), fullname: None, sysadmin: false };
/// assert_eq!(RequestPasswordReset { user }.send("alice").receivers_called(), 1);
/// assert_eq!(RequestPasswordReset::signal().named().qualified_name(), "ckan.request_password_reset");
/// ```
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestPasswordReset {
    /// The user who asked for the reset.
    pub user: User,
}

/// Sent when a user submitted the password reset form with a new password.
///
/// Sender: the user's name, often `None` (CKAN sends the name only when the form had it).
///
/// ```
/// use ckan_signals::model::User;
/// use ckan_signals::PerformPasswordReset;
/// use signals_core::Signal;
///
/// let _c = PerformPasswordReset::signal()
///     .connect(|name: &Option<String>, _: &PerformPasswordReset| {
///         assert_eq!(name, &None);
///     })
///     .scoped();
/// let user = User { id: "u-1".into(), name: "alice".into(), email: "a@example.org".into(), fullname: None, sysadmin: false };
/// assert_eq!(PerformPasswordReset { user }.send(&None).receivers_called(), 1);
/// ```
#[signal(namespace = "ckan", sender = Option<String>)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformPasswordReset {
    /// The user whose password changed.
    pub user: User,
}

/// Sent when any action called through the action API finished without an exception (read
/// actions too). Registered as `action_succeed`.
///
/// Sender: the action's name, such as `"package_create"`.
///
/// ```
/// use ckan_signals::model::ActionContext;
/// use ckan_signals::ActionSucceeded;
/// use serde_json::json;
/// use signals_core::{Receiver, Signal};
///
/// let created = |_: &str, ev: &ActionSucceeded| assert_eq!(ev.result["name"], "my-dataset");
/// let _c = ActionSucceeded::signal().connect(Receiver::new(created).sender("package_create"));
/// let done = ActionSucceeded {
///     context: ActionContext::default(),
///     data_dict: json!({ "name": "my-dataset" }),
///     result: json!({ "id": "d-1", "name": "my-dataset" }),
/// };
/// assert_eq!(done.send("package_create").receivers_called(), 1);
/// assert_eq!(done.send("package_show").receivers_called(), 0);
/// ```
#[signal(namespace = "ckan", name = "action_succeed")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSucceeded {
    /// The context the action ran in.
    pub context: ActionContext,
    /// The action's input.
    pub data_dict: Value,
    /// The action's result.
    pub result: Value,
}

/// Sent after records were inserted or updated in the datastore through `datastore_upsert`.
///
/// Sender: the resource's id.
///
/// ```
/// use ckan_signals::DatastoreUpsert;
/// use serde_json::json;
/// use signals_core::Signal;
///
/// let _c = DatastoreUpsert::signal()
///     .connect(|resource: &str, ev: &DatastoreUpsert| {
///         assert_eq!((resource, ev.records.is_some()), ("r-1", true));
///     })
///     .scoped();
/// let upsert = DatastoreUpsert { records: Some(json!([{ "a": 1 }])) };
/// assert_eq!(upsert.send("r-1").receivers_called(), 1);
/// assert_eq!(DatastoreUpsert::signal().named().qualified_name(), "ckanext.datastore_upsert");
/// ```
#[signal(namespace = "ckanext")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatastoreUpsert {
    /// The records the call wrote; `None` when it gave none. (Whether the call returns them,
    /// its `include_records`, does not change what the signal carries.)
    pub records: Option<Value>,
}

/// Sent after a successful call to `datastore_delete`.
///
/// Sender: the resource's id.
///
/// ```
/// use ckan_signals::DatastoreDelete;
/// use serde_json::json;
/// use signals_core::Signal;
///
/// let _c = DatastoreDelete::signal()
///     .connect(|resource: &str, _: &DatastoreDelete| {
///         assert_eq!(resource, "r-1");
///     })
///     .scoped();
/// let deleted = DatastoreDelete { result: json!({}), data_dict: json!({ "resource_id": "r-1" }) };
/// assert_eq!(deleted.send("r-1").receivers_called(), 1);
/// ```
#[signal(namespace = "ckanext")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatastoreDelete {
    /// The action's result.
    pub result: Value,
    /// The action's input.
    pub data_dict: Value,
}
