//! `#[subscriber]`: a free function connected to a signal at start-up, or when its plugin
//! loads.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn, LitStr, Safety, Type, TypeReference};

use crate::attr::{self, Errors, Key, Kind, SenderValue};
use crate::private::{Private, CRATE_KEY};

const KEYS: &[Key] = &[
    Key {
        name: "sender",
        kind: Kind::Sender,
        example: "\"dataset\"",
    },
    Key {
        name: "plugin",
        kind: Kind::Str,
        example: "\"activity\"",
    },
    Key {
        name: "namespace",
        kind: Kind::Str,
        example: "\"ckanext\"",
    },
    Key {
        name: "signal",
        kind: Kind::Str,
        example: "\"user_created\"",
    },
    Key {
        name: "kwarg",
        kind: Kind::Str,
        example: "\"user\"",
    },
    CRATE_KEY,
];

const TYPED_EXAMPLE: &str = "fn audit(sender: &str, event: &UserCreated)";
const BY_NAME_EXAMPLE: &str = "fn audit(sender: &SenderKey<'_>, kwargs: &dyn Kwargs)";
const KWARG_EXAMPLE: &str = "fn greet(sender: &SenderKey<'_>, user: &String)";

/// The signal a subscriber listens to.
enum Target {
    /// Named by the type of the function's second argument.
    Typed(Box<Type>),
    /// Named in the attribute; with `kwarg`, a receiver of that one keyword argument.
    ByName {
        namespace: LitStr,
        signal: LitStr,
        kwarg: Option<LitStr>,
    },
}

/// How the function runs: a plain `fn`, or an `async fn` whose future the sends await.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Sync,
    Async,
}

impl Flavor {
    fn is_async(self) -> bool {
        match self {
            Flavor::Sync => false,
            Flavor::Async => true,
        }
    }
}

struct Subscriber {
    private: Private,
    func: ItemFn,
    target: Target,
    flavor: Flavor,
    sender: Option<SenderValue>,
    plugin: Option<LitStr>,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut args = attr::parse(attr, "subscriber", KEYS, &mut errors);
    let private = args.private();
    let sender = args.sender("sender");
    let plugin = args.string("plugin");
    let namespace = args.string("namespace");
    let signal = args.string("signal");
    let kwarg = args.string("kwarg");
    errors.check_name_too(&private, plugin.as_ref());
    errors.check_namespace_name_too(&private, namespace.as_ref());
    errors.check_name_too(&private, signal.as_ref());

    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(other) => {
            errors.at(
                crate::item_span(&other),
                "`#[subscriber]` goes on a free `fn`, as in `#[subscriber] fn audit(sender: \
                 &str, event: &UserCreated)`",
            );
            return errors.emit_after(item);
        }
        Err(error) => {
            errors.push(error);
            return errors.emit_after(item);
        }
    };

    // A key written with a wrong value is reported already: the subscriber is still by name.
    let wants_by_name = args.mentions("namespace") || args.mentions("signal");
    let by_name = match (namespace, signal) {
        (Some(namespace), Some(signal)) => Some((namespace, signal)),
        (Some(namespace), None) if !args.mentions("signal") => {
            errors.at(
                namespace.span(),
                "a by-name subscriber needs both `namespace` and `signal`: add `signal = \
                 \"...\"` (or remove `namespace` to infer the signal from the argument's type)",
            );
            None
        }
        (None, Some(signal)) if !args.mentions("namespace") => {
            errors.at(
                signal.span(),
                "a by-name subscriber needs both `namespace` and `signal`: add `namespace = \
                 \"...\"` (or remove `signal` to infer the signal from the argument's type)",
            );
            None
        }
        _ => None,
    };
    let flavor = check_signature(&func, &mut errors);
    if let Some(kwarg) = &kwarg {
        check_kwarg(kwarg, &func, wants_by_name, flavor, &mut errors);
    }
    let signal_type = check_arguments(&func, wants_by_name, kwarg.is_some(), &mut errors);
    if errors.any() {
        return errors.emit_after(item);
    }
    let target = match by_name {
        Some((namespace, signal)) => Target::ByName {
            namespace,
            signal,
            kwarg,
        },
        None => Target::Typed(signal_type.expect("checked: a typed subscriber's signal type")),
    };
    Subscriber {
        private,
        func,
        target,
        flavor,
        sender,
        plugin,
    }
    .generate()
}

