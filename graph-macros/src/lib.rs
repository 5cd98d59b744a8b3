//! The procedural macros of [stategraph](https://docs.rs/stategraph): `#[graph]` and
//! `#[derive(State)]`. Use them through the `stategraph` facade, which documents them.
//!
//! Everything below the thin entry points works on `proc_macro2`, so each phase is
//! unit-tested: `graph::parse` (syntax), `graph::model` (names resolved), `graph::validate`
//! (one check per rule: each item, then the graph), `graph::lower` (each derived fact
//! computed once), `graph::expand` and `graph::docs` (generation). The drawing (layout
//! and SVG, Mermaid text) is the `stategraph-diagram` crate's, shared with the run-time
//! `GraphDescription`.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod case;
mod ctxt;
mod graph;
mod state;
mod suggest;
mod tool;

use proc_macro::TokenStream;

/// Turns a module of `#[node] async fn`s and an edge list into a typed graph.
///
/// # Grammar
///
/// ```text
/// #[graph( option, .. )]            options in any order, each at most once
/// option   = state = Type           required: the state, a `#[derive(State)]` struct
///          | context = Type         optional: what `Graph::new` takes, `ctx.context()` gives
///          | custom = Type          optional: the payload of custom mode (`ctx.write`)
///          | edges = [ edge, .. ]   required
///          | crate = path           optional: where the runtime is (default `::stategraph`)
/// edge     = element -> element ( -> element )*
///          | element ( -> element )* -> router ? [ end, .. ]   a routed edge ends its chain
/// element  = end | [ end, .. ]      a list after `->` fans out; before `->`, fans in
/// end      = START | END | node
/// ```
///
/// A type is any Rust type, commas inside its generics included
/// (`context = HashMap<String, Model>`). `a -> [b, c]` runs `b` and `c` in the next step;
/// `[b, c] -> d` runs `d` once both have run; `a -> r ? [b, END]` calls the `#[router]` fn
/// `r` after `a` to pick one target. A fan-in leads to one node, and a router follows one
/// node.
///
/// In the module:
///
/// - `#[node] async fn name(state: &State, ctx: &Ctx) -> Update`: either parameter may be
///   left out; the return is the state's update or a `Result<Update, NodeError>`.
///   Options, each optional: `#[node(goto = [a, END], retry = 3, timeout = "30s")]`.
///   `goto` generates `<Name>Goto` (a variant per listed target) and the node returns
///   `Goto<Update, <Name>Goto>` (or a `Result` of it): the targets run next, besides the
///   node's edges. `retry` is a count of attempts or a `RetryPolicy` expression; `timeout`
///   a duration string (`"500ms"`, `"1m 30s"`) or a `Duration` expression.
/// - `#[router] fn name(state: &State) -> Name`: `Name` is generated from the edge's
///   targets, one variant per target in PascalCase (`Plan`, `End`). A router returning
///   `Vec<Name>` sends: each item, `Name::Target(State)`, starts one instance of `Target`
///   with that input in the next step (LangGraph's `Send`); it cannot target `END`.
/// - At most one `#[tags] enum` of unit variants: the tags of model calls, for filtering
///   the stream. Without one, `Tag` is generated, with no variant.
///
/// Generated next to them: `Node` (a variant per node, in PascalCase), `Ctx` (the
/// context type of the nodes), a router's enum, and `Graph` with `new`, `context`,
/// `stream`, `stream_with`, `invoke`, `invoke_with` and `mermaid`, and rustdoc showing the
/// entry, the edges, the tags and the diagram. Generated names must not clash: a router
/// `graph` (enum `Graph`), a `#[tags] enum Node`, or nodes `a_b` and `aB` (both `AB`) are
/// errors naming both sides.
///
/// Every mistake is reported at once, on the token that is wrong, and the module's items
/// are still emitted, so one mistake gives one error.
///
/// # Example
///
/// Through the `stategraph` facade (this crate is its implementation):
///
/// ```ignore
/// use stategraph::prelude::*;
///
/// #[derive(Clone, Debug, Default, State)]
/// pub struct Work {
///     pub rounds: u32,
///     #[reducer(append)]
///     pub log: Vec<String>,
/// }
///
/// #[graph(
///     state = Work,
///     edges = [
///         START -> plan,
///         plan -> [search, draft],
///         [search, draft] -> merge,
///         merge -> again ? [plan, END],
///     ],
/// )]
/// pub mod research {
///     use super::*;
///
///     #[node]
///     pub async fn plan(state: &Work) -> WorkUpdate {
///         WorkUpdate::default().rounds(state.rounds + 1)
///     }
///
///     #[node]
///     pub async fn search(_state: &Work) -> WorkUpdate {
///         WorkUpdate::default().log(vec!["search".to_owned()])
///     }
///
///     #[node]
///     pub async fn draft(_state: &Work, ctx: &Ctx) -> WorkUpdate {
///         WorkUpdate::default().log(vec![format!("draft in step {}", ctx.step())])
///     }
///
///     #[node]
///     pub async fn merge(_state: &Work) -> Result<WorkUpdate, NodeError> {
///         Ok(WorkUpdate::default().log(vec!["merge".to_owned()]))
///     }
///
///     /// Plans again until two rounds are done.
///     #[router]
///     pub fn again(state: &Work) -> Again {
///         if state.rounds < 2 { Again::Plan } else { Again::End }
///     }
/// }
///
/// # async fn run() -> Result<(), GraphError> {
/// let done = research::Graph::new().invoke(Work::default()).await?;
/// assert_eq!(done.rounds, 2);
/// # Ok(())
/// # }
/// ```
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

