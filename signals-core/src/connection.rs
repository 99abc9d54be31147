//! Connections: the options a receiver is connected with, and the handles that undo it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::core::{unique_receiver_id, Alive, AsyncRecordFn, RecordFn, SignalCore};
use crate::named::NamedSignal;
use crate::receiver::{ReceiverId, ReceiverInfo, SourceLocation};
use crate::sender::{Sender, SenderFilter};

/// How to connect a receiver: which senders, which identity, which name, which plugin.
///
/// ```
/// use signals_core::{ConnectOptions, SenderFilter, SenderKey};
///
/// let options = ConnectOptions::new().sender("dataset").key("audit-dataset").plugin("audit");
/// assert_eq!(options.filter(), &SenderFilter::Only(SenderKey::from("dataset")));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    filter: Option<SenderFilter>,
    id: Option<ReceiverId>,
    name: Option<Cow<'static, str>>,
    plugin: Option<Cow<'static, str>>,
    location: Option<SourceLocation>,
}

impl ConnectOptions {
    /// Every sender, identity from the function, name from its type, no plugin.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, SenderFilter};
    ///
    /// assert_eq!(ConnectOptions::new().filter(), &SenderFilter::Any);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens to `sender` only.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_options_sender")?.signal("saved")?;
    /// let _c = signal.connect_with(ConnectOptions::new().sender("a"), |_, _| {}).scoped();
    /// assert_eq!(signal.send(&"a", &DynKwargs::new())?.receivers_called(), 1);
    /// assert_eq!(signal.send(&"b", &DynKwargs::new())?.receivers_called(), 0);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn sender<S: Sender + ?Sized>(mut self, sender: &S) -> Self {
        self.filter = Some(SenderFilter::only(sender));
        self
    }

    /// Listens to the senders `filter` selects.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, SenderFilter};
    ///
    /// let options = ConnectOptions::new().sender("a").filter_by(SenderFilter::Any);
    /// assert_eq!(options.filter(), &SenderFilter::Any);
    /// ```
    pub fn filter_by(mut self, filter: SenderFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Identifies the receiver by `key`: connecting again with the same key and sender gives
    /// the same connection, and `disconnect_receiver(ReceiverId::key(..))` removes it.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace, ReceiverId};
    ///
    /// let signal = Namespace::get("doc_options_key")?.signal("saved")?;
    /// let n = 1;
    /// let first = signal.connect_with(ConnectOptions::new().key("audit"), move |_, _| {
    ///     let _n = n;
    /// });
    /// let again = signal.connect_with(ConnectOptions::new().key("audit"), move |_, _| {
    ///     let _n = n;
    /// });
    /// assert!(first.is_new() && !again.is_new());
    /// assert_eq!(first, again);
    /// assert_eq!(signal.disconnect_receiver(ReceiverId::key("audit")), 1);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn key(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        self.id = Some(ReceiverId::Key(key.into()));
        self
    }

    /// Identifies the receiver by `id`, as [`key`](Self::key) does with a key. An async
    /// receiver is connected through a closure that calls the function, so it has the
    /// closure's identity: give it the function's, and `disconnect(&f)` finds it.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, ReceiverId};
    ///
    /// async fn notify() {}
    /// let options = ConnectOptions::new().identity(ReceiverId::of(&notify).unwrap());
    /// # let _ = options;
    /// ```
    pub fn identity(mut self, id: ReceiverId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the identity only when none was chosen (for the macros' generated code).
    pub(crate) fn identity_or(mut self, id: Option<ReceiverId>) -> Self {
        if self.id.is_none() {
            self.id = id;
        }
        self
    }

    /// The name shown in listings and failure reports (default: the function's path; a
    /// closure's is its compiler-given type name, which is not stable across builds).
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_options_name")?.signal("saved")?;
    /// let c = signal.connect_with(ConnectOptions::new().name("audit"), |_, _| {});
    /// assert_eq!(c.receiver().unwrap().name, "audit");
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Marks the connection as owned by `plugin`. This is a label only: it is shown in
    /// listings and reports, and [`plugins::unload`](crate::plugins::unload) does not
    /// disconnect a connection made this way by hand.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_options_plugin")?.signal("saved")?;
    /// let c = signal.connect_with(ConnectOptions::new().plugin("audit"), |_, _| {});
    /// assert_eq!(c.receiver().unwrap().plugin.as_deref(), Some("audit"));
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn plugin(mut self, plugin: impl Into<Cow<'static, str>>) -> Self {
        self.plugin = Some(plugin.into());
        self
    }

    /// The source location shown for the receiver (default: where `connect` was called).
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace, SourceLocation};
    ///
    /// let signal = Namespace::get("doc_options_location")?.signal("saved")?;
    /// let at = SourceLocation { file: "audit.rs", line: 3, column: 1 };
    /// let c = signal.connect_with(ConnectOptions::new().location(at), |_, _| {});
    /// assert_eq!(c.receiver().unwrap().location, at);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn location(mut self, location: SourceLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// The sender filter these options select ([`SenderFilter::Any`] unless one was set).
    ///
    /// ```
    /// use signals_core::{ConnectOptions, SenderFilter};
    ///
    /// assert_eq!(ConnectOptions::new().sender("a").filter(), &SenderFilter::only("a"));
    /// ```
    pub fn filter(&self) -> &SenderFilter {
        self.filter.as_ref().unwrap_or(&SenderFilter::Any)
    }
}

