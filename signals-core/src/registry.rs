//! The link-time registry: every signal, subscriber and plugin linked into the binary.
//!
//! `#[signal]`, `#[subscriber]` and `#[plugin]` each submit one `const` descriptor through
//! [`inventory`]: a [`SignalDecl`], [`SubscriberDecl`] or [`PluginDecl`], read through its
//! accessors. Their fields are private and the generated code builds them with a hidden
//! `const fn new`, so that a descriptor can gain a field in a minor version (tracing-core's
//! `Metadata` does the same). The registry collects them once, on first use of any signal, sorts them
//! (link order is not stable, so it is never trusted), checks that no two structs declare the
//! same signal, and connects every subscriber that belongs to no plugin. Plugins' subscribers
//! are connected by [`crate::plugins::load`].
//!
//! On a platform `inventory` does not support, the registry is empty.

use std::any::TypeId;
use std::fmt;

use serde::Serialize;

use crate::by_name::handle::NamedSignal;
use crate::connect::{ConnectOptions, Receiver};
use crate::connection::Connection;
use crate::error::Error;
use crate::future::BoxFuture;
use crate::kwargs::Kwargs;
use crate::namespace::Namespace;
use crate::plugins::Plugin;
use crate::receiver::{IntoReply, SourceLocation};
use crate::sender::{SenderFilter, SenderKey};
use crate::wire::Codec;

/// A keyword argument of a declared signal.
///
/// ```
/// use signals_core::{registry, signal};
///
/// #[signal(namespace = "doc_kwarg_decl")]
/// struct Saved {
///     /// The dataset's id.
///     id: u32,
/// }
///
/// let decl = registry().signals().iter().find(|s| s.namespace() == "doc_kwarg_decl").unwrap();
/// let kwarg = &decl.kwargs()[0];
/// assert_eq!((kwarg.name(), kwarg.type_name()), ("id", "u32"));
/// assert_eq!(kwarg.docs().trim(), "The dataset's id.");
/// ```
#[derive(Debug, Serialize)]
pub struct KwargDecl {
    // The fields are private (to the crate): generated code builds descriptors with `new`, so
    // that a field can be added without breaking anyone (as tracing-core's `Metadata` does).
    pub(crate) name: &'static str,
    #[serde(rename = "type")]
    pub(crate) type_name: &'static str,
    pub(crate) docs: &'static str,
}

impl KwargDecl {
    /// Not public API. Used by generated code.
    #[doc(hidden)]
    pub const fn new(name: &'static str, type_name: &'static str, docs: &'static str) -> Self {
        KwargDecl {
            name,
            type_name,
            docs,
        }
    }

    /// The field's name (`r#type` is `type`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The field's type, as written.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The field's doc comment.
    pub fn docs(&self) -> &'static str {
        self.docs
    }
}

/// A signal declared by `#[signal]`. A hand-written [`Signal`](crate::Signal) impl has no
/// descriptor, and is not in the registry.
///
/// ```
/// use signals_core::{registry, signal, Signal};
///
/// /// Sent when a dataset is saved.
/// #[signal(namespace = "doc_signal_decl", output = u32)]
/// struct Saved { id: u32 }
///
/// let decl = registry().signals().iter().find(|s| s.namespace() == "doc_signal_decl").unwrap();
/// assert_eq!(decl.name(), "saved");
/// assert_eq!((decl.sender_type(), decl.output_type()), ("str", "u32"));
/// assert_eq!((decl.schema(), decl.is_serializable()), (1, false));
/// assert_eq!(decl.docs().trim(), "Sent when a dataset is saved.");
/// assert_eq!(decl.resolve(), Saved::named());
/// ```
#[derive(Debug, Serialize)]
pub struct SignalDecl {
    // Private to the crate, built by `new`: see `KwargDecl`.
    pub(crate) namespace: &'static str,
    pub(crate) name: &'static str,
    pub(crate) rust_type: &'static str,
    pub(crate) docs: &'static str,
    pub(crate) kwargs: &'static [KwargDecl],
    pub(crate) sender_type: &'static str,
    pub(crate) output_type: &'static str,
    /// `<T as Signal>::SCHEMA`.
    pub(crate) schema: u32,
    /// The struct's JSON form, when it is `Serialize + DeserializeOwned` (found where the
    /// struct is declared, see [`crate::wire`]); listed as whether there is one.
    #[serde(rename = "serializable", serialize_with = "serialize_codec")]
    pub(crate) codec: fn() -> Option<Codec>,
    pub(crate) crate_name: &'static str,
    pub(crate) location: SourceLocation,
    /// `<T as Signal>::named`.
    #[serde(skip)]
    pub(crate) resolve: fn() -> NamedSignal,
    /// `TypeId::of::<T>`.
    #[serde(skip)]
    pub(crate) type_id: fn() -> TypeId,
}

