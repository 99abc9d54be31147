//! Quoting a person's input in an error message, at a bounded length.
//!
//! An error message repeats the input it rejects, so that the reader can find it. Input can be
//! arbitrarily long (a name read from a request, a line of a configuration file), so a message
//! quotes at most [`MAX_QUOTED_CHARS`] characters of it, then `…` and the input's whole
//! length in bytes: a 1 MiB name gives a message of about a hundred bytes, not of 1 MiB.
//! Shorter input is quoted whole.
//!
//! Control characters (an ESC, a NUL, a newline: anything that could move the cursor, recolour
//! or clear a terminal, or cut a log line) and invisible bidirectional and zero-width
//! characters are escaped as Rust writes them (`\u{1b}`, `\0`, `\n`), so a message never
//! carries them to the reader's terminal; every other character is shown as it is.
//!
//! This is the one place that does it: signals-core's errors use it, and so can a host's own
//! errors (ckan-signals' configuration errors do), through [`quoted`].

use std::fmt::{self, Write as _};

use crate::name::{NameRule, MAX_NAME_LEN};

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
    /// The most characters shown.
    limit: usize,
    /// The input's length in bytes, given after a cut: `text.len()`, unless `text` is a lossy
    /// decoding of the input.
    input_len: usize,
}

impl<'a> Quoted<'a> {
    fn new(text: &'a str, style: Style) -> Self {
        Quoted {
            text,
            style,
            limit: MAX_QUOTED_CHARS,
            input_len: text.len(),
        }
    }

    /// The part of the input that is shown, and whether it is all of it. Looks at no more than
    /// `limit` + 1 characters, however long the input is.
    fn shown(&self) -> (&str, bool) {
        match self.text.char_indices().nth(self.limit) {
            Some((end, _)) => (&self.text[..end], false),
            None => (self.text, true),
        }
    }
}

/// Whether a message escapes `c` rather than showing it: control characters, and the
/// invisible characters that reorder or hide text (bidirectional controls, zero-width
/// characters, the byte order mark).
fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

/// Writes `text` with the characters [`is_escaped`] picks escaped as Rust writes them.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            '\0' => f.write_str("\\0")?,
            '\t' => f.write_str("\\t")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            c if is_escaped(c) => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shown, whole) = self.shown();
        let ellipsis = if whole { "" } else { "…" };
        match self.style {
            Style::Backticks => {
                f.write_char('`')?;
                write_escaped(f, shown)?;
                write!(f, "{ellipsis}`")?;
            }
            Style::Bare => {
                write_escaped(f, shown)?;
                f.write_str(ellipsis)?;
            }
            Style::Debug => {
                // `str`'s `Debug` escapes each character on its own, so the escaped prefix is a
                // prefix of the escaped whole. It is at most `MAX_QUOTED_CHARS` characters long.
                let escaped = format!("{shown:?}");
                let open = escaped.strip_suffix('"').unwrap_or(&escaped);
                write!(f, "{open}{ellipsis}\"")?;
            }
        }
        if !whole {
            write!(f, " ({} bytes)", self.input_len)?;
        }
        Ok(())
    }
}

/// `text` in backticks, for an error message: whole when it is at most [`MAX_QUOTED_CHARS`]
/// characters long, else its first [`MAX_QUOTED_CHARS`] characters, `…`, and its length in
/// bytes: `` `aaaa…` (1048576 bytes) ``. Control characters are escaped (see the module
/// docs).
///
/// ```
/// use signals_core::text::quoted;
///
/// assert_eq!(quoted("audit").to_string(), "`audit`");
/// let long = "a".repeat(1 << 20);
/// assert_eq!(quoted(&long).to_string(), format!("`{}…` (1048576 bytes)", "a".repeat(64)));
/// assert_eq!(quoted("\x1b[2J\0").to_string(), r"`\u{1b}[2J\0`");
/// ```
pub fn quoted(text: &str) -> impl fmt::Display + '_ {
    Quoted::new(text, Style::Backticks)
}

/// `text` as `str`'s `Debug` writes it (in double quotes, with escapes), bounded as
/// [`quoted`] is: `"aaaa…" (1048576 bytes)`. The errors quote names with [`rejected_name`],
/// which is this style with the input's length; the tests check the style through this.
#[cfg(test)]
pub(crate) fn debug(text: &str) -> impl fmt::Display + '_ {
    Quoted::new(text, Style::Debug)
}

/// A name that broke `rule`, as [`debug`] writes it, counted in the input's bytes: `name` may
/// be a lossy decoding of bytes that were not UTF-8, longer than the input (a `\xff` byte is a
/// three-byte `U+FFFD`). A name over the length limit is cut, with the length the rule
/// measured; any other rejected name is at most [`MAX_NAME_LEN`] bytes of input, so it is
/// quoted whole, and no count is needed.
pub(crate) fn rejected_name<'a>(name: &'a str, rule: &NameRule) -> impl fmt::Display + 'a {
    let mut quoted = Quoted::new(name, Style::Debug);
    match *rule {
        NameRule::TooLong { len } => quoted.input_len = len,
        // At most `MAX_NAME_LEN` characters (a bound should a caller build the error itself).
        _ => quoted.limit = MAX_NAME_LEN,
    }
    quoted
}

/// `text` as it is, without delimiters, bounded as [`quoted`] is: `aaaa… (1048576 bytes)`.
/// For text that is already formatted.
pub(crate) fn bare(text: &str) -> impl fmt::Display + '_ {
    Quoted::new(text, Style::Bare)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::name::NameKind;

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
    fn control_characters_are_escaped() {
        let text = "a\x1b[31m\0\t\n\r\x7f\u{85}\u{202e}\u{200b}\u{feff}é🦀`\\\"";
        let escaped = r#"a\u{1b}[31m\0\t\n\r\u{7f}\u{85}\u{202e}\u{200b}\u{feff}é🦀`\""#;
        assert_eq!(quoted(text).to_string(), format!("`{escaped}`"));
        assert_eq!(bare(text).to_string(), escaped);
        // Cut after 64 characters of input, whatever their escapes' length.
        let nul = "\0".repeat(100);
        assert_eq!(
            quoted(&nul).to_string(),
            format!("`{}…` (100 bytes)", r"\0".repeat(64))
        );
    }

    #[test]
    fn a_rejected_name_is_counted_in_the_input_s_bytes() {
        let lossy = String::from_utf8_lossy(&[0xff; 1000]).into_owned();
        assert_eq!(
            rejected_name(&lossy, &NameRule::TooLong { len: 1000 }).to_string(),
            format!("\"{}…\" (1000 bytes)", "\u{fffd}".repeat(64))
        );
        let lossy = String::from_utf8_lossy(&[0xff; 200]).into_owned();
        assert_eq!(
            rejected_name(&lossy, &NameRule::BadCharacter { index: 0 }).to_string(),
            format!("\"{lossy}\"")
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
