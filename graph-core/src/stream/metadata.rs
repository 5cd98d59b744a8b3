//! Where a stream item came from: built once per task and once per model call, then shared
//! by pointer with every item, so labelling a chunk costs one reference count.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use crate::chat::ModelIdentity;
use crate::graph::tags::TagSet;
use crate::graph::traits::{GraphNode, GraphTag};

/// LangGraph's first path segment for a node task started by the graph's edges.
pub(crate) const PREGEL_PULL: &str = "__pregel_pull";
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

/// A task's key among its step's tasks, the same in every run that reaches the step:
/// `<step>:<node>`, or `<step>:<node>:push:<n>` for the `n`th `Send`. A thread keys the
/// task's pending writes and resume values by it.
pub(crate) fn task_key(step: u64, node: &str, push: Option<usize>) -> String {
    match push {
        None => format!("{step}:{node}"),
        Some(index) => format!("{step}:{node}:push:{index}"),
    }
}

/// The id of the task `key` of run `run_id`: deterministic for a given run id, as
/// LangGraph derives task ids from the checkpoint.
pub(crate) fn task_id(run_id: Uuid, key: &str) -> Uuid {
    Uuid::new_v5(&run_id, key.as_bytes())
}

/// Facts about one run, shared by all its tasks.
#[derive(Debug)]
pub(crate) struct RunMetadata {
    pub(crate) run_id: Uuid,
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
    /// Where this run is nested: empty at the root, `["call_model:<task id>"]` for a
    /// subgraph run by the root's `call_model` task, one segment more per level.
    pub(crate) namespace: Vec<String>,
}

