//! Helpers for the portal's integration tests (`tests/*.rs`).
//!
//! Plugins and signals are process-wide, and the tests of one binary run on parallel threads:
//! every test that loads plugins or counts sends starts with [`isolate`], which serializes it
//! with the others, unloads every plugin and clears the plugin crates' logs.
//!
//! [`TestPortal`] starts the portal's real HTTP server on a free loopback port (an in-memory
//! SQLite database, cheap password hashes) with a blocking HTTP client to talk to it, and stops
//! it when dropped.
//!
//! [`Recorder`] subscribes typed receivers to CKAN's 13 built-in signals and records each call
//! as an [`Event`]: the registered name, the sender and the keyword arguments, as JSON (the
//! model types and signal structs are `Serialize`), so a test compares whole sends exactly.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ckan_portal::server::{Server, ServerOptions};
use ckan_portal::store::PasswordCost;
use ckan_portal::webhook::WebhookSink;
use ckan_portal::Portal;

use ckan_signals::host;
use ckan_signals::{
    ActionSucceeded, DatastoreDelete, DatastoreUpsert, FailedLogin, PerformPasswordReset,
    RegisterBlueprint, RequestFinished, RequestPasswordReset, RequestStarted, ResourceDownload,
    UserCreated, UserLoggedIn, UserLoggedOut,
};
use serde::Serialize;
use serde_json::Value;
use signals_core::{ScopedConnection, Signal};

// The plugin crates register their plugins at link time; these lines link them.
signals_core::link!(
    ckanext_activity,
    ckanext_audit,
    ckanext_stats,
    ckanext_notify,
    ckanext_example_isignal
);

static LOCK: Mutex<()> = Mutex::new(());

/// Holds the test lock; unloads every plugin when dropped.
#[must_use = "the test is isolated only while the guard lives"]
pub struct Isolated {
    _lock: MutexGuard<'static, ()>,
}

impl Drop for Isolated {
    fn drop(&mut self) {
        host::unload_all();
    }
}

/// Serializes the calling test with the other isolated tests of its binary, unloads every
/// plugin and clears the plugin crates' logs. A test that panicked does not poison the others.
pub fn isolate() -> Isolated {
    let lock = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    host::unload_all();
    clear_plugin_logs();
    Isolated { _lock: lock }
}

/// Empties the logs of the activity, audit, stats and notify plugins.
pub fn clear_plugin_logs() {
    ckanext_activity::clear();
    ckanext_audit::clear();
    ckanext_stats::clear();
    ckanext_notify::clear();
}

/// One call of a receiver: the signal's registered name, the sender and the keyword arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The registered name (`logged_in`, not the alias `user_logged_in`).
    pub signal: &'static str,
    /// The sender, as JSON (`{"name": "ckan"}` for the web app, `null` for `None`).
    pub sender: Value,
    /// The signal struct, as JSON (`null` for a signal without keyword arguments).
    pub kwargs: Value,
}

/// Builds an expected [`Event`].
pub fn event(signal: &'static str, sender: Value, kwargs: Value) -> Event {
    Event {
        signal,
        sender,
        kwargs,
    }
}

/// A log that receivers on any thread append to.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Event>>>);

impl Log {
    fn lock(&self) -> MutexGuard<'_, Vec<Event>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event.
    pub fn push(&self, event: Event) {
        self.lock().push(event);
    }

    /// The events so far, without removing them.
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// Removes and returns the events so far.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.lock())
    }

    /// The events of one signal (by registered name), without removing them.
    pub fn of(&self, signal: &str) -> Vec<Event> {
        self.lock()
            .iter()
            .filter(|e| e.signal == signal)
            .cloned()
            .collect()
    }

    /// How many times the signal (by registered name) was received.
    pub fn count(&self, signal: &str) -> usize {
        self.lock().iter().filter(|e| e.signal == signal).count()
    }
}

/// Connects a typed receiver of `T` (every sender) that appends each call to `log`, until the
/// returned handle is dropped.
pub fn record<T>(log: &Log) -> ScopedConnection
where
    T: Signal<Output = ()> + Serialize,
    T::Sender: Serialize,
{
    let log = log.clone();
    T::signal()
        .connect(move |sender: &T::Sender, args: &T| {
            log.push(Event {
                signal: T::NAME,
                sender: to_json(sender),
                kwargs: to_json(args),
            })
        })
        .scoped()
}

fn to_json<V: Serialize + ?Sized>(value: &V) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| Value::String(format!("not JSON: {e}")))
}

/// Typed receivers on all 13 built-in signals, recording into one log in send order.
pub struct Recorder {
    log: Log,
    _connections: Vec<ScopedConnection>,
}

impl Recorder {
    /// Subscribes to every built-in signal; disconnects when dropped.
    pub fn all() -> Recorder {
        let log = Log::default();
        let connections = vec![
            record::<RequestStarted>(&log),
            record::<RequestFinished>(&log),
            record::<RegisterBlueprint>(&log),
            record::<ResourceDownload>(&log),
            record::<UserLoggedIn>(&log),
            record::<UserLoggedOut>(&log),
            record::<FailedLogin>(&log),
            record::<UserCreated>(&log),
            record::<RequestPasswordReset>(&log),
            record::<PerformPasswordReset>(&log),
            record::<ActionSucceeded>(&log),
            record::<DatastoreUpsert>(&log),
            record::<DatastoreDelete>(&log),
        ];
        Recorder {
            log,
            _connections: connections,
        }
    }

