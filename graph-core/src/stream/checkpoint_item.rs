//! The item of checkpoints mode: a checkpoint a run on a thread wrote.

use std::sync::Arc;

use uuid::Uuid;

use crate::checkpoint::{CheckpointId, CheckpointMeta, Source};
use crate::graph::traits::{GraphDef, GraphNode};

/// A checkpoint a run on a thread wrote, with the state it holds and the tasks due after
/// it: the item of [`Checkpoints`](crate::mode::Checkpoints) mode (LangGraph's
/// `checkpoints` mode). It serializes as LangGraph's payload: `{"config", "parent_config",
/// "values", "metadata", "next", "tasks"}`; [`DebugCheckpoint`](crate::DebugCheckpoint)
/// writes it as debug mode's `checkpoint` event.
pub struct CheckpointEvent<G: GraphDef> {
    meta: CheckpointMeta,
    values: Arc<G::State>,
    /// The tasks due next: their ids and nodes' names.
    tasks: Vec<(Uuid, &'static str)>,
}

impl<G: GraphDef> CheckpointEvent<G> {
    pub(crate) fn new(
        meta: CheckpointMeta,
        values: Arc<G::State>,
        tasks: Vec<(Uuid, &'static str)>,
    ) -> Self {
        Self {
            meta,
            values,
            tasks,
        }
    }

    /// The checkpoint's metadata: thread, id, parent, step, source, the writes that made it.
    pub fn meta(&self) -> &CheckpointMeta {
        &self.meta
    }

    /// Its id.
    pub fn checkpoint_id(&self) -> CheckpointId {
        self.meta.id
    }

    /// Its step.
    pub fn step(&self) -> i64 {
        self.meta.step
    }

    /// What made it.
    pub fn source(&self) -> Source {
        self.meta.source
    }

    /// The state it holds.
    pub fn values(&self) -> &G::State {
        &self.values
    }

    /// The nodes due after it (none when the run ended there).
    pub fn next(&self) -> Vec<G::Node> {
        self.tasks
            .iter()
            .filter_map(|(_, name)| G::Node::ALL.iter().copied().find(|n| n.name() == *name))
            .collect()
    }

    /// The tasks due after it: each one's id and node name.
    pub fn tasks(&self) -> &[(Uuid, &'static str)] {
        &self.tasks
    }
}

impl<G: GraphDef> std::fmt::Debug for CheckpointEvent<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointEvent")
            .field("checkpoint_id", &self.meta.id)
            .field("step", &self.meta.step)
            .field("source", &self.meta.source)
            .field("next", &self.meta.next)
            .finish_non_exhaustive()
    }
}
