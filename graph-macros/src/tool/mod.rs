//! `#[tool]`: an async fn made into a tool a model may call. `parse` reads the options and
//! the fn into `model`; `expand` emits the fn and the tool's struct.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

/// `#[tool]` on `input`, with `args` its options.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: syn::ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new_spanned(&input, "`#[tool]` goes on an `async fn`")
                .to_compile_error();
            return quote!(#error #input);
        }
    };
    let mut cx = Ctxt::default();
    let options = parse::options(args, &mut cx);
    let tool = parse::tool_fn(&mut item, &mut cx);
    match tool {
        Some(tool) if !cx.has_errors() => expand::expand(&item, &tool, &options.krate),
        // The fn alone, so that its callers still compile and one mistake is one error.
        _ => {
            let errors = cx.into_compile_errors();
            quote!(#errors #item)
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn errors(args: proc_macro2::TokenStream, input: proc_macro2::TokenStream) -> Vec<String> {
        let mut item: syn::ItemFn = syn::parse2(input).unwrap();
        let mut cx = crate::ctxt::Ctxt::default();
        super::parse::options(args, &mut cx);
        super::parse::tool_fn(&mut item, &mut cx);
        cx.messages()
    }

    #[test]
    fn every_mistake_of_one_fn_is_reported() {
        let messages = errors(
            quote!(),
            quote! {
                fn weather<T>(&self, (a, b): (T, T)) -> String { String::new() }
            },
        );
        assert_eq!(
            messages,
            [
                "a tool must be an `async fn`",
                "a tool cannot be generic: the model is given one schema of its arguments",
                "a tool needs a doc comment: the model reads it as the tool's description",
                "a tool cannot take `self`: write it as a free `async fn`",
                "a tool's parameter must be a name, the argument's name in the model's JSON; mark one parameter `#[args]` to take the arguments as one struct",
            ]
        );
    }

    #[test]
    fn a_documented_async_fn_with_named_parameters_is_a_tool() {
        let messages = errors(
            quote!(crate = my::rt),
            quote! {
                /// Gets the weather.
                async fn weather(city: String) -> String { city }
            },
        );
        assert!(messages.is_empty(), "{messages:?}");
        let messages = errors(
            quote!(name = "x"),
            quote! { /// Doc.
            async fn weather(#[args] args: Args) -> String { String::new() } },
        );
        assert_eq!(
            messages,
            ["unknown `tool` option; the only option is `crate = path`"]
        );
    }
}
