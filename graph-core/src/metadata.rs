//! Where a stream item came from: built once per task and once per model call, then shared
//! by pointer with every item, so labelling a chunk costs one reference count.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::ser::{Serialize, SerializeMap, Serializer};
use uuid::Uuid;

use crate::{GraphNode, GraphTag, ModelIdentity, TagSet};

/// LangGraph's first path segment for a node task started by the graph's edges.
const PREGEL_PULL: &str = "__pregel_pull";
/// LangGraph's first path segment, and trigger, of a task started by a `Send`.
pub(crate) const PREGEL_PUSH: &str = "__pregel_push";

/// How a task was started, as LangGraph's `langgraph_path` says it: pulled by an edge
/// (`["__pregel_pull", "node"]`) or pushed by a `Send` (`["__pregel_push", index]`, its
/// position among the step's sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskPath {
    /// Started by the graph's edges.
    Pull(&'static str),
    /// Started by a router's `Send`, the `n`th of its step.
    Push(usize),
}

impl Serialize for TaskPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(2)?;
        match self {
            Self::Pull(node) => {
                tuple.serialize_element(PREGEL_PULL)?;
                tuple.serialize_element(node)?;
            }
            Self::Push(index) => {
                tuple.serialize_element(PREGEL_PUSH)?;
                tuple.serialize_element(index)?;
            }
        }
        tuple.end()
    }
}

/// Facts about one run, shared by all its tasks.
#[derive(Debug)]
pub(crate) struct RunMetadata {
    pub(crate) run_id: Uuid,
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
}

/// Where a task runs: its step, node, triggers, path and checkpoint namespace.
///
/// It serializes with LangGraph's field names (`langgraph_step`, `langgraph_node`,
/// `langgraph_triggers`, `langgraph_path`, `langgraph_checkpoint_ns`, `checkpoint_ns`), followed
/// by the run's extra metadata.
#[derive(Debug)]
pub struct TaskMetadata<N> {
    step: u64,
    node: N,
    triggers: Vec<&'static str>,
    task_id: Uuid,
    push: Option<usize>,
    checkpoint_ns: String,
    namespace: Vec<String>,
    run: Arc<RunMetadata>,
    calls: AtomicU64,
}

impl<N: GraphNode> TaskMetadata<N> {
    pub(crate) fn new(
        step: u64,
        node: N,
        triggers: Vec<&'static str>,
        run: Arc<RunMetadata>,
    ) -> Self {
        Self::with_push(step, node, triggers, run, None)
    }

    /// A task started by the `index`th `Send` of its step.
    pub(crate) fn pushed(step: u64, node: N, index: usize, run: Arc<RunMetadata>) -> Self {
        Self::with_push(step, node, vec![PREGEL_PUSH], run, Some(index))
    }

    fn with_push(
        step: u64,
        node: N,
        triggers: Vec<&'static str>,
        run: Arc<RunMetadata>,
        push: Option<usize>,
    ) -> Self {
        // Deterministic for a given run id, as LangGraph derives task ids from the checkpoint.
        let key = match push {
            None => format!("{step}:{}", node.name()),
            Some(index) => format!("{step}:{}:push:{index}", node.name()),
        };
        let task_id = Uuid::new_v5(&run.run_id, key.as_bytes());
        Self {
            step,
            node,
            triggers,
            task_id,
            push,
            checkpoint_ns: format!("{}:{task_id}", node.name()),
            namespace: Vec::new(),
            run,
            calls: AtomicU64::new(0),
        }
    }

    /// The step, counted from 1 for the first nodes after `START`.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The node.
    pub fn node(&self) -> N {
        self.node
    }

    /// What started the task: `branch:to:<node>` for an edge, `join:a+b:<node>` for a fan-in.
    pub fn triggers(&self) -> &[&'static str] {
        &self.triggers
    }

    /// LangGraph's task path: `("__pregel_pull", node)`, or `("__pregel_push", index)` for
    /// a task a `Send` started.
    pub fn path(&self) -> TaskPath {
        match self.push {
            None => TaskPath::Pull(self.node.name()),
            Some(index) => TaskPath::Push(index),
        }
    }

