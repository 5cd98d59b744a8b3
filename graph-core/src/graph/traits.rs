//! The traits users meet in compiler errors: what `#[graph]` and `#[derive(State)]`
//! implement, and what node signatures are checked against. (`StreamMode`, what stream
//! calls are checked against, is with the modes in `stream/mode.rs`; `RunNode` with the
//! node's context in `node/mod.rs`.)
//!
//! Each carries `#[diagnostic::on_unimplemented]`, so a mistake reads as one (`Topic` is not
//! a graph state) rather than as an unsatisfied bound. They live together in this one file,
//! which should rarely change: rustc's notes quote its lines, and the expected compiler
//! output of the trybuild suite (`tests/ui/**/*.stderr`) quotes those notes. After an edit
//! here, regenerate it with `TRYBUILD=overwrite cargo test --test test_ui` and review the diff.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::topology::Topology;
use crate::chat::Message;
use crate::error::{NodeError, UpdateConflict};

/// A graph's state. `#[derive(State)]` implements it: it generates the partial update type
/// (`<Name>Update`, one `Option` per field with a builder method each) and a merge that
/// applies a step's updates field by field.
///
/// Per field, the merge follows LangGraph: the last write wins by default, but two nodes of
/// one step writing the same plain field is a conflict; a field marked
/// `#[reducer(append)]` or `#[reducer(path::to::fn)]` folds every write in instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a graph state",
    label = "the `state` of a `#[graph]` must implement `State`",
    note = "add `#[derive(Clone, State)]` to `{Self}`"
)]
pub trait State: Clone + Send + Sync + 'static {
    /// The partial update a node returns. `Clone`, because updates mode and tasks mode hand
    /// a copy to the consumer while the run merges the original.
    type Update: Clone + Default + Send + 'static;

    /// Applies the updates of one step, given in the nodes' declaration order with the name
    /// of the node that wrote each.
    ///
    /// # Errors
    /// When two updates of the step write the same field that has no reducer. The state is
    /// then unchanged: the conflict is found before anything is written.
    fn merge(&mut self, updates: Vec<(&'static str, Self::Update)>) -> Result<(), UpdateConflict>;

    /// Whether [`merge`](Self::merge) may write into the state directly. A merge must be all
    /// or nothing: when it returns an error it has written nothing, but when it panics (a
    /// user's reducer) it may have written some fields, so by default the run merges into a
    /// copy and keeps it only once the merge has succeeded. `#[derive(State)]` sets this to
    /// `true` when no field has a user reducer, sparing that copy.
    const MERGES_IN_PLACE: bool = false;

    /// Whether `update` writes nothing, so a step of such updates does not count as writing
    /// the state (values mode then emits no new state for it). `#[derive(State)]` implements
    /// it; the default says every update writes.
    fn is_empty_update(update: &Self::Update) -> bool {
        let _ = update;
        false
    }

    /// Whether the state has a conversation (a `#[reducer(messages)]` field): only then
    /// does messages mode keep the ids it needs to emit returned messages exactly once, so
    /// other graphs pay nothing for it.
    const HAS_MESSAGES: bool = false;

    /// The messages `update` adds to the state's conversation (its `#[reducer(messages)]`
    /// field), which messages mode emits. `#[derive(State)]` implements it.
    fn update_messages(update: &Self::Update) -> &[Message] {
        let _ = update;
        &[]
    }

    /// The state's conversation, for telling the input's messages from new ones.
    fn messages(&self) -> &[Message] {
        &[]
    }
}

/// What a `#[node]` fn may return: its graph's update, or a `Result` of it.
///
/// The error of a `Result` may be any error type; it is boxed into [`NodeError`].
#[diagnostic::on_unimplemented(
    message = "a `#[node]` fn must return the graph's update `{U}` or `Result<{U}, E>`, not `{Self}`",
    label = "this is not an update of the graph's state",
    note = "`#[derive(State)]` on the state generates the update type"
)]
pub trait IntoNodeResult<U> {
    /// Converts the node's return value.
    ///
    /// # Errors
    /// The node's own error, boxed.
    fn into_node_result(self) -> Result<U, NodeError>;
}

impl<U, E: Into<NodeError>> IntoNodeResult<U> for Result<U, E> {
    fn into_node_result(self) -> Result<U, NodeError> {
        self.map_err(Into::into)
    }
}

