//! The typed stream of one completion: HTTP body → SSE events → `chat.completion.chunk`s,
//! with the rules that make a cut or broken stream an error instead of a quiet end.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use crate::client::{ClientInner, parse_error_body};
use crate::error::snippet;
use crate::sse::{SseDecoder, SseEvent};
use crate::wire::ChatCompletionChunk;
use crate::{OpenAiError, TimeoutPhase};

/// The chunks of one streamed completion, as the server sent them.
///
/// It ends after `[DONE]` (or a clean end of body after a finish reason). Anything else
/// (an HTTP error, an in-band error, a cut connection, a body that ends early, bytes that
/// are not SSE) is one [`OpenAiError`] item after every chunk decoded before it. Dropping
/// the stream closes the connection.
#[must_use = "a stream does nothing until polled"]
pub struct ChunkStream {
    inner: BoxStream<'static, Result<ChatCompletionChunk, OpenAiError>>,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream").finish_non_exhaustive()
    }
}

impl Stream for ChunkStream {
    type Item = Result<ChatCompletionChunk, OpenAiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

enum State {
    Start {
        client: Arc<ClientInner>,
        body: Result<Vec<u8>, OpenAiError>,
    },
    Reading(Box<Reader>),
    Ended,
}

impl ChunkStream {
    pub(crate) fn new(client: Arc<ClientInner>, body: Result<Vec<u8>, OpenAiError>) -> Self {
        let inner = futures::stream::unfold(State::Start { client, body }, |state| async move {
            let mut reader = match state {
                State::Ended => return None,
                State::Reading(reader) => reader,
                State::Start { client, body } => match start(&client, body).await {
                    Ok(reader) => reader,
                    Err(error) => return Some((Err(error), State::Ended)),
                },
            };
            match reader.next().await {
                Some(Ok(chunk)) => Some((Ok(chunk), State::Reading(reader))),
                Some(Err(error)) => Some((Err(error), State::Ended)),
                None => None,
            }
        });
        Self {
            // Fused: polling again after the end returns `None` instead of panicking.
            inner: Box::pin(inner.fuse()),
        }
    }
}

/// Sends the request and checks that what came back can be an event stream.
async fn start(
    client: &ClientInner,
    body: Result<Vec<u8>, OpenAiError>,
) -> Result<Box<Reader>, OpenAiError> {
    let response = client.send(body?).await?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if content_type
        .as_deref()
        .is_some_and(|ct| ct.starts_with("application/json"))
    {
        // A 200 with a JSON body: a server that ignored `stream`, or one that reports
        // errors this way. Either way it is not the stream we asked for.
        let body = tokio::time::timeout(client.timeouts.idle, response.bytes())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let error = parse_error_body(&body);
        return Err(if error.kind.is_some() || error.code.is_some() {
            OpenAiError::Api { error, chunks: 0 }
        } else {
            OpenAiError::NotEventStream {
                content_type,
                body: snippet(&String::from_utf8_lossy(&body), 200),
            }
        });
    }
    Ok(Box::new(Reader {
        response,
        decoder: SseDecoder::new(client.max_event_size),
        idle: client.timeouts.idle,
        content_type,
        chunks: 0,
        finished: false,
        body_ended: false,
    }))
}

struct Reader {
    response: reqwest::Response,
    decoder: SseDecoder,
    idle: std::time::Duration,
    content_type: Option<String>,
    /// Chunks yielded so far, for error messages.
    chunks: u64,
    /// A choice carried a finish reason: the answer is complete even without `[DONE]`.
    finished: bool,
    body_ended: bool,
}

// A `Step` lives for one call on the stack; boxing the chunk would cost an allocation per
// chunk on the hot path.
#[allow(clippy::large_enum_variant)]
enum Step {
    Chunk(ChatCompletionChunk),
    Done,
    Skip,
}

impl Reader {
    async fn next(&mut self) -> Option<Result<ChatCompletionChunk, OpenAiError>> {
        loop {
            match self.decoder.next_event() {
                Err(error) => return Some(Err(self.sse_error(error))),
                Ok(Some(event)) => match self.handle(&event) {
                    Ok(Step::Chunk(chunk)) => return Some(Ok(chunk)),
                    Ok(Step::Done) => return None,
                    Ok(Step::Skip) => continue,
                    Err(error) => return Some(Err(error)),
                },
                Ok(None) => {}
            }
            if self.body_ended {
                return (!self.finished).then_some(Err(OpenAiError::Truncated {
                    chunks: self.chunks,
                }));
            }
            match tokio::time::timeout(self.idle, self.response.chunk()).await {
                Err(_) => {
                    return Some(Err(OpenAiError::Timeout {
                        phase: TimeoutPhase::Idle,
                        after: self.idle,
                    }));
                }
                Ok(Err(error)) => {
                    return Some(Err(OpenAiError::Transport {
                        chunks: self.chunks,
                        source: error.without_url(),
                    }));
                }
                Ok(Ok(Some(bytes))) => self.decoder.push(&bytes),
                Ok(Ok(None)) => {
                    self.body_ended = true;
                    if let Some(step) = self.finish_body() {
                        return Some(step);
                    }
                }
            }
        }
    }

    /// The body ended: an event left without its closing blank line still counts, unless
    /// its last line was cut, in which case the answer is truncated.
    fn finish_body(&mut self) -> Option<Result<ChatCompletionChunk, OpenAiError>> {
        let finished = match self.decoder.finish() {
            Ok(finished) => finished,
            Err(error) => return Some(Err(self.sse_error(error))),
        };
        let event = finished.event?;
        match self.handle(&event) {
            Ok(Step::Chunk(chunk)) => Some(Ok(chunk)),
            Ok(Step::Done) => {
                self.finished = true;
                None
            }
            Ok(Step::Skip) => None,
            Err(OpenAiError::InvalidChunk { .. }) if finished.cut_mid_line => {
                Some(Err(OpenAiError::Truncated {
                    chunks: self.chunks,
                }))
            }
            Err(error) => Some(Err(error)),
        }
    }

    fn handle(&mut self, event: &SseEvent) -> Result<Step, OpenAiError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.finished = true;
            return Ok(Step::Done);
        }
        if data.is_empty() {
            return Ok(Step::Skip);
        }
        if event.event.as_deref() == Some("error") {
            return Err(OpenAiError::Api {
                error: parse_error_body(data.as_bytes()),
                chunks: self.chunks,
            });
        }
        let mut chunk: ChatCompletionChunk =
            serde_json::from_str(data).map_err(|source| OpenAiError::InvalidChunk {
                chunks: self.chunks,
                source,
                data: snippet(data, 200),
            })?;
        if let Some(error) = chunk.error.take() {
            return Err(OpenAiError::Api {
                error,
                chunks: self.chunks,
            });
        }
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.finished = true;
        }
        self.chunks += 1;
        Ok(Step::Chunk(chunk))
    }

    fn sse_error(&self, error: crate::sse::SseError) -> OpenAiError {
        OpenAiError::from_sse(error, self.content_type.clone())
    }
}
