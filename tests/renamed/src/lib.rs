//! A facade over signals-core, as a framework crate would be: it depends on signals-core under
//! another name (`core_signals`) and re-exports it as `signals`. Its users' attributes say
//! `crate = renamed_tests::signals`; its own say `crate = crate::signals`.

pub use core_signals as signals;

use signals::{signal, subscriber};
use std::sync::atomic::{AtomicU32, Ordering};

/// Sent when the facade saves something.
#[signal(namespace = "renamed_facade", crate = crate::signals)]
pub struct FacadeSaved {
    /// What was saved.
    pub id: u32,
}

/// The sum of the ids the facade's own subscriber saw.
pub static COUNTED: AtomicU32 = AtomicU32::new(0);

#[subscriber(crate = crate::signals)]
fn count(_sender: &str, event: &FacadeSaved) {
    COUNTED.fetch_add(event.id, Ordering::SeqCst);
}
