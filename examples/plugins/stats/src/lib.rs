//! The `stats` plugin: downloads per resource and datastore writes.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use ckan_signals::{DatastoreDelete, DatastoreUpsert, ResourceDownload};
use signals_core::plugins::Plugin;
use signals_core::{plugin, subscriber};

/// What the plugin counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Downloads per resource id.
    pub downloads: BTreeMap<String, u32>,
    /// Records upserted per resource id.
    pub upserted_records: BTreeMap<String, usize>,
    /// `datastore_delete` calls per resource id.
    pub deletes: BTreeMap<String, u32>,
}

static STATS: Mutex<Option<Stats>> = Mutex::new(None);

fn update(change: impl FnOnce(&mut Stats)) {
    if let Ok(mut stats) = STATS.lock() {
        change(stats.get_or_insert_with(Stats::default));
    }
}

/// The counts so far.
pub fn stats() -> Stats {
    STATS
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_default()
}

/// Resets the counts (tests call it).
pub fn clear() {
    update(|s| *s = Stats::default());
}

/// The plugin type: its subscriptions are the `#[subscriber(plugin = "stats")]` functions.
#[plugin(name = "stats")]
#[derive(Default)]
pub struct StatsPlugin;

impl Plugin for StatsPlugin {}

#[subscriber(plugin = "stats")]
fn download(resource_id: &str, _ev: &ResourceDownload) {
    update(|s| *s.downloads.entry(resource_id.to_owned()).or_default() += 1);
    say(format_args!("    [stats] download of {resource_id}"));
}

#[subscriber(plugin = "stats")]
fn upsert(resource_id: &str, ev: &DatastoreUpsert) {
    let n = ev
        .records
        .as_ref()
        .and_then(|r| r.as_array())
        .map_or(0, Vec::len);
    update(|s| {
        *s.upserted_records
            .entry(resource_id.to_owned())
            .or_default() += n
    });
    say(format_args!(
        "    [stats] {n} records written to {resource_id}"
    ));
}

#[subscriber(plugin = "stats")]
fn delete(resource_id: &str, _ev: &DatastoreDelete) {
    update(|s| *s.deletes.entry(resource_id.to_owned()).or_default() += 1);
    say(format_args!(
        "    [stats] datastore rows deleted from {resource_id}"
    ));
}

/// Prints a line of the story. Write errors are ignored: a closed stdout (`portal | head -1`)
/// is not a reason to panic in a receiver.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
