//! One `check_*` per rule, each reporting on the narrowest wrong token. Nothing is
//! generated here. Checks that depend on names resolving skip what did not resolve, so one
//! misspelling is reported once, not again as an unreachable node.

use std::collections::{BTreeSet, HashSet};

use syn::{FnArg, ReturnType};

use super::model::{EdgeModel, Endpoint, GraphModel, NodeModel, type_text};
use crate::ctxt::Ctxt;
use crate::suggest::{backticked, did_you_mean};

const MAX_TAGS: usize = 64;

pub(crate) fn check(graph: &GraphModel, cx: &mut Ctxt) {
    check_options(graph, cx);
    check_nodes(graph, cx);
    check_routers(graph, cx);
    check_tags(graph, cx);
    check_generated_names(graph, cx);
    let unresolved = check_unknown_names(graph, cx);
    check_edge_ends(graph, cx);
    check_duplicate_edges(graph, cx);
    check_router_edges(graph, cx);
    if graph.nodes.is_empty() {
        cx.error_at(
            graph.module.ident.span(),
            "a graph needs at least one `#[node] async fn` in its module",
        );
        return;
    }
    // An entry, reachability and exits mean nothing while names are unresolved or edges
    // malformed: the edge the user meant may be the one that did not parse.
    if unresolved || !graph.malformed_edges.is_empty() {
        return;
    }
    check_start_has_edge(graph, cx);
    if !cx.has_errors() {
        let reached = reachable_from_start(graph);
        check_reachable_from_start(graph, &reached, cx);
        check_reaches_end(graph, &reached, cx);
    }
}

fn state_text(graph: &GraphModel) -> String {
    graph
        .state
        .as_ref()
        .or(graph.state_from_nodes())
        .map_or_else(|| "MyState".to_owned(), type_text)
}

fn check_options(graph: &GraphModel, cx: &mut Ctxt) {
    let mut seen = HashSet::new();
    for key in &graph.options {
        if !seen.insert(key.to_string()) {
            cx.error_spanned_by(
                key,
                format!("duplicate option `{key}` in `#[graph]`; give it once"),
            );
        }
    }
    if !seen.contains("state") {
        let message = match graph.state_from_nodes() {
            Some(state) => format!(
                "missing `state` in `#[graph]`: the graph's state type, e.g. `state = {}`",
                type_text(state)
            ),
            None => "missing `state` in `#[graph]`: the graph's state type, e.g. `state = MyState`"
                .to_owned(),
        };
        cx.error_at(proc_macro2::Span::call_site(), message);
    }
}

fn check_nodes(graph: &GraphModel, cx: &mut Ctxt) {
    for duplicate in &graph.duplicate_nodes {
        let ident = &duplicate.sig.ident;
        cx.error_spanned_by(
            ident,
            format!("duplicate node `{ident}`; each `#[node]` fn of a graph needs its own name"),
        );
    }
    let state = state_text(graph);
    for node in &graph.nodes {
        let sig = &node.item.sig;
        if sig.asyncness.is_none() {
            cx.error_spanned_by(
                sig.fn_token,
                format!(
                    "node `{}` is not `async`; a `#[node]` fn is an `async fn`",
                    sig.ident
                ),
            );
        }
        if !sig.generics.params.is_empty() {
            cx.error_spanned_by(&sig.generics, "a `#[node]` fn cannot be generic");
        }
        if let Some(third) = sig.inputs.iter().nth(2) {
            cx.error_spanned_by(
                third,
                format!(
                    "a `#[node]` fn takes at most two parameters: `state: &{state}` and `ctx: &Ctx`"
                ),
            );
        }
        for input in &sig.inputs {
            if let FnArg::Receiver(receiver) = input {
                cx.error_spanned_by(receiver, "a `#[node]` fn cannot take `self`");
            }
        }
        if matches!(sig.output, ReturnType::Default) {
            cx.error_spanned_by(
                &sig.ident,
                format!(
                    "node `{}` returns nothing; a node returns the state's update: `-> {state}Update` or `-> Result<{state}Update, NodeError>`",
                    sig.ident
                ),
            );
        }
    }
}

