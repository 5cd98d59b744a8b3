//! One `check_*` per rule, each reporting on the narrowest wrong token. Nothing is
//! generated here. The items are checked first, each on its own (`items`), then the graph
//! as a whole (`graph`). Checks that depend on names resolving skip what did not resolve,
//! so one misspelling is reported once, not again as an unreachable node.

mod graph;
mod items;

use super::model::{GraphModel, type_text};
use crate::ctxt::Ctxt;

pub(crate) fn check(model: &GraphModel, cx: &mut Ctxt) {
    items::check_options(model, cx);
    items::check_nodes(model, cx);
    items::check_node_policies(model, cx);
    items::check_routers(model, cx);
    items::check_tags(model, cx);
    items::check_generated_names(model, cx);
    let unresolved = graph::check_unknown_names(model, cx);
    graph::check_edge_ends(model, cx);
    graph::check_duplicate_edges(model, cx);
    graph::check_router_edges(model, cx);
    graph::check_own_input_nodes(model, cx);
    if model.nodes.is_empty() {
        cx.error_at(
            model.module.ident.span(),
            "a graph needs at least one `#[node] async fn` in its module",
        );
        return;
    }
    // An entry, reachability and exits mean nothing while names are unresolved or edges
    // malformed: the edge the user meant may be the one that did not parse.
    if unresolved || !model.malformed_edges.is_empty() {
        return;
    }
    graph::check_start_has_edge(model, cx);
    if !cx.has_errors() {
        let reached = graph::reachable_from_start(model);
        graph::check_reachable_from_start(model, &reached, cx);
        graph::check_reaches_end(model, &reached, cx);
    }
}

