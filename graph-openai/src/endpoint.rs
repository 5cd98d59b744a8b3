//! One configured server, and sending a request to it: the retries, the waits between
//! them, the client's retry budget, and reading an error body.

use reqwest::header::HeaderMap;

use crate::error::{OpenAiError, TimeoutPhase, snippet};
use crate::retry::{Budget, Failure, RetryPolicy};
use crate::timeouts::Timeouts;
use crate::transport::{Response, SendError, Target, Transport};
use crate::wire::{ApiError, ErrorEnvelope};

/// Everything a request to one server needs, built once by the client's builder and
/// shared by every clone of the client and every stream it starts.
pub(crate) struct Endpoint {
    pub(crate) transport: Transport,
    pub(crate) target: Target,
    /// The base URL as the user gave it, minus any credentials, for errors.
    pub(crate) shown_url: String,
    /// Every request's headers, the credentials among them (marked sensitive).
    pub(crate) headers: HeaderMap,
    pub(crate) has_key: bool,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    /// Shared by every clone, as the budget is per client.
    pub(crate) budget: Option<Budget>,
    pub(crate) max_event_size: usize,
}

impl Endpoint {
    /// Sends `body`, retrying what [`RetryPolicy::retry_delay`] allows and the budget
    /// has room for, and returns the first successful response.
    pub(crate) async fn send(&self, body: Vec<u8>) -> Result<Response, OpenAiError> {
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
        let body = bytes::Bytes::from(body);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .transport
                .send(&self.target, &self.headers, body.clone(), &self.timeouts)
                .await;
            let headers;
            let (error, failure) = match sent {
                Err(SendError::FirstByteTimeout) => {
                    let error = OpenAiError::Timeout {
                        phase: TimeoutPhase::FirstByte,
                        after: self.timeouts.first_byte,
                    };
                    (error, Failure::FirstByteTimeout)
                }
                // A request that could not even be built fails the same way every time.
                Err(SendError::Invalid(message)) => return Err(OpenAiError::Config(message)),
                Err(SendError::ConnectTimeout) => {
                    let error = OpenAiError::Timeout {
                        phase: TimeoutPhase::Connect,
                        after: self.timeouts.connect,
                    };
                    (error, Failure::NotConnected)
                }
                // DNS, refused, TLS handshake: the request never left.
                Err(SendError::Connect(source)) => {
                    let error = OpenAiError::Connect {
                        url: self.shown_url.clone(),
                        source,
                    };
                    (error, Failure::NotConnected)
                }
                // Reset or closed before the status line: the server may be generating.
                Err(SendError::AfterSent(source)) => {
                    let error = OpenAiError::Transport { chunks: 0, source };
                    (error, Failure::LostAfterSending)
                }
                Ok(response) if response.status.is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status;
                    headers = response.headers.clone();
                    let error = OpenAiError::Status {
                        status,
                        error: Box::new(self.error_body(response).await),
                        attempts: attempt,
                    };
                    (error, Failure::Status(status, &headers))
                }
            };
            self.retry_wait(attempt, failure, error).await?;
        }
    }

    /// Waits before attempt `attempt + 1`, or returns `error` when the request is not to be
    /// sent again: the policy says no, or the client's retry budget is spent.
    async fn retry_wait(
        &self,
        attempt: u32,
        failure: Failure<'_>,
        error: OpenAiError,
    ) -> Result<(), OpenAiError> {
        let Some(wait) = self.retry.retry_delay(attempt - 1, failure) else {
            return Err(error);
        };
        if self
            .budget
            .as_ref()
            .is_some_and(|budget| !budget.try_withdraw())
        {
            tracing::warn!(
                url = %self.shown_url,
                attempt,
                "not retrying a chat completion, the client's retry budget is spent: {error}"
            );
            return Err(error);
        }
        tracing::warn!(
            url = %self.shown_url,
            attempt,
            wait_ms = wait.as_millis() as u64,
            "retrying a chat completion: {error}"
        );
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// The error an HTTP error response describes: OpenAI's envelope when the body is one,
    /// otherwise the start of the body as the message. Reading it is bounded in time and
    /// size, since an error must not hang or flood us.
    async fn error_body(&self, response: Response) -> ApiError {
        parse_error_body(&self.read_capped(response).await)
    }

    /// Reads a body that is not a stream (an error, a JSON answer where a stream was
    /// expected): at most 64 KiB and within the idle timeout, since it must not hang or
    /// flood us.
    pub(crate) async fn read_capped(&self, response: Response) -> Vec<u8> {
        use futures::StreamExt;
        const MAX_BODY: usize = 64 << 10;
        let mut stream = response.body;
        let mut body = Vec::new();
        let read = async {
            while let Some(Ok(bytes)) = stream.next().await {
                body.extend_from_slice(&bytes);
                if body.len() >= MAX_BODY {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(self.timeouts.idle, read).await;
        body
    }
}

/// OpenAI's `{"error": {...}}` when `body` is one, otherwise its start as the message.
pub(crate) fn parse_error_body(body: &[u8]) -> ApiError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) => envelope.error,
        Err(_) => ApiError {
            message: snippet(String::from_utf8_lossy(body).trim(), 500),
            ..ApiError::default()
        },
    }
}