/// Whether a routed edge names router `index`, or probably means it.
fn routes_with(edge: &EdgeModel, index: usize) -> bool {
    matches!(
        edge,
        EdgeModel::Routed { router_index: Some(used), .. } if *used == index
    ) || matches!(
        edge,
        EdgeModel::Routed { router_index: None, router_guess: Some(guess), .. } if *guess == index
    )
}

fn check_routers(graph: &GraphModel, cx: &mut Ctxt) {
    let state = state_text(graph);
    for (index, router) in graph.routers.iter().enumerate() {
        let sig = &router.item.sig;
        let ident = &sig.ident;
        let enum_ident = &router.enum_ident;
        if let Some(asyncness) = sig.asyncness {
            cx.error_spanned_by(
                asyncness,
                "a `#[router]` fn is a plain `fn`, not `async`: it decides from the state alone",
            );
        }
        if sig.inputs.len() != 1 {
            let message = format!(
                "a `#[router]` fn takes one parameter, the state: `fn {ident}(state: &{state}) -> {enum_ident}`"
            );
            match sig.inputs.iter().nth(1) {
                Some(extra) => cx.error_spanned_by(extra, message),
                None => cx.error_at(sig.paren_token.span.join(), message),
            }
        }
        let edge = graph.edges.iter().find(|edge| routes_with(edge, index));
        let Some(EdgeModel::Routed { targets, .. }) = edge else {
            cx.error_spanned_by(
                ident,
                format!(
                    "router `{ident}` is not used by any edge; route with it in the edge list: `node -> {ident} ? [a, END]`"
                ),
            );
            continue;
        };
        if router.sends {
            // A sending router starts node instances; `END` has none to start.
            for target in targets.iter() {
                if let Endpoint::End(end) = target {
                    cx.error_spanned_by(
                        end,
                        format!(
                            "router `{ident}` returns a `Vec`, so it sends: each item starts an instance of a node; `END` cannot be one of its targets"
                        ),
                    );
                }
            }
            // rustc checks the `Vec`'s item type against the generated enum.
            continue;
        }
        let targets = backticked(
            targets
                .iter()
                .map(|target| target.ident().to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        let returns_enum = match &sig.output {
            ReturnType::Type(_, ty) => match &**ty {
                syn::Type::Path(path) => path
                    .path
                    .segments
                    .last()
                    .is_some_and(|segment| segment.ident == *enum_ident),
                _ => false,
            },
            ReturnType::Default => false,
        };
        if !returns_enum {
            let message = format!(
                "router `{ident}` must return `{enum_ident}`, the enum `#[graph]` generates from its targets {targets}"
            );
            match &sig.output {
                ReturnType::Type(_, ty) => cx.error_spanned_by(ty, message),
                ReturnType::Default => cx.error_spanned_by(ident, message),
            }
        }
    }
}

fn check_tags(graph: &GraphModel, cx: &mut Ctxt) {
    for extra in &graph.extra_tags {
        let first = graph.tag_ident();
        cx.error_spanned_by(
            &extra.ident,
            format!(
                "a graph has one `#[tags]` enum, and `{first}` is already it; move these variants into `{first}`"
            ),
        );
    }
    let Some(tags) = &graph.tags else { return };
    for variant in &tags.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            let name = &variant.ident;
            cx.error_spanned_by(
                &variant.fields,
                format!("a tag is a unit variant: `{name}`, without fields"),
            );
        }
    }
    if tags.variants.len() > MAX_TAGS {
        cx.error_spanned_by(
            &tags.ident,
            format!(
                "a graph has at most {MAX_TAGS} tags; this enum has {}",
                tags.variants.len()
            ),
        );
    }
    if !tags.generics.params.is_empty() {
        cx.error_spanned_by(&tags.generics, "the `#[tags]` enum cannot be generic");
    }
}

