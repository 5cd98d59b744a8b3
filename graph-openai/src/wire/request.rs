//! The body of `POST /chat/completions`.

use serde::Serialize;
use stategraph_core::{Message, Role, ToolDefinition};

/// A streaming chat-completion request, as OpenAI's API defines it.
///
/// Optional fields left `None` are not sent, so servers that lack a feature are not
/// confused by it. Fields this type does not name go in [`extra`](Self::extra), which is
/// merged into the JSON body as is.
///
/// ```
/// use stategraph_openai::wire::{ChatCompletionRequest, RequestMessage};
/// let request = ChatCompletionRequest::new("gpt-4o-mini", [RequestMessage::user("Hi")]);
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["stream"], true);
/// assert_eq!(json["messages"][0]["role"], "user");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChatCompletionRequest {
    /// The model's name on the server.
    pub model: String,
    /// The conversation.
    pub messages: Vec<RequestMessage>,
    /// Always `true`: this client only streams.
    pub stream: bool,
    /// `{"include_usage": true}` asks for a last chunk with token counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// The most tokens to generate (`max_tokens`, which every compatible server knows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The newer name OpenAI's reasoning models require instead of `max_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// A seed for reproducible sampling, where the server supports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Penalises tokens by how often they appeared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Penalises tokens that appeared at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// How many answers to generate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Whether and which tool the model must call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// An end-user id, for the provider's abuse monitoring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Any other fields, merged into the body (`response_format`, `logit_bias`, a server's
    /// own extensions such as vLLM's `top_k`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ChatCompletionRequest {
    /// A streaming request for `model` with `messages`, asking for usage; everything else
    /// is left to the server's defaults.
    pub fn new(
        model: impl Into<String>,
        messages: impl IntoIterator<Item = RequestMessage>,
    ) -> Self {
        Self {
            model: model.into(),
            messages: messages.into_iter().collect(),
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            temperature: None,
            top_p: None,
            max_tokens: None,
            max_completion_tokens: None,
            seed: None,
            stop: Vec::new(),
            frequency_penalty: None,
            presence_penalty: None,
            n: None,
            tools: Vec::new(),
            tool_choice: None,
            parallel_tool_calls: None,
            user: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets `max_tokens`.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the seed.
    #[must_use]
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds tools.
    #[must_use]
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// Sets the tool choice.
    #[must_use]
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Asks for the usage chunk, or not (some servers reject `stream_options`).
    #[must_use]
    pub fn include_usage(mut self, include: bool) -> Self {
        self.stream_options = include.then_some(StreamOptions {
            include_usage: true,
        });
        self
    }
}

/// `stream_options`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StreamOptions {
    /// Ask for a last chunk with the call's token counts.
    pub include_usage: bool,
}

/// One message of the conversation, as the wire format writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: Role,
    /// The text; `null` for an assistant message that only calls tools.
    pub content: Option<String>,
    /// The assistant's tool calls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<RequestToolCall>,
    /// For a tool message: the call it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl RequestMessage {
    /// A message with a role and text.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
}

impl From<&Message> for RequestMessage {
    fn from(message: &Message) -> Self {
        let calls_only = message.role == Role::Assistant
            && message.content.is_empty()
            && !message.tool_calls.is_empty();
        Self {
            role: message.role,
            content: (!calls_only).then(|| message.content.clone()),
            tool_calls: message
                .tool_calls
                .iter()
                .map(|call| RequestToolCall {
                    id: call.id.clone(),
                    kind: "function",
                    function: FunctionCall {
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                    },
                })
                .collect(),
            tool_call_id: message.tool_call_id.clone(),
        }
    }
}

/// A tool call in an assistant message of the history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestToolCall {
    /// The call's id.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What was called.
    pub function: FunctionCall,
}

/// A function call: name and JSON arguments.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// Its arguments, as JSON text.
    pub arguments: String,
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: FunctionDefinition,
}

impl From<&ToolDefinition> for Tool {
    fn from(tool: &ToolDefinition) -> Self {
        Self {
            kind: "function",
            function: FunctionDefinition {
                name: tool.name.clone(),
                description: tool.description.clone(),
                parameters: tool.parameters.clone(),
            },
        }
    }
}

/// A function described for the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionDefinition {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema of its arguments.
    pub parameters: serde_json::Value,
}

/// `tool_choice`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides (`"auto"`).
    Auto,
    /// The model must not call tools (`"none"`).
    None,
    /// The model must call some tool (`"required"`).
    Required,
    /// The model must call this function.
    Function(String),
}

impl From<&stategraph_core::ToolChoice> for ToolChoice {
    fn from(choice: &stategraph_core::ToolChoice) -> Self {
        match choice {
            stategraph_core::ToolChoice::Auto => Self::Auto,
            stategraph_core::ToolChoice::None => Self::None,
            stategraph_core::ToolChoice::Required => Self::Required,
            stategraph_core::ToolChoice::Tool(name) => Self::Function(name.clone()),
        }
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => serializer.serialize_str("auto"),
            Self::None => serializer.serialize_str("none"),
            Self::Required => serializer.serialize_str("required"),
            Self::Function(name) => serde_json::json!({
                "type": "function",
                "function": { "name": name },
            })
            .serialize(serializer),
        }
    }
}
