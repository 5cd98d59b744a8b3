//! The items of updates mode and tasks mode: what each node task wrote, and when each task
//! started and finished.

use std::sync::Arc;
use std::time::SystemTime;

use super::metadata::TaskMetadata;
use crate::graph::sent::TaskInput;
use crate::graph::traits::{GraphDef, State};
use crate::interrupt::Interrupt;

type Update<G> = <<G as GraphDef>::State as State>::Update;

/// One finished node and the update it returned (LangGraph's `stream_mode="updates"`).
/// A node that changed nothing still gives one, with an empty update.
pub struct NodeUpdate<G: GraphDef> {
    update: Update<G>,
    metadata: Arc<TaskMetadata<G::Node>>,
}

impl<G: GraphDef> NodeUpdate<G> {
    pub(crate) fn new(update: Update<G>, metadata: Arc<TaskMetadata<G::Node>>) -> Self {
        Self { update, metadata }
    }

    /// The node that finished.
    pub fn node(&self) -> G::Node {
        self.metadata.node()
    }

    /// The step it ran in.
    pub fn step(&self) -> u64 {
        self.metadata.step()
    }

    /// The update it returned.
    pub fn update(&self) -> &Update<G> {
        &self.update
    }

    /// Takes the update out.
    pub fn into_update(self) -> Update<G> {
        self.update
    }

    /// Where the task ran.
    pub fn metadata(&self) -> &TaskMetadata<G::Node> {
        &self.metadata
    }
}

impl<G: GraphDef> Clone for NodeUpdate<G> {
    fn clone(&self) -> Self {
        Self {
            update: self.update.clone(),
            metadata: Arc::clone(&self.metadata),
        }
    }
}

impl<G: GraphDef> std::fmt::Debug for NodeUpdate<G>
where
    Update<G>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeUpdate")
            .field("node", &self.node())
            .field("step", &self.step())
            .field("update", &self.update)
            .finish()
    }
}

/// A task starting or finishing: the item of [`Tasks`](crate::mode::Tasks) mode (LangGraph's
/// `tasks` mode, written in the shape of its `debug` mode).
pub struct TaskEvent<G: GraphDef> {
    metadata: Arc<TaskMetadata<G::Node>>,
    at: SystemTime,
    kind: TaskEventKind<G>,
}

/// What happened to the task.
pub enum TaskEventKind<G: GraphDef> {
    /// It started, on this input.
    Started {
        /// What the node was given: the state, or a `Send`'s input.
        input: TaskInput<G>,
    },
    /// It returned this update.
    Finished {
        /// The node's update.
        update: Update<G>,
    },
    /// It failed (an error or a panic), with this message.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// Attempt `attempt` failed and the node's retry policy runs it again after `retry_in`:
    /// the items labelled with this attempt (`metadata().attempt()`) belong to a failed
    /// attempt, and a consumer may drop them (the partial tokens of a failed model call).
    AttemptFailed {
        /// What went wrong.
        error: String,
        /// The attempt that failed, counted from 1.
        attempt: u32,
        /// The wait before the next attempt starts.
        retry_in: std::time::Duration,
    },
    /// It stopped on an interrupt (see [`NodeContext::interrupt`](crate::NodeContext::interrupt)):
    /// its update is dropped, and resuming runs it again.
    Interrupted {
        /// The question it asked.
        interrupt: Interrupt,
    },
}

impl<G: GraphDef> TaskEvent<G> {
    pub(crate) fn new(metadata: Arc<TaskMetadata<G::Node>>, kind: TaskEventKind<G>) -> Self {
        Self {
            metadata,
            at: SystemTime::now(),
            kind,
        }
    }

    /// The task's node.
    pub fn node(&self) -> G::Node {
        self.metadata.node()
    }

    /// Its step.
    pub fn step(&self) -> u64 {
        self.metadata.step()
    }

    /// When it happened.
    pub fn timestamp(&self) -> SystemTime {
        self.at
    }

    /// What happened.
    pub fn kind(&self) -> &TaskEventKind<G> {
        &self.kind
    }

    /// Where the task ran: id, triggers, path.
    pub fn metadata(&self) -> &TaskMetadata<G::Node> {
        &self.metadata
    }
}

impl<G: GraphDef> std::fmt::Debug for TaskEvent<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            TaskEventKind::Started { .. } => "started",
            TaskEventKind::Finished { .. } => "finished",
            TaskEventKind::Failed { .. } => "failed",
            TaskEventKind::AttemptFailed { .. } => "attempt failed",
            TaskEventKind::Interrupted { .. } => "interrupted",
        };
        f.debug_struct("TaskEvent")
            .field("node", &self.node())
            .field("step", &self.step())
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}
