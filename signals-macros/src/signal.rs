//! `#[signal]`: a struct whose fields are a signal's keyword arguments.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Fields, Item, ItemStruct, LitStr};

use crate::attr::{self, Errors, Key, Kind};
use crate::{case, docs, tokens};

const KEYS: &[Key] = &[
    Key {
        name: "namespace",
        kind: Kind::Str,
        example: "\"ckanext\"",
    },
    Key {
        name: "name",
        kind: Kind::Str,
        example: "\"user_created\"",
    },
    Key {
        name: "sender",
        kind: Kind::Type,
        example: "str",
    },
    Key {
        name: "output",
        kind: Kind::Type,
        example: "()",
    },
];

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut args = attr::parse(attr, "signal", KEYS, &mut errors);

    let strukt = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(strukt)) => Some(strukt),
        Ok(other) => {
            errors.push(wrong_item(&other));
            None
        }
        Err(error) => {
            errors.push(error);
            None
        }
    };

    let namespace = args.namespace(&mut errors);
    let name = args.string("name");
    let sender = args.ty("sender");
    let output = args.ty("output");
    errors.check_name_too(namespace.as_ref());
    errors.check_name_too(name.as_ref());

    let mut struct_errors = Errors::default();
    if let Some(strukt) = &strukt {
        check_struct(strukt, &mut struct_errors);
    }
    let struct_ok = !struct_errors.any();
    errors.absorb(struct_errors);
    let Some(strukt) = strukt.filter(|_| struct_ok) else {
        return errors.emit_after(item);
    };
    // When only the attribute is wrong, the struct still gets its impls, made of the
    // attribute's valid parts and defaults for the rest, so that code using it resolves and
    // the attribute's own mistakes are the only errors (as thiserror does).
    let attribute_errors = errors.into_compile_errors();
    let namespace = namespace.unwrap_or_else(|| LitStr::new("invalid", Span::call_site()));

    let ident = &strukt.ident;
    let name = name.unwrap_or_else(|| {
        LitStr::new(&case::snake_case(&ident.unraw().to_string()), ident.span())
    });
    // The default sender, `str`, named by a path the user's own items cannot shadow.
    let sender_type = sender
        .as_ref()
        .map_or_else(|| "str".to_owned(), tokens::to_text);
    let sender = sender.map_or_else(
        || quote!(::signals_core::__private::str),
        ToTokens::into_token_stream,
    );
    let output = output.map_or_else(|| quote!(()), ToTokens::into_token_stream);
    let output_type = tokens::to_text(&output);
    let type_name = ident.unraw().to_string();
    let docs = docs::collect(&strukt.attrs);

    let fields: Vec<_> = match &strukt.fields {
        Fields::Named(named) => named.named.iter().collect(),
        _ => Vec::new(),
    };
    let kwarg_names: Vec<String> = fields
        .iter()
        .map(|f| f.ident.as_ref().expect("named field").unraw().to_string())
        .collect();
    let members: Vec<_> = fields.iter().map(|f| f.ident.as_ref()).collect();
    // `Kwarg::new` requires `Any + Send + Sync`: span it at the field's type so a field that
    // is not is reported there.
    let kwarg_exprs: Vec<TokenStream> = fields
        .iter()
        .zip(&kwarg_names)
        .zip(&members)
        .map(|((field, kwarg), member)| {
            quote_spanned! {field.ty.span()=>
                ::signals_core::__private::Kwarg::new(#kwarg, &self.#member)
            }
        })
        .collect();

    let kwarg_fn = if fields.is_empty() {
        quote! {
            fn kwarg(
                &self,
                _name: &::signals_core::__private::str,
            ) -> ::signals_core::__private::Option<::signals_core::__private::Kwarg<'_>> {
                ::signals_core::__private::Option::None
            }
        }
    } else {
        quote! {
            fn kwarg(
                &self,
                name: &::signals_core::__private::str,
            ) -> ::signals_core::__private::Option<::signals_core::__private::Kwarg<'_>> {
                match name {
                    #(#kwarg_names => ::signals_core::__private::Option::Some(#kwarg_exprs),)*
                    _ => ::signals_core::__private::Option::None,
                }
            }
        }
    };
    // The by-name fast path: the value alone, two words, returned in registers.
    let kwarg_value_fn = if fields.is_empty() {
        quote!()
    } else {
        // Through `Kwarg::new`, as `kwarg` does: a field that is not `Send + Sync` is then
        // reported once, not once per method.
        let value_exprs = kwarg_exprs
            .iter()
            .map(|kwarg| quote!(::signals_core::__private::Option::Some((#kwarg).value)));
        quote! {
            fn kwarg_value(
                &self,
                name: &::signals_core::__private::str,
            ) -> ::signals_core::__private::Option<
                &(dyn ::signals_core::__private::Any
                    + ::signals_core::__private::Send
                    + ::signals_core::__private::Sync),
            > {
                match name {
                    #(#kwarg_names => #value_exprs,)*
                    _ => ::signals_core::__private::Option::None,
                }
            }
        }
    };
    let kwargs_body = if fields.is_empty() {
        quote!(::signals_core::__private::Vec::new())
    } else {
        let count = fields.len();
        quote! {
            let mut kwargs = ::signals_core::__private::Vec::with_capacity(#count);
            #(kwargs.push(#kwarg_exprs);)*
            kwargs
        }
    };

    let kwarg_decls = fields.iter().zip(&kwarg_names).map(|(field, kwarg)| {
        let type_name = tokens::to_text(&field.ty);
        let docs = docs::collect(&field.attrs);
        quote! {
            ::signals_core::__private::KwargDecl {
                name: #kwarg,
                type_name: #type_name,
                docs: #docs,
            }
        }
    });

    let namespace_check = attr::check_name(&namespace);
    let name_check = attr::check_name(&name);
    let location = crate::location(ident.span());
    let crate_name = crate::crate_name();
    // The impl headers are spanned at the struct's name, so that a struct that is not
    // `Send + Sync + 'static` (which `Kwargs` requires) is reported there.
    let kwargs_trait = quote_spanned!(ident.span()=> ::signals_core::__private::Kwargs);
    let signal_trait = quote_spanned!(ident.span()=> ::signals_core::__private::Signal);

    quote! {
        #strukt
        #attribute_errors

        impl #kwargs_trait for #ident {
            #kwarg_fn
            #kwarg_value_fn

            fn kwargs(
                &self,
            ) -> ::signals_core::__private::Vec<::signals_core::__private::Kwarg<'_>> {
                #kwargs_body
            }
        }

        impl #signal_trait for #ident {
            type Sender = #sender;
            type Output = #output;
            const NAMESPACE: &'static ::signals_core::__private::str = #namespace;
            const NAME: &'static ::signals_core::__private::str = #name;
            const DOCS: &'static ::signals_core::__private::str = #docs;

            fn named() -> ::signals_core::__private::NamedSignal {
                static CELL: ::signals_core::__private::SignalCell =
                    ::signals_core::__private::SignalCell::new();
                CELL.resolve::<Self>()
            }

            #[inline]
            fn thread_snapshot() -> ::signals_core::__private::Option<
                &'static ::signals_core::__private::LocalKey<
                    ::signals_core::__private::ThreadSnapshot<#ident>,
                >,
            > {
                ::signals_core::__private::thread_local! {
                    static SNAPSHOT: ::signals_core::__private::ThreadSnapshot<#ident> =
                        const { ::signals_core::__private::ThreadSnapshot::new() };
                }
                ::signals_core::__private::Option::Some(&SNAPSHOT)
            }
        }

        #namespace_check
        #name_check

        ::signals_core::__private::inventory::submit! {
            ::signals_core::__private::SignalDecl {
                namespace: #namespace,
                name: #name,
                rust_type: ::core::concat!(::core::module_path!(), "::", #type_name),
                docs: #docs,
                kwargs: &[#(#kwarg_decls),*],
                sender_type: #sender_type,
                output_type: #output_type,
                crate_name: #crate_name,
                location: #location,
                resolve: <#ident as ::signals_core::__private::Signal>::named,
                type_id: ::signals_core::__private::type_id::<#ident>,
            }
        }
    }
}

impl attr::Args {
    /// The required `namespace`.
    fn namespace(&mut self, errors: &mut Errors) -> Option<LitStr> {
        let namespace = self.string("namespace");
        if namespace.is_none() && !self.incomplete && !self.mentions("namespace") {
            errors.at(
                Span::call_site(),
                "missing `namespace = \"...\"`: every signal lives in a namespace, as in \
                 `#[signal(namespace = \"ckanext\")]`",
            );
        }
        namespace
    }
}

fn check_struct(strukt: &ItemStruct, errors: &mut Errors) {
    let generics = &strukt.generics;
    if !generics.params.is_empty() {
        errors.on(
            generics,
            "a signal struct cannot be generic (nor take lifetimes): each signal is one \
             concrete, `'static` type",
        );
    } else if let Some(where_clause) = &generics.where_clause {
        errors.on(where_clause, "a signal struct cannot have a `where` clause");
    }
    match &strukt.fields {
        Fields::Named(named) => {
            for field in &named.named {
                let conditional =
                    |a: &&syn::Attribute| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr");
                if let Some(cfg) = field.attrs.iter().find(conditional) {
                    errors.on(
                        cfg,
                        "`#[cfg]` and `#[cfg_attr]` on a signal's field are not supported: a \
                         signal's keyword arguments are the same in every build",
                    );
                }
            }
        }
        Fields::Unnamed(unnamed) => errors.at(
            unnamed.span(),
            format_args!(
                "a signal's fields are its keyword arguments, so they need names: write \
                 `struct {} {{ name: Type, .. }}`",
                strukt.ident
            ),
        ),
        Fields::Unit => {}
    }
}

fn wrong_item(item: &Item) -> syn::Error {
    syn::Error::new(
        crate::item_span(item),
        format_args!(
            "`#[signal]` goes on a struct with named fields (its keyword arguments) or on a \
             unit struct, not on {}",
            crate::item_kind(item)
        ),
    )
}
