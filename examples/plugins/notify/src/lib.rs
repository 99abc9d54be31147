//! The `notify` plugin: tells a dataset's followers about new activity. It subscribes by name
//! to `ckanext.activity_recorded`, which the `activity` plugin declares, without depending on
//! that crate: if `activity` is not installed, the signal is simply never sent.

use std::io::Write;
use std::sync::Mutex;

use signals_core::{subscriber, Kwargs, SenderKey};

static OUTBOX: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The notifications sent so far.
pub fn outbox() -> Vec<String> {
    OUTBOX.lock().map(|o| o.clone()).unwrap_or_default()
}

/// Empties the outbox (tests call it).
pub fn clear() {
    if let Ok(mut o) = OUTBOX.lock() {
        o.clear();
    }
}

/// Reads the bag by name, checking each argument is there, as CKAN advises.
#[subscriber(plugin = "notify", namespace = "ckanext", signal = "activity_recorded")]
fn on_activity(dataset: &SenderKey<'_>, kwargs: &dyn Kwargs) {
    let kind = kwargs
        .get::<String>("activity_type")
        .map_or("activity", String::as_str);
    let user = kwargs
        .get::<Option<String>>("user")
        .and_then(Option::as_deref)
        .unwrap_or("someone");
    let note = format!("followers of {dataset}: {user} did `{kind}`");
    say(format_args!("    [notify] {note}"));
    if let Ok(mut o) = OUTBOX.lock() {
        o.push(note);
    }
}

/// Prints a line of the story. Write errors are ignored: a closed stdout (`portal | head -1`)
/// is not a reason to panic in a receiver.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
