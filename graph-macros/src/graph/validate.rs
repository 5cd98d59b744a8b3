//! One `check_*` per rule, each reporting on the narrowest wrong token. Nothing is
//! generated here. Checks that depend on names resolving skip what did not resolve, so one
//! misspelling is reported once, not again as an unreachable node.

use std::collections::{BTreeSet, HashSet};

use syn::{FnArg, ReturnType};

use super::model::{EdgeModel, Endpoint, GraphModel};
use crate::ctxt::Ctxt;

const MAX_TAGS: usize = 64;

pub(crate) fn check(graph: &GraphModel, cx: &mut Ctxt) {
    check_options(graph, cx);
    check_nodes(graph, cx);
    check_routers(graph, cx);
    check_tags(graph, cx);
    check_unknown_names(graph, cx);
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
    check_start_has_edge(graph, cx);
    // Reachability means nothing while names are unresolved or edges malformed.
    if !cx.has_errors() {
        check_reachable_from_start(graph, cx);
        check_reaches_end(graph, cx);
    }
}

fn check_options(graph: &GraphModel, cx: &mut Ctxt) {
    let mut seen = HashSet::new();
    for key in &graph.options {
        if !seen.insert(key.to_string()) {
            cx.error_spanned_by(key, format!("duplicate option `{key}` in `#[graph]`"));
        }
    }
    if graph.state.is_none() {
        cx.error_at(
            proc_macro2::Span::call_site(),
            "`#[graph]` needs the graph's state type: `#[graph(state = MyState, edges = [..])]`",
        );
    }
}

fn check_nodes(graph: &GraphModel, cx: &mut Ctxt) {
    let mut names = HashSet::new();
    for node in &graph.nodes {
        let sig = &node.item.sig;
        if !names.insert(node.name()) {
            cx.error_spanned_by(&sig.ident, format!("duplicate node `{}`", sig.ident));
        }
        if sig.asyncness.is_none() {
            cx.error_spanned_by(
                sig.fn_token,
                format!("node `{}` must be an `async fn`", sig.ident),
            );
        }
        if !sig.generics.params.is_empty() {
            cx.error_spanned_by(&sig.generics, "a `#[node]` fn cannot be generic");
        }
        if sig.inputs.len() > 2 {
            cx.error_spanned_by(
                &sig.inputs,
                "a `#[node]` fn takes at most two parameters: `state: &State` and `ctx: &Ctx`",
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
                    "node `{}` must return the state's update, e.g. `-> Result<{}Update, NodeError>`",
                    sig.ident,
                    graph.state.as_ref().map_or_else(|| "State".to_owned(), |ty| quote::quote!(#ty).to_string())
                ),
            );
        }
    }
}

fn check_routers(graph: &GraphModel, cx: &mut Ctxt) {
    for (index, router) in graph.routers.iter().enumerate() {
        let sig = &router.item.sig;
        if sig.asyncness.is_some() {
            cx.error_spanned_by(
                sig.asyncness,
                "a `#[router]` fn is a plain `fn`, not `async`",
            );
        }
        let uses = graph
            .edges
            .iter()
            .filter(|edge| matches!(edge, EdgeModel::Routed { router_index: Some(used), .. } if *used == index))
            .count();
        if uses == 0 {
            cx.error_spanned_by(
                &sig.ident,
                format!(
                    "router `{}` is not used by any edge; route with `node -> {} ? [targets]`",
                    sig.ident, sig.ident
                ),
            );
        }
    }
}

fn check_tags(graph: &GraphModel, cx: &mut Ctxt) {
    for extra in &graph.extra_tags {
        cx.error_spanned_by(
            &extra.ident,
            "a graph has one `#[tags]` enum; merge the variants into the first",
        );
    }
    let Some(tags) = &graph.tags else { return };
    for variant in &tags.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &variant.fields,
                "tags are unit variants: `Joke`, not `Joke(..)`",
            );
        }
    }
    if tags.variants.len() > MAX_TAGS {
        cx.error_spanned_by(&tags.ident, format!("a graph has at most {MAX_TAGS} tags"));
    }
    if !tags.generics.params.is_empty() {
        cx.error_spanned_by(&tags.generics, "the `#[tags]` enum cannot be generic");
    }
}

