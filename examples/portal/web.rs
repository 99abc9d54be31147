//! The portal over HTTP: an axum router with CKAN's routes, the action API in CKAN's wire
//! format, and the tower layer that sends `request_started` and `request_finished`.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/3/action/{name}` (and `/api/action/{name}`) | any action, JSON body |
//! | `GET /api/3/action/{name}?k=v` | the read actions ([`READ_ACTIONS`]) |
//! | `POST /user/register` | form `name`, `email`, `password`, `fullname` |
//! | `POST /user/login` | form `login`, `password`; sets the `ckan` session cookie |
//! | `GET /user/_logout` | ends the session |
//! | `POST /user/reset` | form `user`: mails a reset link |
//! | `POST /user/reset/{id}?key=K` | form `password1`, `password2`, `name` (optional) |
//! | `GET /{type}/{id}/resource/{resource_id}/download` | a resource's bytes |
//! | `GET /` and each blueprint's prefix | a short text page |
//!
//! A caller is identified by an API token in the `Authorization` header (as CKAN takes it:
//! the bare token, `Bearer ` allowed), else by the session cookie. An unknown token is
//! ignored: the session cookie decides, and without one the caller is anonymous.
//!
//! The action API answers as CKAN's `api.py` does: `{"help": ..., "success": true, "result":
//! ...}`, or `success: false` with an `error` object whose `__type` is `Validation Error`
//! (409), `Not Found Error` (404) or `Authorization Error` (403); a bad request (an unknown
//! action, JSON that does not parse or is not an object, `GET` of a write action) is a bare
//! JSON string `"Bad request - ..."` with 400, as CKAN's `_finish_bad_request` answers; an
//! unexpected failure is 500 with the envelope, `__type: "Internal Server Error"` and the fixed
//! message `Internal Server Error`, its details in the server's log (ERROR), not in the answer.
//!
//! The portal's core sits behind one lock: a request's async receivers (the `notify`
//! webhook, up to its 2 s timeout) hold it, and the other requests wait. SQLite takes one
//! writer at a time anyway; a real site would give each request a connection from a pool.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ckan_signals::layer::SignalsLayer;
use ckan_signals::model::ActionContext;
use serde_json::{json, Map, Value};

use crate::portal::{ActionError, Portal, READ_ACTIONS};

/// The name of the login session cookie.
pub const SESSION_COOKIE: &str = "ckan";

/// What every handler shares: the portal behind one lock (SQLite takes one writer at a time
/// anyway) and the site's URL for the `help` links.
#[derive(Clone)]
pub struct AppState {
    /// The application core.
    pub portal: Arc<Portal>,
    /// `ckan.site_url`: where the portal answers, as clients see it.
    pub site_url: String,
}

/// The router for `state`, with the blueprints the portal registered at start-up mounted,
/// wrapped in the signals layer (`request_started` / `request_finished`, receivers awaited for
/// at most `signal_timeout`).
pub async fn router(state: AppState, signal_timeout: Duration) -> Router {
    let app = state.portal.app().clone();
    let blueprints = state.portal.blueprints().to_vec();
    let mut router = Router::new()
        .route(
            "/",
            get(|| async { "A CKAN-like portal. The action API is at /api/3/action/\n" }),
        )
        .route("/api/3/action/{name}", get(action_get).post(action_post))
        .route("/api/action/{name}", get(action_get).post(action_post))
        .route("/user/register", post(register))
        .route("/user/login", post(login))
        .route("/user/_logout", get(logout))
        .route("/user/reset", post(request_reset))
        .route("/user/reset/{id}", post(perform_reset));
    for (blueprint, _) in &blueprints {
        let prefix = blueprint.url_prefix.replace("<id>", "{id}");
        if prefix.contains("{id}") {
            router = router.route(&format!("{prefix}/{{resource_id}}/download"), get(download));
        } else {
            let page = format!("The `{}` blueprint.\n", blueprint.name);
            router = router.route(&prefix, get(move || async move { page }));
        }
    }
    router
        .with_state(state)
        .layer(SignalsLayer::new(app).timeout(signal_timeout))
}