/// Names the expansion derives must not clash, or rustc would report a second declaration
/// of a name the user never wrote. Each clash is reported on the second of the two.
fn check_generated_names(graph: &GraphModel, cx: &mut Ctxt) {
    for (index, node) in graph.nodes.iter().enumerate() {
        if let Some(earlier) = graph.node_variant_taken_by(index) {
            cx.error_spanned_by(
                node.ident(),
                format!(
                    "node `{}` clashes with node `{}`: both become the variant `Node::{}`; rename one of them",
                    node.ident(),
                    earlier.ident(),
                    node.variant
                ),
            );
        }
    }
    if let (Some(tags), Some(clash)) = (&graph.tags, graph.tags_clash()) {
        cx.error_spanned_by(
            &tags.ident,
            format!(
                "the `#[tags]` enum `{}` clashes with {clash}; rename it, e.g. `Tag`",
                tags.ident
            ),
        );
    }
    for (index, router) in graph.routers.iter().enumerate() {
        if let Some(clash) = graph.router_clash(index) {
            cx.error_spanned_by(
                router.ident(),
                format!(
                    "router `{}` clashes with {clash}: its generated enum is `{}`; rename the router",
                    router.ident(),
                    router.enum_ident
                ),
            );
        }
    }
    for edge in &graph.edges {
        let EdgeModel::Routed {
            router, targets, ..
        } = edge
        else {
            continue;
        };
        for (at, target) in targets.iter().enumerate() {
            let variant = target.route_variant();
            if let Some(earlier) = targets[..at]
                .iter()
                .find(|earlier| earlier.route_variant() == variant)
            {
                cx.error_spanned_by(
                    target.ident(),
                    format!(
                        "target `{}` of router `{router}` clashes with target `{}`: both become the variant `{}::{variant}`; rename the node",
                        target.ident(),
                        earlier.ident(),
                        crate::case::to_pascal_case(&router.to_string())
                    ),
                );
            }
        }
    }
}

fn known_nodes(graph: &GraphModel) -> String {
    if graph.nodes.is_empty() {
        return "the module has no `#[node]` fn".to_owned();
    }
    let names: Vec<String> = graph.nodes.iter().map(NodeModel::name).collect();
    format!("nodes are {}", backticked(names.iter().map(String::as_str)))
}

/// Reports every name of the edge list that is no node and no router. Returns whether any
/// did not resolve.
fn check_unknown_names(graph: &GraphModel, cx: &mut Ctxt) -> bool {
    // A chain `a -> b -> c` shares `b` between two edges: report each name once.
    let mut reported = HashSet::new();
    let node_names: Vec<String> = graph
        .nodes
        .iter()
        .map(NodeModel::name)
        .chain(["START".to_owned(), "END".to_owned()])
        .collect();
    let mut unresolved = false;
    for edge in &graph.edges {
        for endpoint in edge.sources().into_iter().chain(edge.targets()) {
            if let Endpoint::Unknown(ident) = endpoint {
                unresolved = true;
                if !reported.insert(ident.to_string()) {
                    continue;
                }
                let name = ident.to_string();
                let router = graph.routers.iter().any(|router| router.ident() == ident);
                let message = if router {
                    format!(
                        "`{ident}` is a router, not a node; a router follows the node it routes from: `node -> {ident} ? [a, END]`"
                    )
                } else {
                    format!(
                        "unknown node `{ident}` in edge list; {}{}",
                        known_nodes(graph),
                        did_you_mean(&name, node_names.iter().map(String::as_str))
                    )
                };
                cx.error_spanned_by(ident, message);
            }
        }
        if let EdgeModel::Routed {
            router,
            router_index: None,
            from,
            ..
        } = edge
        {
            unresolved = true;
            let routers: Vec<String> = graph
                .routers
                .iter()
                .map(|r| r.ident().to_string())
                .collect();
            let message = if routers.is_empty() {
                format!(
                    "no `#[router]` fn named `{router}` in the module; a conditional edge needs one: `#[router] fn {router}(state: &{}) -> {}`",
                    state_text(graph),
                    crate::case::to_pascal_case(&router.to_string())
                )
            } else {
                format!(
                    "unknown router `{router}` after `{} ->`; routers are {}{}",
                    from.ident(),
                    backticked(routers.iter().map(String::as_str)),
                    did_you_mean(&router.to_string(), routers.iter().map(String::as_str))
                )
            };
            cx.error_spanned_by(router, message);
        }
    }
    unresolved
}

