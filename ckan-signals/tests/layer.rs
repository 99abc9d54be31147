//! The tower layer (`--features tower`): the two request signals around a tower
//! `service_fn`, their order, senders and kwargs; errors, failing and slow receivers; request
//! ids in the tracing span.
//!
//! The signals are global: each test connects its receivers for a sender (a `WebApp`) of its
//! own, and the tests run one at a time (`SERIAL`) so that timings are not skewed by each
//! other.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ckan_signals::layer::SignalsLayer;
use ckan_signals::model::WebApp;
use ckan_signals::{RequestFinished, RequestStarted};
use http::{Request, Response, StatusCode};
use signals_core::{Receiver, ScopedConnection, Signal};
use tower::{service_fn, Layer, ServiceExt};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// What happened, in order, shared by the receivers and the inner service.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl Events {
    fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A `tracing` subscriber's output, captured.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Runs `f` with this capture as the thread's subscriber (INFO and above).
    fn capture<R>(&self, f: impl FnOnce() -> R) -> R {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || logs.clone())
            .with_max_level(tracing::Level::INFO)
            .without_time()
            // The workspace build turns on tracing-subscriber's `ansi` feature (the portal
            // uses it): plain text, so that the assertions read what a log file holds.
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f)
    }
}

/// Connects, for `app` only, a `request_started` receiver and a `request_finished` receiver
/// that record what they get.
fn record_both(app: &WebApp, events: &Events) -> [ScopedConnection; 2] {
    let started = {
        let events = events.clone();
        RequestStarted::signal()
            .connect(
                Receiver::new(move |app: &WebApp, _: &RequestStarted| {
                    events.push(format!("started by {}", app.name))
                })
                .sender(app),
            )
            .scoped()
    };
    let finished = {
        let events = events.clone();
        RequestFinished::signal()
            .connect(
                Receiver::new(move |app: &WebApp, ev: &RequestFinished| {
                    let r = &ev.response;
                    events.push(format!(
                        "finished by {}: {} {} {} x-custom={:?} headers={}",
                        app.name,
                        r.status,
                        r.content_type,
                        r.content_length,
                        r.header("x-custom"),
                        r.headers.len(),
                    ))
                })
                .sender(app),
            )
            .scoped()
    };
    [started, finished]
}

/// A response with a status, two headers and a body.
fn created(body: &str) -> Response<String> {
    Response::builder()
        .status(StatusCode::CREATED)
        .header("content-type", "text/plain")
        .header("X-Custom", "yes")
        .body(body.to_owned())
        .unwrap()
}

#[test]
fn started_before_and_finished_after_each_request_once() {
    let _serial = serial();
    let app = WebApp::new("layer-order");
    let events = Events::default();
    let _receivers = record_both(&app, &events);
    // An async receiver is awaited before the response is returned.
    let _awaited = {
        let events = events.clone();
        RequestFinished::signal()
            .connect(
                Receiver::new_async(move |_: &WebApp, _: &RequestFinished| {
                    let events = events.clone();
                    Box::pin(async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        events.push("finished, async, after a sleep");
                    })
                })
                .sender(&app),
            )
            .scoped()
    };
    let inner_events = events.clone();
    let inner = service_fn(move |req: Request<String>| {
        inner_events.push(format!("inner {}", req.uri().path()));
        async move { Ok::<_, Infallible>(created("hello")) }
    });
    let service = SignalsLayer::new(app.clone()).layer(inner);

    for path in ["/one", "/two"] {
        let request = Request::get(path).body(String::new()).unwrap();
        let response = block_on(service.clone().oneshot(request)).unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["x-custom"], "yes");
        assert_eq!(response.into_body(), "hello");
        assert_eq!(
            events.take(),
            [
                "started by layer-order".to_string(),
                format!("inner {path}"),
                "finished by layer-order: 201 text/plain 5 x-custom=Some(\"yes\") headers=2"
                    .to_string(),
                "finished, async, after a sleep".to_string(),
            ]
        );
    }
}