/// The caller: the user of the `Authorization` header's API token, else of the session
/// cookie, else anonymous.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, ActionError> {
    let portal = &state.portal;
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(user) = portal.user_of_token(token)? {
            return Ok(Some(user));
        }
    }
    match session_of(headers) {
        Some(session) => portal.user_of_session(&session),
        None => Ok(None),
    }
}

/// The session id in the request's `Cookie` header, if any.
fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn context_of(user: Option<String>) -> ActionContext {
    ActionContext {
        user,
        ignore_auth: false,
    }
}

/// CKAN's response envelope with the status CKAN gives each outcome.
fn envelope(state: &AppState, name: &str, outcome: Result<Value, ActionError>) -> Response {
    let help = format!("{}/api/3/action/help_show?name={name}", state.site_url);
    let (status, body) = match outcome {
        Ok(result) => (
            StatusCode::OK,
            json!({ "help": help, "success": true, "result": result }),
        ),
        Err(ActionError::UnknownAction(name)) => {
            return bad_request(&format!("Action name not known: {name}"));
        }
        Err(error) => {
            let (status, error) = error_object(error);
            (
                status,
                json!({ "help": help, "success": false, "error": error }),
            )
        }
    };
    json_response(status, &body)
}

/// CKAN's `error` object and status for an action's failure.
fn error_object(error: ActionError) -> (StatusCode, Value) {
    match error {
        ActionError::Validation { field, message } => {
            let mut object = Map::new();
            object.insert("__type".into(), json!("Validation Error"));
            object.insert(field, json!([message]));
            (StatusCode::CONFLICT, Value::Object(object))
        }
        ActionError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            json!({ "__type": "Not Found Error", "message": format!("Not found: {what}") }),
        ),
        ActionError::NotAuthorized(why) => (
            StatusCode::FORBIDDEN,
            json!({ "__type": "Authorization Error", "message": format!("Access denied: {why}") }),
        ),
        ActionError::UnknownAction(name) => (
            StatusCode::BAD_REQUEST,
            json!(format!("Bad request - Action name not known: {name}")),
        ),
        ActionError::Internal(why) => {
            tracing::error!(error = %why, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "__type": "Internal Server Error", "message": "Internal Server Error" }),
            )
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

/// `POST /api/3/action/{name}`: the body is the action's `data_dict`, a JSON object (empty:
/// `{}`).
async fn action_post(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // As CKAN: an unknown action is refused before its data is parsed. (The body is read
    // first, by the extractor: one over axum's 2 MB limit is a plain 413.)
    if !crate::portal::ACTIONS.contains(&name.as_str()) {
        return bad_request(&format!("Action name not known: {name}"));
    }
    let data = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(data @ Value::Object(_)) => data,
            Ok(other) => {
                let message = format!(
                    "JSON Error: Request data JSON decoded to {other} but it needs to be a \
                     dictionary."
                );
                return bad_request(&message);
            }
            Err(error) => {
                let message = format!("JSON Error: Error decoding JSON data. Error: {error}");
                return bad_request(&message);
            }
        }
    };
    call_action(state, name, headers, data).await
}

/// `GET /api/3/action/{name}?k=v`: the read actions only, the query string as the
/// `data_dict`.
async fn action_get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    if !READ_ACTIONS.contains(&name.as_str()) {
        let known = crate::portal::ACTIONS.contains(&name.as_str());
        let message = if known {
            "JSON Error: Invalid request. Please use POST method for your request".to_owned()
        } else {
            format!("Action name not known: {name}")
        };
        return bad_request(&message);
    }
    let data = query
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect::<Map<_, _>>();
    call_action(state, name, headers, Value::Object(data)).await
}

/// CKAN's `_finish_bad_request`: 400 with a bare JSON string, no envelope.
fn bad_request(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!(format!("Bad request - {message}")),
    )
}

