//! The trait that ties a generated graph to the generic executor.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::{GraphNode, GraphTag, NodeContext, NodeError, State, Topology};

/// The future of one node task.
pub type NodeFuture<G> =
    BoxFuture<'static, Result<<<G as GraphDef>::State as State>::Update, NodeError>>;

/// One graph, as `#[graph]` describes it to the executor: its types, its edges, and one
/// `match` from node to node fn. The executor ([`GraphStream`](crate::GraphStream)) is
/// written once and knows nothing about any particular graph.
pub trait GraphDef: Sized + Send + Sync + 'static {
    /// The state.
    type State: State;
    /// The node enum.
    type Node: GraphNode;
    /// The tag enum.
    type Tag: GraphTag<Node = Self::Node>;
    /// The custom-mode payload (`()` when the graph declares none).
    type Custom: Send + 'static;
    /// The dependencies given to `Graph::new` (`()` when the graph declares none).
    type Context: Send + Sync + 'static;

    /// The graph's edges.
    fn topology() -> &'static Topology<Self::Node, Self::State>;

    /// Starts `node` on a snapshot of the state.
    fn run_node(
        node: Self::Node,
        state: Arc<Self::State>,
        ctx: NodeContext<Self>,
    ) -> NodeFuture<Self>;
}
