//! The `tracing` feature (`cargo test -p signals-core --features tracing --test tracing`): a
//! WARN event for each receiver failure, with the signal's qualified name, the receiver's
//! name, location and plugin, and the message; a TRACE span `send` per send to a signal with
//! receivers, with the number of receivers called.
//!
//! A subscriber of the test's own (tracing-subscriber's registry and a layer that keeps every
//! event and span) is installed on the test's thread with `with_default`: each test sees only
//! its own sends. Every test uses signals of its own (`t_tracing_*`): signals are
//! process-wide and tests run in parallel.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use futures::executor::block_on;
use signals_core::plugins::{self, Plugin, Subscriptions};
use signals_core::{
    plugin, signal, DynKwargs, Kwargs, Namespace, Receiver, SendReport, SenderKey, Signal,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

// ---- The capturing subscriber ----

/// An event, with its fields as text (`message` among them).
#[derive(Clone, Debug)]
struct Logged {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
    /// The span the event happened in, if any.
    span: Option<&'static str>,
}

impl Logged {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// A span, with its fields as text, as it was when it closed.
#[derive(Clone, Debug)]
struct Span {
    name: &'static str,
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Seen {
    events: Vec<Logged>,
    open: HashMap<Id, Span>,
    closed: Vec<Span>,
}

/// The layer: keeps every event and every span it is shown.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        let span = Span {
            name: meta.name(),
            level: *meta.level(),
            target: meta.target().to_owned(),
            fields,
        };
        self.0.lock().unwrap().open.insert(id.clone(), span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().open.get_mut(id) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        self.0.lock().unwrap().events.push(Logged {
            level: *meta.level(),
            target: meta.target().to_owned(),
            fields,
            span: ctx.current_span().metadata().map(|m| m.name()),
        });
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(span) = seen.open.remove(&id) {
            seen.closed.push(span);
        }
    }
}

/// Runs `f` with the capturing subscriber (every level) on this thread; returns what `f`
/// returned, the events and the closed spans.
fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Logged>, Vec<Span>) {
    capture_at(LevelFilter::TRACE, f)
}

/// [`capture`], with a subscriber that wants only `level` and above.
fn capture_at<R>(level: LevelFilter, f: impl FnOnce() -> R) -> (R, Vec<Logged>, Vec<Span>) {
    // One capture at a time: tracing caches each callsite's interest across the threads'
    // subscribers, and two threads that install theirs at once may each compute it without
    // the other's (a test at WARN could then see a span its subscriber does not want).
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let layer = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(level)
        .with(layer.clone());
    let result = tracing::subscriber::with_default(subscriber, f);
    let mut seen = layer.0.lock().unwrap();
    assert!(seen.open.is_empty(), "spans left open: {:?}", seen.open);
    (
        result,
        std::mem::take(&mut seen.events),
        std::mem::take(&mut seen.closed),
    )
}

/// The events, each of which must be a WARN of target `signals` about a receiver failure.
fn warnings(events: &[Logged]) -> &[Logged] {
    for event in events {
        assert_eq!(event.level, Level::WARN, "{event:?}");
        assert_eq!(event.target, "signals", "{event:?}");
        assert_eq!(event.field("message"), Some("receiver failed"), "{event:?}");
    }
    events
}

