//! The nodes of a graph, as the generated `Node` enum presents them to the runtime.

use std::fmt::Debug;
use std::hash::Hash;

/// The typed state machine of one graph: `#[graph]` generates an enum with one variant per
/// `#[node]` fn and implements this trait for it.
///
/// Names are `&'static str` from the enum, so labelling a stream item never allocates.
pub trait GraphNode: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    /// Every node, in declaration order. Updates of one step merge in this order.
    const ALL: &'static [Self];

    /// The node's name: its fn name, as LangGraph's `langgraph_node` shows it.
    fn name(self) -> &'static str;

    /// Its position in [`ALL`](Self::ALL).
    fn index(self) -> usize;

    /// The trigger LangGraph records for a task of this node started by a plain or routed
    /// edge: `branch:to:<name>`.
    fn branch_trigger(self) -> &'static str;
}
