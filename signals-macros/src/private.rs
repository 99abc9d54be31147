//! How generated code names signals-core: through `::signals_core::__private`, or
//! `path::__private` when the attribute says `crate = path`, and never otherwise (std
//! included, so that a user's items cannot shadow what the code means).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::Path;

use crate::attr::{Key, Kind};

/// The `crate = path` key every attribute takes, for a crate that depends on signals-core
/// under another name or reaches it through a re-export (linkme's `#[linkme(crate = path)]`).
pub const CRATE_KEY: Key = Key {
    name: "crate",
    kind: Kind::Path,
    example: "signals_core",
};

/// The path of signals-core's `__private` module, which re-exports everything generated code
/// names.
pub struct Private(TokenStream);

impl Private {
    /// `path::__private`, or `::signals_core::__private` without a path.
    pub fn new(krate: Option<Path>) -> Private {
        match krate {
            Some(path) => Private(quote!(#path::__private)),
            None => Private(quote!(::signals_core::__private)),
        }
    }

    /// The path with every token spanned at `span`, for code whose errors are reported there
    /// (tokens spanned elsewhere would stretch the error over them).
    pub fn at(&self, span: Span) -> TokenStream {
        self.0
            .clone()
            .into_iter()
            .map(|mut tree| {
                tree.set_span(span);
                tree
            })
            .collect()
    }

    /// A `SourceLocation` of the token at `span` (the declared item's name).
    pub fn location(&self, span: Span) -> TokenStream {
        let p = self.at(span);
        quote_spanned! {span=>
            #p::SourceLocation {
                file: #p::file!(),
                line: #p::line!(),
                column: #p::column!(),
            }
        }
    }

    /// The declaring package's name, as Cargo gives it (empty outside Cargo).
    pub fn crate_name(&self) -> TokenStream {
        quote! {
            match #self::option_env!("CARGO_PKG_NAME") {
                #self::Option::Some(name) => name,
                #self::Option::None => "",
            }
        }
    }

    /// `module_path!()::name`: the path of the item called `name`.
    pub fn item_path(&self, name: &str) -> TokenStream {
        quote!(#self::concat!(#self::module_path!(), "::", #name))
    }
}

impl ToTokens for Private {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.0.clone());
    }
}