    /// The log the receivers write to.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Removes and returns the events so far.
    pub fn take(&self) -> Vec<Event> {
        self.log.take()
    }
}

/// The portal's HTTP server on a free loopback port, with a sysadmin `admin` (its API token in
/// [`admin_token`](Self::admin_token)) and the `notify` plugin's webhook pointed at a loopback
/// endpoint. Stopped, and the webhook turned off, when dropped.
pub struct TestPortal {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    sink: Option<WebhookSink>,
    client: reqwest::blocking::Client,
    /// The API token of the sysadmin `admin`.
    pub admin_token: String,
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub text: String,
    /// The body as JSON (`null` when it is not JSON).
    pub json: Value,
}

impl Reply {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session cookie a login set (`ckan=...`), if any.
    pub fn session(&self) -> Option<String> {
        self.header("set-cookie")
            .and_then(|c| c.split(';').next())
            .filter(|c| !c.ends_with('='))
            .map(str::to_owned)
    }
}

impl TestPortal {
    /// Starts the portal with the default test options: no plugin-defined types, a 2 s signal
    /// timeout.
    pub fn start() -> TestPortal {
        TestPortal::with(ServerOptions {
            signal_timeout: Duration::from_secs(2),
            ..ServerOptions::default()
        })
    }

    /// Starts the portal with `options`; the password hashes are always the cheap ones.
    pub fn with(options: ServerOptions) -> TestPortal {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let options = ServerOptions {
            password_cost: PasswordCost::CheapForTests,
            ..options
        };
        let (server, sink) = runtime.block_on(async {
            let sink = WebhookSink::start()
                .await
                .expect("the webhook endpoint starts");
            let server = Server::start(options).await.expect("the portal starts");
            (server, sink)
        });
        ckanext_notify::set_webhook_url(Some(sink.url()));
        let admin_token = server
            .portal()
            .add_sysadmin("admin")
            .expect("the sysadmin is created")
            .token;
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        TestPortal {
            runtime,
            server: Some(server),
            sink: Some(sink),
            client,
            admin_token,
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.server.as_ref().map(Server::url).unwrap_or_default()
    }

    /// Runs `f` on the application core (under its lock), for what a test reads directly.
    pub fn portal<R>(&self, f: impl FnOnce(&Portal) -> R) -> R {
        let server = self.server.as_ref().expect("the server runs");
        f(server.portal())
    }

    /// The bodies the webhook endpoint received.
    pub fn webhook_calls(&self) -> Vec<String> {
        self.sink
            .as_ref()
            .map(WebhookSink::calls)
            .unwrap_or_default()
    }

    /// The blocking HTTP client (redirects are not followed).
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    /// Sends `request` and reads the whole answer.
    pub fn send(&self, request: reqwest::blocking::RequestBuilder) -> Reply {
        let response = request.send().expect("the portal answers");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let text = response.text().expect("a readable body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// `GET path`, with the session cookie if one is given.
    pub fn get(&self, path: &str, session: Option<&str>) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.url()));
        if let Some(cookie) = session {
            request = request.header("cookie", cookie);
        }
        self.send(request)
    }

    /// `POST path` with a form body, with the session cookie if one is given.
    pub fn post_form(&self, path: &str, form: &[(&str, &str)], session: Option<&str>) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.url())).form(form);
        if let Some(cookie) = session {
            request = request.header("cookie", cookie);
        }
        self.send(request)
    }

    /// `POST /api/3/action/{name}` with a JSON body and, if given, an API token in the
    /// `Authorization` header.
    pub fn action(&self, name: &str, body: &Value, token: Option<&str>) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/api/3/action/{name}", self.url()))
            .json(body);
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        self.send(request)
    }

    /// An action called as the sysadmin `admin`, which must succeed: its `result`.
    pub fn admin_action(&self, name: &str, body: &Value) -> Value {
        let reply = self.action(name, body, Some(&self.admin_token));
        assert_eq!(reply.json["success"], true, "{name} failed: {}", reply.text);
        reply.json["result"].clone()
    }

    /// `POST /user/register`, which must redirect (the user is created).
    pub fn register(&self, name: &str, password: &str) {
        let email = format!("{name}@example.org");
        let reply = self.post_form(
            "/user/register",
            &[("name", name), ("email", &email), ("password", password)],
            None,
        );
        assert_eq!(reply.status, 302, "register {name}: {}", reply.text);
    }

    /// `POST /user/login`: the session cookie on success.
    pub fn login(&self, login: &str, password: &str) -> Option<String> {
        self.post_form(
            "/user/login",
            &[("login", login), ("password", password)],
            None,
        )
        .session()
    }
}

impl Drop for TestPortal {
    fn drop(&mut self) {
        ckanext_notify::set_webhook_url(None);
        let (server, sink) = (self.server.take(), self.sink.take());
        self.runtime.block_on(async {
            if let Some(server) = server {
                let _ = server.stop().await;
            }
            if let Some(sink) = sink {
                let _ = sink.stop().await;
            }
        });
    }
}
