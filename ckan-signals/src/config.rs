//! CKAN's INI-style configuration, as far as the plugin host needs it: `ckan.plugins`.
//!
//! The grammar: `[section]` headers; `key = value` or `key: value`; comments on lines starting
//! with `#` or `;`; a line indented with spaces or tabs continues the previous value (CKAN's
//! `ckan.plugins` is often spread over several lines). A UTF-8 byte order mark at the start of
//! the text is skipped.
//!
//! Which sections count: CKAN reads its options from the `[app:main]` section, through Python's
//! `configparser`, in which the `[DEFAULT]` section's values are visible in every section unless
//! that section sets them itself. So does [`Config`]: a key is looked up in `[app:main]`, then in
//! `[DEFAULT]`; every other section (`[server:main]`, `[app:other]`, logging sections) is parsed
//! and checked but never consulted. Keys written before any section header (which
//! `configparser` rejects) are accepted as `[DEFAULT]` values, so that a one-line snippet such as
//! `ckan.plugins = audit` works. Within one section, a key set twice keeps its last value.
//!
//! ```
//! use ckan_signals::config::Config;
//!
//! let text = "[app:main]\nckan.plugins = a b\n[DEFAULT]\nckan.plugins = c\n[app:other]\nckan.plugins = d\n";
//! assert_eq!(Config::parse(text, "demo.ini")?.plugins()?, ["a", "b"]);
//! # Ok::<(), ckan_signals::config::ConfigError>(())
//! ```

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use signals_core::text::quoted;
use signals_core::{check_name, NameRule};

/// The environment variable that overrides `ckan.plugins` (CKAN's `CKAN__` convention). This
/// crate never reads the environment itself: pass the variable's value to
/// [`enabled_plugins`](crate::host::enabled_plugins).
///
/// ```
/// use ckan_signals::config::{Config, PLUGINS_ENV_VAR};
/// use ckan_signals::host::enabled_plugins;
///
/// let from_env = std::env::var_os(PLUGINS_ENV_VAR);
/// let config = Config::parse("ckan.plugins = audit\n", "<string>")?;
/// let enabled = enabled_plugins(&config, from_env.as_deref())?;
/// # let _ = enabled;
/// # Ok::<(), ckan_signals::config::ConfigError>(())
/// ```
pub const PLUGINS_ENV_VAR: &str = "CKAN__PLUGINS";

