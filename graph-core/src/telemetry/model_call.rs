//! The span of one model call, `chat {model}`: opened by graph-core around every
//! [`ChatModel`](crate::ChatModel) call, filled in as the call's chunks go by (its first
//! chunk's time, the provider's response id and model, the finish reasons, the usage),
//! closed when the call ends or is dropped.
//!
//! Nothing is looked at per chunk unless the span is enabled: with no subscriber, the
//! model's stream is handed back as it was.

use std::error::Error;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::{Level, Span};

use super::content::{messages_json, record_content};
use super::names::*;
use super::spans::{int, mark_error};
use crate::chat::{ChatChunk, ChatChunkStream, ChatRequest, MessageBuilder, ModelIdentity, Usage};

/// The span of a model call by `model`, a child of the current span (the task calling
/// it).
pub(crate) fn chat_span(
    model: &ModelIdentity,
    request: &ChatRequest,
    thread_id: Option<&str>,
) -> Span {
    let span = tracing::span!(
        target: TARGET_CHAT,
        Level::INFO,
        "chat",
        { OTEL_NAME } = Empty,
        { OTEL_KIND } = "client",
        { GEN_AI_OPERATION_NAME } = OPERATION_CHAT,
        { GEN_AI_PROVIDER_NAME } = &*model.provider,
        { GEN_AI_REQUEST_MODEL } = model.model_name.as_str(),
        { GEN_AI_REQUEST_TEMPERATURE } = model.temperature,
        { GEN_AI_REQUEST_MAX_TOKENS } = model.max_tokens.map(i64::from),
        { GEN_AI_CONVERSATION_ID } = thread_id,
        { GEN_AI_RESPONSE_ID } = Empty,
        { GEN_AI_RESPONSE_MODEL } = Empty,
        { GEN_AI_RESPONSE_FINISH_REASONS } = Empty,
        { GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK } = Empty,
        { GEN_AI_USAGE_INPUT_TOKENS } = Empty,
        { GEN_AI_USAGE_OUTPUT_TOKENS } = Empty,
        { GEN_AI_INPUT_MESSAGES } = Empty,
        { GEN_AI_OUTPUT_MESSAGES } = Empty,
        { LANGSMITH_SPAN_KIND } = KIND_LLM,
        { LANGSMITH_PROVIDER } = &*model.provider,
        { LANGSMITH_MODEL_NAME } = model.model_name.as_str(),
        { LANGSMITH_THREAD_ID } = thread_id,
        { ERROR_TYPE } = Empty,
        { OTEL_STATUS_CODE } = Empty,
        { OTEL_STATUS_DESCRIPTION } = Empty,
    );
    if !span.is_disabled() {
        span.record(
            OTEL_NAME,
            format!("{OPERATION_CHAT} {}", model.model_name).as_str(),
        );
        if record_content() {
            span.record(
                GEN_AI_INPUT_MESSAGES,
                messages_json(&request.messages).as_str(),
            );
        }
    }
    span
}

/// `chunks`, the stream of the call `span` stands for, recording on the span as it goes;
/// `chunks` itself when the span is disabled. `call_id` is the id of the message the call
/// makes: the span's `gen_ai.response.id` when the model names no response id of its own.
pub(crate) fn observe<E: Error + Send + 'static>(
    span: Span,
    model: &ModelIdentity,
    call_id: &str,
    chunks: ChatChunkStream<E>,
) -> ChatChunkStream<E> {
    if span.is_disabled() {
        return chunks;
    }
    Observed {
        chunks,
        call: CallRecord {
            started: Instant::now(),
            first: true,
            finish_reasons: Vec::new(),
            usage: None,
            answer: record_content().then(MessageBuilder::default),
            model: model.model_name.clone(),
            call_id: call_id.to_owned(),
            response_id: None,
            response_model: None,
            ended: false,
        },
        span,
    }
    .boxed()
}

/// What a call has shown so far, recorded on its span when it ends.
struct CallRecord {
    started: Instant,
    first: bool,
    finish_reasons: Vec<String>,
    usage: Option<Usage>,
    /// The answer so far, when content is recorded.
    answer: Option<MessageBuilder>,
    /// The model asked for: the model that answered, unless the provider names another.
    model: String,
    /// The message's id: the response's, unless the provider gives one of its own.
    call_id: String,
    response_id: Option<String>,
    response_model: Option<String>,
    ended: bool,
}

impl CallRecord {
    fn chunk(&mut self, span: &Span, chunk: &ChatChunk) {
        if std::mem::take(&mut self.first) {
            span.record(
                GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
                self.started.elapsed().as_secs_f64(),
            );
        }
        if let Some(reason) = chunk.finish_reason() {
            self.finish_reasons.push(reason.as_str().to_owned());
        }
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage);
        }
        // The first the provider names wins, as when chunks are added up.
        if let (None, Some(id)) = (&self.response_id, chunk.response_id()) {
            self.response_id = Some(id.to_owned());
        }
        if let (None, Some(model)) = (&self.response_model, chunk.response_model()) {
            self.response_model = Some(model.to_owned());
        }
        if let Some(answer) = &mut self.answer {
            answer.push(chunk);
        }
    }

    fn end(&mut self, span: &Span) {
        self.ended = true;
        let id = self.response_id.as_deref().unwrap_or(&self.call_id);
        span.record(GEN_AI_RESPONSE_ID, id);
        let model = self.response_model.as_deref().unwrap_or(&self.model);
        span.record(GEN_AI_RESPONSE_MODEL, model);
        if !self.finish_reasons.is_empty() {
            // OpenTelemetry's attribute is a list; `tracing` fields are scalars, so the
            // list is written as JSON.
            let reasons = serde_json::to_string(&self.finish_reasons).unwrap_or_default();
            span.record(GEN_AI_RESPONSE_FINISH_REASONS, reasons.as_str());
        }
        if let Some(usage) = self.usage {
            span.record(GEN_AI_USAGE_INPUT_TOKENS, int(usage.prompt_tokens));
            span.record(GEN_AI_USAGE_OUTPUT_TOKENS, int(usage.completion_tokens));
        }
        if let Some(answer) = self.answer.take() {
            let answer = answer.finish();
            span.record(
                GEN_AI_OUTPUT_MESSAGES,
                messages_json(std::iter::once(&answer)).as_str(),
            );
        }
    }
}

/// A model's chunks, observed for the call's span.
struct Observed<E> {
    chunks: ChatChunkStream<E>,
    call: CallRecord,
    span: Span,
}

impl<E: Error> Stream for Observed<E> {
    type Item = Result<ChatChunk, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        // The model's own spans (its HTTP request) nest in the call's.
        let _in_call = this.span.enter();
        let polled = this.chunks.poll_next_unpin(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => this.call.chunk(&this.span, chunk),
            Poll::Ready(Some(Err(error))) => {
                this.call.end(&this.span);
                mark_error(&this.span, std::any::type_name::<E>(), error);
            }
            Poll::Ready(None) if !this.call.ended => this.call.end(&this.span),
            Poll::Ready(None) | Poll::Pending => {}
        }
        polled
    }
}

impl<E> Drop for Observed<E> {
    fn drop(&mut self) {
        if !self.call.ended {
            // Dropped before its end: the run ended or the node stopped reading. What it
            // showed is kept; the call is not a failure of the model's.
            self.call.end(&self.span);
        }
    }
}
