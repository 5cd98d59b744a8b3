//! Threads: create, get, update, delete, search, copy; their state, history and state
//! updates.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, ListOptions, ThreadChange, ThreadQuery, ThreadRecord,
    ThreadSort, ThreadSortBy, ThreadStatus,
};
use uuid::Uuid;

use super::Shared;
use crate::auth::layer::Caller;
use crate::error::ApiError;
use crate::registry::Assistant;
use crate::request::{json_kind, parse_body};

/// A thread record as LangGraph's `Thread`.
pub(crate) fn thread_json(record: &ThreadRecord) -> Value {
    json!({
        "thread_id": record.thread_id,
        "created_at": humantime::format_rfc3339_micros(record.created_at).to_string(),
        "updated_at": humantime::format_rfc3339_micros(record.updated_at).to_string(),
        "metadata": record.metadata,
        "status": record.status.as_str(),
        "values": record.values,
        "interrupts": record.interrupts,
        "config": {},
        "error": null,
    })
}

pub(crate) fn not_found(thread_id: &str) -> ApiError {
    ApiError::NotFound(format!("Thread '{thread_id}' not found"))
}

/// The thread's record, or a 404 when there is none or the caller may not see it.
pub(crate) async fn record(
    state: &Shared,
    caller: &Caller,
    thread_id: &str,
) -> Result<ThreadRecord, ApiError> {
    state
        .store
        .get_thread(thread_id)
        .await
        .map_err(ApiError::internal)?
        .filter(|record| caller.sees(record))
        .ok_or_else(|| not_found(thread_id))
}

