//! The authentication hook: what a user's binary gives the server to tell who sends a
//! request, as LangGraph's `@auth.authenticate` does.

use std::fmt;

use axum::http::request::Parts;
use futures::future::BoxFuture;

/// Who sent a request, as the [`Authenticate`] hook found: the threads and runs it creates
/// are its own, and no other identity sees them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    id: String,
}

impl Identity {
    /// An identity named `id`: a user id, an account, a tenant. Threads record it as their
    /// `owner` metadata, as LangGraph's auth recipe does.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }

    /// The identity's name.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Identity").field(&self.id).finish()
    }
}

/// Why a request was refused. The message is the client's to read: it must not hold the
/// secret that was presented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No credentials, or credentials nobody holds: answered 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that are known but may not use this server: answered 403.
    #[error("{0}")]
    Forbidden(String),
}

/// Turns a request into an [`Identity`], or refuses it. Asked before every route but
/// `GET /ok`; a route never runs for a refused request.
///
/// ```
/// use futures::future::BoxFuture;
/// use stategraph_server::auth::{AuthRejection, Authenticate, Identity};
///
/// /// Trusts a gateway in front of the server that puts the user in `x-user`.
/// struct GatewayUser;
///
/// impl Authenticate for GatewayUser {
///     fn authenticate<'a>(
///         &'a self,
///         request: &'a axum::http::request::Parts,
///     ) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
///         Box::pin(async move {
///             request
///                 .headers
///                 .get("x-user")
///                 .and_then(|value| value.to_str().ok())
///                 .map(Identity::new)
///                 .ok_or_else(|| AuthRejection::Unauthorized("x-user: missing".into()))
///         })
///     }
/// }
/// ```
pub trait Authenticate: Send + Sync + 'static {
    /// The identity sending `request` (its method, URI and headers; the body is not read).
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>>;
}