/// A task's unusual origin.
#[derive(Clone, Copy, Debug, Default)]
struct Origin {
    /// Started by the `n`th `Send` of its step.
    push: Option<usize>,
    /// For an item from inside a subgraph: the child task's node name and path, which the
    /// parent's typed `node` cannot name.
    nested: Option<(&'static str, TaskPath)>,
    /// The attempt, counted from 1, of a task whose node has a retry policy.
    attempt: Option<u32>,
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
    /// How the task started when it is not the common case (pulled by an edge, at the
    /// root): boxed, so the common task stays small.
    origin: Option<Box<Origin>>,
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
        let task_id = task_id(run.run_id, &task_key(step, node.name(), push));
        Self {
            step,
            node,
            triggers,
            task_id,
            origin: push.map(|index| {
                Box::new(Origin {
                    push: Some(index),
                    ..Origin::default()
                })
            }),
            checkpoint_ns: run
                .namespace
                .iter()
                .map(String::as_str)
                .chain([format!("{}:{task_id}", node.name()).as_str()])
                .collect::<Vec<_>>()
                .join("|"),
            namespace: run.namespace.clone(),
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

    /// Whether this item comes from inside a subgraph (its namespace is not the root's).
    pub fn is_nested(&self) -> bool {
        !self.namespace.is_empty()
    }

    /// What started the task: `branch:to:<node>` for an edge, `join:a+b:<node>` for a fan-in.
    pub fn triggers(&self) -> &[&'static str] {
        &self.triggers
    }

    /// LangGraph's task path: `("__pregel_pull", node)`, or `("__pregel_push", index)` for
    /// a task a `Send` started.
    pub fn path(&self) -> TaskPath {
        let origin = self.origin.as_deref().copied().unwrap_or_default();
        if let Some((_, path)) = origin.nested {
            return path;
        }
        match origin.push {
            None => TaskPath::Pull(self.node.name()),
            Some(index) => TaskPath::Push(index),
        }
    }

    /// The task's node name: the node's, or for an item from inside a subgraph, the child
    /// graph's node that produced it (while [`node`](Self::node) is the parent's node that
    /// runs the subgraph).
    pub fn name(&self) -> &'static str {
        self.origin
            .as_ref()
            .and_then(|origin| origin.nested)
            .map_or_else(|| self.node.name(), |(name, _)| name)
    }

    /// The same task seen from a parent graph whose task `parent` runs this task's graph:
    /// typed by the parent's node, named and placed as the child task.
    pub(crate) fn nested_in<P: GraphNode>(&self, parent: &TaskMetadata<P>) -> TaskMetadata<P> {
        TaskMetadata {
            step: self.step,
            node: parent.node,
            triggers: self.triggers.clone(),
            task_id: self.task_id,
            origin: Some(Box::new(Origin {
                push: self.origin.as_ref().and_then(|origin| origin.push),
                nested: Some((self.name(), self.path())),
                attempt: self.origin.as_ref().and_then(|origin| origin.attempt),
            })),
            checkpoint_ns: self.checkpoint_ns.clone(),
            namespace: self.namespace.clone(),
            run: Arc::clone(&parent.run),
            calls: AtomicU64::new(0),
        }
    }

    /// Which attempt of the task this is, counted from 1: above 1 only for a node with a
    /// retry policy (`#[node(retry = ..)]`) whose earlier attempts failed. Serialized as
    /// `stategraph_attempt` (LangGraph's metadata has no such key) for such a node's tasks.
    pub fn attempt(&self) -> u32 {
        self.retry_attempt().unwrap_or(1)
    }

    /// The attempt, for a task whose node has a retry policy.
    pub(crate) fn retry_attempt(&self) -> Option<u32> {
        self.origin.as_ref().and_then(|origin| origin.attempt)
    }

    /// The same task as attempt `attempt` of a node with a retry policy: its own metadata,
    /// so that every item of the attempt says which one it is.
    pub(crate) fn attempt_of(&self, attempt: u32) -> Self {
        let mut origin = self.origin.as_deref().copied().unwrap_or_default();
        origin.attempt = Some(attempt);
        Self {
            step: self.step,
            node: self.node,
            triggers: self.triggers.clone(),
            task_id: self.task_id,
            origin: Some(Box::new(origin)),
            checkpoint_ns: self.checkpoint_ns.clone(),
            namespace: self.namespace.clone(),
            run: Arc::clone(&self.run),
            calls: AtomicU64::new(self.calls.load(Ordering::Relaxed)),
        }
    }

    /// The namespace of a subgraph that this task runs: its own, plus `node:<task id>`.
    pub(crate) fn child_namespace(&self) -> Vec<String> {
        let mut namespace = self.namespace.clone();
        namespace.push(format!("{}:{}", self.name(), self.task_id));
        namespace
    }

    /// The next subgraph this task runs: its number `n` among the task's subgraph runs, and
    /// a fresh run id for it, derived so a run is replayable.
    pub(crate) fn child_call(&self) -> (u64, Uuid) {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        (
            n,
            Uuid::new_v5(&self.task_id, format!("subgraph:{n}").as_bytes()),
        )
    }

    /// The task's key among its step's tasks (see [`task_key`]).
    pub(crate) fn key(&self) -> String {
        let push = self.origin.as_ref().and_then(|origin| origin.push);
        task_key(self.step, self.node.name(), push)
    }

    /// The checkpoint namespace of the run this task belongs to, `|`-joined.
    pub(crate) fn run_namespace(&self) -> String {
        self.namespace.join("|")
    }

    /// The task's id.
    pub fn task_id(&self) -> Uuid {
        self.task_id
    }

    /// The task's full namespace, as LangGraph's `langgraph_checkpoint_ns`: `<node>:<task id>`
    /// at the root graph, and inside a subgraph the namespace's segments and the task's own
    /// joined with `|` (`delegate:<id>|relay:<id>|tell:<id>`).
    pub fn checkpoint_ns(&self) -> &str {
        &self.checkpoint_ns
    }

    /// The first segment of [`checkpoint_ns`](Self::checkpoint_ns): the root graph's task
    /// that this task runs under (the task itself at the root), as LangGraph's metadata key
    /// `checkpoint_ns`.
    ///
    /// LangGraph copies a task's `checkpoint_ns` into its metadata only when the metadata
    /// does not hold one yet, and a subgraph inherits its parent task's metadata: the root
    /// task's value is the one every nested task keeps.
    pub fn root_checkpoint_ns(&self) -> &str {
        // Node names are identifiers and task ids UUIDs: `|` only ever separates segments.
        self.checkpoint_ns
            .split_once('|')
            .map_or(self.checkpoint_ns.as_str(), |(root, _)| root)
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
}

/// Where a model chunk came from: its task, the model's identity, the call's tags and id.
///
/// Serializes as LangGraph's messages-mode metadata: the task fields, then `ls_provider`,
/// `ls_model_name`, `ls_model_type`, `ls_temperature` (`null` when unset) and `tags` (when
/// any: the run's first, then the call's).
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

    /// A child graph's call seen from the parent: the nested task, the same model and id,
    /// the tags mapped into the parent's.
    pub(crate) fn nested(
        task: Arc<TaskMetadata<T::Node>>,
        model: Option<ModelIdentity>,
        tags: TagSet<T>,
        call_id: String,
    ) -> Self {
        Self {
            task,
            model,
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

    /// The call's tags, with the run's; they list the run's first, as LangGraph does.
    pub fn tags(&self) -> TagSet<T> {
        self.tags
    }

    /// Whether the item is a whole message a node returned rather than a model call's
    /// chunk: only such metadata has no model.
    pub fn is_returned_message(&self) -> bool {
        self.model.is_none()
    }

    /// The id shared by every chunk of the call and by the message it assembles into (for a
    /// returned message, its own id).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }
}
