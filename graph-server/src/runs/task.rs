//! A stored run's life: started now or when its thread is free, driven to its end with each
//! event logged (and handed to the client that started it, while it listens), then its
//! record brought up to date and its thread handed to the next queued run.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value, json};
use stategraph_core::checkpoint::{
    CheckpointError, RunRecord, RunStatus, ThreadChange, ThreadStatus,
};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Runs;
use super::live::{LiveRun, Outcome, Starter};
use super::pump::{Delivery, keep_then_remove, pump};
use crate::error::ApiError;
use crate::quota::RunPermit;
use crate::request::{Begin, CancelAction, Modes};
use crate::served::{RunItems, RunSettings, ServedGraph, ThreadSettings};
use crate::wire::sse;

/// How long a run that stopped another waits for that run to give its thread up.
const LEASE_WAIT: Duration = Duration::from_secs(5);

/// What a run is started with.
pub(crate) struct Start {
    pub(crate) graph: Arc<dyn ServedGraph>,
    pub(crate) graph_id: String,
    pub(crate) assistant_id: Uuid,
    pub(crate) begin: Begin,
    pub(crate) settings: RunSettings,
    pub(crate) thread: ThreadSettings,
}

/// Where a run's events go and what its record holds.
pub(crate) struct Launch {
    pub(crate) run: Arc<LiveRun>,
    pub(crate) record: RunRecord,
    pub(crate) modes: Modes,
    /// The events the starting client reads carry ids (`stream_resumable`).
    pub(crate) resumable: bool,
    /// The starting client's batches, when it streams.
    pub(crate) direct: Option<mpsc::Sender<Bytes>>,
    /// Another run held the thread: wait for its lease before starting.
    pub(crate) after_another: bool,
    /// The run's place in its caller's quota, given back when the run's task ends.
    pub(crate) permit: RunPermit,
}

/// What starts the run when its turn comes: `start` then drive it in its own task.
pub(crate) fn starter(runs: Arc<Runs>, start: Start, launch: Launch) -> Starter {
    Box::new(move || {
        Box::pin(async move {
            // A failed start is in the run's record; nobody waits for it.
            let _ = start_run(runs, start, launch).await;
        })
    })
}

/// Starts the run and spawns its task. A run that cannot start (a wrong input, a thread
/// another process holds) ends here: its record says `error`, its log ends, and the error
/// is returned for the client that waits for the start, if any.
pub(crate) async fn start_run(
    runs: Arc<Runs>,
    start: Start,
    mut launch: Launch,
) -> Result<(), ApiError> {
    let Start {
        graph,
        graph_id,
        assistant_id,
        begin,
        settings,
        thread,
    } = start;
    let thread_id = thread.thread_id.clone();
    if launch.after_another {
        wait_for_lease(&runs, &thread_id, launch.run.run_id).await;
    }
    let items = match graph.start_on_thread(begin, settings, thread).await {
        Ok(items) => items,
        Err(error) => {
            if let Some(direct) = launch.direct.take() {
                let mut out = BytesMut::new();
                let json = json!({ "error": "StartError", "message": error.to_string() });
                sse::frame(&mut out, "error", &[], json.to_string().as_bytes());
                // The client that waits for the start gets the error as its answer.
                let _ = direct.try_send(out.freeze());
            }
            let outcome = Outcome {
                status: RunStatus::Error,
                last_values: None,
                error: None,
            };
            end_run(&runs, &launch.run, launch.record, outcome).await;
            return Err(error);
        }
    };
    // The run holds the thread and has not been polled yet: it cannot have ended (and
    // written its outcome) before the record says busy.
    let mut metadata = Map::new();
    metadata.insert("graph_id".into(), json!(graph_id));
    metadata.insert("assistant_id".into(), json!(assistant_id));
    let busy = ThreadChange {
        metadata,
        status: Some(ThreadStatus::Busy),
        ..ThreadChange::default()
    };
    if let Err(error) = runs.store.update_thread(&thread_id, busy).await {
        tracing::error!(%error, thread = thread_id, "could not mark the thread busy");
    }
    tokio::spawn(drive(runs, launch, items));
    Ok(())
}

