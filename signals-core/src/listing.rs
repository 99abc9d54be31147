//! The signal listing: every signal with its keyword arguments, docs and subscribers, from the
//! link-time registry and the live connections. Printable as text (`Display`) and as JSON
//! (`Serialize`).

use std::fmt;

use serde::Serialize;

use crate::namespace::Namespace;
use crate::receiver::SourceLocation;
use crate::registry::{
    registry, KwargDecl, PluginDecl, SignalDecl, SubscriberDecl, SubscriberTarget,
};

/// The whole listing: a snapshot taken when [`listing`] is called.
///
/// ```
/// use signals_core::plugins::Plugin;
/// use signals_core::{listing, plugin};
///
/// #[plugin(name = "doc_listing_struct")]
/// #[derive(Default)]
/// struct Audit;
/// impl Plugin for Audit {}
///
/// let listing = listing();
/// assert!(listing.plugins.iter().any(|p| p.name == "doc_listing_struct" && !p.loaded));
/// assert!(listing.problems.is_empty());
/// ```
#[derive(Debug, Serialize)]
pub struct Listing {
    /// Every signal: declared ones, and ones only used by name. By namespace and name.
    pub signals: Vec<SignalListing>,
    /// Every plugin, by name.
    pub plugins: Vec<PluginListing>,
    /// Problems the registry found.
    pub problems: Vec<String>,
}

/// One signal.
///
/// ```
/// use signals_core::{listing, signal};
///
/// /// Sent when a dataset is saved.
/// #[signal(namespace = "doc_signal_listing")]
/// struct Saved { id: u32 }
///
/// let listing = listing();
/// let entry = listing.signals.iter().find(|s| s.namespace == "doc_signal_listing").unwrap();
/// assert_eq!(entry.name, "saved");
/// assert_eq!(entry.declaration.unwrap().docs().trim(), "Sent when a dataset is saved.");
/// assert!(entry.subscribers.is_empty());
/// ```
#[derive(Debug, Serialize)]
pub struct SignalListing {
    /// The namespace.
    pub namespace: &'static str,
    /// The registered name.
    pub name: &'static str,
    /// Its declaration; `None` for a signal that is only subscribed or sent by name.
    pub declaration: Option<&'static SignalDecl>,
    /// Link-time subscribers and live connections, in connection order (link-time
    /// subscribers of plugins that are not loaded last).
    pub subscribers: Vec<SubscriberListing>,
}

/// One subscriber of a signal.
///
/// ```
/// use signals_core::{listing, signal, subscriber};
///
/// #[signal(namespace = "doc_subscriber_listing")]
/// struct Saved { id: u32 }
///
/// #[subscriber(sender = "dataset", plugin = "doc_subscriber_listing")]
/// fn audit(_: &str, _: &Saved) {}
///
/// let listing = listing();
/// let entry = listing.signals.iter().find(|s| s.namespace == "doc_subscriber_listing").unwrap();
/// let sub = &entry.subscribers[0];
/// assert!(sub.name.ends_with("audit"));
/// assert_eq!(sub.plugin.as_deref(), Some("doc_subscriber_listing"));
/// assert_eq!(sub.sender, "sender \"dataset\"");
/// assert!(!sub.connected); // its plugin is not loaded
/// ```
#[derive(Debug, Serialize)]
pub struct SubscriberListing {
    /// The receiver's name (a function's path).
    pub name: String,
    /// The owning plugin.
    pub plugin: Option<String>,
    /// `any sender` or `sender "x"`.
    pub sender: String,
    /// Where it is declared or was connected.
    pub location: SourceLocation,
    /// Whether it is connected now.
    pub connected: bool,
    /// Whether it is connected but blocked (see `Connection::block`): sends skip it.
    pub blocked: bool,
    /// Whether it is an async receiver (a sync send reports it instead of running it).
    pub is_async: bool,
}

