//! Everything that can go wrong in a call, as one typed error.

use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;

use crate::sse::SseError;
use crate::transport::HttpError;
use crate::wire::ApiError;

/// Why a call to an OpenAI-compatible server failed.
///
/// A stream that fails yields every chunk it decoded first, then one of these, then ends.
/// No variant ever holds the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenAiError {
    /// The client was configured with something unusable (a base URL that is not a URL,
    /// a header value with a newline, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// The server could not be reached.
    #[error("could not reach {url}: {source}")]
    Connect {
        /// The endpoint, without credentials.
        url: String,
        /// What the connection layer reported.
        #[source]
        source: HttpError,
    },

    /// The server answered with an HTTP error status, before any chunk.
    #[error("the server answered HTTP {status}{}: {error}", retried(*attempts))]
    Status {
        /// The status code.
        status: reqwest::StatusCode,
        /// The error body, parsed when it was OpenAI's `{"error": {...}}`, otherwise its
        /// start as the message. Boxed, as in `Api`.
        error: Box<ApiError>,
        /// How many requests were made (more than 1 when the status was retried).
        attempts: u32,
    },

    /// The server reported an error inside the stream (`data: {"error": {...}}`), or as a
    /// JSON body where an event stream was expected.
    #[error("the server reported an error{}: {error}", after_chunks(*chunks))]
    Api {
        /// The error as the server described it. Boxed: every item of a model's stream
        /// is as large as its error type, and errors are rare.
        error: Box<ApiError>,
        /// Chunks with content received before it.
        chunks: u64,
    },

    /// A timeout fired.
    #[error("timed out after {after:?} {phase}")]
    Timeout {
        /// What we were waiting for.
        phase: TimeoutPhase,
        /// The configured limit.
        after: Duration,
    },

    /// The connection broke after the request was sent (a reset, a cut proxy): before
    /// the status line, or mid-stream. Never retried, since the server may already have
    /// been generating the answer.
    #[error("{}", connection_lost(*chunks, source))]
    Transport {
        /// Chunks that carried part of the answer (text or tool-call pieces, and for the
        /// raw stream reasoning or a refusal) received before it; 0 when the connection
        /// broke before the status line. The role-only first chunk does not count.
        chunks: u64,
        /// What the connection layer reported; the I/O error under it says how the
        /// connection was lost.
        #[source]
        source: HttpError,
    },

    /// The body ended cleanly, but before `[DONE]` or a finish reason: the answer is
    /// incomplete.
    #[error("the stream ended after {} without `[DONE]` or a finish reason", count_chunks(*chunks))]
    Truncated {
        /// Chunks with content received before the end.
        chunks: u64,
    },

    /// The response is not a `text/event-stream`.
    #[error("the response is not an event stream (content type {}): {body:?}", content_type.as_deref().unwrap_or("missing"))]
    NotEventStream {
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The start of the body.
        body: String,
    },

    /// The stream is not valid UTF-8.
    #[error("the stream is not valid UTF-8 (line starting at byte {offset})")]
    InvalidUtf8 {
        /// Where the offending line starts in the body.
        offset: u64,
    },

    /// One event is larger than the configured maximum.
    #[error("an event is larger than the limit of {limit} bytes (see `max_event_size`)")]
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },

    /// An event's data is not a `chat.completion.chunk`.
    #[error("chunk {} is not a valid chat.completion.chunk ({source}): {data:?}", chunks + 1)]
    InvalidChunk {
        /// Chunks received before it, with content or not: this one is number
        /// `chunks + 1` of the stream.
        chunks: u64,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
        /// The start of the event's data.
        data: String,
    },
}

impl OpenAiError {
    /// The HTTP status, for [`Status`](Self::Status) errors.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's own description, for errors the server reported.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Status { error, .. } | Self::Api { error, .. } => Some(&**error),
            _ => None,
        }
    }

    pub(crate) fn from_sse(error: SseError, content_type: Option<String>) -> Self {
        match error {
            SseError::InvalidUtf8 { offset } => Self::InvalidUtf8 { offset },
            SseError::TooLarge { limit } => Self::EventTooLarge { limit },
            SseError::NotSse { line } => Self::NotEventStream {
                content_type,
                body: line,
            },
        }
    }
}

