//! How the engine tells the layers above it that receivers changed: through one hook they
//! install, as tracing-core calls subscribers through its dispatcher. The engine imports
//! nothing above it.

use std::sync::{Arc, PoisonError, RwLock};

use crate::engine::signal::SignalCore;
use crate::receiver::ReceiverInfo;
use crate::sender::SenderFilter;

/// The receivers a change connected or disconnected, each with its sender filter.
pub(crate) type Changes<'a> = &'a [(Arc<ReceiverInfo>, SenderFilter)];

/// Called after every change of a signal's receivers, with no lock held: the signal, what was
/// connected, what was disconnected.
pub(crate) type ChangeHook = fn(&'static SignalCore, Changes<'_>, Changes<'_>);

/// What the layer above installs: what to call after a change, and whether it wants to be
/// called now (when it does not, a change records nothing for it).
#[derive(Clone, Copy)]
pub(crate) struct Hook {
    pub(crate) changed: ChangeHook,
    pub(crate) wanted: fn() -> bool,
}

/// The installed hook (the meta-signals, once the registry starts). A plain `std` lock, not
/// one of loom's: a loom model installs its own hook outside the model's threads.
static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// Installs `hook`, replacing the one before.
pub(crate) fn install(hook: Hook) {
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = Some(hook);
}

/// Whether the installed hook wants to hear of the next change: asked before the change,
/// with no lock held.
pub(crate) fn wanted() -> bool {
    let hook = *HOOK.read().unwrap_or_else(PoisonError::into_inner);
    hook.is_some_and(|hook| (hook.wanted)())
}

/// Tells the installed hook, if any, of a change.
pub(crate) fn changed(
    core: &'static SignalCore,
    connected: Changes<'_>,
    disconnected: Changes<'_>,
) {
    if connected.is_empty() && disconnected.is_empty() {
        return;
    }
    let hook = *HOOK.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(hook) = hook {
        (hook.changed)(core, connected, disconnected);
    }
}

/// Loom models observe announcements through a hook of their own: the meta-signals' cores are
/// process-wide, while loom's atomics and mutexes belong to one model execution.
#[cfg(loom)]
pub mod loom {
    use std::sync::{PoisonError, RwLock};

    use super::Changes;
    use crate::engine::signal::SignalCore;

    /// A model's hook: the signal's qualified name, and how many receivers were connected
    /// and disconnected.
    pub type ModelHook = fn(&'static str, usize, usize);

    static MODEL: RwLock<Option<ModelHook>> = RwLock::new(None);

    /// Installs `hook` in place of the meta-signals' (until replaced again). Not public API.
    pub fn on_change(hook: ModelHook) {
        *MODEL.write().unwrap_or_else(PoisonError::into_inner) = Some(hook);
        super::install(super::Hook {
            changed: forward,
            wanted: || true,
        });
    }

    fn forward(core: &'static SignalCore, connected: Changes<'_>, disconnected: Changes<'_>) {
        let hook = *MODEL.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(hook) = hook {
            hook(core.qualified, connected.len(), disconnected.len());
        }
    }
}
