//! The connection to Redis and the awaited `publish`.

use std::sync::Arc;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use signals_core::{Kwargs, NamedSignal, Sender, SenderKey, Signal};

use crate::config::BridgeConfig;
use crate::entry::{Entry, Fields};
use crate::error::BridgeError;
use crate::wire;

/// A connection to the Redis server of a [`BridgeConfig`]: publishes events, and makes the
/// [`Forwarder`](crate::Forwarder), the [`Consumer`](crate::Consumer)s and the
/// [`DeadLetters`](crate::DeadLetters) view that share it. Cheap to clone.
#[derive(Clone)]
pub struct Bridge {
    pub(crate) config: Arc<BridgeConfig>,
    pub(crate) client: redis::Client,
    pub(crate) conn: ConnectionManager,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("url", &self.config.url)
            .field("key_prefix", &self.config.key_prefix)
            .finish_non_exhaustive()
    }
}

/// Where a published event went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The stream's key.
    pub stream: String,
    /// The entry's id in the stream (`<ms>-<seq>`, given by Redis).
    pub entry_id: String,
    /// The event's id (a UUIDv7, the same in every process that receives it).
    pub event_id: String,
}

impl Bridge {
    /// Connects (the connection reconnects by itself after a failure).
    pub async fn connect(config: BridgeConfig) -> Result<Bridge, BridgeError> {
        let client = redis::Client::open(config.url.expose())?;
        let conn = ConnectionManager::new_with_config(
            client.clone(),
            ConnectionManagerConfig::new()
                .set_response_timeout(Some(config.response_timeout))
                .set_connection_timeout(Some(config.response_timeout))
                .set_number_of_retries(2),
        )
        .await?;
        Ok(Bridge {
            config: Arc::new(config),
            client,
            conn,
        })
    }

    /// The settings it runs with.
    pub fn config(&self) -> &BridgeConfig {
        &self.config
    }

    /// Writes one event of `T` to its stream and returns once Redis acknowledged it (with
    /// `appendfsync always`, once it is on disk).
    pub async fn publish<T>(&self, sender: &T::Sender, event: &T) -> Result<Published, BridgeError>
    where
        T: Signal + Serialize,
    {
        let kwargs = serde_json::to_value(event).map_err(|e| BridgeError::Encode {
            signal: format!("{}.{}", T::NAMESPACE, T::NAME),
            reason: format!("its kwargs do not serialize: {e}"),
        })?;
        let entry = self.entry(
            T::NAMESPACE,
            T::NAME,
            T::SCHEMA,
            &sender.sender_key(),
            kwargs,
        )?;
        self.write(&entry).await
    }

    /// Writes one event of a signal known by name, its kwargs read from the bag (see
    /// [`NamedSignal::to_json`]), and returns once Redis acknowledged it.
    pub async fn publish_named(
        &self,
        signal: &NamedSignal,
        sender: &SenderKey<'_>,
        kwargs: &dyn Kwargs,
    ) -> Result<Published, BridgeError> {
        let entry = self.entry_of(signal, sender, kwargs)?;
        self.write(&entry).await
    }

    /// The entry of one send of `signal`.
    pub(crate) fn entry_of(
        &self,
        signal: &NamedSignal,
        sender: &SenderKey<'_>,
        kwargs: &dyn Kwargs,
    ) -> Result<Entry, BridgeError> {
        let qualified = signal.qualified_name().to_owned();
        let json = wire::kwargs_json(signal, kwargs).map_err(|reason| BridgeError::Encode {
            signal: qualified,
            reason,
        })?;
        self.entry(
            signal.namespace(),
            signal.name(),
            wire::schema_of(signal),
            sender,
            json,
        )
    }

    fn entry(
        &self,
        namespace: &str,
        name: &str,
        schema: u32,
        sender: &SenderKey<'_>,
        kwargs: serde_json::Value,
    ) -> Result<Entry, BridgeError> {
        let sender = wire::sender_json(sender).map_err(|reason| BridgeError::Encode {
            signal: format!("{namespace}.{name}"),
            reason,
        })?;
        Ok(Entry::new(
            namespace,
            name,
            schema,
            sender,
            kwargs,
            &self.config.origin,
        ))
    }

