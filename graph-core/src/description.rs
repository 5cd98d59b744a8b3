//! A graph's shape as plain data: its nodes and the edges between them, as `#[graph]` read
//! them from the edge list. The generated `Graph::description()` returns it; it draws the
//! graph (Mermaid text, an SVG) with `stategraph-diagram`, as the generated docs do, and
//! serializes as the body of LangGraph's `GET /assistants/{id}/graph`, so every view of a
//! graph reads the same facts.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

/// The nodes and edges of one graph, in declaration order.
///
/// ```
/// use stategraph_core::{EdgeDescription, EdgeKind, GraphDescription, NodeDescription, Vertex};
///
/// static ANSWER: GraphDescription = GraphDescription {
///     name: "answering",
///     nodes: &[NodeDescription { name: "answer", docs: "Answers." }],
///     edges: &[
///         EdgeDescription { source: Vertex::Start, target: Vertex::Node("answer"), kind: EdgeKind::Direct },
///         EdgeDescription { source: Vertex::Node("answer"), target: Vertex::End, kind: EdgeKind::Direct },
///     ],
/// };
/// assert!(ANSWER.mermaid().contains("__start__ --> answer"));
/// let json = serde_json::to_value(&ANSWER).unwrap();
/// assert_eq!(json["edges"][1], serde_json::json!({"source": "answer", "target": "__end__"}));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphDescription {
    /// The graph's name: its module's.
    pub name: &'static str,
    /// The nodes, in the order of their `#[node]` fns.
    pub nodes: &'static [NodeDescription],
    /// The edges as drawn: a fan-in is one edge per source, a routed edge one per declared
    /// target, and each distinct edge appears once.
    pub edges: &'static [EdgeDescription],
}

/// One node: its name and its docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeDescription {
    /// The node's name: its fn's.
    pub name: &'static str,
    /// The `///` docs on its fn, as written (empty without).
    pub docs: &'static str,
}

/// One end of an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Vertex {
    /// Where a run enters.
    Start,
    /// The node of this name.
    Node(&'static str),
    /// Where a run stops.
    End,
}

impl Vertex {
    /// The id LangGraph gives it: `__start__`, the node's name, `__end__`.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Start => "__start__",
            Self::Node(name) => name,
            Self::End => "__end__",
        }
    }
}

/// How an edge is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// Always, once its source has run.
    Direct,
    /// One source of a fan-in: the target runs once all its sources have.
    Join,
    /// When the named router picks this target.
    Routed(&'static str),
    /// For each item the named router sends to this target (LangGraph's `Send`).
    Sent(&'static str),
    /// When its source node returns a `Goto` naming this target (LangGraph's `Command`
    /// with `goto`, from a node declaring its destinations).
    Goto,
}

/// One edge from `source` to `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EdgeDescription {
    /// Where the edge starts.
    pub source: Vertex,
    /// Where it leads.
    pub target: Vertex,
    /// How it is taken.
    pub kind: EdgeKind,
}

impl EdgeDescription {
    /// Whether a router decides if the edge is taken: LangGraph's `conditional`.
    pub const fn is_conditional(&self) -> bool {
        matches!(
            self.kind,
            EdgeKind::Routed(_) | EdgeKind::Sent(_) | EdgeKind::Goto
        )
    }
}

impl GraphDescription {
    /// `START`, the nodes, `END`: every vertex, in the order they are drawn.
    pub fn vertices(&self) -> impl Iterator<Item = Vertex> + '_ {
        std::iter::once(Vertex::Start)
            .chain(self.nodes.iter().map(|node| Vertex::Node(node.name)))
            .chain(std::iter::once(Vertex::End))
    }

    /// The graph as Mermaid flowchart text, as LangGraph's `draw_mermaid` gives it: routed
    /// and sent edges dashed and labelled with their router. The text `#[graph]` writes into
    /// the docs and `Graph::mermaid()` returns.
    pub fn mermaid(&self) -> String {
        stategraph_diagram::mermaid(&self.diagram())
    }

    /// The graph drawn as an SVG inside a `<div>`, laid out as the generated docs draw it.
    pub fn svg(&self) -> String {
        stategraph_diagram::svg(&self.diagram())
    }

    fn diagram(&self) -> stategraph_diagram::Diagram {
        use stategraph_diagram::{Arrow, ArrowKind, Diagram};
        let vertices: Vec<Vertex> = self.vertices().collect();
        let place = |vertex: Vertex| vertices.iter().position(|known| *known == vertex);
        let arrows = self
            .edges
            .iter()
            .filter_map(|edge| {
                Some(Arrow {
                    from: place(edge.source)?,
                    to: place(edge.target)?,
                    kind: match edge.kind {
                        EdgeKind::Direct => ArrowKind::Direct,
                        EdgeKind::Join => ArrowKind::Join,
                        EdgeKind::Routed(router) | EdgeKind::Sent(router) => {
                            ArrowKind::Routed(router.to_owned())
                        }
                        // Drawn as the macro's docs draw it.
                        EdgeKind::Goto => ArrowKind::Routed("goto".to_owned()),
                    },
                })
            })
            .collect();
        Diagram {
            name: self.name.to_owned(),
            vertices: vertices
                .iter()
                .map(|vertex| match vertex {
                    Vertex::Start => stategraph_diagram::Vertex::Start,
                    Vertex::End => stategraph_diagram::Vertex::End,
                    Vertex::Node(name) => stategraph_diagram::Vertex::Node((*name).to_owned()),
                })
                .collect(),
            arrows,
        }
    }
}

