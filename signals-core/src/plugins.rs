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

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};

use crate::connect::{IntoReceiver, SignalHandle};
use crate::connection::Connection;
use crate::error::Error;
use crate::kwargs::Kwargs;
use crate::name::{check_name, NameKind};
use crate::receiver::SourceLocation;
use crate::registry::{registry, PluginEntry};

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
    /// Makes the plugin's subscriptions in code; called on every load, on a fresh value made
    /// with `Default` (state kept in `self` does not survive an unload).
    ///
    /// ```
    /// use signals_core::plugins::{self, Plugin, Subscriptions};
    /// use signals_core::{plugin, signal, Signal};
    ///
    /// #[signal(namespace = "doc_plugin_subscriptions")]
    /// struct Saved { id: u32 }
    ///
    /// #[plugin(name = "doc_plugin_subscriptions")]
    /// #[derive(Default)]
    /// struct Audit;
    ///
    /// impl Plugin for Audit {
    ///     fn subscriptions(&self, s: &mut Subscriptions) {
    ///         s.connect(Saved::signal(), |_: &str, _: &Saved| {});
    ///     }
    /// }
    ///
    /// let _guard = plugins::use_plugin("doc_plugin_subscriptions")?;
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
    /// # Ok::<(), signals_core::plugins::PluginError>(())
    /// ```
    fn subscriptions(&self, subscriptions: &mut Subscriptions) {
        let _ = subscriptions;
    }
}

/// The subscriptions a plugin makes while it loads. Every connection made here belongs to the
/// plugin and is undone when it unloads. A subscription that finds the same receiver already
/// connected (same identity, sender and plugin) is not the load's own, and unloading leaves it.
/// A by-name subscription whose name is invalid makes the load fail, undoing the others.
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, signal, Kwargs, Receiver, SenderKey, Signal};
///
/// #[signal(namespace = "doc_subscriptions")]
/// struct Saved { id: u32 }
///
/// #[plugin(name = "doc_subscriptions")]
/// #[derive(Default)]
/// struct Audit;
///
/// impl Plugin for Audit {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         s.connect(Saved::signal(), |_: &str, _: &Saved| {})
///             .connect(Saved::signal(), Receiver::new(|_: &str, _: &Saved| {}).sender("dataset"))
///             .connect_by_name("doc_subscriptions", "deleted", |_: &SenderKey<'_>, _: &dyn Kwargs| {});
///     }
/// }
///
/// plugins::load("doc_subscriptions")?;
/// assert_eq!(Saved { id: 1 }.send("dataset").receivers_called(), 2);
/// plugins::unload("doc_subscriptions")?;
/// assert_eq!(Saved { id: 1 }.send("dataset").receivers_called(), 0);
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
#[derive(Debug)]
pub struct Subscriptions {
    plugin: &'static str,
    made: Vec<Connection>,
    /// Each subscription that failed: where it was made, and why.
    errors: Vec<(SourceLocation, Error)>,
}

impl Subscriptions {
    fn keep(&mut self, connection: Connection) -> &mut Self {
        // A connection the plugin did not make (another owner's, found again) is not its to
        // undo on unload.
        if connection.is_new() {
            self.made.push(connection);
        }
        self
    }

    /// The name of the plugin these subscriptions belong to.
    pub fn plugin(&self) -> &'static str {
        self.plugin
    }

    /// Connects `receiver` to `signal` (a typed or a by-name handle) on behalf of the plugin,
    /// as the handle's own `connect` does: a function or closure as it is, or a
    /// [`Receiver`](crate::Receiver) for one sender, async, weak, a key or a name. The
    /// connection is the plugin's: listings show it, and unloading the plugin undoes it.
    #[track_caller]
    pub fn connect<H, M>(&mut self, signal: H, receiver: impl IntoReceiver<H::Kind, M>) -> &mut Self
    where
        H: SignalHandle,
    {
        let at = SourceLocation::caller();
        let connection = receiver
            .lower()
            .on_behalf_of(self.plugin, at)
            .connect(signal.named().core(), at);
        self.keep(connection)
    }

    /// Connects `receiver` to the signal `namespace.name` by name, as
    /// [`connect`](Self::connect) does; the plugin need not depend on the crate that declares
    /// it. An invalid name is reported when the plugin loads (the load then fails and undoes
    /// what it made).
    #[track_caller]
    pub fn connect_by_name<M>(
        &mut self,
        namespace: &str,
        name: &str,
        receiver: impl IntoReceiver<dyn Kwargs, M>,
    ) -> &mut Self {
        let at = SourceLocation::caller();
        match crate::Namespace::get(namespace).and_then(|ns| ns.signal(name)) {
            Ok(signal) => {
                let connection = receiver
                    .lower()
                    .on_behalf_of(self.plugin, at)
                    .connect(signal.core(), at);
                self.keep(connection)
            }
            Err(error) => {
                self.errors.push((at, error));
                self
            }
        }
    }
}

