//! The procedural macros of [stategraph](https://docs.rs/stategraph): `#[graph]` and
//! `#[derive(State)]`. Use them through the `stategraph` facade, which documents them.
//!
//! Everything below the thin entry points works on `proc_macro2`, so each phase is
//! unit-tested: `graph::parse` (syntax), `graph::model` (names resolved), `graph::validate`
//! (one check per rule), `graph::expand` and `graph::docs` (generation), `graph::svg` (the
//! graph drawn for the docs).
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod case;
mod ctxt;
mod graph;
mod state;
mod suggest;

use proc_macro::TokenStream;

/// Turns a module of `#[node] async fn`s and an edge list into a typed graph. See the
/// `stategraph` crate for the grammar and an example.
#[proc_macro_attribute]
pub fn graph(args: TokenStream, input: TokenStream) -> TokenStream {
    graph::expand(args.into(), input.into()).into()
}

/// Generates a state's partial update type (`<Name>Update`) and its per-field merge.
/// Fields take `#[reducer(append)]` or `#[reducer(path::to::fn)]`.
#[proc_macro_derive(State, attributes(reducer, state))]
pub fn derive_state(input: TokenStream) -> TokenStream {
    state::derive(input.into()).into()
}

fn outside_graph(marker: &str, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        format!("`#[{marker}]` only has a meaning inside a `#[graph]` module"),
    )
    .to_compile_error();
    quote::quote!(#error #item).into()
}

/// Marks an `async fn` as a node of the enclosing `#[graph]` module.
#[proc_macro_attribute]
pub fn node(_args: TokenStream, item: TokenStream) -> TokenStream {
    outside_graph("node", item)
}

/// Marks a fn as a router of the enclosing `#[graph]` module.
#[proc_macro_attribute]
pub fn router(_args: TokenStream, item: TokenStream) -> TokenStream {
    outside_graph("router", item)
}

/// Marks the tag enum of the enclosing `#[graph]` module.
#[proc_macro_attribute]
pub fn tags(_args: TokenStream, item: TokenStream) -> TokenStream {
    outside_graph("tags", item)
}
