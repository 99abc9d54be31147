//! Types written as text, for the registry: `Option<String>` rather than the
//! `Option < String >` that `stringify!` prints for tokens a macro passes on.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// What the previous token asks of the next one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// Start, `&`, `<`, `::`, an opening bracket: nothing is spaced from it.
    Glue,
    /// A word, a closing bracket or `>`: a following word is spaced, punctuation is not.
    Word,
    /// A keyword such as `mut` or `dyn`, or a lifetime: a following bracket is spaced too.
    Keyword,
    /// `,`, `;`, `:`, `+`, `=`, `->`: anything following is spaced.
    Separator,
}

/// `tokens` as Rust source text, spaced the way rustfmt spaces a type.
pub fn to_text(tokens: impl ToTokens) -> String {
    let mut out = String::new();
    write(tokens.into_token_stream(), &mut out);
    out
}

fn write(tokens: TokenStream, out: &mut String) {
    let mut after = After::Glue;
    let mut tokens = tokens.into_iter().peekable();
    while let Some(tree) = tokens.next() {
        match tree {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if after != After::Glue {
                    out.push(' ');
                }
                let word = tree.to_string();
                let keyword = matches!(word.as_str(), "mut" | "const" | "dyn" | "impl" | "as");
                after = if keyword || out.ends_with('\'') {
                    After::Keyword
                } else {
                    After::Word
                };
                out.push_str(&word);
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                if matches!(after, After::Separator | After::Keyword) {
                    out.push(' ');
                }
                out.push_str(open);
                write(group.stream(), out);
                out.push_str(close);
                after = After::Word;
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                let joint = punct.spacing() == Spacing::Joint;
                let next_is = |tokens: &mut std::iter::Peekable<_>, want: char| matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == want);
                match c {
                    ':' if joint && next_is(&mut tokens, ':') => {
                        tokens.next();
                        out.push_str("::");
                        after = After::Glue;
                    }
                    '-' if joint && next_is(&mut tokens, '>') => {
                        tokens.next();
                        if after != After::Glue {
                            out.push(' ');
                        }
                        out.push_str("->");
                        after = After::Separator;
                    }
                    ',' | ';' | ':' => {
                        out.push(c);
                        after = After::Separator;
                    }
                    '+' | '=' => {
                        if after != After::Glue {
                            out.push(' ');
                        }
                        out.push(c);
                        after = After::Separator;
                    }
                    '<' => {
                        out.push(c);
                        after = After::Glue;
                    }
                    '>' => {
                        out.push(c);
                        after = After::Word;
                    }
                    '!' => {
                        if after != After::Glue {
                            out.push(' ');
                        }
                        out.push(c);
                        after = After::Word;
                    }
                    // `&`, `*`, `'` of a lifetime, `?` of `?Sized`, anything else.
                    _ => {
                        if after != After::Glue {
                            out.push(' ');
                        }
                        out.push(c);
                        after = After::Glue;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn prints_types_as_written() {
        for source in [
            "str",
            "Option<String>",
            "Result<u8, String>",
            "&'static str",
            "&mut [u8; 4]",
            "&'a [u8]",
            "Cow<'static, str>",
            "(u8, &str)",
            "()",
            "Vec<(u8, String)>",
            "std::collections::HashMap<String, Vec<u8>>",
            "Box<dyn Fn(u8) -> u8 + Send + 'static>",
            "Box<dyn Iterator<Item = u8>>",
            "<T as Trait>::Out",
            "*const u8",
            "fn(&str) -> !",
            "impl Fn() + ?Sized",
            "::core::option::Option<u8>",
        ] {
            let ty: proc_macro2::TokenStream = source.parse().unwrap();
            assert_eq!(to_text(ty), source);
        }
    }
}
