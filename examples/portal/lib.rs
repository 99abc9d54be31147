//! A small CKAN-like portal, in process: users, datasets with resources, an action API, login,
//! password reset, resource downloads and a datastore. It sends every built-in signal at the
//! points CKAN does; the plugins enabled in `examples/portal.ini` react to them.
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

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use ckan_signals::model::{ActionContext, Blueprint, Response, User, WebApp};
use ckan_signals::{
    ActionSucceeded, DatastoreDelete, DatastoreUpsert, FailedLogin, PerformPasswordReset,
    RegisterBlueprint, RequestFinished, RequestPasswordReset, RequestStarted, ResourceDownload,
    UserCreated, UserLoggedIn, UserLoggedOut,
};
use serde_json::{json, Value};
use signals_core::{SendReport, Signal};

// The plugin crates register their plugins at link time; these lines link them.
signals_core::link!(
    ckanext_activity,
    ckanext_audit,
    ckanext_stats,
    ckanext_notify
);

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

/// Why an action failed (CKAN's `ValidationError` / `NotFound`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The input is invalid.
    #[error("validation error: {0}")]
    Validation(String),
    /// The object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// No action has that name.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
}

/// Why a login failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("login failed: wrong user name, e-mail or password")]
pub struct LoginFailed;

struct Account {
    user: User,
    password: String,
}

/// A resource: an uploaded file or a link.
#[derive(Debug, Clone)]
struct Resource {
    upload: Option<Vec<u8>>,
}

/// The portal's state and its entry points.
pub struct Portal {
    app: WebApp,
    accounts: BTreeMap<String, Account>,
    datasets: BTreeMap<String, Value>,
    resources: BTreeMap<String, Resource>,
    datastore: BTreeMap<String, Vec<Value>>,
    reset_tokens: BTreeMap<String, String>,
    blueprints: Vec<(Blueprint, Option<&'static str>)>,
    logged_in: Option<String>,
    next_id: u32,
    /// Failures reported by sends, kept for the summary.
    pub receiver_failures: Vec<String>,
}

impl Default for Portal {
    fn default() -> Self {
        Portal::new()
    }
}

impl Portal {
    /// An empty portal.
    pub fn new() -> Self {
        Portal {
            app: WebApp::new("ckan"),
            accounts: BTreeMap::new(),
            datasets: BTreeMap::new(),
            resources: BTreeMap::new(),
            datastore: BTreeMap::new(),
            reset_tokens: BTreeMap::new(),
            blueprints: Vec::new(),
            logged_in: None,
            next_id: 1,
            receiver_failures: Vec::new(),
        }
    }

    /// The web app, sender of the request and login signals.
    pub fn app(&self) -> &WebApp {
        &self.app
    }

    fn note(&mut self, report: SendReport) {
        for failure in report.failures() {
            self.receiver_failures.push(failure.to_string());
        }
    }

    fn id(&mut self, prefix: &str) -> String {
        let id = format!("{prefix}-{}", self.next_id);
        self.next_id += 1;
        id
    }

    /// The web app's start-up, as CKAN's `register_package_blueprints` and
    /// `register_group_blueprints` do it: `dataset_types` are the types IDatasetForm plugins
    /// declare, `group_types` the (type, is it an organization) pairs IGroupForm plugins declare.
    ///
    /// Each dataset type gets its two blueprints with [`register_dataset_type`]. When no plugin
    /// declares the default type `dataset`, the core `dataset` and `resource` blueprints are
    /// registered instead, and CKAN sends no `register_blueprint` for them. The core `group` and
    /// `organization` blueprints are registered without a signal too; then each group type goes
    /// through [`register_group_type`].
    ///
    /// [`register_dataset_type`]: Self::register_dataset_type
    /// [`register_group_type`]: Self::register_group_type
    pub fn start_up(&mut self, dataset_types: &[&str], group_types: &[(&str, bool)]) {
        for dataset_type in dataset_types {
            self.register_dataset_type(dataset_type);
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
            self.register_group_type(group_type, *is_organization);
        }
    }

