//! The checks of the graph as a whole: every name of the edge list resolves, edges start
//! and end where edges may, none is declared twice, a run can enter, reach every node, and
//! reach `END` from each.

use std::collections::{BTreeSet, HashSet};

use super::state_text;
use crate::ctxt::Ctxt;
use crate::graph::model::{EdgeModel, Endpoint, GraphModel, NodeModel, is_ctx_param, type_text};
use crate::suggest::{backticked, did_you_mean};

fn known_nodes(graph: &GraphModel) -> String {
    if graph.nodes.is_empty() {
        return "the module has no `#[node]` fn".to_owned();
    }
    let names: Vec<String> = graph.nodes.iter().map(NodeModel::name).collect();
    format!("nodes are {}", backticked(names.iter().map(String::as_str)))
}

/// Reports every name of the edge list that is no node and no router. Returns whether any
/// did not resolve.
pub(super) fn check_unknown_names(graph: &GraphModel, cx: &mut Ctxt) -> bool {
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
                let place = match edge {
                    EdgeModel::Goto { from, .. } => format!("the `goto` of `{}`", from.ident()),
                    _ => "edge list".to_owned(),
                };
                let message = if router {
                    format!(
                        "`{ident}` is a router, not a node; a router follows the node it routes from: `node -> {ident} ? [a, END]`"
                    )
                } else {
                    format!(
                        "unknown node `{ident}` in {place}; {}{}",
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

pub(super) fn check_edge_ends(graph: &GraphModel, cx: &mut Ctxt) {
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

pub(super) fn check_duplicate_edges(graph: &GraphModel, cx: &mut Ctxt) {
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
            // One per node: its attribute takes one `goto` list.
            EdgeModel::Goto { .. } => continue,
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

pub(super) fn check_router_edges(graph: &GraphModel, cx: &mut Ctxt) {
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

pub(super) fn check_start_has_edge(graph: &GraphModel, cx: &mut Ctxt) {
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
pub(super) fn reachable_from_start(graph: &GraphModel) -> Vec<bool> {
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

pub(super) fn check_reachable_from_start(graph: &GraphModel, reached: &[bool], cx: &mut Ctxt) {
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
pub(super) fn check_reaches_end(graph: &GraphModel, reached: &[bool], cx: &mut Ctxt) {
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

/// A node only `Send`s start, taking an input of its own, is given that input and the
/// context: never the state, so neither a second input nor an `async` router (which reads
/// the state the node was given) fits it.
pub(super) fn check_own_input_nodes(graph: &GraphModel, cx: &mut Ctxt) {
    for (index, node) in graph.nodes.iter().enumerate() {
        let Some(input) = graph.own_input(index) else {
            continue;
        };
        let input = type_text(input);
        let extra = node
            .item
            .sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(param) if !is_ctx_param(&param.ty) => Some(param),
                _ => None,
            })
            .nth(1);
        if let Some(extra) = extra {
            cx.error_spanned_by(
                extra,
                format!(
                    "node `{}` takes a `{input}` from each `Send`, and may take the context (`ctx: &Ctx`) beside it, not the state: a `Send`'s input is all a node it starts is given",
                    node.ident()
                ),
            );
        }
        for edge in &graph.edges {
            if let EdgeModel::Routed { from, router, .. } = edge
                && from.node() == Some(index)
                && graph.edge_routes_in_task(edge)
            {
                cx.error_spanned_by(
                    router,
                    format!(
                        "`async` router `{router}` reads the state its node was given, and node `{}` is given a `{input}`, not the state; make `{router}` a plain `fn`, which routes on the state after the step",
                        node.ident()
                    ),
                );
            }
        }
    }
}
