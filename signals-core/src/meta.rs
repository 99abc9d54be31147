//! Meta-signals: `receiver_connected` and `receiver_disconnected`, sent for every signal.
//!
//! Both live in the `signals` namespace. Their sender is the qualified name
//! (`namespace.name`) of the signal whose receivers changed, so a subscriber can watch one
//! signal with a sender filter. Failures of their receivers are not reported to anyone.
//!
//! Both are registered in the link-time registry like any `#[signal]`, so the listing shows
//! them as declared by `signals-core`.

use std::sync::Arc;

use crate::core::SignalCore;
use crate::kwargs::{Kwarg, Kwargs};
use crate::named::NamedSignal;
use crate::receiver::{ReceiverInfo, SourceLocation};
use crate::registry::{KwargDecl, SignalDecl};
use crate::sender::SenderFilter;
use crate::typed::{Signal, SignalCell};

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
                crate_name: "signals-core",
                location: SourceLocation {
                    file: file!(),
                    line: line!(),
                    column: column!(),
                },
                resolve: <$ty as Signal>::named,
                type_id: crate::__private::type_id::<$ty>,
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
    /// qualified name.
    ///
    /// ```
    /// use signals_core::{Namespace, ReceiverConnected, Signal};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// static SEEN: AtomicUsize = AtomicUsize::new(0);
    /// let watch = ReceiverConnected::signal().connect_to("doc_meta.watched", |_: &str, _: &ReceiverConnected| {
    ///     SEEN.fetch_add(1, Ordering::SeqCst);
    /// });
    /// let signal = Namespace::get("doc_meta")?.signal("watched")?;
    /// signal.connect(|_, _| {}).disconnect();
    /// assert_eq!(SEEN.load(Ordering::SeqCst), 1);
    /// watch.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    ReceiverConnected,
    "receiver_connected",
    "Sent after a receiver is connected to any signal; the sender is that signal's qualified name."
);

meta_signal!(
    /// Sent after a receiver is disconnected from any signal (by a handle, by name, by a
    /// plugin's unload, or because its weak target was dropped, which is noticed at the next
    /// send); the sender is that signal's qualified name.
    ///
    /// ```
    /// use signals_core::{Namespace, ReceiverDisconnected, Signal};
    /// use std::sync::Mutex;
    ///
    /// static GONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    /// let watch = ReceiverDisconnected::signal().connect_to(
    ///     "doc_meta_disconnected.watched",
    ///     |_: &str, ev: &ReceiverDisconnected| {
    ///         GONE.lock().unwrap().push(ev.receiver.name.to_string());
    ///     },
    /// );
    /// let signal = Namespace::get("doc_meta_disconnected")?.signal("watched")?;
    /// let options = signals_core::ConnectOptions::new().name("audit");
    /// signal.connect_with(options, |_, _| {}).disconnect();
    /// assert_eq!(*GONE.lock().unwrap(), ["audit"]);
    /// watch.disconnect();
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    ReceiverDisconnected,
    "receiver_disconnected",
    "Sent after a receiver is disconnected from any signal; the sender is that signal's qualified name."
);

/// Sends the meta-signals for a change of `core`'s receivers.
pub(crate) fn announce(
    core: &'static SignalCore,
    connected: &[(Arc<ReceiverInfo>, SenderFilter)],
    disconnected: &[(Arc<ReceiverInfo>, SenderFilter)],
) {
    // Under loom (`--cfg loom`) the meta-signals are not sent: their cores are process-wide,
    // while loom's atomics and mutexes belong to one model execution.
    if cfg!(loom) {
        return;
    }
    let signal = NamedSignal::from_core(core);
    for (receiver, filter) in connected {
        let _ = ReceiverConnected {
            signal,
            receiver: receiver.clone(),
            filter: filter.clone(),
        }
        .send(core.qualified);
    }
    for (receiver, filter) in disconnected {
        let _ = ReceiverDisconnected {
            signal,
            receiver: receiver.clone(),
            filter: filter.clone(),
        }
        .send(core.qualified);
    }
}
