//! # signals-core
//!
//! Typed, thread-safe signals: in-process publish/subscribe in the style of blinker (the
//! library behind Flask's and CKAN's signals), checked at compile time.
//!
//! - **Namespaces** hold signals; a name is a singleton inside its namespace
//!   ([`Namespace`], [`NamedSignal`]).
//! - **A signal is a struct** whose fields are its keyword arguments ([`Signal`]); receivers
//!   get the sender and a shared reference to the struct. A by-name view of the same
//!   arguments ([`Kwargs`]) serves receivers that cannot depend on the declaring crate; one
//!   that reads a single argument ([`Receiver::kwarg`]) has it read at its field's place
//!   (1.0 to 1.45 times a typed receiver's time, as the linker places the loop, against 2.7
//!   to 3.3 for a read by name).
//! - **Receivers** listen to every sender or to one ([`SenderFilter`]), run in connection
//!   order, may return values ([`Sending::collect`]) or errors, and may panic: a send
//!   reports each failure with the receiver's name and location ([`SendReport`]).
//! - **Sends take no lock** and write no shared memory in steady state: connect and disconnect
//!   publish a new snapshot of the receivers, and the first send on each thread after such a
//!   change fetches it under a read lock that a change holds only to swap the snapshot in: a
//!   typed send never waits for a change on another thread.
//!   No lock is held while receivers run, so a receiver may send, connect or disconnect,
//!   itself included.
//! - **Connect and disconnect cost the same with ten receivers or ten thousand** (about a
//!   microsecond): a connection for every sender is appended to a list the snapshots share,
//!   and a disconnection or a block switches its entry off in place. The list is built anew
//!   (in time proportional to the receivers) when a receiver filters on a sender, when the
//!   same receiver is connected twice, and now and then to compact it.
//! - **Connections are strong** and stay until they are disconnected: dropping a
//!   [`Connection`] disconnects nothing (it is a `Copy` handle). Use
//!   [`Connection::scoped`] for a connection that ends with a scope, and
//!   [`Receiver::weak`] for blinker's `weak=True`.
//! - **One `connect`, one way to send.** Every handle's `connect` takes a function or closure
//!   as it is, or a [`Receiver`] for one sender, async, weak, a key or a name. `send` and
//!   `send_async` cover the usual send; [`sending`](Signal::sending) starts a [`Sending`] for
//!   the others (stop at the first failure, collect the values, run async receivers
//!   together).
//! - **Across processes**, a signal's sender and keyword arguments go to JSON and a send comes
//!   back from it ([`wire`]): a struct that is `Serialize + DeserializeOwned` as itself, any
//!   other bag by name. The transport is another crate's job.
//!
//! ```
//! use signals_core::{
//!     DynKwargs, Kwarg, Kwargs, Namespace, NamedSignal, Receiver, SenderKey, Signal, SignalCell,
//! };
//!
//! // A typed signal, written by hand (the `#[signal]` attribute writes this for you).
//! struct ResourceDownloaded { bytes: u64 }
//!
//! impl Kwargs for ResourceDownloaded {
//!     fn kwarg(&self, name: &str) -> Option<Kwarg<'_>> {
//!         (name == "bytes").then(|| Kwarg::new("bytes", &self.bytes))
//!     }
//!     fn kwargs(&self) -> Vec<Kwarg<'_>> { vec![Kwarg::new("bytes", &self.bytes)] }
//! }
//!
//! impl Signal for ResourceDownloaded {
//!     type Sender = str;
//!     type Output = u64;
//!     const NAMESPACE: &'static str = "doc_crate";
//!     const NAME: &'static str = "resource_downloaded";
//!     fn named() -> NamedSignal {
//!         static CELL: SignalCell = SignalCell::new();
//!         CELL.resolve::<Self>()
//!     }
//! }
//!
//! // A typed receiver for one sender, returning a value.
//! let typed = ResourceDownloaded::signal()
//!     .connect(Receiver::new(|_id: &str, ev: &ResourceDownloaded| ev.bytes * 2).sender("r-1"));
//! // A by-name receiver that never names the type.
//! let by_name = Namespace::get("doc_crate")?.signal("resource_downloaded")?;
//! let dynamic = by_name.connect(|sender: &SenderKey<'_>, kwargs: &dyn Kwargs| {
//!     assert_eq!(kwargs.get::<u64>("bytes"), Some(&10));
//!     assert_eq!(sender.as_str(), Some("r-1"));
//! });
//!
//! let collected = ResourceDownloaded { bytes: 10 }.sending("r-1").collect().run();
//! assert_eq!(collected.report.receivers_called(), 2);
//! assert_eq!(collected.into_values(), [20]);
//!
//! // A by-name send of a declared signal must carry its struct.
//! assert!(by_name.send(&"r-1", &DynKwargs::new()).is_err());
//! typed.disconnect();
//! dynamic.disconnect();
//! # Ok::<(), signals_core::Error>(())
//! ```
//!
//! ## Async receivers and sends
//!
//! A receiver may be async: `#[subscriber]` on an `async fn`, or `connect` (on any handle)
//! of [`Receiver::new_async`] with a closure returning a [`BoxFuture`]
//! (`|sender: &str, ev: &Saved| Box::pin(async move { ... })`). Its future must be `Send`.
//!
//! - [`Signal::send_async`] (or `sending(s)`[`.run_async()`](Sending::run_async)) awaits
//!   every receiver, sync and async alike, one at a time in connection order;
//!   `sending(s)`[`.run_concurrent()`](Sending::run_concurrent) calls the sync receivers and
//!   starts the async ones in connection order, then drives the started futures together.
//!   Both give the report a sync send gives (failures, caught panics, values in connection
//!   order). `sending(s)`[`.fail_fast()`](Sending::fail_fast)`.run_async()` (by name too)
//!   awaits them one at a time and stops at the first failure, as `.fail_fast().run()` does.
//! - A **sync send does not run async receivers**: it runs every sync receiver in order and
//!   reports each async receiver, at its place, as a failure of kind
//!   [`FailureKind::AsyncReceiver`] ("... is async; a sync send cannot run it — use
//!   send_async"). It never blocks on a future and never skips one silently.
//! - The crate depends on no async runtime: the futures are plain `Send` futures that tokio,
//!   async-std, smol or `futures::executor::block_on` drive alike. Concurrency is within the
//!   send's own future: nothing is spawned.
//! - Nothing runs before the send's future is first polled. Dropping it midway (a timeout, a
//!   cancelled task) drops the receiver futures in flight: receivers that completed ran,
//!   receivers not yet started do not run, and no lock is held or connection left behind.
//!
//! ```
//! use signals_core::{signal, Receiver, Signal};
//!
//! #[signal(namespace = "doc_crate_async", output = u32)]
//! struct Ping { n: u32 }
//!
//! let sync = Ping::signal().connect(|_: &str, ev: &Ping| ev.n);
//! let later = Ping::signal().connect(Receiver::new_async(|_: &str, ev: &Ping| {
//!     Box::pin(async move { ev.n + 1 })
//! }));
//! let collected = futures::executor::block_on(Ping { n: 1 }.sending("me").collect().run_async());
//! assert_eq!(collected.into_values(), [1, 2]);
//!
//! let report = Ping { n: 1 }.send("me"); // the async receiver is reported, not run
//! assert_eq!(report.receivers_called(), 1);
//! assert_eq!(report.failures().len(), 1);
//! sync.disconnect();
//! later.disconnect();
//! ```
//!
//! ## Guarantees, and what is not guaranteed
//!
//! - Receivers run in connection order. A receiver connected for every sender and for
//!   sender X runs once when X sends, at its first connection's place. A weakly bound
//!   receiver is never merged with a strong connection of the same key (it may die at any
//!   moment, and must not hide or be hidden by it); two weak connects with the same key and
//!   senders are one connection while its target lives.
//! - A receiver connected during a send is not called by that send; one disconnected earlier
//!   in the same send is not called after that; after `disconnect` returns, no send that
//!   starts later calls it. A send already running on another thread may still call it.
//! - Panics in receivers are caught (unless the binary uses `panic = "abort"`) and reported;
//!   the panic hook still runs, so the default hook still prints the panic to stderr.
//! - Receivers run synchronously on the sending thread (an async send: on the task that polls
//!   it). There is no recursion limit: a receiver that sends its own signal every time
//!   overflows the stack.
//! - A signal looked up by a name nobody declares is created, empty
//!   ([`Namespace::signal`]): a misspelt name is a new signal nobody sends.
//!   [`registry()`](fn@registry)`.is_declared(namespace, name)` tells, and [`listing`](fn@listing) shows such signals.
//! - Not guaranteed: the order in which link-time subscribers run beyond "sorted by their
//!   function's path" (renaming a function moves it); the order of `receiver_connected`
//!   announcements at start-up against other threads' changes. More limits, each with the
//!   test that shows it: `docs/reliability.md` in the repository.
//! - A thread keeps the last snapshot of each signal it sent, and the receivers in it, until
//!   it sends that signal again while the signal has a receiver, or exits: a disconnected
//!   closure's captures may live that long (a send to a signal without receivers returns
//!   before it looks at the cache, to stay cheap).
//!
//! ## Features
//!
//! Every optional feature is off by default; [`FEATURES`] lists those a build has.
//!
//! - **`tracing`**: failures and sends in the logs, through
//!   [`tracing`](https://docs.rs/tracing) (no `tracing` code is compiled in without it).
//!   - A **WARN event** for each failure a send reports (an error returned, a panic caught,
//!     an async receiver a sync send could not run, a by-name value of the wrong type, a
//!     typed receiver a bag decoded from JSON could not reach), with target `signals`,
//!     message `receiver failed` and the fields `signal` (the signal's qualified name:
//!     `ckan.user_created`), `receiver` (its name), `location` (`file:line:column`), `plugin`
//!     (absent when no plugin owns the connection), `kind` (`error`, `panic`,
//!     `async_receiver`, `wrong_value` or `typed_receiver`) and `error` (the error's text,
//!     the panic's message). Every send logs each failure once: sync and async, fail-fast,
//!     collecting and concurrent, typed and by name. The report still carries every failure,
//!     and a panic still reaches the panic hook.
//!   - A **TRACE span** `send` (target `signals`) around each send to a signal that has
//!     receivers, with the fields `signal` and `receivers` (how many receivers were called,
//!     recorded as the send ends). Receivers run inside it, so their own events carry it; an
//!     async send enters it at each poll. A send to a signal without receivers makes none.
//!   - **The cost.** A send whose receivers all succeed pays for the span only `tracing`'s
//!     first check that it is disabled: one load of the most verbose level any subscriber
//!     wants, and a compare with TRACE. Counted with the repository's callgrind probe
//!     (`bench/probe.rs`, `LOOP=1`), that is 6 instructions per send whatever the number of
//!     receivers (101 without the feature, 107 with it, for one receiver; 290 and 296 for
//!     ten), and none for a send to a signal without receivers, which returns before it.
//!     Only when some subscriber wants TRACE does a send make the span, out of line (the
//!     callsite's interest, the subscriber's `enabled`). The qualified name is a
//!     `&'static str`, never formatted for a disabled span; a failure's fields are formatted
//!     only by a subscriber that records the event. A send that meets no failure allocates
//!     nothing, as without the feature.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