/// Waits until no run holds the thread's lease: a run stopped for this one gives it up in
/// the background. After [`LEASE_WAIT`] the start goes on and meets the holder's 409.
async fn wait_for_lease(runs: &Runs, thread_id: &str, run_id: Uuid) {
    let probe = format!("probe:{run_id}");
    let deadline = tokio::time::Instant::now() + LEASE_WAIT;
    loop {
        match runs
            .store
            .lock_thread(thread_id, &probe, Duration::from_secs(1))
            .await
        {
            Ok(()) => {
                if let Err(error) = runs.store.unlock_thread(thread_id, &probe).await {
                    tracing::error!(%error, thread = thread_id, "could not give a probe lease up");
                }
                return;
            }
            Err(CheckpointError::ThreadBusy { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(_) => return,
        }
    }
}

/// Runs to the end, its events logged and batched to the starting client while it listens;
/// then its record and its thread brought up to date.
async fn drive(runs: Arc<Runs>, launch: Launch, items: RunItems) {
    let Launch {
        run,
        mut record,
        modes,
        resumable,
        direct,
        after_another: _,
        permit: _permit,
    } = launch;
    record.status = RunStatus::Running;
    record.updated_at = SystemTime::now();
    if let Err(error) = runs.store.put_run(record.clone()).await {
        tracing::error!(%error, run = record.run_id, "could not store a run's record");
    }
    let pumped = pump(
        &*runs.log,
        run.run_id,
        items,
        Delivery {
            modes,
            resumable,
            direct,
            stop: run.stop_signal(),
        },
    )
    .await;
    let status = match (pumped.error.is_some(), run.stopped()) {
        (true, _) => RunStatus::Error,
        (false, Some(_)) => RunStatus::Interrupted,
        (false, None) => RunStatus::Success,
    };
    let outcome = Outcome {
        status,
        last_values: pumped.last_values,
        error: pumped.error,
    };
    end_run(&runs, &run, record, outcome).await;
    // The starting client's stream ends only now, with the thread free: a client that
    // starts its next run the moment the stream ends is not told the thread is busy.
    drop(pumped.direct);
}

/// Writes the run's final record (or deletes it, rolled back), ends its log, keeps the log
/// joinable a while, and hands the thread to the next queued run.
async fn end_run(runs: &Arc<Runs>, run: &Arc<LiveRun>, mut record: RunRecord, outcome: Outcome) {
    if run.stopped() == Some(CancelAction::Rollback) {
        if let Err(error) = runs.store.delete_run(&run.thread_id, &record.run_id).await {
            tracing::error!(%error, run = record.run_id, "could not delete a rolled back run");
        }
    } else {
        record.status = outcome.status;
        record.updated_at = SystemTime::now();
        if let Err(error) = runs.store.put_run(record).await {
            tracing::error!(%error, run = %run.run_id, "could not store a run's record");
        }
    }
    keep_then_remove(&runs.log, run.run_id, || {});
    if let Some(next) = runs.live.finish(run, outcome) {
        // Its errors end it and are in its record: nobody waits for its start.
        tokio::spawn(next());
    }
}

/// Cancels a live run: one still queued ends without starting; a running one is told to
/// stop, and its task ends it.
pub(crate) async fn cancel(runs: &Arc<Runs>, run: &Arc<LiveRun>, action: CancelAction) {
    run.stop(action);
    if runs.live.unqueue(run) {
        let record = match runs
            .store
            .get_run(&run.thread_id, &run.run_id.to_string())
            .await
        {
            Ok(Some(record)) => record,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(%error, run = %run.run_id, "could not read a queued run's record");
                return;
            }
        };
        let outcome = Outcome {
            status: RunStatus::Interrupted,
            last_values: None,
            error: None,
        };
        end_run(runs, run, record, outcome).await;
    }
}

/// The run's record as LangGraph's `Run`.
pub(crate) fn run_json(record: &RunRecord) -> Value {
    json!({
        "run_id": record.run_id,
        "thread_id": record.thread_id,
        "assistant_id": record.assistant_id,
        "created_at": humantime::format_rfc3339_micros(record.created_at).to_string(),
        "updated_at": humantime::format_rfc3339_micros(record.updated_at).to_string(),
        "status": record.status.as_str(),
        "metadata": record.metadata,
        "kwargs": record.kwargs,
        "multitask_strategy": record.multitask_strategy,
    })
}
