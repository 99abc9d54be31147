//! Meta-signals: `receiver_connected` and `receiver_disconnected`, sent for every signal.
//!
//! Both live in the `signals` namespace. Their sender is the qualified name
//! (`namespace.name`) of the signal whose receivers changed, so a subscriber can watch one
//! signal with a sender filter. Failures of their receivers are not reported to anyone.
//!
//! Both are registered in the link-time registry like any `#[signal]`, so the listing shows
//! them as declared by `signals-core`.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::by_name::handle::NamedSignal;
use crate::engine::signal::SignalCore;
use crate::kwargs::{Kwarg, Kwargs};
use crate::receiver::{ReceiverInfo, SourceLocation};
use crate::registry::{KwargDecl, SignalDecl};
use crate::sender::SenderFilter;
use crate::typed::cell::SignalCell;
use crate::typed::signal::Signal;

macro_rules! meta_signal {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $docs:literal) => {
        inventory::submit! {
            SignalDecl {
                namespace: "signals",
                name: $name,
                rust_type: concat!("signals_core::", stringify!($ty)),
                docs: $docs,
                kwargs: &[
                    KwargDecl {
                        name: "signal",
                        type_name: "NamedSignal",
                        docs: "The signal whose receivers changed.",
                    },
                    KwargDecl {
                        name: "receiver",
                        type_name: "Arc<ReceiverInfo>",
                        docs: "The receiver.",
                    },
                    KwargDecl {
                        name: "filter",
                        type_name: "SenderFilter",
                        docs: "The senders it listens (or listened) to.",
                    },
                ],
                sender_type: "str",
                output_type: "()",
                schema: 1,
                codec: || None,
                crate_name: "signals-core",
                location: SourceLocation {
                    file: file!(),
                    line: line!(),
                    column: column!(),
                },
                resolve: <$ty as Signal>::named,
                type_id: <std::any::TypeId>::of::<$ty>,
            }
        }

        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $ty {
            /// The signal whose receivers changed.
            pub signal: NamedSignal,
            /// The receiver.
            pub receiver: Arc<ReceiverInfo>,
            /// The senders it listens (or listened) to.
            pub filter: SenderFilter,
        }

        impl Kwargs for $ty {
            fn kwarg(&self, name: &str) -> Option<Kwarg<'_>> {
                self.kwargs().into_iter().find(|k| k.name == name)
            }
            fn kwargs(&self) -> Vec<Kwarg<'_>> {
                vec![
                    Kwarg::new("signal", &self.signal),
                    Kwarg::new("receiver", &self.receiver),
                    Kwarg::new("filter", &self.filter),
                ]
            }
        }

        impl Signal for $ty {
            type Sender = str;
            type Output = ();
            const NAMESPACE: &'static str = "signals";
            const NAME: &'static str = $name;
            const DOCS: &'static str = $docs;
            fn named() -> NamedSignal {
                static CELL: SignalCell = SignalCell::new();
                CELL.resolve::<Self>()
            }
        }
    };
}

meta_signal!(
    /// Sent after a receiver is connected to any signal; the sender is that signal's
    /// qualified name. As in blinker, it is not sent for receivers of `receiver_connected`
    /// itself, so a watcher is not told of its own connection. The connections made while
    /// the registry is built (link-time subscribers) are announced once it is built, by the
    /// thread that built it, so their receivers may use the registry. Not guaranteed: the
    /// order of those announcements and of the changes another thread makes meanwhile.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, ReceiverConnected, SenderKey, Signal};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// static SEEN: AtomicUsize = AtomicUsize::new(0);
    /// let watch = ReceiverConnected::signal().connect(
    ///     Receiver::new(|_: &str, _: &ReceiverConnected| {
    ///         SEEN.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .sender("doc_meta.watched"),
    /// );
    /// let signal = Namespace::get("doc_meta")?.signal("watched")?;
    /// signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).disconnect();
    /// assert_eq!(SEEN.load(Ordering::SeqCst), 1);
    /// watch.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    ReceiverConnected,
    "receiver_connected",
    "Sent after a receiver is connected to any signal (not to this one); the sender is that signal's qualified name."
);