impl SignalDecl {
    /// Not public API. Used by generated code.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // one per field, written by the macro alone
    pub const fn new(
        namespace: &'static str,
        name: &'static str,
        rust_type: &'static str,
        docs: &'static str,
        kwargs: &'static [KwargDecl],
        sender_type: &'static str,
        output_type: &'static str,
        schema: u32,
        codec: fn() -> Option<Codec>,
        crate_name: &'static str,
        location: SourceLocation,
        resolve: fn() -> NamedSignal,
        type_id: fn() -> TypeId,
    ) -> Self {
        SignalDecl {
            namespace,
            name,
            rust_type,
            docs,
            kwargs,
            sender_type,
            output_type,
            schema,
            codec,
            crate_name,
            location,
            resolve,
            type_id,
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &'static str {
        self.namespace
    }

    /// The registered name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The struct's path (`my_crate::module::UserCreated`).
    pub fn rust_type(&self) -> &'static str {
        self.rust_type
    }

    /// The struct's doc comment.
    pub fn docs(&self) -> &'static str {
        self.docs
    }

    /// The keyword arguments, in declaration order.
    pub fn kwargs(&self) -> &'static [KwargDecl] {
        self.kwargs
    }

    /// The sender type, as written.
    pub fn sender_type(&self) -> &'static str {
        self.sender_type
    }

    /// The output type, as written.
    pub fn output_type(&self) -> &'static str {
        self.output_type
    }

    /// The version of the struct's shape (`schema = ...`, 1 by default).
    pub fn schema(&self) -> u32 {
        self.schema
    }

    /// Whether the struct is `Serialize + DeserializeOwned`, so that its sends can cross a
    /// process boundary as the struct (see [`crate::wire`]).
    pub fn is_serializable(&self) -> bool {
        (self.codec)().is_some()
    }

    /// The struct's JSON form, when it has one.
    pub(crate) fn codec(&self) -> Option<Codec> {
        (self.codec)()
    }

    /// The declaring crate (its package name).
    pub fn crate_name(&self) -> &'static str {
        self.crate_name
    }

    /// Where the struct is declared.
    pub fn location(&self) -> SourceLocation {
        self.location
    }

    /// The signal's runtime object (`<T as Signal>::named()`).
    pub fn resolve(&self) -> NamedSignal {
        (self.resolve)()
    }

    /// The struct's `TypeId`.
    pub fn type_id(&self) -> TypeId {
        (self.type_id)()
    }
}

fn serialize_codec<S: serde::Serializer>(
    codec: &fn() -> Option<Codec>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_bool(codec().is_some())
}

/// The signal a subscriber listens to. Each variant may gain fields: match them with `..`.
///
/// ```
/// use signals_core::registry::{registry, SubscriberTarget};
/// use signals_core::{signal, subscriber, Kwargs, SenderKey};
///
/// #[signal(namespace = "doc_subscriber_target")]
/// struct Saved { id: u32 }
///
/// #[subscriber]
/// fn typed(_: &str, _: &Saved) {}
///
/// #[subscriber(namespace = "doc_subscriber_target", signal = "deleted")]
/// fn by_name(_: &SenderKey<'_>, _: &dyn Kwargs) {}
///
/// for decl in registry().subscribers_of("doc_subscriber_target", "deleted") {
///     assert!(matches!(decl.target(), SubscriberTarget::ByName { signal: "deleted", .. }));
/// }
/// let typed = registry().subscribers_of("doc_subscriber_target", "saved").next().unwrap();
/// assert!(matches!(typed.target(), SubscriberTarget::Typed { rust_type: "Saved", .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubscriberTarget {
    /// A typed subscriber: its argument's type declares the signal.
    #[non_exhaustive]
    Typed {
        /// The argument's type, as written.
        rust_type: &'static str,
        /// The signal's namespace (the type's `Signal::NAMESPACE`).
        namespace: &'static str,
        /// The signal's name (the type's `Signal::NAME`).
        signal: &'static str,
    },
    /// A by-name subscriber.
    #[non_exhaustive]
    ByName {
        /// The namespace.
        namespace: &'static str,
        /// The signal's name.
        signal: &'static str,
        /// The one keyword argument it reads (`#[subscriber(.., kwarg = "user")]`), or `None`
        /// when it takes the whole bag (then left out of the JSON).
        #[serde(skip_serializing_if = "Option::is_none")]
        kwarg: Option<&'static str>,
    },
}

impl SubscriberTarget {
    /// Not public API. Used by generated code.
    #[doc(hidden)]
    pub const fn typed(
        rust_type: &'static str,
        namespace: &'static str,
        signal: &'static str,
    ) -> Self {
        SubscriberTarget::Typed {
            rust_type,
            namespace,
            signal,
        }
    }

