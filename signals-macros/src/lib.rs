//! The attributes of [`signals-core`](https://docs.rs/signals-core): `#[signal]`,
//! `#[subscriber]` and `#[plugin]`.
//!
//! Use them through `signals_core`, which re-exports them (`use signals_core::signal;`): the
//! code they generate names `::signals_core::__private` and nothing else, std included. A
//! crate that depends on `signals-core` under another name (`package = "signals-core"` with a
//! rename), or reaches it through a facade crate's re-export, says where it is with `crate =
//! path` on each attribute:
//!
//! ```ignore
//! // Cargo.toml: core_signals = { package = "signals-core", version = "..." }
//! #[core_signals::signal(namespace = "ckanext", crate = core_signals)]
//! struct UserCreated { user: String }
//! ```

mod attr;
mod case;
mod docs;
mod plugin;
mod private;
mod signal;
mod subscriber;
mod tokens;

use proc_macro::TokenStream;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::Item;

/// Declares a signal: a struct whose fields are its keyword arguments.
///
/// ```
/// use signals_core::{signal, Signal};
///
/// /// Sent after a user account is created.
/// #[signal(namespace = "ckan")]
/// struct UserCreated {
///     /// The new user's name.
///     user: String,
/// }
///
/// let connection = UserCreated::signal().connect(|sender: &str, event: &UserCreated| {
///     println!("{sender} created {}", event.user);
/// });
/// let report = UserCreated { user: "alice".into() }.send("web");
/// assert_eq!(report.receivers_called(), 1);
/// connection.disconnect();
/// ```
///
/// # Keys
///
/// | key | value | default |
/// | --- | --- | --- |
/// | `namespace` | a string literal: the namespace the signal lives in | required |
/// | `name` | a string literal: the signal's name inside the namespace | the struct's name in snake_case (`UserCreated` → `user_created`) |
/// | `sender` | a type implementing `signals_core::Sender`: who sends it | `str` |
/// | `output` | a type: what each receiver returns, collected by `sending(s).collect()` | `()` |
/// | `schema` | an integer literal from 1: the version of the struct's shape, for readers in other processes (`signals_core::wire`) | `1` |
/// | `crate` | a path: where `signals-core` is, for a crate that renames it or reaches it through a re-export | `::signals_core` |
///
/// Names follow the runtime's naming rules (1 to 255 ASCII letters, digits, `_`, `.` and
/// `-`), checked at compile time: an invalid name is an error at its literal.
///
/// ```
/// use signals_core::{signal, Signal};
///
/// /// CKAN's `datastore_upsert` signal: sent by integer ids, its receivers return a count.
/// #[signal(namespace = "ckanext", name = "datastore.upsert", sender = i64, output = usize)]
/// struct Upserted {
///     records: Vec<String>,
/// }
///
/// /// A signal without arguments.
/// #[signal(namespace = "ckan")]
/// struct CacheCleared;
///
/// let connection = Upserted::signal().connect(|_id: &i64, event: &Upserted| event.records.len());
/// let collected = Upserted { records: vec!["a".into(), "b".into()] }.sending(&7).collect().run();
/// assert_eq!(collected.into_values(), [2]);
/// assert_eq!(Upserted::NAME, "datastore.upsert");
/// assert_eq!(CacheCleared::NAME, "cache_cleared");
/// connection.disconnect();
/// ```
///
/// # What it generates
///
/// The struct is kept as written. The attribute adds:
///
/// - `impl Kwargs`: each field is a keyword argument, by its name (`r#type` is `type`), in
///   declaration order. Fields must be `Any + Send + Sync` (so `'static`).
/// - `impl Signal`, with `NAMESPACE`, `NAME`, `DOCS` (the struct's doc comment), `SCHEMA`,
///   `Sender`, `Output`, and `named()` cached in a `static`.
/// - A `SignalDecl` in the link-time registry (`signals_core::registry()`): names, the
///   struct's path, its docs, each keyword argument's name, type and docs, the sender and
///   output types, the schema version, the crate and the source location, and the struct's
///   JSON form when it is `Serialize + DeserializeOwned` (found without requiring it, so
///   that `NamedSignal::send_json` can decode it in another process; see
///   `signals_core::wire`).
///
/// The struct must have named fields or none (a unit struct), and no generic or lifetime
/// parameters: a signal is one concrete type.
#[proc_macro_attribute]
pub fn signal(attr: TokenStream, item: TokenStream) -> TokenStream {
    signal::expand(attr.into(), item.into()).into()
}