/// One plugin.
///
/// ```
/// use signals_core::plugins::{self, Plugin};
/// use signals_core::{listing, plugin};
///
/// #[plugin(name = "doc_plugin_listing")]
/// #[derive(Default)]
/// struct Audit;
/// impl Plugin for Audit {}
///
/// let _guard = plugins::use_plugin("doc_plugin_listing")?;
/// let listing = listing();
/// let entry = listing.plugins.iter().find(|p| p.name == "doc_plugin_listing").unwrap();
/// assert!(entry.loaded);
/// assert!(entry.rust_type.unwrap().ends_with("Audit"));
/// # Ok::<(), signals_core::plugins::PluginError>(())
/// ```
#[derive(Debug, Serialize)]
pub struct PluginListing {
    /// The plugin's name.
    pub name: &'static str,
    /// The plugin type, when declared with `#[plugin]`.
    pub rust_type: Option<&'static str>,
    /// Where it is declared.
    pub location: Option<SourceLocation>,
    /// Whether it is loaded now.
    pub loaded: bool,
}

/// Builds the listing now. Subscriptions that plugins make in code appear while the plugin is
/// loaded.
///
/// ```
/// use signals_core::{Kwargs, Namespace, SenderKey};
///
/// let signal = Namespace::get("doc_listing")?.signal("custom_thing")?;
/// let _c = signal.connect(|_: &SenderKey<'_>, _: &dyn Kwargs| {}).scoped();
/// let listing = signals_core::listing();
/// let entry = listing.signals.iter().find(|s| s.name == "custom_thing").unwrap();
/// assert!(entry.declaration.is_none());
/// assert_eq!(entry.subscribers.len(), 1);
/// assert!(listing.to_string().contains("doc_listing.custom_thing\n    not declared by any linked crate"));
/// # Ok::<(), signals_core::Error>(())
/// ```
pub fn listing() -> Listing {
    let registry = registry();
    let mut signals: Vec<SignalListing> = Namespace::all()
        .iter()
        .flat_map(Namespace::signals)
        .map(|signal| signal_listing(registry, signal))
        .collect();
    // By-name subscribers of plugins not loaded, to signals nobody has looked up yet: their
    // signals do not exist, and are listed for them.
    for decl in registry.subscribers() {
        if let SubscriberTarget::ByName {
            namespace, signal, ..
        } = decl.target()
        {
            let listed = signals
                .iter_mut()
                .find(|s| s.namespace == namespace && s.name == signal);
            match listed {
                Some(entry) => {
                    if !entry.subscribers.iter().any(|s| s.name == decl.path()) {
                        entry.subscribers.push(not_connected(decl));
                    }
                }
                None => signals.push(SignalListing {
                    namespace,
                    name: signal,
                    declaration: None,
                    subscribers: vec![not_connected(decl)],
                }),
            }
        }
    }
    signals.sort_by_key(|s| (s.namespace, s.name));
    let loaded = crate::plugins::loaded();
    let plugins = registry
        .plugins()
        .iter()
        .map(|p| PluginListing {
            name: p.name,
            rust_type: p.declaration.map(PluginDecl::rust_type),
            location: p.declaration.map(PluginDecl::location),
            loaded: loaded.contains(&p.name),
        })
        .collect();
    Listing {
        signals,
        plugins,
        problems: registry
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// One signal that exists: its declaration, its connections, and the link-time subscribers
/// that are not connected (their plugin is not loaded).
fn signal_listing(
    registry: &crate::registry::Registry,
    signal: crate::by_name::handle::NamedSignal,
) -> SignalListing {
    let declaration = registry
        .signals()
        .iter()
        .copied()
        .find(|d| d.namespace() == signal.namespace() && d.name() == signal.name());
    let mut subscribers: Vec<SubscriberListing> = signal
        .connections()
        .into_iter()
        .map(|c| SubscriberListing {
            name: c.receiver.name.to_string(),
            plugin: c.receiver.plugin.as_ref().map(ToString::to_string),
            sender: c.filter.to_string(),
            location: c.receiver.location,
            connected: true,
            blocked: c.blocked,
            is_async: c.receiver.is_async,
        })
        .collect();
    for decl in registry.subscribers_of(signal.namespace(), signal.name()) {
        let sender = decl.sender().filter().to_string();
        let plugin = decl.plugin().map(str::to_owned);
        let live = subscribers
            .iter()
            .any(|s| s.name == decl.path() && s.sender == sender && s.plugin == plugin);
        if !live {
            subscribers.push(not_connected(decl));
        }
    }
    SignalListing {
        namespace: signal.namespace(),
        name: signal.name(),
        declaration,
        subscribers,
    }
}

/// A link-time subscriber that is not connected (its plugin is not loaded).
fn not_connected(decl: &SubscriberDecl) -> SubscriberListing {
    SubscriberListing {
        name: decl.path().to_owned(),
        plugin: decl.plugin().map(str::to_owned),
        sender: decl.sender().filter().to_string(),
        location: decl.location(),
        connected: false,
        blocked: false,
        is_async: decl.is_async(),
    }
}

/// The prose of a doc comment, for the text listing: code blocks (examples) are left out, and
/// so are blank lines they leave at the end. The JSON listing keeps the whole comment.
fn prose(docs: &str) -> Vec<&str> {
    let mut in_code = false;
    let mut lines: Vec<&str> = Vec::new();
    for line in docs.lines().map(str::trim_end) {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            lines.push(line);
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn kwargs_line(kwargs: &[KwargDecl]) -> String {
    if kwargs.is_empty() {
        return "(none)".to_owned();
    }
    kwargs
        .iter()
        .map(|k| format!("{}: {}", k.name(), k.type_name()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for signal in &self.signals {
            writeln!(f, "{}.{}", signal.namespace, signal.name)?;
            match signal.declaration {
                Some(d) => {
                    for line in prose(d.docs()) {
                        // A blank line between paragraphs stays empty: no trailing spaces.
                        if line.is_empty() {
                            writeln!(f)?;
                        } else {
                            writeln!(f, "    {line}")?;
                        }
                    }
                    writeln!(f, "    declared by {} at {}", d.rust_type(), d.location())?;
                    writeln!(
                        f,
                        "    sender: {}  output: {}",
                        d.sender_type(),
                        d.output_type()
                    )?;
                    writeln!(f, "    kwargs: {}", kwargs_line(d.kwargs()))?;
                }
                None => writeln!(f, "    not declared by any linked crate (used by name)")?,
            }
            if signal.subscribers.is_empty() {
                writeln!(f, "    subscribers: (none)")?;
            } else {
                writeln!(f, "    subscribers:")?;
            }
            for s in &signal.subscribers {
                let plugin = s
                    .plugin
                    .as_ref()
                    .map(|p| format!(", plugin {p}"))
                    .unwrap_or_default();
                let state = match (s.connected, s.blocked) {
                    (false, _) => ", not connected",
                    (true, true) => ", blocked",
                    (true, false) => "",
                };
                let kind = if s.is_async { "async, " } else { "" };
                writeln!(
                    f,
                    "      {} ({kind}{}{plugin}{state}) at {}",
                    s.name, s.sender, s.location
                )?;
            }
        }
        writeln!(f, "plugins:")?;
        for p in &self.plugins {
            let kind = p.rust_type.unwrap_or("(subscribers only)");
            let state = if p.loaded { "loaded" } else { "not loaded" };
            writeln!(f, "  {} ({kind}, {state})", p.name)?;
        }
        for problem in &self.problems {
            writeln!(f, "problem: {problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::prose;

    #[test]
    fn the_text_listing_leaves_examples_out() {
        let docs = "Sent when X.\n\nSender: the id.\n\n```\nlet x = 1;\n    indented();\n```\n";
        assert_eq!(prose(docs), ["Sent when X.", "", "Sender: the id."]);
        assert_eq!(prose("a\n```rust\nb\n```\nc"), ["a", "c"]);
    }
}