    /// Not public API. Used by generated code.
    #[doc(hidden)]
    pub const fn by_name(namespace: &'static str, signal: &'static str) -> Self {
        SubscriberTarget::ByName {
            namespace,
            signal,
            kwarg: None,
        }
    }

    /// Not public API. Used by generated code.
    #[doc(hidden)]
    pub const fn by_name_kwarg(
        namespace: &'static str,
        signal: &'static str,
        kwarg: &'static str,
    ) -> Self {
        SubscriberTarget::ByName {
            namespace,
            signal,
            kwarg: Some(kwarg),
        }
    }
}

/// The sender a link-time subscriber listens to, as written in its attribute.
///
/// ```
/// use signals_core::registry::SenderDecl;
/// use signals_core::SenderFilter;
///
/// assert_eq!(SenderDecl::Str("dataset").filter(), SenderFilter::only("dataset"));
/// ```
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
    ///
    /// ```
    /// use signals_core::registry::SenderDecl;
    /// use signals_core::{SenderFilter, SenderKey};
    ///
    /// assert_eq!(SenderDecl::Any.filter(), SenderFilter::Any);
    /// assert_eq!(SenderDecl::None.filter(), SenderFilter::Only(SenderKey::None));
    /// assert_eq!(SenderDecl::Int(7).filter(), SenderFilter::only(&7));
    /// ```
    pub fn filter(self) -> SenderFilter {
        match self {
            SenderDecl::Any => SenderFilter::Any,
            SenderDecl::None => SenderFilter::Only(SenderKey::None),
            SenderDecl::Str(s) => SenderFilter::Only(SenderKey::from(s)),
            SenderDecl::Int(i) => SenderFilter::Only(SenderKey::Int(i)),
        }
    }
}

/// A function registered by `#[subscriber]`. `path` is the function's path as the macro
/// sees it (`module_path!()` and the name); its exact spelling is not a stable interface.
///
/// ```
/// use signals_core::registry::{registry, SenderDecl};
/// use signals_core::{signal, subscriber};
///
/// #[signal(namespace = "doc_subscriber_decl")]
/// struct Saved { id: u32 }
///
/// #[subscriber(sender = "dataset", plugin = "doc_subscriber_decl")]
/// async fn audit(_: &str, _: &Saved) {}
///
/// let decl = registry().subscribers_of("doc_subscriber_decl", "saved").next().unwrap();
/// assert!(decl.path().ends_with("audit"));
/// assert_eq!(decl.sender(), SenderDecl::Str("dataset"));
/// assert_eq!(decl.plugin(), Some("doc_subscriber_decl"));
/// assert!(decl.is_async());
/// ```
#[derive(Debug, Serialize)]
pub struct SubscriberDecl {
    // Private to the crate, built by `new`: see `KwargDecl`.
    pub(crate) path: &'static str,
    pub(crate) location: SourceLocation,
    pub(crate) target: SubscriberTarget,
    pub(crate) sender: SenderDecl,
    pub(crate) plugin: Option<&'static str>,
    pub(crate) is_async: bool,
    /// Connects the function with the given options.
    #[serde(skip)]
    pub(crate) connect: fn(ConnectOptions) -> Result<Connection, Error>,
}

impl SubscriberDecl {
    /// Not public API. Used by generated code.
    #[doc(hidden)]
    pub const fn new(
        path: &'static str,
        location: SourceLocation,
        target: SubscriberTarget,
        sender: SenderDecl,
        plugin: Option<&'static str>,
        is_async: bool,
        connect: fn(ConnectOptions) -> Result<Connection, Error>,
    ) -> Self {
        SubscriberDecl {
            path,
            location,
            target,
            sender,
            plugin,
            is_async,
            connect,
        }
    }

    /// The function's path (`my_crate::module::audit`).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Where the function is declared.
    pub fn location(&self) -> SourceLocation {
        self.location
    }

    /// The signal it listens to.
    pub fn target(&self) -> SubscriberTarget {
        self.target
    }

    /// The sender it listens to.
    pub fn sender(&self) -> SenderDecl {
        self.sender
    }