/// The tags of one graph: `#[graph]` implements this for the `#[tags]` enum in the graph's
/// module (or for an empty enum when the graph declares none).
///
/// Because a tag is an enum variant, a misspelt tag in a filter is a compile error rather
/// than a filter that silently matches nothing.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the tag enum of a graph",
    note = "declare the tags as a `#[tags] pub enum Tag {{ .. }}` inside the `#[graph]` module"
)]
pub trait GraphTag: Copy + Eq + Debug + Send + Sync + 'static {
    /// The node enum of the same graph: stream items name their node with it.
    type Node: GraphNode;

    /// Every tag, in declaration order.
    const ALL: &'static [Self];

    /// The tag as LangGraph's `tags` list shows it: the variant's name in snake_case.
    fn name(self) -> &'static str;

    /// Its position in [`ALL`](Self::ALL); below 64 (the macro rejects larger tag enums).
    fn bit(self) -> u32;
}

/// The typed state machine of one graph: `#[graph]` generates an enum with one variant per
/// `#[node]` fn and implements this trait for it.
///
/// Names are `&'static str` from the enum, so labelling a stream item never allocates.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the node enum of a graph",
    note = "`#[graph]` generates the node enum `Node` in the graph's module"
)]
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

/// The future of one node task.
pub type NodeFuture<G> = BoxFuture<
    'static,
    Result<
        super::goto::NodeOutput<Update<G>, <G as GraphDef>::Node, <G as GraphDef>::Sent>,
        NodeError,
    >,
>;

/// One graph, as `#[graph]` describes it to the executor: its types and its edges. (The
/// `match` from node to node fn is a trait of its own, implemented by the same
/// generated code, because it names the node's context, which the run's items do not
/// need.) The executor ([`GraphStream`](crate::GraphStream)) is written once and knows
/// nothing about any particular graph.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a graph",
    note = "`#[graph]` generates the graph type `Graph` in the graph's module"
)]
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
    /// The inputs its `Send`s give (an enum without variants when it has no sending
    /// router).
    type Sent: SentInput<Node = Self::Node, State = Self::State>;

    /// The graph's edges.
    fn topology() -> &'static Topology<Self::Node, Self::State, Self::Sent>;

    /// The dependencies this graph was built with, for running it as a subgraph.
    fn shared_context(&self) -> &Arc<Self::Context>;

    /// The graph's nodes and edges, as `Graph::description()` returns them: here so that
    /// code generic over graphs (a server serving `GET /assistants/{id}/graph`) reaches it.
    fn description() -> &'static crate::description::GraphDescription;
}

/// The inputs `Send`s give: `#[graph]` generates one enum per graph implementing it, with a
/// variant per node (a [`Command::send`](crate::Command::send) may start any), holding that
/// node's input. A node that edges start too takes the state, so its variant holds a state;
/// a node only `Send`s start may take a type of its own (`async fn research(task: &SubTask,
/// ctx: &Ctx)`), and its variant holds that type. A sending router's enum has the same
/// variants for its targets, and converts into this one, so rustc checks that each `Send`
/// carries what its node takes.
pub trait SentInput: Sized + Send + Sync + 'static {
    /// The graph's node enum.
    type Node: GraphNode;
    /// The graph's state.
    type State;

    /// The node this input starts.
    fn node(&self) -> Self::Node;

    /// The state, when the node takes the state; `None` when it takes its own type.
    fn state(&self) -> Option<&Self::State>;

    /// The input that gives `node` this state; `None` when `node` takes its own type.
    fn from_state(node: Self::Node, state: Self::State) -> Option<Self>;

    /// A node's own input as JSON, for tasks mode and a thread's stored tasks: `None` when
    /// the node takes the state.
    ///
    /// # Errors
    /// When the input's type cannot be serialized: the message names the type and the
    /// derives it needs.
    fn payload_json(&self) -> Option<Result<Value, String>>;

    /// `node`'s own input read back from JSON.
    ///
    /// # Errors
    /// When `node` takes the state, or the JSON is not its type: the message is serde's.
    fn payload_from_json(node: Self::Node, value: Value) -> Result<Self, String>;
}

/// A graph's update type.
type Update<G> = <<G as GraphDef>::State as State>::Update;
