//! Plugins: named sets of subscriptions, connected on load and disconnected on unload.
//!
//! A plugin owns the `#[subscriber(plugin = "...")]` functions that name it, and the
//! subscriptions its [`Plugin::subscriptions`] makes in code (CKAN's
//! `ISignal.get_signal_subscriptions`). Loading connects them all; unloading disconnects
//! exactly those connections, and no other plugin's connection of the same function.
//!
//! Plugins are process-wide, as signals are: this module is the one host.
//!
//! ```
//! use signals_core::plugins;
//!
//! let err = plugins::load("no_such_plugin").unwrap_err();
//! assert!(err.to_string().starts_with("no plugin named `no_such_plugin` is linked"));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::connection::{ConnectOptions, Connection};
use crate::error::Error;
use crate::future::BoxFuture;
use crate::kwargs::Kwargs;
use crate::name::{check_name, NameKind};
use crate::named::NamedSignal;
use crate::receiver::{IntoOutcome, SourceLocation};
use crate::registry::registry;
use crate::sender::{Sender, SenderKey};
use crate::typed::{Signal, TypedSignal};

/// A plugin type. `#[plugin(name = "...")]` registers it; it needs `Default`.
///
/// ```
/// use signals_core::plugins::{Plugin, Subscriptions};
///
/// #[derive(Default)]
/// struct Quiet;
///
/// impl Plugin for Quiet {} // no subscriptions in code: only `#[subscriber]` functions
/// ```
pub trait Plugin: Send + Sync + 'static {
    /// Makes the plugin's subscriptions in code; called on every load.
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        let _ = subscriptions;
    }
}

/// The subscriptions a plugin makes while it loads. Every connection made here belongs to the
/// plugin and is undone when it unloads.
pub struct Subscriptions {
    plugin: &'static str,
    made: Vec<Connection>,
    errors: Vec<Error>,
}

impl Subscriptions {
    fn options(&self, location: SourceLocation) -> ConnectOptions {
        ConnectOptions::new().plugin(self.plugin).location(location)
    }

    fn keep(&mut self, connection: Connection) -> &mut Self {
        if connection.is_new() {
            self.made.push(connection);
        }
        self
    }

    /// The plugin being loaded.
    pub fn plugin(&self) -> &'static str {
        self.plugin
    }

    /// Subscribes `receiver` to every sender of a typed signal.
    #[track_caller]
    pub fn connect<T, F, R>(&mut self, signal: TypedSignal<T>, receiver: F) -> &mut Self
    where
        T: Signal,
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        let options = self.options(SourceLocation::caller());
        self.keep(signal.connect_with(options, receiver))
    }

    /// Subscribes `receiver` to one sender of a typed signal.
    #[track_caller]
    pub fn connect_to<T, S, F, R>(
        &mut self,
        signal: TypedSignal<T>,
        sender: &S,
        receiver: F,
    ) -> &mut Self
    where
        T: Signal,
        S: Sender + ?Sized,
        F: Fn(&T::Sender, &T) -> R + Send + Sync + 'static,
        R: IntoOutcome<T::Output>,
    {
        let options = self.options(SourceLocation::caller()).sender(sender);
        self.keep(signal.connect_with(options, receiver))
    }

    /// Subscribes an async `receiver` to every sender of a typed signal (see
    /// [`TypedSignal::connect_async`]).
    #[track_caller]
    pub fn connect_async<T, F, R>(&mut self, signal: TypedSignal<T>, receiver: F) -> &mut Self
    where
        T: Signal,
        F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
        R: IntoOutcome<T::Output> + 'static,
    {
        let options = self.options(SourceLocation::caller());
        self.keep(signal.connect_async_with(options, receiver))
    }

    /// Subscribes an async `receiver` to one sender of a typed signal.
    #[track_caller]
    pub fn connect_async_to<T, S, F, R>(
        &mut self,
        signal: TypedSignal<T>,
        sender: &S,
        receiver: F,
    ) -> &mut Self
    where
        T: Signal,
        S: Sender + ?Sized,
        F: for<'a> Fn(&'a T::Sender, &'a T) -> BoxFuture<'a, R> + Send + Sync + 'static,
        R: IntoOutcome<T::Output> + 'static,
    {
        let options = self.options(SourceLocation::caller()).sender(sender);
        self.keep(signal.connect_async_with(options, receiver))
    }

    /// Subscribes an async by-name `receiver` to every sender of `namespace.name` (see
    /// [`NamedSignal::connect_async`]).
    #[track_caller]
    pub fn connect_by_name_async<F, R>(
        &mut self,
        namespace: &str,
        name: &str,
        receiver: F,
    ) -> &mut Self
    where
        F: for<'a> Fn(&'a SenderKey<'a>, &'a dyn Kwargs) -> BoxFuture<'a, R>
            + Send
            + Sync
            + 'static,
        R: IntoOutcome<()> + 'static,
    {
        let options = self.options(SourceLocation::caller());
        match by_name(namespace, name) {
            Ok(signal) => self.keep(signal.connect_async_with(options, receiver)),
            Err(error) => {
                self.errors.push(error);
                self
            }
        }
    }

    /// Subscribes a by-name `receiver` to every sender of `namespace.name`: the way to
    /// subscribe to a signal of a crate you do not depend on.
    #[track_caller]
    pub fn connect_by_name<F, R>(&mut self, namespace: &str, name: &str, receiver: F) -> &mut Self
    where
        F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
        R: IntoOutcome<()>,
    {
        let options = self.options(SourceLocation::caller());
        match by_name(namespace, name) {
            Ok(signal) => self.keep(signal.connect_with(options, receiver)),
            Err(error) => {
                self.errors.push(error);
                self
            }
        }
    }

    /// Subscribes a by-name `receiver` to one sender of `namespace.name`.
    #[track_caller]
    pub fn connect_by_name_to<S, F, R>(
        &mut self,
        namespace: &str,
        name: &str,
        sender: &S,
        receiver: F,
    ) -> &mut Self
    where
        S: Sender + ?Sized,
        F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
        R: IntoOutcome<()>,
    {
        let options = self.options(SourceLocation::caller()).sender(sender);
        match by_name(namespace, name) {
            Ok(signal) => self.keep(signal.connect_with(options, receiver)),
            Err(error) => {
                self.errors.push(error);
                self
            }
        }
    }
}