/// An error from loading or unloading a plugin. Non-exhaustive: match it with a wildcard arm.
///
/// ```
/// use signals_core::plugins::{self, PluginError};
///
/// assert!(matches!(plugins::load("doc_missing"), Err(PluginError::Unknown { .. })));
/// assert!(matches!(plugins::unload("doc_missing"), Err(PluginError::NotLoaded { .. })));
/// assert!(matches!(plugins::load("no way"), Err(PluginError::InvalidName(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// No linked crate declares the plugin.
    #[error(
        "no plugin named `{name}` is linked into this binary{hint}; linked plugins: {linked}. \
         If `{name}` lives in another crate, add that crate as a dependency and write \
         `signals_core::link!(that_crate);` once in the host"
    )]
    Unknown {
        /// The requested name.
        name: String,
        /// The plugins that are linked, comma-separated (or `(none)`).
        linked: String,
        /// `"; did you mean ..."` when a linked plugin's name is close, or empty.
        hint: String,
    },
    /// The plugin is loaded already.
    #[error("plugin `{name}` is already loaded; unload it first, or load it only once")]
    AlreadyLoaded {
        /// The plugin's name.
        name: String,
    },
    /// The plugin is being loaded now: by another thread (a second `load` is refused), or by
    /// this one, whose plugin code cannot `unload` the plugin it is still loading.
    #[error(
        "plugin `{name}` is being loaded (by another thread, or by the plugin's own code on \
         this one); load or unload it once that load has returned"
    )]
    Loading {
        /// The plugin's name.
        name: String,
    },
    /// This thread is unloading the plugin (a receiver's `Drop` run by that unload called
    /// `load`): it cannot wait for itself. Another thread's `load` waits for the unload instead.
    #[error(
        "plugin `{name}` is being unloaded by this thread (code run by its unload tried to \
         load it again); load it once that unload has returned"
    )]
    Unloading {
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
    #[error(
        "plugin `{name}` could not subscribe at {at}: {error}{}; it was not loaded",
        and_more(*.more)
    )]
    Subscription {
        /// The plugin's name.
        name: String,
        /// The first error.
        error: Error,
        /// Where the failed subscription was made (the `#[subscriber]` function, or the
        /// call in [`Plugin::subscriptions`]).
        at: SourceLocation,
        /// How many more failed.
        more: usize,
    },
    /// The name breaks the naming rules.
    #[error(transparent)]
    InvalidName(Error),
}

/// Where a plugin's record is in its life. Every change of state happens under the `LOADED`
/// lock; no plugin code (constructors, `subscriptions`, receivers' `Drop`) runs under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A load on this thread is making the subscriptions. The record reserves the plugin's
    /// place: another `load` is refused, and an `unload` on another thread waits.
    Loading(ThreadId),
    /// Loaded: the record holds its connections.
    Loaded,
    /// An unload on this thread (or a failed load undoing itself) is disconnecting the
    /// connections; the record goes once they are all gone. Until then a `load` or `unload`
    /// of the plugin on another thread waits, so that a load never finds the old connections
    /// still connected (it would not own them, and the unload would then take them away).
    Unloading(ThreadId),
}

struct Loaded {
    name: &'static str,
    /// Which load this is: unique for the process, so a [`PluginGuard`] can tell its own load
    /// from a later load of the same plugin.
    id: u64,
    /// The load's connections, once it is [`State::Loaded`].
    connections: Vec<Connection>,
    state: State,
}

