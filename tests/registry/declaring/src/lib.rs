//! The registry tests' declaring crate: four `#[signal]` structs and nothing else.
//!
//! `registry-subscribers-only` subscribes to them by type, `registry-by-name` by name without
//! depending on this crate, and `registry-host` sends them and reads the registry. They are
//! declared out of name order on purpose: the registry sorts them.

use std::sync::{Arc, Mutex};

use signals_core::signal;

/// Sent when a resource is downloaded; registered under a name of its own.
#[signal(namespace = "reg", name = "resource.downloaded")]
pub struct ResourceDownloaded {
    /// The size of the download.
    pub bytes: u64,
    /// Every subscriber that runs appends a line.
    pub trace: Arc<Mutex<Vec<String>>>,
}

/// Sent by a numbered job when it finishes; every receiver returns a number.
#[signal(namespace = "reg", sender = i64, output = i64)]
pub struct JobFinished {
    /// The job's result.
    pub value: i64,
}

/// A signal without arguments.
#[signal(namespace = "reg")]
pub struct Ping;

/// Sent when a dataset is created.
///
/// The sender is the channel it came through (`"api"`, `"web"`, ...).
#[signal(namespace = "reg")]
pub struct DatasetCreated {
    /// The dataset's name.
    pub name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Every subscriber that runs appends a line: the tests read who ran, in which order.
    pub trace: Arc<Mutex<Vec<String>>>,
}