/// A body that may be empty (the SDKs send none for some calls).
fn body_or_empty<T: serde::de::DeserializeOwned>(
    state: &Shared,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = super::body(body, state.body_limit)?;
    if body.is_empty() {
        parse_body(b"{}")
    } else {
        parse_body(&body)
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum IfExists {
    Raise,
    DoNothing,
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    thread_id: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    if_exists: Option<IfExists>,
    #[serde(default)]
    supersteps: Option<Vec<Value>>,
}

/// `POST /threads`: a new thread, under the id given or a new one. An existing id is a 409
/// (`if_exists=raise`, the default) or the existing thread (`do_nothing`).
pub(crate) async fn create(
    State(state): State<Shared>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: CreateBody = body_or_empty(&state, body)?;
    if body
        .supersteps
        .as_ref()
        .is_some_and(|steps| !steps.is_empty())
    {
        return Err(ApiError::NotImplemented(
            "supersteps: creating a thread with state updates is not served yet".into(),
        ));
    }
    let thread_id = match body.thread_id {
        Some(id) if id.is_empty() => {
            return Err(ApiError::Unprocessable(
                "thread_id: must not be empty".into(),
            ));
        }
        Some(id) => id,
        None => Uuid::new_v4().to_string(),
    };
    let mut metadata = body.metadata.unwrap_or_default();
    caller.own(&mut metadata);
    let record = ThreadRecord::new(thread_id.clone(), metadata);
    let created = state
        .store
        .create_thread(record.clone())
        .await
        .map_err(ApiError::internal)?;
    if created {
        return Ok(Json(thread_json(&record)));
    }
    let exists = || ApiError::Conflict(format!("Thread '{thread_id}' already exists"));
    match body.if_exists.unwrap_or(IfExists::Raise) {
        IfExists::Raise => Err(exists()),
        // Another identity's thread is not handed over; that the id is taken is all it
        // learns.
        IfExists::DoNothing => match self::record(&state, &caller, &thread_id).await {
            Ok(record) => Ok(Json(thread_json(&record))),
            Err(ApiError::NotFound(_)) => Err(exists()),
            Err(error) => Err(error),
        },
    }
}

/// `GET /threads/{id}`.
pub(crate) async fn get(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(thread_json(
        &record(&state, &caller, &thread_id).await?,
    )))
}

#[derive(Deserialize)]
struct PatchBody {
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// `PATCH /threads/{id}`: merges the metadata given into the thread's.
pub(crate) async fn patch(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: PatchBody = body_or_empty(&state, body)?;
    record(&state, &caller, &thread_id).await?;
    let mut metadata = body.metadata.unwrap_or_default();
    caller.own(&mut metadata);
    let change = ThreadChange {
        metadata,
        ..ThreadChange::default()
    };
    let record = state
        .store
        .update_thread(&thread_id, change)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| not_found(&thread_id))?;
    Ok(Json(thread_json(&record)))
}

/// `DELETE /threads/{id}`: the thread, its checkpoints and its record. A thread a run holds
/// is a 409: the run would write to it again. Whether one does is asked of the thread's
/// lease, not its record, so a record left `busy` by a process that died does not keep
/// the thread from being deleted.
pub(crate) async fn delete(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
) -> Result<Response, ApiError> {
    record(&state, &caller, &thread_id).await?;
    // Taken for the delete, which removes the lease with the thread.
    let owner = format!("delete:{}", Uuid::new_v4());
    match state
        .store
        .lock_thread(&thread_id, &owner, std::time::Duration::from_secs(10))
        .await
    {
        Ok(()) => {}
        Err(CheckpointError::ThreadBusy { .. }) => {
            return Err(ApiError::Conflict(format!(
                "Thread '{thread_id}' is busy: a run holds it"
            )));
        }
        Err(error) => return Err(ApiError::internal(error)),
    }
    state
        .store
        .delete_thread(&thread_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct SearchBody {
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    values: Option<Map<String, Value>>,
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: Option<usize>,
    #[serde(default)]
    sort_by: Option<String>,
    #[serde(default)]
    sort_order: Option<String>,
}

/// `POST /threads/search`: by metadata, ids and status, in `sort_by` / `sort_order`
/// (newest created first by default).
pub(crate) async fn search(
    State(state): State<Shared>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: SearchBody = body_or_empty(&state, body)?;
    if body
        .values
        .as_ref()
        .is_some_and(|values| !values.is_empty())
    {
        return Err(ApiError::NotImplemented(
            "values: searching threads by their state is not served yet".into(),
        ));
    }
    let by = match body.sort_by.as_deref() {
        None => ThreadSortBy::default(),
        Some(name) => ThreadSortBy::from_name(name).ok_or_else(|| {
            ApiError::Unprocessable(format!(
                "sort_by: unknown field `{name}`; the fields are `thread_id`, `status`, `created_at`, `updated_at`"
            ))
        })?,
    };
    let ascending = match body.sort_order.as_deref() {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "sort_order: unknown order `{other}`; the orders are `asc`, `desc`"
            )));
        }
    };
    let status = body
        .status
        .map(|name| {
            ThreadStatus::from_name(&name).ok_or_else(|| {
                ApiError::Unprocessable(format!(
                    "status: unknown status `{name}`; the statuses are `idle`, `busy`, `interrupted`, `error`"
                ))
            })
        })
        .transpose()?;
    let Some(metadata) = caller.search_filter(body.metadata.unwrap_or_default()) else {
        return Ok(Json(json!([])));
    };
    let query = ThreadQuery {
        metadata,
        status,
        ids: body.ids.unwrap_or_default(),
        sort: ThreadSort { by, ascending },
        limit: body.limit.unwrap_or(10),
        offset: body.offset.unwrap_or(0),
    };
    let found = state
        .store
        .search_threads(query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Value::Array(found.iter().map(thread_json).collect())))
}

