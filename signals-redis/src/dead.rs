//! The dead letters: entries a consumer could not handle, with the reason. List, show, replay,
//! purge.

use redis::Value;

use crate::bridge::Bridge;
use crate::error::BridgeError;
use crate::reply::{range_reply, Field, RawEntry};

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetter {
    /// Its id in the dead-letter stream.
    pub id: String,
    /// The stream the entry came from.
    pub stream: String,
    /// The entry's id there.
    pub entry_id: String,
    /// The group that gave up on it.
    pub group: String,
    /// How many times it was delivered to that group.
    pub deliveries: usize,
    /// Why.
    pub reason: String,
    /// The entry's own fields, as they were (bytes that are not UTF-8 shown lossily).
    pub fields: Vec<(String, String)>,
}

/// The dead letters of a bridge's key prefix.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    bridge: Bridge,
}

impl Bridge {
    /// The dead letters.
    pub fn dead_letters(&self) -> DeadLetters {
        DeadLetters {
            bridge: self.clone(),
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn letter(raw: &RawEntry) -> DeadLetter {
    let get = |name: &str| match raw.field(name) {
        Field::Once(value) => text(value),
        _ => String::new(),
    };
    let mut fields: Vec<(String, String)> = raw
        .fields
        .iter()
        .filter(|(name, _)| !name.starts_with(b"dead."))
        .map(|(name, value)| (text(name), text(value)))
        .collect();
    fields.sort();
    DeadLetter {
        id: raw.id.clone(),
        stream: get("dead.stream"),
        entry_id: get("dead.entry"),
        group: get("dead.group"),
        deliveries: get("dead.deliveries").parse().unwrap_or(0),
        reason: get("dead.reason"),
        fields,
    }
}

impl DeadLetters {
    /// The oldest `count` dead letters.
    pub async fn list(&self, count: usize) -> Result<Vec<DeadLetter>, BridgeError> {
        let mut conn = self.bridge.conn.clone();
        let reply: Value = redis::cmd("XRANGE")
            .arg(self.bridge.config.dead_letter_key())
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        Ok(range_reply(&reply).iter().map(letter).collect())
    }

    /// One dead letter.
    pub async fn show(&self, id: &str) -> Result<DeadLetter, BridgeError> {
        self.raw(id)
            .await?
            .map(|raw| letter(&raw))
            .ok_or_else(|| BridgeError::NoSuchDeadLetter(id.to_owned()))
    }

    async fn raw(&self, id: &str) -> Result<Option<RawEntry>, BridgeError> {
        let mut conn = self.bridge.conn.clone();
        let reply: Result<Value, redis::RedisError> = redis::cmd("XRANGE")
            .arg(self.bridge.config.dead_letter_key())
            .arg(id)
            .arg(id)
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(reply) => Ok(range_reply(&reply).into_iter().next()),
            // A malformed id is a letter that does not exist.
            Err(error)
                if error.kind()
                    == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) =>
            {
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Writes the entry back to its stream (every group of that stream receives it again: a
    /// group that had handled it sees a duplicate, with the same event id) and removes the
    /// dead letter, in one `MULTI`. Returns the new entry's id.
    pub async fn replay(&self, id: &str) -> Result<String, BridgeError> {
        let raw = self
            .raw(id)
            .await?
            .ok_or_else(|| BridgeError::NoSuchDeadLetter(id.to_owned()))?;
        let stream = letter(&raw).stream;
        // Only back to a signal's stream of this bridge: a dead letter's fields came from an
        // entry, untrusted.
        let prefix = &self.bridge.config.key_prefix;
        let signal = stream.strip_prefix(prefix.as_str()).unwrap_or("");
        let valid = signal.split_once('.').is_some_and(|(ns, name)| {
            signals_core::check_namespace_name(ns).is_ok() && signals_core::check_name(name).is_ok()
        });
        if !valid {
            return Err(BridgeError::Config(format!(
                "dead letter {id} names {stream:?}, which is not a signal stream under {prefix:?}; \
                 it cannot be replayed (purge it)"
            )));
        }
        let mut add = redis::cmd("XADD");
        add.arg(&stream).arg("*");
        raw.add_own_fields(&mut add);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .add_command(add)
            .cmd("XDEL")
            .arg(self.bridge.config.dead_letter_key())
            .arg(id);
        let mut conn = self.bridge.conn.clone();
        let (entry_id, _): (String, u64) = pipe.query_async(&mut conn).await?;
        Ok(entry_id)
    }

    /// Removes one dead letter (`Some(id)`) or all of them (`None`); returns how many.
    pub async fn purge(&self, id: Option<&str>) -> Result<usize, BridgeError> {
        let mut conn = self.bridge.conn.clone();
        let key = self.bridge.config.dead_letter_key();
        let removed: usize = match id {
            Some(id) => {
                redis::cmd("XDEL")
                    .arg(&key)
                    .arg(id)
                    .query_async(&mut conn)
                    .await?
            }
            None => {
                let count: usize = redis::cmd("XLEN").arg(&key).query_async(&mut conn).await?;
                let _: u64 = redis::cmd("DEL").arg(&key).query_async(&mut conn).await?;
                count
            }
        };
        if removed == 0 {
            if let Some(id) = id {
                return Err(BridgeError::NoSuchDeadLetter(id.to_owned()));
            }
        }
        Ok(removed)
    }
}
