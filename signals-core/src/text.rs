//! Quoting a person's input in an error message, at a bounded length.
//!
//! An error message repeats the input it rejects, so that the reader can find it. Input can be
//! arbitrarily long (a name read from a request, a line of a configuration file), so a message
//! quotes at most [`MAX_QUOTED_CHARS`] characters of it, then `…` and the input's whole
//! length in bytes: a 1 MiB name gives a message of about a hundred bytes, not of 1 MiB.
//! Shorter input is quoted whole, exactly as it is.
//!
//! This is the one place that does it: signals-core's errors use it, and so can a host's own
//! errors (ckan-signals' configuration errors do), through [`quoted`].

use std::fmt;

/// The most characters of an input that an error message quotes. Longer input is cut on a
/// character boundary after this many characters.
pub const MAX_QUOTED_CHARS: usize = 64;

/// How a quoted input is delimited.
#[derive(Debug, Clone, Copy)]
enum Style {
    /// In backticks, as is: `` `input` ``.
    Backticks,
    /// As `str`'s `Debug` writes it: in double quotes, with escapes.
    Debug,
    /// As is, undelimited (for text that is already formatted, such as a quoted sender key).
    Bare,
}

/// An input quoted for an error message; see the module docs.
#[derive(Debug, Clone, Copy)]
struct Quoted<'a> {
    text: &'a str,
    style: Style,
}

impl Quoted<'_> {
    /// The part of the input that is shown, and whether it is all of it. Looks at no more than
    /// [`MAX_QUOTED_CHARS`] + 1 characters, however long the input is.
    fn shown(&self) -> (&str, bool) {
        match self.text.char_indices().nth(MAX_QUOTED_CHARS) {
            Some((end, _)) => (&self.text[..end], false),
            None => (self.text, true),
        }
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shown, whole) = self.shown();
        let ellipsis = if whole { "" } else { "…" };
        match self.style {
            Style::Backticks => write!(f, "`{shown}{ellipsis}`")?,
            Style::Bare => write!(f, "{shown}{ellipsis}")?,
            Style::Debug => {
                // `str`'s `Debug` escapes each character on its own, so the escaped prefix is a
                // prefix of the escaped whole. It is at most `MAX_QUOTED_CHARS` characters long.
                let escaped = format!("{shown:?}");
                let open = escaped.strip_suffix('"').unwrap_or(&escaped);
                write!(f, "{open}{ellipsis}\"")?;
            }
        }
        if !whole {
            write!(f, " ({} bytes)", self.text.len())?;
        }
        Ok(())
    }
}

/// `text` in backticks, for an error message: whole when it is at most [`MAX_QUOTED_CHARS`]
/// characters long, else its first [`MAX_QUOTED_CHARS`] characters, `…`, and its length in
/// bytes: `` `aaaa…` (1048576 bytes) ``.
///
/// ```
/// use signals_core::text::quoted;
///
/// assert_eq!(quoted("audit").to_string(), "`audit`");
/// let long = "a".repeat(1 << 20);
/// assert_eq!(quoted(&long).to_string(), format!("`{}…` (1048576 bytes)", "a".repeat(64)));
/// ```
pub fn quoted(text: &str) -> impl fmt::Display + '_ {
    Quoted {
        text,
        style: Style::Backticks,
    }
}

/// `text` as `str`'s `Debug` writes it (in double quotes, with escapes), bounded as
/// [`quoted`] is: `"aaaa…" (1048576 bytes)`.
pub(crate) fn debug(text: &str) -> impl fmt::Display + '_ {
    Quoted {
        text,
        style: Style::Debug,
    }
}

