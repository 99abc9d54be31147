//! # ckan-signals
//!
//! CKAN's signals in Rust: the 13 built-in signals with CKAN's namespaces, registered names,
//! senders and keyword arguments ([`signals`]); the `toolkit.signals` aliases ([`toolkit`]); and
//! a plugin host that enables the plugins `ckan.plugins` lists ([`host`], [`config`]).
//!
//! ## From CKAN's Python to this crate
//!
//! | CKAN (Python) | this crate (Rust) |
//! |---|---|
//! | `def subscriber(sender, **kwargs):` | `fn subscriber(sender: &str, ev: &UserCreated)` (typed), or `fn subscriber(sender: &SenderKey, kwargs: &dyn Kwargs)` (by name) |
//! | `kwargs.get("user")` | `ev.user`, or `kwargs.get::<User>("user")` (`None` when absent or of another type: ask for the field's own type, `String` not `&str`) |
//! | `@p.toolkit.signals.user_created.connect` | `#[subscriber] fn f(name: &str, ev: &UserCreated)` |
//! | `signal.connect(f, sender="x")` | `#[subscriber(sender = "x")]`, or `UserCreated::signal().connect_to("x", f)` |
//! | `class P(p.SingletonPlugin): p.implements(p.ISignal)` | `#[plugin(name = "p")] #[derive(Default)] struct P;` + `impl Plugin for P` |
//! | `get_signal_subscriptions(self): return {sig: [f, {"receiver": g, "sender": "x"}]}` | `fn subscriptions(&self, s: &mut Subscriptions) { s.connect(sig, f).connect_to(sig, "x", g); }` |
//! | `from ckan.lib.signals import ckan as ckan_namespace` | `toolkit::signals::ckan()` |
//! | `ckan_namespace.signal('register_blueprint')` | `toolkit::signals::ckan().signal("register_blueprint")?` |
//! | `tk.signals.ckanext.signal('custom_something_happened')` | `#[signal(namespace = "ckanext")] struct CustomSomethingHappened { .. }` to declare it, `toolkit::signals::ckanext().signal("custom_something_happened")?` to reach it without depending on the declaring crate |
//! | `custom_something_happened.send(SENDER, ARG1=VALUE1)` | `CustomSomethingHappened { arg1: value1 }.send(SENDER)` |
//! | `signal.send(10)` returning `[(receiver, value)]` | `Isignal { }.send_collect(&10).responses` |
//! | `ckan.plugins = a b` in `ckan.ini` | the same line, read by [`config::Config`]; `CKAN__PLUGINS` overrides it |
//! | `with plugins.use_plugin("p"):` | `let _p = host::use_plugin("p")?;` |
//! | `p.load("p")`, `p.unload("p")` | `host::load("p")?`, `host::unload("p")?` |
//! | `signal.receivers_for(10)` | `signal.receivers_for(&10)` |
//!
//! Beyond CKAN: receivers run in connection order (CKAN's order is undefined); a failing
//! receiver does not abort the others, and the send reports it; unloading a plugin
//! disconnects only that plugin's subscriptions; closures made in `subscriptions` are held
//! strongly and do not vanish.

#![deny(missing_docs)]

pub mod config;
pub mod host;
pub mod model;
pub mod signals;
pub mod toolkit;

pub use signals::*;
