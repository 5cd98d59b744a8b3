//! `ChatOpenAI`: an OpenAI-compatible server as a graph-core [`ChatModel`].

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};
use stategraph_core::{ChatChunk, ChatChunkStream, ChatModel, ChatRequest, ModelIdentity};

use crate::chunk_stream::Chunks;
use crate::client::OpenAiClient;
use crate::error::OpenAiError;
use crate::wire::{
    ChatCompletionRequest, DeltaChunk, RequestMessage, ResponseHead, Tool, ToolChoice,
};

/// The model `from_env` uses when `OPENAI_MODEL` is unset: the guide's.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// A chat model on an OpenAI-compatible server, as LangChain's `ChatOpenAI`.
///
/// Configure it like the request it sends; every call streams, asks for the usage (unless
/// [`include_usage(false)`](Self::include_usage)), and reports provider `openai`, model
/// type `chat`, and the model name and temperature set here in each chunk's metadata.
///
/// ```
/// use stategraph_openai::{ChatOpenAI, OpenAiClient};
/// let client = OpenAiClient::builder().base_url("http://127.0.0.1:8080/v1").build().unwrap();
/// let model = ChatOpenAI::new(client, "smollm2-135m").temperature(0.0).max_tokens(64).seed(42);
/// assert_eq!(stategraph_core::ChatModel::identity(&model).model_name, "smollm2-135m");
/// ```
#[derive(Clone, Debug)]
pub struct ChatOpenAI {
    client: OpenAiClient,
    identity: ModelIdentity,
    /// Everything but the messages; cloned per call.
    template: Arc<ChatCompletionRequest>,
}

impl ChatOpenAI {
    /// `model` on the server `client` talks to.
    pub fn new(client: OpenAiClient, model: impl Into<String>) -> Self {
        let model = model.into();
        Self {
            client,
            identity: ModelIdentity::new("openai", model.clone()),
            template: Arc::new(ChatCompletionRequest::new(model, [])),
        }
    }

    /// The server from `OPENAI_BASE_URL` / `OPENAI_API_KEY` and the model from
    /// `OPENAI_MODEL` (default [`DEFAULT_MODEL`]).
    ///
    /// # Errors
    /// As [`OpenAiClient::from_env`].
    pub fn from_env() -> Result<Self, OpenAiError> {
        let model = std::env::var("OPENAI_MODEL")
            .ok()
            .filter(|model| !model.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_MODEL.to_owned());
        Ok(Self::new(OpenAiClient::from_env()?, model))
    }

    /// The client, for raw streaming with the same server and settings.
    pub fn client(&self) -> &OpenAiClient {
        &self.client
    }

    /// The request a call with `messages` sends: for the raw client, or to inspect.
    pub fn request(
        &self,
        messages: impl IntoIterator<Item = RequestMessage>,
    ) -> ChatCompletionRequest {
        let mut request = (*self.template).clone();
        request.messages = messages.into_iter().collect();
        request
    }

    fn edit(mut self, edit: impl FnOnce(&mut ChatCompletionRequest)) -> Self {
        edit(Arc::make_mut(&mut self.template));
        self
    }

