//! Helpers shared by the reliability tests (`tests/*.rs`): bounded runs, a watchdog, a logical
//! clock, and a panic hook that silences the panics the tests provoke on purpose.
//!
//! The tests themselves live in `tests/`:
//!
//! | file | what it checks |
//! |---|---|
//! | `model.rs` | random sequences of connect, disconnect, block, mute and send against a small reference model |
//! | `stress.rs` | threads sending while others connect, disconnect, load and unload plugins and drop weak targets |
//! | `faults.rs` | receivers that panic, fail, send re-entrantly, disconnect themselves or connect others |
//! | `bad_input.rs` | invalid names, wrong types, duplicate declarations, bad plugins and bad config files |
//!
//! Knobs (environment variables): `SIGNALS_PROPTEST_CASES` (default 10,000) and
//! `SIGNALS_STRESS_MS` (default 2,000).

use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// The text every panic provoked on purpose carries; [`quiet_expected_panics`] silences those.
pub const EXPECTED_PANIC: &str = "EXPECTED PANIC";

/// A panic payload that is not a string, for panics provoked on purpose
/// (`std::panic::panic_any(ExpectedPanic)`); [`quiet_expected_panics`] silences those too.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedPanic;

/// An environment variable as a number, or `default` when it is unset or not a number.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// How many cases each property test runs (`SIGNALS_PROPTEST_CASES`, default 10,000).
pub fn proptest_cases() -> u32 {
    env_u64("SIGNALS_PROPTEST_CASES", 10_000).clamp(1, u64::from(u32::MAX)) as u32
}

/// How long each stress test runs (`SIGNALS_STRESS_MS`, default 2,000 ms).
pub fn stress_duration() -> Duration {
    Duration::from_millis(env_u64("SIGNALS_STRESS_MS", 2_000))
}

/// Runs `body` on a thread and fails if it does not finish within `limit`: a deadlock fails the
/// test instead of hanging CI. A panic in `body` is passed on.
pub fn with_watchdog(limit: Duration, body: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel();
    let worker = thread::Builder::new()
        .name("watched".into())
        .spawn(move || {
            body();
            let _ = done.send(());
        })
        .expect("spawn the watched thread");
    match wait.recv_timeout(limit) {
        Ok(()) => worker
            .join()
            .expect("the watched body panicked after finishing"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(payload) = worker.join() {
                panic::resume_unwind(payload);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("deadlock (or livelock): no progress within {limit:?}")
        }
    }
}

/// A logical clock shared by the threads of a test: every reading is unique and increasing.
#[derive(Debug, Default)]
pub struct Clock(AtomicU64);

impl Clock {
    /// A clock whose first reading is 1.
    pub const fn new() -> Self {
        Clock(AtomicU64::new(1))
    }

    /// The next reading.
    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

struct Quiet {
    users: usize,
    previous: Option<Arc<Hook>>,
}

static QUIET: Mutex<Quiet> = Mutex::new(Quiet {
    users: 0,
    previous: None,
});

fn is_expected(info: &PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    payload.is::<ExpectedPanic>()
        || payload
            .downcast_ref::<&str>()
            .map(|s| s.contains(EXPECTED_PANIC))
            .or_else(|| {
                payload
                    .downcast_ref::<String>()
                    .map(|s| s.contains(EXPECTED_PANIC))
            })
            .unwrap_or(false)
}

/// Silences panics whose message contains [`EXPECTED_PANIC`] (or whose payload is
/// [`ExpectedPanic`]) while the guard lives; every
/// other panic still reaches the previous hook (tests run in parallel: their failures must
/// still be printed). The previous hook is restored when the last guard goes.
pub fn quiet_expected_panics() -> QuietGuard {
    let mut quiet = QUIET.lock().unwrap_or_else(PoisonError::into_inner);
    if quiet.users == 0 {
        let previous: Arc<Hook> = Arc::new(panic::take_hook());
        let forward = previous.clone();
        panic::set_hook(Box::new(move |info| {
            if !is_expected(info) {
                forward(info);
            }
        }));
        quiet.previous = Some(previous);
    }
    quiet.users += 1;
    QuietGuard { _private: () }
}

/// Restores the panic hook when the last one is dropped; see [`quiet_expected_panics`].
#[must_use = "the hook is restored as soon as the guard is dropped"]
pub struct QuietGuard {
    _private: (),
}

impl Drop for QuietGuard {
    fn drop(&mut self) {
        let mut quiet = QUIET.lock().unwrap_or_else(PoisonError::into_inner);
        quiet.users -= 1;
        // A failing test unwinds through the guard: the hook cannot be changed from a
        // panicking thread (that aborts), so it stays quiet for the rest of the run.
        if quiet.users == 0 && !std::thread::panicking() {
            if let Some(previous) = quiet.previous.take() {
                let _ = panic::take_hook();
                panic::set_hook(Box::new(move |info| previous(info)));
            }
        }
    }
}