/// Asserts that `events` log exactly the failures of `report`, in order: one WARN each, with
/// the signal, receiver, location, plugin, kind and message.
fn assert_logged(signal: &str, report: &SendReport, events: &[Logged]) {
    let failures = report.failures();
    let events = warnings(events);
    assert_eq!(events.len(), failures.len(), "{events:#?}\n{failures:#?}");
    for (event, failure) in events.iter().zip(failures) {
        assert_eq!(event.field("signal"), Some(signal), "{event:?}");
        assert_eq!(event.field("receiver"), Some(&*failure.receiver.name));
        let location = failure.receiver.location.to_string();
        assert_eq!(event.field("location"), Some(location.as_str()));
        assert_eq!(event.field("plugin"), failure.receiver.plugin.as_deref());
        let (kind, message) = match &failure.kind {
            signals_core::FailureKind::Error(error) => ("error", error.to_string()),
            signals_core::FailureKind::Panic(message) => ("panic", message.clone()),
            signals_core::FailureKind::AsyncReceiver => ("async_receiver", String::new()),
            signals_core::FailureKind::WrongValue { .. } => ("wrong_value", String::new()),
            signals_core::FailureKind::TypedReceiver => ("typed_receiver", String::new()),
            signals_core::FailureKind::Kwarg(error) => {
                ("kwarg", format!("the receiver was not called: {error}"))
            }
            other => panic!("a failure kind this test does not know: {other:?}"),
        };
        assert_eq!(event.field("kind"), Some(kind), "{event:?}");
        if !message.is_empty() {
            assert_eq!(event.field("error"), Some(message.as_str()), "{event:?}");
        }
    }
}

/// Asserts that `spans` is the one span of a send of `signal` that called `receivers`.
fn assert_one_send_span(signal: &str, receivers: usize, spans: &[Span]) {
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = &spans[0];
    assert_eq!(span.name, "send");
    assert_eq!(span.level, Level::TRACE);
    assert_eq!(span.target, "signals");
    assert_eq!(
        span.fields.get("signal").map(String::as_str),
        Some(signal),
        "{span:?}"
    );
    let count = receivers.to_string();
    assert_eq!(
        span.fields.get("receivers").map(String::as_str),
        Some(count.as_str()),
        "{span:?}"
    );
}

// ---- One failure, its fields ----

#[signal(namespace = "t_tracing_error")]
struct Saved {
    id: u32,
}

#[test]
fn a_receiver_error_is_one_warning_with_the_signal_receiver_location_and_message() {
    let _ok = Saved::signal().connect(|_: &str, _: &Saved| {}).scoped();
    let _bad = Saved::signal()
        .connect(Receiver::new(|_: &str, _: &Saved| Err::<(), _>("disk full")).name("audit"))
        .scoped();
    let (report, events, spans) = capture(|| Saved { id: 1 }.send("web"));
    assert_eq!(report.failures().len(), 1);
    assert_logged("t_tracing_error.saved", &report, &events);
    let event = &events[0];
    assert_eq!(event.field("receiver"), Some("audit"));
    assert_eq!(event.field("error"), Some("disk full"));
    assert_eq!(event.field("kind"), Some("error"));
    assert_eq!(event.field("plugin"), None, "no plugin owns the connection");
    let location = event.field("location").unwrap();
    assert!(location.contains("tests/tracing.rs:"), "{location}");
    // Logged inside the send's span, which counts both receivers.
    assert_eq!(event.span, Some("send"));
    assert_one_send_span("t_tracing_error.saved", 2, &spans);
}

#[signal(namespace = "t_tracing_panic")]
struct Crashed {
    id: u32,
}

#[test]
fn a_panic_is_one_warning_with_its_message() {
    let _bad = Crashed::signal()
        .connect(
            Receiver::new(|_: &str, ev: &Crashed| -> () { panic!("boom {}", ev.id) })
                .name("crasher"),
        )
        .scoped();
    let _ok = Crashed::signal()
        .connect(|_: &str, _: &Crashed| {})
        .scoped();
    let (report, events, spans) = capture(|| Crashed { id: 7 }.send("web"));
    assert_eq!(report.receivers_called(), 2);
    assert_logged("t_tracing_panic.crashed", &report, &events);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("receiver"), Some("crasher"));
    assert_eq!(events[0].field("kind"), Some("panic"));
    assert_eq!(events[0].field("error"), Some("boom 7"));
    assert_one_send_span("t_tracing_panic.crashed", 2, &spans);
}

