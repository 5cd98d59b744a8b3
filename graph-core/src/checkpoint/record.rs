//! The plain data of a checkpoint, as the runtime writes it and a store gives it back.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::delta::{SnapshotCounters, StateDelta};

/// A checkpoint's id: a UUID v7, so ids sort by creation time (within a process strictly,
/// across processes to the millisecond) and the newest checkpoint of a thread is the
/// greatest id, as LangGraph's time-ordered ids are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckpointId(Uuid);

impl CheckpointId {
    /// A new id, greater than every id this process made before.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for CheckpointId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for CheckpointId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text).map(Self)
    }
}

/// What made a checkpoint, as LangGraph's `metadata.source` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The input of a run, before its first step.
    Input,
    /// A step of the run.
    Loop,
    /// A state update from outside a run (`update_state`).
    Update,
    /// A copy of another checkpoint, to run from it anew.
    Fork,
}

impl Source {
    /// LangGraph's name: `input`, `loop`, `update` or `fork`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Loop => "loop",
            Self::Update => "update",
            Self::Fork => "fork",
        }
    }

    /// The source LangGraph names `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "input" => Self::Input,
            "loop" => Self::Loop,
            "update" => Self::Update,
            "fork" => Self::Fork,
            _ => return None,
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything about a checkpoint but its state: what a listing of a thread's history
/// returns.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointMeta {
    /// The thread.
    pub thread_id: String,
    /// The namespace: empty for the root graph, `node:task` segments joined by `|` for a
    /// subgraph, as LangGraph's `checkpoint_ns`.
    pub checkpoint_ns: String,
    /// This checkpoint.
    pub id: CheckpointId,
    /// The checkpoint it follows, if any.
    pub parent_id: Option<CheckpointId>,
    /// The run that wrote it, if a run did.
    pub run_id: Option<String>,
    /// The step: -1 for a run's input, then 0, 1, ... continuing across runs of a thread.
    pub step: i64,
    /// What made it.
    pub source: Source,
    /// When it was written.
    pub created_at: SystemTime,
    /// The names of the nodes due next; empty when the run has ended.
    pub next: Vec<String>,
    /// Each state field's version: the number of checkpoints that changed it.
    pub versions: BTreeMap<String, u64>,
    /// What a run resuming from this checkpoint needs beyond `next` to start its tasks
    /// exactly as they were due: each task's triggers, a `Send`'s own input, and how far
    /// each fan-in has got. `null` when nothing is due, or when the tasks due are just
    /// those `next` names, each pulled by a plain edge, with no fan-in half seen.
    pub frontier: Value,
}

/// A checkpoint for a store to write: its metadata, its state as a delta against its parent
/// and, when [`SnapshotPolicy`](super::SnapshotPolicy) asks for one, in full.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCheckpoint {
    /// Its metadata.
    pub meta: CheckpointMeta,
    /// The fields that changed since the parent (every field, for a checkpoint with no
    /// parent).
    pub delta: StateDelta,
    /// The whole state, when a snapshot is due; a read starts from the nearest snapshot at
    /// or before the checkpoint and folds the deltas after it.
    pub snapshot: Option<Map<String, Value>>,
    /// How far this checkpoint is from its nearest snapshot.
    pub counters: SnapshotCounters,
}

/// A checkpoint as read back: its metadata, its whole state, and the writes of the tasks
/// that finished after it was written (a step that failed or was cut short by a crash).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Its metadata.
    pub meta: CheckpointMeta,
    /// The whole state, as a JSON object of fields.
    pub values: Map<String, Value>,
    /// How far it is from its nearest snapshot, for the next checkpoint's policy.
    pub counters: SnapshotCounters,
    /// The writes of tasks of the next step that finished, in the order they were stored.
    pub pending_writes: Vec<PendingWrite>,
}

/// What one finished task wrote, stored as soon as it finished so that a resumed run does
/// not run it again.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingWrite {
    /// The task's id (unique within the step).
    pub task_id: String,
    /// The node the task ran.
    pub node: String,
    /// What kind of write: `update` for a node's update, `__interrupt__` for an interrupt,
    /// `__error__` for a failure.
    pub channel: String,
    /// The value written.
    pub value: Value,
}

impl PendingWrite {
    /// The channel of a finished task's update (its value: the update as JSON).
    pub const UPDATE: &'static str = "update";
    /// The channel of the question a task stopped on (`{"id", "value", "index"}`).
    pub const INTERRUPT: &'static str = "__interrupt__";
    /// The channel of the answers a task's interrupts get, in order (a JSON list).
    pub const RESUME: &'static str = "__resume__";
    /// The start of the channel of each node a finished task's `goto` named:
    /// `branch:to:<node>`, as LangGraph writes a `Command`'s goto (its value: `null`).
    pub const GOTO_PREFIX: &'static str = "branch:to:";
    /// The channel of the `Send`s a finished task's `goto` named: `__pregel_tasks`, as
    /// LangGraph names it. Its value is their list, in order: `{"node", "push"}` for a
    /// state, `{"node", "send"}` for an input of the node's own type.
    pub const TASKS: &'static str = "__pregel_tasks";
}

/// Which checkpoints of a thread [`Checkpointer::list`](super::Checkpointer::list)
/// returns: newest first, at most `limit`, older than `before`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// At most this many.
    pub limit: Option<usize>,
    /// Only checkpoints older than this one.
    pub before: Option<CheckpointId>,
}
