//! Where the bridge connects, how it names its keys, and its limits.

use std::time::Duration;

use crate::error::BridgeError;
use crate::url::RedisUrl;

/// The environment variable CKAN reads for the Redis URL (it beats `ckan.redis.url`).
pub const REDIS_URL_ENV_VAR: &str = "CKAN_REDIS_URL";

/// The bridge's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BridgeConfig {
    /// The Redis server.
    pub url: RedisUrl,
    /// The prefix of every key the bridge writes: `ckan:{site_id}:signals:` by default, as
    /// CKAN prefixes its job queues, so that several sites can share one Redis. A signal's
    /// stream is the prefix and its qualified name (`...:signals:ckan.user_created`); the dead
    /// letters are `...:signals:dead-letters` (no dot: no signal's stream can have that key).
    pub key_prefix: String,
    /// The largest entry a producer writes or a consumer accepts (default 1 MiB).
    pub max_entry_bytes: usize,
    /// How many events the forwarding receivers may queue for the writer (default 10,000).
    /// When it is full, a forwarding receiver fails (a failure in the send's report) and
    /// the event is not forwarded.
    pub buffer: usize,
    /// How long a command may wait for Redis's answer (default 2 s). Blocking reads use a
    /// connection of their own with their block time added.
    pub response_timeout: Duration,
    /// This process, as entries name their origin: `host:pid:random` by default.
    pub origin: String,
}

impl BridgeConfig {
    /// The defaults, for the server at `url`, site `default`.
    pub fn new(url: impl Into<String>) -> Self {
        BridgeConfig {
            url: RedisUrl::new(url),
            key_prefix: "ckan:default:signals:".into(),
            max_entry_bytes: 1 << 20,
            buffer: 10_000,
            response_timeout: Duration::from_secs(2),
            origin: default_origin(),
        }
    }

    /// The settings CKAN's configuration gives, `setting` reading a key (`ckan.redis.url`,
    /// `ckan.site_id`): the URL from `CKAN_REDIS_URL` when set, else from `ckan.redis.url`;
    /// the key prefix from `ckan.site_id`. `None` when no URL is configured: signals stay in
    /// the process.
    pub fn from_settings(
        setting: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, BridgeError> {
        let url = std::env::var(REDIS_URL_ENV_VAR)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| setting("ckan.redis.url"));
        let Some(url) = url else {
            return Ok(None);
        };
        let config = BridgeConfig::new(url.trim());
        match setting("ckan.site_id") {
            Some(site) => Ok(Some(config.site_id(&site)?)),
            None => Ok(Some(config)),
        }
    }

    /// The key prefix of site `site` (CKAN's `ckan.site_id`): `ckan:{site}:signals:`. A site
    /// id is letters, digits, `-` and `_` (anything else could match other sites' keys in a
    /// pattern, or break the key's parts).
    pub fn site_id(mut self, site: &str) -> Result<Self, BridgeError> {
        let fits = !site.is_empty()
            && site
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !fits {
            return Err(BridgeError::Config(format!(
                "ckan.site_id {site:?} cannot be part of a Redis key: use letters, digits, '-' \
                 and '_'"
            )));
        }
        self.key_prefix = format!("ckan:{site}:signals:");
        Ok(self)
    }

    /// The stream of `namespace.name`.
    pub fn stream_key(&self, namespace: &str, name: &str) -> String {
        format!("{}{namespace}.{name}", self.key_prefix)
    }

    /// The dead-letter stream.
    pub fn dead_letter_key(&self) -> String {
        format!("{}dead-letters", self.key_prefix)
    }
}

fn default_origin() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_id_is_letters_digits_dashes_and_underscores() {
        let config = BridgeConfig::new("redis://h/").site_id("site-1_a").unwrap();
        assert_eq!(config.key_prefix, "ckan:site-1_a:signals:");
        for bad in ["", "a*", "a b", "a:b", "[x]"] {
            let error = BridgeConfig::new("redis://h/").site_id(bad).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "bad bridge configuration: ckan.site_id {bad:?} cannot be part of a Redis \
                     key: use letters, digits, '-' and '_'"
                )
            );
        }
    }
}