#[signal(namespace = "t_tracing_plugin")]
struct Audited {
    id: u32,
}

#[plugin(name = "t_tracing_plugin")]
#[derive(Default)]
struct AuditPlugin;

impl Plugin for AuditPlugin {
    fn subscriptions(&self, s: &mut Subscriptions) {
        s.connect(
            Audited::signal(),
            Receiver::new(|_: &str, _: &Audited| Err::<(), _>("refused")).name("audit"),
        );
    }
}

#[test]
fn a_plugin_receivers_warning_names_the_plugin() {
    let _loaded = plugins::use_plugin("t_tracing_plugin").unwrap();
    let (report, events, _) = capture(|| Audited { id: 1 }.send("web"));
    assert_logged("t_tracing_plugin.audited", &report, &events);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("plugin"), Some("t_tracing_plugin"));
    assert_eq!(events[0].field("receiver"), Some("audit"));
}

// ---- Successful sends ----

#[signal(namespace = "t_tracing_ok")]
struct Fine {
    id: u32,
}

#[test]
fn a_send_whose_receivers_succeed_logs_no_event_and_one_span_with_the_count() {
    let connections = [
        Fine::signal().connect(|_: &str, _: &Fine| {}),
        Fine::signal().connect(|_: &str, ev: &Fine| if ev.id == 1 { Ok(()) } else { Err("not 1") }),
        Fine::signal().connect(Receiver::new_async(|_: &str, _: &Fine| Box::pin(async {}))),
    ];
    // The sync send does not run the async receiver: that is a failure of its own.
    let (report, events, spans) = capture(|| Fine { id: 1 }.sending("web").collect().run());
    assert_eq!(report.report.receivers_called(), 2);
    assert_logged("t_tracing_ok.fine", &report.report, &events);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("kind"), Some("async_receiver"));
    assert_one_send_span("t_tracing_ok.fine", 2, &spans);

    let (report, events, spans) = capture(|| block_on(Fine { id: 1 }.send_async("web")));
    assert!(report.is_ok());
    assert!(events.is_empty(), "{events:#?}");
    assert_one_send_span("t_tracing_ok.fine", 3, &spans);
    for c in connections {
        c.disconnect();
    }
}

#[signal(namespace = "t_tracing_nobody")]
struct Unheard {
    id: u32,
}

#[test]
fn a_send_to_a_signal_without_receivers_logs_nothing() {
    let ((sync, by_name), events, spans) = capture(|| {
        let sync = Unheard { id: 1 }.send("web");
        let by_name = Namespace::get("t_tracing_nobody")
            .unwrap()
            .signal("nothing")
            .unwrap()
            .send(&"web", &DynKwargs::new())
            .unwrap();
        (sync, by_name)
    });
    assert_eq!(sync.receivers_called() + by_name.receivers_called(), 0);
    assert!(events.is_empty(), "{events:#?}");
    assert!(spans.is_empty(), "{spans:#?}");
}

// ---- Every way of sending ----

#[signal(namespace = "t_tracing_sync", output = u32)]
struct Counted {
    n: u32,
}

