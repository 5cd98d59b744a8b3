//! A stored run's life: started now or when its thread is free, driven to its end with each
//! event logged (and handed to the client that started it, while it listens), then its
//! record brought up to date and its thread handed to the next queued run.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{BufMut as _, Bytes, BytesMut};
use futures::{FutureExt as _, StreamExt as _};
use serde_json::{Map, Value, json};
use stategraph_core::checkpoint::{
    CheckpointError, RunRecord, RunStatus, ThreadChange, ThreadStatus,
};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Runs;
use super::event_log::LoggedEvent;
use super::live::{LiveRun, Outcome, Starter};
use crate::error::ApiError;
use crate::quota::RunPermit;
use crate::request::{Begin, CancelAction, Modes};
use crate::run::{Batches, take_batch};
use crate::served::{RunFailure, RunItem, RunItems, RunSettings, ServedGraph, ThreadSettings};
use crate::wire::events::{EventEncoder, client_error};
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

/// Runs to the end: each item's events appended to the log and, while the starting client
/// listens, batched to it. The run does not wait for joiners; it waits for the starting
/// client only as long as that client reads.
async fn drive(runs: Arc<Runs>, launch: Launch, mut items: RunItems) {
    let Launch {
        run,
        mut record,
        modes,
        resumable,
        mut direct,
        after_another: _,
        permit: _permit,
    } = launch;
    record.status = RunStatus::Running;
    record.updated_at = SystemTime::now();
    if let Err(error) = runs.store.put_run(record.clone()).await {
        tracing::error!(%error, run = record.run_id, "could not store a run's record");
    }
    let mut stop = run.stop_signal();
    let mut encoder = EventEncoder::new(modes);
    let mut ended = Ended::default();
    let mut entry = BytesMut::new();
    let mut out = BytesMut::new();
    EventEncoder::metadata(&mut entry, run.run_id);
    log_entry(
        &runs,
        &run,
        &mut entry,
        direct.is_some().then_some(&mut out),
        resumable,
    );
    let mut done = false;
    let mut batches = Batches::new();
    loop {
        // Whatever is ready joins the batch (the metadata event first of all).
        while !done && !batches.full(out.len()) {
            match items.next().now_or_never() {
                Some(Some(item)) => {
                    done = ended.encode(&mut encoder, item, &mut entry);
                    if direct.is_some() {
                        batches.make_room(&mut out);
                    }
                    let listening = direct.is_some().then_some(&mut out);
                    log_entry(&runs, &run, &mut entry, listening, resumable);
                }
                Some(None) => done = true,
                None => break,
            }
        }
        if let Some(sender) = &direct
            && !out.is_empty()
        {
            let batch = take_batch(&mut out);
            // A stop while the client is slow to read goes through at once.
            let sent = tokio::select! {
                biased;
                sent = sender.send(batch) => sent.is_ok(),
                _ = stop.wait_for(Option::is_some) => false,
            };
            if !sent {
                direct = None;
            }
            if !done {
                batches.handed_over().await;
            }
        }
        out.clear();
        if done {
            break;
        }
        // Nothing is ready: wait for the run.
        match items.next().await {
            Some(item) => {
                done = ended.encode(&mut encoder, item, &mut entry);
                let listening = direct.is_some().then_some(&mut out);
                log_entry(&runs, &run, &mut entry, listening, resumable);
            }
            None => done = true,
        }
    }
    let status = match (ended.error.is_some(), run.stopped()) {
        (true, _) => RunStatus::Error,
        (false, Some(_)) => RunStatus::Interrupted,
        (false, None) => RunStatus::Success,
    };
    let outcome = Outcome {
        status,
        last_values: ended.last_values,
        error: ended.error,
    };
    end_run(&runs, &run, record, outcome).await;
    // The starting client's stream ends only now, with the thread free: a client that
    // starts its next run the moment the stream ends is not told the thread is busy.
    drop(direct);
}

/// What the items so far say of the run's end.
#[derive(Default)]
struct Ended {
    last_values: Option<String>,
    error: Option<Value>,
}

impl Ended {
    /// Encodes one item into `out`; returns whether the run has ended (failed).
    fn encode(
        &mut self,
        encoder: &mut EventEncoder,
        item: Result<RunItem, RunFailure>,
        out: &mut BytesMut,
    ) -> bool {
        let failure = match item {
            Ok(item) => {
                match &item {
                    RunItem::Values(state)
                    | RunItem::Interrupt {
                        values: Some(state),
                        ..
                    } => self.last_values = Some(state.clone()),
                    _ => {}
                }
                match encoder.item(item, out) {
                    Ok(()) => return false,
                    Err(error) => RunFailure::Serialize(error),
                }
            }
            Err(failure) => failure,
        };
        let error = client_error(&failure);
        sse::frame(out, "error", &[], error.to_string().as_bytes());
        self.error = Some(error);
        true
    }
}

/// Appends the event in `entry` to the run's log and, when the starting client listens, to
/// its batch `out` (with its id when `with_id`).
fn log_entry(
    runs: &Runs,
    run: &LiveRun,
    entry: &mut BytesMut,
    out: Option<&mut BytesMut>,
    with_id: bool,
) {
    if entry.is_empty() {
        return;
    }
    let frames = entry.split().freeze();
    let id = runs.log.append(run.run_id, frames.clone());
    if let Some(out) = out {
        if with_id {
            put_with_id(out, &(id, frames));
        } else {
            out.put_slice(&frames);
        }
    }
}

/// Writes a logged event with `id:` in its last frame, so a client that reconnects names
/// the last event it got whole.
pub(crate) fn put_with_id(out: &mut BytesMut, (id, frames): &LoggedEvent) {
    // Each frame ends with its blank line, "\r\n\r\n": the id goes before the blank line.
    let body = frames.strip_suffix(b"\r\n").unwrap_or(frames);
    out.put_slice(body);
    out.put_slice(b"id: ");
    out.put_slice(id.to_string().as_bytes());
    out.put_slice(b"\r\n\r\n");
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
    runs.log.end(run.run_id);
    let log = Arc::clone(&runs.log);
    let run_id = run.run_id;
    tokio::spawn(async move {
        tokio::time::sleep(super::KEEP_EVENTS).await;
        log.remove(run_id);
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::event_log::EventId;

    #[test]
    fn the_id_goes_in_the_last_frame_before_its_blank_line() {
        let mut out = BytesMut::new();
        let frames = Bytes::from_static(b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n");
        put_with_id(&mut out, &(EventId { millis: 5, seq: 1 }, frames));
        assert_eq!(
            &out[..],
            b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\nid: 5-1\r\n\r\n"
        );
    }
}
