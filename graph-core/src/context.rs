//! What a node gets besides the state: the graph's dependencies, model calls that stream
//! into the graph, the custom writer, and spawning tied to the run.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use futures::Stream;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::forward::RunEndWatch;
use crate::mode::{Event, ModeSet};
use crate::{
    ChatCallError, ChatChunk, ChatChunkStream, ChatModel, ChatRequest, CustomChunk, GraphDef,
    Message, MessageBuilder, MessageChunk, MessageMetadata, TagSet, TaskMetadata, ToolDefinition,
};

/// What all tasks of one run share.
pub(crate) struct RunShared<G: GraphDef> {
    pub(crate) context: Arc<G::Context>,
    pub(crate) modes: ModeSet,
    pub(crate) buffer: crate::buffer::Buffer<Event<G>>,
    /// Forward the items of subgraphs a node runs (`RunConfig::subgraphs`).
    pub(crate) subgraphs: bool,
    pub(crate) tags: TagSet<G::Tag>,
    pub(crate) spawned: Mutex<SpawnedTasks>,
    /// Ids of messages that must not be emitted whole in messages mode: those already
    /// streamed as chunks, those of `nostream` calls, and the input's. Kept only when
    /// messages mode is on.
    /// Boxed and absent unless the state has a conversation: most graphs never need it.
    pub(crate) known_messages: Option<Box<Mutex<HashSet<String>>>>,
    /// Cancelled when the run ends however it ends (finished, failed, or its stream
    /// dropped), so that model calls still under way elsewhere stop reading their model.
    pub(crate) ended: CancellationToken,
}

/// Work spawned by the run's nodes, aborted when the run ends or its stream is dropped.
#[derive(Default)]
pub(crate) struct SpawnedTasks {
    handles: Vec<AbortHandle>,
    closed: bool,
}

impl SpawnedTasks {
    fn track(&mut self, handle: AbortHandle) {
        if self.closed {
            // The run is over: nothing would read what this task produces.
            handle.abort();
            return;
        }
        self.handles.retain(|running| !running.is_finished());
        self.handles.push(handle);
    }

    pub(crate) fn abort_all(&mut self) {
        self.closed = true;
        for handle in self.handles.drain(..) {
            handle.abort();
        }
    }
}

impl<G: GraphDef> RunShared<G> {
    pub(crate) async fn emit(&self, event: Event<G>) {
        // After the stream is dropped the buffer is closed and this returns at once.
        if let Err(event) = self.buffer.try_send(event) {
            self.buffer.send(event).await;
        }
    }
}

/// The context of one node task: `ctx` in a `#[node]` fn.
///
/// `#[graph]` names it `Ctx` in the graph's module. It is cheap to clone, `Send` and
/// `'static`, so a clone can move into work spawned with [`spawn`](Self::spawn).
///
/// Nodes of one step run concurrently on the task that polls the stream. Work that computes
/// for long without awaiting stalls the other nodes: run it with
/// `tokio::task::spawn_blocking` (or `ctx.spawn` for async work).
pub struct NodeContext<G: GraphDef> {
    pub(crate) run: Arc<RunShared<G>>,
    pub(crate) task: Arc<TaskMetadata<G::Node>>,
}

impl<G: GraphDef> Clone for NodeContext<G> {
    fn clone(&self) -> Self {
        Self {
            run: Arc::clone(&self.run),
            task: Arc::clone(&self.task),
        }
    }
}

impl<G: GraphDef> NodeContext<G> {
    pub(crate) fn new(run: Arc<RunShared<G>>, task: Arc<TaskMetadata<G::Node>>) -> Self {
        Self { run, task }
    }

    /// The dependencies given to `Graph::new`.
    pub fn context(&self) -> &G::Context {
        &self.run.context
    }

    /// The node this task runs.
    pub fn node(&self) -> G::Node {
        self.task.node()
    }

    /// The step this task runs in.
    pub fn step(&self) -> u64 {
        self.task.step()
    }

    /// Everything known about this task.
    pub fn metadata(&self) -> &TaskMetadata<G::Node> {
        &self.task
    }

    /// A call to `model` that streams into the graph: in messages mode every chunk becomes
    /// a [`MessageChunk`] labelled with this task and the call's tags.
    pub fn chat<'a, M: ChatModel + ?Sized>(&'a self, model: &'a M) -> ChatCall<'a, G, M> {
        ChatCall {
            ctx: self,
            model,
            tags: self.run.tags,
            tools: Vec::new(),
            streams: true,
        }
    }