#[test]
fn every_sync_send_logs_each_failure_once() {
    let signal = Counted::signal();
    let connections = [
        signal.connect(Receiver::new(|_: &str, _: &Counted| Err::<u32, _>("first")).name("first")),
        signal.connect(|_: &str, ev: &Counted| ev.n),
        signal.connect(
            Receiver::new(|_: &str, _: &Counted| -> u32 { panic!("second") }).name("second"),
        ),
        signal.connect(Receiver::new(|_: &str, _: &Counted| Err::<u32, _>("third")).name("third")),
    ];
    let ev = Counted { n: 2 };
    let name = "t_tracing_sync.counted";

    let (report, events, spans) = capture(|| ev.send("web"));
    assert_eq!(report.failures().len(), 3);
    assert_logged(name, &report, &events);
    assert_one_send_span(name, 4, &spans);

    let (report, events, spans) = capture(|| ev.sending("web").fail_fast().run());
    assert!(report.stopped_early());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("receiver"), Some("first"));
    assert_one_send_span(name, 1, &spans);

    let (collected, events, spans) = capture(|| ev.sending("web").collect().run());
    assert_eq!(collected.responses.len(), 1);
    assert_logged(name, &collected.report, &events);
    assert_eq!(events.len(), 3);
    assert_one_send_span(name, 4, &spans);

    let (collected, events, spans) = capture(|| ev.sending("web").fail_fast().collect().run());
    assert_logged(name, &collected.report, &events);
    assert_eq!(events.len(), 1);
    assert_one_send_span(name, 1, &spans);

    // Through the handle, as through the value.
    let (report, events, spans) = capture(|| Counted::signal().send("web", &ev));
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 3);
    assert_one_send_span(name, 4, &spans);
    for c in connections {
        c.disconnect();
    }
}

#[signal(namespace = "t_tracing_async", output = u32)]
struct Awaited {
    n: u32,
}

#[test]
fn every_async_send_logs_each_failure_once() {
    let signal = Awaited::signal();
    let connections = [
        signal.connect(Receiver::new(|_: &str, _: &Awaited| Err::<u32, _>("sync")).name("sync")),
        signal.connect(
            Receiver::new_async(|_: &str, _: &Awaited| Box::pin(async { Err::<u32, _>("late") }))
                .name("late"),
        ),
        signal.connect(Receiver::new_async(|_: &str, ev: &Awaited| {
            Box::pin(async move { ev.n })
        })),
        signal.connect(
            Receiver::new_async(|_: &str, ev: &Awaited| {
                Box::pin(async move {
                    if ev.n > 0 {
                        panic!("async boom");
                    }
                    0u32
                })
            })
            .name("boom"),
        ),
    ];
    let ev = Awaited { n: 1 };
    let name = "t_tracing_async.awaited";

    let (report, events, spans) = capture(|| block_on(ev.send_async("web")));
    assert_eq!(report.failures().len(), 3);
    assert_logged(name, &report, &events);
    assert!(events.iter().all(|e| e.span == Some("send")), "{events:#?}");
    assert_one_send_span(name, 4, &spans);

    let (report, events, spans) = capture(|| block_on(ev.sending("web").fail_fast().run_async()));
    assert!(report.stopped_early());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 1);
    assert_one_send_span(name, 1, &spans);

    let (collected, events, spans) = capture(|| block_on(ev.sending("web").collect().run_async()));
    assert_eq!(collected.responses.len(), 1);
    assert_logged(name, &collected.report, &events);
    assert_eq!(events.len(), 3);
    assert_one_send_span(name, 4, &spans);

    let (report, events, spans) = capture(|| block_on(ev.sending("web").run_concurrent()));
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.span == Some("send")), "{events:#?}");
    assert_one_send_span(name, 4, &spans);

    let (collected, events, spans) =
        capture(|| block_on(ev.sending("web").collect().run_concurrent()));
    assert_logged(name, &collected.report, &events);
    assert_eq!(events.len(), 3);
    assert_one_send_span(name, 4, &spans);

    // A sync send runs the sync receivers and logs each async one it cannot run.
    let (report, events, spans) = capture(|| ev.send("web"));
    assert_eq!(report.receivers_called(), 1);
    assert_logged(name, &report, &events);
    let kinds: Vec<_> = events.iter().map(|e| e.field("kind").unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "error",
            "async_receiver",
            "async_receiver",
            "async_receiver"
        ]
    );
    assert_one_send_span(name, 1, &spans);
    for c in connections {
        c.disconnect();
    }
}

// ---- By name ----

