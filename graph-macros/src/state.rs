//! `#[derive(State)]`: the state's typed partial update and its per-field merge.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Path, Type};

use crate::ctxt::Ctxt;

/// How one field combines the writes of a step.
enum Reducer {
    /// Last write wins; two writes in one step conflict.
    Replace,
    /// `#[reducer(append)]`.
    Append,
    /// `#[reducer(messages)]`: LangGraph's `add_messages`, and the state's conversation.
    Messages,
    /// `#[reducer(path::to::fn)]`: `fn(&mut T, T)`.
    Custom(Path),
}

struct StateField {
    ident: Ident,
    ty: Type,
    docs: Vec<syn::Attribute>,
    reducer: Reducer,
}

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let krate = crate_path(&input, &mut cx);
    let fields = fields(&input, &mut cx);
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "`State` cannot be derived for a generic struct",
        );
    }
    if cx.has_errors() {
        return cx.into_compile_errors();
    }
    expand(&input, &krate, &fields)
}

fn crate_path(input: &DeriveInput, cx: &mut Ctxt) -> Path {
    let mut krate: Path = syn::parse_quote!(::stategraph);
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("state"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = meta.value()?.parse()?;
                Ok(())
            } else if meta.path.is_ident("derive") {
                // Checked by `derives` below; here only its syntax.
                meta.parse_nested_meta(|_| Ok(()))
            } else {
                Err(meta.error(
                    "unknown `state` option; the options are `crate = path` and `derive(..)`",
                ))
            }
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    krate
}

fn fields(input: &DeriveInput, cx: &mut Ctxt) -> Vec<StateField> {
    let Data::Struct(data) = &input.data else {
        cx.error_spanned_by(
            &input.ident,
            "`State` can only be derived for a struct with named fields",
        );
        return Vec::new();
    };
    let Fields::Named(named) = &data.fields else {
        cx.error_spanned_by(
            &input.ident,
            "`State` can only be derived for a struct with named fields",
        );
        return Vec::new();
    };
    named
        .named
        .iter()
        .filter_map(|field| {
            let ident = field.ident.clone()?;
            let mut reducer = Reducer::Replace;
            for attr in field
                .attrs
                .iter()
                .filter(|attr| attr.path().is_ident("reducer"))
            {
                match attr.parse_args::<Path>() {
                    Ok(path) if path.is_ident("append") => reducer = Reducer::Append,
                    Ok(path) if path.is_ident("messages") => reducer = Reducer::Messages,
                    Ok(path) => reducer = Reducer::Custom(path),
                    Err(_) => cx.error_spanned_by(
                        attr,
                        "expected `#[reducer(append)]`, `#[reducer(messages)]` or `#[reducer(path::to::fn)]`",
                    ),
                }
            }
            Some(StateField {
                ident,
                ty: field.ty.clone(),
                docs: field
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("doc"))
                    .cloned()
                    .collect(),
                reducer,
            })
        })
        .collect()
}

/// Whether the update should derive `name` (`Debug`, `PartialEq`, `Serialize`): when the
/// state asks for it with `#[state(derive(..))]`, or derives it in a `#[derive]` that this
/// derive can see. rustc hides the `#[derive]` list that invokes `State` itself, so
/// `#[derive(Debug, State)]` alone does not show `Debug`; `#[state(derive(Debug))]` does.
fn derives(input: &DeriveInput, name: &str) -> bool {
    let mut found = false;
    let is_name = |path: &syn::Path| path.segments.last().is_some_and(|s| s.ident == name);
    for attr in &input.attrs {
        if attr.path().is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                found |= is_name(&meta.path);
                Ok(())
            });
        } else if attr.path().is_ident("state") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("derive") {
                    meta.parse_nested_meta(|inner| {
                        found |= is_name(&inner.path);
                        Ok(())
                    })
                } else if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>().map(drop)
                } else {
                    Ok(())
                }
            });
        }
    }
    found
}

