//! The bridge's quick report: one Redis server, `redis-benchmark` against it as the baseline,
//! and the bridge measured in the same run.
//!
//! ```text
//! cargo run --release -p signals-redis --example bridge_report
//! ```
//!
//! It starts `redis-server` on a Unix socket in a temporary folder (no persistence), runs
//! `redis-benchmark -c 1 -P 64` and `-c 1` (unpipelined) with `XADD` of the same fields the
//! bridge writes for one event, then measures, against that server:
//!
//! - `publish_pipelined`: events forwarded by plain sends (the forwarder's writer batches up
//!   to 256 per pipeline), per second, until Redis acknowledged them all; ratio to
//!   redis-benchmark's pipelined `XADD` rate (target: at least 0.5);
//! - `end_to_end`: events sent in this process and handled by a local receiver behind one
//!   consumer (read, send again, acknowledge), per second; ratio to the same (target: at least
//!   0.1);
//! - `latency`: single events on an idle server, from `send` to the remote receiver, p50 and
//!   p99; ratio of p50 to redis-benchmark's unpipelined p50 (target: at most 5).
//!
//! The numbers are only meaningful as ratios on the same machine in the same run.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use signals_core::prelude::*;
use signals_redis::{Bridge, BridgeConfig, Consumer, ConsumerOptions, Forwarder};

#[signal(namespace = "bridge_report")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub n: u64,
    pub title: String,
}

/// The latency events' numbers start here, above the throughput events', so the backlog the
/// latency group catches up on first does not count.
const LATENCY_BASE: u64 = 1 << 40;

/// `redis-server` in a temporary folder; killed and removed on drop.
struct Server {
    child: Child,
    dir: std::path::PathBuf,
}

