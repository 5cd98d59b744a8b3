//! Models for the benchmarks beyond `ScriptedModel`.

use futures::StreamExt;
use stategraph::{ChatChunk, ChatChunkStream, ChatModel, ChatRequest, ModelIdentity};

/// A model that makes `chunks` chunks as they are asked for: no script held in memory,
/// so it can offer ten million.
#[derive(Debug)]
pub struct Endless {
    /// How many chunks each call streams.
    pub chunks: usize,
    identity: ModelIdentity,
}

impl Endless {
    /// A model streaming `chunks` chunks per call.
    pub fn new(chunks: usize) -> Self {
        Self {
            chunks,
            identity: ModelIdentity::new("bench", "endless"),
        }
    }
}

impl ChatModel for Endless {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        futures::stream::iter(0..self.chunks)
            .map(|_| Ok(ChatChunk::text("tok")))
            .boxed()
    }
}

/// A model whose chunks come from a channel fed by another thread: each chunk's content is
/// the index of the send instant in a shared table, for the latency benchmark.
pub struct FromChannel {
    identity: ModelIdentity,
    receiver: std::sync::Mutex<Option<futures::channel::mpsc::UnboundedReceiver<ChatChunk>>>,
}

impl FromChannel {
    /// A model that streams what arrives on `receiver` (one call only).
    pub fn new(receiver: futures::channel::mpsc::UnboundedReceiver<ChatChunk>) -> Self {
        Self {
            identity: ModelIdentity::new("bench", "channel"),
            receiver: std::sync::Mutex::new(Some(receiver)),
        }
    }
}

impl ChatModel for FromChannel {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match receiver {
            Some(receiver) => receiver.map(Ok).boxed(),
            None => futures::stream::empty().boxed(),
        }
    }
}
