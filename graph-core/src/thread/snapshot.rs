//! A thread's state at one checkpoint, typed.

use std::time::SystemTime;

use crate::checkpoint::{Checkpoint, CheckpointId, Durable, Source};
use crate::error::CheckpointError;
use crate::graph::traits::{GraphDef, GraphNode};

/// A thread's state at one checkpoint: LangGraph's `StateSnapshot`.
#[derive(Debug)]
#[non_exhaustive]
pub struct StateSnapshot<G: GraphDef> {
    /// The state.
    pub values: G::State,
    /// The nodes due next: empty when the thread's last run ended.
    pub next: Vec<G::Node>,
    /// The checkpoint.
    pub checkpoint_id: CheckpointId,
    /// The checkpoint before it.
    pub parent_id: Option<CheckpointId>,
    /// Its step.
    pub step: i64,
    /// What made it.
    pub source: Source,
    /// When it was written.
    pub created_at: SystemTime,
}

impl<G: GraphDef> StateSnapshot<G>
where
    G::State: Durable,
{
    /// The snapshot of a stored checkpoint.
    pub(super) fn read(checkpoint: Checkpoint) -> Result<Self, CheckpointError> {
        let meta = checkpoint.meta;
        let next = meta
            .next
            .iter()
            .map(|name| {
                G::Node::ALL
                    .iter()
                    .copied()
                    .find(|node| node.name() == name)
                    .ok_or_else(|| CheckpointError::StateShape {
                        field: "next".into(),
                        detail: format!("the graph has no node `{name}`"),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            values: G::State::from_values(checkpoint.values)?,
            next,
            checkpoint_id: meta.id,
            parent_id: meta.parent_id,
            step: meta.step,
            source: meta.source,
            created_at: meta.created_at,
        })
    }
}