#[test]
fn by_name_sends_log_each_failure_once() {
    let signal = Namespace::get("t_tracing_by_name")
        .unwrap()
        .signal("saved")
        .unwrap();
    let connections = [
        signal.connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("no")).name("refuser"),
        ),
        signal.connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| -> () { panic!("by-name boom") })
                .name("crasher"),
        ),
        // A value of the wrong type for a `collect::<i64>()`: `5` is an `i32`.
        signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| 5).name("five")),
        signal.connect(
            Receiver::new_async(|_: &SenderKey<'static>, _: &dyn Kwargs| {
                Box::pin(async { Err::<(), _>("late") })
            })
            .name("late"),
        ),
    ];
    let bag = DynKwargs::new();
    let name = "t_tracing_by_name.saved";

    let (report, events, spans) = capture(|| signal.send(&"web", &bag).unwrap());
    assert_logged(name, &report, &events);
    let kinds: Vec<_> = events.iter().map(|e| e.field("kind").unwrap()).collect();
    assert_eq!(kinds, ["error", "panic", "async_receiver"]);
    assert_eq!(events[1].field("error"), Some("by-name boom"));
    assert_one_send_span(name, 3, &spans);

    let (report, events, spans) =
        capture(|| signal.sending(&"web", &bag).fail_fast().run().unwrap());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 1);
    assert_one_send_span(name, 1, &spans);

    // The value of the wrong type is found after the send, and logged once, last.
    let (collected, events, spans) =
        capture(|| signal.sending(&"web", &bag).collect::<i64>().run().unwrap());
    assert!(collected.responses.is_empty());
    assert_logged(name, &collected.report, &events);
    let kinds: Vec<_> = events.iter().map(|e| e.field("kind").unwrap()).collect();
    assert_eq!(kinds, ["error", "panic", "async_receiver", "wrong_value"]);
    assert_eq!(events[3].field("receiver"), Some("five"));
    assert_one_send_span(name, 3, &spans);

    let (report, events, spans) = capture(|| block_on(signal.send_async(&"web", &bag)).unwrap());
    assert_logged(name, &report, &events);
    let kinds: Vec<_> = events.iter().map(|e| e.field("kind").unwrap()).collect();
    assert_eq!(kinds, ["error", "panic", "error"]);
    assert_one_send_span(name, 4, &spans);

    let (collected, events, spans) = capture(|| {
        block_on(
            signal
                .sending(&"web", &bag)
                .collect::<i64>()
                .run_concurrent(),
        )
        .unwrap()
    });
    assert_logged(name, &collected.report, &events);
    let kinds: Vec<_> = events.iter().map(|e| e.field("kind").unwrap()).collect();
    assert_eq!(kinds, ["error", "panic", "error", "wrong_value"]);
    assert_one_send_span(name, 4, &spans);

    let (report, events, spans) =
        capture(|| block_on(signal.sending(&"web", &bag).fail_fast().run_async()).unwrap());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 1);
    assert_one_send_span(name, 1, &spans);
    for c in connections {
        c.disconnect();
    }
}

#[signal(namespace = "t_tracing_bound")]
struct Bound {
    id: u32,
}

#[test]
fn a_by_name_send_to_a_typed_signal_logs_its_failures() {
    let _typed = Bound::signal()
        .connect(Receiver::new(|_: &str, _: &Bound| Err::<(), _>("typed")).name("typed"))
        .scoped();
    let named = Bound::named();
    let _by_name = named
        .connect(
            Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| Err::<(), _>("by name"))
                .name("by_name"),
        )
        .scoped();
    let ev = Bound { id: 1 };
    let name = "t_tracing_bound.bound";

    let (report, events, spans) = capture(|| named.send(&"web", &ev).unwrap());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 2);
    assert_one_send_span(name, 2, &spans);

    let (report, events, spans) = capture(|| block_on(named.send_async(&"web", &ev)).unwrap());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 2);
    assert_one_send_span(name, 2, &spans);

    // The typed send reaches the by-name receiver too.
    let (report, events, spans) = capture(|| ev.send("web"));
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 2);
    assert_one_send_span(name, 2, &spans);
}