fn check_edge_ends(graph: &GraphModel, cx: &mut Ctxt) {
    for edge in &graph.edges {
        for source in edge.sources() {
            if let Endpoint::End(ident) = source {
                cx.error_spanned_by(
                    ident,
                    "an edge cannot start at `END`: the graph stops there; edges lead into `END`",
                );
            }
        }
        if let EdgeModel::Join { from, .. } = edge {
            for source in from {
                if let Endpoint::Start(ident) = source {
                    cx.error_spanned_by(
                        ident,
                        "`START` cannot be part of a fan-in `[a, b] -> c`; fan-in joins nodes",
                    );
                }
            }
        }
        for target in edge.targets() {
            if let Endpoint::Start(ident) = target {
                cx.error_spanned_by(
                    ident,
                    "an edge cannot lead into `START`: the graph enters there; edges start from `START`",
                );
            }
        }
    }
}

fn check_duplicate_edges(graph: &GraphModel, cx: &mut Ctxt) {
    let mut seen = HashSet::new();
    for edge in &graph.edges {
        let (key, text, at) = match edge {
            EdgeModel::Direct { from, to } => (
                format!("{}->{}", from.key(), to.key()),
                format!("{} -> {}", Endpoint::name(from), Endpoint::name(to)),
                to.ident(),
            ),
            EdgeModel::Join { from, to } => {
                let sources: BTreeSet<String> = from.iter().map(Endpoint::key).collect();
                let names: Vec<String> = from.iter().map(Endpoint::name).collect();
                (
                    format!("{sources:?}->{}", to.key()),
                    format!("[{}] -> {}", names.join(", "), Endpoint::name(to)),
                    to.ident(),
                )
            }
            EdgeModel::Routed { from, router, .. } => (
                format!("{}->?{router}", from.key()),
                format!("{} -> {router} ? [..]", Endpoint::name(from)),
                router,
            ),
        };
        if !seen.insert(key) {
            cx.error_spanned_by(
                at,
                format!("duplicate edge `{text}`; it is already declared in this edge list"),
            );
        }
    }
    for target in &graph.duplicate_targets {
        cx.error_spanned_by(
            target,
            format!("duplicate target `{target}`; list each target of a router once"),
        );
    }
}

fn check_router_edges(graph: &GraphModel, cx: &mut Ctxt) {
    let mut used = HashSet::new();
    for edge in &graph.edges {
        let EdgeModel::Routed {
            router,
            router_index,
            targets,
            ..
        } = edge
        else {
            continue;
        };
        if router_index.is_some() && !used.insert(router.to_string()) {
            cx.error_spanned_by(
                router,
                format!(
                    "router `{router}` is already used by another edge; its enum lists the targets of one edge, so give this edge its own router"
                ),
            );
        }
        if targets.is_empty() {
            cx.error_spanned_by(
                router,
                format!("router `{router}` has no targets; list where it may lead: `{router} ? [a, END]`"),
            );
        }
    }
}

fn check_start_has_edge(graph: &GraphModel, cx: &mut Ctxt) {
    let has_start = graph.edges.iter().any(|edge| {
        edge.sources()
            .iter()
            .any(|source| matches!(source, Endpoint::Start(_)))
    });
    if !has_start {
        let first = graph
            .nodes
            .first()
            .map_or_else(|| "node".to_owned(), NodeModel::name);
        cx.error_at(
            graph.edges_span,
            format!("no edge from `START`; the graph needs an entry, e.g. `START -> {first}`"),
        );
    }
}

/// Forward reachability over resolved edges: which nodes a run can get to.
fn reachable_from_start(graph: &GraphModel) -> Vec<bool> {
    let mut reached = vec![false; graph.nodes.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for edge in &graph.edges {
            let fires = match edge {
                EdgeModel::Join { from, .. } => from
                    .iter()
                    .all(|source| source.node().is_some_and(|at| reached[at])),
                _ => edge.sources().iter().any(|source| match source {
                    Endpoint::Start(_) => true,
                    other => other.node().is_some_and(|at| reached[at]),
                }),
            };
            if fires {
                for target in edge.targets() {
                    if let Some(at) = target.node()
                        && !reached[at]
                    {
                        reached[at] = true;
                        changed = true;
                    }
                }
            }
        }
    }
    reached
}