#[test]
fn content_length_header_wins_over_the_body() {
    let _serial = serial();
    let app = WebApp::new("layer-length");
    let events = Events::default();
    let _receivers = record_both(&app, &events);
    let inner = service_fn(|_: Request<String>| async {
        let mut response = created("four");
        response
            .headers_mut()
            .insert("content-length", "4".parse().unwrap());
        Ok::<_, Infallible>(response)
    });
    let service = SignalsLayer::new(app).layer(inner);
    let response = block_on(service.oneshot(Request::new(String::new()))).unwrap();
    assert_eq!(response.into_body(), "four");
    assert_eq!(
        events.take()[1],
        "finished by layer-length: 201 text/plain 4 x-custom=Some(\"yes\") headers=3"
    );
}

#[test]
fn an_inner_error_passes_through_and_sends_started_only() {
    let _serial = serial();
    let app = WebApp::new("layer-error");
    let events = Events::default();
    let _receivers = record_both(&app, &events);
    let inner_events = events.clone();
    let inner = service_fn(move |_: Request<String>| {
        inner_events.push("inner fails");
        async { Err::<Response<String>, _>("the inner service's error") }
    });
    let service = SignalsLayer::new(app).layer(inner);
    let error = block_on(service.oneshot(Request::new(String::new()))).unwrap_err();
    assert_eq!(error, "the inner service's error");
    assert_eq!(events.take(), ["started by layer-error", "inner fails"]);
}

#[test]
fn failing_receivers_leave_the_response_unchanged_and_are_logged() {
    let _serial = serial();
    let app = WebApp::new("layer-failing");
    let events = Events::default();
    let _failing = [
        RequestStarted::signal()
            .connect(
                Receiver::new(|_: &WebApp, _: &RequestStarted| Err::<(), _>("started refused"))
                    .sender(&app),
            )
            .scoped(),
        RequestFinished::signal()
            .connect(
                Receiver::new(|_: &WebApp, _: &RequestFinished| -> () {
                    panic!("finished panicked")
                })
                .sender(&app),
            )
            .scoped(),
    ];
    // Receivers after the failing ones still run.
    let _receivers = record_both(&app, &events);
    let inner = service_fn(|_: Request<String>| async { Ok::<_, Infallible>(created("body")) });
    let service = SignalsLayer::new(app).layer(inner);
    let logs = Logs::default();
    let response = logs
        .capture(|| block_on(service.oneshot(Request::new(String::new()))))
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers().len(), 2);
    assert_eq!(response.into_body(), "body");
    assert_eq!(events.take().len(), 2);

    let text = logs.text();
    // Each failure is reported once, as a WARN event inside the request's span.
    for failure in ["started refused", "finished panicked"] {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(failure)).collect();
        assert_eq!(lines.len(), 1, "{failure} once in:\n{text}");
        assert!(lines[0].contains("WARN"), "{text}");
        assert!(lines[0].contains("request{request_id="), "{text}");
    }
}

