//! The graph's state, its typed partial updates, and how one step's updates merge.

use crate::UpdateConflict;

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
    /// The partial update a node returns.
    type Update: Default + Send + 'static;

    /// Applies the updates of one step, given in the nodes' declaration order with the name
    /// of the node that wrote each.
    ///
    /// # Errors
    /// When two updates of the step write the same field that has no reducer.
    fn merge(&mut self, updates: Vec<(&'static str, Self::Update)>) -> Result<(), UpdateConflict>;
}

/// The reducer `#[reducer(append)]` names: later writes extend the list.
pub fn append<T>(current: &mut Vec<T>, update: Vec<T>) {
    current.extend(update);
}

/// What a `#[node]` fn may return: its graph's update, or a `Result` of it.
///
/// The error of a `Result` may be any error type; it is boxed into [`NodeError`](crate::NodeError).
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
    fn into_node_result(self) -> Result<U, crate::NodeError>;
}

impl<U, E: Into<crate::NodeError>> IntoNodeResult<U> for Result<U, E> {
    fn into_node_result(self) -> Result<U, crate::NodeError> {
        self.map_err(Into::into)
    }
}

/// The state `#[graph]` stubs in when the attribute names none, so that the missing
/// `state` is reported once instead of as a cascade of unresolved types.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct MissingState;

impl State for MissingState {
    type Update = ();

    fn merge(&mut self, _: Vec<(&'static str, ())>) -> Result<(), UpdateConflict> {
        Ok(())
    }
}