    /// A writer for custom-mode payloads, owned, for tasks and closures.
    pub fn writer(&self) -> Writer<G> {
        Writer {
            run: Arc::clone(&self.run),
            task: Arc::clone(&self.task),
            tags: self.run.tags,
        }
    }

    /// Writes a custom-mode payload. Waits while the stream's buffer is full; returns at
    /// once, allocating nothing, when no one streams custom mode.
    pub async fn write(&self, payload: G::Custom) {
        if self.run.modes.custom {
            let chunk = CustomChunk::new(payload, Arc::clone(&self.task), self.run.tags);
            self.run.emit(Event::Custom(chunk)).await;
        }
    }

    /// Whether someone streams custom mode, for payloads that are costly to build.
    pub fn is_custom_streamed(&self) -> bool {
        self.run.modes.custom
    }

    /// Runs `future` on the Tokio runtime, tied to the run: when the run ends or its stream
    /// is dropped, the task is aborted. Model chunks and writes it makes through a clone of
    /// this context reach the stream like the node's own; await the handle in the node to
    /// be sure they all do before the node returns.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as `tokio::spawn`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(future);
        self.run
            .spawned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .track(handle.abort_handle());
        handle
    }
}

/// A model call being set up: `ctx.chat(&model).tag(Tag::Joke).invoke(messages)`.
#[must_use = "a chat call does nothing until `.invoke(..)` or `.stream(..)`"]
pub struct ChatCall<'a, G: GraphDef, M: ?Sized> {
    ctx: &'a NodeContext<G>,
    model: &'a M,
    tags: TagSet<G::Tag>,
    tools: Vec<ToolDefinition>,
    streams: bool,
}

impl<'a, G: GraphDef, M: ChatModel + ?Sized> ChatCall<'a, G, M> {
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

    /// Offers tools to the model for this call.
    pub fn tools(mut self, tools: impl IntoIterator<Item = ToolDefinition>) -> Self {
        self.tools.extend(tools);
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
        if let Some(known) = &self.ctx.run.known_messages {
            // Streamed or hidden, the message this call assembles is not emitted again
            // when the node returns it.
            known
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(call_id.clone());
        }
        let metadata = (self.streams && self.ctx.run.modes.messages).then(|| {
            Arc::new(MessageMetadata::new(
                Arc::clone(&self.ctx.task),
                self.model.identity().clone(),
                self.tags,
                call_id.clone(),
            ))
        });
        let request = ChatRequest::new(messages).with_tools(self.tools);
        StartedCall {
            chunks: self.model.stream(request),
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
                crate::forward::forward_chunks(&run, &mut chunks, metadata, &mut message).await?;
            }
            None => crate::forward::read_chunks(&run, &mut chunks, &mut message).await?,
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
        drop(self.run.buffer.resume_turn(self.ticket.take()));
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
                let mut turn = this.run.buffer.resume_turn(this.ticket.take());
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

/// Writes custom-mode payloads for one task. Clone it into spawned work freely.
pub struct Writer<G: GraphDef> {
    run: Arc<RunShared<G>>,
    task: Arc<TaskMetadata<G::Node>>,
    tags: TagSet<G::Tag>,
}

impl<G: GraphDef> Clone for Writer<G> {
    fn clone(&self) -> Self {
        Self {
            run: Arc::clone(&self.run),
            task: Arc::clone(&self.task),
            tags: self.tags,
        }
    }
}

impl<G: GraphDef> Writer<G> {
    /// This writer with `tag` on every payload it writes.
    #[must_use]
    pub fn tag(mut self, tag: G::Tag) -> Self {
        self.tags.insert(tag);
        self
    }

    /// Whether someone streams custom mode.
    pub fn is_streamed(&self) -> bool {
        self.run.modes.custom
    }

    /// Writes a payload. Waits while the stream's buffer is full; returns at once,
    /// allocating nothing, when no one streams custom mode.
    pub async fn write(&self, payload: G::Custom) {
        if self.run.modes.custom {
            let chunk = CustomChunk::new(payload, Arc::clone(&self.task), self.tags);
            self.run.emit(Event::Custom(chunk)).await;
        }
    }
}
