//! # ckan-signals
//!
//! CKAN's signals in Rust: the 13 built-in signals with CKAN's namespaces, registered names,
//! senders and keyword arguments ([`signals`]); the `toolkit.signals` aliases ([`toolkit`]); and
//! a plugin host that enables the plugins `ckan.plugins` lists ([`host`], [`config`]).
//!
//! ## From CKAN's Python to this crate
//!
//! `use ckan_signals::prelude::*;` brings what a plugin needs: the macros, `Signal`,
//! `Receiver`, `Plugin`, `Subscriptions`, `Kwargs`, `SenderKey`, the 13 built-in signals and
//! the model types ([`prelude`]). The crate that uses `#[signal]`, `#[subscriber]` or
//! `#[plugin]` depends on `signals-core` too: the macros' code names it.
//!
//! | CKAN (Python) | this crate (Rust) |
//! |---|---|
//! | `def subscriber(sender, **kwargs):` | `fn subscriber(sender: &str, ev: &UserCreated)` (typed), or `fn subscriber(sender: &SenderKey<'_>, kwargs: &dyn Kwargs)` (by name) |
//! | `kwargs.get("user")` | `ev.user`, or `kwargs.get::<User>("user")` (`None` when absent or of another type: ask for the field's own type, `String` not `&str`) |
//! | `@p.toolkit.signals.user_created.connect` | `#[subscriber] fn f(name: &str, ev: &UserCreated)`, or at run time `UserCreated::signal().connect(f)` (a closure's parameter types are written out: `\|name: &str, ev: &UserCreated\| ..`) |
//! | `signal.connect(f, sender="x")` | `#[subscriber(sender = "x")]`, or `UserCreated::signal().connect(Receiver::new(f).sender("x"))` |
//! | `signal.connect(f, weak=True)` (blinker's default) | `signal.connect(Receiver::new(f).weak(&owner))` (`owner` an `Arc`: the connection goes when it is dropped); connections are strong unless you ask |
//! | an `async def` receiver | `#[subscriber] async fn`, or `signal.connect(Receiver::new_async(f))`; send with `ev.send_async(SENDER).await` |
//! | `class P(p.SingletonPlugin): p.implements(p.ISignal)` | `#[plugin(name = "p")] #[derive(Default)] struct P;` + `impl Plugin for P` |
//! | `get_signal_subscriptions(self): return {sig: [f, {"receiver": g, "sender": "x"}]}` | `fn subscriptions(&self, s: &mut Subscriptions) { s.connect(sig, f).connect(sig, Receiver::new(g).sender("x")); }` |
//! | `from ckan.lib.signals import ckan as ckan_namespace` | `toolkit::signals::ckan()` |
//! | `ckan_namespace.signal('register_blueprint')` | `toolkit::signals::ckan().signal("register_blueprint")?` |
//! | `tk.signals.ckanext.signal('custom_something_happened')` | `#[signal(namespace = "ckanext")] struct CustomSomethingHappened { .. }` to declare it, `toolkit::signals::ckanext().signal("custom_something_happened")?` to reach it without depending on the declaring crate |
//! | `custom_something_happened.send(SENDER, ARG1=VALUE1)` | `CustomSomethingHappened { arg1: value1 }.send(SENDER)`: every receiver runs, even after one fails, and the returned report lists the failures |
//! | blinker's `send` stopping at the first exception (what CKAN's `send` does) | `CustomSomethingHappened { arg1: value1 }.sending(SENDER).fail_fast().run()` (`.into_result()` gives the first failure as an `Err`) |
//! | `signal.send(10)` returning `[(receiver, value)]` | `IsignalNumber.sending(&10).collect().run().responses` (`.into_values()` for the values alone); by name, `signal.sending(&10, &DynKwargs::new()).collect::<i64>().run()?` |
//! | `ckan.plugins = a b` in `ckan.ini` | the same line, read by [`config::Config`]; `CKAN__PLUGINS` overrides it |
//! | `with plugins.use_plugin("p"):` | `let _p = host::use_plugin("p")?;` |
//! | `p.load("p")`, `p.unload("p")` | `host::load("p")?`, `host::unload("p")?` |
//! | `signal.receivers_for(10)` | `signal.receivers_for(&10)` on the by-name handle (`IsignalNumber::signal().named()`, or `toolkit::signals::ckanext().signal("isignal_number")?`) |
//! | `signal.disconnect(f)` | `signal.disconnect(&f)` on the by-name handle, or `connection.disconnect()` |
//!
//! ```
//! use ckan_signals::prelude::*;
//!
//! // `user_created.connect(f, sender="alice")`, with a closure.
//! let greet = |name: &str, ev: &UserCreated| assert_eq!(name, ev.user.name);
//! let _alice = UserCreated::signal()
//!     .connect(Receiver::new(greet).sender("alice"))
//!     .scoped();
//! // A receiver that fails: blinker's `send` raises, here every receiver runs and the report
//! // has the failure; `fail_fast` stops at it, as blinker does.
//! let _strict = UserCreated::signal()
//!     .connect(|_: &str, _: &UserCreated| Err::<(), _>("no new users today"))
//!     .scoped();
//! let _late = UserCreated::signal().connect(|_: &str, _: &UserCreated| {}).scoped();
//! let user = User {
//!     id: "u-1".into(),
//!     name: "alice".into(),
//!     email: "a@example.org".into(),
//!     fullname: None,
//!     sysadmin: false,
//! };
//! let event = UserCreated { user };
//! let report = event.send("alice");
//! assert_eq!((report.receivers_called(), report.failures().len()), (3, 1));
//! let report = event.sending("alice").fail_fast().run();
//! assert_eq!(report.receivers_called(), 2);
//! assert!(report.into_result().unwrap_err().to_string().ends_with("no new users today"));
//! assert_eq!(event.send("bob").receivers_called(), 2);
//! ```
//!
//! Beyond CKAN: receivers run in connection order (CKAN's order is undefined); a failing
//! receiver does not abort the others, and the send reports it (`fail_fast` stops there, as
//! blinker does); unloading a plugin
//! disconnects only that plugin's subscriptions; closures made in `subscriptions` are held
//! strongly and do not vanish.
//!
//! ## Cargo features
//!
//! None is on by default.
//!
//! - `tower`: the module `layer`, a tower layer (`SignalsLayer`, re-exported here) that sends
//!   [`RequestStarted`] before and [`RequestFinished`] after each request of any tower
//!   service of `http` requests (axum, tonic, hyper), awaiting the receivers under a timeout
//!   and logging their timeouts through `tracing`; and `model::Response::from_http`. It turns
//!   on signals-core's `tracing` feature, which logs each receiver failure (of any send) as a
//!   WARN event, and brings in `tower-layer`, `tower-service`, `http`, `http-body`, `tokio`
//!   (its timer only) and `tracing`.

