//! The portal's application core: the action API, login, password reset, downloads and the
//! datastore, over the SQLite store, sending each built-in signal at the point CKAN does.
//!
//! The web layer ([`crate::web`]) turns HTTP requests into these calls; `request_started` and
//! `request_finished` come from the tower layer around it, not from here.
//!
//! Actions called from inside a flow go through the portal's own action dispatch, as CKAN's
//! `get_action` does, so each sends `action_succeed`: a download calls `resource_show` (which
//! calls `package_show`) and `package_show`; the password reset calls `user_show`, then
//! `user_update`; `datastore_upsert` and `datastore_delete` call `resource_show` first.
//!
//! Simplified, so the demo stays short: CKAN's `package_create` and `package_update` end by
//! calling `package_show`, and its `resource_create` calls `package_show`, `package_update`,
//! `package_show` and `resource_create_default_resource_views`; `datastore_delete` also calls
//! `resource_patch` to clear `datastore_active`, and a reset requested by e-mail calls
//! `user_list`. The portal's versions of those actions do their work directly, without those
//! inner calls and their `action_succeed` sends.

use std::collections::VecDeque;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ckan_signals::model::{ActionContext, Blueprint, User, WebApp};
use ckan_signals::{
    ActionSucceeded, DatastoreDelete, DatastoreUpsert, FailedLogin, PerformPasswordReset,
    RegisterBlueprint, RequestPasswordReset, ResourceDownload, UserCreated, UserLoggedIn,
    UserLoggedOut,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use signals_core::{SendReport, Signal};

use crate::store::{self, PasswordCost};

/// Why an action failed: CKAN's `ValidationError`, `NotFound` and `NotAuthorized`, a bad
/// request, or a failure of the portal itself. [`crate::web`] maps each to CKAN's status code
/// and error object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The input is invalid: the field and what is wrong with it.
    #[error("validation error: {field}: {message}")]
    Validation {
        /// The field at fault (`name`, `password`, ...).
        field: String,
        /// What is wrong, and what to send instead.
        message: String,
    },
    /// The object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("access denied: {0}")]
    NotAuthorized(String),
    /// No action has that name.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// The portal could not finish: a database error, or a receiver of a signal sent before
    /// the commit failed, so the transaction was rolled back.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ActionError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        ActionError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl From<rusqlite::Error> for ActionError {
    fn from(error: rusqlite::Error) -> Self {
        ActionError::Internal(format!("database: {error}"))
    }
}

/// Why a login failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("login failed: wrong user name, e-mail or password")]
pub struct LoginFailed;

/// A sysadmin made by [`Portal::add_sysadmin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysadmin {
    /// Its API token (for the `Authorization` header).
    pub token: String,
    /// Its password, when the user was created now (random, shown once).
    pub password: Option<String>,
}

/// A message the portal would have e-mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The user it was for.
    pub recipient: String,
    /// The subject line.
    pub subject: String,
    /// The body (a reset link carries its key here).
    pub body: String,
}

/// The blueprint of a dataset type: named after the type, at `/{type}`.
fn dataset_blueprint(dataset_type: &str) -> Blueprint {
    Blueprint {
        name: dataset_type.to_owned(),
        url_prefix: format!("/{dataset_type}"),
    }
}

/// Where the resource routes of a dataset type are mounted: under one dataset,
/// `/{type}/<id>/resource` (`<id>` is the dataset's, a Flask route variable).
fn resource_url_prefix(dataset_type: &str) -> String {
    format!("/{dataset_type}/<id>/resource")
}

/// CKAN's password rule, for `user_create`, `user_update` and the reset form alike.
fn validate_password(password: &str) -> Result<(), ActionError> {
    if password.chars().count() < 8 {
        return Err(ActionError::invalid(
            "password",
            "Your password must be 8 characters or longer",
        ));
    }
    Ok(())
}

/// The number in an id such as `dataset-3`, if `key` is one with that prefix.
fn row_id(key: &str, prefix: &str) -> Option<i64> {
    key.strip_prefix(prefix)?.strip_prefix('-')?.parse().ok()
}

/// Every action the portal knows.
pub const ACTIONS: &[&str] = &[
    "user_create",
    "user_show",
    "user_update",
    "api_token_create",
    "package_create",
    "package_show",
    "package_update",
    "resource_create",
    "resource_show",
    "datastore_upsert",
    "datastore_delete",
];