/// `POST /threads/{id}/copy`: a new thread with the same metadata, state and checkpoints.
pub(crate) async fn copy(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let source = record(&state, &caller, &thread_id).await?;
    let now = std::time::SystemTime::now();
    let copy = ThreadRecord {
        thread_id: Uuid::new_v4().to_string(),
        created_at: now,
        updated_at: now,
        status: match source.status {
            // The run holding the source does not hold the copy.
            ThreadStatus::Busy => ThreadStatus::Idle,
            other => other,
        },
        ..source
    };
    let has_checkpoints = !state
        .store
        .list(
            &thread_id,
            "",
            ListOptions {
                limit: Some(1),
                before: None,
            },
        )
        .await
        .map_err(ApiError::internal)?
        .is_empty();
    if has_checkpoints {
        state
            .store
            .copy_thread(&thread_id, &copy.thread_id)
            .await
            .map_err(ApiError::internal)?;
    }
    let created = state
        .store
        .create_thread(copy.clone())
        .await
        .map_err(ApiError::internal)?;
    if !created {
        return Err(ApiError::internal(format!(
            "the copy's new id `{}` already had a record",
            copy.thread_id
        )));
    }
    Ok(Json(thread_json(&copy)))
}

/// The assistant whose graph last ran on the thread (`metadata.graph_id`), if any.
fn graph_of<'a>(state: &'a Shared, record: &ThreadRecord) -> Option<&'a Assistant> {
    record
        .metadata
        .get("graph_id")
        .and_then(Value::as_str)
        .and_then(|graph_id| state.registry.find(graph_id))
}

/// The state of a thread no graph has run on: empty, as LangGraph's server shows it.
fn empty_state(thread_id: &str) -> Value {
    json!({
        "values": {},
        "next": [],
        "checkpoint": {
            "thread_id": thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": null,
            "checkpoint_map": null,
        },
        "metadata": {},
        "created_at": null,
        "parent_checkpoint": null,
        "tasks": [],
        "interrupts": [],
    })
}

fn checkpoint_id(field: &str, id: &str) -> Result<CheckpointId, ApiError> {
    id.parse().map_err(|error| {
        ApiError::Unprocessable(format!("{field}: `{id}` is not a checkpoint id: {error}"))
    })
}

async fn state_at(
    state: &Shared,
    caller: &Caller,
    thread_id: &str,
    at: Option<CheckpointId>,
) -> Result<Json<Value>, ApiError> {
    let record = record(state, caller, thread_id).await?;
    let Some(assistant) = graph_of(state, &record) else {
        return match at {
            None => Ok(Json(empty_state(thread_id))),
            Some(id) => Err(ApiError::NotFound(format!(
                "Thread '{thread_id}' has no checkpoint '{id}'"
            ))),
        };
    };
    let found = assistant
        .graph
        .thread_state(Arc::clone(&state.store), thread_id.to_owned(), at)
        .await?;
    match (found, at) {
        (Some(found), _) => Ok(Json(found)),
        (None, None) => Ok(Json(empty_state(thread_id))),
        (None, Some(id)) => Err(ApiError::NotFound(format!(
            "Thread '{thread_id}' has no checkpoint '{id}'"
        ))),
    }
}

/// `GET /threads/{id}/state`: the newest checkpoint's state.
pub(crate) async fn get_state(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state_at(&state, &caller, &thread_id, None).await
}

/// `GET /threads/{id}/state/{checkpoint_id}`.
pub(crate) async fn get_state_at(
    State(state): State<Shared>,
    caller: Caller,
    Path((thread_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = checkpoint_id("checkpoint_id", &id)?;
    state_at(&state, &caller, &thread_id, Some(id)).await
}

#[derive(Deserialize)]
struct CheckpointBody {
    #[serde(default)]
    checkpoint_id: Option<String>,
    #[serde(default)]
    checkpoint_ns: Option<String>,
}

#[derive(Deserialize)]
struct StateAtBody {
    checkpoint: CheckpointBody,
}

/// `POST /threads/{id}/state/checkpoint`: the state at `{"checkpoint": {...}}`.
pub(crate) async fn post_state_at(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: StateAtBody = body_or_empty(&state, body)?;
    if body
        .checkpoint
        .checkpoint_ns
        .as_deref()
        .is_some_and(|ns| !ns.is_empty())
    {
        return Err(ApiError::NotImplemented(
            "checkpoint.checkpoint_ns: a subgraph's state is not served yet".into(),
        ));
    }
    let id = body
        .checkpoint
        .checkpoint_id
        .map(|id| checkpoint_id("checkpoint.checkpoint_id", &id))
        .transpose()?;
    state_at(&state, &caller, &thread_id, id).await
}

#[derive(Deserialize)]
struct UpdateStateBody {
    #[serde(default)]
    values: Option<Value>,
    #[serde(default)]
    as_node: Option<String>,
    #[serde(default)]
    checkpoint_id: Option<String>,
    #[serde(default)]
    checkpoint: Option<Value>,
}

/// `POST /threads/{id}/state`: LangGraph's `update_state`, on the newest checkpoint or,
/// given one, on an older checkpoint (a fork there).
pub(crate) async fn update_state(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: UpdateStateBody = body_or_empty(&state, body)?;
    let at = update_at(body.checkpoint_id.as_deref(), body.checkpoint.as_ref())?;
    let record = record(&state, &caller, &thread_id).await?;
    let assistant = graph_of(&state, &record).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "Thread '{thread_id}' has no graph yet: run it once before updating its state"
        ))
    })?;
    let answer = assistant
        .graph
        .update_state(
            Arc::clone(&state.store),
            thread_id,
            body.values.unwrap_or(Value::Null),
            body.as_node,
            at,
        )
        .await?;
    Ok(Json(answer))
}

