use serde::{Deserialize, Serialize};

use super::{FinishReason, Role, Usage};

/// One streamed piece of a model's answer, as the provider sent it.
///
/// In a graph stream each chunk is wrapped in a [`MessageChunk`](crate::MessageChunk) that
/// adds where it came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The role, usually only on the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The text this chunk adds (often one token). Empty for chunks that only carry
    /// tool-call deltas, a finish reason or usage.
    pub content: String,
    /// Pieces of tool calls, to be assembled by their `index`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_call_chunks: Vec<ToolCallChunk>,
    /// Set on the chunk that ends the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Token counts, on the chunk that carries them (usually the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ChatChunk {
    /// A chunk of text.
    ///
    /// ```
    /// let chunk = stategraph_core::ChatChunk::text("Why");
    /// assert_eq!(chunk.content, "Why");
    /// ```
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            ..Self::default()
        }
    }

    /// A whole message as one chunk: its text, its tool calls as complete pieces, its
    /// finish reason and usage. Messages mode carries messages nodes return this way.
    pub fn whole(message: &super::Message) -> Self {
        Self {
            role: Some(message.role),
            content: message.content.clone(),
            tool_call_chunks: message
                .tool_calls
                .iter()
                .zip(0..)
                .map(|(call, index)| ToolCallChunk {
                    index,
                    id: Some(call.id.clone()),
                    name: Some(call.name.clone()),
                    arguments: call.arguments.clone(),
                })
                .collect(),
            finish_reason: message.finish_reason.clone(),
            usage: message.usage,
        }
    }
}

/// One streamed piece of a tool call. The first piece of a call usually carries its `id`
/// and `name`; later pieces add to `arguments`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallChunk {
    /// Which call of the answer this piece belongs to.
    pub index: u32,
    /// The call's id, when this piece carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function's name, when this piece carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A fragment of the JSON arguments.
    #[serde(default)]
    pub arguments: String,
}
