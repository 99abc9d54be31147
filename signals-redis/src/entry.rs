//! One event as a stream entry: its fields, written by the producer and checked, as untrusted
//! input, by the consumer.
//!
//! | field | value |
//! |---|---|
//! | `v` | the entry format version, `1` |
//! | `id` | the event id: a UUIDv7, unique and ordered by time |
//! | `ns`, `name` | the signal's namespace and name |
//! | `schema` | the signal's schema version |
//! | `sender` | the sender as JSON: `null`, a string, or `{"int": "<decimal>"}` |
//! | `kwargs` | the kwargs as a JSON object |
//! | `time` | when it was sent, milliseconds since the Unix epoch |
//! | `origin` | the process that sent it (`host:pid:random`) |

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::reply::{Field, RawEntry};

/// The entry format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// How deeply the kwargs JSON may nest (objects and arrays) in an entry a consumer accepts.
pub const MAX_NESTING: usize = 64;

/// An entry's fields as `XADD` takes them: names and values, in order.
pub type Fields = Vec<(&'static str, String)>;

/// One event, as it crosses.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The event id (a UUIDv7).
    pub id: String,
    /// The signal's namespace.
    pub namespace: String,
    /// The signal's name.
    pub name: String,
    /// The signal's schema version.
    pub schema: u32,
    /// The sender, in its wire form.
    pub sender: Value,
    /// The kwargs, a JSON object.
    pub kwargs: Value,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The process that sent it.
    pub origin: String,
}

/// Why an entry read from a stream was refused (it goes to the dead letters at once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// A field is missing or not UTF-8.
    #[error("the field `{0}` is missing or not UTF-8")]
    Field(&'static str),
    /// A field appears more than once.
    #[error("the field `{0}` appears more than once")]
    Repeated(&'static str),
    /// The format version is not this crate's.
    #[error("entry format version {0} is not known here (this consumer reads version {FORMAT_VERSION}); upgrade the consumer")]
    Version(String),
    /// A number field does not parse.
    #[error("the field `{field}` is not a number: {value:?}")]
    Number {
        /// The field.
        field: &'static str,
        /// What it held (cut to 64 characters).
        value: String,
    },
    /// The entry is larger than the consumer accepts.
    #[error("the entry is {size} bytes, over the cap of {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// A JSON field does not parse, or nests too deeply.
    #[error("the field `{field}` is not valid JSON: {error}")]
    Json {
        /// The field.
        field: &'static str,
        /// The parser's message.
        error: String,
    },
    /// The kwargs are not a JSON object.
    #[error("the kwargs are not a JSON object")]
    NotAnObject,
    /// The namespace or name breaks the name rules.
    #[error("the {what} {name:?} breaks the name rules: {rule}")]
    Name {
        /// `namespace` or `name`.
        what: &'static str,
        /// The name (cut to 64 characters).
        name: String,
        /// The rule.
        rule: String,
    },
}

fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}

impl Entry {
    /// A new event of `namespace.name` now, with a fresh id.
    pub fn new(
        namespace: &str,
        name: &str,
        schema: u32,
        sender: Value,
        kwargs: Value,
        origin: &str,
    ) -> Entry {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Entry {
            id: uuid::Uuid::now_v7().to_string(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            schema,
            sender,
            kwargs,
            time_ms,
            origin: origin.to_owned(),
        }
    }

    /// `namespace.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.namespace, self.name)
    }

    /// The entry's fields, in order, as XADD takes them.
    pub fn fields(&self) -> Fields {
        vec![
            ("v", FORMAT_VERSION.to_string()),
            ("id", self.id.clone()),
            ("ns", self.namespace.clone()),
            ("name", self.name.clone()),
            ("schema", self.schema.to_string()),
            ("sender", self.sender.to_string()),
            ("kwargs", self.kwargs.to_string()),
            ("time", self.time_ms.to_string()),
            ("origin", self.origin.clone()),
        ]
    }