async fn call_action(state: AppState, name: String, headers: HeaderMap, data: Value) -> Response {
    let outcome = match caller(&state, &headers).await {
        Ok(user) => {
            let portal = &state.portal;
            portal.action(&name, context_of(user), data).await
        }
        Err(error) => Err(error),
    };
    envelope(&state, &name, outcome)
}

/// A page's answer: a status and a line of text.
fn page(status: StatusCode, text: impl Into<String>) -> Response {
    (status, format!("{}\n", text.into())).into_response()
}

/// A redirect (`302 Found`) to `location`.
fn found(location: &str) -> Response {
    let mut response = page(StatusCode::FOUND, format!("Redirecting to {location}"));
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A page's answer to an action's failure: its status and message, but for an internal
/// failure, whose details go to the log (by `error_object`), never to the client.
fn action_page(error: ActionError) -> Response {
    let text = match &error {
        ActionError::Internal(_) => "Internal Server Error".to_owned(),
        other => other.to_string(),
    };
    let status = error_object(error).0;
    page(status, text)
}

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", String::as_str)
}

/// `POST /user/register`: creates the user through the `user_create` action (which sends
/// `user_created` before its commit, then `action_succeed`), then redirects to the login page.
async fn register(
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let mut data = json!({
        "name": field(&form, "name"),
        "email": field(&form, "email"),
        "password": field(&form, "password"),
    });
    if let Some(fullname) = form.get("fullname") {
        data["fullname"] = json!(fullname);
    }
    let portal = &state.portal;
    match portal
        .action("user_create", ActionContext::default(), data)
        .await
    {
        Ok(_) => found("/user/login"),
        Err(error) => action_page(error),
    }
}

/// `POST /user/login`: on success sets the session cookie and redirects to the dashboard; on
/// failure answers 401 (CKAN shows the form again with a flash message).
async fn login(
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let portal = &state.portal;
    match portal.login(field(&form, "login"), field(&form, "password")) {
        Ok((_, session)) => {
            let mut response = found("/dashboard/datasets");
            let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => page(StatusCode::UNAUTHORIZED, error.to_string()),
    }
}

/// `GET /user/_logout`: ends the session (sending `logged_out`) and clears the cookie.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(session) = session_of(&headers) {
        if let Err(error) = state.portal.logout(&session) {
            return action_page(error);
        }
    }
    let mut response = found("/user/logged_out");
    let cookie = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /user/reset`: mails a reset link to the user named in the form.
async fn request_reset(
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let portal = &state.portal;
    match portal.request_password_reset(field(&form, "user")).await {
        Ok(()) => found("/user/login"),
        Err(error) => action_page(error),
    }
}

/// `POST /user/reset/{id}?key=K`: sets the new password (`password1`, repeated in
/// `password2`).
async fn perform_reset(
    State(state): State<AppState>,
    Path(_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let password = field(&form, "password1");
    if password != field(&form, "password2") {
        return page(
            StatusCode::BAD_REQUEST,
            "the passwords you entered do not match: type the same one twice",
        );
    }
    let name = form.get("name").map(String::as_str);
    let portal = &state.portal;
    match portal
        .perform_password_reset(field(&query, "key"), password, name)
        .await
    {
        Ok(()) => found("/user/login"),
        Err(error) => action_page(error),
    }
}

/// `GET /{type}/{id}/resource/{resource_id}/download`: an uploaded file's bytes, or a redirect
/// to a link's URL.
async fn download(
    State(state): State<AppState>,
    Path((_, resource_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let user = match caller(&state, &headers).await {
        Ok(user) => user,
        Err(error) => return action_page(error),
    };
    let portal = &state.portal;
    match portal.download(context_of(user), &resource_id).await {
        Ok(Ok(bytes)) => {
            let mut response = Response::new(Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
        Ok(Err(Some(url))) => found(&url),
        Ok(Err(None)) => page(StatusCode::NOT_FOUND, "the resource has no file and no URL"),
        Err(error) => action_page(error),
    }
}
