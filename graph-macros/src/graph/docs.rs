//! The rustdoc `#[graph]` writes: what the graph is, its entry, its edges, its tags, and
//! the graph drawn, so `cargo doc` shows the graph a module builds.

use proc_macro2::TokenStream;
use quote::quote;

use super::lower::RouteTarget;
use super::model::{EdgeModel, Endpoint, GraphModel, NodeModel, RouterModel};
use stategraph_diagram::{Arrow, ArrowKind, Diagram, Vertex, mermaid, svg};

/// The label of a node's `goto` arrows: dashed like a router's, since the node picks.
pub(crate) const GOTO_LABEL: &str = "goto";

/// The graph as the diagram crate draws it. Edges with an unknown end (already reported)
/// are left out; a fan-in becomes one arrow per source and a routed edge one arrow per
/// declared target, each distinct arrow once.
pub(crate) fn diagram(graph: &GraphModel) -> Diagram {
    let end = graph.nodes.len() + 1;
    let mut vertices = vec![Vertex::Start];
    vertices.extend(graph.nodes.iter().map(|node| Vertex::Node(node.name())));
    vertices.push(Vertex::End);
    let index = |endpoint: &Endpoint| match endpoint {
        Endpoint::Start(_) => Some(0),
        Endpoint::Node { index, .. } => Some(index + 1),
        Endpoint::End(_) => Some(end),
        Endpoint::Unknown(_) => None,
    };
    let mut arrows = Vec::new();
    let mut push = |from: &Endpoint, to: &Endpoint, kind: ArrowKind| {
        if let (Some(from), Some(to)) = (index(from), index(to)) {
            let arrow = Arrow { from, to, kind };
            if !arrows.contains(&arrow) {
                arrows.push(arrow);
            }
        }
    };
    for edge in &graph.edges {
        match edge {
            EdgeModel::Direct { from, to } => push(from, to, ArrowKind::Direct),
            EdgeModel::Join { from, to } => {
                for source in from {
                    push(source, to, ArrowKind::Join);
                }
            }
            EdgeModel::Routed {
                from,
                router,
                targets,
                ..
            } => {
                for target in targets {
                    push(from, target, ArrowKind::Routed(router.to_string()));
                }
            }
            EdgeModel::Goto { from, targets } => {
                for target in targets {
                    push(from, target, ArrowKind::Routed(GOTO_LABEL.to_owned()));
                }
            }
        }
    }
    Diagram {
        name: graph.module.ident.to_string(),
        vertices,
        arrows,
    }
}

fn edge_table(graph: &GraphModel) -> String {
    let mut table = String::from("| from | to | kind |\n|---|---|---|\n");
    for edge in &graph.edges {
        let (from, to, kind) = match edge {
            EdgeModel::Direct { from, to } => {
                (Endpoint::name(from), Endpoint::name(to), "edge".to_owned())
            }
            EdgeModel::Join { from, to } => (
                from.iter()
                    .map(Endpoint::name)
                    .collect::<Vec<_>>()
                    .join(" + "),
                Endpoint::name(to),
                "fan-in: waits for all".to_owned(),
            ),
            EdgeModel::Routed {
                from,
                router,
                targets,
                ..
            } => {
                let sends = graph.edge_sends(edge);
                let kind = if sends {
                    format!("sent by `{router}`: one instance per item")
                } else {
                    format!("routed by `{router}`")
                };
                let to = targets
                    .iter()
                    .map(Endpoint::name)
                    .collect::<Vec<_>>()
                    .join(if sends { " and " } else { " or " });
                (Endpoint::name(from), to, kind)
            }
            EdgeModel::Goto { from, targets } => (
                Endpoint::name(from),
                targets
                    .iter()
                    .map(Endpoint::name)
                    .collect::<Vec<_>>()
                    .join(" or "),
                "`goto`: the node picks".to_owned(),
            ),
        };
        table.push_str(&format!("| `{from}` | `{to}` | {kind} |\n"));
    }
    table
}

/// Where a run starts: `` `plan` ``, or `` `entry` routes to `plan` or `END` ``.
fn entry(graph: &GraphModel) -> String {
    let names = |targets: Vec<&Endpoint>| -> Vec<String> {
        targets
            .into_iter()
            .map(|target| format!("`{}`", Endpoint::name(target)))
            .collect()
    };
    let entries: Vec<String> = graph
        .edges
        .iter()
        .filter(|edge| {
            edge.sources()
                .iter()
                .any(|source| matches!(source, Endpoint::Start(_)))
        })
        .map(|edge| match edge {
            EdgeModel::Routed { router, .. } => format!(
                "`{router}` routes to {}",
                names(edge.targets()).join(" or ")
            ),
            _ => names(edge.targets()).join(", "),
        })
        .collect();
    if entries.is_empty() {
        "none".to_owned()
    } else {
        entries.join(", ")
    }
}

