//! The `key = value, ...` arguments every attribute takes, and the error accumulator.
//!
//! Parsing never stops at the first mistake: each bad key or value is recorded in [`Errors`]
//! and skipped, so one compile shows every problem of an attribute.

use std::fmt::Display;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitInt, LitStr, Path, Token, Type};

use crate::private::Private;

/// Errors gathered while expanding one attribute, combined into one `syn::Error`, and the
/// compile-time checks of the names that parsed, so that a bad name is reported in the same
/// compile as the attribute's other mistakes.
#[derive(Default)]
pub struct Errors(Option<syn::Error>, Vec<TokenStream>);

impl Errors {
    /// Records `error`.
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records `message` at `span`.
    pub fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records `message` spanning all of `tokens`.
    pub fn on(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Whether an error was recorded.
    pub fn any(&self) -> bool {
        self.0.is_some()
    }

    /// Records the errors of `other` (its name checks are dropped).
    pub fn absorb(&mut self, other: Errors) {
        if let Some(error) = other.0 {
            self.push(error);
        }
    }

    /// The errors alone, for an expansion that goes on and emits its own name checks.
    pub fn into_compile_errors(self) -> Option<TokenStream> {
        self.0.map(syn::Error::into_compile_error)
    }

    /// Checks `name` against the naming rules at compile time, should the expansion stop at
    /// another error (a successful expansion emits its own checks).
    pub fn check_name_too(&mut self, private: &Private, name: Option<&LitStr>) {
        if let Some(name) = name {
            self.1.push(check_name(private, name));
        }
    }

    /// As [`check_name_too`](Self::check_name_too), for a namespace name (which has no `.`).
    pub fn check_namespace_name_too(&mut self, private: &Private, name: Option<&LitStr>) {
        if let Some(name) = name {
            self.1.push(check_namespace_name(private, name));
        }
    }

    /// The item as written, followed by the errors and the name checks: code that uses the
    /// item then still resolves, and only the attribute's own mistakes are reported.
    pub fn emit_after(self, item: TokenStream) -> TokenStream {
        let errors = self.0.map(syn::Error::into_compile_error);
        let checks = self.1;
        quote!(#item #errors #(#checks)*)
    }
}

/// What a key's value must be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string literal: `namespace = "ckanext"`.
    Str,
    /// A type: `sender = str`.
    Type,
    /// A sender: a string literal, an integer literal (maybe negative) or `None`.
    Sender,
    /// A path: `crate = signals_core`.
    Path,
    /// A version number: an integer literal from 1 that fits a `u32` (`schema = 2`).
    Version,
}

/// A key an attribute accepts, and what its value must be.
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    /// An example value, for error messages: `"ckanext"`.
    pub example: &'static str,
}

/// A sender written in an attribute.
pub enum SenderValue {
    Str(LitStr),
    Int { value: i128, span: Span },
    None(Ident),
}

/// A parsed value.
pub enum Value {
    Str(LitStr),
    Type(Box<Type>),
    Sender(SenderValue),
    Path(Box<Path>),
    Version(u32),
}

/// The parsed arguments of one attribute.
pub struct Args {
    entries: Vec<(Ident, Value)>,
    /// Every key written, including those whose value was wrong.
    seen: Vec<String>,
    /// A syntax error stopped parsing: missing keys are not reported, as they may be there.
    pub incomplete: bool,
}

impl Args {
    /// Whether `key` was written, even with a wrong value (its error is already reported).
    pub fn mentions(&self, key: &str) -> bool {
        self.seen.iter().any(|k| k == key)
    }

