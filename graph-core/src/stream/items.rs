//! The items a graph stream yields in messages and custom mode.

use std::sync::Arc;

use super::metadata::{MessageMetadata, TaskMetadata};
use crate::chat::ChatChunk;
use crate::graph::tags::TagSet;
use crate::graph::traits::GraphTag;

/// One chunk of a model call made inside the graph, with where it came from.
///
/// The item of [`Messages`](crate::mode::Messages) mode. It serializes as LangGraph's
/// messages-mode pair `[message_chunk, metadata]`, with the chunk in LangChain's
/// `AIMessageChunk` shape.
///
/// ```no_run
/// # use stategraph_core::{GraphTag, MessageChunk};
/// # fn demo<T: GraphTag>(chunk: MessageChunk<T>, joke: T) {
/// if chunk.has_tag(joke) {
///     print!("{}|", chunk.content());
/// }
/// # }
/// ```
pub struct MessageChunk<T: GraphTag> {
    chunk: ChatChunk,
    metadata: Arc<MessageMetadata<T>>,
}

impl<T: GraphTag> MessageChunk<T> {
    pub(crate) fn new(chunk: ChatChunk, metadata: Arc<MessageMetadata<T>>) -> Self {
        Self { chunk, metadata }
    }

    /// The text of this chunk.
    pub fn content(&self) -> &str {
        &self.chunk.content
    }

    /// The chunk as the model sent it: text, tool-call pieces, finish reason, usage.
    pub fn chunk(&self) -> &ChatChunk {
        &self.chunk
    }

    /// Takes the chunk out.
    pub fn into_chunk(self) -> ChatChunk {
        self.chunk
    }

    /// Where it came from.
    pub fn metadata(&self) -> &MessageMetadata<T> {
        &self.metadata
    }

    /// The node whose model call produced it.
    pub fn node(&self) -> T::Node {
        self.metadata.task().node()
    }

    /// The step it was produced in.
    pub fn step(&self) -> u64 {
        self.metadata.task().step()
    }

    /// The call's tags, with the run's: [iterated](TagSet::iter) and serialized with the
    /// run's first, then the call's own, as LangGraph lists them.
    pub fn tags(&self) -> TagSet<T> {
        self.metadata.tags()
    }

    /// Whether the call was tagged `tag`.
    pub fn has_tag(&self, tag: T) -> bool {
        self.metadata.tags().contains(tag)
    }

    /// Whether the chunk adds neither text nor a piece of a tool call (the role-only first
    /// chunk, the finish and usage chunk): kept in the stream as LangGraph keeps them, and
    /// skipped by a consumer that prints tokens.
    pub fn is_empty(&self) -> bool {
        self.chunk.is_empty()
    }

    /// The id shared by every chunk of this model call.
    pub fn id(&self) -> &str {
        self.metadata.call_id()
    }

    /// Whether this is the call's last chunk (it carries the finish reason), or a whole
    /// message a node returned, which is its message's first and last chunk at once.
    pub fn is_last(&self) -> bool {
        self.chunk.finish_reason().is_some() || self.metadata.is_returned_message()
    }
}

impl<T: GraphTag> Clone for MessageChunk<T> {
    fn clone(&self) -> Self {
        Self {
            chunk: self.chunk.clone(),
            metadata: Arc::clone(&self.metadata),
        }
    }
}

impl<T: GraphTag> std::fmt::Debug for MessageChunk<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageChunk")
            .field("content", &self.chunk.content)
            .field("node", &self.node())
            .field("step", &self.step())
            .field("tags", &self.tags())
            .finish_non_exhaustive()
    }
}

/// A payload a node wrote through its context's writer, with where it came from.
///
/// The item of [`Custom`](crate::mode::Custom) mode. It serializes as the payload alone, as
/// LangGraph's custom mode yields it; [`metadata`](Self::metadata) serializes separately.
pub struct CustomChunk<P, T: GraphTag> {
    payload: P,
    metadata: Arc<TaskMetadata<T::Node>>,
    tags: TagSet<T>,
}

impl<P, T: GraphTag> CustomChunk<P, T> {
    /// Takes the payload, the task and the tags apart (for forwarding out of a subgraph).
    pub(crate) fn into_parts(self) -> (P, Arc<TaskMetadata<T::Node>>, TagSet<T>) {
        (self.payload, self.metadata, self.tags)
    }

    pub(crate) fn new(payload: P, metadata: Arc<TaskMetadata<T::Node>>, tags: TagSet<T>) -> Self {
        Self {
            payload,
            metadata,
            tags,
        }
    }

    /// The payload.
    pub fn payload(&self) -> &P {
        &self.payload
    }

    /// Takes the payload out.
    pub fn into_payload(self) -> P {
        self.payload
    }

    /// The task that wrote it.
    pub fn metadata(&self) -> &TaskMetadata<T::Node> {
        &self.metadata
    }

    /// The node that wrote it.
    pub fn node(&self) -> T::Node {
        self.metadata.node()
    }

    /// The step it was written in.
    pub fn step(&self) -> u64 {
        self.metadata.step()
    }

    /// The writer's tags, with the run's (listed first).
    pub fn tags(&self) -> TagSet<T> {
        self.tags
    }

    /// Whether the writer was tagged `tag`.
    pub fn has_tag(&self, tag: T) -> bool {
        self.tags.contains(tag)
    }
}

impl<P: Clone, T: GraphTag> Clone for CustomChunk<P, T> {
    fn clone(&self) -> Self {
        Self {
            payload: self.payload.clone(),
            metadata: Arc::clone(&self.metadata),
            tags: self.tags,
        }
    }
}

impl<P: std::fmt::Debug, T: GraphTag> std::fmt::Debug for CustomChunk<P, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomChunk")
            .field("payload", &self.payload)
            .field("node", &self.node())
            .field("step", &self.step())
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}
