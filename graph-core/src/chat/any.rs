use std::fmt;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use super::{ChatChunkStream, ChatModel, ChatRequest, ModelIdentity};

/// Any chat model, chosen at run time: for example a `ChatOpenAI` when a server is
/// configured and a [`ScriptedModel`](crate::ScriptedModel) otherwise.
///
/// ```
/// use stategraph_core::{AnyChatModel, ChatModel, ScriptedModel};
/// let model = AnyChatModel::new(ScriptedModel::new(["hi"]));
/// assert_eq!(model.identity().provider, "scripted");
/// ```
#[derive(Clone)]
pub struct AnyChatModel {
    inner: Arc<dyn ErasedChatModel>,
}

/// The error of an [`AnyChatModel`]: the model's own error, boxed.
#[derive(Debug)]
pub struct AnyChatError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl AnyChatError {
    /// The model's own error, to downcast.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Display for AnyChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for AnyChatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

trait ErasedChatModel: Send + Sync {
    fn identity(&self) -> &ModelIdentity;
    fn stream(&self, request: ChatRequest) -> ChatChunkStream<AnyChatError>;
}

impl<M: ChatModel> ErasedChatModel for M {
    fn identity(&self) -> &ModelIdentity {
        ChatModel::identity(self)
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<AnyChatError> {
        ChatModel::stream(self, request)
            .map_err(|error| AnyChatError(Box::new(error)))
            .boxed()
    }
}

impl AnyChatModel {
    /// Erases `model`'s type.
    pub fn new(model: impl ChatModel + 'static) -> Self {
        Self {
            inner: Arc::new(model),
        }
    }
}

impl fmt::Debug for AnyChatModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyChatModel")
            .field("identity", self.inner.identity())
            .finish_non_exhaustive()
    }
}

impl ChatModel for AnyChatModel {
    type Error = AnyChatError;

    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<AnyChatError> {
        self.inner.stream(request)
    }
}
