//! Sending one request and reading its streamed body: the only place that knows how bytes
//! reach the server.
//!
//! The direct transport ([`direct`]) speaks HTTP/1.1 through hyper's low-level connection
//! API and drives the connection from inside the body stream, so every frame of a streamed
//! answer is read on the thread that reads the stream: no connection task on another
//! worker, no cross-thread wake-up per event. Idle connections wait in a small pool for
//! keep-alive. When the user brings their own `reqwest::Client`, or a proxy is configured
//! through the environment, requests go through reqwest instead ([`fallback`]), which
//! knows proxies and HTTP/2.
//!
//! The boundary is one call: [`Transport::send`] returns the status, the headers and a body
//! stream, or a [`SendError`] that says how far the request got, which is what decides
//! whether sending it again can duplicate it.

mod direct;
mod fallback;
mod pool;
mod target;
mod tls;

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::timeouts::Timeouts;

pub(crate) use target::Target;

/// What the connection layer reported when a request could not be sent or its body could
/// not be read: a refused or reset connection, a TLS failure, a malformed response.
///
/// The source of [`OpenAiError::Connect`](crate::OpenAiError::Connect) and
/// [`OpenAiError::Transport`](crate::OpenAiError::Transport). It never holds the URL's
/// credentials or a header's value.
///
/// ```
/// use stategraph_openai::{HttpError, OpenAiError};
///
/// fn cause(error: &OpenAiError) -> Option<&HttpError> {
///     match error {
///         OpenAiError::Connect { source, .. } | OpenAiError::Transport { source, .. } => Some(source),
///         _ => None,
///     }
/// }
/// ```
pub struct HttpError {
    // Boxed: the error travels inside every streamed item's `Result`.
    inner: Box<dyn StdError + Send + Sync>,
}

impl HttpError {
    pub(crate) fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            inner: error.into(),
        }
    }
}

impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        // hyper's errors keep the useful part ("connection refused") in their cause.
        if let Some(cause) = self.inner.source() {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl StdError for HttpError {
    // The wrapped error, so that its chain (down to the I/O error that says whether the
    // connection was reset or closed) can be walked.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.inner)
    }
}

/// How far a request got before it failed: what decides whether it may be sent again.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The request could not be built; sending it again fails the same way.
    Invalid(String),
    /// No connection could be opened: the request was never sent.
    Connect(HttpError),
    /// Opening the connection took longer than the connect timeout: never sent.
    ConnectTimeout,
    /// The request was written, or may have been, and no response head came back.
    AfterSent(HttpError),
    /// The request was written and the response head did not come within the first-byte
    /// timeout.
    FirstByteTimeout,
}

/// How requests reach the server.
pub(crate) enum Transport {
    Direct(direct::Direct),
    Reqwest(reqwest::Client),
}

impl Transport {
    /// The direct transport for `target`; its TLS configuration is built here, once.
    pub(crate) fn direct(target: &Target) -> Result<Self, String> {
        Ok(Self::Direct(direct::Direct::new(target)?))
    }

    /// Sends `body` as a POST to `target` with `headers`, and waits for the response head.
    pub(crate) async fn send(
        &self,
        target: &Target,
        headers: &HeaderMap,
        body: Bytes,
        timeouts: &Timeouts,
    ) -> Result<Response, SendError> {
        match self {
            Self::Direct(direct) => direct.send(target, headers, body, timeouts).await,
            Self::Reqwest(client) => fallback::send(client, target, headers, body, timeouts).await,
        }
    }
}

/// A response whose head has arrived; its body is read as a stream.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

/// The body of a [`Response`], as the bytes arrive. Dropping it before its end closes the
/// connection; reading it to the end hands a kept-alive connection back to the pool.
// The direct body is large, but it lives inside the boxed reader of a chunk stream:
// boxing it again would add a pointer chase to every read of the hot path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Body {
    Direct(direct::DirectBody),
    Reqwest(Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>),
}

impl Body {
    /// Tells the body that the reader has the whole answer: only the body's end should
    /// follow, and it is worth reading it to keep the connection.
    pub(crate) fn expect_end(&mut self) {
        if let Self::Direct(body) = self {
            body.expect_end();
        }
    }
}

impl Stream for Body {
    type Item = Result<Bytes, HttpError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut() {
            Self::Direct(body) => body.poll_next(cx),
            Self::Reqwest(body) => body.as_mut().poll_next(cx).map(|item| {
                item.map(|read| read.map_err(|error| HttpError::new(error.without_url())))
            }),
        }
    }
}