/// The largest configuration file read, in bytes: [`Config::from_file`] refuses a larger
/// one with [`ConfigError::TooLarge`], and stops reading a file that gives more than this
/// though it did not say so (a pipe, a device, a growing file) with
/// [`ConfigError::LimitExceeded`]. [`Config::parse`] has no limit.
///
/// ```
/// use ckan_signals::config::MAX_CONFIG_BYTES;
///
/// assert_eq!(MAX_CONFIG_BYTES, 16 * 1024 * 1024);
/// ```
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// An error in a configuration file or value. Non-exhaustive: match it with a wildcard arm.
///
/// A message quotes at most 64 characters of the text it rejects (a line, a plugin name), then
/// `…` and the text's length in bytes; the `name` fields keep the whole name.
///
/// ```
/// use ckan_signals::config::{Config, ConfigError};
///
/// let err = Config::parse("[app:main\n", "demo.ini").unwrap_err();
/// assert!(matches!(err, ConfigError::Malformed { line: 1, .. }));
/// let config = Config::parse("ckan.plugins = a b a\n", "demo.ini")?;
/// assert!(matches!(config.plugins(), Err(ConfigError::DuplicatePlugin { .. })));
/// # Ok::<(), ckan_signals::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("config file {path} is {len} bytes, over the {max} byte limit; is it the right file?")]
    TooLarge {
        /// The file.
        path: String,
        /// Its length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The file gave more than [`MAX_CONFIG_BYTES`] bytes while it was read, though its
    /// reported size was within the limit: a pipe, a device such as `/dev/zero`, or a file
    /// that grew. Reading stops one byte past the limit.
    #[error("config file {path} holds more than {max} bytes, the limit; is it the right file?")]
    LimitExceeded {
        /// The file.
        path: String,
        /// The limit.
        max: u64,
    },
    /// A line is not a section, a `key = value`, a comment or a continuation.
    #[error("{origin}:{line}: {problem}")]
    Malformed {
        /// The file (or `<string>`).
        origin: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it, and what was expected.
        problem: String,
    },
    /// `ckan.plugins` names a plugin twice.
    #[error(
        "{origin}: `ckan.plugins` names {} twice; list each plugin once (a plugin loaded twice is an error)",
        quoted(.name)
    )]
    DuplicatePlugin {
        /// Where the list came from.
        origin: String,
        /// The repeated name, whole.
        name: String,
    },
    /// An environment variable (such as [`PLUGINS_ENV_VAR`]) names a plugin twice.
    #[error(
        "{variable} names {} twice; list each plugin once (a plugin loaded twice is an error)",
        quoted(.name)
    )]
    DuplicatePluginInVariable {
        /// The variable.
        variable: String,
        /// The repeated name, whole.
        name: String,
    },
    /// A plugin list holds a comma, a quote or a comment sign: written as in another format.
    #[error(
        "{origin}: the plugin list has {}, which is not a plugin name; separate plugin names \
         with spaces only (no commas or quotes; a `#` or `;` there is not a comment)",
        quoted(.name)
    )]
    NotAPluginName {
        /// Where the list came from: the file and line, or the variable.
        origin: String,
        /// The word, whole.
        name: String,
    },
    /// A plugin list names a plugin that the naming rules refuse (such as `=`), which no
    /// plugin can be called.
    #[error(
        "{origin}: the plugin list has {}, which is not a valid plugin name: {rule}",
        quoted(.name)
    )]
    InvalidPluginName {
        /// Where the list came from: the file and line, or the variable.
        origin: String,
        /// The name, whole.
        name: String,
        /// The naming rule it breaks.
        rule: NameRule,
    },
}

/// A parsed configuration: the keys of `[app:main]` and of `[DEFAULT]`, each with its value and
/// the line it came from (other sections are checked, then dropped). Values are kept as text;
/// nothing but `ckan.plugins` is interpreted.
///
/// ```
/// use ckan_signals::config::Config;
///
/// let config = Config::parse("[app:main]\nckan.site_url = http://localhost\n", "demo.ini")?;
/// assert_eq!(config.get("ckan.site_url"), Some("http://localhost"));
/// assert!(config.plugins()?.is_empty());
/// # Ok::<(), ckan_signals::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    origin: String,
    /// The `[app:main]` section, and the values given by [`set`](Config::set).
    main: BTreeMap<String, (String, usize)>,
    /// The `[DEFAULT]` section, and the keys before any section header.
    defaults: BTreeMap<String, (String, usize)>,
}

/// The section a line of the file belongs to, as far as [`Config`] cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// `[app:main]`, the section CKAN reads.
    Main,
    /// `[DEFAULT]` (or no header yet): the fallback of every section.
    Default,
    /// Any other section: parsed, never consulted.
    Other,
}

/// The name of the section CKAN reads its options from.
const MAIN_SECTION: &str = "app:main";
/// The name of `configparser`'s fallback section.
const DEFAULT_SECTION: &str = "DEFAULT";