meta_signal!(
    /// Sent after a receiver is disconnected from any signal (by a handle, by name, by a
    /// plugin's unload, or because its weak target was dropped, which is noticed at the next
    /// send); the sender is that signal's qualified name.
    ///
    /// ```
    /// use signals_core::{Kwargs, Namespace, Receiver, ReceiverDisconnected, SenderKey, Signal};
    /// use std::sync::Mutex;
    ///
    /// static GONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    /// let watch = ReceiverDisconnected::signal().connect(
    ///     Receiver::new(|_: &str, ev: &ReceiverDisconnected| {
    ///         GONE.lock().unwrap().push(ev.receiver.name.to_string());
    ///     })
    ///     .sender("doc_meta_disconnected.watched"),
    /// );
    /// let signal = Namespace::get("doc_meta_disconnected")?.signal("watched")?;
    /// let audit = |_: &SenderKey<'_>, _: &dyn Kwargs| {};
    /// signal.connect(Receiver::new(audit).name("audit")).disconnect();
    /// assert_eq!(*GONE.lock().unwrap(), ["audit"]);
    /// watch.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    ReceiverDisconnected,
    "receiver_disconnected",
    "Sent after a receiver is disconnected from any signal; the sender is that signal's qualified name."
);

/// One change to announce: the signal, the receiver, its filter, and whether it connected.
type Announcement = (&'static SignalCore, Arc<ReceiverInfo>, SenderFilter, bool);

thread_local! {
    /// The announcements of changes made while this thread builds the registry: sent once it
    /// is built, as a receiver of a meta-signal may use the registry (which would wait for
    /// the build it is part of).
    static DEFERRED: RefCell<Vec<Announcement>> = const { RefCell::new(Vec::new()) };
}

/// Sends the meta-signals for a change of `core`'s receivers; as in blinker, not
/// `receiver_connected` for a receiver of `receiver_connected` itself (a watcher is not told
/// of its own connection). While this thread builds the registry, they wait for
/// [`send_deferred`].
pub(crate) fn announce(
    core: &'static SignalCore,
    connected: &[(Arc<ReceiverInfo>, SenderFilter)],
    disconnected: &[(Arc<ReceiverInfo>, SenderFilter)],
) {
    // Under loom (`--cfg loom`) the meta-signals are not sent: their cores are process-wide,
    // while loom's atomics and mutexes belong to one model execution. The models install a
    // hook of their own (`engine::hook::loom`) and check the announcements through it.
    if cfg!(loom) {
        return;
    }
    let changes = connected
        .iter()
        .map(|(receiver, filter)| (core, receiver.clone(), filter.clone(), true))
        .chain(
            disconnected
                .iter()
                .map(|(receiver, filter)| (core, receiver.clone(), filter.clone(), false)),
        );
    if crate::startup::building_here() {
        DEFERRED.with(|queue| queue.borrow_mut().extend(changes));
        return;
    }
    // Any left by a build that panicked go first, in order.
    send_deferred();
    for change in changes {
        send(change);
    }
}

/// Whether a change made now should be announced: while this thread builds the registry
/// (its announcements wait, and their receivers may connect meanwhile), or while either
/// meta-signal has a receiver. Otherwise a change records nothing for them.
pub(crate) fn wanted() -> bool {
    if cfg!(loom) {
        return false;
    }
    crate::startup::building_here()
        || ReceiverConnected::named()
            .core()
            .live
            .load(Ordering::Acquire)
        || ReceiverDisconnected::named()
            .core()
            .live
            .load(Ordering::Acquire)
}

/// Sends the announcements deferred while this thread built the registry.
pub(crate) fn send_deferred() {
    let queued = DEFERRED
        .try_with(|queue| std::mem::take(&mut *queue.borrow_mut()))
        .unwrap_or_default();
    for change in queued {
        send(change);
    }
}

fn send((core, receiver, filter, connected): Announcement) {
    let signal = NamedSignal::from_core(core);
    if connected {
        if core.qualified == "signals.receiver_connected" {
            return;
        }
        let _ = ReceiverConnected {
            signal,
            receiver,
            filter,
        }
        .send(core.qualified);
    } else {
        let _ = ReceiverDisconnected {
            signal,
            receiver,
            filter,
        }
        .send(core.qualified);
    }
}