#![deny(missing_docs)]

pub mod config;
pub mod host;
#[cfg(feature = "tower")]
pub mod layer;
pub mod model;
pub mod signals;
pub mod toolkit;

#[cfg(feature = "tower")]
pub use layer::{SignalsLayer, SignalsService};
pub use signals::*;

/// What a CKAN plugin needs, in one `use`: `signals_core`'s prelude (the macros, `Signal`,
/// `Sender`, `Kwargs`, `SenderKey`, the handles, `Receiver`, `Plugin`, `Subscriptions`), CKAN's
/// 13 built-in signals and the model types they carry.
///
/// ```
/// use ckan_signals::prelude::*;
///
/// #[plugin(name = "doc_prelude_plugin")]
/// #[derive(Default)]
/// struct Downloads;
///
/// impl Plugin for Downloads {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         let by_name = |_: &SenderKey<'_>, _: &dyn Kwargs| {};
///         s.connect(ResourceDownload::signal(), |_: &str, _: &ResourceDownload| {})
///             .connect_by_name("ckanext", "datastore_delete", by_name);
///     }
/// }
///
/// let _plugin = ckan_signals::host::use_plugin("doc_prelude_plugin")?;
/// assert_eq!(ResourceDownload.send("r-1").receivers_called(), 1);
/// # Ok::<(), ckan_signals::host::PluginError>(())
/// ```
pub mod prelude {
    pub use crate::model::{ActionContext, Blueprint, Response, User, WebApp};
    pub use crate::signals::*;
    pub use signals_core::prelude::*;
}
