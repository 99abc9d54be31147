//! The link-time registry: every signal, subscriber and plugin linked into the binary.
//!
//! `#[signal]`, `#[subscriber]` and `#[plugin]` each submit one `const` descriptor through
//! [`inventory`]. The registry collects them once, on first use of any signal, sorts them
//! (link order is not stable, so it is never trusted), checks that no two structs declare the
//! same signal, and connects every subscriber that belongs to no plugin. Plugins' subscribers
//! are connected by [`crate::plugins::load`].
//!
//! On a platform `inventory` does not support, the registry is empty.

use std::any::TypeId;
use std::cell::Cell;
use std::sync::OnceLock;

use serde::Serialize;

use crate::connection::{ConnectOptions, Connection};
use crate::error::Error;
use crate::named::NamedSignal;
use crate::plugins::Plugin;
use crate::receiver::SourceLocation;
use crate::sender::{SenderFilter, SenderKey};

/// A keyword argument of a declared signal.
#[derive(Debug, Serialize)]
pub struct KwargDecl {
    /// The field's name.
    pub name: &'static str,
    /// The field's type, as written.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// The field's doc comment.
    pub docs: &'static str,
}

/// A signal declared by `#[signal]` (or by hand, with `inventory::submit!`).
#[derive(Debug, Serialize)]
pub struct SignalDecl {
    /// The namespace.
    pub namespace: &'static str,
    /// The registered name.
    pub name: &'static str,
    /// The struct's path.
    pub rust_type: &'static str,
    /// The struct's doc comment.
    pub docs: &'static str,
    /// The keyword arguments, in declaration order.
    pub kwargs: &'static [KwargDecl],
    /// The sender type, as written.
    pub sender_type: &'static str,
    /// The output type, as written.
    pub output_type: &'static str,
    /// The declaring crate.
    pub crate_name: &'static str,
    /// Where the struct is declared.
    pub location: SourceLocation,
    /// The signal's runtime object (`<T as Signal>::named`).
    #[serde(skip)]
    pub resolve: fn() -> NamedSignal,
    /// The struct's `TypeId`.
    #[serde(skip)]
    pub type_id: fn() -> TypeId,
}

/// The signal a subscriber listens to.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubscriberTarget {
    /// A typed subscriber: its argument's type declares the signal.
    Typed {
        /// The argument's type, as written.
        rust_type: &'static str,
        /// The signal's runtime object.
        #[serde(skip)]
        resolve: fn() -> NamedSignal,
    },
    /// A by-name subscriber.
    ByName {
        /// The namespace.
        namespace: &'static str,
        /// The signal's name.
        signal: &'static str,
    },
}

/// The sender a link-time subscriber listens to, as written in its attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderDecl {
    /// Every sender.
    Any,
    /// The `None` sender.
    None,
    /// A string sender.
    Str(&'static str),
    /// An integer sender.
    Int(i128),
}

impl SenderDecl {
    /// The filter this declaration stands for.
    pub fn filter(self) -> SenderFilter {
        match self {
            SenderDecl::Any => SenderFilter::Any,
            SenderDecl::None => SenderFilter::Only(SenderKey::None),
            SenderDecl::Str(s) => SenderFilter::Only(SenderKey::from(s)),
            SenderDecl::Int(i) => SenderFilter::Only(SenderKey::Int(i)),
        }
    }
}

/// A function registered by `#[subscriber]`.
#[derive(Debug, Serialize)]
pub struct SubscriberDecl {
    /// The function's path.
    pub path: &'static str,
    /// Where the function is declared.
    pub location: SourceLocation,
    /// The signal it listens to.
    pub target: SubscriberTarget,
    /// The sender it listens to.
    pub sender: SenderDecl,
    /// The plugin that owns it; `None`: connected from start-up.
    pub plugin: Option<&'static str>,
    /// Whether it is an `async fn`.
    pub is_async: bool,
    /// Connects the function with the given options.
    #[serde(skip)]
    pub connect: fn(ConnectOptions) -> Result<Connection, Error>,
}

