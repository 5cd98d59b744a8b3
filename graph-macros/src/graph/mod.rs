//! `#[graph]`: parse, model, validate, expand.

mod docs;
mod expand;
mod model;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

/// Expands `#[graph(args)] mod name { .. }`. On any error the full API is still generated
/// as stubs, with every error at once.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let module: syn::ItemMod = match syn::parse2(input) {
        Ok(module) => module,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                "`#[graph]` goes on a module: `mod name { .. }`",
            )
            .to_compile_error();
        }
    };
    let mut cx = Ctxt::default();
    let options = parse::parse_args(args, &mut cx);
    let module = parse::parse_module(module, &mut cx);
    let graph = model::build(options, module, &mut cx);
    validate::check(&graph, &mut cx);
    let stub = cx.has_errors();
    let expanded = expand::module(&graph, stub);
    let errors = cx.into_compile_errors();
    quote!(#expanded #errors)
}
