//! `Graph::description()`: the generated graph's nodes and edges as plain data, the same
//! facts the generated docs draw, serialized as LangGraph's `GET /assistants/{id}/graph`.

use serde_json::json;
use stategraph::prelude::*;
use stategraph::{EdgeKind, Vertex};

#[derive(Clone, Debug, Default, State)]
pub struct Work {
    pub rounds: u32,
    #[reducer(append)]
    pub log: Vec<String>,
}

#[graph(
    state = Work,
    edges = [
        START -> plan,
        plan -> [search, draft],
        [search, draft] -> merge,
        merge -> again ? [plan, fan_out_from],
        fan_out_from -> fan_out ? [search],
        search -> END,
    ],
)]
pub mod research {
    use super::*;

    /// Starts a round.
    ///
    /// Counts it.
    #[node]
    pub async fn plan(state: &Work) -> WorkUpdate {
        WorkUpdate::default().rounds(state.rounds + 1)
    }

    #[node]
    pub async fn search(_state: &Work) -> WorkUpdate {
        WorkUpdate::default()
    }

    #[node]
    pub async fn draft(_state: &Work) -> WorkUpdate {
        WorkUpdate::default()
    }

    #[node]
    pub async fn merge(_state: &Work) -> WorkUpdate {
        WorkUpdate::default()
    }

    #[node]
    pub async fn fan_out_from(_state: &Work) -> WorkUpdate {
        WorkUpdate::default()
    }

    #[router]
    pub fn again(state: &Work) -> Again {
        if state.rounds < 2 {
            Again::Plan
        } else {
            Again::FanOutFrom
        }
    }

    #[router]
    pub fn fan_out(state: &Work) -> Vec<FanOut> {
        vec![FanOut::Search(state.clone())]
    }
}

#[test]
fn the_description_is_the_graph_the_docs_draw() {
    // `mermaid()` is the text the macro wrote into the docs; the description draws it again
    // at run time, from its own data.
    assert_eq!(
        research::Graph::description().mermaid(),
        research::Graph::mermaid()
    );
}

#[test]
fn nodes_keep_their_names_and_docs_and_edges_their_kind() {
    let description = research::Graph::description();
    assert_eq!(description.name, "research");
    let names: Vec<&str> = description.nodes.iter().map(|node| node.name).collect();
    assert_eq!(names, ["plan", "search", "draft", "merge", "fan_out_from"]);
    assert_eq!(description.nodes[0].docs, "Starts a round.\n\nCounts it.");
    assert_eq!(description.nodes[1].docs, "");
    let kinds: Vec<(Vertex, Vertex, EdgeKind)> = description
        .edges
        .iter()
        .map(|edge| (edge.source, edge.target, edge.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (Vertex::Start, Vertex::Node("plan"), EdgeKind::Direct),
            (
                Vertex::Node("plan"),
                Vertex::Node("search"),
                EdgeKind::Direct
            ),
            (
                Vertex::Node("plan"),
                Vertex::Node("draft"),
                EdgeKind::Direct
            ),
            (
                Vertex::Node("search"),
                Vertex::Node("merge"),
                EdgeKind::Join
            ),
            (Vertex::Node("draft"), Vertex::Node("merge"), EdgeKind::Join),
            (
                Vertex::Node("merge"),
                Vertex::Node("plan"),
                EdgeKind::Routed("again")
            ),
            (
                Vertex::Node("merge"),
                Vertex::Node("fan_out_from"),
                EdgeKind::Routed("again")
            ),
            (
                Vertex::Node("fan_out_from"),
                Vertex::Node("search"),
                EdgeKind::Sent("fan_out")
            ),
            (Vertex::Node("search"), Vertex::End, EdgeKind::Direct),
        ]
    );
}

#[test]
fn the_description_serializes_as_langgraphs_graph_endpoint() {
    let json = serde_json::to_value(research::Graph::description()).unwrap();
    let ids: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "__start__",
            "plan",
            "search",
            "draft",
            "merge",
            "fan_out_from",
            "__end__"
        ]
    );
    assert_eq!(json["nodes"][1]["type"], "runnable");
    assert_eq!(json["nodes"][0]["type"], "schema");
    assert_eq!(
        json["edges"][0],
        json!({"source": "__start__", "target": "plan"})
    );
    assert_eq!(
        json["edges"][5],
        json!({"source": "merge", "target": "plan", "conditional": true})
    );
    assert_eq!(
        json["edges"][7],
        json!({"source": "fan_out_from", "target": "search", "conditional": true})
    );
}
