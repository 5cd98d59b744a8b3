//! The validated model lowered to what generation reads: each derived fact computed once,
//! here, so expansion and docs never re-derive it. A router's edge and its enum's variants,
//! the routers that are emitted, and the diagram.

use stategraph_diagram::Diagram;
use syn::Ident;

use super::docs;
use super::model::{EdgeModel, Endpoint, GraphModel, NodeModel, RouterModel};

pub(crate) struct Lowered<'g> {
    pub(crate) graph: &'g GraphModel,
    /// The `#[router]` fns the expansion emits: all but one whose enum is named like
    /// another type (reported), which is left out with its enum, since its body names
    /// that enum and would be a second error.
    pub(crate) routers: Vec<&'g RouterModel>,
    /// Each emitted router that an edge uses, with that edge.
    pub(crate) routes: Vec<Route<'g>>,
    /// Each node with a `goto` list, with its targets.
    pub(crate) gotos: Vec<NodeGoto<'g>>,
    /// The graph drawn once: the docs, `Graph::mermaid()` and `Graph::description()` read it.
    pub(crate) diagram: Diagram,
    /// Each node, once, in declaration order, with what a `Send` gives it: the variants of
    /// the graph's `Send` input enum.
    pub(crate) sent: Vec<SentNode<'g>>,
}

/// A node a `Send` may start, and what it takes.
pub(crate) struct SentNode<'g> {
    pub(crate) node: &'g NodeModel,
    /// Its input: its own type (`SubTask` for `research(task: &SubTask, ..)`), or `None`
    /// for the state.
    pub(crate) own_input: Option<&'g syn::Type>,
}

/// A node's `#[node(goto = [..])]`: the enum it returns its targets in.
pub(crate) struct NodeGoto<'g> {
    pub(crate) node: &'g NodeModel,
    /// `AgentGoto` for `agent`.
    pub(crate) enum_ident: &'g Ident,
    /// The `goto` key of the attribute, where the enum's variants are declared.
    pub(crate) key: &'g Ident,
    /// The declared targets with their variants, each variant once.
    pub(crate) targets: Vec<RouteTarget<'g>>,
}

impl Lowered<'_> {
    /// The `goto` of `node`, if it declares one.
    pub(crate) fn goto_of(&self, node: &NodeModel) -> Option<&NodeGoto<'_>> {
        self.gotos
            .iter()
            .find(|goto| goto.node.ident() == node.ident())
    }
}

/// A router with the routed edge that uses it.
pub(crate) struct Route<'g> {
    pub(crate) router: &'g RouterModel,
    /// The router's name as written in that edge: its enum is spanned there, so "no
    /// variant `Publish`" points at `review ? [write, END]`.
    pub(crate) written: &'g Ident,
    pub(crate) from: &'g Endpoint,
    /// The declared targets with their variants. Of two targets that give one variant
    /// (reported), the second is left out.
    pub(crate) targets: Vec<RouteTarget<'g>>,
}

/// One declared target of a router.
pub(crate) struct RouteTarget<'g> {
    pub(crate) endpoint: &'g Endpoint,
    /// Its variant in the router's enum: `End`, or the node's name in PascalCase.
    pub(crate) variant: Ident,
}

pub(crate) fn lower(graph: &GraphModel) -> Lowered<'_> {
    let emitted: Vec<usize> = (0..graph.routers.len())
        .filter(|&index| graph.router_clash(index).is_none())
        .collect();
    let routes = emitted
        .iter()
        .filter_map(|&index| route(graph, index))
        .collect();
    Lowered {
        graph,
        routers: emitted.iter().map(|&index| &graph.routers[index]).collect(),
        routes,
        gotos: gotos(graph),
        diagram: docs::diagram(graph),
        sent: sent(graph),
    }
}

fn sent(graph: &GraphModel) -> Vec<SentNode<'_>> {
    // Every node: a `Send` may start any node (a client's `Command(goto=[Send(..)])` names
    // any), one that takes the state on a state of its own.
    (0..graph.nodes.len())
        .filter(|index| graph.node_variant_taken_by(*index).is_none())
        .map(|index| SentNode {
            node: &graph.nodes[index],
            own_input: graph.own_input(index),
        })
        .collect()
}

