//! The typed stream of one completion: HTTP body → SSE events → `chat.completion.chunk`s,
//! with the rules that make a cut or broken stream an error instead of a quiet end.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::Instant;

use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use serde::de::DeserializeOwned;

use crate::endpoint::{Endpoint, parse_error_body};
use crate::error::{OpenAiError, TimeoutPhase, snippet};
use crate::sse::{SseDecoder, SseError, SseEventRef};
use crate::transport::Body;
use crate::wire::{ApiError, ChatCompletionChunk, DeltaChunk};

/// The chunks of one streamed completion, as the server sent them.
///
/// It ends after `[DONE]` (or a clean end of body after a finish reason). Anything else
/// (an HTTP error, an in-band error, a cut connection, a body that ends early, bytes that
/// are not SSE) is one [`OpenAiError`] item after every chunk decoded before it. Dropping
/// the stream closes the connection.
#[must_use = "a stream does nothing until polled"]
pub struct ChunkStream {
    chunks: Chunks<ChatCompletionChunk>,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream").finish_non_exhaustive()
    }
}

impl ChunkStream {
    pub(crate) fn new(client: Arc<Endpoint>, body: Result<Vec<u8>, OpenAiError>) -> Self {
        Self {
            chunks: Chunks::new(client, body),
        }
    }
}

impl Stream for ChunkStream {
    type Item = Result<ChatCompletionChunk, OpenAiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.chunks.poll_next_unpin(cx)
    }
}

/// What a chunk must offer the reader: whether it carries an in-band error, and whether
/// it ends the answer. Implemented by the public [`ChatCompletionChunk`] and by the leaner
/// [`DeltaChunk`](crate::wire::DeltaChunk) that `ChatOpenAI` decodes.
pub(crate) trait StreamedChunk: DeserializeOwned {
    /// Takes out the in-band error, if the server sent one in place of a chunk.
    fn take_error(&mut self) -> Option<Box<ApiError>>;
    /// Whether a choice carries a finish reason: the answer is then complete.
    fn finishes(&self) -> bool;
    /// Whether it carries part of the answer (text, reasoning, a refusal, tool-call
    /// pieces), unlike the role-only first chunk or a usage-only last one.
    fn carries_content(&self) -> bool;
    /// Reads the answer's id and model from `data`, the JSON it was decoded from, when the
    /// chunk did not keep them; whether it found them, so the stream can stop asking.
    fn read_head(&mut self, _data: &str) -> bool {
        true
    }
}

impl StreamedChunk for ChatCompletionChunk {
    fn take_error(&mut self) -> Option<Box<ApiError>> {
        self.error.take()
    }

    fn finishes(&self) -> bool {
        self.choices.iter().any(|c| c.finish_reason.is_some())
    }

    fn carries_content(&self) -> bool {
        let some = |text: &Option<String>| text.as_deref().is_some_and(|t| !t.is_empty());
        self.choices.iter().any(|choice| {
            let delta = &choice.delta;
            some(&delta.content)
                || some(&delta.reasoning_content)
                || some(&delta.refusal)
                || !delta.tool_calls.is_empty()
        })
    }
}

impl StreamedChunk for DeltaChunk {
    fn take_error(&mut self) -> Option<Box<ApiError>> {
        self.error.take()
    }

    fn finishes(&self) -> bool {
        self.choices.finished
    }

    fn carries_content(&self) -> bool {
        self.choices
            .zero
            .as_ref()
            .is_some_and(|choice| choice.carries_content())
    }

    fn read_head(&mut self, data: &str) -> bool {
        DeltaChunk::read_head(self, data)
    }
}

/// The stream of one completion's chunks, decoded as `T`: the state machine behind
/// [`ChunkStream`] and `ChatOpenAI`.
pub(crate) struct Chunks<T> {
    state: State<T>,
}