    /// The plugin that owns it; `None`: connected from start-up.
    pub fn plugin(&self) -> Option<&'static str> {
        self.plugin
    }

    /// Whether it is an `async fn`.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// Connects the function again, as the registry (or its plugin's load) did: with
    /// [`options`](Self::options). Not public API: this workspace's tests use it.
    #[doc(hidden)]
    pub fn connect(&self) -> Result<Connection, Error> {
        (self.connect)(self.options())
    }

    /// The options the registry and plugin host connect this subscriber with: its path as
    /// its name, its location, its sender filter and its plugin.
    pub(crate) fn options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::default()
            .name(self.path)
            .location(self.location)
            .filter(self.sender.filter());
        if let Some(plugin) = self.plugin {
            options = options.plugin(plugin);
        }
        options
    }

    /// `(namespace, name)` of the signal it listens to.
    ///
    /// ```
    /// use signals_core::registry::registry;
    /// use signals_core::{signal, subscriber};
    ///
    /// #[signal(namespace = "doc_subscriber_signal_name")]
    /// struct Saved { id: u32 }
    ///
    /// #[subscriber]
    /// fn audit(_: &str, _: &Saved) {}
    ///
    /// let decl = registry().subscribers().iter().find(|s| s.path().ends_with("audit")).unwrap();
    /// assert_eq!(decl.signal_name(), ("doc_subscriber_signal_name", "saved"));
    /// ```
    pub fn signal_name(&self) -> (&'static str, &'static str) {
        match self.target {
            SubscriberTarget::Typed {
                namespace, signal, ..
            }
            | SubscriberTarget::ByName {
                namespace, signal, ..
            } => (namespace, signal),
        }
    }
}

/// Connects a by-name link-time subscriber: what `#[subscriber(namespace = "...", signal =
/// "...")]` generates. The bound is spelled out so that a wrong signature is reported as
/// such, at the function.
///
/// Not public API. Used by generated code.
#[doc(hidden)]
pub fn connect_by_name<F, R>(
    namespace: &str,
    name: &str,
    options: ConnectOptions,
    receiver: F,
) -> Result<Connection, Error>
where
    F: Fn(&SenderKey<'_>, &dyn Kwargs) -> R + Send + Sync + 'static,
    R: IntoReply,
{
    Ok(Namespace::get(namespace)?
        .signal(name)?
        .connect(Receiver::new(receiver).options(options)))
}

/// Connects a by-name link-time subscriber of one keyword argument
/// (`#[subscriber(namespace = .., signal = .., kwarg = ..)]`): see
/// [`Receiver::kwarg`](crate::Receiver::kwarg).
///
/// Not public API. Used by generated code.
#[doc(hidden)]
pub fn connect_kwarg_by_name<F, V, R>(
    namespace: &str,
    name: &str,
    kwarg: &'static str,
    options: ConnectOptions,
    receiver: F,
) -> Result<Connection, Error>
where
    F: Fn(&SenderKey<'_>, &V) -> R + Send + Sync + 'static,
    V: std::any::Any + Send + Sync + serde::de::DeserializeOwned,
    R: IntoReply,
{
    Ok(Namespace::get(namespace)?
        .signal(name)?
        .connect(Receiver::kwarg(kwarg, receiver).options(options)))
}

/// Connects a by-name async link-time subscriber, as [`connect_by_name`] does.
///
/// Not public API. Used by generated code.
#[doc(hidden)]
pub fn connect_async_by_name<F, R>(
    namespace: &str,
    name: &str,
    options: ConnectOptions,
    receiver: F,
) -> Result<Connection, Error>
where
    F: for<'a> Fn(&'a SenderKey<'static>, &'a dyn Kwargs) -> BoxFuture<'a, R>
        + Send
        + Sync
        + 'static,
    R: IntoReply,
{
    Ok(Namespace::get(namespace)?
        .signal(name)?
        .connect(Receiver::new_async(receiver).options(options)))
}

/// The type of the probe by which `#[subscriber]`'s generated code tells a free function
/// from an associated one, which a macro cannot see: the attribute puts a `const` of type
/// `u8` next to the function, and matches an integer literal against the const's name. Next
/// to a free function, the const is in scope: the name is a constant pattern, and the literal
/// is a `u8`. Inside an `impl` block the const is an associated const, not in scope: the name
/// binds a fresh variable, and the literal is an `i32` (the default), which is not a
/// `FreeFunction`. Implemented for two types, so that the bound alone cannot choose the
/// literal's type.
///
/// Not public API. Used by generated code.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`#[subscriber]` goes on a free function, not on an associated function",
    label = "this function is in an `impl` block",
    note = "the generated registration names the function without a type, as only a free \
            function can be named: move it out of the `impl` block (a free function may call \
            the associated one), or connect a closure at run time"
)]
pub trait FreeFunction {}

#[diagnostic::do_not_recommend]
impl FreeFunction for u8 {}

#[diagnostic::do_not_recommend]
impl FreeFunction for u16 {}

/// Compiles only when `probe` is a `u8` (see [`FreeFunction`]).
///
/// Not public API. Used by generated code.
#[doc(hidden)]
pub fn require_free_function<T: FreeFunction>(probe: T) {
    let _ = probe;
}