fn known_nodes(graph: &GraphModel) -> String {
    let names: Vec<String> = graph
        .nodes
        .iter()
        .map(|node| format!("`{}`", node.ident()))
        .collect();
    match names.len() {
        0 => "the module has no `#[node]` fns".to_owned(),
        _ => format!("nodes are {}", names.join(", ")),
    }
}

fn check_unknown_names(graph: &GraphModel, cx: &mut Ctxt) {
    // A chain `a -> b -> c` shares `b` between two edges: report each name once.
    let mut reported = HashSet::new();
    for edge in &graph.edges {
        for endpoint in edge.sources().into_iter().chain(edge.targets()) {
            if let Endpoint::Unknown(ident) = endpoint {
                if !reported.insert(ident.to_string()) {
                    continue;
                }
                let mut message = format!(
                    "unknown node `{ident}` in edge list; {}",
                    known_nodes(graph)
                );
                let candidates = graph
                    .nodes
                    .iter()
                    .map(|node| node.name())
                    .chain(["START".into(), "END".into()]);
                if let Some(closest) = closest_name(&ident.to_string(), candidates) {
                    message.push_str(&format!("; did you mean `{closest}`?"));
                }
                cx.error_spanned_by(ident, message);
            }
        }
        if let EdgeModel::Routed {
            router,
            router_index: None,
            ..
        } = edge
        {
            let routers: Vec<String> = graph
                .routers
                .iter()
                .map(|r| format!("`{}`", r.ident()))
                .collect();
            let known = if routers.is_empty() {
                "declare it as `#[router] fn ..` in the module".to_owned()
            } else {
                format!("routers are {}", routers.join(", "))
            };
            cx.error_spanned_by(router, format!("unknown router `{router}`; {known}"));
        }
    }
}

fn check_edge_ends(graph: &GraphModel, cx: &mut Ctxt) {
    for edge in &graph.edges {
        for source in edge.sources() {
            if let Endpoint::End(ident) = source {
                cx.error_spanned_by(
                    ident,
                    "an edge cannot start at `END`: the graph stops there",
                );
            }
        }
        if let EdgeModel::Join { from, .. } = edge {
            for source in from {
                if let Endpoint::Start(ident) = source {
                    cx.error_spanned_by(ident, "`START` cannot be part of a fan-in");
                }
            }
        }
        for target in edge.targets() {
            if let Endpoint::Start(ident) = target {
                cx.error_spanned_by(ident, "an edge cannot lead into `START`");
            }
        }
    }
}

fn check_duplicate_edges(graph: &GraphModel, cx: &mut Ctxt) {
    let mut seen = HashSet::new();
    for edge in &graph.edges {
        let (key, at) = match edge {
            EdgeModel::Direct { from, to } => (format!("{}->{}", from.key(), to.key()), to.ident()),
            EdgeModel::Join { from, to } => {
                let sources: BTreeSet<String> = from.iter().map(Endpoint::key).collect();
                (format!("{sources:?}->{}", to.key()), to.ident())
            }
            EdgeModel::Routed { from, router, .. } => {
                (format!("{}->?{router}", from.key()), router)
            }
        };
        if !seen.insert(key) {
            cx.error_spanned_by(at, "duplicate edge: this edge is declared twice");
        }
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
                format!("router `{router}` is used by two edges; its return type can only list one set of targets"),
            );
        }
        if targets.is_empty() {
            cx.error_spanned_by(router, "a router needs at least one target: `? [a, END]`");
        }
        let mut seen = HashSet::new();
        for target in targets {
            if !seen.insert(target.key()) {
                cx.error_spanned_by(
                    target.ident(),
                    format!("duplicate target `{}`", target.ident()),
                );
            }
        }
    }
}

