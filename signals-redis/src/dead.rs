//! The dead letters: entries a consumer could not handle, with the reason. List, show, replay,
//! purge.

use std::collections::HashMap;

use redis::streams::StreamRangeReply;
use redis::Value;

use crate::bridge::Bridge;
use crate::error::BridgeError;

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

fn text(value: &Value) -> String {
    match value {
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn letter(id: String, map: &HashMap<String, Value>) -> DeadLetter {
    let get = |name: &str| map.get(name).map(text).unwrap_or_default();
    let mut fields: Vec<(String, String)> = map
        .iter()
        .filter(|(name, _)| !name.starts_with("dead."))
        .map(|(name, value)| (name.clone(), text(value)))
        .collect();
    fields.sort();
    DeadLetter {
        id,
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
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.bridge.config.dead_letter_key())
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        Ok(reply
            .ids
            .into_iter()
            .map(|entry| letter(entry.id, &entry.map))
            .collect())
    }

    /// One dead letter.
    pub async fn show(&self, id: &str) -> Result<DeadLetter, BridgeError> {
        self.raw(id)
            .await?
            .map(|map| letter(id.to_owned(), &map))
            .ok_or_else(|| BridgeError::NoSuchDeadLetter(id.to_owned()))
    }

    async fn raw(&self, id: &str) -> Result<Option<HashMap<String, Value>>, BridgeError> {
        let mut conn = self.bridge.conn.clone();
        let reply: Result<StreamRangeReply, redis::RedisError> = redis::cmd("XRANGE")
            .arg(self.bridge.config.dead_letter_key())
            .arg(id)
            .arg(id)
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(reply) => Ok(reply.ids.into_iter().next().map(|entry| entry.map)),
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
        let map = self
            .raw(id)
            .await?
            .ok_or_else(|| BridgeError::NoSuchDeadLetter(id.to_owned()))?;
        let stream = map.get("dead.stream").map(text).unwrap_or_default();
        let mut add = redis::cmd("XADD");
        add.arg(&stream).arg("*");
        let mut names: Vec<&String> = map.keys().filter(|n| !n.starts_with("dead.")).collect();
        names.sort();
        for name in names {
            if let Value::BulkString(bytes) = &map[name] {
                add.arg(name).arg(bytes.as_slice());
            }
        }
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