/// A plugin registered by `#[plugin]`.
///
/// ```
/// use signals_core::plugins::Plugin;
/// use signals_core::{plugin, registry};
///
/// /// Records every save.
/// #[plugin(name = "doc_plugin_decl")]
/// #[derive(Default)]
/// struct Audit;
/// impl Plugin for Audit {}
///
/// let decl = registry().plugin("doc_plugin_decl").unwrap().declaration.unwrap();
/// assert!(decl.rust_type().ends_with("Audit"));
/// assert_eq!(decl.docs().trim(), "Records every save.");
/// ```
#[derive(Debug, Serialize)]
pub struct PluginDecl {
    // Private to the crate, built by `new`: see `KwargDecl`.
    pub(crate) name: &'static str,
    pub(crate) rust_type: &'static str,
    pub(crate) docs: &'static str,
    pub(crate) crate_name: &'static str,
    pub(crate) location: SourceLocation,
    /// Makes the plugin (its `Default`).
    #[serde(skip)]
    pub(crate) create: fn() -> Box<dyn Plugin>,
}

impl PluginDecl {
    /// Not public API. Used by generated code.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        rust_type: &'static str,
        docs: &'static str,
        crate_name: &'static str,
        location: SourceLocation,
        create: fn() -> Box<dyn Plugin>,
    ) -> Self {
        PluginDecl {
            name,
            rust_type,
            docs,
            crate_name,
            location,
            create,
        }
    }

    /// The plugin's name, as `ckan.plugins` lists it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The plugin type's path.
    pub fn rust_type(&self) -> &'static str {
        self.rust_type
    }

    /// The type's doc comment.
    pub fn docs(&self) -> &'static str {
        self.docs
    }

    /// The declaring crate (its package name).
    pub fn crate_name(&self) -> &'static str {
        self.crate_name
    }

    /// Where the type is declared.
    pub fn location(&self) -> SourceLocation {
        self.location
    }
}

inventory::collect!(SignalDecl);
inventory::collect!(SubscriberDecl);
inventory::collect!(PluginDecl);

/// A problem found while building the registry. Non-exhaustive: match it with a wildcard arm.
///
/// ```
/// use signals_core::registry::{registry, RegistryError};
/// use signals_core::signal;
///
/// #[signal(namespace = "doc_registry_error", name = "saved")]
/// struct Saved { id: u32 }
///
/// #[signal(namespace = "doc_registry_error", name = "saved")]
/// struct SavedToo { id: u64 }
///
/// let problem = registry().problems().iter().find(|p| {
///     matches!(p, RegistryError::DuplicateSignal { signal, .. } if signal == "doc_registry_error.saved")
/// });
/// assert!(problem.unwrap().to_string().contains("is declared twice"));
/// ```
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
/// plugin then path, plugins by name. Built once; a crate nothing references may not be
/// linked, and then nothing of it is here (see [`link!`](crate::link)).
///
/// ```
/// use signals_core::{registry, signal};
///
/// #[signal(namespace = "doc_registry_struct")]
/// struct Saved { id: u32 }
///
/// let registry = registry();
/// assert!(registry.is_declared("doc_registry_struct", "saved"));
/// assert!(std::ptr::eq(registry, signals_core::registry())); // one registry per process
/// ```
#[derive(Debug, Serialize)]
pub struct Registry {
    signals: Vec<&'static SignalDecl>,
    subscribers: Vec<&'static SubscriberDecl>,
    plugins: Vec<PluginEntry>,
    #[serde(serialize_with = "serialize_problems")]
    problems: Vec<RegistryError>,
    #[serde(serialize_with = "serialize_problems")]
    warnings: Vec<RegistryWarning>,
}

fn serialize_problems<S: serde::Serializer, P: fmt::Display>(
    problems: &[P],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(problems.iter().map(ToString::to_string))
}

/// A plugin the registry knows: declared by `#[plugin]`, or only named by subscribers'
/// `plugin = "..."`.
///
/// ```
/// use signals_core::{registry, signal, subscriber};
///
/// #[signal(namespace = "doc_plugin_entry")]
/// struct Saved { id: u32 }
///
/// #[subscriber(plugin = "doc_plugin_entry_named")]
/// fn audit(_: &str, _: &Saved) {}
///
/// let entry = registry().plugin("doc_plugin_entry_named").unwrap();
/// assert_eq!(entry.name, "doc_plugin_entry_named");
/// assert!(entry.declaration.is_none()); // named by a subscriber only
/// ```
#[derive(Debug, Serialize)]
pub struct PluginEntry {
    /// The plugin's name.
    pub name: &'static str,
    /// Its `#[plugin]` declaration, if it has one.
    pub declaration: Option<&'static PluginDecl>,
}

