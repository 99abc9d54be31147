//! The story `cargo run` tells: the portal starts on a free loopback port, and a client makes
//! each request of a CKAN site's life over real HTTP while the plugins react.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ckan_signals::host;
use ckan_signals::model::WebApp;
use ckan_signals::{RequestFinished, RequestStarted};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use signals_core::{Receiver, Signal};

use crate::cross::Forwarded;
use crate::portal::connections_of_plugin;
use crate::server::{Server, ServerOptions};
use crate::webhook::WebhookSink;

/// Why the story stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StoryError {
    /// Writing the narrative failed.
    #[error("cannot write to stdout: {0}")]
    Output(#[from] io::Error),
    /// Something the story needs did not work: the message says what.
    #[error("{0}")]
    Problem(String),
}

impl From<String> for StoryError {
    fn from(problem: String) -> Self {
        StoryError::Problem(problem)
    }
}

impl From<&str> for StoryError {
    fn from(problem: &str) -> Self {
        StoryError::Problem(problem.to_owned())
    }
}

/// How long the story's server waits for the request signals' receivers: short, so the slow
/// receiver of the last chapter shows the timeout without a long pause.
pub const STORY_SIGNAL_TIMEOUT: Duration = Duration::from_millis(300);

fn chapter(out: &mut impl Write, title: &str) -> io::Result<()> {
    writeln!(out, "\n== {title}")
}

/// One request's outcome: its status line and its JSON body, if it has one.
struct Answer {
    status: reqwest::StatusCode,
    body: Value,
    location: Option<String>,
    cookie: Option<String>,
    bytes: usize,
}

impl Answer {
    fn status(&self) -> String {
        self.status.to_string()
    }

    /// The action API's `result`, or a problem naming the status and CKAN's error object.
    fn result(&self, what: &str) -> Result<&Value, String> {
        match self.body.get("success") {
            Some(Value::Bool(true)) => Ok(&self.body["result"]),
            _ => Err(format!(
                "{what} answered {}: {}",
                self.status, self.body["error"]
            )),
        }
    }
}

async fn call(request: RequestBuilder) -> Result<Answer, String> {
    let response: Response = request
        .send()
        .await
        .map_err(|e| format!("the request failed: {e}"))?;
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header("location");
    let cookie = header("set-cookie").and_then(|c| c.split(';').next().map(str::to_owned));
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading the response failed: {e}"))?;
    Ok(Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        location,
        cookie,
        bytes: bytes.len(),
    })
}

/// The story: loads `plugins` (named by `origin`), starts the server and the webhook endpoint,
/// makes the requests, prints what happened, stops everything.
pub async fn run(
    plugins: &[String],
    origin: &str,
    options: ServerOptions,
    forwarded: Option<Forwarded>,
    out: &mut impl Write,
) -> Result<(), StoryError> {
    // Load first: a plugin that cannot be loaded stops the portal before the story starts.
    host::load_plugins(plugins).map_err(|e| e.to_string())?;
    let sink = WebhookSink::start().await?;
    ckanext_notify::set_webhook_url(Some(sink.url()));
    let server = Server::start(options).await.map_err(|e| e.to_string())?;
    let result = story(&server, &sink, plugins, origin, forwarded, out).await;
    ckanext_notify::set_webhook_url(None);
    let stopped = server.stop().await.map_err(|e| e.to_string());
    sink.stop().await?;
    result.and(Ok(stopped?))
}

