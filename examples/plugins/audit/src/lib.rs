//! The `audit` plugin: login failures, new users and password resets, written to an audit
//! log. Its only content is `#[subscriber]` functions that name the plugin: linking the crate
//! (`signals_core::link!(ckanext_audit)`) is all it takes.

use std::io::Write;
use std::sync::Mutex;

use ckan_signals::model::WebApp;
use ckan_signals::{
    FailedLogin, PerformPasswordReset, RequestPasswordReset, UserCreated, UserLoggedIn,
};
use signals_core::subscriber;

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn write(line: String) {
    say(format_args!("    [audit] {line}"));
    if let Ok(mut log) = LOG.lock() {
        log.push(line);
    }
}

/// The audit log so far.
pub fn log() -> Vec<String> {
    LOG.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Empties the log (tests call it).
pub fn clear() {
    if let Ok(mut log) = LOG.lock() {
        log.clear();
    }
}

#[subscriber(plugin = "audit")]
fn failed_login(login: &str, _ev: &FailedLogin) {
    write(format!("failed login for {login:?}"));
}

#[subscriber(plugin = "audit")]
fn logged_in(_app: &WebApp, ev: &UserLoggedIn) {
    write(format!("{} logged in", ev.user.name));
}

#[subscriber(plugin = "audit")]
fn user_created(name: &str, ev: &UserCreated) {
    write(format!("new user {name} <{}>", ev.user.email));
}

#[subscriber(plugin = "audit")]
fn reset_requested(name: &str, _ev: &RequestPasswordReset) {
    write(format!("password reset requested for {name}"));
}

#[subscriber(plugin = "audit")]
fn reset_performed(name: &Option<String>, ev: &PerformPasswordReset) {
    let sender = name.as_deref().unwrap_or("None");
    write(format!(
        "password reset for {} (sender {sender})",
        ev.user.name
    ));
}

/// Prints a line of the story. Write errors are ignored: a closed stdout (`portal | head -1`)
/// is not a reason to panic in a receiver.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
