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

/// Any other path.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("{}: no such endpoint", uri.path()))
}
