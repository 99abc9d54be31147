//! The `activity` plugin: an activity stream of dataset changes, subscribed per action name
//! with sender filters, as CKAN's activity plugin does. After recording an activity it sends
//! its own signal, `ckanext.activity_recorded`, for other plugins.

use std::io::Write;
use std::sync::Mutex;

use ckan_signals::ActionSucceeded;
use serde_json::Value;
use signals_core::plugins::{Plugin, Subscriptions};
use signals_core::{plugin, signal, Receiver, Signal};

/// One entry of the activity stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// `new package`, `changed package` or `new resource`.
    pub activity_type: &'static str,
    /// The dataset's id.
    pub object_id: String,
    /// Who did it.
    pub user: Option<String>,
}

/// Sent after an activity was recorded. Sender: the dataset's id.
#[signal(namespace = "ckanext")]
pub struct ActivityRecorded {
    /// `new package`, `changed package` or `new resource`.
    pub activity_type: String,
    /// Who did it.
    pub user: Option<String>,
}

static STREAM: Mutex<Vec<Activity>> = Mutex::new(Vec::new());

/// The activity stream so far, oldest first.
pub fn stream() -> Vec<Activity> {
    STREAM.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Empties the stream (tests call it).
pub fn clear() {
    if let Ok(mut s) = STREAM.lock() {
        s.clear();
    }
}

fn record(activity_type: &'static str, ev: &ActionSucceeded) {
    let field = |name: &str| {
        ev.result
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let object_id = match activity_type {
        "new resource" => field("package_id"),
        _ => field("id"),
    }
    .unwrap_or_default();
    let activity = Activity {
        activity_type,
        object_id: object_id.clone(),
        user: ev.context.user.clone(),
    };
    say(format_args!(
        "    [activity] {} {} by {}",
        activity.activity_type,
        activity.object_id,
        activity.user.as_deref().unwrap_or("(anonymous)")
    ));
    if let Ok(mut s) = STREAM.lock() {
        s.push(activity.clone());
    }
    let _ = ActivityRecorded {
        activity_type: activity_type.to_owned(),
        user: activity.user,
    }
    .send(&object_id);
}

fn package_created(_action: &str, ev: &ActionSucceeded) {
    record("new package", ev);
}

fn package_updated(_action: &str, ev: &ActionSucceeded) {
    record("changed package", ev);
}

fn resource_created(_action: &str, ev: &ActionSucceeded) {
    record("new resource", ev);
}

/// The plugin: its subscriptions are made in code, one per action name.
#[plugin(name = "activity")]
#[derive(Default)]
pub struct ActivityPlugin;

impl Plugin for ActivityPlugin {
    fn subscriptions(&self, s: &mut Subscriptions) {
        let action = ActionSucceeded::signal();
        s.connect(
            action,
            Receiver::new(package_created).sender("package_create"),
        );
        s.connect(
            action,
            Receiver::new(package_updated).sender("package_update"),
        );
        s.connect(
            action,
            Receiver::new(resource_created).sender("resource_create"),
        );
    }
}

/// Prints a line of the story. Write errors are ignored: a closed stdout (`portal | head -1`)
/// is not a reason to panic in a receiver.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
