//! Runs on a thread, each stored: `POST /threads/{id}/runs` (in the background),
//! `/runs/stream`, `/runs/wait`; and the stored runs: list, get, delete, cancel, join (its
//! result or its events).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::{Map, Value, json};
use stategraph_core::checkpoint::{RunQuery, RunRecord, RunStatus, ThreadRecord};
use uuid::Uuid;

use super::Shared;
use super::join::{Join, flag};
use super::runs::{run_metadata, run_path, sse_response};
use super::threads::{not_found, record as thread_record};
use crate::auth::layer::Caller;
use crate::error::ApiError;
use crate::request::{CancelAction, Modes, OnDisconnect, RunRequest};
use crate::run::{OnDrop, RunBody, batches};
use crate::runs::live::{Claim, LiveRun};
use crate::runs::task::{Launch, Start, cancel, run_json, start_run, starter};
use crate::served::{RunSettings, ThreadSettings};

/// How the client that starts a run takes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Stream,
    Wait,
    Background,
}

/// An accepted run: started, or queued behind its thread's runs.
struct Accepted {
    run: Arc<LiveRun>,
    record: RunRecord,
    on_disconnect: OnDisconnect,
    /// The starting client's events, when it streams.
    events: Option<futures::stream::BoxStream<'static, Bytes>>,
}

/// Checks the request, stores the run's record and starts the run, or queues it, as its
/// multitask strategy says when another run holds the thread. What can be refused is
/// refused before a status line is sent: for a run started now, that includes its input.
async fn accept(
    state: &Shared,
    caller: &Caller,
    thread_id: String,
    body: Result<Bytes, BytesRejection>,
    delivery: Delivery,
) -> Result<Accepted, ApiError> {
    let body = super::body(body, state.body_limit)?;
    let mut request = RunRequest::parse_stateful(&body)?;
    let assistant = state.registry.find(&request.assistant_id).ok_or_else(|| {
        ApiError::NotFound(format!("Assistant '{}' not found", request.assistant_id))
    })?;
    let fields = request
        .thread
        .take()
        .ok_or_else(|| ApiError::internal("a thread run's request has no thread fields"))?;
    let existing = state
        .store
        .get_thread(&thread_id)
        .await
        .map_err(ApiError::internal)?;
    match existing {
        Some(record) if !caller.sees(&record) => return Err(not_found(&thread_id)),
        Some(_) => {}
        None if !fields.create => return Err(not_found(&thread_id)),
        None => {
            let mut metadata = Map::new();
            caller.own(&mut metadata);
            let created = state
                .store
                .create_thread(ThreadRecord::new(thread_id.clone(), metadata))
                .await
                .map_err(ApiError::internal)?;
            // Another request created it at the same moment: it is the caller's only if
            // that request was the caller's.
            if !created {
                thread_record(state, caller, &thread_id).await?;
            }
        }
    }
    let permit = state.quota.take(caller)?;
    let run_id = Uuid::new_v4();
    let modes = match delivery {
        Delivery::Stream => request.modes,
        // The result is the last state: values carry it.
        Delivery::Wait | Delivery::Background => Modes {
            values: true,
            ..request.modes
        },
    };
    let metadata = run_metadata(&request, assistant, run_id, Some(&thread_id));
    let mut record = RunRecord::new(
        run_id.to_string(),
        thread_id.clone(),
        assistant.assistant_id.to_string(),
    );
    record.metadata = request.metadata.clone();
    record.kwargs = match serde_json::from_slice(&body) {
        Ok(Value::Object(kwargs)) => kwargs,
        _ => Map::new(),
    };
    record.multitask_strategy = request.multitask.as_str().to_owned();
    let run = LiveRun::new(run_id, thread_id.clone());
    let (direct, events) = match delivery {
        Delivery::Stream => {
            let (sender, events) = batches();
            (Some(sender), Some(events))
        }
        Delivery::Wait | Delivery::Background => (None, None),
    };
    let start = Start {
        graph: Arc::clone(&assistant.graph),
        graph_id: assistant.graph_id.clone(),
        assistant_id: assistant.assistant_id,
        begin: fields.begin,
        settings: RunSettings {
            run_id,
            modes,
            subgraphs: request.subgraphs,
            config: request.config,
            metadata,
        },
        thread: ThreadSettings {
            store: Arc::clone(&state.store),
            thread_id: thread_id.clone(),
            interrupt_before: fields.interrupt_before,
            interrupt_after: fields.interrupt_after,
            checkpoint_id: fields.checkpoint_id,
            durability: fields.durability,
            stop: Some(run.stop_signal()),
        },
    };
    let launch = Launch {
        run: Arc::clone(&run),
        record: record.clone(),
        modes,
        resumable: request.resumable,
        direct,
        after_another: false,
        permit,
    };
    state.runs.log.open(run_id);
    let strategy = request.multitask;
    let runs = Arc::clone(&state.runs);
    let mut pending = Some((start, launch));
    let claim = state.runs.live.claim(&run, strategy, || {
        match pending.take() {
            Some((start, mut launch)) => {
                launch.after_another = true;
                starter(Arc::clone(&runs), start, launch)
            }
            // Asked for once only, when the run is queued.
            None => Box::new(|| Box::pin(async {})),
        }
    });
    if matches!(claim, Claim::Busy) {
        state.runs.log.remove(run_id);
        return Err(ApiError::Conflict(format!(
            "Thread '{thread_id}' is busy: a run holds it (multitask_strategy `reject`)"
        )));
    }
    state
        .store
        .put_run(record.clone())
        .await
        .map_err(ApiError::internal)?;
    if let Some((start, mut queued_launch)) = pending.take() {
        if let Claim::After(previous, action) = &claim {
            cancel(&state.runs, previous, *action).await;
            previous.ended().await;
            queued_launch.after_another = true;
        }
        start_run(Arc::clone(&state.runs), start, queued_launch).await?;
    }
    Ok(Accepted {
        run,
        record,
        on_disconnect: request.on_disconnect,
        events,
    })
}