/// `text` as it is, without delimiters, bounded as [`quoted`] is: `aaaa… (1048576 bytes)`.
/// For text that is already formatted.
pub(crate) fn bare(text: &str) -> impl fmt::Display + '_ {
    Quoted {
        text,
        style: Style::Bare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::name::{NameKind, NameRule};

    const MIB: usize = 1024 * 1024;

    #[test]
    fn short_input_is_quoted_whole() {
        for text in [
            "",
            "a",
            "user created",
            &"a".repeat(MAX_QUOTED_CHARS),
            &"é".repeat(MAX_QUOTED_CHARS),
        ] {
            assert_eq!(quoted(text).to_string(), format!("`{text}`"));
            assert_eq!(debug(text).to_string(), format!("{text:?}"));
            assert_eq!(bare(text).to_string(), text);
        }
        // Escapes as `Debug` writes them.
        assert_eq!(
            debug("tab\there \"q\" 'x' \0").to_string(),
            r#""tab\there \"q\" 'x' \0""#
        );
    }

    #[test]
    fn long_input_is_cut_and_its_length_given() {
        let long = "a".repeat(MIB);
        let prefix = "a".repeat(MAX_QUOTED_CHARS);
        assert_eq!(
            quoted(&long).to_string(),
            format!("`{prefix}…` (1048576 bytes)")
        );
        assert_eq!(
            debug(&long).to_string(),
            format!("\"{prefix}…\" (1048576 bytes)")
        );
        assert_eq!(
            bare(&long).to_string(),
            format!("{prefix}… (1048576 bytes)")
        );
        // One character over the limit is cut too.
        let just_over = "b".repeat(MAX_QUOTED_CHARS + 1);
        assert_eq!(
            quoted(&just_over).to_string(),
            format!("`{}…` (65 bytes)", "b".repeat(MAX_QUOTED_CHARS))
        );
    }

    #[test]
    fn the_cut_falls_on_a_character_boundary() {
        // Two-, three- and four-byte characters: the limit counts characters, not bytes.
        for c in ['é', '€', '🦀'] {
            let text = c.to_string().repeat(MAX_QUOTED_CHARS * 3);
            let prefix = c.to_string().repeat(MAX_QUOTED_CHARS);
            assert_eq!(
                quoted(&text).to_string(),
                format!("`{prefix}…` ({} bytes)", text.len())
            );
        }
        // Mixed widths, with the boundary right after a multi-byte character.
        let text = format!("{}é{}", "x".repeat(MAX_QUOTED_CHARS - 1), "y".repeat(10));
        assert_eq!(
            quoted(&text).to_string(),
            format!(
                "`{}é…` ({} bytes)",
                "x".repeat(MAX_QUOTED_CHARS - 1),
                text.len()
            )
        );
    }

    #[test]
    fn a_cut_debug_quote_escapes_what_it_shows() {
        let text = "\t\"".repeat(MAX_QUOTED_CHARS);
        let shown = "\\t\\\"".repeat(MAX_QUOTED_CHARS / 2);
        assert_eq!(
            debug(&text).to_string(),
            format!("\"{shown}…\" ({} bytes)", text.len())
        );
    }

    #[test]
    fn an_invalid_name_message_stays_short_and_the_error_keeps_the_name() {
        let name = "n".repeat(MIB);
        let err = Error::InvalidName {
            kind: NameKind::Signal,
            name: name.clone(),
            rule: NameRule::TooLong { len: MIB },
        };
        assert_eq!(
            err.to_string(),
            format!(
                "invalid signal name \"{}…\" (1048576 bytes): it is 1048576 bytes long; \
                 shorten it to at most 255 bytes",
                "n".repeat(MAX_QUOTED_CHARS)
            )
        );
        assert!(matches!(err, Error::InvalidName { name: kept, .. } if kept == name));
        // A short one is quoted as it always was.
        let err = Error::InvalidName {
            kind: NameKind::Plugin,
            name: "bad plugin".into(),
            rule: NameRule::BadCharacter { index: 3 },
        };
        assert_eq!(
            err.to_string(),
            "invalid plugin name \"bad plugin\": the character at byte 3 is not allowed; \
             use only ASCII letters, digits, `_`, `.` and `-`"
        );
    }

    #[test]
    fn a_long_sender_key_is_cut_in_the_message() {
        let key = format!("{:?}", "k".repeat(MIB));
        let err = Error::SenderNotRecoverable {
            signal: "ns.saved".into(),
            sender_type: "u32",
            key,
        };
        assert_eq!(
            err.to_string(),
            format!(
                "signal `ns.saved` expects senders of type `u32`, which cannot be rebuilt from \
                 the sender key \"{}… (1048578 bytes); send through the typed API instead",
                "k".repeat(MAX_QUOTED_CHARS - 1)
            )
        );
    }
}