    /// Removes and returns the value of `key`.
    fn take(&mut self, key: &str) -> Option<(Ident, Value)> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index))
    }

    /// The string value of `key`, if given.
    pub fn string(&mut self, key: &str) -> Option<LitStr> {
        match self.take(key)? {
            (_, Value::Str(lit)) => Some(lit),
            _ => unreachable!("`{key}` is declared as a string key"),
        }
    }

    /// The type value of `key`, if given.
    pub fn ty(&mut self, key: &str) -> Option<Box<Type>> {
        match self.take(key)? {
            (_, Value::Type(ty)) => Some(ty),
            _ => unreachable!("`{key}` is declared as a type key"),
        }
    }

    /// The sender value of `key`, if given.
    pub fn sender(&mut self, key: &str) -> Option<SenderValue> {
        match self.take(key)? {
            (_, Value::Sender(sender)) => Some(sender),
            _ => unreachable!("`{key}` is declared as a sender key"),
        }
    }

    /// The version value of `key`, if given.
    pub fn version(&mut self, key: &str) -> Option<u32> {
        match self.take(key)? {
            (_, Value::Version(version)) => Some(version),
            _ => unreachable!("`{key}` is declared as a version key"),
        }
    }

    /// The path generated code names signals-core by: `crate = path`, or `::signals_core`.
    pub fn private(&mut self) -> Private {
        match self.take("crate") {
            None => Private::new(None),
            Some((_, Value::Path(path))) => Private::new(Some(*path)),
            Some(_) => unreachable!("`crate` is declared as a path key"),
        }
    }
}

/// Parses `attr` as `key = value` pairs separated by commas, checking each key against
/// `keys`. Every mistake is recorded in `errors`; what could be parsed is returned.
pub fn parse(attr: TokenStream, attribute: &str, keys: &[Key], errors: &mut Errors) -> Args {
    let mut args = Args {
        entries: Vec::new(),
        seen: Vec::new(),
        incomplete: false,
    };
    let parser = |input: ParseStream| parse_pairs(input, attribute, keys, &mut args, errors);
    if let Err(error) = parser.parse2(attr) {
        errors.push(error);
        args.incomplete = true;
    }
    args
}

fn parse_pairs(
    input: ParseStream,
    attribute: &str,
    keys: &[Key],
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key = input.call(Ident::parse_any)?;
        let name = key.unraw().to_string();
        let spec = keys.iter().find(|k| k.name == name);
        args.seen.push(name.clone());
        if !input.peek(Token![=]) {
            let example = spec.map_or("...", |k| k.example);
            errors.at(
                key.span(),
                format_args!(
                    "expected `{name} = {example}`: every key of `#[{attribute}]` takes a value"
                ),
            );
            skip_value(input);
        } else {
            input.parse::<Token![=]>()?;
            match spec {
                None => {
                    let known = keys
                        .iter()
                        .map(|k| format!("`{}`", k.name))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let guess = keys
                        .iter()
                        .filter(|k| strsim::osa_distance(k.name, &name) <= 2)
                        .min_by_key(|k| strsim::osa_distance(k.name, &name))
                        .map(|k| format!("did you mean `{}`? ", k.name))
                        .unwrap_or_default();
                    errors.at(
                        key.span(),
                        format_args!(
                            "unknown key `{name}` in `#[{attribute}]`; {guess}the keys are: {known}"
                        ),
                    );
                    skip_value(input);
                }
                Some(spec) => match parse_value(input, spec) {
                    Ok(value) => {
                        if args.entries.iter().any(|(k, _)| *k == name) {
                            errors.at(
                                key.span(),
                                format_args!(
                                    "duplicate key `{name}` in `#[{attribute}]`; give it once"
                                ),
                            );
                        } else {
                            args.entries.push((Ident::new(&name, key.span()), value));
                        }
                    }
                    Err(error) => {
                        errors.push(error);
                        skip_value(input);
                    }
                },
            }
        }
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            errors.at(
                input.span(),
                format_args!("expected `,` before the next key of `#[{attribute}]`"),
            );
            skip_value(input);
            if input.is_empty() {
                break;
            }
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Skips tokens up to the next top-level comma (commas inside `<...>` are not separators).
fn skip_value(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        let mut depth = 0usize;
        while let Some((tree, next)) = rest.token_tree() {
            if let TokenTree::Punct(punct) = &tree {
                match punct.as_char() {
                    ',' if depth == 0 => break,
                    '<' => depth += 1,
                    '>' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

/// Parses one value; on error, `input` may be partly consumed (the caller skips the rest).
fn parse_value(input: ParseStream, key: &Key) -> syn::Result<Value> {
    let name = key.name;
    let example = key.example;
    match key.kind {
        Kind::Str => {
            if input.peek(LitStr) {
                Ok(Value::Str(input.parse()?))
            } else {
                Err(input.error(format_args!(
                    "expected a string literal, as in `{name} = {example}`"
                )))
            }
        }
        Kind::Type => {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                return Err(syn::Error::new(
                    lit.span(),
                    format_args!(
                        "`{name}` takes a type, not a string: write `{name} = {}`",
                        lit.value()
                    ),
                ));
            }
            match input.parse::<Type>() {
                Ok(ty) => Ok(Value::Type(Box::new(ty))),
                Err(error) => Err(syn::Error::new(
                    error.span(),
                    format_args!("expected a type, as in `{name} = {example}`"),
                )),
            }
        }
        Kind::Sender => parse_sender(input, key).map(Value::Sender),
        Kind::Version => parse_version(input, key).map(Value::Version),
        Kind::Path if input.peek(LitStr) => {
            let lit: LitStr = input.parse()?;
            Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "`{name}` takes a path, not a string: write `{name} = {}`",
                    lit.value()
                ),
            ))
        }
        Kind::Path => match input.call(Path::parse_mod_style) {
            Ok(path) => Ok(Value::Path(Box::new(path))),
            Err(error) => Err(syn::Error::new(
                error.span(),
                format_args!(
                    "expected the path of the signals-core crate, as in `{name} = {example}`"
                ),
            )),
        },
    }
}

fn parse_version(input: ParseStream, key: &Key) -> syn::Result<u32> {
    let (name, example) = (key.name, key.example);
    if !input.peek(LitInt) {
        return Err(input.error(format_args!(
            "expected an integer literal, as in `{name} = {example}`"
        )));
    }
    let lit: LitInt = input.parse()?;
    if !lit.suffix().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format_args!(
                "`{name}` takes a plain integer: write `{name} = {}`",
                lit.base10_digits()
            ),
        ));
    }
    match lit.base10_parse::<u32>() {
        Ok(0) => Err(syn::Error::new(
            lit.span(),
            format_args!(
                "`{name}` versions start at 1 (the default): write `{name} = {example}` for the \
                 struct's second shape, and count up from there"
            ),
        )),
        Ok(version) => Ok(version),
        Err(_) => Err(syn::Error::new(
            lit.span(),
            format_args!("`{name} = {}` does not fit in a `u32`", lit.base10_digits()),
        )),
    }
}