impl Config {
    /// Parses `text`; `origin` names it in errors (a file's path, or `<string>`).
    ///
    /// ```
    /// use ckan_signals::config::Config;
    ///
    /// let config = Config::parse("[app:main]\nckan.plugins = activity\n  audit stats\n", "demo.ini")?;
    /// assert_eq!(config.plugins()?, ["activity", "audit", "stats"]);
    ///
    /// let err = Config::parse("[app:main]\nckan.plugins\n", "demo.ini").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "demo.ini:2: expected `key = value`, a `[section]` or a comment, found `ckan.plugins`"
    /// );
    /// # Ok::<(), ckan_signals::config::ConfigError>(())
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let malformed = |line: usize, problem: String| ConfigError::Malformed {
            origin: origin.to_owned(),
            line,
            problem,
        };
        let mut main: BTreeMap<String, (String, usize)> = BTreeMap::new();
        let mut defaults: BTreeMap<String, (String, usize)> = BTreeMap::new();
        let mut section = Section::Default;
        let mut last_key: Option<String> = None;
        // A byte order mark (editors on Windows write one) is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                let Some(key) = &last_key else {
                    return Err(malformed(
                        number,
                        format!(
                            "an indented line continues a value, but no key comes before it: {}",
                            quoted(trimmed)
                        ),
                    ));
                };
                let values = match section {
                    Section::Main => Some(&mut main),
                    Section::Default => Some(&mut defaults),
                    Section::Other => None,
                };
                if let Some((value, _)) = values.and_then(|v| v.get_mut(key)) {
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(trimmed);
                }
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[') {
                if !header.ends_with(']') || header.len() < 2 {
                    return Err(malformed(
                        number,
                        format!(
                            "a section header must look like `[name]`, found {}",
                            quoted(trimmed)
                        ),
                    ));
                }
                section = match &header[..header.len() - 1] {
                    MAIN_SECTION => Section::Main,
                    DEFAULT_SECTION => Section::Default,
                    _ => Section::Other,
                };
                last_key = None;
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                return Err(malformed(
                    number,
                    format!(
                        "expected `key = value`, a `[section]` or a comment, found {}",
                        quoted(trimmed)
                    ),
                ));
            };
            let key = trimmed[..split].trim();
            if key.is_empty() {
                return Err(malformed(
                    number,
                    format!("the key before `{}` is empty", &trimmed[split..split + 1]),
                ));
            }
            let value = trimmed[split + 1..].trim().to_owned();
            match section {
                Section::Main => {
                    main.insert(key.to_owned(), (value, number));
                }
                Section::Default => {
                    defaults.insert(key.to_owned(), (value, number));
                }
                Section::Other => {}
            }
            last_key = Some(key.to_owned());
        }
        Ok(Config {
            origin: origin.to_owned(),
            main,
            defaults,
        })
    }

    /// Reads and parses a file (at most [`MAX_CONFIG_BYTES`], UTF-8). Errors name the path.
    ///
    /// The limit holds whatever the file is: a regular file that reports a larger size is
    /// refused before it is read, and anything is read through a reader that stops one byte
    /// past the limit, so a FIFO or `/dev/zero` costs at most the limit in memory.
    ///
    /// ```
    /// use ckan_signals::config::{Config, ConfigError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc_from_file_{}.ini", std::process::id()));
    /// std::fs::write(&path, "[app:main]\nckan.plugins = audit\n").unwrap();
    /// let config = Config::from_file(&path)?;
    /// assert_eq!(config.plugins()?, ["audit"]);
    /// std::fs::remove_file(&path).unwrap();
    ///
    /// let err = Config::from_file(&path).unwrap_err(); // gone now
    /// assert!(matches!(err, ConfigError::Read { .. }));
    /// # Ok::<(), ckan_signals::config::ConfigError>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let read_error = |e: std::io::Error| ConfigError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        // The reported size is only a hint (a pipe or a device reports 0): it refuses a
        // regular file that says it is too large, with its size, and sizes the buffer.
        let len = file.metadata().map_err(read_error)?.len();
        if len > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                path: shown,
                len,
                max: MAX_CONFIG_BYTES,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(ConfigError::LimitExceeded {
                path: shown,
                max: MAX_CONFIG_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            ConfigError::Malformed {
                origin: shown.clone(),
                line,
                problem: "the line is not valid UTF-8; save the file as UTF-8".to_owned(),
            }
        })?;
        Config::parse(&text, &shown)
    }

    /// The value of `key`, if set: from `[app:main]`, else from `[DEFAULT]` (other sections do
    /// not count). A value continued over several lines has its lines joined with `\n`.
    ///
    /// ```
    /// use ckan_signals::config::Config;
    ///
    /// let text = "[DEFAULT]\nkey = 0\nshared = d\n[app:main]\nkey = 1\n  more\n[server:main]\nport = 5000\n";
    /// let config = Config::parse(text, "demo.ini")?;
    /// assert_eq!(config.get("key"), Some("1\nmore"));
    /// assert_eq!(config.get("shared"), Some("d"));
    /// assert_eq!(config.get("port"), None);
    /// # Ok::<(), ckan_signals::config::ConfigError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|(v, _)| v.as_str())
    }

    /// The value and line of `key`: `[app:main]`'s, else `[DEFAULT]`'s.
    fn entry(&self, key: &str) -> Option<&(String, usize)> {
        self.main.get(key).or_else(|| self.defaults.get(key))
    }

    /// The line `key` was set on, from 1; `0` for a value given by [`set`](Self::set).
    ///
    /// ```
    /// use ckan_signals::config::Config;
    ///
    /// let mut config = Config::parse("# comment\nckan.plugins = audit\n", "demo.ini")?;
    /// assert_eq!(config.line_of("ckan.plugins"), Some(2));
    /// config.set("ckan.plugins", "stats");
    /// assert_eq!(config.line_of("ckan.plugins"), Some(0));
    /// # Ok::<(), ckan_signals::config::ConfigError>(())
    /// ```
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.entry(key).map(|(_, line)| *line)
    }

    /// Overrides `key` (for example from an environment variable), as if `[app:main]` set it.
    ///
    /// ```
    /// use ckan_signals::config::Config;
    ///
    /// let mut config = Config::default();
    /// config.set("ckan.plugins", "audit stats");
    /// assert_eq!(config.plugins()?, ["audit", "stats"]);
    /// # Ok::<(), ckan_signals::config::ConfigError>(())
    /// ```
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.main.insert(key.to_owned(), (value.into(), 0));
    }

    /// The plugins `ckan.plugins` enables, in order (none when it is not set). A name listed
    /// twice is an error, and so is a name the naming rules refuse
    /// ([`ConfigError::InvalidPluginName`]): either names the file and line.
    ///
    /// ```
    /// use ckan_signals::config::Config;
    ///
    /// let config = Config::parse("ckan.plugins = activity\n  audit\n", "demo.ini")?;
    /// assert_eq!(config.plugins()?, ["activity", "audit"]);
    /// let twice = Config::parse("ckan.plugins = a a\n", "demo.ini")?;
    /// assert!(twice.plugins().unwrap_err().to_string().starts_with("demo.ini:1: "));
    /// # Ok::<(), ckan_signals::config::ConfigError>(())
    /// ```
    pub fn plugins(&self) -> Result<Vec<String>, ConfigError> {
        let origin = match self.line_of("ckan.plugins") {
            Some(0) | None => self.origin.clone(),
            Some(line) => format!("{}:{line}", self.origin),
        };
        parse_plugin_list(self.get("ckan.plugins").unwrap_or(""), &origin)
    }
}