/// What a connect call knows about the receiver it is given.
pub(crate) struct ReceiverParts {
    pub(crate) identity: Option<ReceiverId>,
    pub(crate) type_name: &'static str,
    pub(crate) caller: SourceLocation,
    pub(crate) func: RecordFn,
    pub(crate) async_func: Option<AsyncRecordFn>,
    pub(crate) alive: Option<Alive>,
}

/// The liveness probe of a receiver bound weakly to the target `weak` points to.
pub(crate) fn alive_while<X: Send + Sync + 'static>(weak: std::sync::Weak<X>) -> Alive {
    Arc::new(move || weak.strong_count() > 0)
}

pub(crate) fn connect_parts(
    core: &'static SignalCore,
    options: ConnectOptions,
    parts: ReceiverParts,
) -> Connection {
    let id = match options.id {
        Some(id) => id,
        None => parts.identity.unwrap_or_else(unique_receiver_id),
    };
    let info = ReceiverInfo {
        name: options.name.unwrap_or(Cow::Borrowed(parts.type_name)),
        location: options.location.unwrap_or(parts.caller),
        plugin: options.plugin,
        id,
        weak: parts.alive.is_some(),
        is_async: parts.async_func.is_some(),
    };
    let filter = options.filter.unwrap_or(SenderFilter::Any);
    let (seq, new) = core.connect(filter, info, parts.func, parts.async_func, parts.alive);
    Connection { core, seq, new }
}

/// A handle to one connection. Copy it freely; it does not keep the connection alive (see
/// [`ScopedConnection`] for one that disconnects when dropped).
///
/// ```
/// use signals_core::{DynKwargs, Namespace};
///
/// let signal = Namespace::get("doc_connection")?.signal("ping")?;
/// let connection = signal.connect(|_sender, _kwargs| {});
/// assert!(connection.is_connected());
/// {
///     let _blocked = connection.block();
///     assert!(!signal.has_receivers_for(&"me"));
/// }
/// assert!(signal.has_receivers_for(&"me"));
/// assert!(connection.disconnect());
/// assert!(!connection.is_connected());
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Connection {
    core: &'static SignalCore,
    seq: u64,
    new: bool,
}

