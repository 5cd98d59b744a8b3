//! The layer that asks the [`Authenticate`] hook about every request, and the [`Caller`]
//! routes read the answer from.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::hook::{AuthRejection, Authenticate, Identity};
use crate::error::ApiError;

/// Paths answered without asking who is asking: the health check a load balancer polls.
const OPEN_PATHS: &[&str] = &["/ok"];

/// Who sent the request: the identity the hook found, or nobody when the server has no
/// hook (every request then shares one scope, as a server without auth does).
#[derive(Clone, Default)]
pub(crate) struct Caller(Option<Arc<Identity>>);

impl Caller {
    /// A request sent by `identity`.
    pub(crate) fn from_identity(identity: Arc<Identity>) -> Self {
        Self(Some(identity))
    }

    /// The identity, when the server authenticates.
    pub(crate) fn identity(&self) -> Option<&Identity> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Authenticates the request and hands it on with its [`Caller`], or answers 401 / 403
/// without running the route.
pub(crate) async fn authenticate(
    State(hook): State<Arc<dyn Authenticate>>,
    request: Request,
    next: Next,
) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    match hook.authenticate(&parts).await {
        Ok(identity) => {
            parts
                .extensions
                .insert(Caller::from_identity(Arc::new(identity)));
            next.run(Request::from_parts(parts, body)).await
        }
        Err(AuthRejection::Unauthorized(message)) => {
            let mut response = ApiError::Unauthorized(message).into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        Err(AuthRejection::Forbidden(message)) => ApiError::Forbidden(message).into_response(),
    }
}