/// The registry, built on first call (or on the first lookup of any signal, whichever comes
/// first); building it connects every link-time subscriber that belongs to no plugin.
///
/// ```
/// use signals_core::{registry, signal, subscriber, Signal};
///
/// #[signal(namespace = "doc_registry_fn")]
/// struct Saved { id: u32 }
///
/// #[subscriber]
/// fn audit(_: &str, _: &Saved) {}
///
/// assert!(registry().is_declared("doc_registry_fn", "saved"));
/// assert!(Saved::signal().named().has_receivers()); // connected when the registry was built
/// ```
pub fn registry() -> &'static Registry {
    crate::startup::registry()
}

/// Builds a fresh registry, as the first use of a signal does, for the registry benchmark.
/// Connecting its subscribers again finds them connected already. Not for other uses.
#[doc(hidden)]
pub fn rebuild_for_benchmark() -> Registry {
    registry();
    Registry::build()
}

impl Registry {
    pub(crate) fn build() -> Registry {
        let mut problems = Vec::new();
        let signals = declared_signals(&mut problems);
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
        let plugins = plugin_entries(&declared, &subscribers);
        let warnings = warnings(&signals, &subscribers, &declared, &plugins);
        connect_start_up_subscribers(&subscribers, &mut problems);
        Registry {
            signals,
            subscribers,
            plugins,
            problems,
            warnings,
        }
    }

    /// Every declared signal, by namespace and name (this crate's own meta-signals included).
    ///
    /// ```
    /// use signals_core::{registry, signal};
    ///
    /// #[signal(namespace = "doc_registry_signals")]
    /// struct Saved { id: u32 }
    ///
    /// let names: Vec<_> = registry()
    ///     .signals()
    ///     .iter()
    ///     .filter(|s| s.namespace() == "doc_registry_signals")
    ///     .map(|s| s.name())
    ///     .collect();
    /// assert_eq!(names, ["saved"]);
    /// ```
    pub fn signals(&self) -> &[&'static SignalDecl] {
        &self.signals
    }

    /// Every link-time subscriber, by plugin (none first) and path.
    ///
    /// ```
    /// use signals_core::{registry, signal, subscriber};
    ///
    /// #[signal(namespace = "doc_registry_subscribers")]
    /// struct Saved { id: u32 }
    ///
    /// #[subscriber]
    /// fn audit(_: &str, _: &Saved) {}
    ///
    /// assert!(registry().subscribers().iter().any(|s| s.path().ends_with("audit")));
    /// ```
    pub fn subscribers(&self) -> &[&'static SubscriberDecl] {
        &self.subscribers
    }

    /// The subscribers of the signal `namespace.name`, plugins' included (loaded or not).
    ///
    /// ```
    /// use signals_core::{registry, signal, subscriber};
    ///
    /// #[signal(namespace = "doc_registry_subscribers_of")]
    /// struct Saved { id: u32 }
    ///
    /// #[subscriber]
    /// fn audit(_: &str, _: &Saved) {}
    ///
    /// #[subscriber(plugin = "doc_registry_subscribers_of")]
    /// fn notify(_: &str, _: &Saved) {}
    ///
    /// assert_eq!(registry().subscribers_of("doc_registry_subscribers_of", "saved").count(), 2);
    /// assert_eq!(registry().subscribers_of("doc_registry_subscribers_of", "other").count(), 0);
    /// ```
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

    /// Whether a struct linked into the binary declares the signal `namespace.name` (a signal
    /// created by name only is not declared).
    ///
    /// ```
    /// use signals_core::{registry, signal, Namespace};
    ///
    /// #[signal(namespace = "doc_registry_is_declared")]
    /// struct Saved { id: u32 }
    ///
    /// Namespace::get("doc_registry_is_declared")?.signal("by_name_only")?;
    /// assert!(registry().is_declared("doc_registry_is_declared", "saved"));
    /// assert!(!registry().is_declared("doc_registry_is_declared", "by_name_only"));
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn is_declared(&self, namespace: &str, name: &str) -> bool {
        self.signals
            .iter()
            .any(|s| s.namespace == namespace && s.name == name)
    }

    /// Every plugin, by name: loaded or not.
    ///
    /// ```
    /// use signals_core::plugins::Plugin;
    /// use signals_core::{plugin, registry};
    ///
    /// #[plugin(name = "doc_registry_plugins")]
    /// #[derive(Default)]
    /// struct Audit;
    /// impl Plugin for Audit {}
    ///
    /// assert!(registry().plugins().iter().any(|p| p.name == "doc_registry_plugins"));
    /// ```
    pub fn plugins(&self) -> &[PluginEntry] {
        &self.plugins
    }

