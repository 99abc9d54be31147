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
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens to `sender` only.
    pub fn sender<S: Sender + ?Sized>(mut self, sender: &S) -> Self {
        self.filter = Some(SenderFilter::only(sender));
        self
    }

    /// Listens to the senders `filter` selects.
    pub fn filter_by(mut self, filter: SenderFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Identifies the receiver by `key`: connecting again with the same key and sender gives
    /// the same connection, and `disconnect_receiver(ReceiverId::key(..))` removes it.
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

    /// The name shown in listings and failure reports (default: the function's path).
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Marks the connection as owned by `plugin`.
    pub fn plugin(mut self, plugin: impl Into<Cow<'static, str>>) -> Self {
        self.plugin = Some(plugin.into());
        self
    }

    /// The source location shown for the receiver (default: where `connect` was called).
    pub fn location(mut self, location: SourceLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// The sender filter these options select.
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
    /// whether it was connected. No send that starts after this returns calls it.
    pub fn disconnect(self) -> bool {
        self.core.disconnect_where(|r| r.seq == self.seq) > 0
    }

    /// Whether the connection still exists (blocked connections exist).
    pub fn is_connected(&self) -> bool {
        self.core.is_connected(self.seq)
    }

    /// Whether this connect call made the connection, rather than finding the same receiver
    /// already connected for the same senders.
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// Blocks the connection until the guard is dropped: sends skip it. Blocks nest.
    pub fn block(&self) -> BlockGuard {
        let held = self.core.adjust_block(self.seq, 1);
        BlockGuard {
            connection: *self,
            held,
        }
    }

    /// The receiver's description, while connected.
    pub fn receiver(&self) -> Option<Arc<ReceiverInfo>> {
        self.core.info_of(self.seq)
    }

    /// The signal this connection belongs to.
    pub fn signal(&self) -> NamedSignal {
        NamedSignal::from_core(self.core)
    }

    /// A handle that disconnects when dropped, if this call made the connection. A scoped
    /// connection of a receiver that was already connected leaves it connected: the state
    /// after the scope is exactly the state before.
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

/// A connection that is undone when this handle is dropped.
#[derive(Debug)]
#[must_use = "a scoped connection disconnects as soon as it is dropped"]
pub struct ScopedConnection {
    connection: Connection,
}

impl ScopedConnection {
    /// The connection.
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// Keeps the connection for good.
    pub fn release(self) -> Connection {
        let connection = self.connection;
        std::mem::forget(self);
        connection
    }
}

impl Drop for ScopedConnection {
    fn drop(&mut self) {
        if self.connection.new {
            self.connection.disconnect();
        }
    }
}

/// Keeps one connection blocked while it lives.
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

/// Keeps a signal muted while it lives: sends call no receiver. Mutes nest.
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
