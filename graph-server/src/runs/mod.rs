//! Stored runs: every run on a thread is kept as a record in the thread's store, its events
//! in an event log, and its task in the live runs of this process, so that a client can
//! start it in the background, list it, join it (its events or its result), cancel it, or
//! queue a run behind it. A resumable stateless run keeps its events in the same log, so
//! that it can be joined too.

pub(crate) mod event_log;
pub(crate) mod live;
pub(crate) mod pump;
pub(crate) mod stateless;
pub(crate) mod task;

use std::sync::Arc;
use std::time::Duration;

use stategraph_core::checkpoint::Checkpointer;

use event_log::EventLog;
use live::LiveRuns;
use stateless::KeptRuns;

/// How long a run's events stay joinable after it ended, as LangGraph's server keeps
/// resumable streams.
pub(crate) const KEEP_EVENTS: Duration = Duration::from_secs(120);

/// What the runs of a server share.
pub(crate) struct Runs {
    /// Threads' checkpoints and records, and runs' records.
    pub(crate) store: Arc<dyn Checkpointer>,
    pub(crate) log: Arc<dyn EventLog>,
    pub(crate) live: LiveRuns,
    /// Resumable stateless runs, kept as long as their events.
    pub(crate) stateless: KeptRuns,
}
