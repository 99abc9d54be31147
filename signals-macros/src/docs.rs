//! Doc comments, gathered into the strings the registry shows.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The doc comment of an item or field: its `#[doc = "..."]` lines joined with newlines,
/// their common indentation removed, trimmed. `#[doc = ...]` values that are not string
/// literals (`include_str!`) are left out.
pub fn collect(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        let Meta::NameValue(meta) = &attr.meta else {
            continue;
        };
        if !meta.path.is_ident("doc") {
            continue;
        }
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) = &meta.value
        {
            lines.extend(lit.value().split('\n').map(str::to_owned));
        }
    }
    let leading = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| leading(line))
        .min()
        .unwrap_or(0);
    let body: Vec<&str> = lines
        .iter()
        .map(|line| line[indent.min(leading(line))..].trim_end())
        .collect();
    body.join("\n").trim().to_owned()
}
