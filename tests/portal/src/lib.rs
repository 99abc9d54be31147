//! Helpers for the portal's integration tests (`tests/*.rs`).
//!
//! Plugins and signals are process-wide, and the tests of one binary run on parallel threads:
//! every test that loads plugins or counts sends starts with [`isolate`], which serializes it
//! with the others, unloads every plugin and clears the plugin crates' logs.
//!
//! [`Recorder`] subscribes typed receivers to CKAN's 13 built-in signals and records each call
//! as an [`Event`]: the registered name, the sender and the keyword arguments, as JSON (the
//! model types and signal structs are `Serialize`), so a test compares whole sends exactly.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
