//! Stateless runs: `POST /runs/stream`, `POST /runs/wait`, and the join of a resumable one,
//! `GET /runs/{run_id}/stream`. Runs on a thread are in [`thread_runs`](super::thread_runs).

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Shared;
use super::join::Join;
use crate::auth::layer::Caller;
use crate::error::ApiError;
use crate::registry::Assistant;
use crate::request::{Modes, OnDisconnect, RunRequest};
use crate::run::{OnDrop, RunBody, batches, stream_run, wait_run};
use crate::runs::stateless;
use crate::served::{RunItems, RunSettings};
use crate::wire::events::{EventEncoder, client_error};

/// A started run and what its response needs.
struct Started {
    run_id: Uuid,
    modes: Modes,
    on_disconnect: OnDisconnect,
    items: RunItems,
    /// `stream_resumable`: its events are kept to be joined.
    resumable: bool,
}

/// Checks the request of a stateless run and starts it: everything that can be refused is
/// refused here, before a status line is sent. `modes` overrides the request's.
async fn start(
    state: &Shared,
    caller: &Caller,
    body: Result<Bytes, BytesRejection>,
    modes: Option<Modes>,
) -> Result<Started, ApiError> {
    let body = super::body(body, state.body_limit)?;
    let request = RunRequest::parse(&body)?;
    let assistant = state.registry.find(&request.assistant_id).ok_or_else(|| {
        ApiError::NotFound(format!("Assistant '{}' not found", request.assistant_id))
    })?;
    let run_id = Uuid::new_v4();
    let metadata = run_metadata(&request, assistant, run_id, None);
    let modes = modes.unwrap_or(request.modes);
    let settings = RunSettings {
        run_id,
        modes,
        subgraphs: request.subgraphs,
        config: request.config,
        metadata,
    };
    let permit = state.quota.take(caller)?;
    let items = permit.hold(assistant.graph.start(request.input, settings)?);
    Ok(Started {
        run_id,
        modes,
        on_disconnect: request.on_disconnect,
        items,
        resumable: request.resumable,
    })
}

/// The metadata LangGraph's server puts on a run's items: the client's metadata, the
/// primitive `configurable` values, and the run's ids.
pub(super) fn run_metadata(
    request: &RunRequest,
    assistant: &Assistant,
    run_id: Uuid,
    thread_id: Option<&str>,
) -> Map<String, Value> {
    let mut metadata = request.metadata.clone();
    for (key, value) in request.config.configurable.iter().flatten() {
        let primitive = matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_));
        if primitive && !key.starts_with("__") && key != "api_key" {
            metadata.insert(key.clone(), value.clone());
        }
    }
    metadata.insert("run_id".into(), json!(run_id));
    metadata.insert("thread_id".into(), json!(thread_id));
    metadata.insert("assistant_id".into(), json!(assistant.assistant_id));
    metadata.insert("graph_id".into(), json!(assistant.graph_id));
    metadata.insert("run_attempt".into(), json!(1));
    metadata
}

/// `POST /runs/stream`: the run's events as server-sent events. With `stream_resumable`
/// they carry ids and are kept, for [`join_stream`].
pub(crate) async fn stream(
    State(state): State<Shared>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = start(&state, &caller, body, None).await?;
    if started.resumable {
        return resumable_response(&state, &caller, started);
    }
    stream_response(started)
}

/// The identity a kept run belongs to.
fn owner(caller: &Caller) -> Option<&str> {
    caller.identity().map(|identity| identity.id())
}

/// The response of a resumable run: its events, logged, with their ids. Its client's
/// leaving stops it only with `on_disconnect=cancel`.
fn resumable_response(
    state: &Shared,
    caller: &Caller,
    started: Started,
) -> Result<Response, ApiError> {
    let Started {
        run_id,
        modes,
        on_disconnect,
        items,
        resumable: _,
    } = started;
    let (sender, events) = batches();
    let owner = owner(caller).map(str::to_owned);
    let run = stateless::start(&state.runs, owner, run_id, items, modes, sender);
    let on_drop =
        (on_disconnect == OnDisconnect::Cancel).then(|| Box::new(move || run.stop()) as OnDrop);
    sse_response(RunBody::new(None, events, on_drop), None, run_id)
}

/// `GET /runs/{run_id}/stream`: a resumable stateless run's events, from after
/// `Last-Event-ID` (`-1`: all kept), or only those to come without it; then live until the
/// run ends; only those of the modes `stream_mode` names when given. With
/// `cancel_on_disconnect=true`, leaving cancels the run. A 404 for a run that is not
/// resumable, not the caller's, or whose events are no longer kept.
pub(crate) async fn join_stream(
    State(state): State<Shared>,
    caller: Caller,
    Path(run_id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("Run '{run_id}' not found"));
    let uuid = Uuid::parse_str(&run_id).map_err(|_| not_found())?;
    let run = state
        .runs
        .stateless
        .get(uuid)
        .filter(|run| run.visible_to(owner(&caller)))
        .ok_or_else(not_found)?;
    let join = Join::parse(pairs, &headers)?;
    let events = join.events(&*state.runs.log, uuid).ok_or_else(not_found)?;
    let on_drop = join
        .cancel_on_disconnect
        .then(|| Box::new(move || run.stop()) as OnDrop);
    sse_response(RunBody::new(None, events, on_drop), None, uuid)
}

/// The `/runs/{id}` path of a run, under its thread's when it has one.
pub(super) fn run_path(thread_id: Option<&str>, run_id: Uuid) -> String {
    match thread_id {
        Some(thread_id) => format!("/threads/{thread_id}/runs/{run_id}"),
        None => format!("/runs/{run_id}"),
    }
}

/// SSE headers, and the run's `Location` (its join) and `Content-Location`.
pub(super) fn sse_response(
    body: crate::run::RunBody,
    thread_id: Option<&str>,
    run_id: Uuid,
) -> Result<Response, ApiError> {
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    let location = |path: String| HeaderValue::from_str(&path).map_err(ApiError::internal);
    let path = run_path(thread_id, run_id);
    headers.insert(header::LOCATION, location(format!("{path}/stream"))?);
    headers.insert(header::CONTENT_LOCATION, location(path)?);
    Ok(response)
}

fn stream_response(started: Started) -> Result<Response, ApiError> {
    let Started {
        run_id,
        modes,
        on_disconnect,
        items,
        resumable: _,
    } = started;
    let mut first = BytesMut::new();
    EventEncoder::metadata(&mut first, run_id);
    let body = stream_run(
        items,
        EventEncoder::new(modes),
        first.freeze(),
        on_disconnect,
    );
    sse_response(body, None, run_id)
}

/// `POST /runs/wait`: the final state, or `{"__error__": {"error", "message"}}` when the run
/// fails, as the SDK's `runs.wait` reads it.
pub(crate) async fn wait(
    State(state): State<Shared>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    wait_response(start(&state, &caller, body, Some(Modes::values())).await?).await
}

async fn wait_response(started: Started) -> Result<Response, ApiError> {
    let Started {
        run_id,
        on_disconnect,
        items,
        ..
    } = started;
    let outcome = wait_run(items, on_disconnect)
        .await
        .map_err(ApiError::internal)?;
    let body = match outcome {
        Ok(Some(state)) => state,
        Ok(None) => "null".to_owned(),
        Err(failure) => json!({ "__error__": client_error(&failure) }).to_string(),
    };
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    let location = HeaderValue::from_str(&run_path(None, run_id)).map_err(ApiError::internal)?;
    response
        .headers_mut()
        .insert(header::CONTENT_LOCATION, location);
    Ok(response)
}