/// Connects a free function to a signal: at start-up, or when its plugin loads.
///
/// A **typed** subscriber takes the sender and the signal struct; the struct's type says
/// which signal it listens to:
///
/// ```
/// use signals_core::{signal, subscriber, Signal};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[signal(namespace = "ckan")]
/// struct UserCreated {
///     user: String,
/// }
///
/// static CREATED: AtomicUsize = AtomicUsize::new(0);
///
/// #[subscriber]
/// fn count(_sender: &str, _event: &UserCreated) {
///     CREATED.fetch_add(1, Ordering::SeqCst);
/// }
///
/// fn main() {
///     // Link-time subscribers are connected before the first send of any signal.
///     let report = UserCreated { user: "alice".into() }.send("web");
///     assert!(report.is_ok());
///     assert_eq!(CREATED.load(Ordering::SeqCst), 1);
///     // The function itself is connected: it can be disconnected by name.
///     assert_eq!(UserCreated::signal().named().disconnect(&count), 1);
/// }
/// ```
///
/// Link-time subscribers of no plugin are connected when the registry is built, before any
/// run-time connection, so they run first, among themselves in the order of their
/// functions' paths (`crate::module::fn`): renaming a function can move it. A plugin's are
/// connected when it loads. Depend on no other order.
///
/// A **by-name** subscriber names the signal in the attribute and reads its arguments by
/// name, without depending on the crate that declares the struct:
///
/// ```
/// use signals_core::{subscriber, DynKwargs, Kwargs, Namespace, SenderKey};
///
/// #[subscriber(namespace = "ckanext", signal = "resource_downloaded", sender = "r-1")]
/// fn log_download(sender: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), signals_core::KwargError> {
///     let bytes = kwargs.try_get::<u64>("bytes")?;
///     println!("{sender} sent {bytes} bytes");
///     Ok(())
/// }
///
/// fn main() -> Result<(), signals_core::Error> {
///     let signal = Namespace::get("ckanext")?.signal("resource_downloaded")?;
///     let report = signal.send(&"r-1", &DynKwargs::new().with("bytes", 10u64))?;
///     assert_eq!(report.receivers_called(), 1);
///     Ok(())
/// }
/// ```
///
/// # Keys
///
/// | key | value | default |
/// | --- | --- | --- |
/// | `sender` | the one sender to listen to: a string literal (`sender = "dataset"`), an integer literal (`sender = 10`, `sender = -1`) or `sender = None`; for a typed signal, a literal its sender type can never give (`sender = 7` for `str` senders) is a compile error | every sender |
/// | `plugin` | a string literal: the plugin that owns the subscriber; it is connected by `plugins::load` and disconnected by `plugins::unload` | none: connected at start-up |
/// | `namespace` | a string literal: the signal's namespace, for a by-name subscriber | inferred from the typed argument |
/// | `signal` | a string literal: the signal's name, for a by-name subscriber | inferred from the typed argument |
/// | `kwarg` | a string literal: a by-name subscriber of that one keyword argument, which it takes by type (`fn greet(sender: &SenderKey<'_>, user: &String)`; see `Receiver::kwarg`: read at its field's place where the bag is the struct of a signal with no output that has that field with that type, by name elsewhere, decoded from JSON where it crossed processes); sync only; `disconnect(&greet)` finds it | the whole bag (`&dyn Kwargs`) |
/// | `crate` | a path: where `signals-core` is, for a crate that renames it or reaches it through a re-export | `::signals_core` |
///
/// `namespace` and `signal` go together: with them the function is a by-name subscriber
/// and takes `(&SenderKey<'_>, &dyn Kwargs)`, or `(&SenderKey<'_>, &V)` with `kwarg`;
/// without them it is typed and takes `(&S, &T)` where `T` is a `#[signal]` struct and `S`
/// its sender type.
///
/// ```
/// use signals_core::{subscriber, DynKwargs, Namespace, SenderKey};
///
/// #[subscriber(namespace = "ckanext", signal = "dataset_viewed", kwarg = "id")]
/// fn count_view(_sender: &SenderKey<'_>, id: &String) {
///     assert_eq!(id, "d-1");
/// }
///
/// fn main() -> Result<(), signals_core::Error> {
///     let signal = Namespace::get("ckanext")?.signal("dataset_viewed")?;
///     let report = signal.send(&"web", &DynKwargs::new().with("id", "d-1".to_string()))?;
///     assert!(report.is_ok());
///     assert_eq!(report.receivers_called(), 1);
///     Ok(())
/// }
/// ```
///
/// ```
/// use signals_core::{plugin, plugins, signal, subscriber, Signal};
///
/// #[signal(namespace = "ckan", sender = i64, output = u64)]
/// struct Numbered {
///     value: u64,
/// }
///
/// // Returns a value for a collecting send; listens to sender 7 only; owned by a plugin.
/// #[subscriber(sender = 7, plugin = "doubler")]
/// fn double(_sender: &i64, event: &Numbered) -> u64 {
///     event.value * 2
/// }
///
/// // An error is reported in the send's report, with the function's path.
/// #[subscriber(sender = 13, plugin = "doubler")]
/// fn unlucky(_sender: &i64, _event: &Numbered) -> Result<u64, String> {
///     Err("13 is unlucky".into())
/// }
///
/// fn main() {
///     assert!(Numbered { value: 2 }.sending(&7).collect().run().into_values().is_empty());
///     plugins::load("doubler").unwrap();
///     assert_eq!(Numbered { value: 2 }.sending(&7).collect().run().into_values(), [4]);
///     let failures = Numbered { value: 2 }.sending(&13).collect().run().report.into_failures();
///     assert!(failures[0].to_string().contains("13 is unlucky"));
///     plugins::unload("doubler").unwrap();
/// }
/// ```
///
/// The return type is anything the signal's receivers may return: its `Output`, or a
/// `Result<Output, E>` whose error is reported.
///
/// An **`async fn`** is an async subscriber: `send_async` (and its variants) awaits it, and
/// a sync send reports it as a failure instead of running it. Its future must be `Send`
/// (hold nothing like an `Rc` or a `MutexGuard` across an `.await`), so that an async send can
/// run on any executor:
///
/// ```
/// use signals_core::{signal, subscriber, Signal};
///
/// #[signal(namespace = "ckan")]
/// struct DatasetPublished {
///     id: String,
/// }
///
/// #[subscriber]
/// async fn webhook(_sender: &str, event: &DatasetPublished) -> Result<(), String> {
///     // `.await` a call to another service here.
///     if event.id.is_empty() { Err("no id".into()) } else { Ok(()) }
/// }
///
/// fn main() {
///     let event = DatasetPublished { id: "d-1".into() };
///     let report = futures::executor::block_on(event.send_async("web"));
///     assert!(report.is_ok());
///     assert_eq!(report.receivers_called(), 1);
///     // The function keeps its identity: it can be disconnected by name.
///     assert_eq!(DatasetPublished::signal().named().disconnect(&webhook), 1);
/// }
/// ```
///
/// The function must be a free, non-generic, safe `fn` (or `async fn`) of two reference
/// arguments: not an associated function in an `impl` block (connect a closure that calls
/// it at run time instead). Next to the function the attribute puts a hidden `const`,
/// `__signals_subscriber_<name>`, that holds its registration.
#[proc_macro_attribute]
pub fn subscriber(attr: TokenStream, item: TokenStream) -> TokenStream {
    subscriber::expand(attr.into(), item.into()).into()
}