/// What a [`OpenAiError::Timeout`] was waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the connection.
    Connect,
    /// The response's status and headers, after the request was sent.
    FirstByte,
    /// The next bytes of a response that had started.
    Idle,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting to the server",
            Self::FirstByte => "waiting for the server to answer",
            Self::Idle => "waiting for the next bytes of the stream",
        })
    }
}

/// How a connection was lost, from the first I/O error in `error`'s chain: a reset or a
/// close says so, where the HTTP client's own message ("error decoding response body")
/// sounds like bad data. Otherwise the innermost cause, the most specific one.
fn connection_lost(chunks: u64, error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = Some(error);
    let mut innermost = error;
    while let Some(error) = source {
        let kind = error.downcast_ref::<std::io::Error>().map(|io| io.kind());
        let lost = match kind {
            Some(ErrorKind::ConnectionReset) => "reset",
            Some(
                ErrorKind::ConnectionAborted | ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe,
            ) => "closed",
            _ => "",
        };
        if !lost.is_empty() {
            return format!(
                "the server {lost} the connection after {}",
                count_chunks(chunks)
            );
        }
        innermost = error;
        source = error.source();
    }
    format!(
        "the connection broke after {}: {innermost}",
        count_chunks(chunks)
    )
}

/// `1 chunk`, `2 chunks`: a user reads these messages.
fn count_chunks(chunks: u64) -> String {
    if chunks == 1 {
        "1 chunk".to_owned()
    } else {
        format!("{chunks} chunks")
    }
}

fn after_chunks(chunks: u64) -> String {
    if chunks > 0 {
        format!(" mid-stream after {}", count_chunks(chunks))
    } else {
        String::new()
    }
}

fn retried(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// The start of `text`, at most `max` bytes, cut on a character boundary.
pub(crate) fn snippet(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut shown = text[..end].to_owned();
    if end < text.len() {
        shown.push_str("...");
    }
    shown
}

#[cfg(test)]
mod tests {
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_streamed_item_is_no_larger_than_its_chunk_needs() {
        // `ChatOpenAI` yields `Result<ChatChunk, OpenAiError>` through several layers: a
        // large error would make every token that large.
        let item = std::mem::size_of::<Result<stategraph_core::ChatChunk, super::OpenAiError>>();
        assert!(item <= 48, "{item} bytes");
    }

    /// An error wrapping another, as the HTTP client's errors wrap hyper's and the I/O
    /// error under it.
    #[derive(Debug)]
    struct Wrapped(
        &'static str,
        Option<Box<dyn std::error::Error + Send + Sync>>,
    );

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    fn chain(io: std::io::Error) -> Wrapped {
        let hyper = Wrapped("error reading a body from connection", Some(Box::new(io)));
        Wrapped("error decoding response body", Some(Box::new(hyper)))
    }

    #[test]
    fn a_lost_connection_says_how_it_was_lost_not_that_the_body_was_bad() {
        use std::io::{Error, ErrorKind};
        let reset = chain(Error::from(ErrorKind::ConnectionReset));
        assert_eq!(
            super::connection_lost(2, &reset),
            "the server reset the connection after 2 chunks"
        );
        for kind in [
            ErrorKind::ConnectionAborted,
            ErrorKind::UnexpectedEof,
            ErrorKind::BrokenPipe,
        ] {
            assert_eq!(
                super::connection_lost(0, &chain(Error::from(kind))),
                "the server closed the connection after 0 chunks",
                "{kind:?}"
            );
        }
        let other = Wrapped(
            "error sending request",
            Some(Box::new(Wrapped(
                "connection closed before message completed",
                None,
            ))),
        );
        assert_eq!(
            super::connection_lost(0, &other),
            "the connection broke after 0 chunks: connection closed before message completed"
        );
    }
}