    /// The plugin called `name`, if one is linked.
    ///
    /// ```
    /// use signals_core::plugins::Plugin;
    /// use signals_core::{plugin, registry};
    ///
    /// #[plugin(name = "doc_registry_plugin")]
    /// #[derive(Default)]
    /// struct Audit;
    /// impl Plugin for Audit {}
    ///
    /// assert!(registry().plugin("doc_registry_plugin").unwrap().declaration.is_some());
    /// assert!(registry().plugin("doc_missing").is_none());
    /// ```
    pub fn plugin(&self, name: &str) -> Option<&PluginEntry> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// The problems found while building: duplicate declarations, subscribers that could not
    /// be connected. Empty when all is well. Problems are reported here, not raised: a binary
    /// that wants to fail fast calls [`check`](Self::check) at start-up.
    ///
    /// ```
    /// use signals_core::{registry, signal};
    ///
    /// #[signal(namespace = "doc_registry_problems")]
    /// struct Saved { id: u32 }
    ///
    /// assert!(registry().problems().is_empty());
    /// ```
    pub fn problems(&self) -> &[RegistryError] {
        &self.problems
    }

    /// What is allowed but probably a mistake: a by-name subscriber to a signal no linked
    /// crate declares (CKAN allows it: the extension that sends it may not be installed), a
    /// subscriber's `plugin = "..."` that looks like a typo of another plugin's name. Each
    /// says "did you mean" when a declared name is close. Warnings never fail
    /// [`check`](Self::check).
    ///
    /// ```
    /// use signals_core::{registry, signal, subscriber, Kwargs, SenderKey};
    ///
    /// #[signal(namespace = "doc_registry_warnings")]
    /// struct Saved { id: u32 }
    ///
    /// #[subscriber(namespace = "doc_registry_warnings", signal = "saevd")]
    /// fn audit(_: &SenderKey<'_>, _: &dyn Kwargs) {}
    ///
    /// let warning = registry()
    ///     .warnings()
    ///     .iter()
    ///     .find(|w| w.to_string().contains("doc_registry_warnings.saevd"))
    ///     .unwrap();
    /// assert!(warning.to_string().ends_with("did you mean `doc_registry_warnings.saved`?"));
    /// ```
    pub fn warnings(&self) -> &[RegistryWarning] {
        &self.warnings
    }

    /// `Ok` when there are no problems; otherwise every problem, in an error that works with
    /// `?` and displays them one per line.
    ///
    /// ```
    /// use signals_core::{registry, signal};
    ///
    /// #[signal(namespace = "doc_registry_check", name = "saved")]
    /// struct Saved { id: u32 }
    ///
    /// #[signal(namespace = "doc_registry_check", name = "saved")]
    /// struct SavedToo { id: u64 }
    ///
    /// let error = registry().check().unwrap_err();
    /// assert_eq!(error.problems().len(), 1);
    /// assert!(error.to_string().starts_with("1 problem in the signal registry:\n- signal `doc_registry_check.saved` is declared twice"));
    /// ```
    pub fn check(&self) -> Result<(), CheckError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(CheckError {
                problems: self.problems.clone(),
            })
        }
    }
}

/// Every problem [`Registry::check`] found. Displays them one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    problems: Vec<RegistryError>,
}

impl CheckError {
    /// The problems, in the registry's order.
    pub fn problems(&self) -> &[RegistryError] {
        &self.problems
    }

    /// The problems, owned.
    pub fn into_problems(self) -> Vec<RegistryError> {
        self.problems
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} problem{} in the signal registry:",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n- {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CheckError {}

/// Something the registry allows but that is probably a mistake (see
/// [`Registry::warnings`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryWarning {
    /// A by-name subscriber to a signal that no linked crate declares.
    #[error(
        "subscriber `{path}` at {location} subscribes by name to `{signal}`, which no linked \
         crate declares: it runs only if something sends `{signal}` by name{hint}"
    )]
    UndeclaredSignal {
        /// The subscriber's path.
        path: &'static str,
        /// Where it is declared.
        location: SourceLocation,
        /// The signal's qualified name.
        signal: String,
        /// `"; did you mean ..."`, or empty.
        hint: String,
    },
    /// A by-name subscriber of one kwarg (`#[subscriber(.., kwarg = "..")]`) whose declared
    /// signal has no argument of that name.
    #[error(
        "subscriber `{path}` at {location} reads the keyword argument `{kwarg}` of `{signal}`, \
         which has none of that name (its arguments: {available}){hint}: every send will \
         report it as a failure, uncalled"
    )]
    UnknownKwarg {
        /// The subscriber's path.
        path: &'static str,
        /// Where it is declared.
        location: SourceLocation,
        /// The signal's qualified name.
        signal: String,
        /// The kwarg it reads.
        kwarg: &'static str,
        /// The signal's arguments, comma-separated (or `(none)`).
        available: String,
        /// `"; did you mean ..."`, or empty.
        hint: String,
    },
    /// A subscriber's plugin that no `#[plugin]` declares, close to a plugin name that is.
    #[error(
        "subscriber `{path}` at {location} belongs to plugin `{plugin}`, which no `#[plugin]` \
         declares and no other subscriber names{hint} (a plugin made only of subscribers is \
         fine: load it by this name)"
    )]
    UnknownPlugin {
        /// The subscriber's path.
        path: &'static str,
        /// Where it is declared.
        location: SourceLocation,
        /// The plugin it names.
        plugin: &'static str,
        /// `"; did you mean ..."`, or empty.
        hint: String,
    },
}