impl Loaded {
    /// Starts unloading this loaded record on `thread`: marks it and takes its connections,
    /// for [`finish_unload`] to disconnect once the list is released.
    fn start_unload(&mut self, thread: ThreadId) -> (u64, Vec<Connection>) {
        self.state = State::Unloading(thread);
        (self.id, std::mem::take(&mut self.connections))
    }
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// Notified whenever a record leaves [`State::Loading`] or [`State::Unloading`].
static CHANGED: Condvar = Condvar::new();

/// The id of the next load.
static NEXT_LOAD_ID: AtomicU64 = AtomicU64::new(1);

fn loaded_list() -> MutexGuard<'static, Vec<Loaded>> {
    LOADED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Releases the list until a load or unload in progress ends, and takes it again.
fn wait_for_change(list: MutexGuard<'static, Vec<Loaded>>) -> MutexGuard<'static, Vec<Loaded>> {
    CHANGED.wait(list).unwrap_or_else(PoisonError::into_inner)
}

/// The loaded plugins' names, comma-separated, for [`PluginError::NotLoaded`].
fn loaded_names(list: &[Loaded]) -> String {
    join_or_none(
        list.iter()
            .filter(|l| l.state == State::Loaded)
            .map(|l| l.name),
    )
}

/// Ends the unload of the record `id`, which this thread marked [`State::Unloading`]:
/// disconnects `connections` with the list released (a receiver's `Drop` may use plugins),
/// then removes the record and wakes the threads waiting for it. A panic from a receiver's
/// `Drop` does not stop the rest: the record goes all the same, and the first panic then goes
/// on to the caller.
fn finish_unload(id: u64, connections: Vec<Connection>) {
    let mut panic = None;
    for connection in connections {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| connection.disconnect())) {
            panic.get_or_insert(payload);
        }
    }
    loaded_list().retain(|l| l.id != id);
    CHANGED.notify_all();
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let joined: Vec<&str> = names.collect();
    if joined.is_empty() {
        "(none)".to_owned()
    } else {
        joined.join(", ")
    }
}

/// Loads the plugin `name`: connects its subscribers and its subscriptions in code. The plugin
/// must be linked into the binary (see [`link!`](crate::link)); loading it twice is an error.
/// If a subscription fails, the load is undone and the plugin is not loaded. If the plugin's
/// code panics (its `Default`, its [`Plugin::subscriptions`]), the load is undone too, and the
/// panic then goes on to the caller. The plugin counts as loaded once `load` returns: while
/// it runs, [`is_loaded`] says `false`, another `load` of it is [`PluginError::Loading`], and
/// an [`unload`] on another thread waits for the load to end, then unloads it (as if it came
/// just after). A `load` that starts while another thread is unloading the plugin waits until
/// that unload has disconnected everything, then loads it: every load that succeeds has all
/// its subscriptions. Loads and unloads of one plugin are linearizable: each takes effect at
/// one moment between its call and its return. (Code run by this thread's own unload of the
/// plugin, a receiver's `Drop`, cannot wait for it: its `load` is [`PluginError::Unloading`].)
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, signal, Signal};
///
/// #[signal(namespace = "doc_plugins_load")]
/// struct Saved { id: u32 }
///
/// #[plugin(name = "doc_plugins_load")]
/// #[derive(Default)]
/// struct Audit;
///
/// impl Plugin for Audit {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         s.connect(Saved::signal(), |_: &str, _: &Saved| {});
///     }
/// }
///
/// plugins::load("doc_plugins_load")?;
/// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
/// assert!(matches!(
///     plugins::load("doc_plugins_load"),
///     Err(plugins::PluginError::AlreadyLoaded { .. })
/// ));
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
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
            hint: crate::suggest::hint(name, registry.plugins().iter().map(|p| p.name)),
        });
    };
    let id = reserve(entry.name)?;
    let mut subscriptions = Subscriptions {
        plugin: entry.name,
        made: Vec::new(),
        errors: Vec::new(),
    };
    // The plugin's own code runs here (its `Default`, its `subscriptions`, the receivers'
    // `Drop` when a connect fails): if it panics, the load is undone before the panic goes on.
    let connected = catch_unwind(AssertUnwindSafe(|| subscribe(entry, &mut subscriptions)));
    let more = subscriptions.errors.len().saturating_sub(1);
    let failure = subscriptions.errors.into_iter().next();
    settle(
        id,
        failure.is_none() && connected.is_ok(),
        subscriptions.made,
    );
    if let Err(panic) = connected {
        resume_unwind(panic);
    }
    match failure {
        Some((at, error)) => Err(PluginError::Subscription {
            name: name.to_owned(),
            error,
            at,
            more,
        }),
        None => Ok(id),
    }
}

