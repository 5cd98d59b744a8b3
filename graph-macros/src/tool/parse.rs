//! `#[tool]`'s options and fn, read into the model; every mistake is recorded on its
//! token, and reading goes on so that all of them are reported at once.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Attribute, FnArg, ItemFn, Pat};

use super::model::{Argument, Arguments, ToolDocs, ToolFn, ToolOptions};
use crate::ctxt::Ctxt;

/// `crate = path`, the only option.
pub(crate) fn options(args: TokenStream, cx: &mut Ctxt) -> ToolOptions {
    let mut krate: syn::Path = syn::parse_quote!(::stategraph);
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            krate = meta.value()?.parse()?;
            Ok(())
        } else {
            Err(meta.error("unknown `tool` option; the only option is `crate = path`"))
        }
    });
    if let Err(error) = parser.parse2(args) {
        cx.syn_error(error);
    }
    ToolOptions { krate }
}

/// The fn as a tool; `None` when it cannot be one (the errors are in `cx`). The `#[args]`
/// markers are taken off the fn's parameters, which are emitted without them.
pub(crate) fn tool_fn(item: &mut ItemFn, cx: &mut Ctxt) -> Option<ToolFn> {
    let errors_before = cx.has_errors();
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "a tool must be an `async fn`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &sig.generics,
            "a tool cannot be generic: the model is given one schema of its arguments",
        );
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, "a tool cannot be variadic");
    }
    let docs = ToolDocs::parse(&doc_lines(&item.attrs), sig.ident.span());
    if docs.description.is_empty() {
        cx.error_spanned_by(
            &sig.ident,
            "a tool needs a doc comment: the model reads it as the tool's description",
        );
    }
    let arguments = arguments(item, &docs, cx);
    if cx.has_errors() && !errors_before {
        return None;
    }
    Some(ToolFn {
        name: item.sig.ident.clone(),
        description: docs.description,
        arguments: arguments?,
    })
}

fn arguments(item: &mut ItemFn, docs: &ToolDocs, cx: &mut Ctxt) -> Option<Arguments> {
    let count = item.sig.inputs.len();
    let mut each = Vec::new();
    let mut whole = None;
    for input in &mut item.sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                cx.error_spanned_by(
                    receiver.self_token,
                    "a tool cannot take `self`: write it as a free `async fn`",
                );
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let before = typed.attrs.len();
        typed.attrs.retain(|attr| !attr.path().is_ident("args"));
        if typed.attrs.len() != before {
            if count != 1 {
                cx.error_spanned_by(
                    &typed.pat,
                    "an `#[args]` parameter must be the tool's only one: it holds every argument",
                );
            }
            whole = Some((*typed.ty).clone());
            continue;
        }
        let Pat::Ident(pat) = &*typed.pat else {
            cx.error_spanned_by(
                &typed.pat,
                "a tool's parameter must be a name, the argument's name in the model's JSON; \
                 mark one parameter `#[args]` to take the arguments as one struct",
            );
            continue;
        };
        if let Some(by_ref) = &pat.by_ref {
            cx.error_spanned_by(by_ref, "a tool's parameter cannot be `ref`");
        }
        let name = pat.ident.clone();
        let description = docs
            .arguments
            .iter()
            .find(|(listed, _)| name == listed)
            .map(|(_, text)| text.clone());
        each.push(Argument {
            name,
            ty: (*typed.ty).clone(),
            description,
        });
    }
    for (listed, _) in &docs.arguments {
        if whole.is_none() && !each.iter().any(|argument| argument.name == listed) {
            let names: Vec<String> = each.iter().map(|a| format!("`{}`", a.name)).collect();
            cx.error_at(
                docs.span,
                format!(
                    "the docs' `# Arguments` list `{listed}`, which is not a parameter; the parameters are {}",
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                ),
            );
        }
    }
    Some(match whole {
        Some(ty) => Arguments::Struct(ty),
        None => Arguments::Each(each),
    })
}

/// The text of each `///` line (each `#[doc = ".."]`), as written.
fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .flat_map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}