fn check_start_has_edge(graph: &GraphModel, cx: &mut Ctxt) {
    let has_start = graph.edges.iter().any(|edge| {
        edge.sources()
            .iter()
            .any(|source| matches!(source, Endpoint::Start(_)))
    });
    if !has_start && graph.malformed_edges.is_empty() {
        let first = graph
            .nodes
            .first()
            .map_or_else(|| "node".to_owned(), |node| node.name());
        cx.error_at(
            graph.edges_span,
            format!("no edge from `START`: the graph needs an entry, e.g. `START -> {first}`"),
        );
    }
}

/// Forward reachability over resolved edges.
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

fn check_reachable_from_start(graph: &GraphModel, cx: &mut Ctxt) {
    for (node, reached) in graph.nodes.iter().zip(reachable_from_start(graph)) {
        if !reached {
            cx.error_spanned_by(
                node.ident(),
                format!(
                    "node `{}` is unreachable from `START`; add an edge that leads to it",
                    node.ident()
                ),
            );
        }
    }
}

fn check_reaches_end(graph: &GraphModel, cx: &mut Ctxt) {
    let mut reaches = vec![false; graph.nodes.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for edge in &graph.edges {
            let leads_out = edge.targets().iter().any(|target| match target {
                Endpoint::End(_) => true,
                other => other.node().is_some_and(|at| reaches[at]),
            });
            if leads_out {
                for source in edge.sources() {
                    if let Some(at) = source.node()
                        && !reaches[at]
                    {
                        reaches[at] = true;
                        changed = true;
                    }
                }
            }
        }
    }
    for (node, reaches) in graph.nodes.iter().zip(reaches) {
        if !reaches {
            cx.error_spanned_by(
                node.ident(),
                format!(
                    "node `{}` has no path to `END`; add an edge from it (or from a node after it) to `END`",
                    node.ident()
                ),
            );
        }
    }
}

/// The candidate closest to `name` by edit distance, if close enough to be a typo.
fn closest_name(name: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    candidates
        .map(|candidate| (edit_distance(name, &candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::ctxt::Ctxt;
    use crate::graph::{model, parse};

    fn errors(args: proc_macro2::TokenStream, module: proc_macro2::TokenStream) -> Vec<String> {
        let mut cx = Ctxt::default();
        let options = parse::parse_args(args, &mut cx);
        let module = parse::parse_module(syn::parse2(module).unwrap(), &mut cx);
        let graph = model::build(options, module, &mut cx);
        super::check(&graph, &mut cx);
        cx.messages()
    }

    fn module() -> proc_macro2::TokenStream {
        quote! {
            mod g {
                #[node] async fn plan(s: &S) -> U { todo!() }
                #[node] async fn answer(s: &S) -> U { todo!() }
            }
        }
    }

    #[test]
    fn a_valid_chain_has_no_errors() {
        assert!(
            errors(
                quote!(state = S, edges = [START -> plan -> answer -> END]),
                module()
            )
            .is_empty()
        );
    }

    #[test]
    fn an_unknown_node_is_reported_once_with_the_known_ones_and_a_suggestion() {
        let errors = errors(
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
    fn three_independent_mistakes_give_three_errors() {
        let errors = errors(
            quote!(state = S, edges = [START -> plan -> answer -> END, plan -> -> END, END -> plan], colour = red),
            module(),
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn a_cycle_without_exit_has_no_path_to_end() {
        let errors = errors(
            quote!(state = S, edges = [START -> plan -> answer -> plan]),
            module(),
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("node `plan` has no path to `END`")),
            "{errors:?}"
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(super::edit_distance("answr", "answer"), 1);
        assert_eq!(super::edit_distance("plan", "plan"), 0);
    }
}