fn by_name(namespace: &str, name: &str) -> Result<NamedSignal, Error> {
    crate::Namespace::get(namespace)?.signal(name)
}

/// An error from loading or unloading a plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// No linked crate declares the plugin.
    #[error(
        "no plugin named `{name}` is linked into this binary; linked plugins: {linked}. \
         If `{name}` lives in another crate, add that crate as a dependency and write \
         `signals_core::link!(that_crate);` once in the host"
    )]
    Unknown {
        /// The requested name.
        name: String,
        /// The plugins that are linked, comma-separated (or `(none)`).
        linked: String,
    },
    /// The plugin is loaded already.
    #[error("plugin `{name}` is already loaded; unload it first, or load it only once")]
    AlreadyLoaded {
        /// The plugin's name.
        name: String,
    },
    /// The plugin is not loaded.
    #[error("plugin `{name}` is not loaded, so it cannot be unloaded; loaded plugins: {loaded}")]
    NotLoaded {
        /// The plugin's name.
        name: String,
        /// The loaded plugins, in load order (or `(none)`).
        loaded: String,
    },
    /// The plugin's subscriptions could not all be made; it is not loaded.
    #[error("plugin `{name}` could not subscribe: {error}; it was not loaded")]
    Subscription {
        /// The plugin's name.
        name: String,
        /// The first error.
        error: Error,
    },
    /// The name breaks the naming rules.
    #[error(transparent)]
    InvalidName(Error),
}

struct Loaded {
    name: &'static str,
    /// Which load this is: unique for the process, so a [`PluginGuard`] can tell its own load
    /// from a later load of the same plugin.
    id: u64,
    connections: Vec<Connection>,
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// The id of the next load.
static NEXT_LOAD_ID: AtomicU64 = AtomicU64::new(1);

fn loaded_list() -> MutexGuard<'static, Vec<Loaded>> {
    LOADED.lock().unwrap_or_else(PoisonError::into_inner)
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let joined: Vec<&str> = names.collect();
    if joined.is_empty() {
        "(none)".to_owned()
    } else {
        joined.join(", ")
    }
}

/// Loads the plugin `name`: connects its subscribers and its subscriptions in code.
pub fn load(name: &str) -> Result<(), PluginError> {
    load_with_id(name).map(|_| ())
}

/// Checks a plugin name as `load` and `unload` both do.
fn check_plugin_name(name: &str) -> Result<(), PluginError> {
    check_name(name).map_err(|rule| {
        PluginError::InvalidName(Error::InvalidName {
            kind: NameKind::Plugin,
            name: name.to_owned(),
            rule,
        })
    })
}