enum State<T> {
    /// Sending the request (with its retries) and checking the response.
    Starting(BoxFuture<'static, Result<Box<Reader<T>>, OpenAiError>>),
    /// Decoding the body; polled directly, so a chunk costs no future of its own.
    Reading(Box<Reader<T>>),
    Ended,
}

impl<T: StreamedChunk> Chunks<T> {
    pub(crate) fn new(client: Arc<Endpoint>, body: Result<Vec<u8>, OpenAiError>) -> Self {
        let starting = async move { start(&client, body?).await }.boxed();
        Self {
            state: State::Starting(starting),
        }
    }
}

impl<T: StreamedChunk> Stream for Chunks<T> {
    type Item = Result<T, OpenAiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let State::Starting(starting) = &mut this.state {
            match ready!(starting.as_mut().poll(cx)) {
                Ok(reader) => this.state = State::Reading(reader),
                Err(error) => {
                    this.state = State::Ended;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
        let State::Reading(reader) = &mut this.state else {
            // Ended: polling again after the end keeps returning `None`.
            return Poll::Ready(None);
        };
        let item = ready!(reader.poll_next(cx));
        if !matches!(item, Some(Ok(_))) {
            // After an error or the end, drop the reader: that closes the connection.
            this.state = State::Ended;
        }
        Poll::Ready(item)
    }
}

/// Sends the request and checks that what came back can be an event stream.
async fn start<T>(client: &Endpoint, body: Vec<u8>) -> Result<Box<Reader<T>>, OpenAiError> {
    let response = client.send(body).await?;
    let content_type = response
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if content_type
        .as_deref()
        .is_some_and(|ct| ct.starts_with("application/json"))
    {
        // A 200 with a JSON body: a server that ignored `stream`, or one that reports
        // errors this way. Either way it is not the stream we asked for.
        let body = client.read_capped(response).await;
        let error = parse_error_body(&body);
        return Err(if error.kind.is_some() || error.code.is_some() {
            OpenAiError::Api {
                error: Box::new(error),
                chunks: 0,
            }
        } else {
            OpenAiError::NotEventStream {
                content_type,
                body: snippet(&String::from_utf8_lossy(&body), 200),
            }
        });
    }
    Ok(Box::new(Reader {
        body: response.body,
        decoder: SseDecoder::new(client.max_event_size),
        idle: client.timeouts.idle,
        idle_timer: Box::pin(tokio::time::sleep(client.timeouts.idle)),
        last_read: Instant::now(),
        content_type,
        progress: Progress::default(),
        body_ended: false,
        chunk: PhantomData,
    }))
}

struct Reader<T> {
    body: Body,
    decoder: SseDecoder,
    idle: Duration,
    /// Fires `idle` after the last read; re-armed lazily, only when the body is pending,
    /// so a fast stream does not touch the timer wheel on every read.
    idle_timer: Pin<Box<tokio::time::Sleep>>,
    last_read: Instant,
    content_type: Option<String>,
    progress: Progress,
    body_ended: bool,
    chunk: PhantomData<fn() -> T>,
}

// A `Step` lives for one call on the stack; boxing the chunk would cost an allocation per
// chunk on the hot path.
#[allow(clippy::large_enum_variant)]
enum Step<T> {
    Chunk(T),
    Done,
    Skip,
}

impl<T: StreamedChunk> Reader<T> {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, OpenAiError>>> {
        loop {
            match self.decoder.next_event_ref() {
                Err(error) => return Poll::Ready(Some(Err(self.sse_error(error)))),
                Ok(Some(event)) => match self.progress.handle(event) {
                    Ok(Step::Chunk(chunk)) => return Poll::Ready(Some(Ok(chunk))),
                    Ok(Step::Done) => {
                        self.body.expect_end();
                        return Poll::Ready(None);
                    }
                    Ok(Step::Skip) => continue,
                    Err(error) => return Poll::Ready(Some(Err(error))),
                },
                Ok(None) => {}
            }
            if self.body_ended {
                return Poll::Ready((!self.progress.finished).then_some(Err(
                    OpenAiError::Truncated {
                        chunks: self.progress.chunks,
                    },
                )));
            }
            match Pin::new(&mut self.body).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    self.decoder.push(&bytes);
                    self.last_read = Instant::now();
                }
                // After a finish reason the answer is whole: a server or proxy that then
                // resets the connection has lost nothing of it.
                Poll::Ready(Some(Err(_))) if self.progress.finished => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Some(Err(OpenAiError::Transport {
                        chunks: self.progress.chunks,
                        source: error,
                    })));
                }
                Poll::Ready(None) => {
                    self.body_ended = true;
                    if let Some(step) = self.finish_body() {
                        return Poll::Ready(Some(step));
                    }
                }
                Poll::Pending => {
                    // A huge idle timeout means "never": no deadline to arm.
                    let Some(deadline) = self.last_read.checked_add(self.idle) else {
                        return Poll::Pending;
                    };
                    if self.idle_timer.deadline() != deadline {
                        self.idle_timer.as_mut().reset(deadline);
                    }
                    ready!(self.idle_timer.as_mut().poll(cx));
                    if self.progress.finished {
                        // The answer is whole; a server that stalls before `[DONE]` lost nothing.
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(OpenAiError::Timeout {
                        phase: TimeoutPhase::Idle,
                        after: self.idle,
                    })));
                }
            }
        }
    }

    /// The body ended: an event left without its closing blank line still counts, unless
    /// its last line was cut, in which case the answer is truncated.
    fn finish_body(&mut self) -> Option<Result<T, OpenAiError>> {
        let finished = match self.decoder.finish() {
            Ok(finished) => finished,
            Err(error) => return Some(Err(self.sse_error(error))),
        };
        let event = finished.event?;
        match self.progress.handle(event.as_ref()) {
            Ok(Step::Chunk(chunk)) => Some(Ok(chunk)),
            Ok(Step::Done) => {
                self.progress.finished = true;
                None
            }
            Ok(Step::Skip) => None,
            Err(OpenAiError::InvalidChunk { .. }) if finished.cut_mid_line => {
                Some(Err(OpenAiError::Truncated {
                    chunks: self.progress.chunks,
                }))
            }
            Err(error) => Some(Err(error)),
        }
    }

    fn sse_error(&self, error: SseError) -> OpenAiError {
        OpenAiError::from_sse(error, self.content_type.clone())
    }
}