/// What the line styles of the drawing mean, for the kinds of edge this graph has.
fn legend(diagram: &Diagram) -> String {
    let joins = diagram
        .arrows
        .iter()
        .any(|arrow| arrow.kind == ArrowKind::Join);
    let routed = diagram
        .arrows
        .iter()
        .any(|arrow| matches!(arrow.kind, ArrowKind::Routed(_)));
    let mut legend = String::from("Solid arrows are edges");
    if joins {
        legend.push_str(" (a fan-in waits for all of its sources)");
    }
    if routed {
        legend.push_str(
            "; dashed ones are routed: labelled with their router, which picks one of them",
        );
    }
    legend.push('.');
    legend
}

fn tags_line(graph: &GraphModel) -> String {
    let tags: Vec<String> = graph
        .tag_names()
        .into_iter()
        .map(|(variant, name)| format!("`{}::{variant}` (`\"{name}\"`)", graph.tag_ident()))
        .collect();
    if tags.is_empty() {
        "none".to_owned()
    } else {
        tags.join(", ")
    }
}

/// The generated half of the docs: entry, tags, the drawing, the edge table and the
/// Mermaid text, on the module's page only: `Node` and `Graph` point there.
pub(crate) fn overview(graph: &GraphModel, diagram: &Diagram) -> String {
    format!(
        "Generated by `#[graph]` from its edge list.\n\n\
         **Entry:** {entry}. **Tags:** {tags}.\n\n\
         {legend}\n\n\
         {drawing}\n\
         {table}\n\
         The same graph as Mermaid text, which `Graph::mermaid()` returns:\n\n\
         ```text\n{mermaid}```\n",
        entry = entry(graph),
        tags = tags_line(graph),
        legend = legend(diagram),
        drawing = svg(diagram),
        table = edge_table(graph),
        mermaid = mermaid(diagram),
    )
}

/// The user's own docs on the module, as outer attributes.
fn user_docs(graph: &GraphModel) -> Vec<syn::Attribute> {
    graph
        .module
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .map(|attr| syn::Attribute {
            style: syn::AttrStyle::Outer,
            ..attr.clone()
        })
        .collect()
}