/// Loads the plugin `name` and returns the id of this load.
fn load_with_id(name: &str) -> Result<u64, PluginError> {
    check_plugin_name(name)?;
    let registry = registry();
    let Some(entry) = registry.plugin(name) else {
        return Err(PluginError::Unknown {
            name: name.to_owned(),
            linked: join_or_none(registry.plugins().iter().map(|p| p.name)),
        });
    };
    // Reserve the plugin's place before connecting anything, so that two threads loading the
    // same plugin cannot both connect (the second would find the first one's connections and
    // own none of them).
    let id = {
        let mut loaded = loaded_list();
        if loaded.iter().any(|l| l.name == entry.name) {
            return Err(PluginError::AlreadyLoaded {
                name: name.to_owned(),
            });
        }
        let id = NEXT_LOAD_ID.fetch_add(1, Ordering::Relaxed);
        loaded.push(Loaded {
            name: entry.name,
            id,
            connections: Vec::new(),
        });
        id
    };
    let mut subscriptions = Subscriptions {
        plugin: entry.name,
        made: Vec::new(),
        errors: Vec::new(),
    };
    for subscriber in registry
        .subscribers()
        .iter()
        .filter(|s| s.plugin == Some(entry.name))
    {
        match (subscriber.connect)(subscriber.options()) {
            Ok(connection) => {
                subscriptions.keep(connection);
            }
            Err(error) => subscriptions.errors.push(error),
        }
    }
    if let Some(declaration) = entry.declaration {
        (declaration.create)().subscriptions(&mut subscriptions);
    }
    let failure = subscriptions.errors.into_iter().next();
    let mut made = subscriptions.made;
    {
        let mut loaded = loaded_list();
        let index = loaded.iter().position(|l| l.id == id);
        match (index, &failure) {
            // Loaded: hand the connections to the record.
            (Some(index), None) => made = std::mem::replace(&mut loaded[index].connections, made),
            // Failed: drop the reservation; the connections are undone below.
            (Some(index), Some(_)) => {
                loaded.remove(index);
            }
            // Unloaded by another thread while loading: undo what this load made.
            (None, _) => {}
        }
    }
    for connection in made {
        connection.disconnect();
    }
    if let Some(error) = failure {
        return Err(PluginError::Subscription {
            name: name.to_owned(),
            error,
        });
    }
    Ok(id)
}

/// Unloads the plugin `name`: disconnects exactly the connections its load made.
///
/// A name that breaks the naming rules is [`PluginError::InvalidName`], as in [`load`].
pub fn unload(name: &str) -> Result<(), PluginError> {
    check_plugin_name(name)?;
    let removed = {
        let mut loaded = loaded_list();
        match loaded.iter().position(|l| l.name == name) {
            Some(index) => loaded.remove(index),
            None => {
                return Err(PluginError::NotLoaded {
                    name: name.to_owned(),
                    loaded: join_or_none(loaded.iter().map(|l| l.name)),
                })
            }
        }
    };
    for connection in removed.connections {
        connection.disconnect();
    }
    Ok(())
}

/// Unloads the plugin `name` if its current load is the load `id`; else does nothing.
fn unload_load(name: &str, id: u64) {
    let removed = {
        let mut loaded = loaded_list();
        match loaded.iter().position(|l| l.name == name && l.id == id) {
            Some(index) => loaded.remove(index),
            None => return,
        }
    };
    for connection in removed.connections {
        connection.disconnect();
    }
}

/// Unloads every plugin, the last loaded first.
pub fn unload_all() {
    let all = std::mem::take(&mut *loaded_list());
    for plugin in all.into_iter().rev() {
        for connection in plugin.connections {
            connection.disconnect();
        }
    }
}

/// The loaded plugins, in load order.
pub fn loaded() -> Vec<&'static str> {
    loaded_list().iter().map(|l| l.name).collect()
}

/// Whether the plugin `name` is loaded.
pub fn is_loaded(name: &str) -> bool {
    loaded_list().iter().any(|l| l.name == name)
}

/// Loads `name` until the guard is dropped (CKAN's `with plugins.use_plugin(...)`).
///
/// The guard undoes only its own load: if the plugin is unloaded inside the scope and then
/// loaded again, dropping the guard leaves that later load alone.
pub fn use_plugin(name: &str) -> Result<PluginGuard, PluginError> {
    let id = load_with_id(name)?;
    Ok(PluginGuard {
        name: name.to_owned(),
        id,
    })
}

/// Unloads its plugin when dropped, if the load it made is still the plugin's current load.
#[derive(Debug)]
#[must_use = "the plugin is unloaded as soon as the guard is dropped"]
pub struct PluginGuard {
    name: String,
    /// The id of the load the guard made.
    id: u64,
}

impl Drop for PluginGuard {
    fn drop(&mut self) {
        // It may have been unloaded by hand inside the scope, and perhaps loaded again by
        // someone else: then there is nothing of ours to undo.
        unload_load(&self.name, self.id);
    }
}
