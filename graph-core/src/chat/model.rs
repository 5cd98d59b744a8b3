use std::borrow::Cow;

use futures::stream::BoxStream;
use serde::Serialize;

use super::{ChatChunk, Message, ToolDefinition};

/// The chunks of one model call, as a stream that owns everything it needs.
pub type ChatChunkStream<E> = BoxStream<'static, Result<ChatChunk, E>>;

/// A chat model that streams its answer.
///
/// Implement it to plug a provider into a graph; `stategraph-openai`'s `ChatOpenAI` and
/// [`ScriptedModel`](crate::ScriptedModel) are the two that ship. Nodes do not call
/// [`stream`](Self::stream) themselves: they go through [`NodeContext::chat`](crate::NodeContext::chat),
/// which labels every chunk and forwards it into the graph's stream.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chat model",
    label = "`ctx.chat(..)` takes a model that implements `ChatModel`",
    note = "use `ChatOpenAI` from stategraph-openai, `ScriptedModel`, or implement `stategraph::ChatModel`"
)]
pub trait ChatModel: Send + Sync {
    /// What goes wrong in a call: a transport failure, a provider error, a cut stream.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Who this model is, for the metadata of every chunk it streams.
    fn identity(&self) -> &ModelIdentity;

    /// Starts one call. The stream ends after the last chunk, or with one error item: a
    /// model must never end a cut stream silently.
    fn stream(&self, request: ChatRequest) -> ChatChunkStream<Self::Error>;
}

impl<M: ChatModel + ?Sized> ChatModel for std::sync::Arc<M> {
    type Error = M::Error;

    fn identity(&self) -> &ModelIdentity {
        (**self).identity()
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<Self::Error> {
        (**self).stream(request)
    }
}

/// What one model call sends.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call in this request, on top of any the model was built with.
    pub tools: Vec<ToolDefinition>,
}

impl ChatRequest {
    /// A request with these messages.
    pub fn new(messages: impl IntoIterator<Item = Message>) -> Self {
        Self {
            messages: messages.into_iter().collect(),
            tools: Vec::new(),
        }
    }

    /// Adds tools the model may call.
    #[must_use]
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = ToolDefinition>) -> Self {
        self.tools.extend(tools);
        self
    }
}

/// A model's identity, as LangSmith names it (`ls_provider`, `ls_model_name`, ...).
///
/// ```
/// let id = stategraph_core::ModelIdentity::new("openai", "gpt-4o-mini").with_temperature(0.7);
/// assert_eq!(id.model_type, "chat");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelIdentity {
    /// Who serves the model: `openai`, `scripted`, ...
    #[serde(rename = "ls_provider")]
    pub provider: Cow<'static, str>,
    /// The model's name as the provider knows it.
    #[serde(rename = "ls_model_name")]
    pub model_name: String,
    /// `chat` for chat models.
    #[serde(rename = "ls_model_type")]
    pub model_type: Cow<'static, str>,
    /// The sampling temperature, when one was set. Written as `null` when unset, as
    /// LangGraph writes `ls_temperature`.
    #[serde(rename = "ls_temperature")]
    pub temperature: Option<f64>,
}

impl ModelIdentity {
    /// A chat model `model_name` served by `provider`.
    pub fn new(provider: impl Into<Cow<'static, str>>, model_name: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model_name: model_name.into(),
            model_type: Cow::Borrowed("chat"),
            temperature: None,
        }
    }

    /// Sets the temperature.
    #[must_use]
    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }
}
