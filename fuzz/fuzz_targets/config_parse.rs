//! `Config::parse` and `parse_plugin_list` on arbitrary UTF-8: never panic, and what they return
//! is consistent with the input.

#![no_main]

use ckan_signals::config::{parse_plugin_list, Config, ConfigError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    match Config::parse(text, "fuzz.ini") {
        Ok(config) => match config.plugins() {
            Ok(names) => check_names(&names),
            Err(ConfigError::DuplicatePlugin { origin, name }) => {
                assert!(origin.starts_with("fuzz.ini"), "{origin}");
                assert!(!name.is_empty() && !name.contains(char::is_whitespace));
            }
            Err(other) => panic!("plugins(): unexpected error {other}"),
        },
        Err(ConfigError::Malformed {
            origin,
            line,
            problem,
        }) => {
            assert_eq!(origin, "fuzz.ini");
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
            assert!(!problem.is_empty());
        }
        Err(other) => panic!("parse: unexpected error {other}"),
    }

    // The plugin list on its own: the words of the text, each once, or the first repeat.
    let words: Vec<&str> = text.split_whitespace().collect();
    match parse_plugin_list(text, "fuzz") {
        Ok(names) => {
            check_names(&names);
            assert_eq!(names, words);
        }
        Err(ConfigError::DuplicatePlugin { origin, name }) => {
            assert_eq!(origin, "fuzz");
            assert!(words.iter().filter(|w| **w == name).count() >= 2, "{name}");
        }
        Err(other) => panic!("parse_plugin_list: unexpected error {other}"),
    }
});

fn check_names(names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "{name:?}"
        );
        assert!(!names[..i].contains(name), "{name} listed twice");
    }
}