    /// The blueprints registered so far, in order, each with the sender `register_blueprint`
    /// was sent from for it (`None` for a core blueprint, which is not announced).
    pub fn blueprints(&self) -> &[(Blueprint, Option<&'static str>)] {
        &self.blueprints
    }

    /// Registers the blueprints of a dataset type an IDatasetForm plugin declares: the dataset
    /// blueprint (`/{type}`), then the resource blueprint (`{type}_resource`, at
    /// `/{type}/<id>/resource`), sending `register_blueprint` from `"dataset"`, then from
    /// `"resource"`, each just before its blueprint is registered.
    ///
    /// As in CKAN, this holds for a plugin that takes over the default type `dataset` too; only
    /// the core blueprints [`start_up`](Self::start_up) registers when no plugin does are not
    /// announced. (CKAN refuses a type registered twice; the portal does not check.)
    pub fn register_dataset_type(&mut self, dataset_type: &str) {
        let blueprints = [
            ("dataset", dataset_blueprint(dataset_type)),
            (
                "resource",
                Blueprint {
                    name: format!("{dataset_type}_resource"),
                    url_prefix: resource_url_prefix(dataset_type),
                },
            ),
        ];
        for (kind, blueprint) in blueprints {
            self.register_blueprint(kind, blueprint);
        }
    }

    /// Registers the blueprint of a group type an IGroupForm plugin declares (named after the
    /// type, at `/{type}`), sending `register_blueprint` from `"organization"` when the plugin's
    /// type is an organization type, else from `"group"`.
    ///
    /// The core types `group` and `organization` are skipped, with no signal, as CKAN skips
    /// them: their routes are the core blueprints'.
    pub fn register_group_type(&mut self, group_type: &str, is_organization: bool) {
        if matches!(group_type, "group" | "organization") {
            return;
        }
        let kind = if is_organization {
            "organization"
        } else {
            "group"
        };
        let blueprint = Blueprint {
            name: group_type.to_owned(),
            url_prefix: format!("/{group_type}"),
        };
        self.register_blueprint(kind, blueprint);
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

    /// Handles one request: `request_started`, the handler, then `request_finished` with the
    /// response.
    pub fn request<R>(
        &mut self,
        handler: impl FnOnce(&mut Self) -> Result<R, String>,
    ) -> Result<R, String> {
        let report = RequestStarted.send(&self.app);
        self.note(report);
        let result = handler(self);
        let response = Response {
            status: if result.is_ok() { 200 } else { 400 },
            content_type: "application/json".into(),
            content_length: 0,
        };
        let report = RequestFinished { response }.send(&self.app);
        self.note(report);
        result
    }

    /// Calls an action of the action API: [`action_async`](Self::action_async), run to its end
    /// on a minimal executor (`futures::executor::block_on`), as a sync host does. An async
    /// host (axum, actix) awaits `action_async` instead.
    pub fn action(
        &mut self,
        name: &str,
        context: ActionContext,
        data_dict: Value,
    ) -> Result<Value, ActionError> {
        futures::executor::block_on(self.action_async(name, context, data_dict))
    }

    /// Calls an action of the action API. On success sends `action_succeed` with the action's
    /// name as sender (read actions too), and the datastore signals for datastore actions.
    ///
    /// `action_succeed` is sent with `send_async`: its receivers may be async (the `notify`
    /// plugin's webhook awaits a call to another service), and every receiver, sync or async,
    /// runs in connection order before the action returns.
    pub async fn action_async(
        &mut self,
        name: &str,
        context: ActionContext,
        data_dict: Value,
    ) -> Result<Value, ActionError> {
        let result = match name {
            "user_create" => self.user_create(&data_dict)?,
            "user_show" => self.user_show(&data_dict)?,
            "user_update" => self.user_update(&data_dict)?,
            "package_create" => self.package_create(&data_dict)?,
            "package_show" => self.package_show(&data_dict)?,
            "package_update" => self.package_update(&data_dict)?,
            "resource_create" => self.resource_create(&data_dict)?,
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
    /// it goes through [`action_async`](Self::action_async), so it sends `action_succeed` too
    /// (before the calling action's own). Boxed, as an action may call itself indirectly.
    fn get_action<'a>(
        &'a mut self,
        name: &'static str,
        context: ActionContext,
        data_dict: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value, ActionError>> + 'a>> {
        Box::pin(self.action_async(name, context, data_dict))
    }

    /// The context of a request's own action calls: the logged-in user, if any.
    fn request_context(&self) -> ActionContext {
        ActionContext {
            user: self.logged_in.clone(),
            ignore_auth: false,
        }
    }

    fn text<'a>(data: &'a Value, key: &str) -> Result<&'a str, ActionError> {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ActionError::Validation(format!("`{key}` is required")))
    }

    fn user_create(&mut self, data: &Value) -> Result<Value, ActionError> {
        let name = Self::text(data, "name")?.to_owned();
        if self.accounts.contains_key(&name) {
            return Err(ActionError::Validation(format!(
                "user name `{name}` is taken"
            )));
        }
        let user = User {
            id: self.id("user"),
            name: name.clone(),
            email: Self::text(data, "email")?.to_owned(),
            fullname: data
                .get("fullname")
                .and_then(Value::as_str)
                .map(str::to_owned),
            sysadmin: false,
        };
        // Every field is validated before the signal: a user that fails validation is never
        // created, so it must not be announced.
        let password = Self::text(data, "password")?.to_owned();
        // Sent before the commit, as CKAN does.
        let report = UserCreated { user: user.clone() }.send(&name);
        self.note(report);
        self.accounts.insert(
            name,
            Account {
                user: user.clone(),
                password,
            },
        );
        Ok(json!(user))
    }

    fn user_show(&mut self, data: &Value) -> Result<Value, ActionError> {
        let name = Self::text(data, "id")?;
        self.accounts
            .get(name)
            .map(|a| json!(a.user))
            .ok_or_else(|| ActionError::NotFound(format!("user `{name}`")))
    }

    /// Updates a user (found by id or name): password, e-mail or full name. Renaming is not
    /// supported: a `name` in the data is ignored.
    fn user_update(&mut self, data: &Value) -> Result<Value, ActionError> {
        let key = Self::text(data, "id")?;
        let account = self
            .accounts
            .values_mut()
            .find(|a| a.user.id == key || a.user.name == key)
            .ok_or_else(|| ActionError::NotFound(format!("user `{key}`")))?;
        if let Some(password) = data.get("password").and_then(Value::as_str) {
            account.password = password.to_owned();
        }
        if let Some(email) = data.get("email").and_then(Value::as_str) {
            account.user.email = email.to_owned();
        }
        if let Some(fullname) = data.get("fullname").and_then(Value::as_str) {
            account.user.fullname = Some(fullname.to_owned());
        }
        Ok(json!(account.user))
    }

    /// As CKAN's `resource_show`: it reads the resource from its dataset, got through
    /// `get_action('package_show')`, so `action_succeed` goes out for `package_show` first.
    async fn resource_show(
        &mut self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        let id = Self::text(data, "id")?.to_owned();
        let package_id = self
            .datasets
            .iter()
            .find(|(_, d)| {
                d["resources"]
                    .as_array()
                    .is_some_and(|list| list.iter().any(|r| r["id"] == id.as_str()))
            })
            .map(|(package_id, _)| package_id.clone())
            .ok_or_else(|| ActionError::NotFound(format!("resource `{id}`")))?;
        let dataset = self
            .get_action(
                "package_show",
                context.clone(),
                json!({ "id": package_id, "include_tracking": false }),
            )
            .await?;
        dataset["resources"]
            .as_array()
            .and_then(|list| list.iter().find(|r| r["id"] == id.as_str()))
            .cloned()
            .ok_or_else(|| ActionError::NotFound(format!("resource `{id}`")))
    }

    fn package_create(&mut self, data: &Value) -> Result<Value, ActionError> {
        let name = Self::text(data, "name")?.to_owned();
        let id = self.id("dataset");
        let dataset = json!({
            "id": id,
            "name": name,
            "title": data.get("title").cloned().unwrap_or(Value::Null),
            "resources": [],
        });
        self.datasets.insert(id, dataset.clone());
        Ok(dataset)
    }

    fn find_dataset(&self, data: &Value) -> Result<String, ActionError> {
        let key = Self::text(data, "id")?;
        self.datasets
            .iter()
            .find(|(id, d)| id.as_str() == key || d["name"] == key)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| ActionError::NotFound(format!("dataset `{key}`")))
    }