    /// Another model on the same server.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        let model = model.into();
        self.identity.model_name.clone_from(&model);
        self.edit(|r| r.model = model)
    }

    /// The sampling temperature (also shown in the stream's metadata).
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.identity.temperature = Some(temperature);
        self.edit(|r| r.temperature = Some(temperature))
    }

    /// Nucleus sampling.
    #[must_use]
    pub fn top_p(self, top_p: f64) -> Self {
        self.edit(|r| r.top_p = Some(top_p))
    }

    /// The most tokens to generate (also shown in the stream's metadata).
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.identity.max_tokens = Some(max_tokens);
        self.edit(|r| r.max_tokens = Some(max_tokens))
    }

    /// `max_completion_tokens`, which OpenAI's reasoning models take instead (also shown
    /// in the stream's metadata, as the most tokens).
    #[must_use]
    pub fn max_completion_tokens(mut self, max_tokens: u32) -> Self {
        self.identity.max_tokens = Some(max_tokens);
        self.edit(|r| r.max_completion_tokens = Some(max_tokens))
    }

    /// A seed, for reproducible sampling where the server supports it.
    #[must_use]
    pub fn seed(self, seed: i64) -> Self {
        self.edit(|r| r.seed = Some(seed))
    }

    /// Stop sequences.
    #[must_use]
    pub fn stop(self, stop: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let stop = stop.into_iter().map(Into::into).collect();
        self.edit(|r| r.stop = stop)
    }

    /// The frequency penalty.
    #[must_use]
    pub fn frequency_penalty(self, penalty: f64) -> Self {
        self.edit(|r| r.frequency_penalty = Some(penalty))
    }

    /// The presence penalty.
    #[must_use]
    pub fn presence_penalty(self, penalty: f64) -> Self {
        self.edit(|r| r.presence_penalty = Some(penalty))
    }

    /// Tools every call may use (a call can add more through its request).
    #[must_use]
    pub fn tools(self, tools: impl IntoIterator<Item = stategraph_core::ToolDefinition>) -> Self {
        let tools: Vec<Tool> = tools.into_iter().map(|tool| Tool::from(&tool)).collect();
        self.edit(|r| r.tools.extend(tools))
    }

    /// Whether and which tool the model must call.
    #[must_use]
    pub fn tool_choice(self, choice: ToolChoice) -> Self {
        self.edit(|r| r.tool_choice = Some(choice))
    }

    /// Whether the model may call several tools at once.
    #[must_use]
    pub fn parallel_tool_calls(self, parallel: bool) -> Self {
        self.edit(|r| r.parallel_tool_calls = Some(parallel))
    }

    /// An end-user id for the provider.
    #[must_use]
    pub fn user(self, user: impl Into<String>) -> Self {
        let user = user.into();
        self.edit(|r| r.user = Some(user))
    }

    /// Whether to send `stream_options.include_usage` (default `true`); turn it off for
    /// servers that reject the field. Without it the final message has no usage.
    #[must_use]
    pub fn include_usage(self, include: bool) -> Self {
        self.edit(|r| *r = r.clone().include_usage(include))
    }

    /// Any other body field, sent as is (`response_format`, `logit_bias`, a server's own
    /// extensions).
    #[must_use]
    pub fn extra(self, field: impl Into<String>, value: serde_json::Value) -> Self {
        let field = field.into();
        self.edit(|r| {
            r.extra.insert(field, value);
        })
    }
}

impl ChatModel for ChatOpenAI {
    type Error = OpenAiError;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<OpenAiError> {
        let mut wire = self.request(request.messages.iter().map(RequestMessage::from));
        // The call's tools replace the model's of the same name: a provider rejects a
        // request naming one function twice.
        for tool in &request.tools {
            match wire
                .tools
                .iter_mut()
                .find(|old| old.function.name == tool.name)
            {
                Some(old) => *old = Tool::from(tool),
                None => wire.tools.push(Tool::from(tool)),
            }
        }
        if let Some(choice) = &request.tool_choice {
            wire.tool_choice = Some(ToolChoice::from(choice));
        }
        if let Some(format) = &request.response_format {
            wire.extra.insert(
                "response_format".into(),
                serde_json::json!({
                    "type": "json_schema",
                    "json_schema": {"name": format.name, "schema": format.schema},
                }),
            );
        }
        LastChunk {
            chunks: self.client.stream_deltas(&wire),
            held: None,
            queued: None,
            head: None,
            named_first: false,
            ended: false,
        }
        .boxed()
    }
}

/// Maps raw chunks to [`ChatChunk`]s so that the call's last chunk carries both the finish
/// reason and the usage. OpenAI sends the usage in a chunk of its own after the finish
/// reason; holding the (empty) finish chunk back until the usage arrives makes
/// `MessageChunk::is_last` true on the chunk that really is last, at no cost in latency
/// for any token.
///
/// The answer's id and model, as the server names them, go on the first chunk that can
/// carry them (for the model call's span, even when the call fails later) and on the one
/// with the finish reason (for messages mode's `response_metadata`, as LangChain's).
struct LastChunk {
    chunks: Chunks<DeltaChunk>,
    /// A bare finish chunk, waiting for the usage.
    held: Option<ChatChunk>,
    /// An item to hand out before reading on.
    queued: Option<Result<ChatChunk, OpenAiError>>,
    /// The answer's id and model, once a chunk named them.
    head: Option<Box<ResponseHead>>,
    /// A chunk has carried the head.
    named_first: bool,
    ended: bool,
}

