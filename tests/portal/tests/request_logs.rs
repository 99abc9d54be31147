//! What the portal logs through `tracing` around a request, read from a subscriber this test
//! binary installs: a receiver of `request_finished` that fails, and a receiver of
//! `request_started` that outlasts the layer's timeout, are each logged once (a WARN event
//! inside the request's span, which carries the client's `x-request-id`), while the client
//! gets the very response it gets without them. And `request_started` / `request_finished`
//! go out once per request.
//!
//! The server answers on its runtime's worker threads, where a thread-local subscriber
//! (`with_default`) set by the test is not seen: one global subscriber serves the whole
//! binary, writing to one shared buffer. The tests run one at a time ([`isolate`]), and each
//! empties the buffer before the requests it reads the log of.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ckan_portal::server::ServerOptions;
use ckan_signals::model::WebApp;
use ckan_signals::{RequestFinished, RequestStarted};
use portal_tests::{event, isolate, record, Log, Reply, TestPortal};
use serde_json::{json, Value};
use signals_core::{Receiver, Signal};
use tracing_subscriber::fmt::MakeWriter;

/// The buffer the global subscriber writes to.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The log of this test binary: the global `fmt` subscriber (INFO and up, no ANSI colours,
/// no timestamps), installed on first use.
struct Logs(Buffer);

impl Logs {
    /// The log, emptied.
    fn start() -> Logs {
        static BUFFER: OnceLock<Buffer> = OnceLock::new();
        let buffer = BUFFER.get_or_init(|| {
            let buffer = Buffer::default();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(buffer.clone())
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .without_time()
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in this test binary");
            buffer
        });
        let logs = Logs(buffer.clone());
        logs.clear();
        logs
    }

    fn clear(&self) {
        self.0.lock().clear();
    }

    /// The lines logged since the last [`clear`](Self::clear).
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock())
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The WARN lines.
    fn warnings(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| line.starts_with(" WARN "))
            .collect()
    }
}

/// `GET path` with an `x-request-id` header.
fn get_with_id(portal: &TestPortal, path: &str, id: &str) -> Reply {
    let request = portal
        .client()
        .get(format!("{}{path}", portal.url()))
        .header("x-request-id", id);
    portal.send(request)
}

/// What the client sees of a reply: status, headers (except `date`, which changes) and body.
fn seen(reply: &Reply) -> (u16, Vec<(String, String)>, String) {
    let headers = reply
        .headers
        .iter()
        .filter(|(name, _)| name != "date")
        .cloned()
        .collect();
    (reply.status, headers, reply.text.clone())
}

/// The request id in a log line's `request{...}` span.
fn request_id_of(line: &str) -> &str {
    let start = line.find("request{request_id=").expect("a request span") + 19;
    let len = line[start..].find(' ').expect("more span fields");
    &line[start..start + len]
}