/// The action names that only read: CKAN's API also answers them over `GET`.
pub const READ_ACTIONS: &[&str] = &["user_show", "package_show", "resource_show"];

/// How many receiver failures [`Portal::receiver_failures`] keeps (the latest): a server
/// that runs for days must not grow without bound. Every failure is logged anyway.
pub const MAX_KEPT_FAILURES: usize = 100;

/// The portal's state: its database, the web app (sender of the request and login signals)
/// and the blueprints registered at start-up.
///
/// Shared by the requests as it is (`Arc<Portal>`): its database connection sits behind a
/// lock taken only for the statements of one step and never across an `.await`, so async
/// receivers (the `notify` webhook, or one that calls the portal back over HTTP) run while
/// other requests proceed.
pub struct Portal {
    app: WebApp,
    db: Mutex<Connection>,
    cost: PasswordCost,
    blueprints: Vec<(Blueprint, Option<&'static str>)>,
    failures: Mutex<VecDeque<String>>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("app", &self.app)
            .field("blueprints", &self.blueprints.len())
            .finish_non_exhaustive()
    }
}

impl Portal {
    /// A portal on the database at `database` (`None`: in memory), its schema created if
    /// absent, hashing passwords at `cost`.
    pub fn open(database: Option<&Path>, cost: PasswordCost) -> Result<Self, rusqlite::Error> {
        Ok(Portal {
            app: WebApp::new("ckan"),
            db: Mutex::new(store::open(database)?),
            cost,
            blueprints: Vec::new(),
            failures: Mutex::new(VecDeque::new()),
        })
    }

