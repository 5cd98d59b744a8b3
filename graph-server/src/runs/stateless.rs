//! Stateless runs whose events are kept (`stream_resumable: true` on `POST /runs/stream`):
//! no thread and no record, but a log like a stored run's, so the client that started one
//! may join it at `GET /runs/{run_id}/stream` (as LangGraph's JS server and SDK do),
//! replaying after `Last-Event-ID`, until the log is removed [`KEEP_EVENTS`] after the end.
//!
//! [`KEEP_EVENTS`]: super::KEEP_EVENTS

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures::StreamExt as _;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::Runs;
use super::pump::{Delivery, keep_then_remove, pump};
use crate::request::{CancelAction, Modes};
use crate::served::RunItems;

/// One kept stateless run: who started it, and how it is told to stop.
pub(crate) struct KeptRun {
    /// The identity that started it; `None` on a server without authentication.
    owner: Option<String>,
    stop: watch::Sender<Option<CancelAction>>,
}

impl KeptRun {
    /// Whether the caller of identity `identity` may join it: only its owner, as a
    /// thread's runs are only its owner's.
    pub(crate) fn visible_to(&self, identity: Option<&str>) -> bool {
        self.owner.as_deref() == identity
    }

    /// Stops the run (a client that leaves with `on_disconnect` or `cancel_on_disconnect`
    /// asking it): its items end, and its log with them.
    pub(crate) fn stop(&self) {
        self.stop.send_if_modified(|asked| {
            let first = asked.is_none();
            if first {
                *asked = Some(CancelAction::Interrupt);
            }
            first
        });
    }
}

/// The kept stateless runs of this process, by run id, as long as their logs are kept.
#[derive(Default)]
pub(crate) struct KeptRuns {
    runs: Mutex<HashMap<Uuid, Arc<KeptRun>>>,
}

impl KeptRuns {
    fn runs(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<KeptRun>>> {
        // Each change is one insert or remove: a poisoned map is whole.
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The kept run `run_id`, while its log is kept.
    pub(crate) fn get(&self, run_id: Uuid) -> Option<Arc<KeptRun>> {
        self.runs().get(&run_id).cloned()
    }
}

/// Keeps run `run_id` (started by `owner`), opens its log and drives it in a task of its
/// own: its events are logged and batched, with their ids, to `direct` while the starting
/// client reads. Returns the run, to stop it when that client leaves.
pub(crate) fn start(
    runs: &Arc<Runs>,
    owner: Option<String>,
    run_id: Uuid,
    items: RunItems,
    modes: Modes,
    direct: mpsc::Sender<Bytes>,
) -> Arc<KeptRun> {
    let run = Arc::new(KeptRun {
        owner,
        stop: watch::Sender::new(None),
    });
    // Opened before the response is sent, so a join that comes at once finds the log.
    runs.log.open(run_id);
    runs.stateless.runs().insert(run_id, Arc::clone(&run));
    let mut stopped = run.stop.subscribe();
    // A stop ends the items: the graph's stream is dropped, closing its model requests.
    let items = items
        .take_until(async move {
            // The sender lives in the kept run, which outlives the items.
            let _ = stopped.wait_for(Option::is_some).await;
        })
        .boxed();
    let delivery = Delivery {
        modes,
        resumable: true,
        direct: Some(direct),
        stop: run.stop.subscribe(),
    };
    let runs = Arc::clone(runs);
    tokio::spawn(async move {
        let pumped = pump(&*runs.log, run_id, items, delivery).await;
        let forget = Arc::clone(&runs);
        keep_then_remove(&runs.log, run_id, move || {
            forget.stateless.runs().remove(&run_id);
        });
        // Its client's stream ends once the log has: a join started then ends too.
        drop(pumped.direct);
    });
    run
}