/// Appended to the module's own docs, which come first.
pub(crate) fn module_docs(overview: &str) -> TokenStream {
    let text = format!("\n\n# The graph\n\n{overview}");
    quote!(#[doc = #text])
}

/// `summary`, then the user's docs on the module, then where the overview is: the module's
/// page holds the one copy of the drawing, the edge table and the Mermaid text.
fn item_docs(graph: &GraphModel, summary: String) -> TokenStream {
    let own = user_docs(graph);
    let heading = format!("{summary}\n\n# The graph `{}`\n", graph.module.ident);
    let separator = if own.is_empty() {
        quote!()
    } else {
        quote!(#[doc = ""])
    };
    let pointer = "The drawing, the entry, the edge table and the tags are on \
                   [the module's page](self).";
    quote!(#[doc = #heading] #(#own)* #separator #[doc = #pointer])
}

pub(crate) fn node_enum_docs(graph: &GraphModel) -> TokenStream {
    let summary = format!(
        "The nodes of the graph `{}`: its typed state machine, one variant per `#[node]` fn.\n\n\
         Stream items name their node with it; it serializes as the fn name.",
        graph.module.ident,
    );
    item_docs(graph, summary)
}

/// The user's own `///` on the node fn, then what the variant stands for.
pub(crate) fn node_variant_docs(node: &NodeModel) -> TokenStream {
    let own = node
        .item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"));
    let text = format!("The node `{}`.", node.name());
    let separator = if node
        .item
        .attrs
        .iter()
        .any(|attr| attr.path().is_ident("doc"))
    {
        quote!(#[doc = ""])
    } else {
        quote!()
    };
    quote!(#(#own)* #separator #[doc = #text])
}

pub(crate) fn route_enum_docs(
    router: &RouterModel,
    from: &Endpoint,
    targets: &[RouteTarget<'_>],
) -> TokenStream {
    let targets: Vec<String> = targets
        .iter()
        .map(|target| format!("`{}`", target.endpoint.name()))
        .collect();
    let text = format!(
        "Where the router `{}` may send the graph after `{}`: {}.\n\n\
         Generated from the edge's declared targets, so a route to any other node cannot be written.",
        router.ident(),
        from.name(),
        targets.join(", ")
    );
    quote!(#[doc = #text])
}

pub(crate) fn graph_docs(graph: &GraphModel) -> TokenStream {
    let summary = format!(
        "The compiled graph `{}`: build it with [`Graph::new`], run it with [`Graph::stream`] \
         or [`Graph::invoke`].",
        graph.module.ident,
    );
    item_docs(graph, summary)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::ctxt::Ctxt;
    use crate::graph::{model, parse};
    use stategraph_diagram::{mermaid, svg};

    fn graph() -> model::GraphModel {
        let module = quote! {
            /// Researches a question.
            mod research {
                #[tags]
                enum Tag { Writer }
                #[node] async fn plan(s: &S) -> U { todo!() }
                #[node] async fn search(s: &S) -> U { todo!() }
                #[node] async fn draft(s: &S) -> U { todo!() }
                #[node] async fn merge(s: &S) -> U { todo!() }
                #[router] fn again(s: &S) -> Again { todo!() }
            }
        };
        let args = quote!(state = S, edges = [
            START -> plan -> [search, draft], [search, draft] -> merge, merge -> again ? [plan, END]
        ]);
        let mut cx = Ctxt::default();
        let options = parse::parse_args(args, &mut cx);
        let module = parse::parse_module(syn::parse2(module).unwrap(), &mut cx);
        model::build(options, module, &mut cx)
    }

    #[test]
    fn the_mermaid_text_and_the_drawing_show_the_same_arrows() {
        let diagram = super::diagram(&graph());
        let mermaid = mermaid(&diagram);
        let drawing = svg(&diagram);
        let mermaid_arrows = mermaid.lines().filter(|line| line.contains("->")).count();
        assert_eq!(mermaid_arrows, 7, "{mermaid}");
        assert_eq!(drawing.matches("marker-end=").count(), mermaid_arrows);
        assert_eq!(
            mermaid.matches(" -. again .-> ").count(),
            drawing.matches("stroke-dasharray").count()
        );
    }

    #[test]
    fn the_overview_has_the_entry_the_tags_the_drawing_and_the_edge_table() {
        let graph = graph();
        let overview = super::overview(&graph, &super::diagram(&graph));
        for part in [
            "**Entry:** `plan`",
            "`Tag::Writer` (`\"writer\"`)",
            "<svg ",
            ">merge</text>",
            "| `search + draft` | `merge` | fan-in: waits for all |",
            "| `merge` | `plan or END` | routed by `again` |",
            "```text\nflowchart TD\n",
        ] {
            assert!(overview.contains(part), "no {part:?} in {overview}");
        }
        // The drawing is an HTML block of its own: a blank line before and after.
        assert!(overview.contains("\n\n<div") && overview.contains("</div>\n\n"));
    }

    #[test]
    fn the_node_enum_and_the_graph_carry_the_users_docs_and_point_to_the_drawing() {
        let graph = graph();
        for docs in [super::node_enum_docs(&graph), super::graph_docs(&graph)] {
            let docs = docs.to_string();
            assert!(docs.contains("Researches a question."), "{docs}");
            assert!(docs.contains("[the module's page](self)"), "{docs}");
            // The drawing is on the module's page once, not copied onto every item.
            assert!(!docs.contains("<svg "), "{docs}");
        }
    }
}

#[cfg(test)]
mod diagram_tests {
    use quote::quote;

    use crate::ctxt::Ctxt;
    use crate::graph::{model, parse};

    #[test]
    fn a_graph_with_an_unknown_node_still_draws_what_it_knows() {
        let mut cx = Ctxt::default();
        let options = parse::parse_args(
            quote!(state = S, edges = [START -> a, a -> b, b -> END]),
            &mut cx,
        );
        let module = parse::parse_module(
            syn::parse_quote!(
                mod g {
                    #[node]
                    async fn a(s: &S) -> U {
                        todo!()
                    }
                }
            ),
            &mut cx,
        );
        let diagram = super::diagram(&model::build(options, module, &mut cx));
        assert_eq!(diagram.arrows.len(), 1);
        assert!(stategraph_diagram::svg(&diagram).contains(">a</text>"));
    }
}