fn expand(input: &DeriveInput, krate: &Path, fields: &[StateField]) -> TokenStream {
    let private = quote!(#krate::__private);
    let state = &input.ident;
    let vis = &input.vis;
    let update = format_ident!("{}Update", state);
    let update_doc = format!(
        "A partial update of [`{state}`], as a node returns it: each field set is written at the \
         end of the step, through the field's reducer. Generated by `#[derive(State)]`."
    );
    let field_decls = fields.iter().map(|field| {
        let StateField {
            ident, ty, docs, ..
        } = field;
        quote!(#(#docs)* pub #ident: ::core::option::Option<#ty>)
    });
    let setters = fields.iter().map(|field| {
        let StateField {
            ident, ty, reducer, ..
        } = field;
        let doc = match reducer {
            Reducer::Replace => format!("Sets `{ident}`."),
            Reducer::Append => format!("Appends to `{ident}`."),
            Reducer::Messages => format!(
                "Adds messages to `{ident}` (one with the id of a message already there replaces it)."
            ),
            Reducer::Custom(path) => {
                format!("Writes `{ident}` through the reducer `{}`.", quote!(#path))
            }
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #ident(mut self, value: impl ::core::convert::Into<#ty>) -> Self {
                self.#ident = ::core::option::Option::Some(value.into());
                self
            }
        }
    });
    // Generated locals take a `__` prefix, so a field may be called `node`, `update` or
    // anything else without shadowing them.
    let values: Vec<Ident> = fields
        .iter()
        .map(|field| format_ident!("__value_{}", field.ident))
        .collect();
    let idents: Vec<&Ident> = fields.iter().map(|field| &field.ident).collect();
    // Two nodes writing one plain field is found before anything is written, so a step's
    // merge is all or nothing.
    let conflict_checks = fields
        .iter()
        .filter(|field| matches!(field.reducer, Reducer::Replace))
        .map(|field| {
            let ident = &field.ident;
            let name = ident.to_string();
            let writer = format_ident!("__writer_{}", field.ident);
            quote! {
                let mut #writer: ::core::option::Option<&'static str> = ::core::option::Option::None;
                for (__node, __update) in &__updates {
                    if __update.#ident.is_some() {
                        if let ::core::option::Option::Some(__first) = #writer {
                            return ::core::result::Result::Err(#private::UpdateConflict {
                                field: #name,
                                first: __first,
                                second: *__node,
                            });
                        }
                        #writer = ::core::option::Option::Some(*__node);
                    }
                }
            }
        });
    let applies = fields.iter().zip(&values).map(|(field, value)| {
        let ident = &field.ident;
        match &field.reducer {
            Reducer::Replace => quote! {
                if let ::core::option::Option::Some(#value) = #value {
                    self.#ident = #value;
                }
            },
            Reducer::Append => quote! {
                if let ::core::option::Option::Some(#value) = #value {
                    #private::append(&mut self.#ident, #value);
                }
            },
            Reducer::Messages => quote! {
                if let ::core::option::Option::Some(#value) = #value {
                    #private::add_messages(&mut self.#ident, #value);
                }
            },
            Reducer::Custom(path) => quote! {
                if let ::core::option::Option::Some(#value) = #value {
                    #path(&mut self.#ident, #value);
                }
            },
        }
    });
    // Only a user's reducer can panic halfway through a merge; without one the run may
    // merge into the state in place.
    let merges_in_place = !fields
        .iter()
        .any(|field| matches!(field.reducer, Reducer::Custom(_)));
    let mut derives = vec![
        quote!(::core::clone::Clone),
        quote!(::core::default::Default),
    ];
    if self::derives(input, "Debug") {
        derives.push(quote!(::core::fmt::Debug));
    }
    if self::derives(input, "PartialEq") {
        derives.push(quote!(::core::cmp::PartialEq));
    }
    // A serializable state gets a serializable update (for updates mode's JSON), through the
    // facade's serde so the user's crate needs no serde of its own; unset fields are left out.
    let serde_attrs = if self::derives(input, "Serialize") {
        derives.push(quote!(#private::serde::Serialize));
        let serde_path = format!("{}::__private::serde", quote!(#krate)).replace(' ', "");
        quote!(#[serde(crate = #serde_path)])
    } else {
        quote!()
    };
    let field_serde = if serde_attrs.is_empty() {
        quote!()
    } else {
        quote!(#[serde(skip_serializing_if = "::core::option::Option::is_none")])
    };
    let field_decls = field_decls.map(|decl| quote!(#field_serde #decl));
    // The first `#[reducer(messages)]` field is the conversation messages mode follows.
    let messages_fns = fields
        .iter()
        .find(|field| matches!(field.reducer, Reducer::Messages))
        .map(|field| {
            let ident = &field.ident;
            quote! {
                const HAS_MESSAGES: bool = true;

                fn update_messages(update: &#update) -> &[#private::Message] {
                    update.#ident.as_deref().unwrap_or(&[])
                }

                fn messages(&self) -> &[#private::Message] {
                    &self.#ident
                }
            }
        });
    let durable = expand_durable(state, &update, &private, fields);
    quote! {
        #durable

        #[doc = #update_doc]
        #[derive(#(#derives),*)]
        #serde_attrs
        #vis struct #update {
            #(#field_decls,)*
        }

        impl #update {
            #(#setters)*
        }

        impl #private::State for #state {
            type Update = #update;

            const MERGES_IN_PLACE: bool = #merges_in_place;

            #[allow(unused_variables, unused_mut)]
            fn merge(
                &mut self,
                __updates: ::std::vec::Vec<(&'static str, #update)>,
            ) -> ::core::result::Result<(), #private::UpdateConflict> {
                #(#conflict_checks)*
                for (_, __update) in __updates {
                    let #update { #(#idents: #values),* } = __update;
                    #(#applies)*
                }
                ::core::result::Result::Ok(())
            }

            fn is_empty_update(update: &#update) -> bool {
                true #( && update.#idents.is_none() )*
            }

            #messages_fns
        }

        impl #private::IntoNodeResult<#update> for #update {
            fn into_node_result(self) -> ::core::result::Result<#update, #private::NodeError> {
                ::core::result::Result::Ok(self)
            }
        }
    }
}

/// `StoredFields` for the state (which makes it `Durable`): its fields as JSON and back, and
/// an update as a delta. The impl is generic over a marker `__M` that each field's bound
/// names, so the bounds are checked only where a program stores the state (`S: Durable`),
/// and a field type without serde fails there, named by `Storable`'s message, not in every
/// program that derives `State`.
fn expand_durable(
    state: &Ident,
    update: &Ident,
    private: &TokenStream,
    fields: &[StateField],
) -> TokenStream {
    let checkpoint = quote!(#private::checkpoint);
    let result = quote!(::core::result::Result);
    let error = quote!(#checkpoint::CheckpointError);
    let stored = |ty: &syn::Type| quote!(#checkpoint::Stored<__M, #ty>);
    let bounds = fields.iter().map(|field| {
        let ty = &field.ty;
        let stored = stored(ty);
        quote!(#stored: #checkpoint::Storable<#ty>)
    });
    let names: Vec<String> = fields
        .iter()
        .map(|field| field.ident.unraw().to_string())
        .collect();
    let encodes = fields.iter().zip(&names).map(|(field, name)| {
        let (ident, ty) = (&field.ident, &field.ty);
        let stored = stored(ty);
        quote! {
            __values.insert(
                ::std::string::String::from(#name),
                #checkpoint::encode_field::<#stored, #ty>(#name, &self.#ident)?,
            );
        }
    });
    let decodes = fields.iter().zip(&names).map(|(field, name)| {
        let (ident, ty) = (&field.ident, &field.ty);
        let stored = stored(ty);
        quote!(#ident: #checkpoint::decode_field::<#stored, #ty>(&mut __values, #name)?)
    });
    let changes = fields.iter().zip(&names).map(|(field, name)| {
        let (ident, ty) = (&field.ident, &field.ty);
        let stored = stored(ty);
        let change = match &field.reducer {
            Reducer::Replace => quote! {
                #checkpoint::FieldChange::Set(#checkpoint::encode_field::<#stored, #ty>(#name, __value)?)
            },
            Reducer::Append => quote! {
                #checkpoint::FieldChange::Append(#checkpoint::encode_items::<#stored, #ty>(#name, __value)?)
            },
            Reducer::Messages => quote! {
                #checkpoint::FieldChange::AddMessages(#checkpoint::encode_items::<#stored, #ty>(#name, __value)?)
            },
            // What a reducer of the user's made of the update is only known after the
            // merge: the field is stored whole.
            Reducer::Custom(_) => quote! {
                {
                    let _ = __value;
                    #checkpoint::FieldChange::Set(#checkpoint::encode_field::<#stored, #ty>(#name, &__merged.#ident)?)
                }
            },
        };
        quote! {
            if let ::core::option::Option::Some(__value) = &__update.#ident {
                __delta.insert(#name, #change);
            }
        }
    });
    let update_encodes = fields.iter().zip(&names).map(|(field, name)| {
        let (ident, ty) = (&field.ident, &field.ty);
        let stored = stored(ty);
        quote! {
            if let ::core::option::Option::Some(__value) = &__update.#ident {
                __values.insert(
                    ::std::string::String::from(#name),
                    #checkpoint::encode_field::<#stored, #ty>(#name, __value)?,
                );
            }
        }
    });
    let update_decodes = fields.iter().zip(&names).map(|(field, name)| {
        let (ident, ty) = (&field.ident, &field.ty);
        let stored = stored(ty);
        quote!(#ident: #checkpoint::decode_optional_field::<#stored, #ty>(&mut __values, #name)?)
    });
    quote! {
        impl<__M> #checkpoint::StoredFields<__M> for #state
        where
            #(#bounds,)*
        {
            fn to_values(&self) -> #result<#checkpoint::JsonObject, #error> {
                let mut __values = #checkpoint::JsonObject::new();
                #(#encodes)*
                #result::Ok(__values)
            }

            #[allow(unused_mut)]
            fn from_values(mut __values: #checkpoint::JsonObject) -> #result<Self, #error> {
                let __state = Self { #(#decodes,)* };
                #checkpoint::no_unknown_fields(&__values)?;
                #result::Ok(__state)
            }

            #[allow(unused_mut, unused_variables)]
            fn delta(__update: &#update, __merged: &Self) -> #result<#checkpoint::StateDelta, #error> {
                let mut __delta = #checkpoint::StateDelta::default();
                #(#changes)*
                #result::Ok(__delta)
            }

            #[allow(unused_mut)]
            fn update_to_json(__update: &#update) -> #result<#checkpoint::JsonObject, #error> {
                let mut __values = #checkpoint::JsonObject::new();
                #(#update_encodes)*
                #result::Ok(__values)
            }

            #[allow(unused_mut)]
            fn update_from_json(mut __values: #checkpoint::JsonObject) -> #result<#update, #error> {
                let __update = #update { #(#update_decodes,)* };
                #checkpoint::no_unknown_fields(&__values)?;
                #result::Ok(__update)
            }
        }
    }
}