/// Splits a `ckan.plugins` value (space- or newline-separated) into names, rejecting repeats.
/// `origin` names the file (and line) the value came from.
///
/// ```
/// use ckan_signals::config::parse_plugin_list;
///
/// assert_eq!(parse_plugin_list("a\n b  c", "demo.ini:3")?, ["a", "b", "c"]);
/// let err = parse_plugin_list("a a", "demo.ini:3").unwrap_err();
/// assert!(err.to_string().starts_with("demo.ini:3: `ckan.plugins` names `a` twice"));
/// # Ok::<(), ckan_signals::config::ConfigError>(())
/// ```
pub fn parse_plugin_list(value: &str, origin: &str) -> Result<Vec<String>, ConfigError> {
    split_plugin_list(value).map_err(|problem| {
        problem.into_error(origin, |name| ConfigError::DuplicatePlugin {
            origin: origin.to_owned(),
            name,
        })
    })
}

/// Splits a plugin list given in the environment variable `variable`, rejecting repeats.
///
/// ```
/// use ckan_signals::config::{parse_plugin_list_from_variable, PLUGINS_ENV_VAR};
///
/// assert_eq!(parse_plugin_list_from_variable("a b", PLUGINS_ENV_VAR)?, ["a", "b"]);
/// let err = parse_plugin_list_from_variable("a b a", PLUGINS_ENV_VAR).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "CKAN__PLUGINS names `a` twice; list each plugin once (a plugin loaded twice is an error)"
/// );
/// # Ok::<(), ckan_signals::config::ConfigError>(())
/// ```
pub fn parse_plugin_list_from_variable(
    value: &str,
    variable: &str,
) -> Result<Vec<String>, ConfigError> {
    split_plugin_list(value).map_err(|problem| {
        problem.into_error(variable, |name| ConfigError::DuplicatePluginInVariable {
            variable: variable.to_owned(),
            name,
        })
    })
}

