//! The naming rules shared by namespaces, signals and plugins.
//!
//! The rules are `const fn`s so that `#[signal]`, `#[subscriber]` and `#[plugin]` check names at
//! compile time through the same code that checks them at run time: there is one copy of the
//! rules, here.

use std::fmt;

/// The longest name allowed, in bytes.
///
/// ```
/// use signals_core::{check_name, MAX_NAME_LEN};
///
/// assert!(check_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
/// assert!(check_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
/// ```
pub const MAX_NAME_LEN: usize = 255;

/// What a name is the name of, for error messages.
///
/// ```
/// use signals_core::{Error, NameKind, Namespace};
///
/// match Namespace::get("no way").unwrap_err() {
///     Error::InvalidName { kind, .. } => assert_eq!(kind, NameKind::Namespace),
///     other => panic!("unexpected {other}"),
/// }
/// assert_eq!(NameKind::Plugin.to_string(), "plugin");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A namespace such as `ckan` or `ckanext`.
    Namespace,
    /// A signal inside a namespace, such as `user_created`.
    Signal,
    /// A plugin, such as `activity`.
    Plugin,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Namespace => "namespace",
            NameKind::Signal => "signal",
            NameKind::Plugin => "plugin",
        })
    }
}

/// The rule a rejected name broke.
///
/// A valid name is 1 to [`MAX_NAME_LEN`] bytes of ASCII letters, digits, `_`, `.` and `-`;
/// a namespace name has no `.` (see [`check_namespace_name`]).
///
/// ```
/// use signals_core::{check_name, NameRule};
///
/// assert_eq!(check_name("user_created"), Ok(()));
/// assert_eq!(check_name(""), Err(NameRule::Empty));
/// assert_eq!(check_name("user created"), Err(NameRule::BadCharacter { index: 4 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The byte at `index` is not an ASCII letter, digit, `_`, `.` or `-`.
    BadCharacter {
        /// Byte offset of the first offending character.
        index: usize,
    },
    /// A namespace name has a `.`: a dot separates the namespace from the signal in a qualified
    /// name (`ckanext.datastore.upsert`), so only signal names may have dots.
    DotInNamespace {
        /// Byte offset of the first `.`.
        index: usize,
    },
}

impl NameRule {
    /// The rule in words, usable in `const` contexts (the macros' compile-time checks use it).
    /// Shorter than the `Display` text, which also says how to fix the name.
    ///
    /// ```
    /// use signals_core::NameRule;
    ///
    /// const MESSAGE: &str = NameRule::Empty.message();
    /// assert_eq!(MESSAGE, "a name must not be empty");
    /// ```
    pub const fn message(&self) -> &'static str {
        match self {
            NameRule::Empty => "a name must not be empty",
            NameRule::TooLong { .. } => "a name must be at most 255 bytes long",
            NameRule::BadCharacter { .. } => {
                "a name may contain only ASCII letters, digits, `_`, `.` and `-`"
            }
            NameRule::DotInNamespace { .. } => {
                "a namespace name must not contain `.` (a dot separates the namespace from the \
                 signal); use `_` or `-` instead"
            }
        }
    }
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Empty => f.write_str("it is empty; give it at least one character"),
            NameRule::TooLong { len } => write!(
                f,
                "it is {len} bytes long; shorten it to at most {MAX_NAME_LEN} bytes"
            ),
            NameRule::BadCharacter { index } => write!(
                f,
                "the character at byte {index} is not allowed; use only ASCII letters, digits, `_`, `.` and `-`"
            ),
            NameRule::DotInNamespace { index } => write!(
                f,
                "it has a `.` at byte {index}; a dot separates the namespace from the signal in a \
                 qualified name, so a namespace name cannot have one; use `_` or `-` instead (a \
                 signal name may have dots)"
            ),
        }
    }
}

/// Checks `name` against the naming rules (see [`NameRule`]). Usable in `const` contexts.
///
/// ```
/// use signals_core::{check_name, NameRule};
///
/// const OK: bool = check_name("datastore.upsert").is_ok();
/// assert!(OK);
/// assert_eq!(check_name("ckan/ext"), Err(NameRule::BadCharacter { index: 4 }));
/// ```
pub const fn check_name(name: &str) -> Result<(), NameRule> {
    check_name_bytes(name.as_bytes())
}