    fn package_show(&mut self, data: &Value) -> Result<Value, ActionError> {
        let id = self.find_dataset(data)?;
        Ok(self.datasets[&id].clone())
    }

    fn package_update(&mut self, data: &Value) -> Result<Value, ActionError> {
        let id = self.find_dataset(data)?;
        let dataset = self
            .datasets
            .get_mut(&id)
            .ok_or_else(|| ActionError::NotFound(id.clone()))?;
        if let Some(title) = data.get("title") {
            dataset["title"] = title.clone();
        }
        Ok(dataset.clone())
    }

    fn resource_create(&mut self, data: &Value) -> Result<Value, ActionError> {
        let package_id = self.find_dataset(&json!({ "id": Self::text(data, "package_id")? }))?;
        let id = self.id("resource");
        let upload = data
            .get("upload")
            .and_then(Value::as_str)
            .map(|s| s.as_bytes().to_vec());
        let resource = json!({
            "id": id,
            "package_id": package_id,
            "url_type": if upload.is_some() { "upload" } else { "link" },
            "url": data.get("url").cloned().unwrap_or(Value::Null),
        });
        if let Some(d) = self.datasets.get_mut(&package_id) {
            if let Some(list) = d["resources"].as_array_mut() {
                list.push(resource.clone());
            }
        }
        self.resources.insert(id, Resource { upload });
        Ok(resource)
    }

