//! `#[plugin]`: a type that owns subscribers, made with `Default` when it loads.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{Item, LitStr};

use crate::attr::{self, Errors, Key, Kind};
use crate::private::CRATE_KEY;
use crate::{case, docs};

const KEYS: &[Key] = &[
    Key {
        name: "name",
        kind: Kind::Str,
        example: "\"activity\"",
    },
    CRATE_KEY,
];

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut args = attr::parse(attr, "plugin", KEYS, &mut errors);
    let private = args.private();
    let name = args.string("name");
    errors.check_name_too(&private, name.as_ref());

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
    let name_check = attr::check_name(&private, &name);
    let docs = docs::collect(&strukt.attrs);
    let p = &private;
    let rust_type = p.item_path(&type_name);
    let crate_name = p.crate_name();
    let location = p.location(ident.span());
    // Spanned at the type's name: a type without `Default` or `Plugin` is reported there.
    let p_at_name = p.at(ident.span());
    let create = quote_spanned! {ident.span()=>
        #p_at_name::Box::new(<#ident as #p_at_name::Default>::default())
    };

    quote! {
        #strukt

        #name_check

        const _: () = {
            fn __signals_create() -> #p::Box<dyn #p::Plugin> {
                #create
            }

            #p::inventory::submit! {
                #p::PluginDecl::new(
                    #name,
                    #rust_type,
                    #docs,
                    #crate_name,
                    #location,
                    __signals_create,
                )
            }
        };
    }
}