/// What the client's going away does: with `on_disconnect=cancel`, cancel the run.
fn on_drop(state: &Shared, run: &Arc<LiveRun>, on_disconnect: OnDisconnect) -> Option<OnDrop> {
    if on_disconnect != OnDisconnect::Cancel {
        return None;
    }
    let runs = Arc::clone(&state.runs);
    let run = Arc::clone(run);
    Some(Box::new(move || {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { cancel(&runs, &run, CancelAction::Interrupt).await });
        }
    }))
}

/// `POST /threads/{id}/runs/stream`: a run on the thread, its events as server-sent events.
pub(crate) async fn stream(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let accepted = accept(&state, &caller, thread_id.clone(), body, Delivery::Stream).await?;
    let events = accepted
        .events
        .ok_or_else(|| ApiError::internal("a streamed run has no events"))?;
    let body = RunBody::new(
        None,
        events,
        on_drop(&state, &accepted.run, accepted.on_disconnect),
    );
    sse_response(body, Some(&thread_id), accepted.run.run_id)
}

/// `POST /threads/{id}/runs/wait`: a run on the thread; its final state, with
/// `"__interrupt__"` when it stopped on interrupts, or `{"__error__"}` when it failed.
pub(crate) async fn wait(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let accepted = accept(&state, &caller, thread_id.clone(), body, Delivery::Wait).await?;
    // Dropped with this future when the client goes away.
    let guard = CancelOnDrop(on_drop(&state, &accepted.run, accepted.on_disconnect));
    let outcome = accepted.run.ended().await;
    guard.disarm();
    let body = match (&outcome.error, &outcome.last_values) {
        (Some(error), _) => json!({ "__error__": error }).to_string(),
        (None, Some(state)) => state.clone(),
        (None, None) => "null".to_owned(),
    };
    with_location(
        ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        &thread_id,
        accepted.run.run_id,
    )
}

/// `POST /threads/{id}/runs`: a run in the background; its record at once.
pub(crate) async fn create(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let accepted = accept(
        &state,
        &caller,
        thread_id.clone(),
        body,
        Delivery::Background,
    )
    .await?;
    with_location(
        Json(run_json(&accepted.record)).into_response(),
        &thread_id,
        accepted.run.run_id,
    )
}

fn with_location(
    mut response: Response,
    thread_id: &str,
    run_id: Uuid,
) -> Result<Response, ApiError> {
    let location =
        HeaderValue::from_str(&run_path(Some(thread_id), run_id)).map_err(ApiError::internal)?;
    response
        .headers_mut()
        .insert(header::CONTENT_LOCATION, location);
    Ok(response)
}

/// Runs `on_drop` if dropped armed.
struct CancelOnDrop(Option<OnDrop>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(on_drop) = self.0.take() {
            on_drop();
        }
    }
}

fn run_uuid(run_id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(run_id).map_err(|_| run_not_found(run_id))
}

fn run_not_found(run_id: &str) -> ApiError {
    ApiError::NotFound(format!("Run '{run_id}' not found"))
}

/// The run's record, or a 404 when there is none or the caller may not see its thread.
async fn run_record(
    state: &Shared,
    caller: &Caller,
    thread_id: &str,
    run_id: &str,
) -> Result<RunRecord, ApiError> {
    thread_record(state, caller, thread_id).await?;
    state
        .store
        .get_run(thread_id, run_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| run_not_found(run_id))
}