impl SubscriberDecl {
    /// The options the registry and plugin host connect this subscriber with.
    pub fn options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::new()
            .name(self.path)
            .location(self.location)
            .filter_by(self.sender.filter());
        if let Some(plugin) = self.plugin {
            options = options.plugin(plugin);
        }
        options
    }

    /// `(namespace, name)` of the signal it listens to.
    pub fn signal_name(&self) -> (&'static str, &'static str) {
        match self.target {
            SubscriberTarget::Typed { resolve, .. } => {
                let signal = resolve();
                (signal.namespace(), signal.name())
            }
            SubscriberTarget::ByName { namespace, signal } => (namespace, signal),
        }
    }
}

/// A plugin registered by `#[plugin]`.
#[derive(Debug, Serialize)]
pub struct PluginDecl {
    /// The plugin's name, as `ckan.plugins` lists it.
    pub name: &'static str,
    /// The plugin type's path.
    pub rust_type: &'static str,
    /// The type's doc comment.
    pub docs: &'static str,
    /// The declaring crate.
    pub crate_name: &'static str,
    /// Where the type is declared.
    pub location: SourceLocation,
    /// Makes the plugin (its `Default`).
    #[serde(skip)]
    pub create: fn() -> Box<dyn Plugin>,
}

inventory::collect!(SignalDecl);
inventory::collect!(SubscriberDecl);
inventory::collect!(PluginDecl);

/// A problem found while building the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two structs declare the same signal.
    #[error(
        "signal `{signal}` is declared twice: by `{first_type}` at {first_location} and by \
         `{second_type}` at {second_location}; rename one (`#[signal(name = \"...\")]`) or \
         move it to another namespace"
    )]
    DuplicateSignal {
        /// `namespace.name`.
        signal: String,
        /// The first declaration's struct.
        first_type: &'static str,
        /// The first declaration's location.
        first_location: SourceLocation,
        /// The second declaration's struct.
        second_type: &'static str,
        /// The second declaration's location.
        second_location: SourceLocation,
    },
    /// Two plugin types take the same name.
    #[error(
        "plugin `{name}` is declared twice: by `{first_type}` at {first_location} and by \
         `{second_type}` at {second_location}; give one of them another name"
    )]
    DuplicatePlugin {
        /// The plugin name.
        name: &'static str,
        /// The first declaration's type.
        first_type: &'static str,
        /// The first declaration's location.
        first_location: SourceLocation,
        /// The second declaration's type.
        second_type: &'static str,
        /// The second declaration's location.
        second_location: SourceLocation,
    },
    /// A link-time subscriber could not be connected.
    #[error("subscriber `{path}` at {location} could not be connected: {error}")]
    Subscriber {
        /// The function's path.
        path: &'static str,
        /// Where it is declared.
        location: SourceLocation,
        /// Why.
        error: Error,
    },
}

/// Everything linked into the binary, sorted: signals by namespace and name, subscribers by
/// plugin then path, plugins by name.
#[derive(Debug, Serialize)]
pub struct Registry {
    signals: Vec<&'static SignalDecl>,
    subscribers: Vec<&'static SubscriberDecl>,
    plugins: Vec<PluginEntry>,
    #[serde(serialize_with = "serialize_problems")]
    problems: Vec<RegistryError>,
}

fn serialize_problems<S: serde::Serializer>(
    problems: &[RegistryError],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(problems.iter().map(ToString::to_string))
}

/// A plugin the registry knows: declared by `#[plugin]`, or only named by subscribers'
/// `plugin = "..."`.
#[derive(Debug, Serialize)]
pub struct PluginEntry {
    /// The plugin's name.
    pub name: &'static str,
    /// Its `#[plugin]` declaration, if it has one.
    pub declaration: Option<&'static PluginDecl>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

thread_local! {
    static BUILDING: Cell<bool> = const { Cell::new(false) };
}

/// Builds the registry unless it is built or this thread is building it. Every first lookup of
/// a signal calls this, so link-time subscribers are connected before any send.
pub(crate) fn ensure_started() {
    if REGISTRY.get().is_none() && !BUILDING.with(Cell::get) {
        registry();
    }
}

/// Whether this thread is building the registry now.
pub(crate) fn building_here() -> bool {
    BUILDING.with(Cell::get)
}

/// The registry, built on first call.
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        BUILDING.with(|b| b.set(true));
        let registry = Registry::build();
        BUILDING.with(|b| b.set(false));
        registry
    })
}

