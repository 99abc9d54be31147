//! Stream replies read as raw bytes: an entry whose field names are not UTF-8 must reach the
//! consumer (to be dead-lettered), not fail the whole reply's parsing and block its batch.

use redis::Value;

/// One stream entry as Redis holds it: its id and its fields, names and values as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub id: String,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl RawEntry {
    /// The value of the field `name`, when it appears exactly once.
    pub fn field(&self, name: &str) -> Field<'_> {
        let mut found = self.fields.iter().filter(|(n, _)| n == name.as_bytes());
        match (found.next(), found.next()) {
            (None, _) => Field::Missing,
            (Some((_, value)), None) => Field::Once(value),
            (Some(_), Some(_)) => Field::Repeated,
        }
    }

    /// Appends its own fields to an `XADD`, leaving out any named `dead.*`: those are the
    /// dead letters' own, and an entry must not forge them.
    pub fn add_own_fields(&self, add: &mut redis::Cmd) {
        for (name, value) in &self.fields {
            if !name.starts_with(b"dead.") {
                add.arg(name.as_slice()).arg(value.as_slice());
            }
        }
    }

    /// Its size: the bytes of its field names and values.
    pub fn size(&self) -> usize {
        self.fields.iter().map(|(n, v)| n.len() + v.len()).sum()
    }
}

/// A field's presence.
pub(crate) enum Field<'a> {
    Missing,
    Once(&'a [u8]),
    Repeated,
}

fn bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes.clone()),
        Value::SimpleString(text) => Some(text.clone().into_bytes()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    bytes(value).and_then(|b| String::from_utf8(b).ok())
}

/// `[id, [name, value, ...]]`; an entry deleted while pending comes with no fields (`nil`).
fn entry(value: &Value) -> Option<RawEntry> {
    let Value::Array(parts) = value else {
        return None;
    };
    let id = text(parts.first()?)?;
    let fields = match parts.get(1) {
        Some(Value::Array(flat)) => flat
            .chunks(2)
            .filter_map(|pair| Some((bytes(pair.first()?)?, bytes(pair.get(1)?)?)))
            .collect(),
        Some(Value::Map(pairs)) => pairs
            .iter()
            .filter_map(|(n, v)| Some((bytes(n)?, bytes(v)?)))
            .collect(),
        _ => Vec::new(),
    };
    Some(RawEntry { id, fields })
}

fn entries(value: &Value) -> Vec<RawEntry> {
    match value {
        Value::Array(list) => list.iter().filter_map(entry).collect(),
        _ => Vec::new(),
    }
}

/// An `XRANGE` reply.
pub(crate) fn range_reply(value: &Value) -> Vec<RawEntry> {
    entries(value)
}

/// An `XREADGROUP` reply: each stream with its entries (none on a timeout).
pub(crate) fn read_reply(value: &Value) -> Vec<(String, Vec<RawEntry>)> {
    match value {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|stream| match stream {
                Value::Array(pair) => Some((text(pair.first()?)?, entries(pair.get(1)?))),
                _ => None,
            })
            .collect(),
        Value::Map(streams) => streams
            .iter()
            .filter_map(|(key, list)| Some((text(key)?, entries(list))))
            .collect(),
        _ => Vec::new(),
    }
}

/// An `XAUTOCLAIM` reply: the next cursor, the claimed entries, the ids deleted while pending.
pub(crate) fn autoclaim_reply(value: &Value) -> (String, Vec<RawEntry>, Vec<String>) {
    let Value::Array(parts) = value else {
        return ("0-0".into(), Vec::new(), Vec::new());
    };
    let next = parts.first().and_then(text).unwrap_or_else(|| "0-0".into());
    let claimed = parts.get(1).map(entries).unwrap_or_default();
    let deleted = match parts.get(2) {
        Some(Value::Array(ids)) => ids.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    (next, claimed, deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(b: &[u8]) -> Value {
        Value::BulkString(b.to_vec())
    }

    #[test]
    fn names_that_are_not_utf8_are_kept() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk(b"s"),
            Value::Array(vec![Value::Array(vec![
                bulk(b"1-0"),
                Value::Array(vec![bulk(b"\xff"), bulk(b"x"), bulk(b"v"), bulk(b"1")]),
            ])]),
        ])]);
        let read = read_reply(&reply);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, "s");
        assert_eq!(
            read[0].1,
            [RawEntry {
                id: "1-0".into(),
                fields: vec![
                    (b"\xff".to_vec(), b"x".to_vec()),
                    (b"v".to_vec(), b"1".to_vec())
                ],
            }]
        );
        assert!(matches!(read[0].1[0].field("v"), Field::Once(b"1")));
        assert!(matches!(read[0].1[0].field("id"), Field::Missing));
        assert_eq!(read_reply(&Value::Nil), Vec::new());
    }
}