async fn story(
    server: &Server,
    sink: &WebhookSink,
    plugins: &[String],
    origin: &str,
    forwarded: Option<Forwarded>,
    out: &mut impl Write,
) -> Result<(), StoryError> {
    let url = server.url();
    writeln!(
        out,
        "A CKAN-like portal at {url} (axum, SQLite). Plugins from {origin}: {}",
        plugins.join(" ")
    )?;
    for plugin in host::loaded() {
        let owned = connections_of_plugin(plugin);
        writeln!(out, "  loaded `{plugin}`: {} subscription(s)", owned.len())?;
        for line in owned {
            writeln!(out, "    {line}")?;
        }
    }

    // The tower layer sends request_started and request_finished once per request. Counted
    // here for the summary.
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let count = |n: &Arc<AtomicUsize>| {
        let n = Arc::clone(n);
        move || {
            n.fetch_add(1, Ordering::Relaxed);
        }
    };
    let on_start = count(&started);
    let _started = RequestStarted::signal()
        .connect(move |_: &WebApp, _: &RequestStarted| on_start())
        .scoped();
    let on_finish = count(&finished);
    let _finished = RequestFinished::signal()
        .connect(move |_: &WebApp, _: &RequestFinished| on_finish())
        .scoped();

    chapter(
        out,
        "start-up: plugin-defined dataset, group and organization types register their blueprints",
    )?;
    writeln!(
        out,
        "  registered (ckan.register_blueprint is sent for plugin-defined types only; no plugin listens):"
    )?;
    for (blueprint, sender) in server.portal().blueprints() {
        let how = match sender {
            Some(sender) => format!("sent from {sender:?}"),
            None => "core, not announced".to_owned(),
        };
        writeln!(
            out,
            "    {:<22} {:<30} {how}",
            blueprint.name, blueprint.url_prefix
        )?;
    }
    let token = server
        .portal()
        .add_sysadmin("admin")
        .map_err(|e| e.to_string())?
        .token;
    writeln!(
        out,
        "  sysadmin `admin` and its API token created (as `ckan sysadmin add` and `ckan user token add`)"
    )?;

    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let api = |name: &str| format!("{url}/api/3/action/{name}");

    chapter(out, "POST /user/register: alice and bob sign up")?;
    for (name, email) in [("alice", "alice@example.org"), ("bob", "bob@example.org")] {
        let form = [
            ("name", name),
            ("email", email),
            ("password", "correct horse"),
        ];
        let answer = call(client.post(format!("{url}/user/register")).form(&form)).await?;
        writeln!(out, "  POST /user/register {name} -> {}", answer.status())?;
    }

    chapter(out, "POST /user/login: two typos, then a good password")?;
    let mut session = None;
    for password in ["hunter2", "Correct horse", "correct horse"] {
        let form = [("login", "alice"), ("password", password)];
        let answer = call(client.post(format!("{url}/user/login")).form(&form)).await?;
        writeln!(
            out,
            "  POST /user/login alice ({password:?}) -> {}",
            answer.status()
        )?;
        if answer.cookie.is_some() {
            session = answer.cookie;
        }
    }
    let session = session.ok_or("the good password did not log alice in")?;

    chapter(
        out,
        "the action API (CKAN's wire format): a dataset, a resource, an update",
    )?;
    let post = |name: &str, body: Value| {
        client
            .post(api(name))
            .header("authorization", &token)
            .json(&body)
    };
    let answer = call(post(
        "package_create",
        json!({ "name": "camels", "title": "Camels of the world" }),
    ))
    .await?;
    let dataset_id = answer.result("package_create")?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    writeln!(
        out,
        "  POST /api/3/action/package_create -> {}: {dataset_id}",
        answer.status()
    )?;
    let answer = call(post(
        "resource_create",
        json!({ "package_id": dataset_id, "upload": "id,name\n1,Humphrey\n" }),
    ))
    .await?;
    let resource_id = answer.result("resource_create")?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    writeln!(
        out,
        "  POST /api/3/action/resource_create -> {}: {resource_id}",
        answer.status()
    )?;
    let answer = call(post(
        "package_update",
        json!({ "id": "camels", "title": "Camels, updated" }),
    ))
    .await?;
    answer.result("package_update")?;
    writeln!(
        out,
        "  POST /api/3/action/package_update camels -> {}",
        answer.status()
    )?;
    let answer = call(client.get(format!("{}?id=camels", api("package_show")))).await?;
    writeln!(
        out,
        "  GET /api/3/action/package_show?id=camels -> {} (read actions send action_succeed too; no plugin listens)",
        answer.status()
    )?;
    let answer = call(
        client
            .post(api("package_create"))
            .json(&json!({ "name": "goats" })),
    )
    .await?;
    writeln!(
        out,
        "  POST /api/3/action/package_create without a token -> {}: {}",
        answer.status(),
        answer.body["error"]
    )?;
    let answer = call(post("package_create", json!({ "title": "No name" }))).await?;
    writeln!(
        out,
        "  POST /api/3/action/package_create without a name -> {}: {}",
        answer.status(),
        answer.body["error"]
    )?;

    chapter(out, "downloads and the datastore")?;
    let download = format!("/dataset/{dataset_id}/resource/{resource_id}/download");
    for _ in 0..2 {
        let answer = call(
            client
                .get(format!("{url}{download}"))
                .header("cookie", &session),
        )
        .await?;
        writeln!(
            out,
            "  GET {download} -> {} ({} bytes; looked up with resource_show and package_show)",
            answer.status(),
            answer.bytes
        )?;
    }
    let answer = call(post(
        "datastore_upsert",
        json!({ "resource_id": resource_id, "records": [{"name": "Humphrey"}, {"name": "Clyde"}] }),
    ))
    .await?;
    writeln!(
        out,
        "  POST /api/3/action/datastore_upsert -> {}",
        answer.status()
    )?;
    let answer = call(post(
        "datastore_delete",
        json!({ "resource_id": resource_id }),
    ))
    .await?;
    writeln!(
        out,
        "  POST /api/3/action/datastore_delete -> {}: {} row(s) deleted",
        answer.status(),
        answer.result("datastore_delete")?["deleted"]
    )?;

    chapter(out, "password reset for bob, then logout")?;
    let answer = call(
        client
            .post(format!("{url}/user/reset"))
            .form(&[("user", "bob")]),
    )
    .await?;
    writeln!(out, "  POST /user/reset bob -> {}", answer.status())?;
    let link = server
        .portal()
        .mail()
        .map_err(|e| e.to_string())?
        .into_iter()
        .rev()
        .find(|m| m.recipient == "bob")
        .map(|m| m.body)
        .ok_or("no reset link was mailed to bob")?;
    writeln!(out, "  mailed to bob: a reset link")?;
    let form = [
        ("password1", "battery staple"),
        ("password2", "battery staple"),
    ];
    let answer = call(client.post(format!("{url}{link}")).form(&form)).await?;
    writeln!(
        out,
        "  POST /user/reset/<id>?key=<key> -> {}",
        answer.status()
    )?;
    let answer = call(
        client
            .get(format!("{url}/user/_logout"))
            .header("cookie", &session),
    )
    .await?;
    writeln!(
        out,
        "  GET /user/_logout -> {} ({})",
        answer.status(),
        answer.location.as_deref().unwrap_or("-")
    )?;

    chapter(
        out,
        "a failing and a slow receiver: logged (see stderr), the responses unchanged",
    )?;
    {
        let _failing = RequestFinished::signal()
            .connect(
                Receiver::new(|_: &WebApp, ev: &RequestFinished| {
                    if ev.response.status == 404 {
                        Err("the broken-link counter is full")
                    } else {
                        Ok(())
                    }
                })
                .name("story::count_broken_links"),
            )
            .scoped();
        let answer =
            call(client.get(format!("{}?id=no-such-dataset", api("package_show")))).await?;
        writeln!(
            out,
            "  GET /api/3/action/package_show?id=no-such-dataset -> {}: {}",
            answer.status(),
            answer.body["error"]
        )?;
    }
    {
        let _slow = RequestStarted::signal()
            .connect(
                Receiver::new_async(|_: &WebApp, _: &RequestStarted| {
                    Box::pin(async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    })
                })
                .name("story::slow_audit"),
            )
            .scoped();
        let answer = call(client.get(format!("{url}/"))).await?;
        writeln!(
            out,
            "  GET / -> {} once the layer's {} ms timeout passed",
            answer.status(),
            STORY_SIGNAL_TIMEOUT.as_millis()
        )?;
    }

    chapter(out, "summary")?;
    writeln!(
        out,
        "  HTTP requests: request_started sent {}, request_finished sent {}",
        started.load(Ordering::Relaxed),
        finished.load(Ordering::Relaxed)
    )?;
    writeln!(
        out,
        "  activity stream: {} entries",
        ckanext_activity::stream().len()
    )?;
    for a in ckanext_activity::stream() {
        writeln!(
            out,
            "    {} {} by {}",
            a.activity_type,
            a.object_id,
            a.user.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out, "  audit log: {} entries", ckanext_audit::log().len())?;
    let stats = ckanext_stats::stats();
    writeln!(
        out,
        "  stats: downloads {:?}, records written {:?}, deletes {:?}",
        stats.downloads, stats.upserted_records, stats.deletes
    )?;
    writeln!(out, "  notifications: {}", ckanext_notify::outbox().len())?;
    writeln!(
        out,
        "  webhook calls: {} (the endpoint received {})",
        ckanext_notify::webhook_calls().len(),
        sink.calls().len()
    )?;
    let failures = server.portal().receiver_failures();
    writeln!(
        out,
        "  receiver failures in the portal's sends: {}",
        failures.len()
    )?;
    for failure in &failures {
        writeln!(out, "    {failure}")?;
    }
    if let Some(forwarded) = forwarded {
        let names: Vec<&str> = forwarded
            .signals
            .iter()
            .map(|s| s.qualified_name())
            .collect();
        let stats = forwarded.finish().await;
        writeln!(
            out,
            "  forwarded to Redis ({}): {} event(s) written, {} failed",
            names.join(" "),
            stats.written,
            stats.failed
        )?;
    }
    let loaded = host::loaded();
    host::unload_all();
    writeln!(
        out,
        "  unloaded {} (last loaded first); receivers left on action_succeed: {}",
        loaded.iter().rev().cloned().collect::<Vec<_>>().join(", "),
        ckan_signals::toolkit::signals::action_succeeded()
            .named()
            .connections()
            .len()
    )?;
    Ok(())
}
