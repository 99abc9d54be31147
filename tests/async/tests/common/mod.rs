//! Runs one async case on each executor: tokio's multi-threaded runtime (inside
//! `tokio::spawn`, so the case's futures must be `Send`), tokio's current-thread runtime, and
//! `futures::executor::block_on`.

#![allow(dead_code)]

use std::future::Future;

/// On tokio's multi-threaded runtime, spawned as a task.
pub fn tokio_multi_thread<F: Future<Output = ()> + Send + 'static>(case: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async { tokio::spawn(case).await });
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(error) => panic!("the case did not finish: {error}"),
        }
    }
}

/// On tokio's current-thread runtime.
pub fn tokio_current_thread<F: Future<Output = ()>>(case: F) {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime")
        .block_on(case);
}

/// On the minimal executor of the `futures` crate.
pub fn futures_block_on<F: Future<Output = ()>>(case: F) {
    futures::executor::block_on(case);
}

/// `name => case;` makes a module `name` with one test per executor, each running `case()`.
/// The three runs of one case share its signals, so they take a lock and run one at a time.
#[macro_export]
macro_rules! on_every_executor {
    ($($name:ident => $case:ident;)*) => {$(
        mod $name {
            static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

            fn serial() -> std::sync::MutexGuard<'static, ()> {
                LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            #[test]
            fn tokio_multi_thread() {
                let _serial = serial();
                $crate::common::tokio_multi_thread(super::$case());
            }

            #[test]
            fn tokio_current_thread() {
                let _serial = serial();
                $crate::common::tokio_current_thread(super::$case());
            }

            #[test]
            fn futures_block_on() {
                let _serial = serial();
                $crate::common::futures_block_on(super::$case());
            }
        }
    )*};
}
