//! A thread's record: what a server lists and searches threads by (LangGraph's `Thread`),
//! kept beside the thread's checkpoints in the same store.

use std::fmt;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// Where a thread stands, as LangGraph's `Thread.status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThreadStatus {
    /// No run holds it, and its last run ended (or it never ran).
    Idle,
    /// A run holds it.
    Busy,
    /// Its last run stopped on an interrupt or at a breakpoint and waits for a command.
    Interrupted,
    /// Its last run failed.
    Error,
}

impl ThreadStatus {
    /// LangGraph's name: `idle`, `busy`, `interrupted` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Busy => "busy",
            Self::Interrupted => "interrupted",
            Self::Error => "error",
        }
    }

    /// The status LangGraph names `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "idle" => Self::Idle,
            "busy" => Self::Busy,
            "interrupted" => Self::Interrupted,
            "error" => Self::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for ThreadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A thread's record, as LangGraph's `Thread`: its metadata, its status, and its state and
/// pending interrupts as of its last run (copies, so that listing threads reads no
/// checkpoint).
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadRecord {
    /// The thread.
    pub thread_id: String,
    /// When the record was created.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
    /// The client's metadata (a server adds `graph_id` and `assistant_id` when a run starts).
    pub metadata: Map<String, Value>,
    /// Where the thread stands.
    pub status: ThreadStatus,
    /// The state as of the thread's newest checkpoint, or `null` before its first run.
    pub values: Value,
    /// The interrupts pending, as LangGraph's `Thread.interrupts`: a JSON object of task id
    /// to `[{"value", "id"}]`.
    pub interrupts: Map<String, Value>,
}

impl ThreadRecord {
    /// A new idle record with `metadata`, created now.
    pub fn new(thread_id: impl Into<String>, metadata: Map<String, Value>) -> Self {
        let now = SystemTime::now();
        Self {
            thread_id: thread_id.into(),
            created_at: now,
            updated_at: now,
            metadata,
            status: ThreadStatus::Idle,
            values: Value::Null,
            interrupts: Map::new(),
        }
    }

    /// The record with `change` applied and `updated_at` set to `now`.
    pub fn apply(&mut self, change: ThreadChange, now: SystemTime) {
        let ThreadChange {
            metadata,
            status,
            values,
            interrupts,
        } = change;
        self.metadata.extend(metadata);
        if let Some(status) = status {
            self.status = status;
        }
        if let Some(values) = values {
            self.values = values;
        }
        if let Some(interrupts) = interrupts {
            self.interrupts = interrupts;
        }
        self.updated_at = now;
    }

    /// Whether the record matches `query`'s metadata, ids and status (not its order or
    /// paging).
    pub fn matches(&self, query: &ThreadQuery) -> bool {
        query.status.is_none_or(|status| status == self.status)
            && (query.ids.is_empty() || query.ids.contains(&self.thread_id))
            && query
                .metadata
                .iter()
                .all(|(key, value)| self.metadata.get(key) == Some(value))
    }
}

/// A change to a thread's record: each field given replaces the record's, but `metadata`,
/// whose keys are merged into the record's (LangGraph's `PATCH /threads/{id}`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadChange {
    /// Keys to set in the metadata; the others stay.
    pub metadata: Map<String, Value>,
    /// The new status.
    pub status: Option<ThreadStatus>,
    /// The new state.
    pub values: Option<Value>,
    /// The new pending interrupts.
    pub interrupts: Option<Map<String, Value>>,
}

/// Which records [`Checkpointer::search_threads`](super::Checkpointer::search_threads)
/// returns: those whose metadata holds every key of `metadata` with the same value, whose
/// id is one of `ids` and whose status is `status` (each when given); in `sort` order
/// (newest created first by default), `offset` skipped, at most `limit`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadQuery {
    /// Keys the metadata must hold, with these values.
    pub metadata: Map<String, Value>,
    /// The status, if filtered on.
    pub status: Option<ThreadStatus>,
    /// The threads' ids, if filtered on (empty: any).
    pub ids: Vec<String>,
    /// The order (LangGraph's `sort_by` and `sort_order`).
    pub sort: ThreadSort,
    /// At most this many.
    pub limit: usize,
    /// Skips this many first.
    pub offset: usize,
}

impl ThreadQuery {
    /// The records among `records` that match, in the query's order, paged: the one
    /// definition of a search that the stores share.
    pub fn select<'a>(
        &self,
        records: impl IntoIterator<Item = &'a ThreadRecord>,
    ) -> Vec<ThreadRecord> {
        let mut found: Vec<&ThreadRecord> = records
            .into_iter()
            .filter(|record| record.matches(self))
            .collect();
        found.sort_by(|a, b| self.sort.compare(a, b));
        found
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .cloned()
            .collect()
    }
}

/// The order of a thread search: a field, and which way. Ids break ties, so that pages
/// never overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadSort {
    /// The field.
    pub by: ThreadSortBy,
    /// Smallest first; otherwise largest (newest) first, LangGraph's default `desc`.
    pub ascending: bool,
}

/// The field a thread search orders by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThreadSortBy {
    /// When the thread was created (the default).
    #[default]
    CreatedAt,
    /// When its record last changed.
    UpdatedAt,
    /// Its id.
    ThreadId,
    /// Its status's name.
    Status,
}

impl ThreadSortBy {
    /// The field LangGraph's `sort_by` names: `created_at`, `updated_at`, `thread_id` or
    /// `status`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "thread_id" => Self::ThreadId,
            "status" => Self::Status,
            _ => return None,
        })
    }
}

impl ThreadSort {
    fn compare(self, a: &ThreadRecord, b: &ThreadRecord) -> std::cmp::Ordering {
        let by_field = match self.by {
            ThreadSortBy::CreatedAt => a.created_at.cmp(&b.created_at),
            ThreadSortBy::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            ThreadSortBy::ThreadId => std::cmp::Ordering::Equal,
            ThreadSortBy::Status => a.status.as_str().cmp(b.status.as_str()),
        };
        let order = by_field.then_with(|| a.thread_id.cmp(&b.thread_id));
        if self.ascending {
            order
        } else {
            order.reverse()
        }
    }
}
