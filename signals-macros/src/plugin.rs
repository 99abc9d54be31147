//! `#[plugin]`: a type that owns subscribers, made with `Default` when it loads.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{Item, LitStr};

use crate::attr::{self, Errors, Key, Kind};
use crate::{case, docs};

const KEYS: &[Key] = &[Key {
    name: "name",
    kind: Kind::Str,
    example: "\"activity\"",
}];

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut args = attr::parse(attr, "plugin", KEYS, &mut errors);
    let name = args.string("name");
    errors.check_name_too(name.as_ref());

    let strukt = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(strukt)) => strukt,
        Ok(other) => {
            errors.at(
                crate::item_span(&other),
                format_args!(
                    "`#[plugin]` goes on a struct (made with `Default` when the plugin loads), \
                     not on {}",
                    crate::item_kind(&other)
                ),
            );
            return errors.emit_after(item);
        }
        Err(error) => {
            errors.push(error);
            return errors.emit_after(item);
        }
    };
    let generics = &strukt.generics;
    if !generics.params.is_empty() {
        errors.on(
            generics,
            "a plugin type cannot be generic (nor take lifetimes): the registry makes one \
             concrete type",
        );
    } else if let Some(where_clause) = &generics.where_clause {
        errors.on(where_clause, "a plugin type cannot have a `where` clause");
    }
    if errors.any() {
        return errors.emit_after(item);
    }

    let ident = &strukt.ident;
    let type_name = ident.unraw().to_string();
    let name = name.unwrap_or_else(|| LitStr::new(&case::snake_case(&type_name), ident.span()));
    let name_check = attr::check_name(&name);
    let docs = docs::collect(&strukt.attrs);
    let location = crate::location(ident.span());
    let crate_name = crate::crate_name();
    // Spanned at the type's name: a type without `Default` or `Plugin` is reported there.
    let create = quote_spanned! {ident.span()=>
        ::signals_core::__private::Box::new(
            <#ident as ::signals_core::__private::Default>::default(),
        )
    };

    quote! {
        #strukt

        #name_check

        const _: () = {
            fn __signals_create() -> ::signals_core::__private::Box<dyn ::signals_core::__private::Plugin> {
                #create
            }

            ::signals_core::__private::inventory::submit! {
                ::signals_core::__private::PluginDecl {
                    name: #name,
                    rust_type: ::core::concat!(::core::module_path!(), "::", #type_name),
                    docs: #docs,
                    crate_name: #crate_name,
                    location: #location,
                    create: __signals_create,
                }
            }
        };
    }
}
