//! A node's model calls: `ctx.chat(&model).tag(..).invoke(messages)` or `.stream(..)`,
//! whose chunks reach the graph's stream in messages mode before the node sees them.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::Stream;

use super::context::NodeContext;
use serde::de::DeserializeOwned;

use super::forward::{RunEndWatch, forward_chunks, read_chunks};
use super::structured_call::StructuredCall;
use crate::chat::{
    ChatChunk, ChatChunkStream, ChatModel, ChatRequest, Message, MessageBuilder, ResponseFormat,
    ToolChoice, ToolDefinition, merge_tools,
};
use crate::error::ChatCallError;
use crate::graph::tags::TagSet;
use crate::graph::traits::GraphDef;
use crate::run::shared::RunShared;
use crate::stream::items::MessageChunk;
use crate::stream::metadata::MessageMetadata;
use crate::stream::record::Event;
use crate::telemetry::model_call::{chat_span, observe};

/// A model call being set up: `ctx.chat(&model).tag(Tag::Joke).invoke(messages)`.
#[must_use = "a chat call does nothing until `.invoke(..)` or `.stream(..)`"]
pub struct ChatCall<'a, G: GraphDef, M: ?Sized> {
    ctx: &'a NodeContext<G>,
    model: &'a M,
    tags: TagSet<G::Tag>,
    tools: Vec<ToolDefinition>,
    tool_choice: Option<ToolChoice>,
    response_format: Option<ResponseFormat>,
    streams: bool,
}

impl<'a, G: GraphDef, M: ChatModel + ?Sized> ChatCall<'a, G, M> {
    pub(super) fn new(ctx: &'a NodeContext<G>, model: &'a M) -> Self {
        Self {
            ctx,
            model,
            tags: ctx.run.tags,
            tools: Vec::new(),
            tool_choice: None,
            response_format: None,
            streams: true,
        }
    }

    /// Tags the call; stream consumers filter on it with `chunk.has_tag(..)`.
    pub fn tag(mut self, tag: G::Tag) -> Self {
        self.tags.insert(tag);
        self
    }

    /// Tags the call with several tags.
    pub fn tags(mut self, tags: impl IntoIterator<Item = G::Tag>) -> Self {
        self.tags.extend(tags);
        self
    }

    /// Offers tools to the model for this call: definitions, or tools (`&dyn Tool`, a
    /// `#[tool]`'s struct). Tools are merged by name: one given again, here or on the model,
    /// replaces the earlier one instead of being sent twice.
    pub fn tools<T: Into<ToolDefinition>>(mut self, tools: impl IntoIterator<Item = T>) -> Self {
        merge_tools(&mut self.tools, tools.into_iter().map(Into::into));
        self
    }

    /// Whether and which tool the model must call in this call, over the model's own
    /// setting.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Asks the model for a `T` (LangChain's `with_structured_output`): its JSON Schema
    /// goes to the model, by `response_format` unless
    /// [`method`](StructuredCall::method) says otherwise, and the answer is read as a `T`.
    pub fn structured<T>(self) -> StructuredCall<'a, G, M, T>
    where
        T: DeserializeOwned + schemars::JsonSchema,
    {
        StructuredCall::new(self)
    }