fn parse_sender(input: ParseStream, key: &Key) -> syn::Result<SenderValue> {
    let name = key.name;
    if input.peek(LitStr) {
        return Ok(SenderValue::Str(input.parse()?));
    }
    let minus: Option<Token![-]> = input.parse()?;
    if input.peek(LitInt) {
        let lit: LitInt = input.parse()?;
        let span = match &minus {
            Some(minus) => minus.span.join(lit.span()).unwrap_or_else(|| lit.span()),
            None => lit.span(),
        };
        let digits = match &minus {
            Some(_) => format!("-{}", lit.base10_digits()),
            None => lit.base10_digits().to_owned(),
        };
        let value = digits.parse::<i128>().map_err(|_| {
            syn::Error::new(
                span,
                format_args!("the sender `{digits}` does not fit in an `i128`"),
            )
        })?;
        return Ok(SenderValue::Int { value, span });
    }
    if minus.is_none() && input.peek(Ident) {
        let fork = input.fork();
        let ident: Ident = fork.parse()?;
        if ident == "None" && (fork.is_empty() || fork.peek(Token![,])) {
            input.parse::<Ident>()?;
            return Ok(SenderValue::None(ident));
        }
    }
    Err(input.error(format_args!(
        "expected a sender: a string literal (`{name} = \"dataset\"`), an integer literal \
         (`{name} = 10`) or `{name} = None`"
    )))
}

/// A `const` item that checks `name` against the runtime's naming rules at compile time,
/// spanned at `span` so that an invalid name is reported there. The rules live in
/// `signals_core` alone: this only calls them.
pub fn check_name(private: &Private, name: &LitStr) -> TokenStream {
    let p = private.at(name.span());
    quote_spanned! {name.span()=>
        const _: () = #p::assert_valid_name(#name);
    }
}

/// As [`check_name`], for a namespace name: the runtime's namespace rules (no `.`, so that a
/// qualified name names one signal).
pub fn check_namespace_name(private: &Private, name: &LitStr) -> TokenStream {
    let p = private.at(name.span());
    quote_spanned! {name.span()=>
        const _: () = #p::assert_valid_namespace_name(#name);
    }
}