/// A query parameter as a number, or a 422 naming it.
fn number(query: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    query.get(name).map_or(Ok(default), |text| {
        text.parse().map_err(|_| {
            ApiError::Unprocessable(format!("{name}: expected a whole number, got `{text}`"))
        })
    })
}

/// `GET /threads/{id}/runs?limit=&offset=&status=`: the thread's runs, newest first.
pub(crate) async fn list(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    thread_record(&state, &caller, &thread_id).await?;
    let status = query
        .get("status")
        .map(|name| {
            RunStatus::from_name(name).ok_or_else(|| {
                ApiError::Unprocessable(format!(
                    "status: unknown status `{name}`; the statuses are `pending`, `running`, `success`, `error`, `interrupted`, `timeout`"
                ))
            })
        })
        .transpose()?;
    let query = RunQuery {
        status,
        limit: number(&query, "limit", 10)?,
        offset: number(&query, "offset", 0)?,
    };
    let runs = state
        .store
        .list_runs(&thread_id, query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Value::Array(runs.iter().map(run_json).collect())))
}

/// `GET /threads/{id}/runs/{run_id}`.
pub(crate) async fn get(
    State(state): State<Shared>,
    caller: Caller,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(run_json(
        &run_record(&state, &caller, &thread_id, &run_id).await?,
    )))
}

/// `DELETE /threads/{id}/runs/{run_id}`: a run that has ended; a live one is a 409.
pub(crate) async fn delete(
    State(state): State<Shared>,
    caller: Caller,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    run_record(&state, &caller, &thread_id, &run_id).await?;
    if state.runs.live.get(run_uuid(&run_id)?).is_some() {
        return Err(ApiError::Conflict(format!(
            "Run '{run_id}' has not ended: cancel it first"
        )));
    }
    state
        .store
        .delete_run(&thread_id, &run_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /threads/{id}/runs/{run_id}/cancel?wait=&action=interrupt|rollback`: stops the
/// run (202), or with `wait=1` stops it and answers once it has ended.
pub(crate) async fn cancel_run(
    State(state): State<Shared>,
    caller: Caller,
    Path((thread_id, run_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let wait = flag(&query, "wait")?;
    let action = match query.get("action").map(String::as_str) {
        None | Some("interrupt") => CancelAction::Interrupt,
        Some("rollback") => CancelAction::Rollback,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "action: unknown action `{other}`; the actions are `interrupt`, `rollback`"
            )));
        }
    };
    let record = run_record(&state, &caller, &thread_id, &run_id).await?;
    let Some(run) = state.runs.live.get(run_uuid(&run_id)?) else {
        return Err(ApiError::Conflict(format!(
            "Run '{run_id}' has ended (status `{}`): there is nothing to cancel",
            record.status
        )));
    };
    cancel(&state.runs, &run, action).await;
    if wait {
        run.ended().await;
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /threads/{id}/runs/{run_id}/join`: waits for the run's end; the thread's state
/// then, or `{"__error__"}` when the run failed.
pub(crate) async fn join(
    State(state): State<Shared>,
    caller: Caller,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    run_record(&state, &caller, &thread_id, &run_id).await?;
    if let Some(run) = state.runs.live.get(run_uuid(&run_id)?) {
        let outcome = run.ended().await;
        if let Some(error) = &outcome.error {
            return Ok(Json(json!({ "__error__": error })).into_response());
        }
    }
    let thread = thread_record(&state, &caller, &thread_id).await?;
    Ok(Json(thread.values).into_response())
}

/// `GET /threads/{id}/runs/{run_id}/stream`: the run's events as server-sent events, from
/// after `Last-Event-ID` (`-1`: all kept), or only those to come without it; then live
/// until the run ends, only those of the modes named by `stream_mode` (repeated for
/// several) when it is given. With `cancel_on_disconnect=true`, leaving cancels the run.
pub(crate) async fn join_stream(
    State(state): State<Shared>,
    caller: Caller,
    Path((thread_id, run_id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    run_record(&state, &caller, &thread_id, &run_id).await?;
    let join = Join::parse(pairs, &headers)?;
    let uuid = run_uuid(&run_id)?;
    let cancel_on_disconnect = if join.cancel_on_disconnect {
        OnDisconnect::Cancel
    } else {
        OnDisconnect::Continue
    };
    // No log: its events are no longer kept, it ended a while ago.
    let events = join
        .events(&*state.runs.log, uuid)
        .unwrap_or_else(|| futures::stream::empty().boxed());
    let on_drop = state
        .runs
        .live
        .get(uuid)
        .and_then(|run| on_drop(&state, &run, cancel_on_disconnect));
    sse_response(RunBody::new(None, events, on_drop), Some(&thread_id), uuid)
}