/// Reserves the plugin's place before anything is connected, so that two threads loading the
/// same plugin cannot both connect (the second would find the first one's connections and
/// own none of them). Waits while another thread is unloading the plugin, for the same reason.
/// Returns the id of this load.
fn reserve(name: &'static str) -> Result<u64, PluginError> {
    let me = thread::current().id();
    let mut loaded = loaded_list();
    while let Some(state) = loaded.iter().find(|l| l.name == name).map(|l| l.state) {
        let name = name.to_owned();
        match state {
            State::Loaded => return Err(PluginError::AlreadyLoaded { name }),
            State::Loading(_) => return Err(PluginError::Loading { name }),
            // Code run by this thread's own unload: waiting would never end.
            State::Unloading(thread) if thread == me => {
                return Err(PluginError::Unloading { name })
            }
            State::Unloading(_) => loaded = wait_for_change(loaded),
        }
    }
    let id = NEXT_LOAD_ID.fetch_add(1, Ordering::Relaxed);
    loaded.push(Loaded {
        name,
        id,
        connections: Vec::new(),
        state: State::Loading(me),
    });
    Ok(id)
}

/// Makes the plugin's subscriptions: its link-time subscribers, then those its `Plugin`
/// impl makes in code.
fn subscribe(entry: &PluginEntry, subscriptions: &mut Subscriptions) {
    for subscriber in registry()
        .subscribers()
        .iter()
        .filter(|s| s.plugin == Some(entry.name))
    {
        match (subscriber.connect)(subscriber.options()) {
            Ok(connection) => {
                subscriptions.keep(connection);
            }
            Err(error) => subscriptions.errors.push((subscriber.location, error)),
        }
    }
    if let Some(declaration) = entry.declaration {
        (declaration.create)().subscriptions(subscriptions);
    }
}

/// Ends the load `id`: hands its connections to the plugin's record when it `succeeded` (the
/// plugin is loaded from here on, and unloads waiting for the load go on); otherwise undoes
/// them as an unload does, keeping the reservation until they are all disconnected.
fn settle(id: u64, succeeded: bool, made: Vec<Connection>) {
    let mut loaded = loaded_list();
    // Only this load removes its reservation: it is still there.
    if let Some(entry) = loaded.iter_mut().find(|l| l.id == id) {
        if succeeded {
            entry.state = State::Loaded;
            entry.connections = made;
            drop(loaded);
            CHANGED.notify_all();
            return;
        }
        // Failed or panicked.
        entry.state = State::Unloading(thread::current().id());
    }
    drop(loaded);
    finish_unload(id, made);
}

/// Unloads the plugin `name`: disconnects exactly the connections its load made, and returns
/// once they are all disconnected. While another thread is loading it, the unload waits for
/// that load to end, then unloads what it loaded (or is [`PluginError::NotLoaded`] if the load
/// failed); while another thread is unloading it, it waits for that unload and is
/// `NotLoaded`. The plugin's own code inside this thread's load of it gets
/// [`PluginError::Loading`] (it cannot wait for itself).
///
/// A name that breaks the naming rules is [`PluginError::InvalidName`], as in [`load`]. A
/// receiver the plugin connected is still called by sends already running on other threads.
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, signal, Signal};
///
/// #[signal(namespace = "doc_plugins_unload")]
/// struct Saved { id: u32 }
///
/// #[plugin(name = "doc_plugins_unload")]
/// #[derive(Default)]
/// struct Audit;
///
/// impl Plugin for Audit {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         s.connect(Saved::signal(), |_: &str, _: &Saved| {});
///     }
/// }
///
/// plugins::load("doc_plugins_unload")?;
/// plugins::unload("doc_plugins_unload")?;
/// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 0);
/// assert!(plugins::unload("doc_plugins_unload").is_err()); // not loaded any more
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
pub fn unload(name: &str) -> Result<(), PluginError> {
    check_plugin_name(name)?;
    let me = thread::current().id();
    let mut loaded = loaded_list();
    loop {
        let found = loaded.iter().position(|l| l.name == name);
        match found.map(|index| (index, loaded[index].state)) {
            Some((index, State::Loaded)) => {
                let (id, connections) = loaded[index].start_unload(me);
                drop(loaded);
                finish_unload(id, connections);
                return Ok(());
            }
            // The plugin's own code, inside this thread's load of it: waiting would never end.
            Some((_, State::Loading(thread))) if thread == me => {
                return Err(PluginError::Loading {
                    name: name.to_owned(),
                })
            }
            // Code run by this thread's own unload of it: that unload goes on.
            Some((_, State::Unloading(thread))) if thread == me => break,
            // Another thread is loading or unloading it: its outcome decides (a load that
            // succeeds is then unloaded here, as if this unload came just after it).
            Some(_) => loaded = wait_for_change(loaded),
            None => break,
        }
    }
    Err(PluginError::NotLoaded {
        name: name.to_owned(),
        loaded: loaded_names(&loaded),
    })
}