/// What is wrong with a plugin list.
#[derive(Debug, PartialEq, Eq)]
enum ListProblem {
    /// The first name listed twice (the name whose second occurrence comes first).
    Repeated(String),
    /// A word with a comma, a quote or a comment sign.
    NotAName(String),
    /// A word the naming rules refuse.
    Invalid(String, NameRule),
}

impl ListProblem {
    /// The error for a list from `origin`; a repeat's error (which differs for a file and a
    /// variable) is `repeated`'s.
    fn into_error(self, origin: &str, repeated: impl FnOnce(String) -> ConfigError) -> ConfigError {
        match self {
            ListProblem::Repeated(name) => repeated(name),
            ListProblem::NotAName(name) => ConfigError::NotAPluginName {
                origin: origin.to_owned(),
                name,
            },
            ListProblem::Invalid(name, rule) => ConfigError::InvalidPluginName {
                origin: origin.to_owned(),
                name,
                rule,
            },
        }
    }
}

/// The names in a plugin list, in order. Linear in the list's length: the names seen so far
/// are kept in a set. The list's own mistakes (a comma, a repeat) come first, then each name
/// is checked against the naming rules, so that a name's error names the list it came from.
fn split_plugin_list(value: &str) -> Result<Vec<String>, ListProblem> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut names: Vec<String> = Vec::new();
    for name in value.split_whitespace() {
        if name.contains([',', '"', '\'', '#', ';']) {
            return Err(ListProblem::NotAName(name.to_owned()));
        }
        if !seen.insert(name) {
            return Err(ListProblem::Repeated(name.to_owned()));
        }
        names.push(name.to_owned());
    }
    if let Some((name, rule)) = names
        .iter()
        .find_map(|name| check_name(name).err().map(|rule| (name, rule)))
    {
        return Err(ListProblem::Invalid(name.clone(), rule));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_quotes_and_comment_signs_in_the_plugin_list_say_how_to_write_it() {
        let config = Config::parse("[app:main]\nckan.plugins = good, stats\n", "p.ini").unwrap();
        assert_eq!(
            config.plugins().unwrap_err().to_string(),
            "p.ini:2: the plugin list has `good,`, which is not a plugin name; separate plugin \
             names with spaces only (no commas or quotes; a `#` or `;` there is not a comment)"
        );
        for list in ["\"audit\"", "audit # the audit log", "a;b"] {
            assert!(
                matches!(
                    parse_plugin_list(list, "x"),
                    Err(ConfigError::NotAPluginName { .. })
                ),
                "{list}"
            );
        }
        assert!(matches!(
            parse_plugin_list_from_variable("a,b", PLUGINS_ENV_VAR),
            Err(ConfigError::NotAPluginName { origin, .. }) if origin == PLUGINS_ENV_VAR
        ));
    }

    #[test]
    fn reads_sections_comments_and_continuations() {
        let text = "# comment\n; also\n[app:main]\nckan.site_url: http://x\nckan.plugins =\n    a\n\tb\n\nother = 1\n";
        let config = Config::parse(text, "t.ini").unwrap();
        assert_eq!(config.get("ckan.site_url"), Some("http://x"));
        assert_eq!(config.plugins().unwrap(), ["a", "b"]);
        assert_eq!(config.line_of("other"), Some(9));
    }

    /// CKAN reads `[app:main]`, with `[DEFAULT]` as its fallback (configparser's rules);
    /// no other section counts, whatever order the sections come in.
    #[test]
    fn app_main_wins_over_default_wherever_default_comes() {
        let text = "[app:main]\nckan.plugins = a b\n[DEFAULT]\nckan.plugins = c\n";
        let config = Config::parse(text, "t.ini").unwrap();
        assert_eq!(config.plugins().unwrap(), ["a", "b"]);
        assert_eq!(config.line_of("ckan.plugins"), Some(2));
        let text = "[DEFAULT]\nckan.plugins = c\n[app:main]\nckan.plugins = a b\n";
        assert_eq!(
            Config::parse(text, "t.ini").unwrap().plugins().unwrap(),
            ["a", "b"]
        );
    }

    #[test]
    fn default_alone_gives_its_value() {
        let text = "[DEFAULT]\nckan.plugins = c\n  d\n[app:main]\nckan.site_url = http://x\n";
        let config = Config::parse(text, "t.ini").unwrap();
        assert_eq!(config.plugins().unwrap(), ["c", "d"]);
        assert_eq!(config.line_of("ckan.plugins"), Some(2));
        // With no `[app:main]` section at all, too.
        let config = Config::parse("[DEFAULT]\nckan.plugins = c\n", "t.ini").unwrap();
        assert_eq!(config.plugins().unwrap(), ["c"]);
    }

    #[test]
    fn other_sections_are_ignored() {
        let text = "[app:other]\nckan.plugins = x\n[app:main]\nckan.site_url = http://x\n\
                    [server:main]\nckan.plugins = y\n  z\n";
        let config = Config::parse(text, "t.ini").unwrap();
        assert!(config.plugins().unwrap().is_empty());
        assert_eq!(config.get("ckan.plugins"), None);
        assert_eq!(config.line_of("ckan.plugins"), None);
        // After `[app:main]` sets it, a later `[app:other]` does not change it.
        let text = "[app:main]\nckan.plugins = a\n[app:other]\nckan.plugins = x\n  y\n";
        let config = Config::parse(text, "t.ini").unwrap();
        assert_eq!(config.plugins().unwrap(), ["a"]);
        assert_eq!(config.line_of("ckan.plugins"), Some(2));
        // Section names are exact, as in configparser.
        let text = "[App:Main]\nckan.plugins = x\n[default]\nckan.site_url = y\n";
        let config = Config::parse(text, "t.ini").unwrap();
        assert_eq!(config.get("ckan.plugins"), None);
        assert_eq!(config.get("ckan.site_url"), None);
    }

    #[test]
    fn keys_before_any_header_act_as_default_values() {
        let config = Config::parse("ckan.plugins = a\n", "t.ini").unwrap();
        assert_eq!(config.plugins().unwrap(), ["a"]);
        let text = "ckan.plugins = a\n[app:main]\nckan.plugins = b\n";
        assert_eq!(
            Config::parse(text, "t.ini").unwrap().plugins().unwrap(),
            ["b"]
        );
    }

    #[test]
    fn set_overrides_app_main_and_default() {
        let text = "[DEFAULT]\nckan.plugins = c\n[app:main]\nckan.plugins = a\n";
        let mut config = Config::parse(text, "t.ini").unwrap();
        config.set("ckan.plugins", "d");
        assert_eq!(config.plugins().unwrap(), ["d"]);
        assert_eq!(config.line_of("ckan.plugins"), Some(0));
    }

    #[test]
    fn empty_config_enables_nothing() {
        assert!(Config::parse("", "e.ini")
            .unwrap()
            .plugins()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let cases = [
            (
                "  orphan\n",
                "t.ini:1: an indented line continues a value, but no key comes before it: `orphan`",
            ),
            (
                "[app:main\n",
                "t.ini:1: a section header must look like `[name]`, found `[app:main`",
            ),
            ("\n\n= 3\n", "t.ini:3: the key before `=` is empty"),
        ];
        for (text, message) in cases {
            assert_eq!(
                Config::parse(text, "t.ini").unwrap_err().to_string(),
                message
            );
        }
    }

    #[test]
    fn a_plugin_named_twice_is_an_error() {
        let config = Config::parse("[app:main]\nckan.plugins = a b a\n", "t.ini").unwrap();
        assert_eq!(
            config.plugins().unwrap_err().to_string(),
            "t.ini:2: `ckan.plugins` names `a` twice; list each plugin once (a plugin loaded twice is an error)"
        );
    }

    #[test]
    fn the_first_name_listed_twice_is_the_one_reported() {
        // `b`'s second occurrence comes before `a`'s.
        assert_eq!(
            split_plugin_list("a b c b a"),
            Err(ListProblem::Repeated("b".to_owned()))
        );
        assert_eq!(
            split_plugin_list("a\n  b\tc"),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(split_plugin_list(" \n "), Ok(vec![]));
        // Names compare exactly: case and punctuation count.
        assert_eq!(split_plugin_list("a A a.b a-b").map(|n| n.len()), Ok(4));
    }

    /// A long list is checked in one pass (the check used to compare each name with every
    /// earlier one). Not a timing test: it checks the result, which must stay the same.
    #[test]
    fn a_long_list_keeps_its_order_and_reports_a_repeat_at_the_end() {
        let names: Vec<String> = (0..20_000).map(|i| format!("plugin_{i}")).collect();
        let list = names.join(" ");
        assert_eq!(split_plugin_list(&list), Ok(names.clone()));
        let repeated = format!("{list}\n  plugin_10000 plugin_3");
        assert_eq!(
            parse_plugin_list(&repeated, "big.ini:2").unwrap_err(),
            ConfigError::DuplicatePlugin {
                origin: "big.ini:2".into(),
                name: "plugin_10000".into(),
            }
        );
        assert_eq!(
            parse_plugin_list(&repeated, "big.ini:2")
                .unwrap_err()
                .to_string(),
            "big.ini:2: `ckan.plugins` names `plugin_10000` twice; list each plugin once (a plugin \
             loaded twice is an error)"
        );
    }

    #[test]
    fn messages_quote_at_most_64_characters_of_a_long_input() {
        let long = "p".repeat(1 << 20);
        let shown = format!("`{}…` (1048576 bytes)", "p".repeat(64));
        let twice = format!("{long} {long}");
        let err = parse_plugin_list(&twice, "t.ini:1").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "t.ini:1: `ckan.plugins` names {shown} twice; list each plugin once (a plugin \
                 loaded twice is an error)"
            )
        );
        assert!(matches!(err, ConfigError::DuplicatePlugin { name, .. } if name == long));
        assert_eq!(
            parse_plugin_list_from_variable(&twice, PLUGINS_ENV_VAR)
                .unwrap_err()
                .to_string(),
            format!(
                "CKAN__PLUGINS names {shown} twice; list each plugin once (a plugin loaded twice \
                 is an error)"
            )
        );
        let cases = [
            (
                format!("  {long}\n"),
                format!(
                    "t.ini:1: an indented line continues a value, but no key comes before it: {shown}"
                ),
            ),
            (
                format!("[{long}\n"),
                format!(
                    "t.ini:1: a section header must look like `[name]`, found `[{}…` (1048577 bytes)",
                    "p".repeat(63)
                ),
            ),
            (
                format!("{long}\n"),
                format!(
                    "t.ini:1: expected `key = value`, a `[section]` or a comment, found {shown}"
                ),
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                Config::parse(&text, "t.ini").unwrap_err().to_string(),
                message
            );
        }
        // Exactly 64 characters are still quoted whole.
        let edge = "é".repeat(64);
        assert_eq!(
            Config::parse(&format!("{edge}\n"), "t.ini")
                .unwrap_err()
                .to_string(),
            format!("t.ini:1: expected `key = value`, a `[section]` or a comment, found `{edge}`")
        );
    }
}
