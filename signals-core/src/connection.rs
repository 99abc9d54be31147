//! Connections: the handles that undo a connect, and the guards that block or mute.

use std::fmt;
use std::sync::Arc;

use crate::by_name::handle::NamedSignal;
use crate::engine::signal::SignalCore;
use crate::receiver::ReceiverInfo;

/// A handle to one connection. Copy it freely; it does not keep the connection alive (see
/// [`ScopedConnection`] for one that disconnects when dropped).
///
/// ```
/// use signals_core::{Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_connection")?.signal("ping")?;
/// let connection = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
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
    pub(crate) fn new(core: &'static SignalCore, seq: u64, new: bool) -> Self {
        Connection { core, seq, new }
    }

    /// Disconnects this connection (this receiver and this sender filter only). Returns
    /// whether it was connected. No send that starts after this returns calls it; a send
    /// already running on another thread may still call it once.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_connection_disconnect")?.signal("saved")?;
    /// let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
    /// assert!(c.disconnect());
    /// assert!(!c.disconnect()); // already gone
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn disconnect(self) -> bool {
        self.core.disconnect(self.seq)
    }

    /// Whether the connection still exists (blocked connections exist). A weak connection
    /// whose target was dropped still exists until a send meets it and disconnects it.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_connection_is_connected")?.signal("saved")?;
    /// let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
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
    /// A send that is running when the block comes (a receiver of it blocks a later one, or
    /// another thread does) skips the receiver from then on. Not guaranteed: whether a send
    /// already running calls a receiver unblocked meanwhile (it does when the receiver's
    /// entry is switched back on in place, the usual case; not when the unblock had to build
    /// the list anew, with a receiver filtering on a sender or connected twice). A send that
    /// starts after the unblock calls it.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_connection_block")?.signal("saved")?;
    /// let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
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
    /// use signals_core::{Kwargs, Namespace, Receiver, SenderKey};
    ///
    /// let signal = Namespace::get("doc_connection_receiver")?.signal("saved")?;
    /// let c = signal.connect(Receiver::new(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).name("audit"));
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
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_connection_signal")?.signal("saved")?;
    /// let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
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
/// use signals_core::{Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_scoped_connection")?.signal("saved")?;
/// let scoped = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
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
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_scoped_connection_connection")?.signal("saved")?;
    /// let scoped = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
    /// assert!(scoped.connection().is_new());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// Keeps the connection for good: dropping nothing disconnects it any more.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, SenderKey};
    ///
    /// let signal = Namespace::get("doc_scoped_release")?.signal("saved")?;
    /// let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped().release();
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
/// use signals_core::{Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_block_guard")?.signal("saved")?;
/// let c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {});
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
/// use signals_core::{DynKwargs, Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_mute_guard")?.signal("saved")?;
/// let _c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
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