    /// The database, for the statements of one step. Never held across an `.await` (the
    /// guard is not `Send`: the compiler refuses it in a request's future).
    fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Failures reported by the portal's sends, the latest [`MAX_KEPT_FAILURES`], oldest
    /// first, for the story's summary (every one is logged too, through `tracing`).
    pub fn receiver_failures(&self) -> Vec<String> {
        self.failures
            .lock()
            .map(|f| f.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The web app, sender of the request and login signals.
    pub fn app(&self) -> &WebApp {
        &self.app
    }

    fn note(&self, report: SendReport) {
        let Ok(mut kept) = self.failures.lock() else {
            return;
        };
        for failure in report.failures() {
            if kept.len() == MAX_KEPT_FAILURES {
                kept.pop_front();
            }
            kept.push_back(failure.to_string());
        }
    }

    /// The web app's start-up, as CKAN's `register_package_blueprints` and
    /// `register_group_blueprints` do it: `dataset_types` are the types IDatasetForm plugins
    /// declare, `group_types` the (type, is it an organization) pairs IGroupForm plugins declare.
    ///
    /// Each dataset type gets its two blueprints, each announced with `register_blueprint`
    /// just before it is registered (sender `"dataset"`, then `"resource"`). When no plugin
    /// declares the default type `dataset`, the core `dataset` and `resource` blueprints are
    /// registered instead, and CKAN sends no `register_blueprint` for them. The core `group` and
    /// `organization` blueprints are registered without a signal too; then each group type's
    /// blueprint is announced from `"organization"` or `"group"` (the core types `group` and
    /// `organization` are skipped, with no signal, as CKAN skips them).
    pub fn start_up(&mut self, dataset_types: &[&str], group_types: &[(&str, bool)]) {
        for dataset_type in dataset_types {
            self.register_blueprint("dataset", dataset_blueprint(dataset_type));
            let resource = Blueprint {
                name: format!("{dataset_type}_resource"),
                url_prefix: resource_url_prefix(dataset_type),
            };
            self.register_blueprint("resource", resource);
        }
        if !dataset_types.contains(&"dataset") {
            self.blueprints.push((dataset_blueprint("dataset"), None));
            let resource = Blueprint {
                name: "resource".into(),
                url_prefix: resource_url_prefix("dataset"),
            };
            self.blueprints.push((resource, None));
        }
        for core in ["group", "organization"] {
            let blueprint = Blueprint {
                name: core.into(),
                url_prefix: format!("/{core}"),
            };
            self.blueprints.push((blueprint, None));
        }
        for (group_type, is_organization) in group_types {
            if matches!(*group_type, "group" | "organization") {
                continue;
            }
            let kind = if *is_organization {
                "organization"
            } else {
                "group"
            };
            self.register_blueprint(kind, dataset_blueprint(group_type));
        }
    }

    /// The blueprints registered so far, in order, each with the sender `register_blueprint`
    /// was sent from for it (`None` for a core blueprint, which is not announced).
    pub fn blueprints(&self) -> &[(Blueprint, Option<&'static str>)] {
        &self.blueprints
    }

    /// Sends `register_blueprint` from `kind`, then registers the blueprint.
    fn register_blueprint(&mut self, kind: &'static str, blueprint: Blueprint) {
        let report = RegisterBlueprint {
            blueprint: blueprint.clone(),
        }
        .send(kind);
        self.note(report);
        self.blueprints.push((blueprint, Some(kind)));
    }

    /// Makes `name` a sysadmin with a fresh API token, as `ckan sysadmin add` and
    /// `ckan user token add` do (no signal: CKAN's CLI does not go through `user_create`'s
    /// signal either). A new user gets a random password, returned once; an existing one keeps
    /// its password. Its previous `cli` tokens are revoked.
    pub fn add_sysadmin(&self, name: &str) -> Result<Sysadmin, ActionError> {
        let exists: bool = self.db().query_row(
            "SELECT EXISTS (SELECT 1 FROM user WHERE name = ?1)",
            [name],
            |row| row.get(0),
        )?;
        let password = if exists {
            self.db()
                .execute("UPDATE user SET sysadmin = 1 WHERE name = ?1", [name])?;
            None
        } else {
            let password = store::random_token().map_err(ActionError::Internal)?;
            let hash = self.cost.hash(&password).map_err(ActionError::Internal)?;
            self.db().execute(
                "INSERT INTO user (name, email, sysadmin, password_hash) VALUES (?1, ?2, 1, ?3)",
                params![name, format!("{name}@localhost"), hash],
            )?;
            Some(password)
        };
        self.db().execute(
            "DELETE FROM api_token WHERE name = 'cli' AND user_id = (SELECT id FROM user WHERE name = ?1)",
            [name],
        )?;
        Ok(Sysadmin {
            token: self.token_for(name, "cli")?,
            password,
        })
    }

    fn token_for(&self, user: &str, token_name: &str) -> Result<String, ActionError> {
        let token = store::random_token().map_err(ActionError::Internal)?;
        let inserted = self.db().execute(
            "INSERT INTO api_token (token, user_id, name) SELECT ?1, id, ?3 FROM user WHERE name = ?2",
            params![token, user, token_name],
        )?;
        if inserted == 0 {
            return Err(ActionError::NotFound(format!("user `{user}`")));
        }
        Ok(token)
    }

    /// The user an API token belongs to (the `Authorization` header's value, with or without
    /// `Bearer `).
    pub fn user_of_token(&self, token: &str) -> Result<Option<String>, ActionError> {
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        Ok(self
            .db()
            .query_row(
                "SELECT user.name FROM api_token JOIN user ON user.id = api_token.user_id WHERE token = ?1",
                [token],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The user a login session belongs to.
    pub fn user_of_session(&self, session: &str) -> Result<Option<String>, ActionError> {
        Ok(self
            .db()
            .query_row(
                "SELECT user.name FROM session JOIN user ON user.id = session.user_id WHERE session.id = ?1",
                [session],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The messages the portal would have e-mailed, oldest first.
    pub fn mail(&self) -> Result<Vec<Mail>, ActionError> {
        let db = self.db();
        let mut query = db.prepare("SELECT recipient, subject, body FROM mail ORDER BY id")?;
        let rows = query.query_map([], |row| {
            Ok(Mail {
                recipient: row.get(0)?,
                subject: row.get(1)?,
                body: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls an action of the action API. On success sends `action_succeed` with the action's
    /// name as sender (read actions too), and the datastore signals for datastore actions.
    ///
    /// `action_succeed` is sent with `send_async`: its receivers may be async (the `notify`
    /// plugin's webhook awaits a POST to another service), and every receiver, sync or async,
    /// runs in connection order before the action returns.
    pub async fn action(
        &self,
        name: &str,
        context: ActionContext,
        data_dict: Value,
    ) -> Result<Value, ActionError> {
        let result = match name {
            "user_create" => self.user_create(&data_dict)?,
            "user_show" => self.user_show(&context, &data_dict)?,
            "user_update" => self.user_update(&context, &data_dict)?,
            "api_token_create" => self.api_token_create(&context, &data_dict)?,
            "package_create" => self.package_create(&context, &data_dict)?,
            "package_show" => self.package_show(&data_dict)?,
            "package_update" => self.package_update(&context, &data_dict)?,
            "resource_create" => self.resource_create(&context, &data_dict)?,
            "resource_show" => self.resource_show(&context, &data_dict).await?,
            "datastore_upsert" => self.datastore_upsert(&context, &data_dict).await?,
            "datastore_delete" => self.datastore_delete(&context, &data_dict).await?,
            other => return Err(ActionError::UnknownAction(other.to_owned())),
        };
        let event = ActionSucceeded {
            context,
            data_dict,
            result: result.clone(),
        };
        let report = event.send_async(name).await;
        self.note(report);
        Ok(result)
    }

    /// An action called from inside another one, as CKAN's `get_action(name)(context, data)`:
    /// it goes through [`action`](Self::action), so it sends `action_succeed` too (before the
    /// calling action's own). Boxed, as an action may call itself indirectly.
    fn get_action<'a>(
        &'a self,
        name: &'static str,
        context: ActionContext,
        data_dict: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value, ActionError>> + Send + 'a>> {
        Box::pin(self.action(name, context, data_dict))
    }

    fn text<'a>(data: &'a Value, key: &str) -> Result<&'a str, ActionError> {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ActionError::invalid(key, "Missing value"))
    }

    /// The caller, or `NotAuthorized` for an anonymous call to an action that needs one.
    fn caller<'a>(context: &'a ActionContext, action: &str) -> Result<&'a str, ActionError> {
        context.user.as_deref().ok_or_else(|| {
            ActionError::NotAuthorized(format!(
                "User not authorized to call {action}: log in, or send an API token in the \
                 Authorization header"
            ))
        })
    }

    fn is_sysadmin(&self, name: &str) -> Result<bool, ActionError> {
        Ok(self
            .db()
            .query_row("SELECT sysadmin FROM user WHERE name = ?1", [name], |row| {
                row.get(0)
            })
            .optional()?
            .unwrap_or(false))
    }

    fn load_user(&self, key: &str) -> Result<User, ActionError> {
        let by_id = row_id(key, "user").unwrap_or(-1);
        self.db()
            .query_row(
                "SELECT id, name, email, fullname, sysadmin FROM user WHERE name = ?1 OR id = ?2",
                params![key, by_id],
                |row| {
                    Ok(User {
                        id: format!("user-{}", row.get::<_, i64>(0)?),
                        name: row.get(1)?,
                        email: row.get(2)?,
                        fullname: row.get(3)?,
                        sysadmin: row.get(4)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| ActionError::NotFound(format!("user `{key}`")))
    }

    /// Creates a user. As CKAN's `user_create`: every field is validated first, the row is
    /// written in a transaction, `user_created` is sent, and only then is the transaction
    /// committed. A receiver of `user_created` that fails (an error or a panic) stops the send
    /// and rolls the transaction back, as an exception from a blinker receiver does in CKAN:
    /// the receivers after it do not run, the user is not created and the action fails with
    /// [`ActionError::Internal`] naming the receiver (in the log, not in the answer). The send
    /// is synchronous, inside the transaction: an async `user_created` receiver is such a
    /// failure; connect a sync one (and hand slow work to a task or a worker).
    fn user_create(&self, data: &Value) -> Result<Value, ActionError> {
        let name = Self::text(data, "name")?.to_owned();
        let email = Self::text(data, "email")?.to_owned();
        let password = Self::text(data, "password")?;
        validate_password(password)?;
        let fullname = data.get("fullname").and_then(Value::as_str);
        let hash = self.cost.hash(password).map_err(ActionError::Internal)?;
        let mut db = self.db();
        let tx = db.transaction()?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM user WHERE name = ?1)",
            [&name],
            |row| row.get(0),
        )?;
        if taken {
            return Err(ActionError::invalid(
                "name",
                "That login name is not available.",
            ));
        }
        tx.execute(
            "INSERT INTO user (name, email, fullname, password_hash) VALUES (?1, ?2, ?3, ?4)",
            params![name, email, fullname, hash],
        )?;
        let user = User {
            id: format!("user-{}", tx.last_insert_rowid()),
            name: name.clone(),
            email,
            fullname: fullname.map(str::to_owned),
            sysadmin: false,
        };
        // Sent before the commit, as CKAN does, and stopped at the first failure, as blinker
        // stops at a receiver's exception. A sync send: the transaction holds the database,
        // and an async receiver here would hold it across its awaits; one is reported
        // (`FailureKind::AsyncReceiver`) and rolls the user back like any failure.
        // Forwarding to other processes (see `cross`) is held until the commit: an event of a
        // user that is rolled back never leaves this process.
        let held = signals_redis::hold();
        let event = UserCreated { user: user.clone() };
        let report = UserCreated::signal()
            .sending(&name, &event)
            .fail_fast()
            .run();
        if let Some(failure) = report.failures().first() {
            let why =
                format!("the user was not created: a user_created receiver failed: {failure}");
            // Dropping `tx` rolls back; dropping `held` discards what was to be forwarded.
            drop(tx);
            drop(held);
            self.note(report);
            return Err(ActionError::Internal(why));
        }
        tx.commit()?;
        drop(db);
        if let Err(error) = held.release() {
            // Committed, but not forwarded: logged, and kept for the summary.
            tracing::error!(error = %error, "user_created was not forwarded");
            if let Ok(mut kept) = self.failures.lock() {
                kept.push_back(error.to_string());
            }
        }
        Ok(json!(user))
    }

    /// A user's details; the e-mail address only for the user themselves, a sysadmin, or a
    /// call that ignores auth, as CKAN shows it.
    fn user_show(&self, context: &ActionContext, data: &Value) -> Result<Value, ActionError> {
        let key = Self::text(data, "id")?;
        let user = self.load_user(key)?;
        let own = context.user.as_deref() == Some(user.name.as_str());
        let admin = match context.user.as_deref() {
            Some(caller) => self.is_sysadmin(caller)?,
            None => false,
        };
        let mut shown = json!(user);
        if !(own || admin || context.ignore_auth) {
            if let Some(fields) = shown.as_object_mut() {
                fields.remove("email");
            }
        }
        Ok(shown)
    }

    /// Updates a user (found by id or name): password, e-mail or full name. Renaming is not
    /// supported: a `name` in the data is ignored. Only the user themselves or a sysadmin may.
    fn user_update(&self, context: &ActionContext, data: &Value) -> Result<Value, ActionError> {
        let key = Self::text(data, "id")?;
        let user = self.load_user(key)?;
        let caller = Self::caller(context, "user_update")?;
        if !context.ignore_auth && caller != user.name && !self.is_sysadmin(caller)? {
            return Err(ActionError::NotAuthorized(format!(
                "User {caller} not authorized to edit user {}",
                user.name
            )));
        }
        let id = row_id(&user.id, "user").unwrap_or(-1);
        if let Some(password) = data.get("password").and_then(Value::as_str) {
            validate_password(password)?;
            let hash = self.cost.hash(password).map_err(ActionError::Internal)?;
            self.db().execute(
                "UPDATE user SET password_hash = ?1 WHERE id = ?2",
                params![hash, id],
            )?;
        }
        if let Some(email) = data.get("email").and_then(Value::as_str) {
            self.db().execute(
                "UPDATE user SET email = ?1 WHERE id = ?2",
                params![email, id],
            )?;
        }
        if let Some(fullname) = data.get("fullname").and_then(Value::as_str) {
            self.db().execute(
                "UPDATE user SET fullname = ?1 WHERE id = ?2",
                params![fullname, id],
            )?;
        }
        Ok(json!(self.load_user(&user.name)?))
    }

    /// Creates an API token for a user (the user themselves or a sysadmin): `{user, name}`,
    /// giving `{"token": ...}`.
    fn api_token_create(
        &self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        let user = Self::text(data, "user")?.to_owned();
        let name = Self::text(data, "name")?.to_owned();
        let caller = Self::caller(context, "api_token_create")?;
        if caller != user && !self.is_sysadmin(caller)? {
            return Err(ActionError::NotAuthorized(format!(
                "User {caller} not authorized to create tokens for {user}"
            )));
        }
        Ok(json!({ "token": self.token_for(&user, &name)? }))
    }

    fn package_json(&self, id: i64) -> Result<Value, ActionError> {
        let (name, title): (String, Option<String>) = self
            .db()
            .query_row(
                "SELECT name, title FROM package WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| ActionError::NotFound(format!("dataset `dataset-{id}`")))?;
        let db = self.db();
        let mut query = db.prepare(
            "SELECT id, url, upload IS NOT NULL FROM resource WHERE package_id = ?1 ORDER BY id",
        )?;
        let resources = query
            .query_map([id], |row| {
                let upload: bool = row.get(2)?;
                Ok(json!({
                    "id": format!("resource-{}", row.get::<_, i64>(0)?),
                    "package_id": format!("dataset-{id}"),
                    "url_type": if upload { "upload" } else { "link" },
                    "url": row.get::<_, Option<String>>(1)?,
                }))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({
            "id": format!("dataset-{id}"),
            "name": name,
            "title": title,
            "resources": resources,
        }))
    }

    /// The row id of the dataset `key` names (its id or its name).
    fn find_dataset(&self, key: &str) -> Result<i64, ActionError> {
        let by_id = row_id(key, "dataset").unwrap_or(-1);
        self.db()
            .query_row(
                "SELECT id FROM package WHERE name = ?1 OR id = ?2",
                params![key, by_id],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| ActionError::NotFound(format!("dataset `{key}`")))
    }

    fn package_create(&self, context: &ActionContext, data: &Value) -> Result<Value, ActionError> {
        Self::caller(context, "package_create")?;
        let name = Self::text(data, "name")?;
        let title = data.get("title").and_then(Value::as_str);
        // One guard for the insert and its row id: another request's insert cannot come between.
        let id = {
            let db = self.db();
            let inserted = db.execute(
                "INSERT INTO package (name, title) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, title],
            )?;
            if inserted == 0 {
                return Err(ActionError::invalid("name", "That URL is already in use."));
            }
            db.last_insert_rowid()
        };
        self.package_json(id)
    }

    fn package_show(&self, data: &Value) -> Result<Value, ActionError> {
        let id = self.find_dataset(Self::text(data, "id")?)?;
        self.package_json(id)
    }

    fn package_update(&self, context: &ActionContext, data: &Value) -> Result<Value, ActionError> {
        Self::caller(context, "package_update")?;
        let id = self.find_dataset(Self::text(data, "id")?)?;
        if let Some(title) = data.get("title").and_then(Value::as_str) {
            self.db().execute(
                "UPDATE package SET title = ?1 WHERE id = ?2",
                params![title, id],
            )?;
        }
        self.package_json(id)
    }

    fn resource_create(&self, context: &ActionContext, data: &Value) -> Result<Value, ActionError> {
        Self::caller(context, "resource_create")?;
        let package = self.find_dataset(Self::text(data, "package_id")?)?;
        let upload = data
            .get("upload")
            .and_then(Value::as_str)
            .map(str::as_bytes);
        let url = data.get("url").and_then(Value::as_str);
        if upload.is_none() && url.is_none() {
            return Err(ActionError::invalid(
                "url",
                "Missing value: give a `url` or an `upload`",
            ));
        }
        let id = {
            let db = self.db();
            db.execute(
                "INSERT INTO resource (package_id, url, upload) VALUES (?1, ?2, ?3)",
                params![package, url, upload],
            )?;
            db.last_insert_rowid()
        };
        Ok(json!({
            "id": format!("resource-{id}"),
            "package_id": format!("dataset-{package}"),
            "url_type": if upload.is_some() { "upload" } else { "link" },
            "url": url,
        }))
    }

    /// As CKAN's `resource_show`: it reads the resource from its dataset, got through
    /// `get_action('package_show')`, so `action_succeed` goes out for `package_show` first.
    async fn resource_show(
        &self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        let id = Self::text(data, "id")?.to_owned();
        let missing = || ActionError::NotFound(format!("resource `{id}`"));
        let row = row_id(&id, "resource").ok_or_else(missing)?;
        let package: i64 = self
            .db()
            .query_row(
                "SELECT package_id FROM resource WHERE id = ?1",
                [row],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(missing)?;
        let dataset = self
            .get_action(
                "package_show",
                context.clone(),
                json!({ "id": format!("dataset-{package}"), "include_tracking": false }),
            )
            .await?;
        dataset["resources"]
            .as_array()
            .and_then(|list| list.iter().find(|r| r["id"] == id.as_str()))
            .cloned()
            .ok_or_else(missing)
    }

    /// As CKAN's: the resource is looked up with `get_action('resource_show')` first (which
    /// sends `action_succeed` for `package_show`, then `resource_show`).
    async fn datastore_upsert(
        &self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        Self::caller(context, "datastore_upsert")?;
        let resource_id = Self::text(data, "resource_id")?.to_owned();
        self.get_action(
            "resource_show",
            context.clone(),
            json!({ "id": resource_id }),
        )
        .await?;
        let row = row_id(&resource_id, "resource").unwrap_or(-1);
        let records = data.get("records").cloned();
        let rows = records.as_ref().and_then(Value::as_array);
        let mut db = self.db();
        let tx = db.transaction()?;
        for record in rows.into_iter().flatten() {
            tx.execute(
                "INSERT INTO datastore_row (resource_id, record) VALUES (?1, ?2)",
                params![row, record.to_string()],
            )?;
        }
        tx.commit()?;
        // As CKAN: the signal gets the records the call gave (`None` only without any);
        // `include_records` (default false) decides only whether the result holds them.
        let report = DatastoreUpsert {
            records: records.clone(),
        }
        .send(&resource_id);
        self.note(report);
        let mut result = json!({ "resource_id": resource_id });
        let include = data.get("include_records").and_then(Value::as_bool);
        if let (Some(true), Some(records)) = (include, records) {
            result["records"] = records;
        }
        Ok(result)
    }

    /// As CKAN's: the resource is looked up with `get_action('resource_show')` first.
    async fn datastore_delete(
        &self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        Self::caller(context, "datastore_delete")?;
        let resource_id = Self::text(data, "resource_id")?.to_owned();
        self.get_action(
            "resource_show",
            context.clone(),
            json!({ "id": resource_id }),
        )
        .await?;
        let row = row_id(&resource_id, "resource").unwrap_or(-1);
        let has_table: bool = self.db().query_row(
            "SELECT EXISTS (SELECT 1 FROM datastore_row WHERE resource_id = ?1)",
            [row],
            |r| r.get(0),
        )?;
        if !has_table {
            return Err(ActionError::NotFound(format!(
                "datastore table `{resource_id}`"
            )));
        }
        let deleted = self
            .db()
            .execute("DELETE FROM datastore_row WHERE resource_id = ?1", [row])?;
        let result = json!({ "resource_id": resource_id, "deleted": deleted });
        let report = DatastoreDelete {
            result: result.clone(),
            data_dict: data.clone(),
        }
        .send(&resource_id);
        self.note(report);
        Ok(result)
    }

    /// Logs in by user name or e-mail, checking the password against its hash. A failure
    /// sends `failed_login` with the login as typed; a success sends `logged_in` with the user
    /// and returns a new session id.
    pub fn login(&self, login: &str, password: &str) -> Result<(User, String), LoginFailed> {
        let found: Option<(String, String)> = self
            .db()
            .query_row(
                "SELECT name, password_hash FROM user WHERE name = ?1 OR email = ?1",
                [login],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .unwrap_or(None);
        let user = found
            .filter(|(_, hash)| store::password_matches(password, hash))
            .and_then(|(name, _)| self.load_user(&name).ok());
        let session = store::random_token().ok();
        let (Some(user), Some(session)) = (user, session) else {
            let report = FailedLogin.send(login);
            self.note(report);
            return Err(LoginFailed);
        };
        let id = row_id(&user.id, "user").unwrap_or(-1);
        if self
            .db()
            .execute(
                "INSERT INTO session (id, user_id) VALUES (?1, ?2)",
                params![session, id],
            )
            .is_err()
        {
            return Err(LoginFailed);
        }
        let report = UserLoggedIn { user: user.clone() }.send(&self.app);
        self.note(report);
        Ok((user, session))
    }

    /// Ends a login session, sending `logged_out` with its user. An unknown session sends
    /// nothing.
    pub fn logout(&self, session: &str) -> Result<(), ActionError> {
        let Some(name) = self.user_of_session(session)? else {
            return Ok(());
        };
        self.db()
            .execute("DELETE FROM session WHERE id = ?1", [session])?;
        let user = self.load_user(&name)?;
        let report = UserLoggedOut { user }.send(&self.app);
        self.note(report);
        Ok(())
    }

    /// Mails a reset link (the key) to the user, then sends `request_password_reset`. As in
    /// CKAN's reset view, the user is looked up with `get_action('user_show')` (auth ignored),
    /// which sends `action_succeed` first.
    pub async fn request_password_reset(&self, name: &str) -> Result<(), ActionError> {
        let context = ActionContext {
            user: None,
            ignore_auth: true,
        };
        self.action("user_show", context, json!({ "id": name }))
            .await?;
        let user = self.load_user(name)?;
        let key = store::random_token().map_err(ActionError::Internal)?;
        let id = row_id(&user.id, "user").unwrap_or(-1);
        self.db().execute(
            "INSERT INTO reset_key (key, user_id) VALUES (?1, ?2)",
            params![key, id],
        )?;
        self.db().execute(
            "INSERT INTO mail (recipient, subject, body) VALUES (?1, ?2, ?3)",
            params![
                user.name,
                "Reset your password",
                format!("/user/reset/{}?key={key}", user.id)
            ],
        )?;
        let report = RequestPasswordReset { user }.send(name);
        self.note(report);
        Ok(())
    }

    /// Sets a new password from a reset key and sends `perform_password_reset`; its sender
    /// is the user name typed in the form, `None` when the form had none (as is common).
    ///
    /// As CKAN's reset view does, it calls `get_action('user_show')`, then
    /// `get_action('user_update')` with the new password and the reset key (both in the
    /// context of the user being reset), each sending `action_succeed`, before the signal.
    pub async fn perform_password_reset(
        &self,
        key: &str,
        new_password: &str,
        name_in_form: Option<&str>,
    ) -> Result<(), ActionError> {
        let name: String = self
            .db()
            .query_row(
                "SELECT user.name FROM reset_key JOIN user ON user.id = reset_key.user_id WHERE key = ?1",
                [key],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                ActionError::invalid("key", "the reset link is invalid or used: ask for a new one")
            })?;
        let context = ActionContext {
            user: Some(name.clone()),
            ignore_auth: false,
        };
        let mut user_dict = self
            .action("user_show", context.clone(), json!({ "id": name }))
            .await?;
        user_dict["password"] = json!(new_password);
        if let Some(typed) = name_in_form.filter(|n| !n.is_empty()) {
            user_dict["name"] = json!(typed);
        }
        user_dict["reset_key"] = json!(key);
        self.action("user_update", context, user_dict).await?;
        self.db()
            .execute("DELETE FROM reset_key WHERE key = ?1", [key])?;
        let user = self.load_user(&name)?;
        let report = PerformPasswordReset { user }.send(&name_in_form.map(str::to_owned));
        self.note(report);
        Ok(())
    }

    /// Downloads a resource. As CKAN's download view, it first calls
    /// `get_action('resource_show')` (which itself calls `package_show`) and
    /// `get_action('package_show')` for the resource's dataset, in the caller's context:
    /// `action_succeed` goes out for `package_show`, `resource_show`, `package_show`. Then, for
    /// an uploaded file, it sends `resource_download` just before the bytes go out; a link
    /// (`Ok(Err(url))`) is not downloaded through the portal and sends nothing more.
    pub async fn download(
        &self,
        context: ActionContext,
        resource_id: &str,
    ) -> Result<Result<Vec<u8>, Option<String>>, ActionError> {
        let resource = self
            .action(
                "resource_show",
                context.clone(),
                json!({ "id": resource_id }),
            )
            .await?;
        let package_id = resource["package_id"].clone();
        self.action("package_show", context, json!({ "id": package_id }))
            .await?;
        let row = row_id(resource_id, "resource").unwrap_or(-1);
        let (upload, url): (Option<Vec<u8>>, Option<String>) = self.db().query_row(
            "SELECT upload, url FROM resource WHERE id = ?1",
            [row],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let Some(bytes) = upload else {
            return Ok(Err(url));
        };
        let report = ResourceDownload.send(resource_id);
        self.note(report);
        Ok(Ok(bytes))
    }

    /// How many users the database holds (the commit tests read it).
    pub fn user_count(&self) -> Result<usize, ActionError> {
        let n: i64 = self
            .db()
            .query_row("SELECT COUNT(*) FROM user", [], |row| row.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// The connections `plugin` owns now, one line each: signal, receiver, whether it is async,
/// sender filter.
pub fn connections_of_plugin(plugin: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for namespace in signals_core::Namespace::all() {
        for signal in namespace.signals() {
            for connection in signal.connections() {
                let info = &connection.receiver;
                if info.plugin.as_deref() == Some(plugin) {
                    let kind = if info.is_async { "async, " } else { "" };
                    let filter = &connection.filter;
                    lines.push(format!("{signal} <- {} ({kind}{filter})", info.name));
                }
            }
        }
    }
    lines
}