impl Connection {
    /// Disconnects this connection (this receiver and this sender filter only). Returns
    /// whether it was connected. No send that starts after this returns calls it; a send
    /// already running on another thread may still call it once.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_connection_disconnect")?.signal("saved")?;
    /// let c = signal.connect(|_, _| {});
    /// assert!(c.disconnect());
    /// assert!(!c.disconnect()); // already gone
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect(self) -> bool {
        self.core.disconnect_where(|r| r.seq == self.seq) > 0
    }

    /// Whether the connection still exists (blocked connections exist). A weak connection
    /// whose target was dropped still exists until a send meets it and disconnects it.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_connection_is_connected")?.signal("saved")?;
    /// let c = signal.connect(|_, _| {});
    /// let _blocked = c.block();
    /// assert!(c.is_connected());
    /// c.disconnect();
    /// assert!(!c.is_connected());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn is_connected(&self) -> bool {
        self.core.is_connected(self.seq)
    }

    /// Whether this connect call made the connection, rather than finding the same receiver
    /// already connected for the same senders.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// fn audit(_: &signals_core::SenderKey<'_>, _: &dyn signals_core::Kwargs) {}
    ///
    /// let signal = Namespace::get("doc_connection_is_new")?.signal("saved")?;
    /// let first = signal.connect(audit);
    /// let again = signal.connect(audit);
    /// assert!(first.is_new());
    /// assert!(!again.is_new());
    /// assert_eq!(first, again);
    /// first.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// Blocks the connection until the guard is dropped: sends skip it. Blocks nest. Blocking
    /// a connection that is gone does nothing.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Namespace};
    ///
    /// let signal = Namespace::get("doc_connection_block")?.signal("saved")?;
    /// let c = signal.connect(|_, _| {});
    /// let outer = c.block();
    /// let inner = c.block();
    /// drop(outer);
    /// assert_eq!(signal.send(&"me", &DynKwargs::new())?.receivers_called(), 0);
    /// drop(inner);
    /// assert_eq!(signal.send(&"me", &DynKwargs::new())?.receivers_called(), 1);
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn block(&self) -> BlockGuard {
        let held = self.core.adjust_block(self.seq, 1);
        BlockGuard {
            connection: *self,
            held,
        }
    }

    /// The receiver's description, while connected; `None` once disconnected.
    ///
    /// ```
    /// use signals_core::{ConnectOptions, Namespace};
    ///
    /// let signal = Namespace::get("doc_connection_receiver")?.signal("saved")?;
    /// let c = signal.connect_with(ConnectOptions::new().name("audit"), |_, _| {});
    /// let info = c.receiver().unwrap();
    /// assert_eq!(info.name, "audit");
    /// assert_eq!(info.location.file, file!());
    /// c.disconnect();
    /// assert!(c.receiver().is_none());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn receiver(&self) -> Option<Arc<ReceiverInfo>> {
        self.core.info_of(self.seq)
    }

    /// The signal this connection belongs to.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_connection_signal")?.signal("saved")?;
    /// let c = signal.connect(|_, _| {});
    /// assert_eq!(c.signal(), signal);
    /// assert_eq!(c.signal().qualified_name(), "doc_connection_signal.saved");
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn signal(&self) -> NamedSignal {
        NamedSignal::from_core(self.core)
    }

    /// A handle that undoes this connect call when dropped. Every connect call that made or
    /// found a connection holds it: a plain one until the connection is disconnected, a scoped
    /// one until its handle drops. The receiver is disconnected when the last scoped holder
    /// drops and no plain one holds it, so a scope of a receiver that was already connected
    /// leaves it connected, and two scopes that overlap (on two threads, say) keep it until
    /// both end. An explicit `disconnect` ends the connection whatever holds it. Scope each
    /// connect call once: a second scope of the same call gives up a claim it does not hold.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// fn audit(_: &signals_core::SenderKey<'_>, _: &dyn signals_core::Kwargs) {}
    ///
    /// let signal = Namespace::get("doc_connection_scoped")?.signal("saved")?;
    /// {
    ///     let _scoped = signal.connect(audit).scoped();
    ///     assert!(signal.has_receivers());
    /// }
    /// assert!(!signal.has_receivers());
    ///
    /// let kept = signal.connect(audit);
    /// drop(signal.connect(audit).scoped()); // found `kept`: leaves it connected
    /// assert!(kept.is_connected());
    /// kept.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn scoped(self) -> ScopedConnection {
        ScopedConnection { connection: self }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("signal", &self.core.qualified)
            .field("seq", &self.seq)
            .field("new", &self.new)
            .finish()
    }
}

