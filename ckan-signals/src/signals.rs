//! CKAN's 13 built-in signals, with CKAN's namespaces, registered names, senders and keyword
//! arguments (CKAN 2.10 to 2.12).
//!
//! Three registered names differ from their Python aliases: `user_logged_in` is registered as
//! `logged_in`, `user_logged_out` as `logged_out`, and `action_succeeded` as
//! `action_succeed`. The Rust type takes the alias; the registered name is what
//! `ckan.signal("...")` must be asked for.

use serde::Serialize;
use serde_json::Value;
use signals_core::signal;

use crate::model::{ActionContext, Blueprint, Response, User, WebApp};

/// Sent when a request's context is set up, before any request processing happens.
///
/// Sender: the web app. No keyword arguments.
#[signal(namespace = "ckan", sender = WebApp)]
#[derive(Debug, Clone, Serialize)]
pub struct RequestStarted;

/// Sent right before the response is sent to the client.
///
/// Sender: the web app.
#[signal(namespace = "ckan", sender = WebApp)]
#[derive(Debug, Clone, Serialize)]
pub struct RequestFinished {
    /// The response about to go out.
    pub response: Response,
}

/// Sent when a blueprint for a plugin-defined dataset, resource, group or organization type is
/// about to be registered in the application.
///
/// Sender: the blueprint type: `"dataset"`, `"resource"`, `"group"` or `"organization"`.
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, Serialize)]
pub struct RegisterBlueprint {
    /// The blueprint being registered.
    pub blueprint: Blueprint,
}

/// Sent just before a file from an uploaded resource is sent to the user (not for links).
///
/// Sender: the resource's id. No keyword arguments.
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, Serialize)]
pub struct ResourceDownload;

/// Sent after a user logged in. Registered as `logged_in` (CKAN 2.11+).
///
/// Sender: the web app.
#[signal(namespace = "ckan", name = "logged_in", sender = WebApp)]
#[derive(Debug, Clone, Serialize)]
pub struct UserLoggedIn {
    /// The user who logged in.
    pub user: User,
}

/// Sent after a user logged out. Registered as `logged_out` (CKAN 2.11+).
///
/// Sender: the web app.
#[signal(namespace = "ckan", name = "logged_out", sender = WebApp)]
#[derive(Debug, Clone, Serialize)]
pub struct UserLoggedOut {
    /// The user who logged out.
    pub user: User,
}

/// Sent after a failed login attempt.
///
/// Sender: the login as typed (a user name or an e-mail address). No keyword arguments.
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, Serialize)]
pub struct FailedLogin;

/// Sent when a new user is created (before the commit).
///
/// Sender: the new user's name.
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, Serialize)]
pub struct UserCreated {
    /// The new user.
    pub user: User,
}

/// Sent just after the mail with a password reset link was sent to a user.
///
/// Sender: the user's name.
#[signal(namespace = "ckan")]
#[derive(Debug, Clone, Serialize)]
pub struct RequestPasswordReset {
    /// The user who asked for the reset.
    pub user: User,
}

/// Sent when a user submitted the password reset form with a new password.
///
/// Sender: the user's name, often `None` (CKAN sends the name only when the form had it).
#[signal(namespace = "ckan", sender = Option<String>)]
#[derive(Debug, Clone, Serialize)]
pub struct PerformPasswordReset {
    /// The user whose password changed.
    pub user: User,
}

/// Sent when any action called through the action API finished without an exception (read
/// actions too). Registered as `action_succeed`.
///
/// Sender: the action's name, such as `"package_create"`.
#[signal(namespace = "ckan", name = "action_succeed")]
#[derive(Debug, Clone, Serialize)]
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
#[signal(namespace = "ckanext")]
#[derive(Debug, Clone, Serialize)]
pub struct DatastoreUpsert {
    /// The records written; `None` when the call did not return them.
    pub records: Option<Value>,
}

/// Sent after a successful call to `datastore_delete`.
///
/// Sender: the resource's id.
#[signal(namespace = "ckanext")]
#[derive(Debug, Clone, Serialize)]
pub struct DatastoreDelete {
    /// The action's result.
    pub result: Value,
    /// The action's input.
    pub data_dict: Value,
}
