//! `#[signal]`: a struct whose fields are a signal's keyword arguments.
//!
//! In three phases, as `subscriber.rs`: [`parse`] reads the attribute and the item, [`check`]
//! validates them and fills in the defaults, [`Signal::generate`] writes the impls and the
//! registry's descriptor.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Field, Fields, Item, ItemStruct, LitStr, Type};

use crate::attr::{self, Errors, Key, Kind};
use crate::private::{Private, CRATE_KEY};
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
    Key {
        name: "schema",
        kind: Kind::Version,
        example: "2",
    },
    CRATE_KEY,
];

/// The attribute and the item as written: what parsed, each part on its own.
struct Input {
    private: Private,
    namespace: Option<LitStr>,
    name: Option<LitStr>,
    sender: Option<Box<Type>>,
    output: Option<Box<Type>>,
    schema: Option<u32>,
    /// `None` when the item is not a struct (reported already).
    strukt: Option<ItemStruct>,
}

/// A signal ready to generate: the struct, and every key with its default filled in.
struct Signal {
    private: Private,
    strukt: ItemStruct,
    namespace: LitStr,
    name: LitStr,
    /// `None`: `str`.
    sender: Option<Box<Type>>,
    /// `None`: `()`.
    output: Option<Box<Type>>,
    /// The version of the struct's shape (1 unless `schema = ...` says otherwise).
    schema: u32,
    /// The attribute's own mistakes. The struct still gets its impls, made of the attribute's
    /// valid parts and defaults for the rest, so that code using it resolves and these are
    /// the only errors (as thiserror does).
    attribute_errors: Option<TokenStream>,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let input = parse(attr, item.clone(), &mut errors);
    match check(input, errors) {
        Ok(signal) => signal.generate(),
        Err(errors) => errors.emit_after(item),
    }
}