    /// The stream key and fields of `entry`, refused when over the size cap.
    pub(crate) fn fields_of(&self, entry: &Entry) -> Result<(String, Fields), BridgeError> {
        let fields = entry.fields();
        let size = Entry::size(&fields);
        if size > self.config.max_entry_bytes {
            return Err(BridgeError::TooLarge {
                signal: entry.qualified_name(),
                size,
                max: self.config.max_entry_bytes,
            });
        }
        Ok((
            self.config.stream_key(&entry.namespace, &entry.name),
            fields,
        ))
    }

    async fn write(&self, entry: &Entry) -> Result<Published, BridgeError> {
        let (stream, fields) = self.fields_of(entry)?;
        let mut conn = self.conn.clone();
        let entry_id: String = redis::cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg(&fields)
            .query_async(&mut conn)
            .await?;
        Ok(Published {
            stream,
            entry_id,
            event_id: entry.id.clone(),
        })
    }
}

/// One consumer group of a stream, as `XINFO GROUPS` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupInfo {
    /// The group's name.
    pub name: String,
    /// Its consumers.
    pub consumers: usize,
    /// Entries delivered and not yet acknowledged.
    pub pending: usize,
    /// The last entry delivered to it.
    pub last_delivered_id: String,
    /// Entries not yet delivered to it (`None` when Redis cannot tell, after a deletion).
    pub lag: Option<usize>,
}

/// The entry id right after `id` (`ms-seq` + 1).
fn next_id(id: &str) -> Option<String> {
    let (ms, seq) = id.split_once('-')?;
    let (ms, seq): (u64, u64) = (ms.parse().ok()?, seq.parse().ok()?);
    Some(match seq.checked_add(1) {
        Some(seq) => format!("{ms}-{seq}"),
        None => format!("{}-0", ms.checked_add(1)?),
    })
}

/// Orders two entry ids.
fn id_key(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (
        ms.parse().unwrap_or(u64::MAX),
        seq.parse().unwrap_or(u64::MAX),
    )
}

impl Bridge {
    /// The consumer groups of `signal`'s stream: consumers, pending entries, lag.
    pub async fn groups(&self, signal: &NamedSignal) -> Result<Vec<GroupInfo>, BridgeError> {
        let stream = self.config.stream_key(signal.namespace(), signal.name());
        let mut conn = self.conn.clone();
        let reply: Result<redis::streams::StreamInfoGroupsReply, redis::RedisError> =
            redis::cmd("XINFO")
                .arg("GROUPS")
                .arg(&stream)
                .query_async(&mut conn)
                .await;
        let reply = match reply {
            Ok(reply) => reply,
            // No stream yet: no group.
            Err(error) if error.to_string().contains("no such key") => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        };
        Ok(reply
            .groups
            .into_iter()
            .map(|g| GroupInfo {
                name: g.name,
                consumers: g.consumers,
                pending: g.pending,
                last_delivered_id: g.last_delivered_id,
                lag: g.lag,
            })
            .collect())
    }

    /// Trims `signal`'s stream of the entries every group has acknowledged (`XTRIM MINID`
    /// below each group's oldest pending entry and first undelivered one): never an entry a
    /// group has not acknowledged. A stream without groups is left whole. Returns how many
    /// entries went.
    pub async fn trim(&self, signal: &NamedSignal) -> Result<usize, BridgeError> {
        let stream = self.config.stream_key(signal.namespace(), signal.name());
        let groups = self.groups(signal).await?;
        let mut keep_from: Option<String> = None;
        let mut conn = self.conn.clone();
        for group in &groups {
            let pending: redis::streams::StreamPendingReply = redis::cmd("XPENDING")
                .arg(&stream)
                .arg(&group.name)
                .query_async(&mut conn)
                .await?;
            let mut floor = next_id(&group.last_delivered_id).unwrap_or_else(|| "0-0".into());
            if let redis::streams::StreamPendingReply::Data(data) = pending {
                if id_key(&data.start_id) < id_key(&floor) {
                    floor = data.start_id;
                }
            }
            keep_from = Some(match keep_from {
                Some(current) if id_key(&current) <= id_key(&floor) => current,
                _ => floor,
            });
        }
        let Some(minid) = keep_from else {
            return Ok(0);
        };
        let removed: usize = redis::cmd("XTRIM")
            .arg(&stream)
            .arg("MINID")
            .arg(&minid)
            .query_async(&mut conn)
            .await?;
        Ok(removed)
    }
}