/// Builds a fresh registry, as the first use of a signal does, for the registry benchmark.
/// Connecting its subscribers again finds them connected already. Not for other uses.
#[doc(hidden)]
pub fn rebuild_for_benchmark() -> Registry {
    registry();
    Registry::build()
}

impl Registry {
    fn build() -> Registry {
        let mut problems = Vec::new();

        let mut signals: Vec<&'static SignalDecl> = inventory::iter::<SignalDecl>().collect();
        signals.sort_by_key(|s| (s.namespace, s.name, s.rust_type, s.location));
        for pair in signals.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if (a.namespace, a.name) == (b.namespace, b.name) && (a.type_id)() != (b.type_id)() {
                problems.push(RegistryError::DuplicateSignal {
                    signal: format!("{}.{}", a.namespace, a.name),
                    first_type: a.rust_type,
                    first_location: a.location,
                    second_type: b.rust_type,
                    second_location: b.location,
                });
            }
        }
        // Declare every signal with its struct, so by-name lookups know the type.
        for signal in &signals {
            (signal.resolve)();
        }

        let mut subscribers: Vec<&'static SubscriberDecl> =
            inventory::iter::<SubscriberDecl>().collect();
        subscribers.sort_by_key(|s| (s.plugin, s.path, s.location));

        let mut declared: Vec<&'static PluginDecl> = inventory::iter::<PluginDecl>().collect();
        declared.sort_by_key(|p| (p.name, p.rust_type, p.location));
        for pair in declared.windows(2) {
            if pair[0].name == pair[1].name {
                problems.push(RegistryError::DuplicatePlugin {
                    name: pair[0].name,
                    first_type: pair[0].rust_type,
                    first_location: pair[0].location,
                    second_type: pair[1].rust_type,
                    second_location: pair[1].location,
                });
            }
        }
        let mut names: Vec<&'static str> = declared
            .iter()
            .map(|p| p.name)
            .chain(subscribers.iter().filter_map(|s| s.plugin))
            .collect();
        names.sort_unstable();
        names.dedup();
        let plugins = names
            .into_iter()
            .map(|name| PluginEntry {
                name,
                declaration: declared.iter().copied().find(|p| p.name == name),
            })
            .collect();

        for subscriber in subscribers.iter().filter(|s| s.plugin.is_none()) {
            if let Err(error) = (subscriber.connect)(subscriber.options()) {
                problems.push(RegistryError::Subscriber {
                    path: subscriber.path,
                    location: subscriber.location,
                    error,
                });
            }
        }

        Registry {
            signals,
            subscribers,
            plugins,
            problems,
        }
    }

    /// Every declared signal, by namespace and name.
    pub fn signals(&self) -> &[&'static SignalDecl] {
        &self.signals
    }

    /// Every link-time subscriber, by plugin (none first) and path.
    pub fn subscribers(&self) -> &[&'static SubscriberDecl] {
        &self.subscribers
    }

    /// The subscribers of the signal `namespace.name`.
    pub fn subscribers_of(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Iterator<Item = &'static SubscriberDecl> + '_ {
        let wanted = (namespace.to_owned(), name.to_owned());
        self.subscribers.iter().copied().filter(move |s| {
            let (ns, n) = s.signal_name();
            (ns, n) == (wanted.0.as_str(), wanted.1.as_str())
        })
    }

    /// Whether a struct declares the signal `namespace.name`.
    pub fn is_declared(&self, namespace: &str, name: &str) -> bool {
        self.signals
            .iter()
            .any(|s| s.namespace == namespace && s.name == name)
    }

    /// Every plugin, by name.
    pub fn plugins(&self) -> &[PluginEntry] {
        &self.plugins
    }

    /// The plugin called `name`.
    pub fn plugin(&self, name: &str) -> Option<&PluginEntry> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// The problems found while building: duplicate declarations, subscribers that could not
    /// be connected. Empty when all is well.
    pub fn problems(&self) -> &[RegistryError] {
        &self.problems
    }

    /// `Ok` when there are no problems.
    pub fn check(&self) -> Result<(), Vec<RegistryError>> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems.clone())
        }
    }
}