impl Lowered<'_> {
    /// What a `Send` to `node` carries: its own input type, or `None` for the state.
    pub(crate) fn sent_input(&self, node: &NodeModel) -> Option<&syn::Type> {
        self.sent
            .iter()
            .find(|sent| sent.node.ident() == node.ident())
            .and_then(|sent| sent.own_input)
    }
}

fn gotos(graph: &GraphModel) -> Vec<NodeGoto<'_>> {
    graph
        .edges
        .iter()
        .filter_map(|edge| match edge {
            EdgeModel::Goto { from, targets } => {
                let node = &graph.nodes[from.node()?];
                let (key, enum_ident) = node.goto.as_ref()?;
                Some(NodeGoto {
                    node,
                    enum_ident,
                    key,
                    targets: variants(targets),
                })
            }
            _ => None,
        })
        .collect()
}

/// Each target with its variant: `End`, or the node's name in PascalCase. Of two targets
/// that give one variant (reported), the second is left out.
fn variants(targets: &[Endpoint]) -> Vec<RouteTarget<'_>> {
    let mut lowered: Vec<RouteTarget<'_>> = Vec::with_capacity(targets.len());
    for endpoint in targets {
        let variant = endpoint.route_variant();
        if lowered.iter().all(|target| target.variant != variant) {
            lowered.push(RouteTarget { endpoint, variant });
        }
    }
    lowered
}

/// The routed edge that uses router `index`: the one naming it, or (when the name is
/// misspelt, already reported) the one whose router is probably meant, so the router's
/// body still type-checks against its enum.
fn route(graph: &GraphModel, index: usize) -> Option<Route<'_>> {
    graph.edges.iter().find_map(|edge| match edge {
        EdgeModel::Routed {
            from,
            router: written,
            router_index,
            router_guess,
            targets,
        } if *router_index == Some(index)
            || (router_index.is_none() && *router_guess == Some(index)) =>
        {
            Some(Route {
                router: &graph.routers[index],
                written,
                from,
                targets: variants(targets),
            })
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::ctxt::Ctxt;
    use crate::graph::{model, parse};

    fn model_of(edges: proc_macro2::TokenStream) -> model::GraphModel {
        let mut cx = Ctxt::default();
        let options = parse::parse_args(quote!(state = S, edges = [#edges]), &mut cx);
        let module = parse::parse_module(
            syn::parse_quote! {
                mod g {
                    #[node] async fn write(s: &S) -> U { todo!() }
                    #[node] async fn end(s: &S) -> U { todo!() }
                    #[router] fn review(s: &S) -> Review { todo!() }
                    #[router] fn graph(s: &S) -> Graph { todo!() }
                }
            },
            &mut cx,
        );
        model::build(options, module, &mut cx)
    }

    #[test]
    fn each_route_has_its_edge_and_one_target_per_variant() {
        let graph = model_of(quote!(
            START -> write -> reveiw ? [write, end, END],
            end -> graph ? [END],
        ));
        let lowered = super::lower(&graph);
        // `graph` clashes with the generated `Graph`: neither it nor its route is emitted.
        let routers: Vec<String> = lowered
            .routers
            .iter()
            .map(|router| router.ident().to_string())
            .collect();
        assert_eq!(routers, ["review"]);
        assert_eq!(lowered.routes.len(), 1);
        let route = &lowered.routes[0];
        // The misspelt `reveiw` is the edge of `review`, as written.
        assert_eq!(route.written.to_string(), "reveiw");
        let variants: Vec<String> = route
            .targets
            .iter()
            .map(|target| target.variant.to_string())
            .collect();
        // `end` and `END` both give `End`: the second is left out.
        assert_eq!(variants, ["Write", "End"]);
        assert_eq!(route.targets[1].endpoint.name(), "end");
    }
}
