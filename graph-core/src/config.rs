//! Per-run settings.

use uuid::Uuid;

use crate::checkpoint::CheckpointId;
use crate::graph::tags::TagSet;
use crate::graph::traits::{GraphNode, GraphTag};

/// Settings of one run: recursion limit, run id, extra tags and metadata, buffer size.
///
/// ```
/// # use stategraph_core::{GraphTag, RunConfig};
/// # fn demo<T: GraphTag>() {
/// let config = RunConfig::<T>::default().recursion_limit(5).metadata("user", "ada");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RunConfig<T: GraphTag> {
    pub(crate) recursion_limit: u32,
    pub(crate) run_id: Option<Uuid>,
    pub(crate) tags: TagSet<T>,
    pub(crate) metadata: serde_json::Map<String, serde_json::Value>,
    pub(crate) buffer: usize,
    pub(crate) subgraphs: bool,
    pub(crate) namespace: Vec<String>,
    pub(crate) durability: Durability,
    pub(crate) breakpoints: Breakpoints,
    pub(crate) checkpoint_id: Option<CheckpointId>,
}

/// The nodes a run stops before or after (LangGraph's `interrupt_before` /
/// `interrupt_after`), by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Breakpoints {
    pub(crate) before: Vec<&'static str>,
    pub(crate) after: Vec<&'static str>,
}

impl Breakpoints {
    pub(crate) fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }
}

/// LangGraph's default recursion limit.
pub const DEFAULT_RECURSION_LIMIT: u32 = 25;

/// How many items may wait between the graph and a consumer that is not reading.
///
/// Eight is enough to spread the cost of switching between consumer and node over several
/// items, and small enough that a run with a full buffer holds under 4 KB.
pub const DEFAULT_BUFFER: usize = 8;

impl<T: GraphTag> Default for RunConfig<T> {
    fn default() -> Self {
        Self {
            recursion_limit: DEFAULT_RECURSION_LIMIT,
            run_id: None,
            tags: TagSet::empty(),
            metadata: serde_json::Map::new(),
            buffer: DEFAULT_BUFFER,
            subgraphs: false,
            namespace: Vec::new(),
            durability: Durability::default(),
            breakpoints: Breakpoints::default(),
            checkpoint_id: None,
        }
    }
}

impl<T: GraphTag> RunConfig<T> {
    /// The most steps the run may take before it stops with
    /// [`GraphError::RecursionLimit`](crate::GraphError::RecursionLimit). Default 25.
    #[must_use]
    pub fn recursion_limit(mut self, steps: u32) -> Self {
        self.recursion_limit = steps;
        self
    }

    /// The run's id; task ids derive from it, so a fixed id gives reproducible ids.
    /// Default: a random one.
    #[must_use]
    pub fn run_id(mut self, run_id: Uuid) -> Self {
        self.run_id = Some(run_id);
        self
    }

    /// A tag added to every model call and custom write of the run. In their `tags` the
    /// run's tags come first, then the call's own, as LangGraph lists a config's tags.
    #[must_use]
    pub fn tag(mut self, tag: T) -> Self {
        self.tags = self.tags.with(tag).listed_first();
        self
    }

    /// An entry added to the metadata of every item of the run.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Streams the items of subgraphs too (LangGraph's `subgraphs=True`): messages and
    /// custom items from a graph a node runs with `ctx.subgraph(..)` reach this stream,
    /// each with its namespace. Off by default, as in LangGraph.
    #[must_use]
    pub fn subgraphs(mut self, on: bool) -> Self {
        self.subgraphs = on;
        self
    }

    /// How many items may wait for a consumer before nodes wait in turn (at least 1).
    /// Default [`DEFAULT_BUFFER`].
    ///
    /// The bound holds for every item nodes write: custom payloads, model chunks and a
    /// subgraph's forwarded items, from the node itself or from work it spawned. Writers
    /// that find it full wait their turn, first come first; a model call that finds room
    /// while others wait takes an even share of it.
    ///
    /// The run's own items go past it, since each must follow what its node wrote and
    /// cannot wait: when a step starts, the state (values mode) and a `Started` event per
    /// task (tasks mode); when a task finishes, the messages it returns that were not
    /// streamed (messages mode), its update (updates mode) and its `Finished` event (tasks
    /// mode); when a task fails, a `Failed` event for it and for each sibling cancelled.
    /// The stream hands out everything waiting before it polls a node again, so what waits
    /// at once is at most the buffer plus the run's items of one such moment: for a step of
    /// N tasks (N `Send` instances) in values and tasks mode, `buffer + N + 1`.
    /// [`GraphStream::waiting`](crate::GraphStream::waiting) tells how many wait.
    ///
    /// The stream takes waiting items a batch at a time, and a batch frees its room once
    /// the stream has handed all of it out: a consumer that stops in the middle of a batch
    /// to wait for a writer elsewhere (work spawned with its own clone of a writer) may
    /// find that writer waiting for room until it reads on.
    #[must_use]
    pub fn buffer(mut self, items: usize) -> Self {
        self.buffer = items.max(1);
        self
    }

    /// When a run on a thread writes its checkpoints (LangGraph's `durability`): see
    /// [`Durability`]. Without a thread it changes nothing.
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
}

impl<T: GraphTag> RunConfig<T> {
    /// Stops the run before a step that would run `node` (LangGraph's `interrupt_before`),
    /// once the checkpoint before it is stored. [`Command::proceed`](crate::Command::proceed)
    /// goes on from there.
    #[must_use]
    pub fn interrupt_before(mut self, node: T::Node) -> Self {
        self.breakpoints.before.push(node.name());
        self
    }

    /// Stops the run after a step that ran `node` (LangGraph's `interrupt_after`), once its
    /// checkpoint is stored.
    #[must_use]
    pub fn interrupt_after(mut self, node: T::Node) -> Self {
        self.breakpoints.after.push(node.name());
        self
    }

    /// Runs a thread from checkpoint `id` instead of its newest: a fork. Nothing before it
    /// runs again; the run's checkpoints follow it, and become the thread's newest.
    #[must_use]
    pub fn checkpoint_id(mut self, id: CheckpointId) -> Self {
        self.checkpoint_id = Some(id);
        self
    }
}

/// When a run on a thread writes its checkpoints, as LangGraph's `durability` modes.
/// Tokens never wait for a checkpoint: writes happen per step, never per chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Each step's checkpoint is stored before the next step starts: a crash loses at most
    /// the step under way.
    Sync,
    /// Each step's checkpoint is stored while the next step runs (in order, one after the
    /// other); the stream ends only once all are stored.
    #[default]
    Async,
    /// Only the run's last checkpoint is stored, when it ends.
    Exit,
}
