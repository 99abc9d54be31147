//! The portal across processes: with a Redis URL (`--redis`, `CKAN_REDIS_URL`, or
//! `ckan.redis.url`), the signals `ckan.signals.forward` names are written to Redis Streams, and
//! `portal worker` sends them again in another process. Without a URL nothing changes.

use ckan_signals::config::Config;
use signals_core::{NamedSignal, Namespace};
use signals_redis::{
    Bridge, BridgeConfig, Consumer, ConsumerOptions, ConsumerStats, ForwardStats, Forwarder,
    Forwarding,
};

/// The configuration key listing what to forward: qualified names (`ckan.user_created`) or
/// whole namespaces (`ckanext`), separated by spaces.
pub const FORWARD_KEY: &str = "ckan.signals.forward";

/// What is forwarded when the configuration does not say. Not `ckan.action_succeed`: its
/// `data_dict` holds what the caller sent, a password for `user_create`, and its `result` an
/// API token for `api_token_create`; forwarded kwargs are stored in Redis in clear text.
pub const DEFAULT_FORWARD: &str =
    "ckan.user_created ckanext.datastore_upsert ckanext.datastore_delete";

/// The signals `list` names: `namespace.name` or a whole `namespace`.
pub fn resolve(list: &str) -> Result<Vec<NamedSignal>, String> {
    let mut signals = Vec::new();
    for item in list.split_whitespace() {
        let found = match item.split_once('.') {
            Some((namespace, name)) => Namespace::get(namespace)
                .and_then(|ns| ns.signal(name))
                .map(|signal| vec![signal]),
            None => Namespace::get(item).map(|ns| ns.signals()),
        };
        let found = found.map_err(|e| format!("{FORWARD_KEY}: `{item}`: {e}"))?;
        for signal in found {
            if !signals.contains(&signal) {
                signals.push(signal);
            }
        }
    }
    Ok(signals)
}

/// The bridge's settings: the URL from `--redis`/`CKAN_REDIS_URL` (`url`), else from the
/// configuration's `ckan.redis.url`, the key prefix from its `ckan.site_id`; `None` without a
/// URL.
pub fn settings(
    url: Option<&str>,
    config: Option<&Config>,
) -> Result<Option<BridgeConfig>, String> {
    let setting = |key: &str| config.and_then(|c| c.get(key)).map(str::to_owned);
    match url {
        Some(url) => {
            let bridge = BridgeConfig::new(url);
            match setting("ckan.site_id") {
                Some(site) => bridge.site_id(&site).map(Some).map_err(|e| e.to_string()),
                None => Ok(Some(bridge)),
            }
        }
        None => BridgeConfig::from_settings(setting).map_err(|e| e.to_string()),
    }
}

/// Forwarding of the configured signals, for the story and `serve`.
pub struct Forwarded {
    forwarder: Forwarder,
    forwarding: Vec<Forwarding>,
    /// The signals forwarded.
    pub signals: Vec<NamedSignal>,
}

impl Forwarded {
    /// Connects to Redis and forwards `signals`.
    pub async fn start(config: BridgeConfig, signals: Vec<NamedSignal>) -> Result<Self, String> {
        let url = config.url.clone();
        let bridge = Bridge::connect(config)
            .await
            .map_err(|e| format!("cannot reach Redis at {url}: {e}"))?;
        let forwarder = Forwarder::new(&bridge);
        let forwarding = signals.iter().map(|s| forwarder.forward_named(s)).collect();
        Ok(Forwarded {
            forwarder,
            forwarding,
            signals,
        })
    }

    /// Stops forwarding, writes what is queued, and says what was written.
    pub async fn finish(self) -> ForwardStats {
        drop(self.forwarding);
        self.forwarder.flush().await;
        let stats = self.forwarder.stats();
        self.forwarder.shutdown().await;
        stats
    }
}

/// `portal worker`: consumes `signals` in `group` until `shutdown`, sending each event again
/// here, where the loaded plugins' receivers run.
pub async fn work(
    config: BridgeConfig,
    signals: &[NamedSignal],
    group: &str,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<ConsumerStats, String> {
    let url = config.url.clone();
    let bridge = Bridge::connect(config)
        .await
        .map_err(|e| format!("cannot reach Redis at {url}: {e}"))?;
    let mut consumer = Consumer::new(&bridge, ConsumerOptions::new(group));
    for signal in signals {
        consumer = consumer.signal(signal);
    }
    Ok(consumer.run_until(shutdown).await)
}

/// The bridge for the dead-letter commands.
pub async fn bridge(config: BridgeConfig) -> Result<Bridge, String> {
    let url = config.url.clone();
    Bridge::connect(config)
        .await
        .map_err(|e| format!("cannot reach Redis at {url}: {e}"))
}
