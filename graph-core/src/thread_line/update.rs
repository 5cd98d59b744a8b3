//! A state update from outside a run: LangGraph's `update_state`.

use std::time::Duration;

use super::frontier;
use super::sink::Lease;
use crate::checkpoint::{Checkpoint, CheckpointId, CheckpointLine, Due, Durable, Source};
use crate::error::{CheckpointError, GraphError};
use crate::graph::topology::Source as Ran;
use crate::graph::traits::{GraphDef, GraphNode, State};
use crate::run::frontier::Frontier;
use crate::run::persist::{DueTasks, ThreadRef};

impl ThreadRef {
    /// The checkpoint of [`Thread::update_state`](crate::Thread::update_state), after the
    /// thread's newest checkpoint or after checkpoint `at` (a fork), the thread taken for
    /// it.
    pub(crate) async fn update_state<G>(
        &self,
        update: <G::State as State>::Update,
        as_node: Option<G::Node>,
        lease: Duration,
        at: Option<CheckpointId>,
    ) -> Result<CheckpointId, GraphError>
    where
        G: GraphDef,
        G::State: Durable + Default,
    {
        let owner = uuid::Uuid::new_v4().to_string();
        let (mut lease, latest) = Lease::take_and_read(
            &self.store,
            &self.thread_id,
            &self.namespace,
            at,
            owner,
            lease,
        )
        .await?;
        let stored = match (at, latest) {
            (Some(at), None) => Err(CheckpointError::NotFound {
                thread: self.thread_id.clone(),
                at: Some(at.to_string()),
            }
            .into()),
            (_, latest) => self.write_update::<G>(update, as_node, latest).await,
        };
        let released = lease.release().await;
        let id = stored?;
        released?;
        Ok(id)
    }

    /// Writes the checkpoint of `update_state` after `latest` (the thread's newest, or the
    /// one forked from), the thread taken.
    async fn write_update<G>(
        &self,
        update: <G::State as State>::Update,
        as_node: Option<G::Node>,
        latest: Option<Checkpoint>,
    ) -> Result<CheckpointId, GraphError>
    where
        G: GraphDef,
        G::State: Durable + Default,
    {
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
                CheckpointLine::new(&self.thread_id, &self.namespace, None),
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
                let tasks =
                    frontier.next_tasks(&[Ran::Node(node)], &[], Vec::new(), &state, step_now)?;
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
        let checkpoint = line.next(&state, delta, step, Source::Update, due)?;
        let id = checkpoint.meta.id;
        self.store.put(checkpoint).await?;
        Ok(id)
    }
}