// Base: names, errors, receivers' and senders' descriptions, kwargs, reports.
mod error;
mod future;
mod kwargs;
mod name;
mod receiver;
mod report;
mod sender;
mod suggest;
pub mod text;

// The engine: signal state, snapshots, the thread cache, the delivery loops. It imports
// nothing below this line.
mod engine;

// Handles and the layers on top of them.
mod by_name;
mod connect;
mod connection;
mod kwarg_receiver;
mod listing;
mod meta;
mod namespace;
pub mod plugins;
pub mod registry;
mod sending;
mod startup;
mod typed;
pub mod wire;

pub use by_name::handle::{ConnectionInfo, Declaration, NamedSignal};
pub use connect::{IntoReceiver, Receiver, SignalHandle};
pub use connection::{BlockGuard, Connection, MuteGuard, ScopedConnection};
pub use error::{Error, KwargError};
pub use future::BoxFuture;
pub use kwargs::{DynKwargs, Kwarg, Kwargs};
pub use listing::{listing, Listing, PluginListing, SignalListing, SubscriberListing};
pub use meta::{ReceiverConnected, ReceiverDisconnected};
pub use name::{
    check_name, check_name_bytes, check_namespace_name, check_namespace_name_bytes, NameKind,
    NameRule, MAX_NAME_LEN,
};
pub use namespace::Namespace;
pub use receiver::{BoxError, IntoOutcome, IntoReply, ReceiverId, ReceiverInfo, SourceLocation};
pub use report::{Collected, Failure, FailureKind, Response, SendReport};
pub use sender::{Sender, SenderFilter, SenderKey};
pub use sending::Sending;

