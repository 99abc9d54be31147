//! What a tokio host does with async sends: run them in spawned tasks, cancel them with
//! `tokio::time::timeout` or `JoinHandle::abort`, and let receivers use tokio's own timers.
//! (Every other case runs on tokio and on `futures::executor::block_on` alike.)

use std::time::Duration;

use async_tests::{Log, OnDrop};
use signals_core::{signal, Receiver, Signal};

#[signal(namespace = "async_tests")]
struct Request {
    id: u32,
}

/// Connects `fast` (sync), `slow` (sleeps with tokio's timer for `sleep`) and `after`
/// (sync), logging what they do.
fn connect(log: &Log, sleep: Duration) -> Vec<signals_core::ScopedConnection> {
    let signal = Request::signal();
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    vec![
        signal
            .connect(
                Receiver::new(move |_: &str, r: &Request| l1.push(format!("fast {}", r.id)))
                    .name("fast"),
            )
            .scoped(),
        signal
            .connect(
                Receiver::new_async(move |_: &str, r: &Request| {
                    let l = l2.clone();
                    Box::pin(async move {
                        l.push(format!("slow {} start", r.id));
                        let unfinished = OnDrop::new(&l, format!("slow {} dropped", r.id));
                        tokio::time::sleep(sleep).await;
                        std::mem::forget(unfinished);
                        l.push(format!("slow {} end", r.id));
                    })
                })
                .name("slow"),
            )
            .scoped(),
        signal
            .connect(
                Receiver::new(move |_: &str, r: &Request| l3.push(format!("after {}", r.id)))
                    .name("after"),
            )
            .scoped(),
    ]
}

/// One test at a time: they share the signal.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

#[test]
fn a_send_in_spawned_tasks_awaits_tokio_timers() {
    let _serial = serial();
    multi_thread().block_on(async {
        let log = Log::default();
        let _connections = connect(&log, Duration::from_millis(5));
        let tasks: Vec<_> = (0..4)
            .map(|id| tokio::spawn(async move { Request { id }.send_async("web").await }))
            .collect();
        for task in tasks {
            let report = task.await.unwrap();
            assert!(report.is_ok());
            assert_eq!(report.receivers_called(), 3);
        }
        let entries = log.take();
        assert_eq!(entries.len(), 16);
        // Each send ran its receivers in order, whatever the interleaving of the tasks.
        for id in 0..4 {
            let own: Vec<&String> = entries
                .iter()
                .filter(|e| e.split(' ').nth(1) == Some(&id.to_string()))
                .collect();
            assert_eq!(
                own,
                [
                    &format!("fast {id}"),
                    &format!("slow {id} start"),
                    &format!("slow {id} end"),
                    &format!("after {id}")
                ]
            );
        }
    });
}

#[test]
fn a_timeout_cancels_the_send_at_the_receiver_in_flight() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(timeout_case());
}

async fn timeout_case() {
    let log = Log::default();
    let _connections = connect(&log, Duration::from_secs(3600));
    let outcome = tokio::time::timeout(
        Duration::from_millis(20),
        Request { id: 1 }.send_async("web"),
    )
    .await;
    assert!(outcome.is_err(), "the send cannot finish in time");
    assert_eq!(log.take(), ["fast 1", "slow 1 start", "slow 1 dropped"]);
    // Nothing is left locked or connected: the next send runs every receiver.
    drop(_connections);
    let _connections = connect(&log, Duration::from_millis(1));
    assert_eq!(
        Request { id: 2 }.send_async("web").await.receivers_called(),
        3
    );
    assert_eq!(
        log.take(),
        ["fast 2", "slow 2 start", "slow 2 end", "after 2"]
    );
}

#[test]
fn aborting_the_task_cancels_the_send() {
    let _serial = serial();
    multi_thread().block_on(abort_case());
}

async fn abort_case() {
    let log = Log::default();
    let _connections = connect(&log, Duration::from_secs(3600));
    let task = tokio::spawn(async { Request { id: 3 }.send_async("web").await });
    // Wait until the slow receiver has started.
    while !log.entries().contains(&"slow 3 start".to_owned()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(log.take(), ["fast 3", "slow 3 start", "slow 3 dropped"]);
    assert_eq!(Request::signal().named().connections().len(), 3);
}