impl PartialEq for Connection {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.core, other.core) && self.seq == other.seq
    }
}

impl Eq for Connection {}

/// A connect call that is undone when this handle is dropped: the receiver is disconnected
/// unless another connect call still holds it (see [`Connection::scoped`]).
///
/// ```
/// use signals_core::Namespace;
///
/// let signal = Namespace::get("doc_scoped_connection")?.signal("saved")?;
/// let scoped = signal.connect(|_, _| {}).scoped();
/// let c = scoped.connection();
/// assert!(c.is_connected());
/// drop(scoped);
/// assert!(!c.is_connected());
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a scoped connection disconnects as soon as it is dropped"]
pub struct ScopedConnection {
    connection: Connection,
}

impl ScopedConnection {
    /// The connection (dropping the handle still disconnects it).
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_scoped_connection_connection")?.signal("saved")?;
    /// let scoped = signal.connect(|_, _| {}).scoped();
    /// assert!(scoped.connection().is_new());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// Keeps the connection for good: dropping nothing disconnects it any more.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let signal = Namespace::get("doc_scoped_release")?.signal("saved")?;
    /// let c = signal.connect(|_, _| {}).scoped().release();
    /// assert!(c.is_connected());
    /// c.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn release(self) -> Connection {
        let connection = self.connection;
        std::mem::forget(self);
        connection
    }
}

impl Drop for ScopedConnection {
    fn drop(&mut self) {
        self.connection.core.release(self.connection.seq);
    }
}

/// Keeps one connection blocked while it lives (see [`Connection::block`]).
///
/// ```
/// use signals_core::{DynKwargs, Namespace};
///
/// let signal = Namespace::get("doc_block_guard")?.signal("saved")?;
/// let c = signal.connect(|_, _| {});
/// let guard = c.block();
/// assert!(!signal.has_receivers());
/// drop(guard);
/// assert!(signal.has_receivers());
/// c.disconnect();
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "the block ends as soon as the guard is dropped"]
pub struct BlockGuard {
    connection: Connection,
    held: bool,
}

impl Drop for BlockGuard {
    fn drop(&mut self) {
        if self.held {
            self.connection.core.adjust_block(self.connection.seq, -1);
        }
    }
}

/// Keeps a signal muted while it lives: sends call no receiver. Mutes nest. A mute is
/// process-wide: it silences the signal for every thread, not only the one holding the guard.
///
/// ```
/// use signals_core::{DynKwargs, Namespace};
///
/// let signal = Namespace::get("doc_mute_guard")?.signal("saved")?;
/// let _c = signal.connect(|_, _| {}).scoped();
/// let outer = signal.mute();
/// let inner = signal.mute();
/// drop(outer);
/// assert!(signal.is_muted());
/// assert_eq!(signal.send(&"me", &DynKwargs::new())?.receivers_called(), 0);
/// drop(inner);
/// assert!(!signal.is_muted());
/// assert_eq!(signal.send(&"me", &DynKwargs::new())?.receivers_called(), 1);
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "the signal is unmuted as soon as the guard is dropped"]
pub struct MuteGuard {
    signal: NamedSignal,
}

impl MuteGuard {
    pub(crate) fn new(signal: NamedSignal) -> Self {
        signal.core().adjust_mute(1);
        MuteGuard { signal }
    }
}

impl Drop for MuteGuard {
    fn drop(&mut self) {
        self.signal.core().adjust_mute(-1);
    }
}