impl LastChunk {
    /// `chunk` with the answer's id and model, when they are known.
    fn name(&mut self, chunk: ChatChunk) -> ChatChunk {
        let Some(head) = &self.head else {
            return chunk;
        };
        self.named_first = true;
        name(chunk, head)
    }
}

fn name(mut chunk: ChatChunk, head: &ResponseHead) -> ChatChunk {
    if let Some(id) = &head.id {
        chunk = chunk.with_response_id(id.clone());
    }
    if let Some(model) = &head.model {
        chunk = chunk.with_response_model(model.clone());
    }
    chunk
}

impl Stream for LastChunk {
    type Item = Result<ChatChunk, OpenAiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(item) = this.queued.take() {
            return Poll::Ready(Some(item));
        }
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            let mut raw = match ready!(this.chunks.poll_next_unpin(cx)) {
                Some(Ok(raw)) => raw,
                None => {
                    this.ended = true;
                    return Poll::Ready(this.held.take().map(Ok));
                }
                Some(Err(error)) => {
                    this.ended = true;
                    let Some(held) = this.held.take() else {
                        return Poll::Ready(Some(Err(error)));
                    };
                    this.queued = Some(Err(error));
                    return Poll::Ready(Some(Ok(held)));
                }
            };
            if let Some(head) = raw.head.take() {
                this.head = Some(head);
            }
            let Some(mut chunk) = to_chat_chunk(raw) else {
                continue;
            };
            let finishes = chunk.finish_reason().is_some();
            if !this.named_first || finishes {
                chunk = this.name(chunk);
            }
            if this.held.is_none() && !finishes {
                // Nearly every chunk: a token in the middle of the answer, passed on as is.
                return Poll::Ready(Some(Ok(chunk)));
            }
            let (payload, finish) = split_finish(chunk);
            match this.held.take() {
                Some(mut held)
                    if finish.is_none() && payload.as_ref().is_some_and(is_usage_only) =>
                {
                    held.set_usage(payload.and_then(|usage| usage.usage()));
                    return Poll::Ready(Some(Ok(held)));
                }
                Some(held) => {
                    this.held = finish;
                    this.queued = payload.map(Ok);
                    return Poll::Ready(Some(Ok(held)));
                }
                None => {
                    this.held = finish;
                    if let Some(payload) = payload {
                        return Poll::Ready(Some(Ok(payload)));
                    }
                }
            }
        }
    }
}

/// Splits a chunk that ends the answer without the usage into its payload (text, tool-call
/// pieces), yielded at once, and a bare finish chunk, held for the usage that may follow.
/// Servers differ in whether the finish reason comes alone or on the last token. The
/// answer's id and model stay on both.
fn split_finish(mut chunk: ChatChunk) -> (Option<ChatChunk>, Option<ChatChunk>) {
    if chunk.finish_reason().is_none() || chunk.usage().is_some() {
        return (Some(chunk), None);
    }
    if chunk.content.is_empty() && chunk.tool_call_chunks().is_empty() {
        return (None, Some(chunk));
    }
    let head = ResponseHead {
        id: chunk.response_id().map(str::to_owned),
        model: chunk.response_model().map(str::to_owned),
    };
    let mut finish = name(ChatChunk::default(), &head);
    finish.set_finish_reason(chunk.set_finish_reason(None));
    (Some(chunk), Some(finish))
}

fn is_usage_only(chunk: &ChatChunk) -> bool {
    chunk.usage().is_some()
        && chunk.finish_reason().is_none()
        && chunk.content.is_empty()
        && chunk.tool_call_chunks().is_empty()
}

/// The first choice's delta (a `ChatOpenAI` call asks for one) with the usage, if any;
/// `None` for a chunk that carries neither. Moves the content out rather than copying it.
fn to_chat_chunk(chunk: DeltaChunk) -> Option<ChatChunk> {
    let usage = chunk.usage.map(Into::into);
    match chunk.choices.zero {
        Some(choice) => Some(choice.into_chat_chunk(usage)),
        None => usage.map(|usage| ChatChunk::default().with_usage(usage)),
    }
}