/// The types that only appear as parameters of [`Receiver`] and [`Sending`]: what kind of
/// receiver, which sender, what a send gives back. You name them rarely (in a function that
/// returns a `Receiver` or a `Sending`, say).
pub mod marker {
    pub use crate::connect::{AnySender, AsyncKind, SenderOf, SyncKind};
    pub use crate::kwarg_receiver::OneKwarg;
    pub use crate::sending::{Collect, NamedSend, Report, TypedSend};
}
pub use typed::cell::SignalCell;
pub use typed::handle::TypedSignal;
pub use typed::signal::Signal;

pub use registry::registry;

/// `#[plugin]`, from `signals-macros` (always the version this crate pins).
pub use signals_macros::plugin;
/// `#[signal]`, from `signals-macros` (always the version this crate pins).
pub use signals_macros::signal;
/// `#[subscriber]`, from `signals-macros` (always the version this crate pins).
pub use signals_macros::subscriber;

/// The optional features of this crate that this build was compiled with, by name: `[]` in
/// a default build, `["tracing"]` with the `tracing` feature (see the crate docs,
/// "Features"). For reports that must say what they ran with: the benchmarks print it.
///
/// ```
/// println!("features: signals-core {:?}", signals_core::FEATURES);
/// assert!(signals_core::FEATURES.iter().all(|f| ["tracing"].contains(f)));
/// ```
pub const FEATURES: &[&str] = &[
    #[cfg(feature = "tracing")]
    "tracing",
];