impl Server {
    fn start() -> Result<Server, String> {
        let dir = std::env::temp_dir().join(format!("bridge-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(dir.join("r.sock"))
            .args(["--unixsocketperm", "700", "--dir"])
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start redis-server ({e}); install the package redis-server")
            })?;
        let server = Server { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(server.socket()).is_err() {
            if Instant::now() > deadline {
                return Err("redis-server did not start within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    fn socket(&self) -> std::path::PathBuf {
        self.dir.join("r.sock")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-benchmark`'s requests per second and p50 (ms) for `XADD` of `payload`.
fn redis_benchmark(
    socket: &str,
    pipeline: u32,
    requests: u32,
    fields: &[(&'static str, String)],
) -> Result<(f64, f64), String> {
    let output = Command::new("redis-benchmark")
        .args(["-s", socket, "-c", "1", "-n"])
        .arg(requests.to_string())
        .args(["-P"])
        .arg(pipeline.to_string())
        .args(["--csv", "XADD", "redis-benchmark-stream", "*"])
        .args(
            fields
                .iter()
                .flat_map(|(name, value)| [*name, value.as_str()]),
        )
        .output()
        .map_err(|e| format!("cannot run redis-benchmark ({e})"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    // CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",... The test's
    // name holds the payload, commas and quotes included: read the numbers from the end.
    let line = text
        .lines()
        .find(|l| l.starts_with("\"XADD"))
        .ok_or_else(|| format!("redis-benchmark printed no XADD line: {text}"))?;
    let cells: Vec<f64> = line
        .rsplitn(8, ',')
        .take(7)
        .map(|c| c.trim_matches('"').parse().unwrap_or(f64::NAN))
        .collect();
    // Reversed: max, p99, p95, p50, min, avg, rps.
    Ok((cells[6], cells[3]))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start()?;
    let socket = server.socket().display().to_string();
    let event = Measured {
        n: 0,
        title: "Camels of the world, a dataset of 42 resources".into(),
    };
    // The same fields the bridge writes for one event.
    let fields = signals_redis::Entry::new(
        "bridge_report",
        "measured",
        1,
        serde_json::json!("report"),
        serde_json::to_value(&event)?,
        "host:1234:0123abcd",
    )
    .fields();
    let (pipelined_rps, _) = redis_benchmark(&socket, 64, 200_000, &fields)?;
    let (_, single_p50_ms) = redis_benchmark(&socket, 1, 20_000, &fields)?;
    println!("# features: signals-core {:?}", signals_core::FEATURES);
    println!("case=redis_benchmark_xadd pipeline=64 rps={pipelined_rps:.0}");
    println!(
        "case=redis_benchmark_xadd pipeline=1 p50_us={:.0}",
        single_p50_ms * 1000.0
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut config = BridgeConfig::new(format!("redis+unix://{socket}"));
        config.buffer = 100_000;
        let bridge = Bridge::connect(config).await?;

        // Publish throughput: plain sends through the forwarding receiver.
        let forwarder = Forwarder::new(&bridge);
        let forwarding = forwarder.forward::<Measured>();
        let events = 100_000u64;
        let started = Instant::now();
        for n in 0..events {
            let report = Measured { n, ..event.clone() }.send("report");
            if !report.is_ok() {
                return Err(format!("a send failed: {:?}", report.failures()).into());
            }
        }
        let sends_rps = events as f64 / started.elapsed().as_secs_f64();
        forwarder.flush().await;
        let publish_rps = events as f64 / started.elapsed().as_secs_f64();
        println!(
            "case=forwarding_sends events={events} rps={sends_rps:.0} (the sends alone, queued)"
        );
        if forwarder.stats().failed > 0 {
            return Err("the forwarder failed to write some events".into());
        }
        println!(
            "case=publish_pipelined events={events} rps={publish_rps:.0} ratio={:.2}",
            publish_rps / pipelined_rps
        );

        // End to end: those events, through one consumer, to a local receiver.
        drop(forwarding);
        let handled = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&handled);
        let _receiver = Measured::signal()
            .connect(move |_: &str, _: &Measured| {
                if signals_redis::current_delivery().is_some() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
            .scoped();
        let mut options = ConsumerOptions::new("report");
        options.batch = 256;
        options.block = Duration::from_millis(100);
        options.include_own = true;
        let mut consumer = Consumer::new(&bridge, options.clone()).signal(&Measured::named());
        let started = Instant::now();
        while handled.load(Ordering::Relaxed) < events {
            consumer.read_once().await?;
            if started.elapsed() > Duration::from_secs(40) {
                return Err("the consumer did not finish within 40 s".into());
            }
        }
        let end_to_end_rps = events as f64 / started.elapsed().as_secs_f64();
        println!(
            "case=end_to_end events={events} rps={end_to_end_rps:.0} ratio={:.2}",
            end_to_end_rps / pipelined_rps
        );

        // Latency: one event at a time on an idle server, send to remote receiver.
        let arrived = Arc::new(tokio::sync::Notify::new());
        let mark = Arc::clone(&arrived);
        let _latency = Measured::signal()
            .connect(move |_: &str, ev: &Measured| {
                if signals_redis::current_delivery().is_some() && ev.n >= LATENCY_BASE {
                    mark.notify_one();
                }
            })
            .scoped();
        options.group = "latency".into();
        options.block = Duration::from_millis(1000);
        let consumer = Consumer::new(&bridge, options).signal(&Measured::named());
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = Arc::clone(&stop);
        let running = tokio::spawn(consumer.run_until(async move { stopped.notified().await }));
        // The group starts at the stream's beginning: let it catch up on the backlog first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let forwarding = forwarder.forward::<Measured>();
        let mut samples = Vec::new();
        for n in 0..300u64 {
            let sent = Instant::now();
            let _ = Measured {
                n: LATENCY_BASE + n,
                ..event.clone()
            }
            .send("report");
            tokio::time::timeout(Duration::from_secs(5), arrived.notified())
                .await
                .map_err(|_| "an event did not arrive within 5 s")?;
            samples.push(sent.elapsed());
        }
        drop(forwarding);
        stop.notify_one();
        let _ = running.await;
        samples.sort();
        let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
        println!(
            "case=latency events={} p50_us={} p99_us={} ratio={:.2}",
            samples.len(),
            p50.as_micros(),
            p99.as_micros(),
            p50.as_secs_f64() * 1000.0 / single_p50_ms
        );
        forwarder.shutdown().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    drop(server);
    Ok(())
}
