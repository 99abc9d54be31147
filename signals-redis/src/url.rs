//! The Redis URL, kept secret: credentials never reach an error, a log line or a listing.

use std::fmt;

/// A Redis URL (`redis://`, `rediss://` with the `tls` feature, `redis+unix://`,
/// `unix://`). `Display` and `Debug` show it with any user name and password replaced by
/// `***`; only the client gets the real one.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Wraps `url`. Nothing is checked here: the client parses it when it connects.
    pub fn new(url: impl Into<String>) -> Self {
        RedisUrl(url.into())
    }

    /// The URL with its credentials, for the client.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any credentials replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({:?})", self.redacted())
    }
}

/// `text` with the user-info part of every URL in it (`scheme://user:pass@host`) replaced by
/// `***`, and the values of the query parameters that carry credentials (`pass`, `password`,
/// `user`, `username`, as redis-rs reads them on `redis+unix://` URLs): applied to the URL
/// itself and to any error text that might quote it.
pub(crate) fn redact(text: &str) -> String {
    redact_query(&redact_user_info(text))
}

/// Replaces the value of each `pass=`, `password=`, `user=`, `username=` parameter.
fn redact_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['?', '&']) {
        let (before, after) = rest.split_at(at + 1);
        out.push_str(before);
        let secret = ["pass=", "password=", "user=", "username="]
            .iter()
            .find(|key| after.starts_with(**key));
        match secret {
            Some(key) => {
                out.push_str(key);
                out.push_str("***");
                let end = after
                    .find(|c: char| c == '&' || c == '#' || c.is_whitespace())
                    .unwrap_or(after.len());
                rest = &after[end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

fn redact_user_info(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (before, after) = rest.split_at(scheme_end + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden() {
        let url = RedisUrl::new("redis://user:s3cret@cache.example.org:6379/2");
        assert_eq!(url.to_string(), "redis://***@cache.example.org:6379/2");
        assert_eq!(
            format!("{url:?}"),
            "RedisUrl(\"redis://***@cache.example.org:6379/2\")"
        );
        assert_eq!(
            redact("redis://:pw@h/0 and rediss://a:b@c"),
            "redis://***@h/0 and rediss://***@c"
        );
        assert_eq!(redact("redis://localhost:6379"), "redis://localhost:6379");
        assert_eq!(
            redact("redis+unix:///tmp/r.sock"),
            "redis+unix:///tmp/r.sock"
        );
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(
            redact("redis+unix:///run/r.sock?db=2&pass=s3cret&user=u"),
            "redis+unix:///run/r.sock?db=2&pass=***&user=***"
        );
        assert_eq!(
            redact("redis+unix:///r.sock?password=a b"),
            "redis+unix:///r.sock?password=*** b"
        );
    }
}