    /// Has the answer follow `format` (the request's `response_format`).
    pub(super) fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Keeps this call out of messages mode (LangGraph's `nostream` tag): it runs normally
    /// but none of its chunks reach the stream.
    pub fn nostream(mut self) -> Self {
        self.streams = false;
        self
    }

    fn start(self, messages: impl IntoIterator<Item = Message>) -> StartedCall<G, M::Error> {
        let call_id = self.ctx.task.next_call_id();
        let metadata = self.ctx.run.record.model_call(self.streams, &call_id, || {
            MessageMetadata::new(
                Arc::clone(&self.ctx.task),
                self.model.identity().clone(),
                self.tags,
                call_id.clone(),
            )
        });
        let mut request = ChatRequest::new(messages).with_tools(self.tools);
        request.tool_choice = self.tool_choice;
        request.response_format = self.response_format;
        let identity = self.model.identity();
        let thread_id = self
            .ctx
            .run
            .thread
            .as_ref()
            .map(|t| t.thread.thread_id.as_str());
        let span = chat_span(identity, &request, thread_id);
        // Work the model does on starting (building its request) belongs to the call.
        let chunks = span.in_scope(|| self.model.stream(request));
        StartedCall {
            chunks: observe(span, identity, &call_id, chunks),
            metadata,
            call_id,
        }
    }

    /// Calls the model and returns its whole answer. When someone streams messages mode,
    /// each chunk reaches the stream as it arrives; the next chunk is read from the model
    /// only once the stream has room for it.
    ///
    /// # Errors
    /// The model's error, once every chunk before it has reached the stream; or
    /// [`ChatCallError::RunEnded`] when the run ended while the call was under way (only
    /// work that outlives the run sees it), after which the model is not read further.
    pub async fn invoke(
        self,
        messages: impl IntoIterator<Item = Message>,
    ) -> Result<Message, ChatCallError<M::Error>> {
        let run = Arc::clone(&self.ctx.run);
        let StartedCall {
            mut chunks,
            metadata,
            call_id,
        } = self.start(messages);
        let mut message = MessageBuilder::with_id(call_id);
        match &metadata {
            Some(metadata) => {
                forward_chunks(&run, &mut chunks, metadata, &mut message).await?;
            }
            None => read_chunks(&run, &mut chunks, &mut message).await?,
        }
        Ok(message.finish())
    }

    /// Calls the model and gives the node its chunks as they arrive; each also reaches the
    /// graph's stream (in messages mode) before the node sees it. The first chunk carries
    /// the call's id ([`ChatChunk::message_id`]), so a [`MessageBuilder`] fed these chunks
    /// builds the message that messages mode already streamed, and returning it into the
    /// state emits nothing more.
    pub fn stream(
        self,
        messages: impl IntoIterator<Item = Message>,
    ) -> ChatCallStream<G, M::Error> {
        let run = Arc::clone(&self.ctx.run);
        let StartedCall {
            chunks,
            metadata,
            call_id,
        } = self.start(messages);
        ChatCallStream {
            run,
            chunks: Some(chunks),
            metadata,
            call_id,
            held: None,
            first: true,
            end_watch: RunEndWatch::default(),
            ticket: None,
        }
    }
}

/// A model call under way: its chunks, and the metadata to label them with when someone
/// streams messages mode.
struct StartedCall<G: GraphDef, E> {
    chunks: ChatChunkStream<E>,
    metadata: Option<Arc<MessageMetadata<G::Tag>>>,
    call_id: String,
}

/// The chunks of a model call, as [`ChatCall::stream`] hands them to the node: each has
/// reached the graph's stream (in messages mode) before the node sees it.
///
/// It ends after the model's last chunk, or with one error: the model's, or
/// [`ChatCallError::RunEnded`] once the run has ended (the model is not read further and
/// its connection is closed).
#[must_use = "streams do nothing unless polled"]
pub struct ChatCallStream<G: GraphDef, E> {
    run: Arc<RunShared<G>>,
    /// `None` once the stream has ended: the model's stream is dropped then, closing its
    /// connection.
    chunks: Option<ChatChunkStream<E>>,
    metadata: Option<Arc<MessageMetadata<G::Tag>>>,
    call_id: String,
    /// A chunk read from the model and waiting for room in the graph's stream, which it
    /// must reach before the node sees it.
    held: Option<(ChatChunk, Event<G>)>,
    first: bool,
    end_watch: RunEndWatch,
    /// Its place among writers waiting for room, while it holds a chunk.
    ticket: Option<u64>,
}

impl<G: GraphDef, E> ChatCallStream<G, E> {
    /// The call's id: the id of the message its chunks make up, as messages mode labels
    /// them (`MessageChunk::id`).
    pub fn id(&self) -> &str {
        &self.call_id
    }

    fn end(&mut self) {
        self.chunks = None;
        self.held = None;
    }
}

impl<G: GraphDef, E> Drop for ChatCallStream<G, E> {
    fn drop(&mut self) {
        // A call dropped while waiting for room leaves the queue of writers.
        drop(self.run.record.buffer().resume_turn(self.ticket.take()));
    }
}

// Nothing in it is pinned structurally: the model's stream is boxed, the rest is moved freely.
impl<G: GraphDef, E> Unpin for ChatCallStream<G, E> {}

impl<G: GraphDef, E> Stream for ChatCallStream<G, E> {
    type Item = Result<ChatChunk, ChatCallError<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some((chunk, event)) = this.held.take() {
                let mut turn = this.run.record.buffer().resume_turn(this.ticket.take());
                match turn.poll_lease(cx) {
                    Poll::Pending => {
                        this.ticket = turn.into_ticket();
                        this.held = Some((chunk, event));
                        return Poll::Pending;
                    }
                    Poll::Ready(None) => {
                        // Dropping the model's stream closes its connection.
                        this.chunks = None;
                        return Poll::Ready(Some(Err(ChatCallError::RunEnded)));
                    }
                    Poll::Ready(Some(mut lease)) => match lease.push(event) {
                        // Visible to the graph's reader once the lease is put back, here.
                        Ok(()) => return Poll::Ready(Some(Ok(chunk))),
                        Err(event) => {
                            this.held = Some((chunk, event));
                            continue;
                        }
                    },
                }
            }
            let Some(chunks) = &mut this.chunks else {
                return Poll::Ready(None);
            };
            let chunk = match ready!(this.end_watch.poll_chunk(&this.run, chunks, cx)) {
                Some(Ok(chunk)) => chunk,
                // The model failed or ended, or the run did: dropping the model's stream
                // closes its connection.
                Some(Err(error)) => {
                    this.end();
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    this.end();
                    return Poll::Ready(None);
                }
            };
            let item = this
                .metadata
                .as_ref()
                .map(|metadata| MessageChunk::new(chunk.clone(), Arc::clone(metadata)));
            // Only the node's copy carries the id: messages mode labels its items with it.
            let chunk = if std::mem::take(&mut this.first) {
                chunk.with_message_id(this.call_id.clone())
            } else {
                chunk
            };
            match item {
                Some(item) => this.held = Some((chunk, Event::Message(item))),
                None if this.run.ended.is_cancelled() => {
                    this.end();
                    return Poll::Ready(Some(Err(ChatCallError::RunEnded)));
                }
                None => return Poll::Ready(Some(Ok(chunk))),
            }
        }
    }
}
