//! A chat model that streams fixed tokens: for examples, tests and benchmarks.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{
    ChatChunk, ChatChunkStream, ChatModel, ChatRequest, FinishReason, ModelIdentity, Usage,
};

/// A chat model that answers every call with the same tokens, optionally one every
/// `delay`, and optionally fails after some of them.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use futures::TryStreamExt;
/// use stategraph_core::{ChatModel, ChatRequest, Message, ScriptedModel};
///
/// let model = ScriptedModel::new(["Why", " was", " the", " cat"]);
/// let chunks: Vec<_> = model.stream(ChatRequest::new([Message::user("hi")])).try_collect().await.unwrap();
/// assert_eq!(chunks.len(), 4);
/// assert_eq!(chunks[1].content, " was");
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct ScriptedModel {
    identity: ModelIdentity,
    tokens: Arc<[String]>,
    delay: Option<Duration>,
    failure: Option<(usize, Arc<str>)>,
}

/// The error a [`ScriptedModel`] was scripted to fail with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scripted failure after {after} chunks: {message}")]
pub struct ScriptedError {
    /// How many chunks were streamed before it.
    pub after: usize,
    /// The scripted message.
    pub message: String,
}

impl ScriptedModel {
    /// A model answering with `tokens`, one chunk each; the last carries finish reason
    /// `stop` and the usage. Its identity is provider `scripted`, model `scripted-model`.
    pub fn new(tokens: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            identity: ModelIdentity::new("scripted", "scripted-model"),
            tokens: tokens.into_iter().map(Into::into).collect(),
            delay: None,
            failure: None,
        }
    }

    /// Presents the model as `model_name` of `provider` in stream metadata.
    #[must_use]
    pub fn with_identity(mut self, identity: ModelIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// Waits `delay` before each chunk (on Tokio's clock, so paused-clock tests are exact).
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Fails with `message` after streaming `chunks` chunks.
    #[must_use]
    pub fn fail_after(mut self, chunks: usize, message: impl Into<String>) -> Self {
        self.failure = Some((chunks, Arc::from(message.into())));
        self
    }

    /// The scripted tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

impl ChatModel for ScriptedModel {
    type Error = ScriptedError;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<ScriptedError> {
        let prompt_tokens = request
            .messages
            .iter()
            .map(|message| message.content.split_whitespace().count() as u64)
            .sum();
        let tokens = Arc::clone(&self.tokens);
        let failure = self.failure.clone();
        let delay = self.delay;
        let end = failure
            .as_ref()
            .map_or(tokens.len(), |(after, _)| (*after).min(tokens.len()));
        let count = tokens.len();
        futures::stream::iter(0..=end)
            .then(move |at| {
                let tokens = Arc::clone(&tokens);
                let failure = failure.clone();
                async move {
                    if let Some(delay) = delay {
                        tokio::time::sleep(delay).await;
                    }
                    if at == end {
                        return failure.map(|(after, message)| {
                            Err(ScriptedError {
                                after,
                                message: message.to_string(),
                            })
                        });
                    }
                    let mut chunk = ChatChunk::text(tokens[at].as_str());
                    if at + 1 == count {
                        chunk = chunk
                            .with_finish_reason(FinishReason::Stop)
                            .with_usage(Usage {
                                prompt_tokens,
                                completion_tokens: count as u64,
                                total_tokens: prompt_tokens + count as u64,
                            });
                    }
                    Some(Ok(chunk))
                }
            })
            .filter_map(futures::future::ready)
            .boxed()
    }
}