/// Not `Serialize`: a send from JSON reaches its by-name receivers only.
#[signal(namespace = "t_tracing_json")]
struct FromJson {
    id: u32,
}

#[test]
fn a_send_from_json_logs_each_typed_receiver_it_cannot_reach() {
    let _typed = FromJson::signal()
        .connect(Receiver::new(|_: &str, _: &FromJson| {}).name("typed"))
        .scoped();
    let named = FromJson::named();
    let _by_name = named
        .connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {})
        .scoped();
    let name = "t_tracing_json.from_json";
    let kwargs = || serde_json::json!({"id": 1});

    let (report, events, spans) = capture(|| named.send_json(&"web", kwargs()).unwrap());
    assert_eq!(report.receivers_called(), 1);
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("receiver"), Some("typed"));
    assert_eq!(events[0].field("kind"), Some("typed_receiver"));
    assert!(
        events[0]
            .field("error")
            .unwrap()
            .starts_with("the receiver is typed;"),
        "{events:?}"
    );
    assert_one_send_span(name, 1, &spans);

    let (report, events, _) =
        capture(|| block_on(named.send_json_async(&"web", kwargs())).unwrap());
    assert_logged(name, &report, &events);
    assert_eq!(events.len(), 1);
}

// ---- Levels ----

#[signal(namespace = "t_tracing_levels")]
struct Leveled {
    id: u32,
}

#[test]
fn a_subscriber_at_warn_gets_the_warnings_and_no_span() {
    let _bad = Leveled::signal()
        .connect(Receiver::new(|_: &str, _: &Leveled| Err::<(), _>("no")).name("bad"))
        .scoped();
    let _ok = Leveled::signal()
        .connect(|_: &str, _: &Leveled| {})
        .scoped();
    let (report, events, spans) = capture_at(LevelFilter::WARN, || Leveled { id: 1 }.send("web"));
    assert_logged("t_tracing_levels.leveled", &report, &events);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].span, None, "no span for a subscriber at WARN");
    assert!(spans.is_empty(), "{spans:#?}");

    // At ERROR, not even the warning.
    let (report, events, spans) = capture_at(LevelFilter::ERROR, || Leveled { id: 1 }.send("web"));
    assert_eq!(report.failures().len(), 1, "the report keeps the failure");
    assert!(events.is_empty(), "{events:#?}");
    assert!(spans.is_empty(), "{spans:#?}");
}

/// Counts this thread's allocations, to show that a send under a subscriber that wants no
/// span allocates nothing.
struct Counting;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` with a `const` initializer, so counting never allocates or re-enters.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract; we pass it through.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[signal(namespace = "t_tracing_alloc")]
struct Quiet {
    id: u32,
}

#[test]
fn a_successful_send_under_a_warn_subscriber_allocates_nothing() {
    let _a = Quiet::signal().connect(|_: &str, _: &Quiet| {}).scoped();
    let _b = Quiet::signal()
        .connect(|_: &str, ev: &Quiet| if ev.id == 1 { Ok(()) } else { Err("not 1") })
        .scoped();
    let (allocations, events, spans) = capture_at(LevelFilter::WARN, || {
        let ev = Quiet { id: 1 };
        assert!(ev.send("web").is_ok()); // warm-up: the thread's snapshot cache
        let before = ALLOCATIONS.with(|n| n.get());
        for _ in 0..1000 {
            assert_eq!(ev.send("web").receivers_called(), 2);
        }
        ALLOCATIONS.with(|n| n.get()) - before
    });
    assert_eq!(allocations, 0);
    assert!(events.is_empty() && spans.is_empty());
}

#[test]
fn the_features_list_names_tracing() {
    assert_eq!(signals_core::FEATURES, ["tracing"]);
}