/// How far the answer got: for error messages, and to tell a complete answer from a cut one.
#[derive(Default)]
struct Progress {
    /// Chunks yielded so far that carried content: what errors report, since the
    /// role-only first chunk is no part of the answer a user would lose.
    chunks: u64,
    /// Chunks yielded so far, with content or not: where an invalid chunk is.
    received: u64,
    /// A choice carried a finish reason (or `[DONE]` came): the answer is complete.
    finished: bool,
    /// The answer's id and model were read, or are not looked for any more: a server that
    /// names no id on the chunks up to the first with content is not asked again.
    head_read: bool,
}

impl Progress {
    fn handle<T: StreamedChunk>(&mut self, event: SseEventRef<'_>) -> Result<Step<T>, OpenAiError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.finished = true;
            return Ok(Step::Done);
        }
        if data.is_empty() {
            return Ok(Step::Skip);
        }
        if event.event == Some("error") {
            return Err(OpenAiError::Api {
                error: Box::new(parse_error_body(data.as_bytes())),
                chunks: self.chunks,
            });
        }
        let mut chunk: T =
            serde_json::from_str(data).map_err(|source| OpenAiError::InvalidChunk {
                chunks: self.received,
                source,
                data: snippet(data, 200),
            })?;
        if let Some(error) = chunk.take_error() {
            return Err(OpenAiError::Api {
                error,
                chunks: self.chunks,
            });
        }
        if chunk.finishes() {
            self.finished = true;
        }
        self.received += 1;
        let content = chunk.carries_content();
        if content {
            self.chunks += 1;
        }
        if !self.head_read {
            self.head_read = chunk.read_head(data) || content;
        }
        Ok(Step::Chunk(chunk))
    }
}
