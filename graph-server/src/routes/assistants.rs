//! The assistants: one system assistant per registered graph.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Shared;
use crate::error::ApiError;
use crate::registry::Assistant;
use crate::request::parse_body;

fn find<'a>(state: &'a Shared, id: &str) -> Result<&'a Assistant, ApiError> {
    state
        .registry
        .find(id)
        .ok_or_else(|| ApiError::NotFound(format!("Assistant '{id}' not found")))
}

/// `GET /assistants/{id}`, by assistant id or graph id.
pub(crate) async fn get(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let assistant = find(&state, &id)?;
    serde_json::to_value(assistant.json())
        .map(Json)
        .map_err(ApiError::internal)
}

/// `GET /assistants/{id}/graph`: LangGraph's graph JSON.
pub(crate) async fn graph(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let assistant = find(&state, &id)?;
    serde_json::to_value(assistant.graph.description())
        .map(Json)
        .map_err(ApiError::internal)
}

/// `GET /assistants/{id}/schemas`: the state's schema serves as input, output and state
/// schema, since a graph's input and output are its state.
pub(crate) async fn schemas(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let assistant = find(&state, &id)?;
    let schema = assistant.graph.state_schema();
    Ok(Json(json!({
        "graph_id": assistant.graph_id,
        "input_schema": schema,
        "output_schema": schema,
        "state_schema": schema,
        "config_schema": null,
        "context_schema": null,
    })))
}

/// The body of `POST /assistants/search`; sorting is by registration order.
#[derive(Deserialize)]
struct SearchBody {
    #[serde(default)]
    graph_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: Option<usize>,
}

/// `POST /assistants/search`: filtered by graph id, name and metadata.
pub(crate) async fn search(
    State(state): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = super::body(body, state.body_limit)?;
    let search: SearchBody = if body.is_empty() {
        parse_body(b"{}")?
    } else {
        parse_body(&body)?
    };
    let metadata = Assistant::metadata();
    let matches_metadata = |wanted: &Map<String, Value>| {
        wanted
            .iter()
            .all(|(key, value)| metadata.get(key) == Some(value))
    };
    let found: Vec<Value> = state
        .registry
        .all()
        .iter()
        .filter(|assistant| {
            search
                .graph_id
                .as_ref()
                .is_none_or(|id| *id == assistant.graph_id)
        })
        .filter(|assistant| {
            search
                .name
                .as_ref()
                .is_none_or(|name| *name == assistant.graph_id)
        })
        .filter(|_| search.metadata.as_ref().is_none_or(matches_metadata))
        .skip(search.offset.unwrap_or(0))
        .take(search.limit.unwrap_or(10))
        .map(|assistant| serde_json::to_value(assistant.json()))
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    Ok(Json(Value::Array(found)))
}
