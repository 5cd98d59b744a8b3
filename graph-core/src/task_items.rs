//! The items of updates mode and debug mode: what each node task wrote, and when each task
//! started and finished.

use std::sync::Arc;
use std::time::SystemTime;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::{GraphDef, GraphNode, State, TaskMetadata};

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

/// As LangGraph: `{"<node>": <update>}`.
impl<G: GraphDef> Serialize for NodeUpdate<G>
where
    Update<G>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.node().name(), &self.update)?;
        map.end()
    }
}

/// A task starting or finishing (LangGraph's `debug` / `tasks` modes).
pub struct TaskEvent<G: GraphDef> {
    metadata: Arc<TaskMetadata<G::Node>>,
    at: SystemTime,
    kind: TaskEventKind<G>,
}

/// What happened to the task.
pub enum TaskEventKind<G: GraphDef> {
    /// It started, on this input.
    Started {
        /// The state the node was given.
        input: Arc<G::State>,
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
        };
        f.debug_struct("TaskEvent")
            .field("node", &self.node())
            .field("step", &self.step())
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

/// As LangGraph's debug mode: `{"type": "task" | "task_result", "timestamp", "step",
/// "payload": {"id", "name", "input", "triggers"} | {"id", "name", "error", "result"}}`.
impl<G: GraphDef> Serialize for TaskEvent<G>
where
    G::State: Serialize,
    Update<G>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Payload<'a, G: GraphDef>(&'a TaskEvent<G>);
        impl<G: GraphDef> Serialize for Payload<'_, G>
        where
            G::State: Serialize,
            Update<G>: Serialize,
        {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let event = self.0;
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("id", &event.metadata.task_id().to_string())?;
                map.serialize_entry("name", event.node().name())?;
                match &event.kind {
                    TaskEventKind::Started { input } => {
                        map.serialize_entry("input", &**input)?;
                        map.serialize_entry("triggers", event.metadata.triggers())?;
                    }
                    TaskEventKind::Finished { update } => {
                        map.serialize_entry("error", &None::<String>)?;
                        map.serialize_entry("result", update)?;
                    }
                    TaskEventKind::Failed { error } => {
                        map.serialize_entry("error", error)?;
                        map.serialize_entry("result", &None::<()>)?;
                    }
                }
                map.end()
            }
        }
        let kind = match self.kind {
            TaskEventKind::Started { .. } => "task",
            _ => "task_result",
        };
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", kind)?;
        map.serialize_entry(
            "timestamp",
            &humantime::format_rfc3339_micros(self.at).to_string(),
        )?;
        map.serialize_entry("step", &self.step())?;
        map.serialize_entry("payload", &Payload(self))?;
        map.end()
    }
}