    /// As CKAN's: the resource is looked up with `get_action('resource_show')` first (which
    /// sends `action_succeed` for `package_show`, then `resource_show`).
    async fn datastore_upsert(
        &mut self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        let resource_id = Self::text(data, "resource_id")?.to_owned();
        self.get_action(
            "resource_show",
            context.clone(),
            json!({ "id": resource_id }),
        )
        .await?;
        let records = data.get("records").cloned();
        let rows = records
            .as_ref()
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        self.datastore
            .entry(resource_id.clone())
            .or_default()
            .extend(rows);
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
        &mut self,
        context: &ActionContext,
        data: &Value,
    ) -> Result<Value, ActionError> {
        let resource_id = Self::text(data, "resource_id")?.to_owned();
        self.get_action(
            "resource_show",
            context.clone(),
            json!({ "id": resource_id }),
        )
        .await?;
        let Some(rows) = self.datastore.get_mut(&resource_id) else {
            return Err(ActionError::NotFound(format!(
                "datastore table `{resource_id}`"
            )));
        };
        let deleted = rows.len();
        rows.clear();
        let result = json!({ "resource_id": resource_id, "deleted": deleted });
        let report = DatastoreDelete {
            result: result.clone(),
            data_dict: data.clone(),
        }
        .send(&resource_id);
        self.note(report);
        Ok(result)
    }

    /// Logs in by user name or e-mail. A failure sends `failed_login` with the login as typed;
    /// a success sends `logged_in` with the user.
    pub fn login(&mut self, login: &str, password: &str) -> Result<User, LoginFailed> {
        let account = self
            .accounts
            .values()
            .find(|a| (a.user.name == login || a.user.email == login) && a.password == password);
        let Some(user) = account.map(|a| a.user.clone()) else {
            let report = FailedLogin.send(login);
            self.note(report);
            return Err(LoginFailed);
        };
        self.logged_in = Some(user.name.clone());
        let report = UserLoggedIn { user: user.clone() }.send(&self.app);
        self.note(report);
        Ok(user)
    }