    /// The entry's size as written: the sum of its field names and values.
    pub fn size(fields: &Fields) -> usize {
        fields.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Reads an entry from a stream's fields, checking everything: the format version, the
    /// size against `max_bytes`, each field present once, the JSON (and its nesting), and the
    /// names against the name rules.
    pub(crate) fn decode(raw: &RawEntry, max_bytes: usize) -> Result<Entry, Malformed> {
        let size = raw.size();
        if size > max_bytes {
            return Err(Malformed::TooLarge {
                size,
                max: max_bytes,
            });
        }
        let text = |field: &'static str| -> Result<&str, Malformed> {
            match raw.field(field) {
                Field::Once(bytes) => {
                    std::str::from_utf8(bytes).map_err(|_| Malformed::Field(field))
                }
                Field::Missing => Err(Malformed::Field(field)),
                Field::Repeated => Err(Malformed::Repeated(field)),
            }
        };
        let number = |field: &'static str| -> Result<u64, Malformed> {
            let value = text(field)?;
            value.parse().map_err(|_| Malformed::Number {
                field,
                value: cut(value),
            })
        };
        let version = text("v")?;
        if version != FORMAT_VERSION.to_string() {
            return Err(Malformed::Version(cut(version)));
        }
        let namespace = text("ns")?;
        signals_core::check_namespace_name(namespace).map_err(|rule| Malformed::Name {
            what: "namespace",
            name: cut(namespace),
            rule: rule.to_string(),
        })?;
        let name = text("name")?;
        signals_core::check_name(name).map_err(|rule| Malformed::Name {
            what: "name",
            name: cut(name),
            rule: rule.to_string(),
        })?;
        let json = |field: &'static str| -> Result<Value, Malformed> {
            let raw = text(field)?;
            if nesting(raw) > MAX_NESTING {
                return Err(Malformed::Json {
                    field,
                    error: format!("it nests deeper than {MAX_NESTING} levels"),
                });
            }
            serde_json::from_str(raw).map_err(|e| Malformed::Json {
                field,
                error: e.to_string(),
            })
        };
        let kwargs = json("kwargs")?;
        if !kwargs.is_object() {
            return Err(Malformed::NotAnObject);
        }
        let schema = u32::try_from(number("schema")?).map_err(|_| Malformed::Number {
            field: "schema",
            value: text("schema").map(cut).unwrap_or_default(),
        })?;
        Ok(Entry {
            id: text("id")?.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            schema,
            sender: json("sender")?,
            kwargs,
            time_ms: number("time")?,
            origin: text("origin")?.to_owned(),
        })
    }
}

/// The deepest nesting of arrays and objects in `json`, strings skipped (a scan before the
/// parser, so that a hostile entry cannot make the parser recurse deeply).
fn nesting(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in json.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(entry: &Entry) -> RawEntry {
        RawEntry {
            id: "1-0".into(),
            fields: entry
                .fields()
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.into_bytes()))
                .collect(),
        }
    }

    fn set(raw: &mut RawEntry, name: &str, value: &[u8]) {
        raw.fields.retain(|(n, _)| n != name.as_bytes());
        raw.fields.push((name.as_bytes().to_vec(), value.to_vec()));
    }

    #[test]
    fn an_entry_round_trips() {
        let entry = Entry::new(
            "ckan",
            "user_created",
            1,
            Value::from("alice"),
            serde_json::json!({ "user": { "name": "alice" } }),
            "host:1:ab",
        );
        assert_eq!(Entry::decode(&stored(&entry), 1 << 20), Ok(entry));
    }

    #[test]
    fn hostile_entries_are_refused_with_the_reason() {
        let entry = Entry::new("ckan", "x", 1, Value::Null, serde_json::json!({}), "o");
        let mut fields = stored(&entry);
        set(&mut fields, "name", b"a b");
        assert!(matches!(
            Entry::decode(&fields, 1 << 20),
            Err(Malformed::Name { what: "name", .. })
        ));
        let mut fields = stored(&entry);
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        set(&mut fields, "kwargs", deep.as_bytes());
        assert_eq!(
            Entry::decode(&fields, 1 << 20),
            Err(Malformed::Json {
                field: "kwargs",
                error: "it nests deeper than 64 levels".into()
            })
        );
        let fields = stored(&entry);
        assert!(matches!(
            Entry::decode(&fields, 10),
            Err(Malformed::TooLarge { max: 10, .. })
        ));
        let mut fields = stored(&entry);
        fields.fields.retain(|(n, _)| n != b"origin");
        assert_eq!(
            Entry::decode(&fields, 1 << 20),
            Err(Malformed::Field("origin"))
        );
        let mut fields = stored(&entry);
        set(&mut fields, "v", b"9");
        assert_eq!(
            Entry::decode(&fields, 1 << 20),
            Err(Malformed::Version("9".into()))
        );
    }

    #[test]
    fn a_repeated_field_is_refused() {
        let entry = Entry::new("ckan", "x", 1, Value::Null, serde_json::json!({}), "o");
        let mut fields = stored(&entry);
        fields.fields.push((b"ns".to_vec(), b"other".to_vec()));
        assert_eq!(
            Entry::decode(&fields, 1 << 20),
            Err(Malformed::Repeated("ns"))
        );
    }

    #[test]
    fn nesting_skips_strings() {
        assert_eq!(nesting(r#"{"a": "[[[[", "b": [1, {"c": "\"]"}]}"#), 3);
    }
}
