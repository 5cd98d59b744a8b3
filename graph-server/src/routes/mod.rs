//! The HTTP routes, one file per resource.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::registry::Registry;

mod assistants;
mod join;
mod meta;
mod runs;
mod thread_runs;
pub(crate) mod threads;

/// What every handler reads.
pub(crate) struct AppState {
    pub(crate) registry: Registry,
    pub(crate) body_limit: usize,
    /// Threads' checkpoints and records.
    pub(crate) store: Arc<dyn stategraph_core::checkpoint::Checkpointer>,
    /// Runs on threads (their records, events and tasks) and resumable stateless runs.
    pub(crate) runs: Arc<crate::runs::Runs>,
    /// Runs in flight per identity.
    pub(crate) quota: Arc<crate::quota::RunQuota>,
}

pub(crate) type Shared = Arc<AppState>;

/// Every route; anything else is a 404 naming the path.
pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/ok", get(meta::ok))
        .route("/info", get(meta::info))
        .route("/assistants/search", post(assistants::search))
        .route("/assistants/{id}", get(assistants::get))
        .route("/assistants/{id}/graph", get(assistants::graph))
        .route("/assistants/{id}/schemas", get(assistants::schemas))
        .route("/runs/stream", post(runs::stream))
        .route("/runs/wait", post(runs::wait))
        .route("/runs/{run_id}/stream", get(runs::join_stream))
        .route("/threads", post(threads::create))
        .route("/threads/search", post(threads::search))
        .route(
            "/threads/{thread_id}",
            get(threads::get)
                .patch(threads::patch)
                .delete(threads::delete),
        )
        .route("/threads/{thread_id}/copy", post(threads::copy))
        .route(
            "/threads/{thread_id}/state",
            get(threads::get_state).post(threads::update_state),
        )
        .route(
            "/threads/{thread_id}/state/checkpoint",
            post(threads::post_state_at),
        )
        .route(
            "/threads/{thread_id}/state/{checkpoint_id}",
            get(threads::get_state_at),
        )
        .route("/threads/{thread_id}/history", post(threads::history))
        .route(
            "/threads/{thread_id}/runs",
            post(thread_runs::create).get(thread_runs::list),
        )
        .route(
            "/threads/{thread_id}/runs/stream",
            post(thread_runs::stream),
        )
        .route("/threads/{thread_id}/runs/wait", post(thread_runs::wait))
        .route(
            "/threads/{thread_id}/runs/{run_id}",
            get(thread_runs::get).delete(thread_runs::delete),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/cancel",
            post(thread_runs::cancel_run),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/join",
            get(thread_runs::join),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/stream",
            get(thread_runs::join_stream),
        )
        .fallback(meta::not_found)
        .with_state(state)
}

/// The body, or a 413 when it exceeds the limit (the limit layer rejects a declared length
/// itself; a streamed body that runs over ends here).
pub(crate) fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::BadRequest(format!("the body could not be read: {rejection}"))
        }
    })
}

/// The limit layer answers a declared oversized body with plain text before any handler
/// runs; clients get the same `{"detail"}` JSON as for every other error.
pub(crate) async fn json_413(response: Response, limit: usize) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        ApiError::PayloadTooLarge { limit }.into_response()
    } else {
        response
    }
}