    /// Logs the current user out, sending `logged_out`.
    pub fn logout(&mut self) {
        if let Some(name) = self.logged_in.take() {
            if let Some(user) = self.accounts.get(&name).map(|a| a.user.clone()) {
                let report = UserLoggedOut { user }.send(&self.app);
                self.note(report);
            }
        }
    }

    /// Mails a reset link (the token) to the user, then sends `request_password_reset`. As in
    /// CKAN's reset view, the user is looked up with `get_action('user_show')` (auth ignored),
    /// which sends `action_succeed` first.
    pub fn request_password_reset(&mut self, name: &str) -> Result<String, ActionError> {
        let context = ActionContext {
            ignore_auth: true,
            ..self.request_context()
        };
        self.action("user_show", context, json!({ "id": name }))?;
        let user = self
            .accounts
            .get(name)
            .map(|a| a.user.clone())
            .ok_or_else(|| ActionError::NotFound(format!("user `{name}`")))?;
        let token = format!("reset-{}-{}", name, self.next_id);
        self.next_id += 1;
        self.reset_tokens.insert(token.clone(), name.to_owned());
        let report = RequestPasswordReset { user }.send(name);
        self.note(report);
        Ok(token)
    }

    /// Sets a new password from a reset token and sends `perform_password_reset`; its sender
    /// is the user name typed in the form, `None` when the form had none (as is common).
    ///
    /// As CKAN's reset view does, it calls `get_action('user_show')`, then
    /// `get_action('user_update')` with the new password and the reset key (both in the
    /// context of the user being reset), each sending `action_succeed`, before the signal.
    pub fn perform_password_reset(
        &mut self,
        token: &str,
        new_password: &str,
        name_in_form: Option<&str>,
    ) -> Result<(), ActionError> {
        let name =
            self.reset_tokens.get(token).cloned().ok_or_else(|| {
                ActionError::Validation("the reset link is invalid or used".into())
            })?;
        let context = ActionContext {
            user: Some(name.clone()),
            ignore_auth: false,
        };
        let mut user_dict = self.action("user_show", context.clone(), json!({ "id": name }))?;
        user_dict["password"] = json!(new_password);
        if let Some(typed) = name_in_form.filter(|n| !n.is_empty()) {
            user_dict["name"] = json!(typed);
        }
        user_dict["reset_key"] = json!(token);
        self.action("user_update", context, user_dict)?;
        self.reset_tokens.remove(token);
        let user = self
            .accounts
            .get(&name)
            .map(|a| a.user.clone())
            .ok_or_else(|| ActionError::NotFound(format!("user `{name}`")))?;
        let report = PerformPasswordReset { user }.send(&name_in_form.map(str::to_owned));
        self.note(report);
        Ok(())
    }

    /// Downloads a resource. As CKAN's download view, it first calls
    /// `get_action('resource_show')` (which itself calls `package_show`) and
    /// `get_action('package_show')` for the resource's dataset, in the logged-in user's
    /// context: `action_succeed` goes out for `package_show`, `resource_show`, `package_show`.
    /// Then, for an uploaded file, it sends `resource_download` just before the bytes go out;
    /// a link is not downloaded through the portal and sends nothing more.
    pub fn download(&mut self, resource_id: &str) -> Result<Option<Vec<u8>>, ActionError> {
        let context = self.request_context();
        let resource = self.action(
            "resource_show",
            context.clone(),
            json!({ "id": resource_id }),
        )?;
        let package_id = resource["package_id"].clone();
        self.action("package_show", context, json!({ "id": package_id }))?;
        let resource = self
            .resources
            .get(resource_id)
            .cloned()
            .ok_or_else(|| ActionError::NotFound(format!("resource `{resource_id}`")))?;
        let Some(bytes) = resource.upload else {
            return Ok(None);
        };
        let report = ResourceDownload.send(resource_id);
        self.note(report);
        Ok(Some(bytes))
    }
}
