use std::borrow::Cow;

use futures::stream::BoxStream;
use serde::Serialize;

use super::{ChatChunk, Message, ResponseFormat, ToolChoice, ToolDefinition};

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
    /// Tools the model may call in this request, on top of any the model was built with;
    /// one of the same name as a model's replaces it.
    pub tools: Vec<ToolDefinition>,
    /// Whether and which tool the model must call; `None` leaves it to the model's own
    /// setting.
    pub tool_choice: Option<ToolChoice>,
    /// A JSON Schema the answer must follow (OpenAI's `response_format`), or `None`.
    pub response_format: Option<ResponseFormat>,
}

impl ChatRequest {
    /// A request with these messages.
    pub fn new(messages: impl IntoIterator<Item = Message>) -> Self {
        Self {
            messages: messages.into_iter().collect(),
            tools: Vec::new(),
            tool_choice: None,
            response_format: None,
        }
    }

    /// Adds tools the model may call; a tool of the same name as one already given
    /// replaces it, in its place.
    #[must_use]
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = ToolDefinition>) -> Self {
        merge_tools(&mut self.tools, tools);
        self
    }

    /// Sets whether and which tool the model must call.
    #[must_use]
    pub fn with_tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }
}

/// Adds `more` to `tools` by name: a tool whose name is already there replaces that one in
/// its place, so a model never sees two tools of one name (which providers reject). A
/// model merges the tools a request gives into its own with it.
///
/// ```
/// use stategraph_core::{ToolDefinition, merge_tools};
/// let schema = serde_json::json!({"type": "object"});
/// let mut tools = vec![ToolDefinition::new("a", "old", schema.clone()), ToolDefinition::new("b", "b", schema.clone())];
/// merge_tools(&mut tools, [ToolDefinition::new("a", "new", schema.clone()), ToolDefinition::new("c", "c", schema)]);
/// let names: Vec<_> = tools.iter().map(|t| (t.name.as_str(), t.description.as_deref().unwrap())).collect();
/// assert_eq!(names, [("a", "new"), ("b", "b"), ("c", "c")]);
/// ```
pub fn merge_tools(
    tools: &mut Vec<ToolDefinition>,
    more: impl IntoIterator<Item = ToolDefinition>,
) {
    for tool in more {
        match tools.iter_mut().find(|old| old.name == tool.name) {
            Some(old) => *old = tool,
            None => tools.push(tool),
        }
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
    /// The most tokens the model may generate, when a limit was set (`ls_max_tokens`,
    /// written only when set, as LangChain writes it).
    #[serde(rename = "ls_max_tokens", skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

impl ModelIdentity {
    /// A chat model `model_name` served by `provider`.
    pub fn new(provider: impl Into<Cow<'static, str>>, model_name: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model_name: model_name.into(),
            model_type: Cow::Borrowed("chat"),
            temperature: None,
            max_tokens: None,
        }
    }

    /// Sets the temperature.
    #[must_use]
    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the most tokens the model may generate.
    #[must_use]
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }
}
