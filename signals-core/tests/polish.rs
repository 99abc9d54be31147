//! Small fixes, each proved here: the plugin guard, `unload`'s name check, the meta-signals in
//! the registry and the listing's text.
//!
//! Plugins are process-wide and tests run in parallel: every test uses plugins of its own.
#![deny(warnings)]

use signals_core::plugins::{self, PluginError};
use signals_core::{plugin, signal, Error, NameKind};

#[plugin(name = "p_guarded")]
#[derive(Default)]
struct Guarded;

impl plugins::Plugin for Guarded {}

#[test]
fn a_guard_unloads_only_the_load_it_made() {
    let guard = plugins::use_plugin("p_guarded").unwrap();
    // Unloaded by hand inside the scope, then loaded again by someone else.
    plugins::unload("p_guarded").unwrap();
    plugins::load("p_guarded").unwrap();
    drop(guard);
    assert!(
        plugins::is_loaded("p_guarded"),
        "the guard unloaded a load it did not make"
    );
    plugins::unload("p_guarded").unwrap();

    // A guard whose own load is still there unloads it.
    {
        let _guard = plugins::use_plugin("p_guarded").unwrap();
        assert!(plugins::is_loaded("p_guarded"));
    }
    assert!(!plugins::is_loaded("p_guarded"));
}

#[test]
fn unload_checks_the_name_as_load_does() {
    for bad in ["bad name", "", "a/b"] {
        let loading = plugins::load(bad).unwrap_err();
        let unloading = plugins::unload(bad).unwrap_err();
        assert!(
            matches!(
                &unloading,
                PluginError::InvalidName(Error::InvalidName {
                    kind: NameKind::Plugin,
                    ..
                })
            ),
            "{bad:?}: {unloading:?}"
        );
        assert_eq!(unloading, loading, "{bad:?}");
        assert_eq!(unloading.to_string(), loading.to_string(), "{bad:?}");
    }
}

#[test]
fn the_meta_signals_are_declared_by_signals_core() {
    use signals_core::registry;

    let registry = registry();
    for name in ["receiver_connected", "receiver_disconnected"] {
        assert!(registry.is_declared("signals", name), "{name}");
        let decl = registry
            .signals()
            .iter()
            .find(|d| d.namespace() == "signals" && d.name() == name)
            .unwrap();
        assert_eq!(decl.crate_name(), "signals-core");
        assert_eq!((decl.sender_type(), decl.output_type()), ("str", "()"));
        assert_eq!(
            decl.location().file,
            file!().replace("tests/polish.rs", "src/meta.rs")
        );
        let kwargs: Vec<(&str, &str)> = decl
            .kwargs()
            .iter()
            .map(|k| (k.name(), k.type_name()))
            .collect();
        assert_eq!(
            kwargs,
            [
                ("signal", "NamedSignal"),
                ("receiver", "Arc<ReceiverInfo>"),
                ("filter", "SenderFilter"),
            ]
        );
        assert!(decl.kwargs().iter().all(|k| !k.docs().is_empty()));
    }
    assert!(registry.problems().is_empty(), "{:?}", registry.problems());

    let text = signals_core::listing().to_string();
    for name in ["receiver_connected", "receiver_disconnected"] {
        let heading = format!("signals.{name}");
        let block: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != heading)
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .collect();
        assert!(!block.is_empty(), "{name} is not listed:\n{text}");
        let block = block.join("\n");
        assert!(!block.contains("not declared"), "{block}");
        assert!(block.contains("    declared by signals_core::"), "{block}");
        assert!(block.contains("    kwargs: signal: NamedSignal, receiver: Arc<ReceiverInfo>, filter: SenderFilter"), "{block}");
    }
}

/// First paragraph.
///
/// Second paragraph,
/// on two lines.
#[signal(namespace = "p_listing")]
struct Documented {
    _n: u32,
}

#[test]
fn the_listing_text_has_empty_lines_between_paragraphs_and_no_trailing_whitespace() {
    use signals_core::Signal;

    let _ = Documented::signal();
    let text = signals_core::listing().to_string();
    assert!(
        text.contains(
            "p_listing.documented\n    First paragraph.\n\n    Second paragraph,\n    on two lines.\n"
        ),
        "{text}"
    );
    for (number, line) in text.lines().enumerate() {
        assert_eq!(
            line,
            line.trim_end(),
            "line {} has trailing whitespace",
            number + 1
        );
    }
}

#[test]
fn the_readme_explains_link_after_the_tour_and_link_s_docs_allow_a_library() {
    let readme = include_str!("../../README.md");
    assert!(readme.starts_with(
        "# typed-signals\n\n```sh\ncargo run                  # the portal demo\ncargo test --workspace     # every test\n```\n"
    ));
    let tour = readme.find("\n## A tour\n").expect("the tour");
    let linking = readme
        .find("\n## Linking plugin crates\n")
        .expect("a section on linking plugin crates");
    assert!(tour < linking);
    let section = &readme[linking..];
    let section = &section[..section[1..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 1)];
    for needed in [
        "signals_core::link!(crate_a, crate_b);",
        "rustc then drops that dependency",
        "in the host binary or in any library it uses",
        "not linked",
    ] {
        assert!(
            section.contains(needed),
            "{needed:?} missing from:\n{section}"
        );
    }

    let lib = include_str!("../src/lib.rs");
    assert!(lib.contains("/// with it, silently. Name each such crate once, in the host binary or in a library it uses:"));
}