#[test]
fn a_slow_receiver_is_cut_at_the_timeout_and_logged() {
    let _serial = serial();
    let app = WebApp::new("layer-slow");
    let events = Events::default();
    let slow_started = {
        let events = events.clone();
        Receiver::new_async(move |_: &WebApp, _: &RequestStarted| {
            let events = events.clone();
            Box::pin(async move {
                events.push("slow started receiver begins");
                tokio::time::sleep(Duration::from_secs(10)).await;
                events.push("slow started receiver ends");
            })
        })
    };
    let slow_finished = Receiver::new_async(|_: &WebApp, _: &RequestFinished| {
        Box::pin(async move { tokio::time::sleep(Duration::from_secs(10)).await })
    });
    let _slow = [
        RequestStarted::signal()
            .connect(slow_started.sender(&app))
            .scoped(),
        RequestFinished::signal()
            .connect(slow_finished.sender(&app))
            .scoped(),
    ];
    // Connected after the slow ones: a timeout drops the rest of the send, so these do not
    // run for the request.
    let _after = record_both(&app, &events);
    let inner_events = events.clone();
    let inner = service_fn(move |_: Request<String>| {
        inner_events.push("inner");
        async { Ok::<_, Infallible>(created("still here")) }
    });
    let timeout = Duration::from_millis(100);
    let service = SignalsLayer::new(app).timeout(timeout).layer(inner);
    let request = Request::get("/slow")
        .header("x-request-id", "slow-1")
        .body(String::new())
        .unwrap();

    let logs = Logs::default();
    let begin = Instant::now();
    let response = logs.capture(|| block_on(service.oneshot(request))).unwrap();
    let elapsed = begin.elapsed();

    assert!(elapsed >= 2 * timeout, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.into_body(), "still here");
    assert_eq!(events.take(), ["slow started receiver begins", "inner"]);

    let text = logs.text();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 2, "{text}");
    for (line, signal) in warnings
        .iter()
        .zip(["ckan.request_started", "ckan.request_finished"])
    {
        assert!(line.contains(signal), "{line}");
        assert!(line.contains("100ms"), "{line}");
        assert!(line.contains("request_id=slow-1"), "{line}");
    }
}

/// The request ids the span gave the receiver's log events, in order.
fn logged_request_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("a receiver logs"))
        .map(|l| {
            let start = l.find("request{request_id=").expect(l) + "request{request_id=".len();
            l[start..].split(' ').next().unwrap().to_owned()
        })
        .collect()
}

/// Sends `requests` through a layer whose `request_started` receiver logs an event; returns
/// what was logged.
fn log_requests(app: WebApp, requests: Vec<Request<String>>) -> String {
    let _log = RequestStarted::signal()
        .connect(
            Receiver::new(|_: &WebApp, _: &RequestStarted| tracing::info!("a receiver logs"))
                .sender(&app),
        )
        .scoped();
    let inner = service_fn(|_: Request<String>| async {
        tracing::info!("the inner service logs");
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let service = SignalsLayer::new(app).layer(inner);
    let logs = Logs::default();
    logs.capture(|| {
        for request in requests {
            block_on(service.clone().oneshot(request)).unwrap();
        }
    });
    logs.text()
}

#[test]
fn the_request_id_header_is_in_the_span() {
    let _serial = serial();
    let request = Request::post("/api/3/action/package_create")
        .header("x-request-id", "req-42")
        .body(String::new())
        .unwrap();
    let text = log_requests(WebApp::new("layer-id"), vec![request]);
    let span = "request{request_id=req-42 method=POST path=/api/3/action/package_create}";
    for event in ["a receiver logs", "the inner service logs"] {
        let line = text.lines().find(|l| l.contains(event)).expect(&text);
        assert!(line.contains(span), "{line}");
    }
}

#[test]
fn a_request_id_is_made_when_the_header_is_absent_or_not_sane() {
    let _serial = serial();
    let with_id = |id: &str| {
        Request::get("/")
            .header("x-request-id", id)
            .body(String::new())
            .unwrap()
    };
    let long = "x".repeat(65);
    let longest = "y".repeat(64);
    let requests = vec![
        Request::new(String::new()),
        Request::new(String::new()),
        with_id("has space"),
        with_id(&long),
        with_id(""),
        with_id(&longest),
    ];
    let text = log_requests(WebApp::new("layer-made-id"), requests);
    let ids = logged_request_ids(&text);
    assert_eq!(ids.len(), 6, "{text}");
    assert_eq!(ids[5], longest);
    let made = &ids[..5];
    for (i, id) in made.iter().enumerate() {
        let (prefix, n) = id.split_once('-').expect(id);
        assert_eq!(prefix.len(), 8, "{id}");
        assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert!(n.parse::<u64>().is_ok(), "{id}");
        assert!(!made[..i].contains(id), "{id} twice in {made:?}");
    }
}