/// Checks raw bytes against the naming rules; bytes that are not ASCII (including any that are
/// not UTF-8) are reported as [`NameRule::BadCharacter`].
///
/// ```
/// use signals_core::{check_name_bytes, NameRule};
///
/// assert_eq!(check_name_bytes(b"ckanext"), Ok(()));
/// assert_eq!(check_name_bytes(b"ck\xffan"), Err(NameRule::BadCharacter { index: 2 }));
/// ```
pub const fn check_name_bytes(bytes: &[u8]) -> Result<(), NameRule> {
    if bytes.is_empty() {
        return Err(NameRule::Empty);
    }
    if bytes.len() > MAX_NAME_LEN {
        return Err(NameRule::TooLong { len: bytes.len() });
    }
    let mut index = 0;
    while index < bytes.len() {
        let b = bytes[index];
        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-') {
            return Err(NameRule::BadCharacter { index });
        }
        index += 1;
    }
    Ok(())
}

/// Checks a namespace name: the naming rules (see [`check_name`]), and no `.`
/// ([`NameRule::DotInNamespace`]). A qualified name is `namespace.signal`, and only a signal
/// name may have dots, so a qualified name names one signal: `pq` with `x.y` is `pq.x.y`, and
/// `pq.x` cannot be a namespace. Usable in `const` contexts.
///
/// ```
/// use signals_core::{check_namespace_name, NameRule};
///
/// assert_eq!(check_namespace_name("ckanext"), Ok(()));
/// assert_eq!(check_namespace_name("ckan.ext"), Err(NameRule::DotInNamespace { index: 4 }));
/// assert_eq!(check_namespace_name(""), Err(NameRule::Empty));
/// ```
pub const fn check_namespace_name(name: &str) -> Result<(), NameRule> {
    check_namespace_name_bytes(name.as_bytes())
}

/// Checks raw bytes as [`check_namespace_name`] does.
///
/// ```
/// use signals_core::{check_namespace_name_bytes, NameRule};
///
/// assert_eq!(check_namespace_name_bytes(b"a.b"), Err(NameRule::DotInNamespace { index: 1 }));
/// ```
pub const fn check_namespace_name_bytes(bytes: &[u8]) -> Result<(), NameRule> {
    if let Err(rule) = check_name_bytes(bytes) {
        return Err(rule);
    }
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'.' {
            return Err(NameRule::DotInNamespace { index });
        }
        index += 1;
    }
    Ok(())
}

/// Checks a name and panics at compile time when it is invalid. Generated code calls it in a
/// `const` item, so an invalid name in an attribute is a compile error.
#[doc(hidden)]
pub const fn assert_valid_name(name: &str) {
    if let Err(rule) = check_name(name) {
        panic!("{}", rule.message());
    }
}

/// Checks a namespace name ([`check_namespace_name`]) and panics at compile time when it is
/// invalid: the compile-time twin of the check [`Namespace::get`](crate::Namespace::get) makes.
#[doc(hidden)]
pub const fn assert_valid_namespace_name(name: &str) {
    if let Err(rule) = check_namespace_name(name) {
        panic!("{}", rule.message());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert_eq!(check_name("ckanext.datastore-upsert_2"), Ok(()));
        assert_eq!(check_name(&"a".repeat(MAX_NAME_LEN)), Ok(()));
    }

    #[test]
    fn rejects_each_rule() {
        assert_eq!(check_name(""), Err(NameRule::Empty));
        assert_eq!(
            check_name(&"a".repeat(256)),
            Err(NameRule::TooLong { len: 256 })
        );
        assert_eq!(check_name("a b"), Err(NameRule::BadCharacter { index: 1 }));
        assert_eq!(check_name("é"), Err(NameRule::BadCharacter { index: 0 }));
        assert_eq!(
            check_name_bytes(b"ok\xff"),
            Err(NameRule::BadCharacter { index: 2 })
        );
    }

    #[test]
    fn namespace_names_have_no_dot_and_signal_names_may() {
        assert_eq!(check_name("x.y"), Ok(()));
        assert_eq!(
            check_namespace_name("pq.x"),
            Err(NameRule::DotInNamespace { index: 2 })
        );
        // The other rules come first, as in `check_name`.
        assert_eq!(
            check_namespace_name("a.b c"),
            Err(NameRule::BadCharacter { index: 3 })
        );
        assert_eq!(check_namespace_name("ckan-ext_2"), Ok(()));
        const _: () = assert_valid_namespace_name("ckanext");
    }
}