fn check_reachable_from_start(graph: &GraphModel, reached: &[bool], cx: &mut Ctxt) {
    for (node, reached) in graph.nodes.iter().zip(reached) {
        if !reached {
            cx.error_spanned_by(
                node.ident(),
                format!(
                    "node `{}` is unreachable from `START`; add an edge that leads to it, e.g. `START -> {}`",
                    node.ident(),
                    node.ident()
                ),
            );
        }
    }
}

/// The nodes each node's edges lead to (`None` for `END`).
fn successors(graph: &GraphModel) -> Vec<Vec<Option<usize>>> {
    let mut next = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        for source in edge.sources() {
            if let Some(from) = source.node() {
                for target in edge.targets() {
                    match target {
                        Endpoint::End(_) => next[from].push(None),
                        other => next[from].extend(other.node().map(Some)),
                    }
                }
            }
        }
    }
    next
}

/// Reports each trap once: a node whose every path loops without reaching `END`, or stops
/// at a node with no outgoing edge. Unreachable nodes are reported as such, not again here.
fn check_reaches_end(graph: &GraphModel, reached: &[bool], cx: &mut Ctxt) {
    let next = successors(graph);
    let mut exits = vec![false; graph.nodes.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for (node, targets) in next.iter().enumerate() {
            if !exits[node]
                && targets
                    .iter()
                    .any(|target| target.is_none_or(|at| exits[at]))
            {
                exits[node] = true;
                changed = true;
            }
        }
    }
    // Visit in the order a run meets the nodes, so a trap is reported at its entry.
    let mut order: Vec<usize> = Vec::new();
    let mut queue: Vec<usize> = graph
        .edges
        .iter()
        .filter(|edge| {
            edge.sources()
                .iter()
                .any(|s| matches!(s, Endpoint::Start(_)))
        })
        .flat_map(|edge| edge.targets().into_iter().filter_map(Endpoint::node))
        .collect();
    while !queue.is_empty() {
        let node = queue.remove(0);
        if order.contains(&node) || !reached[node] {
            continue;
        }
        order.push(node);
        queue.extend(next[node].iter().flatten());
    }
    let mut covered = vec![false; graph.nodes.len()];
    for node in order {
        if exits[node] || covered[node] {
            continue;
        }
        // Everything this node can get to, all of it without an exit.
        let mut trap = vec![node];
        let mut at = 0;
        while at < trap.len() {
            for target in next[trap[at]].iter().flatten() {
                if !trap.contains(target) {
                    trap.push(*target);
                }
            }
            at += 1;
        }
        for member in &trap {
            covered[*member] = true;
        }
        let ident = graph.nodes[node].ident();
        let message = if next[node].is_empty() {
            format!(
                "node `{ident}` has no outgoing edge, so the graph cannot reach `END` from it; add one, e.g. `{ident} -> END`"
            )
        } else {
            let names: Vec<String> = trap.iter().map(|at| graph.nodes[*at].name()).collect();
            let looping = trap
                .iter()
                .any(|member| next[*member].iter().flatten().any(|t| *t == node));
            let shape = if looping { "loop" } else { "lead" };
            format!(
                "node `{ident}` has no path to `END`: {} {shape} without an exit; add an edge to `END` from one of them",
                backticked(names.iter().map(String::as_str))
            )
        };
        cx.error_spanned_by(ident, message);
    }
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
                "unknown option `contxt` in `#[graph]`; options are `state`, `context`, `custom`, `edges`, `crate`; did you mean `context`?",
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
                    #[router] async fn review(s: &S, t: &S) -> bool { todo!() }
                }
            },
        );
        assert_eq!(
            errors,
            [
                "a `#[router]` fn is a plain `fn`, not `async`: it decides from the state alone",
                "a `#[router]` fn takes one parameter, the state: `fn review(state: &S) -> Review`",
                "router `review` must return `Review`, the enum `#[graph]` generates from its targets `write`, `END`",
                "duplicate target `write`; list each target of a router once",
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
}
