//! A thread's state at one checkpoint, typed.

use std::time::SystemTime;

use crate::checkpoint::{Checkpoint, CheckpointId, Durable, Source};
use crate::error::CheckpointError;
use crate::graph::traits::GraphDef;
use crate::interrupt::Interrupt;
use crate::thread_line::frontier::node_named;
use crate::thread_line::pending::Pending;

/// A thread's state at one checkpoint: LangGraph's `StateSnapshot`.
#[derive(Debug)]
#[non_exhaustive]
pub struct StateSnapshot<G: GraphDef> {
    /// The state.
    pub values: G::State,
    /// The nodes due next: empty when the thread's last run ended.
    pub next: Vec<G::Node>,
    /// The questions the thread's run stopped on and that are not answered yet
    /// ([`Command::resume`](crate::Command::resume) answers them).
    pub interrupts: Vec<Interrupt>,
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
        let interrupts = Pending::read::<G>(&checkpoint)?.questions;
        let meta = checkpoint.meta;
        // An input checkpoint is due to apply its input (`__start__`), which is no node.
        let next = match meta.source {
            Source::Input => Vec::new(),
            _ => meta
                .next
                .iter()
                .map(|name| node_named::<G::Node>(name))
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            values: G::State::from_values(checkpoint.values)?,
            next,
            interrupts,
            checkpoint_id: meta.id,
            parent_id: meta.parent_id,
            step: meta.step,
            source: meta.source,
            created_at: meta.created_at,
        })
    }
}
