//! `GET /ok`, `GET /info`, and the answer to every other path.

use axum::Json;
use axum::http::Uri;
use serde_json::{Value, json};

use crate::error::ApiError;

/// `GET /ok`: the server is up.
pub(crate) async fn ok() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// `GET /info`: the version and what is served, as LangGraph's `flags` tell clients.
pub(crate) async fn info() -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "server": "stategraph-server",
        "flags": { "assistants": true, "crons": false, "langsmith": false, "threads": true },
    }))
}

/// Any other path, stored runs included until they are served.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    let path = uri.path();
    if path.starts_with("/threads") || path.starts_with("/runs/") {
        ApiError::NotFound(format!(
            "{path}: stored runs (background runs, join, cancel) are not served yet; runs stream at POST /threads/{{id}}/runs/stream and POST /runs/stream"
        ))
    } else {
        ApiError::NotFound(format!("{path}: no such endpoint"))
    }
}