/// Makes an `async fn` a tool a model may call, as LangChain's `@tool`.
///
/// # Grammar
///
/// ```text
/// #[tool]                  or #[tool(crate = path)]: where the runtime is (default `::stategraph`)
/// /// Description, for the model.
/// ///
/// /// # Arguments
/// /// * `name` - what it is, for the model
/// async fn name(name: Type, ..) -> Output
/// async fn name(#[args] args: ArgsStruct) -> Output
/// ```
///
/// Next to the fn, which stays as written, it generates a unit struct named after it in
/// PascalCase (`get_weather` -> `GetWeather`) implementing `Tool`: the tool's name is the
/// fn's, its description the doc comment before `# Arguments`, and its arguments' JSON
/// Schema is derived from the parameters' types (`Option` = not required, enums as `enum`,
/// nested structs inlined, their `///` docs as descriptions). Each parameter is one
/// argument, described by its `# Arguments` entry; one parameter marked `#[args]` takes
/// every argument as one struct deriving `serde::Deserialize` and `schemars::JsonSchema`.
///
/// Calling the tool parses the model's JSON into the parameters; arguments that do not fit
/// are a `ToolError::InvalidArguments`, which a tool node sends back to the model. The fn
/// returns `String`, `&'static str`, `serde_json::Value`, or a `Result` of one of them;
/// its error becomes `ToolError::Failed`.
///
/// A non-`async` fn, a generic one, a `self` parameter, a parameter that is a pattern, a
/// missing doc comment, or an argument type with no schema are errors on the wrong token.
///
/// ```ignore
/// use stategraph::tool;
///
/// /// Gets the current weather in a city.
/// ///
/// /// # Arguments
/// /// * `city` - The city's name
/// #[tool]
/// async fn get_weather(city: String) -> String {
///     format!("Sunny in {city}")
/// }
///
/// // `GetWeather` is the tool: `ctx.chat(&model).tools([&GetWeather])`.
/// ```
#[proc_macro_attribute]
pub fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    tool::expand(args.into(), input.into()).into()
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

/// Marks an `async fn` as a node of the enclosing `#[graph]` module; its options
/// (`goto`, `retry`, `timeout`) are read by `#[graph]`.
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