/// Unloads the plugin `name` if its current load is the load `id` and it is loaded; else does
/// nothing.
fn unload_load(name: &str, id: u64) {
    let mut loaded = loaded_list();
    let Some(entry) = loaded
        .iter_mut()
        .find(|l| l.name == name && l.id == id && l.state == State::Loaded)
    else {
        return;
    };
    let (id, connections) = entry.start_unload(thread::current().id());
    drop(loaded);
    finish_unload(id, connections);
}

/// Unloads every plugin, the last loaded first. Process-wide: it unloads plugins other code
/// loaded too, and a [`PluginGuard`] alive then finds nothing left to undo. Loads and unloads
/// in progress on other threads when it starts are waited for, so every plugin loaded or
/// being loaded then is unloaded when it returns (a load that starts later may stay); a load
/// in progress on this thread (plugin code calling `unload_all`) is left to finish.
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, signal, Signal};
///
/// #[signal(namespace = "doc_plugins_unload_all")]
/// struct Saved { id: u32 }
///
/// #[plugin(name = "doc_plugins_unload_all")]
/// #[derive(Default)]
/// struct Audit;
///
/// impl Plugin for Audit {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         s.connect(Saved::signal(), |_: &str, _: &Saved| {});
///     }
/// }
///
/// plugins::load("doc_plugins_unload_all")?;
/// plugins::unload_all();
/// assert!(plugins::loaded().is_empty());
/// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 0);
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
pub fn unload_all() {
    let me = thread::current().id();
    let mut loaded = loaded_list();
    // Loads and unloads other threads have in progress now are waited for, so that every
    // plugin loaded or being loaded when this starts is unloaded when it returns.
    let pending: Vec<u64> = loaded
        .iter()
        .filter(|l| matches!(l.state, State::Loading(t) | State::Unloading(t) if t != me))
        .map(|l| l.id)
        .collect();
    while loaded
        .iter()
        .any(|l| l.state != State::Loaded && pending.contains(&l.id))
    {
        loaded = wait_for_change(loaded);
    }
    let all: Vec<(u64, Vec<Connection>)> = loaded
        .iter_mut()
        .filter(|l| l.state == State::Loaded)
        .map(|l| l.start_unload(me))
        .collect();
    drop(loaded);
    // Every record marked here must go, even if a receiver's `Drop` panics.
    let mut panic = None;
    for (id, connections) in all.into_iter().rev() {
        if let Err(payload) = catch_unwind(|| finish_unload(id, connections)) {
            panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// The loaded plugins, in load order. A snapshot: another thread may load or unload one
/// right after.
///
/// ```
/// use signals_core::plugin;
/// use signals_core::plugins::{self, Plugin};
///
/// #[plugin(name = "doc_plugins_loaded_b")]
/// #[derive(Default)]
/// struct B;
/// impl Plugin for B {}
///
/// #[plugin(name = "doc_plugins_loaded_a")]
/// #[derive(Default)]
/// struct A;
/// impl Plugin for A {}
///
/// plugins::load("doc_plugins_loaded_b")?;
/// plugins::load("doc_plugins_loaded_a")?;
/// assert_eq!(plugins::loaded(), ["doc_plugins_loaded_b", "doc_plugins_loaded_a"]);
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
pub fn loaded() -> Vec<&'static str> {
    loaded_list()
        .iter()
        .filter(|l| l.state == State::Loaded)
        .map(|l| l.name)
        .collect()
}

/// Whether the plugin `name` is loaded (`false` for a name no linked plugin has).
///
/// ```
/// use signals_core::plugin;
/// use signals_core::plugins::{self, Plugin};
///
/// #[plugin(name = "doc_plugins_is_loaded")]
/// #[derive(Default)]
/// struct Audit;
/// impl Plugin for Audit {}
///
/// assert!(!plugins::is_loaded("doc_plugins_is_loaded"));
/// plugins::load("doc_plugins_is_loaded")?;
/// assert!(plugins::is_loaded("doc_plugins_is_loaded"));
/// assert!(!plugins::is_loaded("doc_missing"));
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
pub fn is_loaded(name: &str) -> bool {
    loaded_list()
        .iter()
        .any(|l| l.state == State::Loaded && l.name == name)
}

/// Loads `name` until the guard is dropped (CKAN's `with plugins.use_plugin(...)`).
///
/// The guard undoes only its own load: if the plugin is unloaded inside the scope and then
/// loaded again, dropping the guard leaves that later load alone.
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, signal, Signal};
///
/// #[signal(namespace = "doc_plugins_use_plugin")]
/// struct Saved { id: u32 }
///
/// #[plugin(name = "doc_plugins_use_plugin")]
/// #[derive(Default)]
/// struct Audit;
///
/// impl Plugin for Audit {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         s.connect(Saved::signal(), |_: &str, _: &Saved| {});
///     }
/// }
///
/// {
///     let _guard = plugins::use_plugin("doc_plugins_use_plugin")?;
///     assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
/// }
/// assert!(!plugins::is_loaded("doc_plugins_use_plugin"));
/// assert!(plugins::use_plugin("doc_missing").is_err());
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
pub fn use_plugin(name: &str) -> Result<PluginGuard, PluginError> {
    let id = load_with_id(name)?;
    Ok(PluginGuard {
        name: name.to_owned(),
        id,
        kept: false,
    })
}

/// Unloads its plugin when dropped, if the load it made is still the plugin's current load.
///
/// ```
/// use signals_core::plugin;
/// use signals_core::plugins::{self, Plugin};
///
/// #[plugin(name = "doc_plugin_guard")]
/// #[derive(Default)]
/// struct Audit;
/// impl Plugin for Audit {}
///
/// let guard = plugins::use_plugin("doc_plugin_guard")?;
/// plugins::unload("doc_plugin_guard")?;
/// plugins::load("doc_plugin_guard")?; // a later load, not the guard's
/// drop(guard);
/// assert!(plugins::is_loaded("doc_plugin_guard"));
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
#[derive(Debug)]
#[must_use = "the plugin is unloaded as soon as the guard is dropped"]
pub struct PluginGuard {
    name: String,
    /// The id of the load the guard made.
    id: u64,
    /// Set by [`keep`](Self::keep): the drop leaves the plugin loaded.
    kept: bool,
}

impl PluginGuard {
    /// Keeps the plugin loaded: dropping the guard no longer unloads it (a start-up that
    /// loads several plugins keeps them all once the last one loaded).
    ///
    /// ```
    /// use signals_core::plugin;
    /// use signals_core::plugins::{self, Plugin};
    ///
    /// #[plugin(name = "doc_plugin_guard_keep")]
    /// #[derive(Default)]
    /// struct Audit;
    /// impl Plugin for Audit {}
    ///
    /// plugins::use_plugin("doc_plugin_guard_keep")?.keep();
    /// assert!(plugins::is_loaded("doc_plugin_guard_keep"));
    /// # Ok::<(), signals_core::plugins::PluginError>(())
    /// ```
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for PluginGuard {
    fn drop(&mut self) {
        // It may have been unloaded by hand inside the scope, and perhaps loaded again by
        // someone else: then there is nothing of ours to undo.
        if !self.kept {
            unload_load(&self.name, self.id);
        }
    }
}

/// ` (and N more)` after the first failed subscription, when there are more.
fn and_more(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more)".to_owned(),
        n => format!(" (and {n} more)"),
    }
}
