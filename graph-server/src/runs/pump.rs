//! A run's events on their way out: each appended to the run's log, and batched, with its
//! id when the run is resumable, to the client that started it while that client reads.
//! Stored runs and resumable stateless runs both go through here, so a join reads the same
//! log whichever started it.

use std::sync::Arc;

use bytes::{BufMut as _, Bytes, BytesMut};
use futures::{FutureExt as _, StreamExt as _};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::KEEP_EVENTS;
use super::event_log::{EventLog, LoggedEvent};
use crate::request::{CancelAction, Modes};
use crate::run::{Batches, take_batch};
use crate::served::{RunFailure, RunItem, RunItems};
use crate::wire::events::{EventEncoder, client_error};
use crate::wire::sse;

/// Where a run's events go besides its log.
pub(crate) struct Delivery {
    pub(crate) modes: Modes,
    /// The events the starting client reads carry ids (`stream_resumable`).
    pub(crate) resumable: bool,
    /// The starting client's batches, when it streams.
    pub(crate) direct: Option<mpsc::Sender<Bytes>>,
    /// A stop asked while the client is slow to read goes through at once.
    pub(crate) stop: watch::Receiver<Option<CancelAction>>,
}

/// What the items said of the run's end, and the starting client's channel if it still
/// reads (dropped by the caller when the client may see the end).
pub(crate) struct Pumped {
    /// The last state it streamed (values, or the state with its interrupts), as JSON.
    pub(crate) last_values: Option<String>,
    /// `{"error", "message"}` when it failed.
    pub(crate) error: Option<Value>,
    pub(crate) direct: Option<mpsc::Sender<Bytes>>,
}

/// Runs to the end: the `metadata` event, then each item's events appended to the log and,
/// while the starting client listens, batched to it. The run does not wait for joiners; it
/// waits for the starting client only as long as that client reads.
pub(crate) async fn pump(
    log: &dyn EventLog,
    run_id: Uuid,
    mut items: RunItems,
    delivery: Delivery,
) -> Pumped {
    let Delivery {
        modes,
        resumable,
        mut direct,
        mut stop,
    } = delivery;
    let mut encoder = EventEncoder::new(modes);
    let mut ended = Ended::default();
    let mut entry = BytesMut::new();
    let mut out = BytesMut::new();
    EventEncoder::metadata(&mut entry, run_id);
    log_entry(
        log,
        run_id,
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
                    log_entry(log, run_id, &mut entry, listening, resumable);
                }
                Some(None) => done = true,
                None => break,
            }
        }
        if let Some(sender) = &direct
            && !out.is_empty()
        {
            let batch = take_batch(&mut out);
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
                log_entry(log, run_id, &mut entry, listening, resumable);
            }
            None => done = true,
        }
    }
    Pumped {
        last_values: ended.last_values,
        error: ended.error,
        direct,
    }
}

/// Ends the run's log, keeps it joinable for [`KEEP_EVENTS`], then removes it and calls
/// `forget` (what else was kept for its joins).
pub(crate) fn keep_then_remove(
    log: &Arc<dyn EventLog>,
    run_id: Uuid,
    forget: impl FnOnce() + Send + 'static,
) {
    log.end(run_id);
    let log = Arc::clone(log);
    tokio::spawn(async move {
        tokio::time::sleep(KEEP_EVENTS).await;
        log.remove(run_id);
        forget();
    });
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
    log: &dyn EventLog,
    run_id: Uuid,
    entry: &mut BytesMut,
    out: Option<&mut BytesMut>,
    with_id: bool,
) {
    if entry.is_empty() {
        return;
    }
    let frames = entry.split().freeze();
    let id = log.append(run_id, frames.clone());
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
