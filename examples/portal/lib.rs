//! A small CKAN-like portal, a real web application: axum over HTTP, SQLite for storage
//! (users with Argon2 password hashes, API tokens, datasets, resources, the datastore), CKAN's
//! action API wire format, and the tower layer from `ckan-signals` that sends
//! `request_started` and `request_finished` around each request. It sends every built-in
//! signal at the points CKAN does; the plugins enabled in `examples/portal.ini` react.
//!
//! - [`portal`]: the application core (actions, login, reset, downloads), sending the signals;
//! - [`web`]: the routes, CKAN's response envelope and status codes, the layer;
//! - [`server`]: start, stop, serve until a signal;
//! - [`store`]: the SQLite schema and the password hashes;
//! - [`webhook`]: the loopback endpoint the `notify` plugin posts to;
//! - [`story`]: what `cargo run` does, a client making each request over HTTP;
//! - [`cross`]: the signals across processes, through Redis (`--redis`, `worker`).

pub mod cross;
pub mod portal;
pub mod server;
pub mod store;
pub mod story;
pub mod web;
pub mod webhook;

pub use portal::{connections_of_plugin, ActionError, LoginFailed, Portal};

// The plugin crates register their plugins at link time; these lines link them.
signals_core::link!(
    ckanext_activity,
    ckanext_audit,
    ckanext_stats,
    ckanext_notify
);
