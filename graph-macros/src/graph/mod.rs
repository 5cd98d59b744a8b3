//! `#[graph]`: parse, model, validate, lower, expand (with its docs).

mod docs;
mod expand;
mod lower;
mod model;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

/// Expands `#[graph(args)] mod name { .. }`. On any error the full API is still generated
/// as stubs, with every error at once.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let module: syn::ItemMod = match syn::parse2(input.clone()) {
        Ok(module) => module,
        Err(error) => {
            // The item is kept as written, so the mistake gives this one error.
            let error = syn::Error::new(
                error.span(),
                "`#[graph]` goes on a module of nodes: `mod name { #[node] async fn .. }`",
            )
            .to_compile_error();
            return quote!(#input #error);
        }
    };
    let mut cx = Ctxt::default();
    let options = parse::parse_args(args, &mut cx);
    let module = parse::parse_module(module, &mut cx);
    let graph = model::build(options, module, &mut cx);
    validate::check(&graph, &mut cx);
    let stub = cx.has_errors();
    let lowered = lower::lower(&graph);
    let expanded = expand::module(&lowered, stub);
    let errors = cx.into_compile_errors();
    quote!(#expanded #errors)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn module() -> proc_macro2::TokenStream {
        quote! {
            pub mod jokes {
                use super::*;
                #[node]
                pub async fn call_model(state: &Topic, ctx: &Ctx) -> TopicUpdate { todo!() }
            }
        }
    }

    #[test]
    fn a_renamed_crate_is_the_root_of_every_generated_path() {
        let expanded = super::expand(
            quote!(crate = g, state = Topic, edges = [START -> call_model -> END]),
            module(),
        )
        .to_string();
        assert!(expanded.contains("g :: __private"), "{expanded}");
        assert!(!expanded.contains("stategraph"), "{expanded}");
    }

    #[test]
    fn an_error_still_emits_the_users_fns_and_the_whole_api() {
        let expanded = super::expand(
            quote!(state = Topic, edges = [START -> call_model, call_modle -> END]),
            module(),
        )
        .to_string();
        assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
        for item in [
            "async fn call_model",
            "enum Node",
            "enum Tag",
            "struct Graph",
            "type Ctx",
            "fn stream",
            "fn invoke",
            "fn mermaid",
            "GraphDef for Graph",
        ] {
            assert!(expanded.contains(item), "no `{item}` in {expanded}");
        }
        // The stub calls no user fn, so a mistake in the graph gives no type error there.
        assert!(!expanded.contains("call_model (<"), "{expanded}");
    }

    #[test]
    fn inner_docs_of_the_module_come_first_and_outside() {
        let module: proc_macro2::TokenStream =
            "pub mod jokes { //! Tells jokes.\n #![allow(unused)] #[node] pub async fn call_model(state: &Topic) -> TopicUpdate { todo!() } }"
                .parse()
                .unwrap();
        let expanded = super::expand(
            quote!(state = Topic, edges = [START -> call_model -> END]),
            module,
        )
        .to_string();
        let user = expanded.find("Tells jokes.").unwrap();
        let generated = expanded.find("# The graph").unwrap();
        let module = expanded.find("pub mod jokes").unwrap();
        assert!(user < generated && generated < module, "{expanded}");
        assert!(!expanded.contains("# ! [doc"), "{expanded}");
        assert!(expanded.contains("# ! [allow (unused)]"), "{expanded}");
    }

    /// Every use of a std name in `tokens` is a path segment after `::`.
    fn assert_std_names_are_absolute(tokens: proc_macro2::TokenStream) {
        let mut previous: Option<proc_macro2::TokenTree> = None;
        for token in tokens {
            if let proc_macro2::TokenTree::Group(group) = &token {
                assert_std_names_are_absolute(group.stream());
            }
            if let proc_macro2::TokenTree::Ident(ident) = &token {
                let name = ident.to_string();
                if [
                    "Result", "Option", "Box", "String", "Vec", "Send", "Sync", "Clone", "Default",
                ]
                .contains(&name.as_str())
                {
                    let after_path = matches!(&previous, Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ':');
                    assert!(after_path, "`{name}` is not named by absolute path");
                }
            }
            previous = Some(token);
        }
    }

    #[test]
    fn the_std_is_named_by_absolute_path() {
        let module = quote! {
            pub mod jokes {
                #[tags]
                pub enum Tag { Joke }
                #[node]
                pub async fn call_model(state: &Topic, ctx: &Ctx) -> Update { todo!() }
                #[node]
                pub async fn review(state: &Topic) -> Update { todo!() }
                #[router]
                pub fn again(state: &Topic) -> Again { todo!() }
            }
        };
        let expanded = super::expand(
            quote!(state = Topic, context = Models, custom = Progress, edges = [
                START -> [call_model, review], [call_model, review] -> END, call_model -> again ? [review, END]
            ]),
            module,
        );
        assert!(
            !expanded.to_string().contains("compile_error"),
            "{expanded}"
        );
        assert_std_names_are_absolute(expanded);
    }
}