fn warnings(
    signals: &[&'static SignalDecl],
    subscribers: &[&'static SubscriberDecl],
    declared: &[&'static PluginDecl],
    plugins: &[PluginEntry],
) -> Vec<RegistryWarning> {
    let qualified: Vec<String> = signals
        .iter()
        .map(|s| format!("{}.{}", s.namespace, s.name))
        .collect();
    let mut warnings = Vec::new();
    for subscriber in subscribers {
        if let SubscriberTarget::ByName {
            namespace,
            signal,
            kwarg,
        } = subscriber.target
        {
            let name = format!("{namespace}.{signal}");
            match signals
                .iter()
                .find(|s| s.namespace == namespace && s.name == signal)
            {
                None => warnings.push(RegistryWarning::UndeclaredSignal {
                    path: subscriber.path,
                    location: subscriber.location,
                    hint: crate::suggest::hint(&name, qualified.iter().map(String::as_str)),
                    signal: name,
                }),
                Some(declared) => {
                    let names = declared.kwargs.iter().map(|k| k.name);
                    if let Some(kwarg) = kwarg.filter(|k| names.clone().all(|n| n != *k)) {
                        let available: Vec<&str> = names.clone().collect();
                        warnings.push(RegistryWarning::UnknownKwarg {
                            path: subscriber.path,
                            location: subscriber.location,
                            signal: name,
                            kwarg,
                            available: if available.is_empty() {
                                "(none)".to_owned()
                            } else {
                                available.join(", ")
                            },
                            hint: crate::suggest::hint(kwarg, names),
                        });
                    }
                }
            }
        }
        let Some(plugin) = subscriber.plugin else {
            continue;
        };
        let named_once = subscribers
            .iter()
            .filter(|s| s.plugin == Some(plugin))
            .count()
            == 1;
        if declared.iter().all(|d| d.name != plugin) && named_once {
            let others = plugins
                .iter()
                .map(|p| p.name)
                .filter(|name| *name != plugin);
            if let Some(close) = crate::suggest::closest(plugin, others) {
                warnings.push(RegistryWarning::UnknownPlugin {
                    path: subscriber.path,
                    location: subscriber.location,
                    plugin,
                    hint: format!("; did you mean `{close}`?"),
                });
            }
        }
    }
    warnings
}

/// Every linked signal declaration, sorted, each declared with its struct (so by-name
/// lookups know the type); two structs for one name are a problem.
fn declared_signals(problems: &mut Vec<RegistryError>) -> Vec<&'static SignalDecl> {
    let mut signals: Vec<&'static SignalDecl> = inventory::iter::<SignalDecl>().collect();
    signals.sort_by_key(|s| (s.namespace, s.name, s.rust_type, s.location));
    for pair in signals.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if (a.namespace, a.name) == (b.namespace, b.name) && a.type_id() != b.type_id() {
            problems.push(RegistryError::DuplicateSignal {
                signal: format!("{}.{}", a.namespace, a.name),
                first_type: a.rust_type,
                first_location: a.location,
                second_type: b.rust_type,
                second_location: b.location,
            });
        }
    }
    for signal in &signals {
        (signal.resolve)();
    }
    signals
}

/// Every plugin: those `#[plugin]` declares and those only subscribers name, by name.
fn plugin_entries(
    declared: &[&'static PluginDecl],
    subscribers: &[&'static SubscriberDecl],
) -> Vec<PluginEntry> {
    let mut names: Vec<&'static str> = declared
        .iter()
        .map(|p| p.name)
        .chain(subscribers.iter().filter_map(|s| s.plugin))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| PluginEntry {
            name,
            declaration: declared.iter().copied().find(|p| p.name == name),
        })
        .collect()
}

/// Connects every link-time subscriber that belongs to no plugin; one that cannot be
/// connected is a problem.
fn connect_start_up_subscribers(
    subscribers: &[&'static SubscriberDecl],
    problems: &mut Vec<RegistryError>,
) {
    for subscriber in subscribers.iter().filter(|s| s.plugin.is_none()) {
        if let Err(error) = (subscriber.connect)(subscriber.options()) {
            problems.push(RegistryError::Subscriber {
                path: subscriber.path,
                location: subscriber.location,
                error,
            });
        }
    }
}
