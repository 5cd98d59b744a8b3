//! A state update from outside a run: LangGraph's `update_state`.

use serde_json::{Map, Value};

use super::Thread;
use super::frontier;
use super::sink::Lease;
use crate::checkpoint::{CheckpointId, CheckpointLine, Due, Durable, Source};
use crate::error::GraphError;
use crate::graph::topology::Source as Ran;
use crate::graph::traits::{GraphNode, State};
use crate::node::RunNode;
use crate::run::frontier::Frontier;
use crate::run::persist::DueTasks;

impl<G> Thread<G>
where
    G: RunNode,
    G::State: Durable + Default,
{
    /// Writes a checkpoint with `update` applied to the thread's newest state through the
    /// reducers, as if node `as_node` had returned it (LangGraph's `update_state`): the
    /// nodes due next are those `as_node`'s edges lead to from the new state. With no
    /// `as_node`, the tasks due stay as they were. Returns the new checkpoint's id.
    ///
    /// The thread must be idle: it is taken for the write as a run takes it.
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`]: the thread is busy, the store's error, or a stored
    /// state that does not fit; [`GraphError::ConflictingUpdate`] when the update does not
    /// merge.
    pub async fn update_state(
        &self,
        update: <G::State as State>::Update,
        as_node: Option<G::Node>,
    ) -> Result<CheckpointId, GraphError> {
        let owner = uuid::Uuid::new_v4().to_string();
        let mut lease = Lease::take(&self.store, &self.id, owner, self.lease).await?;
        let stored = self.write_update(update, as_node).await;
        let released = lease.release().await;
        let id = stored?;
        released?;
        Ok(id)
    }

    /// Writes the checkpoint of `update_state`, the thread taken.
    async fn write_update(
        &self,
        update: <G::State as State>::Update,
        as_node: Option<G::Node>,
    ) -> Result<CheckpointId, GraphError> {
        let latest = self.store.get(&self.id, "", None).await?;
        let (mut state, mut line, step, mut frontier) = match &latest {
            Some(checkpoint) => {
                let state = G::State::from_values(checkpoint.values.clone())?;
                let mut frontier = Frontier::new(G::topology());
                let (_, joins) = frontier::decode::<G>(&checkpoint.meta)?;
                frontier.restore(joins).map_err(|detail| {
                    crate::error::CheckpointError::StateShape {
                        field: "frontier".into(),
                        detail,
                    }
                })?;
                (
                    state,
                    CheckpointLine::after(checkpoint, None),
                    checkpoint.meta.step + 1,
                    frontier,
                )
            }
            None => (
                G::State::default(),
                CheckpointLine::new(&self.id, "", None),
                -1,
                Frontier::new(G::topology()),
            ),
        };
        let writer = as_node.map_or("__update__", GraphNode::name);
        state
            .merge(vec![(writer, update.clone())])
            .map_err(|conflict| GraphError::ConflictingUpdate {
                step: u64::try_from(step).unwrap_or_default(),
                conflict,
            })?;
        let delta = G::State::delta(&update, &state)?;
        let due = match (as_node, &latest) {
            (Some(node), _) => {
                let step_now = u64::try_from(step).unwrap_or_default();
                let tasks = frontier.next_tasks(&[Ran::Node(node)], &state, step_now)?;
                frontier::encode::<G>(&DueTasks {
                    tasks: &tasks,
                    joins: frontier.joins(),
                })?
            }
            (None, Some(checkpoint)) => Due {
                nodes: checkpoint.meta.next.clone(),
                frontier: checkpoint.meta.frontier.clone(),
            },
            (None, None) => Due::default(),
        };
        let mut writes = Map::new();
        writes.insert(
            writer.to_owned(),
            Value::Object(G::State::update_to_json(&update)?),
        );
        let checkpoint = line.next(
            &state,
            delta,
            step,
            Source::Update,
            Value::Object(writes),
            due,
        )?;
        let id = checkpoint.meta.id;
        self.store.put(checkpoint).await?;
        Ok(id)
    }
}