    /// The task's id.
    pub fn task_id(&self) -> Uuid {
        self.task_id
    }

    /// `<node>:<task id>`, as LangGraph's `langgraph_checkpoint_ns`.
    pub fn checkpoint_ns(&self) -> &str {
        &self.checkpoint_ns
    }

    /// The namespace of the graph the task runs in: empty at the root graph.
    pub fn namespace(&self) -> &[String] {
        &self.namespace
    }

    /// The run's id.
    pub fn run_id(&self) -> Uuid {
        self.run.run_id
    }

    /// The extra metadata given in the run's [`RunConfig`](crate::RunConfig).
    pub fn extra(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.run.extra
    }

    /// A fresh id for the next model call of this task, stable for all of that call's chunks.
    pub(crate) fn next_call_id(&self) -> String {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        format!("run-{}", Uuid::new_v5(&self.task_id, &call.to_le_bytes()))
    }

    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (key, value) in &self.run.extra {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("langgraph_step", &self.step)?;
        map.serialize_entry("langgraph_node", self.node.name())?;
        map.serialize_entry("langgraph_triggers", &self.triggers)?;
        map.serialize_entry("langgraph_path", &self.path())?;
        map.serialize_entry("langgraph_checkpoint_ns", &self.checkpoint_ns)?;
        map.serialize_entry("checkpoint_ns", &self.checkpoint_ns)
    }
}

impl<N: GraphNode> Serialize for TaskMetadata<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.serialize_fields(&mut map)?;
        map.end()
    }
}

/// Where a model chunk came from: its task, the model's identity, the call's tags and id.
///
/// Serializes as LangGraph's messages-mode metadata: the task fields, then `ls_provider`,
/// `ls_model_name`, `ls_model_type`, `ls_temperature` (when set) and `tags` (when any).
#[derive(Debug)]
pub struct MessageMetadata<T: GraphTag> {
    task: Arc<TaskMetadata<T::Node>>,
    /// `None` for a whole message a node returned rather than a model call's chunk.
    model: Option<ModelIdentity>,
    tags: TagSet<T>,
    call_id: String,
}

impl<T: GraphTag> MessageMetadata<T> {
    pub(crate) fn new(
        task: Arc<TaskMetadata<T::Node>>,
        model: ModelIdentity,
        tags: TagSet<T>,
        call_id: String,
    ) -> Self {
        Self {
            task,
            model: Some(model),
            tags,
            call_id,
        }
    }

    /// The metadata of a whole message a node returned: its task, no model, no tags.
    pub(crate) fn returned(task: Arc<TaskMetadata<T::Node>>, id: String) -> Self {
        Self {
            task,
            model: None,
            tags: TagSet::empty(),
            call_id: id,
        }
    }

    /// The task the call ran in.
    pub fn task(&self) -> &TaskMetadata<T::Node> {
        &self.task
    }

    /// The model's identity; `None` for a whole message a node returned in its update.
    pub fn model(&self) -> Option<&ModelIdentity> {
        self.model.as_ref()
    }

    /// The call's tags, with the run's.
    pub fn tags(&self) -> TagSet<T> {
        self.tags
    }

    /// The id shared by every chunk of the call and by the message it assembles into (for a
    /// returned message, its own id).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }
}

impl<T: GraphTag> Serialize for MessageMetadata<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.task.serialize_fields(&mut map)?;
        if let Some(model) = &self.model {
            map.serialize_entry("ls_provider", &model.provider)?;
            map.serialize_entry("ls_model_name", &model.model_name)?;
            map.serialize_entry("ls_model_type", &model.model_type)?;
            if let Some(temperature) = model.temperature {
                map.serialize_entry("ls_temperature", &temperature)?;
            }
        }
        if !self.tags.is_empty() {
            map.serialize_entry("tags", &self.tags)?;
        }
        map.end()
    }
}
