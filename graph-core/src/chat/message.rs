use serde::{Deserialize, Serialize};

use super::ToolStatus;

/// Who wrote a [`Message`].
///
/// It displays, and serializes, as the wire writes roles: `system`, `user`, `assistant`,
/// `tool`.
///
/// ```
/// use stategraph_core::Role;
/// assert_eq!(Role::Assistant.as_str(), "assistant");
/// assert_eq!(Role::User.to_string(), "user");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The human side of the conversation.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call, answering the assistant's `tool_calls`.
    Tool,
}

impl Role {
    /// The role as the wire writes it: `system`, `user`, `assistant` or `tool` (the same
    /// names as its JSON).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One whole chat message: what a node sends to a model, and what
/// [`ChatCall::invoke`](crate::ChatCall::invoke) returns once the model has finished.
///
/// ```
/// use stategraph_core::{Message, Role};
/// let m = Message::user("Write a joke about cats");
/// assert_eq!(m.role, Role::User);
/// assert_eq!(m.text(), "Write a joke about cats");
/// ```
///
/// As JSON it takes LangChain's shape (`{"type": "human" | "ai" | "system" | "tool",
/// "content", "id", "tool_calls", "tool_call_id", "name", "status", ...}`), the same in a
/// state's values and updates as in messages mode. It reads that shape back, and also the
/// OpenAI shape clients send (`{"role": "user", "content": "hi"}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// The text. Empty for an assistant message that only calls tools.
    pub content: String,
    /// Tool calls the assistant made, assembled from their streamed deltas.
    pub tool_calls: Vec<ToolCall>,
    /// For a [`Role::Tool`] message: the id of the call it answers.
    pub tool_call_id: Option<String>,
    /// Who wrote it, by name: for a [`Role::Tool`] message, the tool that answered.
    pub name: Option<String>,
    /// For a [`Role::Tool`] message: whether the call succeeded or the message explains
    /// its failure. `None` reads as success.
    pub status: Option<ToolStatus>,
    /// The provider's id for this message, when it gave one.
    pub id: Option<String>,
    /// Why the model stopped, for a model's answer.
    pub finish_reason: Option<FinishReason>,
    /// Token counts, for a model's answer when the provider reported them.
    pub usage: Option<Usage>,
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        super::langchain::LangChainJson::message(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::message_json::MessageIn::deserialize(deserializer)?
            .into_message()
            .map_err(serde::de::Error::custom)
    }
}

impl Message {
    /// A message with `role` and `content` and nothing else.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
            status: None,
            id: None,
            finish_reason: None,
            usage: None,
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message (for example a one-shot example in the history).
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// An assistant message that calls tools.
    pub fn assistant_tool_calls(tool_calls: impl IntoIterator<Item = ToolCall>) -> Self {
        let mut message = Self::new(Role::Assistant, "");
        message.tool_calls = tool_calls.into_iter().collect();
        message
    }

    /// The result of the tool call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        let mut message = Self::new(Role::Tool, content);
        message.tool_call_id = Some(tool_call_id.into());
        message
    }

    /// The result of the tool `name`'s call `tool_call_id`, as a tool node answers it.
    ///
    /// ```
    /// use stategraph_core::{Message, ToolStatus};
    /// let answer = Message::tool_result("call_1", "get_weather", "18°C", ToolStatus::Success);
    /// assert_eq!(answer.name.as_deref(), Some("get_weather"));
    /// assert_eq!(answer.status, Some(ToolStatus::Success));
    /// ```
    pub fn tool_result(
        tool_call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
        status: ToolStatus,
    ) -> Self {
        let mut message = Self::tool(tool_call_id, content);
        message.name = Some(name.into());
        message.status = Some(status);
        message
    }

    /// The message, with `id`.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The message's text.
    pub fn text(&self) -> &str {
        &self.content
    }
}

/// A whole tool call made by the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id of the call, echoed back in the [`Role::Tool`] answer.
    pub id: String,
    /// The function to call.
    pub name: String,
    /// The arguments as the model wrote them: JSON text, not checked.
    pub arguments: String,
}

impl ToolCall {
    /// Parses [`arguments`](Self::arguments) as JSON.
    ///
    /// # Errors
    /// When the model wrote arguments that are not JSON.
    pub fn arguments_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.arguments)
    }
}

/// A function the model may call, described for the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// The function's name.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema of its arguments.
    pub parameters: serde_json::Value,
}

impl ToolDefinition {
    /// A tool with a name, a description and a JSON Schema for its arguments.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: serde_json::Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            parameters,
        }
    }
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// It finished its answer, or hit a stop sequence.
    Stop,
    /// It hit the token limit.
    Length,
    /// It called tools.
    ToolCalls,
    /// The provider filtered the content.
    ContentFilter,
    /// Any other reason a provider gives, as it gave it.
    Other(String),
}

impl FinishReason {
    /// The reason as the OpenAI wire format writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::Other(other) => other,
        }
    }
}

impl From<&str> for FinishReason {
    fn from(reason: &str) -> Self {
        match reason {
            "stop" => Self::Stop,
            "length" => Self::Length,
            "tool_calls" | "function_call" => Self::ToolCalls,
            "content_filter" => Self::ContentFilter,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for FinishReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reason = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::from(&*reason))
    }
}

/// Token counts of one model call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens the model generated.
    pub completion_tokens: u64,
    /// Their sum, as the provider reported it.
    pub total_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_displays_as_its_wire_name_the_same_as_its_json() {
        for (role, name) in [
            (Role::System, "system"),
            (Role::User, "user"),
            (Role::Assistant, "assistant"),
            (Role::Tool, "tool"),
        ] {
            assert_eq!(role.as_str(), name);
            assert_eq!(role.to_string(), name);
            assert_eq!(serde_json::to_value(role).unwrap(), name);
        }
        assert_eq!(
            format!("[{:>6}]", Role::User),
            "[  user]",
            "padding is honoured"
        );
    }
}