/// Reads the attribute's keys and the item; every mistake goes to `errors`.
fn parse(attr: TokenStream, item: TokenStream, errors: &mut Errors) -> Input {
    let mut args = attr::parse(attr, "signal", KEYS, errors);
    let private = args.private();
    let strukt = match syn::parse2::<Item>(item) {
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
    let namespace = args.namespace(errors);
    let name = args.string("name");
    errors.check_namespace_name_too(&private, namespace.as_ref());
    errors.check_name_too(&private, name.as_ref());
    Input {
        private,
        namespace,
        name,
        sender: args.ty("sender"),
        output: args.ty("output"),
        schema: args.version("schema"),
        strukt,
    }
}

/// Checks the struct. A wrong struct stops the expansion (`Err`: the item is emitted as
/// written, with the errors); a wrong attribute alone does not (see
/// [`Signal::attribute_errors`]).
fn check(input: Input, mut errors: Errors) -> Result<Signal, Errors> {
    let mut struct_errors = Errors::default();
    if let Some(strukt) = &input.strukt {
        check_struct(strukt, &mut struct_errors);
    }
    let struct_ok = !struct_errors.any();
    errors.absorb(struct_errors);
    let Some(strukt) = input.strukt.filter(|_| struct_ok) else {
        return Err(errors);
    };
    let ident = &strukt.ident;
    let name = input.name.unwrap_or_else(|| {
        LitStr::new(&case::snake_case(&ident.unraw().to_string()), ident.span())
    });
    Ok(Signal {
        private: input.private,
        namespace: input
            .namespace
            .unwrap_or_else(|| LitStr::new("invalid", Span::call_site())),
        name,
        sender: input.sender,
        output: input.output,
        schema: input.schema.unwrap_or(1),
        strukt,
        attribute_errors: errors.into_compile_errors(),
    })
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

/// A field as a keyword argument.
struct Kwarg<'a> {
    field: &'a Field,
    /// The keyword: the field's name, unraw (`r#type` is `type`).
    name: String,
    /// `Kwarg::new("name", &self.field)`, spanned at the field's type: `Kwarg::new` requires
    /// `Any + Send + Sync`, and a field that is not is reported there.
    expr: TokenStream,
}

impl Signal {
    fn generate(&self) -> TokenStream {
        let strukt = &self.strukt;
        let attribute_errors = &self.attribute_errors;
        let kwargs_impl = self.kwargs_impl();
        let signal_impl = self.signal_impl();
        let namespace_check = attr::check_namespace_name(&self.private, &self.namespace);
        let name_check = attr::check_name(&self.private, &self.name);
        let declaration = self.declaration();
        quote! {
            #strukt
            #attribute_errors
            #kwargs_impl
            #signal_impl
            #namespace_check
            #name_check
            #declaration
        }
    }

    fn kwargs(&self) -> Vec<Kwarg<'_>> {
        let Fields::Named(named) = &self.strukt.fields else {
            return Vec::new();
        };
        named
            .named
            .iter()
            .map(|field| {
                let member = field.ident.as_ref().expect("a named field");
                let name = member.unraw().to_string();
                let p = self.private.at(field.ty.span());
                let expr = quote_spanned! {field.ty.span()=>
                    #p::Kwarg::new(#name, &self.#member)
                };
                Kwarg { field, name, expr }
            })
            .collect()
    }

    /// `impl Kwargs`: each field by its name, in declaration order.
    fn kwargs_impl(&self) -> TokenStream {
        let p = &self.private;
        let ident = &self.strukt.ident;
        let kwargs = self.kwargs();
        let names: Vec<&str> = kwargs.iter().map(|k| k.name.as_str()).collect();
        let exprs: Vec<&TokenStream> = kwargs.iter().map(|k| &k.expr).collect();
        let (kwarg_fn, kwarg_value_fn, kwargs_body) = if kwargs.is_empty() {
            let kwarg_fn = quote! {
                fn kwarg(&self, _name: &#p::str) -> #p::Option<#p::Kwarg<'_>> {
                    #p::Option::None
                }
            };
            (kwarg_fn, quote!(), quote!(#p::Vec::new()))
        } else {
            let kwarg_fn = quote! {
                fn kwarg(&self, name: &#p::str) -> #p::Option<#p::Kwarg<'_>> {
                    match name {
                        #(#names => #p::Option::Some(#exprs),)*
                        _ => #p::Option::None,
                    }
                }
            };
            // The by-name fast path: the value alone, two words, returned in registers.
            // Through `Kwarg::new`, as `kwarg` does: a field that is not `Send + Sync` is then
            // reported once, not once per method.
            let kwarg_value_fn = quote! {
                fn kwarg_value(
                    &self,
                    name: &#p::str,
                ) -> #p::Option<&(dyn #p::Any + #p::Send + #p::Sync)> {
                    match name {
                        #(#names => #p::Option::Some((#exprs).value),)*
                        _ => #p::Option::None,
                    }
                }
            };
            let count = kwargs.len();
            let kwargs_body = quote! {
                let mut kwargs = #p::Vec::with_capacity(#count);
                #(kwargs.push(#exprs);)*
                kwargs
            };
            (kwarg_fn, kwarg_value_fn, kwargs_body)
        };
        // Spanned at the struct's name, so that a struct that is not `Send + Sync + 'static`
        // (which `Kwargs` requires) is reported there.
        let kwargs_trait = self.private_at_name("Kwargs");
        quote! {
            impl #kwargs_trait for #ident {
                #kwarg_fn
                #kwarg_value_fn

                fn kwargs(&self) -> #p::Vec<#p::Kwarg<'_>> {
                    #kwargs_body
                }
            }
        }
    }

    /// `impl Signal`: names, docs, types, the runtime object and the per-thread snapshot.
    fn signal_impl(&self) -> TokenStream {
        let p = &self.private;
        let ident = &self.strukt.ident;
        let (namespace, name) = (&self.namespace, &self.name);
        // The default sender, `str`, named by a path the user's own items cannot shadow.
        let sender = self
            .sender
            .as_ref()
            .map_or_else(|| quote!(#p::str), ToTokens::to_token_stream);
        let output = self
            .output
            .as_ref()
            .map_or_else(|| quote!(()), ToTokens::to_token_stream);
        let docs = docs::collect(&self.strukt.attrs);
        let schema = proc_macro2::Literal::u32_unsuffixed(self.schema);
        let signal_trait = self.private_at_name("Signal");
        // Each field's place, for by-name receivers of one kwarg. `Field::new` is unsafe: its
        // offset is read through a pointer to the struct, and here it is the compiler's own.
        let fields = self.kwargs().into_iter().map(|kwarg| {
            let (name, ty) = (&kwarg.name, &kwarg.field.ty);
            let member = kwarg.field.ident.as_ref().expect("a named field");
            quote! {
                // SAFETY: `offset_of!` gives where the field of this type lies in the struct,
                // and `kwarg_value` of this name is that field (`impl Kwargs` above).
                unsafe { #p::Field::new::<#ident, #ty>(#name, #p::offset_of!(#ident, #member)) }
            }
        });
        quote! {
            impl #signal_trait for #ident {
                type Sender = #sender;
                type Output = #output;
                const NAMESPACE: &'static #p::str = #namespace;
                const NAME: &'static #p::str = #name;
                const DOCS: &'static #p::str = #docs;
                const SCHEMA: #p::u32 = #schema;
                const FIELDS: &'static [#p::Field] = &[#(#fields),*];

                fn named() -> #p::NamedSignal {
                    static CELL: #p::SignalCell = #p::SignalCell::new();
                    CELL.resolve::<Self>()
                }

                #[inline]
                fn thread_snapshot() -> #p::Option<
                    &'static #p::LocalKey<#p::ThreadSnapshot<#ident>>,
                > {
                    #p::thread_local! {
                        static SNAPSHOT: #p::ThreadSnapshot<#ident> =
                            const { #p::ThreadSnapshot::new() };
                    }
                    #p::Option::Some(&SNAPSHOT)
                }
            }
        }
    }

    /// The `SignalDecl` submitted to the link-time registry.
    fn declaration(&self) -> TokenStream {
        let p = &self.private;
        let ident = &self.strukt.ident;
        let (namespace, name) = (&self.namespace, &self.name);
        let kwarg_decls = self.kwargs().into_iter().map(|kwarg| {
            let name = &kwarg.name;
            let type_name = tokens::to_text(&kwarg.field.ty);
            let docs = docs::collect(&kwarg.field.attrs);
            quote!(#p::KwargDecl::new(#name, #type_name, #docs))
        });
        let rust_type = p.item_path(&ident.unraw().to_string());
        let docs = docs::collect(&self.strukt.attrs);
        let sender_type = self
            .sender
            .as_ref()
            .map_or_else(|| "str".to_owned(), tokens::to_text);
        let output_type = self
            .output
            .as_ref()
            .map_or_else(|| "()".to_owned(), tokens::to_text);
        let crate_name = p.crate_name();
        let location = p.location(ident.span());
        let codec = self.codec();
        quote! {
            #p::inventory::submit! {
                #p::SignalDecl::new(
                    #namespace,
                    #name,
                    #rust_type,
                    #docs,
                    &[#(#kwarg_decls),*],
                    #sender_type,
                    #output_type,
                    <#ident as #p::Signal>::SCHEMA,
                    #codec,
                    #crate_name,
                    #location,
                    <#ident as #p::Signal>::named,
                    <#p::TypeId>::of::<#ident>,
                )
            }
        }
    }

    /// The struct's JSON form, if it has one: a function that asks by autoref specialization
    /// (the struct's type is concrete here), so that no signal is required to be
    /// `Serialize`. See signals-core's `wire/codec.rs`.
    fn codec(&self) -> TokenStream {
        let p = &self.private;
        let ident = &self.strukt.ident;
        quote! {
            || {
                use #p::{ProbeFallback as _, ProbeSerde as _};
                (&#p::WireProbe::<#ident>::new()).wire_codec()
            }
        }
    }

    /// `path::__private::Trait`, spanned at the struct's name.
    fn private_at_name(&self, trait_name: &str) -> TokenStream {
        let span = self.strukt.ident.span();
        let p = self.private.at(span);
        let trait_name = syn::Ident::new(trait_name, span);
        quote_spanned!(span=> #p::#trait_name)
    }
}