/// `{"nodes": [{id, type, data}], "edges": [{source, target, conditional?}]}`, the shape of
/// LangGraph's `GET /assistants/{id}/graph`: `START` and `END` are `schema` nodes, the
/// others `runnable`, and `conditional` is present (and `true`) on routed edges only.
impl Serialize for GraphDescription {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Nodes<'a>(&'a GraphDescription);
        struct NodeJson(Vertex);
        struct NodeData(&'static str);
        struct Edges<'a>(&'a [EdgeDescription]);
        struct EdgeJson<'a>(&'a EdgeDescription);

        impl Serialize for Nodes<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.vertices().map(NodeJson))
            }
        }
        impl Serialize for NodeJson {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("id", self.0.id())?;
                match self.0 {
                    Vertex::Node(name) => {
                        map.serialize_entry("type", "runnable")?;
                        map.serialize_entry("data", &NodeData(name))?;
                    }
                    Vertex::Start | Vertex::End => {
                        map.serialize_entry("type", "schema")?;
                        map.serialize_entry("data", self.0.id())?;
                    }
                }
                map.end()
            }
        }
        impl Serialize for NodeData {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("id", &["stategraph", "node", self.0])?;
                map.serialize_entry("name", self.0)?;
                map.end()
            }
        }
        impl Serialize for Edges<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
                for edge in self.0 {
                    seq.serialize_element(&EdgeJson(edge))?;
                }
                seq.end()
            }
        }
        impl Serialize for EdgeJson<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let conditional = self.0.is_conditional();
                let mut map = serializer.serialize_map(Some(2 + usize::from(conditional)))?;
                map.serialize_entry("source", self.0.source.id())?;
                map.serialize_entry("target", self.0.target.id())?;
                if conditional {
                    map.serialize_entry("conditional", &true)?;
                }
                map.end()
            }
        }

        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("nodes", &Nodes(self))?;
        map.serialize_entry("edges", &Edges(self.edges))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `START -> plan -> [search, draft]`, `[search, draft] -> merge`,
    /// `merge -> again ? [plan, END]`.
    static RESEARCH: GraphDescription = GraphDescription {
        name: "research",
        nodes: &[
            NodeDescription {
                name: "plan",
                docs: "",
            },
            NodeDescription {
                name: "search",
                docs: "",
            },
            NodeDescription {
                name: "draft",
                docs: "",
            },
            NodeDescription {
                name: "merge",
                docs: "",
            },
        ],
        edges: &[
            EdgeDescription {
                source: Vertex::Start,
                target: Vertex::Node("plan"),
                kind: EdgeKind::Direct,
            },
            EdgeDescription {
                source: Vertex::Node("plan"),
                target: Vertex::Node("search"),
                kind: EdgeKind::Direct,
            },
            EdgeDescription {
                source: Vertex::Node("search"),
                target: Vertex::Node("merge"),
                kind: EdgeKind::Join,
            },
            EdgeDescription {
                source: Vertex::Node("merge"),
                target: Vertex::End,
                kind: EdgeKind::Routed("again"),
            },
        ],
    };

    #[test]
    fn serializes_as_langgraphs_graph_json() {
        let json = serde_json::to_value(RESEARCH).unwrap();
        assert_eq!(json["nodes"].as_array().map(Vec::len), Some(6));
        assert_eq!(
            json["nodes"][0],
            json!({"id": "__start__", "type": "schema", "data": "__start__"})
        );
        assert_eq!(
            json["nodes"][1],
            json!({"id": "plan", "type": "runnable", "data": {"id": ["stategraph", "node", "plan"], "name": "plan"}})
        );
        assert_eq!(
            json["nodes"][5],
            json!({"id": "__end__", "type": "schema", "data": "__end__"})
        );
        assert_eq!(
            json["edges"],
            json!([
                {"source": "__start__", "target": "plan"},
                {"source": "plan", "target": "search"},
                {"source": "search", "target": "merge"},
                {"source": "merge", "target": "__end__", "conditional": true},
            ])
        );
    }

    #[test]
    fn mermaid_text_labels_routed_edges_with_their_router() {
        assert_eq!(
            RESEARCH.mermaid(),
            "flowchart TD\n    __start__([START])\n    plan[plan]\n    search[search]\n    \
             draft[draft]\n    merge[merge]\n    __end__([END])\n    __start__ --> plan\n    \
             plan --> search\n    search -- join --> merge\n    merge -. again .-> __end__\n"
        );
    }

    #[test]
    fn the_svg_draws_every_node_and_edge() {
        let svg = RESEARCH.svg();
        for name in ["START", "plan", "search", "draft", "merge", "END"] {
            assert!(
                svg.contains(&format!(">{name}</text>")),
                "no {name} in {svg}"
            );
        }
        assert_eq!(svg.matches("marker-end=").count(), RESEARCH.edges.len());
    }
}