/// The checkpoint an update forks from, as the SDKs name it: `checkpoint_id`, or
/// `checkpoint: {"checkpoint_id", "checkpoint_ns"}`; none for the newest.
fn update_at(
    given_id: Option<&str>,
    checkpoint: Option<&Value>,
) -> Result<Option<CheckpointId>, ApiError> {
    if let Some(id) = given_id {
        return checkpoint_id("checkpoint_id", id).map(Some);
    }
    let fields = match checkpoint {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(fields)) => fields,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "checkpoint: expected an object with a `checkpoint_id`, got {}",
                json_kind(other)
            )));
        }
    };
    if fields
        .get("checkpoint_ns")
        .and_then(Value::as_str)
        .is_some_and(|ns| !ns.is_empty())
    {
        return Err(ApiError::NotImplemented(
            "checkpoint.checkpoint_ns: updating a subgraph's state is not served yet".into(),
        ));
    }
    match fields.get("checkpoint_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => checkpoint_id("checkpoint.checkpoint_id", id).map(Some),
        Some(other) => Err(ApiError::Unprocessable(format!(
            "checkpoint.checkpoint_id: expected a string, got {}",
            json_kind(other)
        ))),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Before {
    Id(String),
    Checkpoint(CheckpointBody),
}

#[derive(Deserialize)]
struct HistoryBody {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    before: Option<Before>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    checkpoint: Option<CheckpointBody>,
}

/// `POST /threads/{id}/history`: the states of its checkpoints, newest first; with
/// `metadata`, those whose metadata holds each of its keys with the same value.
pub(crate) async fn history(
    State(state): State<Shared>,
    caller: Caller,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: HistoryBody = body_or_empty(&state, body)?;
    if body
        .checkpoint
        .as_ref()
        .and_then(|c| c.checkpoint_ns.as_deref())
        .is_some_and(|ns| !ns.is_empty())
    {
        return Err(ApiError::NotImplemented(
            "checkpoint.checkpoint_ns: a subgraph's history is not served yet".into(),
        ));
    }
    let before = match body.before {
        None => None,
        Some(Before::Id(id)) => Some(checkpoint_id("before", &id)?),
        Some(Before::Checkpoint(checkpoint)) => checkpoint
            .checkpoint_id
            .map(|id| checkpoint_id("before.checkpoint_id", &id))
            .transpose()?,
    };
    let record = record(&state, &caller, &thread_id).await?;
    let Some(assistant) = graph_of(&state, &record) else {
        return Ok(Json(json!([])));
    };
    let states = assistant
        .graph
        .thread_history(
            Arc::clone(&state.store),
            thread_id,
            ListOptions {
                limit: Some(body.limit.unwrap_or(10)),
                before,
            },
            body.metadata.unwrap_or_default(),
        )
        .await?;
    Ok(Json(Value::Array(states)))
}