/// Links crates whose only job is to register signals, subscribers or plugins.
///
/// rustc leaves out a dependency that nothing references, and its link-time registrations go
/// with it, silently. Name each such crate once, in the host binary or in a library it uses:
///
/// ```ignore
/// signals_core::link!(ckanext_activity, ckanext_audit);
/// ```
///
/// A plugin named in the configuration but missing from the binary is reported by
/// [`plugins::load`] with this advice.
#[macro_export]
macro_rules! link {
    ($($krate:ident),+ $(,)?) => {
        $(
            #[allow(unused_imports)]
            use $krate as _;
        )+
    };
}

/// The engine's change hook, for loom models (built only with `--cfg loom`). Not public API.
#[cfg(loom)]
#[doc(hidden)]
pub use engine::hook::loom as loom_hook;

/// What a plugin or an application needs, in one `use`: the macros, the traits whose
/// methods you call (`Signal::send`, `Sender`), the handles and the receiver builder.
///
/// ```
/// use signals_core::prelude::*;
///
/// #[signal(namespace = "doc_prelude")]
/// struct Saved { id: u32 }
///
/// let _c = Saved::signal().connect(|_: &str, ev: &Saved| assert_eq!(ev.id, 1)).scoped();
/// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
/// ```
pub mod prelude {
    pub use crate::plugins::{Plugin, Subscriptions};
    pub use crate::{
        plugin, signal, subscriber, BoxError, Connection, DynKwargs, Kwargs, NamedSignal,
        Namespace, Receiver, SendReport, Sender, SenderKey, Signal, TypedSignal,
    };
}

/// Not public API. Used by generated code.
///
/// Re-exports only, so that the code `#[signal]`, `#[subscriber]` and `#[plugin]` generate
/// names everything, std included, through one path: `::signals_core::__private`, or
/// `path::__private` with `crate = path`. What they re-export lives, documented, in its
/// own module. No stability promise: a macro and this crate come in the same version.
#[doc(hidden)]
pub mod __private {
    // Not public API. Used by generated code: this crate's items.
    pub use crate::connect::ConnectOptions;
    pub use crate::kwargs::Field;
    pub use crate::name::{assert_valid_name, assert_valid_namespace_name};
    pub use crate::plugins::Plugin;
    pub use crate::registry::{
        connect_async_by_name, connect_by_name, connect_kwarg_by_name, require_free_function,
        KwargDecl, PluginDecl, SenderDecl, SignalDecl, SubscriberDecl, SubscriberTarget,
    };
    pub use crate::sender::{check_sender_literal, SenderLiteral};
    pub use crate::typed::shape::ThreadSnapshot;
    pub use crate::wire::{ProbeFallback, ProbeSerde, WireProbe};
    pub use crate::{
        BoxFuture, Connection, Error, IntoOutcome, IntoReply, Kwarg, Kwargs, NamedSignal, Receiver,
        ReceiverId, Sender, SenderKey, Signal, SignalCell, SourceLocation,
    };
    pub use inventory;

    // Not public API. Used by generated code: std, named one way, so that a user's items
    // called `Option` or `str` cannot shadow what the code means.
    pub use std::any::{Any, TypeId};
    pub use std::boxed::Box;
    pub use std::default::Default;
    pub use std::marker::{Send, Sync};
    pub use std::mem::offset_of;
    pub use std::ops::Fn;
    pub use std::option::Option;
    pub use std::primitive::{str, u32};
    pub use std::result::Result;
    pub use std::thread::LocalKey;
    pub use std::vec::Vec;
    pub use std::{column, concat, file, line, module_path, option_env, thread_local};
}

/// The README's tour, compiled and run as a doctest so it stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