/// An id the layer made: 8 hex digits, `-`, a counter.
fn is_generated_id(id: &str) -> bool {
    match id.split_once('-') {
        Some((prefix, n)) => {
            prefix.len() == 8
                && prefix.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The location a receiver named `name` was connected at, as the failure event shows it.
fn location_of(name: &str) -> String {
    RequestFinished::signal()
        .named()
        .connections()
        .into_iter()
        .find(|c| c.receiver.name == name)
        .unwrap_or_else(|| panic!("no receiver `{name}`"))
        .receiver
        .location
        .to_string()
}

const MISSING: &str = "/api/3/action/package_show?id=no-such-dataset";

#[test]
fn a_failing_request_finished_receiver_is_logged_once_and_changes_nothing() {
    let _iso = isolate();
    let logs = Logs::start();
    let portal = TestPortal::start();
    let before = portal.get(MISSING, None);
    assert_eq!(before.status, 404, "{}", before.text);
    assert_eq!(before.json["error"]["__type"], "Not Found Error");

    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let _failing = RequestFinished::signal()
        .connect(
            Receiver::new(move |_: &WebApp, ev: &RequestFinished| {
                counted.fetch_add(1, Ordering::SeqCst);
                if ev.response.status == 404 {
                    Err("the broken-link counter is full")
                } else {
                    Ok(())
                }
            })
            .name("request_logs::count_broken_links"),
        )
        .scoped();
    let location = location_of("request_logs::count_broken_links");
    assert!(
        location.starts_with("tests/portal/tests/request_logs.rs:"),
        "{location}"
    );
    logs.clear();
    let after = portal.get(MISSING, None);
    assert_eq!(seen(&after), seen(&before));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let warnings = logs.warnings();
    assert_eq!(warnings.len(), 1, "{:#?}", logs.lines());
    let id = request_id_of(&warnings[0]);
    assert!(is_generated_id(id), "{id}");
    assert_eq!(
        warnings[0],
        format!(
            " WARN request{{request_id={id} method=GET path=/api/3/action/package_show}}: \
             signals: receiver failed signal=\"ckan.request_finished\" \
             receiver=\"request_logs::count_broken_links\" location={location} kind=\"error\" \
             error=the broken-link counter is full"
        )
    );
    assert_eq!(logs.lines(), warnings);

    // A request it does not fail for logs nothing.
    logs.clear();
    let ok = portal.get("/", None);
    assert_eq!(ok.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(logs.lines(), Vec::<String>::new());
}

#[test]
fn a_slow_request_started_receiver_is_cut_at_the_timeout_and_logged() {
    let _iso = isolate();
    let logs = Logs::start();
    let portal = TestPortal::with(ServerOptions {
        signal_timeout: Duration::from_millis(200),
        ..ServerOptions::default()
    });
    let before = get_with_id(&portal, MISSING, "slow-0");
    assert_eq!(before.status, 404, "{}", before.text);

    let started = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&started);
    let _slow = RequestStarted::signal()
        .connect(
            Receiver::new_async(move |_: &WebApp, _: &RequestStarted| {
                counted.fetch_add(1, Ordering::SeqCst);
                Box::pin(async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                })
            })
            .name("request_logs::slow_audit"),
        )
        .scoped();
    // Connected after the slow one: the timeout drops the rest of that send.
    let later = Log::default();
    let _later = record::<RequestStarted>(&later);
    let finished = Log::default();
    let _finished = record::<RequestFinished>(&finished);
    logs.clear();

    let clock = Instant::now();
    let after = get_with_id(&portal, MISSING, "slow-1");
    let elapsed = clock.elapsed();
    assert_eq!(seen(&after), seen(&before));
    assert!(
        elapsed >= Duration::from_millis(200),
        "answered before the timeout ran out: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "the slow receiver held the response: {elapsed:?}"
    );
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(later.count("request_started"), 0);
    assert_eq!(finished.count("request_finished"), 1);
    assert_eq!(
        logs.lines(),
        [
            " WARN request{request_id=slow-1 method=GET path=/api/3/action/package_show}: \
             ckan_signals::layer: send timed out; the receivers after the slow one did not run \
             for this request signal=\"ckan.request_started\" timeout=200ms \
             request_id=\"slow-1\""
        ]
    );
}

#[test]
fn the_clients_request_id_is_the_spans() {
    let _iso = isolate();
    let logs = Logs::start();
    let portal = TestPortal::start();
    let _failing = RequestFinished::signal()
        .connect(
            Receiver::new(|_: &WebApp, _: &RequestFinished| Err("always"))
                .name("request_logs::always"),
        )
        .scoped();
    let location = location_of("request_logs::always");
    let line = |id: &str, path: &str| {
        format!(
            " WARN request{{request_id={id} method=GET path={path}}}: signals: receiver failed \
             signal=\"ckan.request_finished\" receiver=\"request_logs::always\" \
             location={location} kind=\"error\" error=always"
        )
    };
    logs.clear();
    let reply = get_with_id(&portal, "/", "client-id-42");
    assert_eq!(reply.status, 200);
    let reply = get_with_id(&portal, "/api/3/action/user_show?id=admin", "another.id_7~");
    assert_eq!(reply.status, 200);
    let longest = "x".repeat(64);
    get_with_id(&portal, "/", &longest);
    assert_eq!(
        logs.lines(),
        [
            line("client-id-42", "/"),
            line("another.id_7~", "/api/3/action/user_show"),
            line(&longest, "/"),
        ]
    );

    // An id that is not 1 to 64 visible ASCII characters is replaced by one of the layer's.
    for unfit in ["has space".to_owned(), "x".repeat(65)] {
        logs.clear();
        get_with_id(&portal, "/", &unfit);
        let lines = logs.lines();
        assert_eq!(lines.len(), 1, "{lines:#?}");
        let id = request_id_of(&lines[0]);
        assert!(is_generated_id(id), "{id}");
        assert_eq!(lines[0], line(id, "/"));
    }
    // Without the header, each request gets an id of its own.
    logs.clear();
    portal.get("/", None);
    portal.get("/", None);
    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let (first, second) = (request_id_of(&lines[0]), request_id_of(&lines[1]));
    assert!(is_generated_id(first) && is_generated_id(second) && first != second);
}

#[test]
fn request_started_and_finished_are_sent_once_per_request() {
    let _iso = isolate();
    let logs = Logs::start();
    let portal = TestPortal::start();
    let log = Log::default();
    let _started = record::<RequestStarted>(&log);
    let _finished = record::<RequestFinished>(&log);

    let statuses = [
        portal.get("/", None).status,
        portal
            .action(
                "package_create",
                &json!({ "name": "camels" }),
                Some(&portal.admin_token),
            )
            .status,
        portal.get(MISSING, None).status,
        portal
            .post_form(
                "/user/login",
                &[("login", "admin"), ("password", "wrong")],
                None,
            )
            .status,
        portal
            .post_form(
                "/user/register",
                &[
                    ("name", "bob"),
                    ("email", "bob@example.org"),
                    ("password", "bob password"),
                ],
                None,
            )
            .status,
        portal.get("/no/such/page", None).status,
    ];
    assert_eq!(statuses, [200, 200, 404, 401, 302, 404]);

    let events = log.events();
    assert_eq!(events.len(), 2 * statuses.len(), "{events:#?}");
    let app = json!({ "name": "ckan" });
    let text = "text/plain; charset=utf-8";
    let json_type = "application/json;charset=utf-8";
    let content_types = [text, json_type, json_type, text, text, ""];
    for (i, pair) in events.chunks(2).enumerate() {
        assert_eq!(
            pair[0],
            event("request_started", app.clone(), Value::Null),
            "request {i}"
        );
        assert_eq!(pair[1].signal, "request_finished", "request {i}");
        assert_eq!(pair[1].sender, app, "request {i}");
        let response = &pair[1].kwargs["response"];
        assert_eq!(response["status"], statuses[i], "request {i}");
        assert_eq!(response["content_type"], content_types[i], "request {i}");
    }
    // Nothing failed: nothing was logged.
    assert_eq!(logs.lines(), Vec::<String>::new());
}
