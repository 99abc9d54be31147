//! Signals across processes: a signal's sends are written to a Redis stream, and consumers in
//! other processes read them through consumer groups and send them again there, typed where
//! the signal's struct is linked and by name where it is not.
//!
//! ```no_run
//! use signals_core::prelude::*;
//! use signals_redis::{Bridge, BridgeConfig, Consumer, ConsumerOptions, Forwarder};
//!
//! #[signal(namespace = "myapp")]
//! #[derive(serde::Serialize, serde::Deserialize)]
//! pub struct Saved {
//!     pub id: u32,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let bridge = Bridge::connect(BridgeConfig::new("redis://127.0.0.1/")).await?;
//!
//! // In the web process: every send of `Saved` is also written to Redis.
//! let forwarder = Forwarder::new(&bridge);
//! let _forwarding = forwarder.forward::<Saved>();
//! Saved { id: 7 }.send("web");
//!
//! // In a worker process: the same send, again, to the worker's receivers.
//! let consumer = Consumer::new(&bridge, ConsumerOptions::new("search-index"))
//!     .signal(&Saved::named());
//! consumer.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```
//!
//! ## Guaranteed
//!
//! - [`Bridge::publish`] returns once Redis acknowledged the entry (with `appendonly yes` and
//!   `appendfsync always`, once it is on disk).
//! - A forwarding receiver ([`Forwarder`]) never drops an event silently: a full buffer, or a
//!   forwarder shut down, is a failure in the send's report; what the writer cannot write is
//!   logged at ERROR and counted.
//! - Each consumer group receives every event, at least once; exactly once per group when no
//!   consumer fails. An entry is acknowledged only after its local send ran without a
//!   failure; an abandoned one is claimed again after the claim idle time; after
//!   `max_deliveries` deliveries, counted by Redis, it goes to the dead letters with the
//!   reason, in one step.
//! - Entries read from Redis are untrusted: their size, nesting, field names, the signal they
//!   name (against their stream's) and schema are checked, and an entry that fails goes to the
//!   dead letters at once.
//! - A consumer's send of a signal is never forwarded again (other signals sent by its
//!   receivers are).
//! - The Redis URL's credentials (user info, `pass`/`user` query parameters) are redacted in
//!   errors, log lines and `Debug`.
//!
//! ## Not guaranteed
//!
//! - **Exactly once.** A consumer that dies after its send and before its acknowledgement
//!   hands the entry to another, which sends it again: receivers drop duplicates by
//!   [`Delivery::event_id`].
//! - **Order across consumers.** One stream read by one consumer keeps its order; several
//!   consumers in a group, and retried entries, do not.
//! - **Events in a producer's buffer when it dies** (the forwarding buffer is memory; use the
//!   awaited `publish` where that matters), and **failover**: a replica promoted after an
//!   asynchronous replication may lack the latest entries.
//! - **Events of a transaction that rolls back**, unless the send is held until the commit
//!   with [`hold`].
//! - **That a failed `publish` wrote nothing.** A command that timed out (Redis frozen, or the
//!   network slow) may still run when Redis answers again: the event may arrive although
//!   `publish` returned an error. Retry with care; consumers drop duplicates by event id.
//!   Likewise each reclaim attempted while Redis is frozen may count a delivery.
//! - **That the first command after Redis restarts succeeds**: the connection reconnects, but
//!   the command that met the broken connection fails; retry it.

mod bridge;
mod config;
mod consume;
mod dead;
mod entry;
mod error;
mod forward;
mod reply;
mod url;
mod wire;

pub use bridge::{Bridge, GroupInfo, Published};
pub use config::{BridgeConfig, REDIS_URL_ENV_VAR};
pub use consume::{current_delivery, Consumer, ConsumerOptions, ConsumerStats, Delivery};
pub use dead::{DeadLetter, DeadLetters};
pub use entry::{Entry, Malformed, FORMAT_VERSION, MAX_NESTING};
pub use error::BridgeError;
pub use forward::{hold, ForwardStats, Forwarder, Forwarding, Hold};
pub use url::RedisUrl;
