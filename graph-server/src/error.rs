//! The errors of a request, as the client sees them, and of serving itself.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What went wrong starting or running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Two graphs were registered under one graph id.
    #[error("graph id `{graph_id}` is registered twice; each graph needs its own id")]
    DuplicateGraph {
        /// The id given twice.
        graph_id: String,
    },
    /// A graph was registered under an empty graph id.
    #[error("a graph id must not be empty")]
    EmptyGraphId,
    /// An origin given to [`Server::cors_origins`](crate::Server::cors_origins) is not
    /// one: a scheme (`http` or `https`), a host and maybe a port, without a path or a
    /// trailing `/`.
    #[error(
        "CORS origin `{origin}` is not an origin like `https://app.example.com` or `http://localhost:3000`"
    )]
    CorsOrigin {
        /// The origin, as given.
        origin: String,
    },
    /// The address could not be bound.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address, as given.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("serving failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The store could not be read or written before serving (resetting threads a
    /// stopped server left busy).
    #[error("the thread store failed before serving: {0}")]
    Store(#[source] stategraph_core::checkpoint::CheckpointError),
}

/// The message an internal error shows clients; the detail goes to the server's log only.
pub(crate) const INTERNAL_ERROR: &str = "An internal error occurred";

/// An error answered before a run's stream starts: a status and `{"detail": ...}`, as
/// LangGraph's server answers.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The body is not JSON at all.
    #[error("{0}")]
    BadRequest(String),
    /// An id that names nothing.
    #[error("{0}")]
    NotFound(String),
    /// No credentials, or wrong ones.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that may not use the server.
    #[error("{0}")]
    Forbidden(String),
    /// The caller has as many runs in flight as it may.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        /// When to try again, in seconds (`Retry-After`).
        retry_after: u32,
    },
    /// The body exceeds the limit.
    #[error("the request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The thread is busy, or already exists.
    #[error("{0}")]
    Conflict(String),
    /// JSON of the wrong shape: the message names the field.
    #[error("{0}")]
    Unprocessable(String),
    /// Part of the protocol this server does not serve yet.
    #[error("{0}")]
    NotImplemented(String),
    /// A bug or an unexpected failure: logged, never shown.
    #[error("{INTERNAL_ERROR}")]
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs `detail` and returns the masked error.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::Internal
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "detail": self.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::TooManyRequests { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after.into());
        }
        response
    }
}
