//! What a node touches: its context, its model calls (and how their chunks reach the
//! stream), the custom writer, and subgraphs run from inside it.

pub(crate) mod chat_call;
pub(crate) mod context;
mod forward;
pub(crate) mod route;
pub(crate) mod structured_call;
pub(crate) mod subgraph;
pub(crate) mod writer;

use std::sync::Arc;

use self::context::NodeContext;
use crate::graph::sent::TaskInput;
use crate::graph::traits::{GraphDef, NodeFuture};
use crate::run::shared::RunShared;
use crate::stream::metadata::TaskMetadata;
use crate::thread_line::child::ChildOnThread;

/// A graph's node fns: one `match` from node to node fn, which `#[graph]` generates next to
/// its [`GraphDef`]. Kept apart from `GraphDef` because it names the node's context, which
/// holds the run: the run's items and executor need only the graph's types and edges.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a graph",
    note = "`#[graph]` generates the graph type `Graph` in the graph's module"
)]
pub trait RunNode: GraphDef {
    /// Starts `node` on its input: a snapshot of the state, or what a `Send` gave it.
    fn run_node(
        node: Self::Node,
        input: TaskInput<Self>,
        ctx: NodeContext<Self>,
    ) -> NodeFuture<Self>;

    /// How the graph runs as a subgraph on its parent's thread, keeping checkpoints of its
    /// own: `Some` when its state can be stored. `#[graph]` answers it where the state type
    /// is known.
    #[doc(hidden)]
    fn child_on_thread() -> Option<ChildOnThread<Self>> {
        None
    }
}

/// How the executor starts a task of `G` (see `run::shared::StartNode`).
pub(crate) fn start_node<G: RunNode>(
    node: G::Node,
    input: TaskInput<G>,
    run: Arc<RunShared<G>>,
    task: Arc<TaskMetadata<G::Node>>,
) -> NodeFuture<G> {
    G::run_node(node, input, NodeContext::new(run, task))
}