/// Registers a plugin: a type that owns subscribers, made with `Default` when it loads.
///
/// The type implements `signals_core::plugins::Plugin`; its `subscriptions` method may make
/// more subscriptions in code. `plugins::load("name")` connects the plugin's
/// `#[subscriber(plugin = "name")]` functions and those subscriptions; `plugins::unload`
/// disconnects exactly them.
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, signal, Signal};
///
/// #[signal(namespace = "ckan")]
/// struct UserCreated {
///     user: String,
/// }
///
/// /// Records activity.
/// #[plugin(name = "activity")]
/// #[derive(Default)]
/// struct Activity;
///
/// impl Plugin for Activity {
///     fn subscriptions(&self, subscriptions: &mut Subscriptions) {
///         subscriptions.connect(UserCreated::signal(), |_: &str, event: &UserCreated| {
///             println!("activity: {} created", event.user);
///         });
///     }
/// }
///
/// fn main() {
///     plugins::load("activity").unwrap();
///     let report = UserCreated { user: "alice".into() }.send("web");
///     assert_eq!(report.receivers_called(), 1);
///     plugins::unload("activity").unwrap();
///     let registry = signals_core::registry();
///     assert_eq!(registry.plugin("activity").unwrap().declaration.unwrap().docs(), "Records activity.");
/// }
/// ```
///
/// # Keys
///
/// | key | value | default |
/// | --- | --- | --- |
/// | `name` | a string literal: the name `plugins::load` takes (CKAN's `ckan.plugins` entry) | the type's name in snake_case (`ActivityStream` → `activity_stream`) |
/// | `crate` | a path: where `signals-core` is, for a crate that renames it or reaches it through a re-export | `::signals_core` |
///
/// The attribute goes on a struct without generic or lifetime parameters.
#[proc_macro_attribute]
pub fn plugin(attr: TokenStream, item: TokenStream) -> TokenStream {
    plugin::expand(attr.into(), item.into()).into()
}

/// The keyword that says what `item` is (`enum`, `fn`, ...), for errors about the item kind.
fn item_span(item: &Item) -> Span {
    match item {
        Item::Enum(i) => i.enum_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Struct(i) => i.struct_token.span,
        Item::Fn(i) => i.sig.fn_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::Type(i) => i.type_token.span,
        Item::Const(i) => i.const_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Mod(i) => i.mod_token.span,
        Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}

/// What `item` is, in words.
fn item_kind(item: &Item) -> &'static str {
    match item {
        Item::Enum(_) => "an enum",
        Item::Union(_) => "a union",
        Item::Struct(_) => "a struct",
        Item::Fn(_) => "a function",
        Item::Impl(_) => "an impl block",
        Item::Trait(_) => "a trait",
        Item::Type(_) => "a type alias",
        Item::Const(_) => "a const",
        Item::Static(_) => "a static",
        Item::Mod(_) => "a module",
        _ => "this item",
    }
}
