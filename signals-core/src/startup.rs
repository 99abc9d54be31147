//! Start-up, in one place: the first lookup of any signal builds the registry (which declares
//! every linked signal and connects every link-time subscriber that belongs to no plugin),
//! after installing the engine's change hook that sends the meta-signals.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::engine::hook;
use crate::meta;
use crate::registry::Registry;

static REGISTRY: OnceLock<Registry> = OnceLock::new();

thread_local! {
    static BUILDING: Cell<bool> = const { Cell::new(false) };
}

/// Starts unless started or this thread is starting now. Every first lookup of a signal
/// calls this, so link-time subscribers are connected before any send.
pub(crate) fn ensure_started() {
    if REGISTRY.get().is_none() && !BUILDING.with(Cell::get) {
        registry();
    }
}

/// Whether this thread is building the registry now.
pub(crate) fn building_here() -> bool {
    BUILDING.with(Cell::get)
}

/// The registry, built on the first call.
pub(crate) fn registry() -> &'static Registry {
    let registry = REGISTRY.get_or_init(|| {
        hook::install(hook::Hook {
            changed: meta::announce,
            wanted: meta::wanted,
        });
        let _building = Building::start();
        Registry::build()
    });
    // The announcements of the connections this thread made while building the registry (or
    // trying to: user code runs in a build, and may panic): their receivers may use the
    // registry, which they could not while it was being built.
    meta::send_deferred();
    registry
}

/// Marks this thread as building the registry while it lives, and no longer after, even when
/// the build unwinds.
struct Building;

impl Building {
    fn start() -> Building {
        BUILDING.with(|b| b.set(true));
        Building
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        BUILDING.with(|b| b.set(false));
    }
}
