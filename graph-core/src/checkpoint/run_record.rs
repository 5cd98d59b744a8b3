//! A run's record: what a server answers `GET /threads/{id}/runs/{run_id}` with (LangGraph's
//! `Run`), kept beside the thread's checkpoints in the same store, so a run started by one
//! process can be listed, joined or found failed by another.

use std::fmt;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// Where a run stands, as LangGraph's `Run.status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Accepted, waiting for its thread (an `enqueue`d run) or for its task to start.
    Pending,
    /// Its task runs.
    Running,
    /// It ran to its end (or stopped on an interrupt the graph asked).
    Success,
    /// It failed, or the process running it ended before it did.
    Error,
    /// It was cancelled, or stopped by a later run (`multitask_strategy=interrupt`).
    Interrupted,
    /// It ran past its deadline.
    Timeout,
}

impl RunStatus {
    /// LangGraph's name: `pending`, `running`, `success`, `error`, `interrupted`, `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Success => "success",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
            Self::Timeout => "timeout",
        }
    }

    /// The status LangGraph names `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "success" => Self::Success,
            "error" => Self::Error,
            "interrupted" => Self::Interrupted,
            "timeout" => Self::Timeout,
            _ => return None,
        })
    }

    /// Whether the run has ended: every status but `pending` and `running`.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run's record, as LangGraph's `Run`.
///
/// ```
/// use stategraph_core::checkpoint::{RunRecord, RunStatus};
///
/// let run = RunRecord::new("run-1", "thread-1", "agent");
/// assert_eq!(run.status, RunStatus::Pending);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// The run.
    pub run_id: String,
    /// The thread it runs on.
    pub thread_id: String,
    /// The assistant it runs.
    pub assistant_id: String,
    /// When the run was accepted.
    pub created_at: SystemTime,
    /// When its record last changed.
    pub updated_at: SystemTime,
    /// Where it stands.
    pub status: RunStatus,
    /// The client's metadata.
    pub metadata: Map<String, Value>,
    /// What it was started with (input or command, stream modes, config...), as LangGraph's
    /// `Run.kwargs`: a JSON object.
    pub kwargs: Map<String, Value>,
    /// What a second run on the busy thread did: `reject`, `interrupt`, `rollback` or
    /// `enqueue`.
    pub multitask_strategy: String,
}

impl RunRecord {
    /// A new pending record, created now, with no metadata or kwargs and the `reject`
    /// strategy.
    pub fn new(
        run_id: impl Into<String>,
        thread_id: impl Into<String>,
        assistant_id: impl Into<String>,
    ) -> Self {
        let now = SystemTime::now();
        Self {
            run_id: run_id.into(),
            thread_id: thread_id.into(),
            assistant_id: assistant_id.into(),
            created_at: now,
            updated_at: now,
            status: RunStatus::Pending,
            metadata: Map::new(),
            kwargs: Map::new(),
            multitask_strategy: "reject".to_owned(),
        }
    }
}

/// Which records [`Checkpointer::list_runs`](super::Checkpointer::list_runs) returns: the
/// thread's runs, with status `status` if given, newest created first, `offset` skipped, at
/// most `limit`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunQuery {
    /// The status, if filtered on.
    pub status: Option<RunStatus>,
    /// At most this many.
    pub limit: usize,
    /// Skips this many first.
    pub offset: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name() {
        for status in [
            RunStatus::Pending,
            RunStatus::Running,
            RunStatus::Success,
            RunStatus::Error,
            RunStatus::Interrupted,
            RunStatus::Timeout,
        ] {
            assert_eq!(RunStatus::from_name(status.as_str()), Some(status));
        }
        assert_eq!(RunStatus::from_name("done"), None);
    }
}
