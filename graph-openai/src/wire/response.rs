//! What streams back: `chat.completion.chunk` objects and error bodies.

use std::fmt;

use serde::{Deserialize, Deserializer};
use stategraph_core::{ChatChunk, FinishReason, Role, ToolCallChunk, Usage};

/// One `chat.completion.chunk` of a streamed answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionChunk {
    /// The completion's id, the same on every chunk of one answer.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// The model that answered, as the server names it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    /// Unix seconds when the completion was created.
    #[serde(default, deserialize_with = "null_as_default")]
    pub created: u64,
    /// The deltas of each choice; empty on the usage-only last chunk.
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChunkChoice>,
    /// Token counts, on the last chunk when `stream_options.include_usage` was sent.
    #[serde(default)]
    pub usage: Option<CompletionUsage>,
    /// The backend configuration, when the server reports it.
    #[serde(default)]
    pub system_fingerprint: Option<String>,
    /// An in-band error (`data: {"error": {...}}`); the stream turns it into
    /// [`OpenAiError::Api`](crate::OpenAiError::Api), so users never see a chunk with it.
    /// Parsing it here costs nothing on the normal path, unlike a second parse; boxed so
    /// that every chunk moved through the stream stays small.
    #[serde(default, deserialize_with = "error_object_or_text")]
    pub(crate) error: Option<Box<ApiError>>,
}

/// One choice's part of a chunk.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChunkChoice {
    /// Which choice this is (0 unless `n` > 1; some servers leave it out).
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    /// What this chunk adds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: ChunkDelta,
    /// Set on the choice's last chunk; an empty string counts as unset.
    #[serde(default, deserialize_with = "finish_reason")]
    pub finish_reason: Option<FinishReason>,
}

impl ChunkChoice {
    /// The choice's delta as a graph-core [`ChatChunk`], moving its strings.
    pub(crate) fn into_chat_chunk(self, usage: Option<Usage>) -> ChatChunk {
        let delta = self.delta;
        let mut chunk = ChatChunk::text(delta.content.unwrap_or_default())
            .with_tool_call_chunks(delta.tool_calls.into_iter().map(ToolCallChunk::from));
        chunk.role = delta.role;
        chunk.set_finish_reason(self.finish_reason);
        chunk.set_usage(usage);
        chunk
    }
}

/// The new part of a choice's message.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChunkDelta {
    /// The role, usually on the first chunk only. An unknown role counts as unset.
    #[serde(default, deserialize_with = "role")]
    pub role: Option<Role>,
    /// New text; `null` and absent are the same.
    #[serde(default)]
    pub content: Option<String>,
    /// New pieces of tool calls, to be assembled by `index`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_calls: Vec<ToolCallDelta>,
    /// A refusal, for models that refuse in a field of their own.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Reasoning text, from servers that stream it separately (vLLM, DeepSeek, llama.cpp).
    #[serde(default)]
    pub reasoning_content: Option<String>,
}

/// A piece of one tool call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// Which call of the answer this piece belongs to.
    #[serde(default)]
    pub index: u32,
    /// The call's id, on its first piece.
    #[serde(default)]
    pub id: Option<String>,
    /// `function`, on its first piece.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The function's name and an arguments fragment.
    #[serde(default)]
    pub function: Option<FunctionCallDelta>,
}

/// A piece of a function call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallDelta {
    /// The function's name, on the call's first piece.
    #[serde(default)]
    pub name: Option<String>,
    /// A fragment of the JSON arguments.
    #[serde(default)]
    pub arguments: Option<String>,
}

/// Token counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CompletionUsage {
    /// Tokens in the prompt.
    #[serde(default, deserialize_with = "null_as_default")]
    pub prompt_tokens: u64,
    /// Tokens generated.
    #[serde(default, deserialize_with = "null_as_default")]
    pub completion_tokens: u64,
    /// Their sum.
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_tokens: u64,
}

impl From<CompletionUsage> for Usage {
    fn from(usage: CompletionUsage) -> Self {
        Usage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: usage.total_tokens,
        }
    }
}

impl From<ToolCallDelta> for ToolCallChunk {
    fn from(call: ToolCallDelta) -> Self {
        let function = call.function.unwrap_or_default();
        ToolCallChunk {
            index: call.index,
            id: call.id,
            name: function.name,
            arguments: function.arguments.unwrap_or_default(),
        }
    }
}