/// Checks what the function is: not generic, not unsafe. Returns its flavor.
fn check_signature(func: &ItemFn, errors: &mut Errors) -> Flavor {
    let sig = &func.sig;
    if let Safety::Unsafe(unsafety) = &sig.safety {
        errors.at(
            unsafety.span,
            "a subscriber cannot be an `unsafe fn`: the registry calls it like any receiver",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.on(
            abi,
            "a subscriber cannot have an `extern` ABI; remove it (call the foreign function \
             from a plain `fn`)",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.on(variadic, "a subscriber cannot be variadic");
    }
    let generics = &sig.generics;
    if !generics.params.is_empty() {
        errors.on(
            generics,
            "a subscriber cannot have generic or lifetime parameters: the registry connects one \
             concrete function (elided lifetimes such as `&str` are fine)",
        );
    } else if let Some(where_clause) = &generics.where_clause {
        errors.on(where_clause, "a subscriber cannot have a `where` clause");
    }
    match sig.asyncness {
        Some(_) => Flavor::Async,
        None => Flavor::Sync,
    }
}

/// Checks what `kwarg = "..."` needs: a field's name, on a by-name, sync subscriber whose
/// second argument is the kwarg's type (sized), not the bag. One error per mistake: a
/// subscriber that is not by name is told only that.
fn check_kwarg(kwarg: &LitStr, func: &ItemFn, by_name: bool, flavor: Flavor, errors: &mut Errors) {
    if !by_name {
        errors.at(
            kwarg.span(),
            format_args!(
                "`kwarg` reads one keyword argument by name: it goes with `namespace` and \
                 `signal`, as in `#[subscriber(namespace = \"ckan\", signal = \"user_created\", \
                 kwarg = \"user\")]` before `{KWARG_EXAMPLE}` (a typed subscriber gets the whole \
                 struct)"
            ),
        );
        return;
    }
    let name = kwarg.value();
    let is_field_name = name
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_alphanumeric());
    if !is_field_name {
        errors.at(
            kwarg.span(),
            format_args!(
                "`kwarg = {name:?}` can never match: a keyword argument is a field's name, \
                 as in `kwarg = \"user\"` (a raw name without its `r#`: `kwarg = \"type\"`)"
            ),
        );
    }
    if flavor.is_async() {
        errors.at(
            kwarg.span(),
            "a subscriber of one kwarg is sync: remove `async`, or remove `kwarg` and take the \
             whole bag (`&dyn Kwargs`)",
        );
    }
    let value = func.sig.inputs.iter().nth(1).and_then(|input| match input {
        FnArg::Typed(arg) => match peel(&arg.ty) {
            Type::Reference(TypeReference {
                mutability: None,
                elem,
                ..
            }) => Some(peel(elem)),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    match value {
        Some(bag @ Type::TraitObject(_)) => errors.on(
            bag,
            format_args!(
                "a subscriber of one kwarg takes the kwarg's value, not the bag, as in \
                 `{KWARG_EXAMPLE}`; to take the bag, remove `kwarg`"
            ),
        ),
        Some(Type::Path(path)) if path.path.is_ident("str") => errors.on(
            path,
            "a kwarg is read as a value the bag holds: take a string one as `&String`",
        ),
        _ => {}
    }
}

/// Checks the two arguments; returns the signal type of a typed subscriber.
fn check_arguments(
    func: &ItemFn,
    by_name: bool,
    kwarg: bool,
    errors: &mut Errors,
) -> Option<Box<Type>> {
    let sig = &func.sig;
    let what = if kwarg { "kwarg" } else { "signal" };
    let example = match (by_name, kwarg) {
        (true, true) => KWARG_EXAMPLE,
        (true, false) => BY_NAME_EXAMPLE,
        (false, _) => TYPED_EXAMPLE,
    };
    let mut typed = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.on(
                receiver,
                "a subscriber is a free function and cannot take `self`; to connect a method, \
                 connect a closure at run time (`Receiver::new(f).weak(&object)` ties it to its object)",
            ),
            FnArg::Typed(arg) => typed.push(arg),
        }
    }
    if typed.len() != sig.inputs.len() {
        return None;
    }
    if typed.len() != 2 {
        let span = match typed.get(2) {
            Some(extra) => extra.span(),
            None => sig.paren_token.span.join(),
        };
        errors.at(
            span,
            format_args!(
                "a subscriber takes two arguments, the sender and the signal, as in `{example}`; \
                 this one takes {}",
                typed.len()
            ),
        );
        return None;
    }
    let sender = peel(&typed[0].ty);
    let signal = peel(&typed[1].ty);
    match sender {
        Type::Reference(TypeReference {
            mutability: None,
            elem,
            ..
        }) => {
            if let Type::ImplTrait(_) = peel(elem) {
                errors.on(
                    peel(elem),
                    "a subscriber cannot be generic: name the signal's sender type, as in \
                     `&str`",
                );
            }
        }
        _ => errors.on(
            sender,
            format_args!(
                "the sender argument must be a shared reference, as in `{example}`: receivers \
                 borrow the sender"
            ),
        ),
    }
    match signal {
        Type::Reference(TypeReference {
            mutability: None,
            elem,
            ..
        }) => {
            let elem = peel(elem);
            if !by_name {
                if let Type::TraitObject(_) = elem {
                    errors.on(
                        elem,
                        format_args!(
                            "a by-name subscriber names its signal in the attribute: write \
                             `#[subscriber(namespace = \"...\", signal = \"...\")]` before \
                             `{BY_NAME_EXAMPLE}`"
                        ),
                    );
                    return None;
                }
                if let Type::ImplTrait(_) = elem {
                    errors.on(
                        elem,
                        "a subscriber cannot take `impl Trait`: name the signal's struct",
                    );
                    return None;
                }
                return Some(Box::new(elem.clone()));
            }
        }
        Type::Reference(reference) => errors.on(
            reference.mutability,
            format_args!(
                "the {what} argument must be a shared reference `&`: every receiver of a send \
                 borrows the same arguments, so none may change them"
            ),
        ),
        _ => errors.on(
            signal,
            format_args!(
                "the {what} argument must be a shared reference, as in `{example}`: receivers \
                 borrow the signal's arguments"
            ),
        ),
    }
    None
}

impl Subscriber {
    /// The function as written, and next to it a `const` that holds the registration. The
    /// const is named (`__signals_subscriber_<fn>`) rather than `_`, so that the output is
    /// valid in an `impl` block too, where the probe (see [`Subscriber::free_function_probe`])
    /// then reports an associated function clearly.
    fn generate(&self) -> TokenStream {
        let p = &self.private;
        let func = &self.func;
        let ident = &func.sig.ident;
        let holder = holder_ident(ident);
        let probe = self.free_function_probe(&holder);
        let checks = match &self.target {
            Target::Typed(ty) => self.sender_literal_check(ty),
            Target::ByName {
                namespace, signal, ..
            } => {
                let namespace_check = attr::check_namespace_name(p, namespace);
                let signal_check = attr::check_name(p, signal);
                quote!(#namespace_check #signal_check)
            }
        };
        let plugin_check = self
            .plugin
            .as_ref()
            .map(|plugin| attr::check_name(p, plugin));
        let options = options_ident();
        let connect_call = self.connect_call();
        let declaration = self.declaration();

        quote! {
            #func

            #[doc(hidden)]
            #[allow(non_upper_case_globals)]
            const #holder: u8 = {
                #probe
                #checks
                #plugin_check

                fn __signals_connect(
                    #options: #p::ConnectOptions,
                ) -> #p::Result<#p::Connection, #p::Error> {
                    #connect_call
                }

                #p::inventory::submit! {
                    #declaration
                }

                0
            };
        }
    }

    /// The `SubscriberDecl` submitted to the link-time registry.
    fn declaration(&self) -> TokenStream {
        let p = &self.private;
        let ident = &self.func.sig.ident;
        let path = p.item_path(&ident.unraw().to_string());
        let location = p.location(ident.span());
        let target = match &self.target {
            Target::Typed(ty) => {
                // Spanned at the type: a type that is not a signal is reported there.
                let p_at_ty = p.at(ty.span());
                let signal = quote_spanned!(ty.span()=> <#ty as #p_at_ty::Signal>);
                let rust_type = crate::tokens::to_text(ty);
                quote! {
                    #p::SubscriberTarget::typed(#rust_type, #signal::NAMESPACE, #signal::NAME)
                }
            }
            Target::ByName {
                namespace,
                signal,
                kwarg: None,
            } => quote!(#p::SubscriberTarget::by_name(#namespace, #signal)),
            Target::ByName {
                namespace,
                signal,
                kwarg: Some(kwarg),
            } => quote!(#p::SubscriberTarget::by_name_kwarg(#namespace, #signal, #kwarg)),
        };
        let sender = self.sender_decl();
        let plugin = match &self.plugin {
            Some(plugin) => quote!(#p::Option::Some(#plugin)),
            None => quote!(#p::Option::None),
        };
        let is_async = self.flavor.is_async();
        quote! {
            #p::SubscriberDecl::new(
                #path,
                #location,
                #target,
                #sender,
                #plugin,
                #is_async,
                __signals_connect,
            )
        }
    }

    /// Code that compiles next to a free function, and fails with a clear message (from
    /// `signals_core::registry::FreeFunction`) in an `impl` block: an integer literal matched
    /// against the holder const's name is a `u8` when the const is in scope (a free
    /// function's), an `i32` when the name binds a new variable (an associated const is not in
    /// scope). Spanned at the function's name. A macro cannot see where its item is; this is
    /// how the generated code tells.
    fn free_function_probe(&self, holder: &Ident) -> TokenStream {
        let span = self.func.sig.ident.span();
        let p = self.private.at(span);
        let probe = Ident::new("__signals_probe", span);
        quote_spanned! {span=>
            #[allow(unreachable_patterns, clippy::match_single_binding)]
            fn __signals_free_function() {
                let #probe = 0;
                match #probe {
                    #holder => {}
                    _ => {}
                }
                #p::require_free_function(#probe);
            }
        }
    }

    /// The body of the generated connect function. The function item itself is connected, so
    /// its identity is the function's: `disconnect(&audit)` finds it. The function is named
    /// once, at the attribute: in an `impl` block, where the name does not resolve, that is
    /// one error, next to the probe's.
    fn connect_call(&self) -> TokenStream {
        let function = function_ident(&self.func.sig.ident);
        let mut name = self.func.sig.ident.clone();
        name.set_span(Span::call_site());
        let body = self.connect_call_with(&function);
        quote! {
            let #function = #name;
            #body
        }
    }

    /// The connect call, with the function bound to `ident` (see [`Subscriber::connect_call`]).
    fn connect_call_with(&self, ident: &Ident) -> TokenStream {
        let p = &self.private;
        let options = options_ident();
        match (&self.target, self.flavor) {
            (Target::Typed(ty), Flavor::Sync) => {
                // Through a generic helper rather than a method call on
                // `<T as Signal>::signal()`: when `T` is not a signal, that call would also
                // be resolved against whatever method `T` has and report a confusing
                // mismatch. The call is spanned at the function's name, so a wrong sender or
                // return type is reported there, once.
                let __signals_connect_typed = quote_spanned!(ident.span()=> __signals_connect_typed::<#ty, _, _>(#options, #ident));
                quote! {
                    fn __signals_connect_typed<T, F, R>(
                        options: #p::ConnectOptions,
                        receiver: F,
                    ) -> #p::Connection
                    where
                        T: #p::Signal,
                        F: #p::Fn(&<T as #p::Signal>::Sender, &T) -> R
                            + #p::Send
                            + #p::Sync
                            + 'static,
                        R: #p::IntoOutcome<<T as #p::Signal>::Output>,
                    {
                        <T as #p::Signal>::signal()
                            .connect(#p::Receiver::new(receiver).options(options))
                    }
                    #p::Result::Ok(#__signals_connect_typed)
                }
            }
            (
                Target::ByName {
                    namespace,
                    signal,
                    kwarg: None,
                },
                Flavor::Sync,
            ) => quote! {
                #p::connect_by_name(#namespace, #signal, #options, #ident)
            },
            // Spanned at the function's name: a kwarg type that cannot be read (not
            // `DeserializeOwned`, say) is reported there.
            (
                Target::ByName {
                    namespace,
                    signal,
                    kwarg: Some(kwarg),
                },
                Flavor::Sync,
            ) => {
                let p_at_name = p.at(ident.span());
                quote_spanned!(ident.span()=> #p_at_name::connect_kwarg_by_name(#namespace, #signal, #kwarg, #options, #ident))
            }
            // An async function is connected through a closure that boxes its future; the
            // options give the connection the function's own identity. The closure is
            // spanned at the function's name: a future that is not `Send` is reported there.
            (Target::Typed(ty), Flavor::Async) => {
                let receiver = self.async_receiver(ident);
                let connect = quote_spanned!(ident.span()=> __signals_connect_typed_async::<#ty, _, _>(#options, #receiver));
                quote! {
                    fn __signals_connect_typed_async<T, F, R>(
                        options: #p::ConnectOptions,
                        receiver: F,
                    ) -> #p::Connection
                    where
                        T: #p::Signal,
                        F: for<'a> #p::Fn(
                                &'a <T as #p::Signal>::Sender,
                                &'a T,
                            ) -> #p::BoxFuture<'a, R>
                            + #p::Send
                            + #p::Sync
                            + 'static,
                        R: #p::IntoOutcome<<T as #p::Signal>::Output> + 'static,
                    {
                        <T as #p::Signal>::signal()
                            .connect(#p::Receiver::new_async(receiver).options(options))
                    }
                    let #options = #options.identity_of(&#ident);
                    #p::Result::Ok(#connect)
                }
            }
            (
                Target::ByName {
                    namespace, signal, ..
                },
                Flavor::Async,
            ) => {
                let receiver = self.async_receiver(ident);
                let p_at_name = self.private.at(ident.span());
                let connect = quote_spanned!(ident.span()=> #p_at_name::connect_async_by_name(#namespace, #signal, #options, #receiver));
                quote! {
                    let #options = #options.identity_of(&#ident);
                    #connect
                }
            }
        }
    }

    /// A `const` item that fails the build, at the literal, when the sender filter can never
    /// match a sender of the signal `ty`: a string for integer senders, and so on.
    fn sender_literal_check(&self, ty: &syn::Type) -> TokenStream {
        let (kind, span) = match &self.sender {
            None => return quote!(),
            Some(SenderValue::Str(lit)) => (quote!(Str), lit.span()),
            Some(SenderValue::Int { value, span }) => {
                let value = proc_macro2::Literal::i128_suffixed(*value);
                (quote!(Int(#value)), *span)
            }
            Some(SenderValue::None(ident)) => (quote!(None), ident.span()),
        };
        let p = self.private.at(span);
        quote_spanned! {span=>
            const _: () = #p::check_sender_literal(
                <<#ty as #p::Signal>::Sender as #p::Sender>::KEY_KINDS,
                #p::SenderLiteral::#kind,
            );
        }
    }

    fn sender_decl(&self) -> TokenStream {
        let p = &self.private;
        match &self.sender {
            None => quote!(#p::SenderDecl::Any),
            Some(SenderValue::Str(lit)) => quote!(#p::SenderDecl::Str(#lit)),
            Some(SenderValue::Int { value, span }) => {
                let value = proc_macro2::Literal::i128_unsuffixed(*value);
                let p = self.private.at(*span);
                quote_spanned!(*span=> #p::SenderDecl::Int(#value))
            }
            Some(SenderValue::None(ident)) => {
                let p = self.private.at(ident.span());
                quote_spanned!(ident.span()=> #p::SenderDecl::None)
            }
        }
    }

    /// `|sender, signal| Box::pin(f(sender, signal))`, spanned at the function's name, with
    /// hygienic parameter names.
    fn async_receiver(&self, ident: &Ident) -> TokenStream {
        let p = self.private.at(ident.span());
        let sender = Ident::new("sender", Span::mixed_site());
        let signal = Ident::new("signal", Span::mixed_site());
        quote_spanned! {ident.span()=>
            move |#sender, #signal| #p::Box::pin(#ident(#sender, #signal))
        }
    }
}

/// The local the connect function binds the subscriber to, spanned at the function's name
/// so that a wrong signature is reported there (a hygienic span would be reported at the
/// attribute).
fn function_ident(ident: &Ident) -> Ident {
    Ident::new("__signals_function", ident.span())
}

/// The name of the const that holds a subscriber's registration: `__signals_subscriber_audit`
/// for `fn audit`.
fn holder_ident(ident: &Ident) -> Ident {
    Ident::new(
        &format!("__signals_subscriber_{}", ident.unraw()),
        Span::call_site(),
    )
}

/// The generated connect function's parameter. Local variables are hygienic with
/// `mixed_site`: a subscriber called `options` is still the subscriber.
fn options_ident() -> Ident {
    Ident::new("options", Span::mixed_site())
}

/// `ty` without the invisible groups a `macro_rules!` `$t:ty` wraps it in, and without
/// parentheses: `&str` whatever way it was written.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel(&group.elem),
        Type::Paren(paren) => peel(&paren.elem),
        other => other,
    }
}
