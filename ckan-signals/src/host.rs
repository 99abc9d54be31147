//! The plugin host: enables the plugins `ckan.plugins` lists, in order.
//!
//! Loading and unloading are [`signals_core::plugins`]'s (re-exported here); this module adds
//! CKAN's configuration: the `ckan.plugins` option of an INI file, overridden by the
//! [`PLUGINS_ENV_VAR`] environment variable.

use std::ffi::OsStr;

pub use signals_core::plugins::{
    is_loaded, load, loaded, unload, unload_all, use_plugin, Plugin, PluginError, PluginGuard,
    Subscriptions,
};

use crate::config::{parse_plugin_list_from_variable, Config, ConfigError, PLUGINS_ENV_VAR};

/// An error while starting the configured plugins. Non-exhaustive: match it with a wildcard
/// arm.
///
/// ```
/// use ckan_signals::host::{load_plugins, HostError, PluginError};
///
/// match load_plugins(&["doc_missing"]) {
///     Err(HostError::Plugin(PluginError::Unknown { name, .. })) => assert_eq!(name, "doc_missing"),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A plugin could not be loaded; the plugins this start-up loaded before it were unloaded.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// The plugins to enable: the environment variable's list when it is set, else the
/// configuration's `ckan.plugins`.
///
/// ```
/// use ckan_signals::{config::Config, host::enabled_plugins};
/// use std::ffi::OsStr;
///
/// let config = Config::parse("[app:main]\nckan.plugins = activity audit\n", "portal.ini")?;
/// assert_eq!(enabled_plugins(&config, None)?, ["activity", "audit"]);
/// assert_eq!(enabled_plugins(&config, Some(OsStr::new("stats")))?, ["stats"]);
/// # Ok::<(), ckan_signals::config::ConfigError>(())
/// ```
pub fn enabled_plugins(config: &Config, env: Option<&OsStr>) -> Result<Vec<String>, ConfigError> {
    match env {
        None => config.plugins(),
        Some(value) => {
            let Some(value) = value.to_str() else {
                return Err(ConfigError::Malformed {
                    origin: PLUGINS_ENV_VAR.to_owned(),
                    line: 1,
                    problem: "the value is not valid UTF-8; list plugin names in ASCII".to_owned(),
                });
            };
            parse_plugin_list_from_variable(value, PLUGINS_ENV_VAR)
        }
    }
}

/// Loads `names` in order. If one fails, the ones this call loaded are unloaded again (last
/// first) and the error is returned: start-up stops, as CKAN's does. If a plugin's code
/// panics, they are unloaded too, and the panic goes on. Plugins loaded before this call are
/// left alone (loading one of them again is an error), and so is a later load of one of
/// this call's plugins by another thread.
///
/// ```
/// use ckan_signals::host::{load_plugins, loaded, unload, Plugin};
/// use signals_core::plugin;
///
/// #[plugin(name = "doc_host_first")]
/// #[derive(Default)]
/// struct First;
/// impl Plugin for First {}
///
/// load_plugins(&["doc_host_first"])?;
/// assert_eq!(loaded(), ["doc_host_first"]);
/// unload("doc_host_first")?;
///
/// // The second name is not linked: the first is unloaded again.
/// assert!(load_plugins(&["doc_host_first", "doc_missing"]).is_err());
/// assert!(loaded().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_plugins<S: AsRef<str>>(names: &[S]) -> Result<(), HostError> {
    /// The loads made so far, undone last first when dropped: on an error or a panic.
    struct Rollback(Vec<PluginGuard>);
    impl Drop for Rollback {
        fn drop(&mut self) {
            while let Some(guard) = self.0.pop() {
                drop(guard);
            }
        }
    }
    let mut made = Rollback(Vec::with_capacity(names.len()));
    for name in names {
        made.0.push(use_plugin(name.as_ref())?);
    }
    for guard in std::mem::take(&mut made.0) {
        guard.keep();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use signals_core::plugin;

    #[plugin(name = "host_test_first")]
    #[derive(Default)]
    struct First;
    impl Plugin for First {}

    #[plugin(name = "host_test_panicky")]
    #[derive(Default)]
    struct Panicky;
    impl Plugin for Panicky {
        fn subscriptions(&self, _: &mut Subscriptions) {
            panic!("the panicky plugin cannot start");
        }
    }

    #[test]
    fn a_plugin_that_panics_unloads_the_ones_loaded_before_it() {
        let started =
            std::panic::catch_unwind(|| load_plugins(&["host_test_first", "host_test_panicky"]));
        assert!(started.is_err(), "the panic goes on");
        assert!(!is_loaded("host_test_first"), "{:?}", loaded());
        assert!(!is_loaded("host_test_panicky"));
        // Nothing is left half-loaded: the first plugin loads again.
        load_plugins(&["host_test_first"]).unwrap();
        assert!(is_loaded("host_test_first"));
        unload("host_test_first").unwrap();
    }
}