/// `{"error": {...}}`: how OpenAI-compatible servers report errors, in an HTTP error body
/// or in-band as an SSE event.
#[derive(Clone, Debug, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ApiError,
}

/// An error as the server described it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// What went wrong, in the server's words.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// Its kind: `invalid_request_error`, `rate_limit_exceeded`, `server_error`, ...
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// A code: a string for OpenAI (`model_not_found`), a number for some servers.
    #[serde(default, deserialize_with = "string_or_number")]
    pub code: Option<String>,
    /// The request parameter at fault, if any.
    #[serde(default)]
    pub param: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(kind) = &self.kind {
            write!(f, "{kind}")?;
            if let Some(code) = &self.code {
                write!(f, " ({code})")?;
            }
            write!(f, ": ")?;
        } else if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        if self.message.is_empty() {
            f.write_str("(no message)")
        } else {
            f.write_str(&self.message)
        }
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An in-band error as OpenAI writes it (`{"message": ..}`), or as some gateways do (a plain
/// string): either way the server's own words reach the user.
pub(super) fn error_object_or_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Box<ApiError>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ObjectOrText {
        Object(ApiError),
        Text(String),
    }
    Ok(match Option::<ObjectOrText>::deserialize(deserializer)? {
        Some(ObjectOrText::Object(error)) => Some(Box::new(error)),
        Some(ObjectOrText::Text(message)) => Some(Box::new(ApiError {
            message,
            ..ApiError::default()
        })),
        None => None,
    })
}

pub(super) fn finish_reason<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<FinishReason>, D::Error> {
    let reason = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(reason
        .filter(|reason| !reason.is_empty())
        .map(|reason| FinishReason::from(&*reason)))
}

pub(super) fn role<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Role>, D::Error> {
    let role = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(match role.as_deref() {
        Some("assistant") => Some(Role::Assistant),
        Some("user") => Some(Role::User),
        Some("system" | "developer") => Some(Role::System),
        Some("tool") => Some(Role::Tool),
        _ => None,
    })
}

fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(
        match Option::<serde_json::Value>::deserialize(deserializer)? {
            Some(serde_json::Value::String(code)) => Some(code),
            Some(serde_json::Value::Number(code)) => Some(code.to_string()),
            _ => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_servers_chunks_are_accepted() {
        let chunk: ChatCompletionChunk = serde_json::from_str(
            r#"{"choices":[{"delta":{"content":null,"role":"assistant"},"finish_reason":""}],"extra":1}"#,
        )
        .unwrap();
        assert_eq!(chunk.choices[0].index, 0);
        assert_eq!(chunk.choices[0].finish_reason, None);
        assert_eq!(chunk.choices[0].delta.content, None);
        assert_eq!(chunk.choices[0].delta.role, Some(Role::Assistant));

        let usage_only: ChatCompletionChunk = serde_json::from_str(
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{}}}"#,
        )
        .unwrap();
        assert!(usage_only.choices.is_empty());
        assert_eq!(usage_only.usage.unwrap().total_tokens, 5);

        let null_choices: ChatCompletionChunk =
            serde_json::from_str(r#"{"choices":null,"delta":null}"#).unwrap();
        assert!(null_choices.choices.is_empty());

        let nulls: ChatCompletionChunk = serde_json::from_str(
            r#"{"id":null,"model":null,"created":null,"choices":[{"index":null,"delta":{"content":"x"}}],"usage":{"prompt_tokens":null,"completion_tokens":1,"total_tokens":null}}"#,
        )
        .unwrap();
        assert_eq!(nulls.choices[0].index, 0);
        assert_eq!(nulls.usage.unwrap().completion_tokens, 1);

        let text_error: ChatCompletionChunk =
            serde_json::from_str(r#"{"error":"upstream timed out"}"#).unwrap();
        assert_eq!(text_error.error.unwrap().message, "upstream timed out");
    }

    #[test]
    fn error_codes_may_be_numbers_or_strings() {
        let llama: ErrorEnvelope = serde_json::from_str(
            r#"{"error":{"code":400,"message":"Expected 'messages' to be an array","type":"invalid_request_error"}}"#,
        )
        .unwrap();
        assert_eq!(llama.error.code.as_deref(), Some("400"));
        assert_eq!(
            llama.error.to_string(),
            "invalid_request_error (400): Expected 'messages' to be an array"
        );
        let openai: ErrorEnvelope = serde_json::from_str(
            r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
        )
        .unwrap();
        assert_eq!(openai.error.code.as_deref(), Some("model_not_found"));
    }
}