fn state_text(graph: &GraphModel) -> String {
    graph
        .state
        .as_ref()
        .or(graph.state_from_nodes())
        .map_or_else(|| "MyState".to_owned(), type_text)
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::ctxt::Ctxt;
    use crate::graph::{model, parse};

    fn errors_of(args: TokenStream, module: TokenStream) -> Vec<String> {
        let mut cx = Ctxt::default();
        let options = parse::parse_args(args, &mut cx);
        let module = parse::parse_module(syn::parse2(module).unwrap(), &mut cx);
        let graph = model::build(options, module, &mut cx);
        super::check(&graph, &mut cx);
        cx.messages()
    }

    fn module() -> TokenStream {
        quote! {
            mod g {
                #[node] async fn plan(s: &S) -> U { todo!() }
                #[node] async fn answer(s: &S) -> U { todo!() }
            }
        }
    }

    fn routed_module() -> TokenStream {
        quote! {
            mod g {
                #[node] async fn write(s: &S) -> U { todo!() }
                #[router] fn review(s: &S) -> Review { todo!() }
            }
        }
    }

    #[test]
    fn a_valid_chain_has_no_errors() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> END]),
            module(),
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn fan_out_fan_in_and_a_routed_cycle_have_no_errors() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> [plan, answer], [plan, answer] -> write, write -> review ? [write, END]]),
            quote! {
                mod g {
                    #[node] async fn plan(s: &S) -> U { todo!() }
                    #[node] async fn answer(s: &S) -> U { todo!() }
                    #[node] async fn write(s: &S) -> U { todo!() }
                    #[router] fn review(s: &S) -> Review { todo!() }
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn an_unknown_node_is_reported_once_with_the_known_ones_and_a_suggestion() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answr -> END]),
            module(),
        );
        assert_eq!(
            errors,
            [
                "unknown node `answr` in edge list; nodes are `plan`, `answer`; did you mean `answer`?"
            ]
        );
    }

    #[test]
    fn a_misspelt_start_is_not_also_a_missing_entry() {
        let errors = errors_of(
            quote!(state = S, edges = [STRAT -> plan -> answer -> END]),
            module(),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].ends_with("did you mean `START`?"), "{errors:?}");
    }

    #[test]
    fn three_independent_mistakes_give_three_errors() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> END, plan -> -> END, END -> plan], colour = red),
            module(),
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(
            errors[0],
            "expected a node, `START`, `END` or a list `[a, b]`, found `->`"
        );
        assert!(
            errors[1].starts_with("unknown option `colour`"),
            "{errors:?}"
        );
        assert!(
            errors[2].starts_with("an edge cannot start at `END`"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_cycle_without_exit_is_reported_once_at_its_entry() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> plan]),
            module(),
        );
        assert_eq!(
            errors,
            [
                "node `plan` has no path to `END`: `plan`, `answer` loop without an exit; add an edge to `END` from one of them"
            ]
        );
    }

    #[test]
    fn a_node_without_outgoing_edge_says_so() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer]),
            module(),
        );
        assert_eq!(
            errors,
            [
                "node `plan` has no path to `END`: `plan`, `answer` lead without an exit; add an edge to `END` from one of them"
            ]
        );
        let more = errors_of(
            quote!(state = S, edges = [START -> [plan, answer], plan -> END]),
            module(),
        );
        assert_eq!(
            more,
            [
                "node `answer` has no outgoing edge, so the graph cannot reach `END` from it; add one, e.g. `answer -> END`"
            ]
        );
    }

    #[test]
    fn an_unreachable_node_is_not_also_reported_without_exit() {
        let errors = errors_of(quote!(state = S, edges = [START -> plan -> END]), module());
        assert_eq!(
            errors,
            [
                "node `answer` is unreachable from `START`; add an edge that leads to it, e.g. `START -> answer`"
            ]
        );
    }

    #[test]
    fn no_edge_from_start_suggests_one() {
        let errors = errors_of(quote!(state = S, edges = [plan -> answer -> END]), module());
        assert_eq!(
            errors,
            ["no edge from `START`; the graph needs an entry, e.g. `START -> plan`"]
        );
    }

    #[test]
    fn edges_out_of_end_and_into_start_are_rejected() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> END, END -> plan, answer -> START]),
            module(),
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("an edge cannot start at `END`"));
        assert!(errors[1].starts_with("an edge cannot lead into `START`"));
    }

    #[test]
    fn a_duplicate_edge_names_the_edge() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> END, plan -> answer]),
            module(),
        );
        assert_eq!(
            errors,
            ["duplicate edge `plan -> answer`; it is already declared in this edge list"]
        );
    }

    #[test]
    fn a_duplicate_node_is_reported_on_the_second() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> END]),
            quote! {
                mod g {
                    #[node] async fn plan(s: &S) -> U { todo!() }
                    #[node] async fn plan(s: &S) -> U { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            ["duplicate node `plan`; each `#[node]` fn of a graph needs its own name"]
        );
    }

    #[test]
    fn node_signatures_are_checked() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> END]),
            quote! {
                mod g {
                    #[node] fn plan(s: &S) -> U { todo!() }
                    #[node] async fn answer(s: &S, c: &Ctx, t: &S) { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "node `plan` is not `async`; a `#[node]` fn is an `async fn`",
                "a `#[node]` fn takes at most two parameters: `state: &S` and `ctx: &Ctx`",
                "node `answer` returns nothing; a node returns the state's update: `-> SUpdate` or `-> Result<SUpdate, NodeError>`",
            ]
        );
    }

    #[test]
    fn a_missing_state_is_named_from_the_nodes() {
        let errors = errors_of(quote!(edges = [START -> plan -> answer -> END]), module());
        assert_eq!(
            errors,
            ["missing `state` in `#[graph]`: the graph's state type, e.g. `state = S`"]
        );
    }

    #[test]
    fn options_are_checked_each_on_its_own() {
        let errors = errors_of(
            quote!(state, state = S, contxt = C, edges = [START -> plan -> answer -> END]),
            module(),
        );
        assert_eq!(
            errors,
            [
                "expected `=` and a value after `state`: `state = MyState`",
                "unknown option `contxt` in `#[graph]`; options are `state`, `context`, `custom`, `edges`, `retry`, `timeout`, `crate`; did you mean `context`?",
                "duplicate option `state` in `#[graph]`; give it once",
            ]
        );
    }

    #[test]
    fn a_conditional_edge_without_router_shows_the_router_to_write() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan, plan -> decide ? [answer, END], answer -> END]),
            module(),
        );
        assert_eq!(
            errors,
            [
                "no `#[router]` fn named `decide` in the module; a conditional edge needs one: `#[router] fn decide(state: &S) -> Decide`"
            ]
        );
    }

    #[test]
    fn a_misspelt_router_is_reported_once() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> write, write -> reveiw ? [write, END]]),
            routed_module(),
        );
        assert_eq!(
            errors,
            [
                "unknown router `reveiw` after `write ->`; routers are `review`; did you mean `review`?"
            ]
        );
    }

    #[test]
    fn router_signatures_are_checked() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> write, write -> review ? [write, END, write]]),
            quote! {
                mod g {
                    #[node] async fn write(s: &S) -> U { todo!() }
                    #[router] fn review(s: &S, t: &S) -> bool { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "a `#[router]` fn takes one parameter, the state: `fn review(state: &S) -> Review` (an `async fn` may take `ctx: &Ctx` too)",
                "router `review` must return `Review`, the enum `#[graph]` generates from its targets `write`, `END`",
                "duplicate target `write`; list each target of a router once",
            ]
        );
    }

    #[test]
    fn async_router_signatures_are_checked() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> ask ? [write, END], write -> send ? [write], write -> plain ? [END]]),
            quote! {
                mod g {
                    #[node] async fn write(s: &S) -> U { todo!() }
                    #[router] async fn ask(s: &S, c: &Ctx, t: &S) -> Result<bool, E> { todo!() }
                    #[router] async fn send(s: &S) -> Vec<Send> { todo!() }
                    #[router] fn plain(s: &S, c: &Ctx) -> Plain { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "an `async` `#[router]` fn takes the state and, to ask a model, the context: `async fn ask(state: &S, ctx: &Ctx) -> Ask`",
                "router `ask` is `async`: it runs in the task of the node it routes from, and `START` is no node; route from a node, or make `ask` a plain `fn`",
                "router `ask` must return `Ask` (or `Result<Ask, E>`), the enum `#[graph]` generates from its targets `write`, `END`",
                "router `send` returns a `Vec`, so it sends, and a sending router is a plain `fn`: its items start the next step from the merged state",
                "router `plain` takes the context, so it is an `async fn`: it then runs in the task of the node it routes from: `async fn plain(state: &S, ctx: &Ctx) -> Plain`",
            ]
        );
    }

    #[test]
    fn an_unused_router_is_reported() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> write -> END]),
            routed_module(),
        );
        assert_eq!(
            errors,
            [
                "router `review` is not used by any edge; route with it in the edge list: `node -> review ? [a, END]`"
            ]
        );
    }

    #[test]
    fn a_router_after_a_fan_in_says_to_join_first() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> [plan, answer], [plan, answer] -> review ? [plan, END]]),
            quote! {
                mod g {
                    #[node] async fn plan(s: &S) -> U { todo!() }
                    #[node] async fn answer(s: &S) -> U { todo!() }
                    #[router] fn review(s: &S) -> Review { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "a router follows one node, not a fan-in; join first, then route: `[plan, answer] -> merge`, `merge -> review ? [..]`"
            ]
        );
    }

    #[test]
    fn tags_are_unit_variants_of_one_enum() {
        let errors = errors_of(
            quote!(state = S, edges = [START -> plan -> answer -> END]),
            quote! {
                mod g {
                    #[tags] enum Tag { Joke(String), Poem }
                    #[tags] enum More { Song }
                    #[node] async fn plan(s: &S) -> U { todo!() }
                    #[node] async fn answer(s: &S) -> U { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "a graph has one `#[tags]` enum, and `Tag` is already it; move these variants into `Tag`",
                "a tag is a unit variant: `Joke`, without fields",
            ]
        );
    }

    #[test]
    fn generated_names_that_clash_are_reported_on_the_second() {
        let errors = errors_of(
            quote!(state = S, edges = [
                START -> a_b -> aB -> graph ? [end, END],
                end -> node ? [a_b, END],
                a_b -> n_o_d_e ? [END],
            ]),
            quote! {
                mod g {
                    #[tags] enum Ctx { Joke }
                    #[node] async fn a_b(s: &S) -> U { todo!() }
                    #[node] async fn aB(s: &S) -> U { todo!() }
                    #[node] async fn end(s: &S) -> U { todo!() }
                    #[router] fn graph(s: &S) -> Graph { todo!() }
                    #[router] fn node(s: &S) -> Node { todo!() }
                    #[router] fn n_o_d_e(s: &S) -> NODE { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "node `aB` clashes with node `a_b`: both become the variant `Node::AB`; rename one of them",
                "the `#[tags]` enum `Ctx` clashes with the generated context type `Ctx`; rename it, e.g. `Tag`",
                "router `graph` clashes with the generated graph struct `Graph`: its generated enum is `Graph`; rename the router",
                "router `node` clashes with the generated node enum `Node`: its generated enum is `Node`; rename the router",
                "target `END` of router `graph` clashes with target `end`: both become the variant `Graph::End`; rename the node",
            ]
        );
    }

    #[test]
    fn a_router_named_like_the_tag_enum_or_another_router_clashes() {
        let errors = errors_of(
            quote!(state = S, edges = [
                START -> plan -> tag ? [plan, END],
                plan -> route_a ? [END],
                plan -> routeA ? [END],
            ]),
            quote! {
                mod g {
                    #[node] async fn plan(s: &S) -> U { todo!() }
                    #[router] fn tag(s: &S) -> Tag { todo!() }
                    #[router] fn route_a(s: &S) -> RouteA { todo!() }
                    #[router] fn routeA(s: &S) -> RouteA { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "router `tag` clashes with the generated tag enum `Tag`: its generated enum is `Tag`; rename the router",
                "router `routeA` clashes with the enum of router `route_a`: its generated enum is `RouteA`; rename the router",
            ]
        );
    }

    #[test]
    fn a_goto_is_an_edge_its_names_resolve_and_its_literals_are_checked() {
        let module = quote! {
            mod g {
                #[node(goto = [tools, END])] async fn agent(s: &S) -> U { todo!() }
                #[node] async fn tools(s: &S) -> U { todo!() }
            }
        };
        // `tools` is reached only through the goto, and reaches `END` through `agent`.
        let errors = errors_of(
            quote!(state = S, edges = [START -> agent, tools -> agent]),
            module,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let errors = errors_of(
            quote!(state = S, edges = [START -> agent -> END]),
            quote! {
                mod g {
                    #[node(goto = [tols], retry = 0, timeout = "3 parsecs")] async fn agent(s: &S) -> U { todo!() }
                    #[node(timeout = 30)] async fn tools(s: &S) -> U { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "`retry = 0`: a node makes at least one attempt; give the most attempts, e.g. `retry = 3`",
                "`3 parsecs` is not a duration (unknown time unit \"parsecs\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations)); write e.g. `timeout = \"30s\"` or `\"500ms\"`",
                "a timeout needs a unit: `timeout = \"30s\"`, or a `Duration` expression",
                "unknown node `tols` in the `goto` of `agent`; nodes are `agent`, `tools`; did you mean `tools`?",
            ]
        );
    }
}
