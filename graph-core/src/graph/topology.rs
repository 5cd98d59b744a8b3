//! The static shape of a graph: its edges, as `#[graph]` writes them into a `static`.

use super::policy::NodePolicy;
use super::traits::GraphNode;

/// Where an edge starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<N> {
    /// The graph's entry.
    Start,
    /// A node.
    Node(N),
}

/// Where an edge leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<N> {
    /// A node, which runs in the next step.
    Node(N),
    /// The graph's end.
    End,
}

/// One edge of the graph.
pub enum Edge<N: 'static, S: 'static, P: 'static = S> {
    /// `from -> to`: when `from` has run, `to` runs in the next step.
    Direct {
        /// Where it starts.
        from: Source<N>,
        /// Where it leads.
        to: Target<N>,
    },
    /// `[a, b] -> to`: `to` runs in the step after every one of `from` has run
    /// (in any steps), then waits for all of them again.
    Join {
        /// The nodes to wait for.
        from: &'static [N],
        /// Where it leads.
        to: Target<N>,
        /// LangGraph's trigger name for the task it starts: `join:a+b:to`.
        trigger: &'static str,
    },
    /// `from -> router ? [..]`: when `from` has run, `route` picks the next node from the
    /// state after the step's merge.
    Routed {
        /// Where it starts.
        from: Source<N>,
        /// The router fn's name, for errors.
        router: &'static str,
        /// Calls the user's `#[router]` fn and maps its generated enum to a target.
        route: fn(&S) -> Target<N>,
    },
    /// `from -> router ? [..]` with a router that returns a `Vec` (LangGraph's `Send`):
    /// when `from` has run, each item the router returns starts one instance of its node
    /// in the next step, with the item's input (a state, or the node's own type) as that
    /// instance's input (map-reduce).
    Send {
        /// Where it starts.
        from: Source<N>,
        /// The router fn's name, for errors.
        router: &'static str,
        /// Calls the user's `#[router]` fn: one `(node, input)` per instance to start.
        send: fn(&S) -> Vec<(N, P)>,
    },
}

/// Every edge of one graph, and how its nodes' tasks run when any node says.
pub struct Topology<N: 'static, S: 'static, P: 'static = S> {
    edges: &'static [Edge<N, S, P>],
    /// `None` when no node has a retry policy or a timeout: starting a task then asks
    /// nothing more.
    policy: Option<fn(N) -> NodePolicy>,
}

impl<N: GraphNode, S, P> Topology<N, S, P> {
    /// The graph with these edges. `#[graph]` has validated them at compile time.
    pub const fn new(edges: &'static [Edge<N, S, P>]) -> Self {
        Self {
            edges,
            policy: None,
        }
    }

    /// The graph with each node's retry policy and timeout as `policy` gives them.
    #[must_use]
    pub const fn with_policy(mut self, policy: fn(N) -> NodePolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// How `node`'s tasks run, when any node of the graph has a policy.
    pub fn policy(&self, node: N) -> Option<NodePolicy> {
        self.policy.map(|policy| policy(node))
    }

    /// The edges, in the order they were declared.
    pub fn edges(&self) -> &'static [Edge<N, S, P>] {
        self.edges
    }
}
