//! LangChain's serialized message shape (`model_dump()` of a `HumanMessage`, `AIMessage`,
//! `ToolMessage`, `AIMessageChunk`, ...), written in this one place: a [`Message`] in a
//! state's values and updates, a chunk in messages mode, and the server's events all use
//! it, so a client reads one shape everywhere.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{ChatChunk, FinishReason, Message, ModelIdentity, Role, ToolCall, ToolCallChunk};
use super::{ToolStatus, Usage};

/// A message or a chunk in LangChain's JSON shape.
///
/// ```
/// use stategraph_core::{LangChainJson, Message, ToolStatus};
/// let answer = Message::tool_result("call_1", "get_weather", "Sunny", ToolStatus::Success);
/// let json = serde_json::to_value(LangChainJson::message(&answer)).unwrap();
/// assert_eq!(json["type"], "tool");
/// assert_eq!(json["tool_call_id"], "call_1");
/// assert_eq!(json["status"], "success");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LangChainJson<'a> {
    kind: Kind,
    content: &'a str,
    id: Option<&'a str>,
    calls: Calls<'a>,
    tool_call_id: Option<&'a str>,
    name: Option<&'a str>,
    status: Option<ToolStatus>,
    finish_reason: Option<&'a FinishReason>,
    usage: Option<Usage>,
    model: Option<&'a ModelIdentity>,
    /// The provider's id and model for the answer, as the chunk carries them.
    response_id: Option<&'a str>,
    response_model: Option<&'a str>,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A whole message: `human`, `ai`, `system` or `tool`.
    Message(Role),
    /// One chunk of a model call: `AIMessageChunk`, with its position.
    Chunk { last: bool },
}

#[derive(Clone, Copy, Debug)]
enum Calls<'a> {
    Whole(&'a [ToolCall]),
    Pieces(&'a [ToolCallChunk]),
}

impl<'a> LangChainJson<'a> {
    /// A whole message, typed by its role.
    pub fn message(message: &'a Message) -> Self {
        Self {
            kind: Kind::Message(message.role),
            content: &message.content,
            id: message.id.as_deref(),
            calls: Calls::Whole(&message.tool_calls),
            tool_call_id: message.tool_call_id.as_deref(),
            name: message.name.as_deref(),
            status: message.status,
            finish_reason: message.finish_reason.as_ref(),
            usage: message.usage,
            model: None,
            response_id: None,
            response_model: None,
        }
    }

    /// One chunk of a model call, the call's `id` being the message's, as an
    /// `AIMessageChunk`; `last` when it ends the call.
    pub fn chunk(chunk: &'a ChatChunk, id: &'a str, last: bool) -> Self {
        Self {
            kind: Kind::Chunk { last },
            ..Self::whole_chunk(chunk, id)
        }
    }

    /// A chunk holding a whole message (one a node returned, or a call's chunks added up),
    /// typed by its role (`ai` when it has none).
    pub fn whole_chunk(chunk: &'a ChatChunk, id: &'a str) -> Self {
        Self {
            kind: Kind::Message(chunk.role.unwrap_or(Role::Assistant)),
            content: &chunk.content,
            id: Some(id),
            calls: Calls::Pieces(chunk.tool_call_chunks()),
            tool_call_id: chunk.tool_call_id(),
            name: chunk.name(),
            status: chunk.tool_status(),
            finish_reason: chunk.finish_reason(),
            usage: chunk.usage(),
            model: None,
            response_id: chunk.response_id(),
            response_model: chunk.response_model(),
        }
    }

    /// Names the model in `response_metadata`, as LangChain's OpenAI integration does.
    #[must_use]
    pub fn with_model(mut self, model: Option<&'a ModelIdentity>) -> Self {
        self.model = model;
        self
    }

    fn calls(&self) -> impl Iterator<Item = CallRef<'a>> + Clone + 'a {
        let (whole, pieces): (&[ToolCall], &[ToolCallChunk]) = match self.calls {
            Calls::Whole(calls) => (calls, &[]),
            Calls::Pieces(pieces) => (&[], pieces),
        };
        let whole = whole.iter().map(|call| CallRef {
            id: Some(&call.id),
            name: Some(&call.name),
            arguments: &call.arguments,
            index: None,
        });
        let pieces = pieces.iter().map(|piece| CallRef {
            id: piece.id.as_deref(),
            name: piece.name.as_deref(),
            arguments: &piece.arguments,
            index: Some(piece.index),
        });
        whole.chain(pieces)
    }
}

/// One tool call, whole or a piece.
#[derive(Clone, Copy)]
struct CallRef<'a> {
    id: Option<&'a str>,
    name: Option<&'a str>,
    arguments: &'a str,
    index: Option<u32>,
}

impl CallRef<'_> {
    /// The arguments as JSON, when they parse; none written count as `{}`.
    fn args(&self) -> Option<serde_json::Value> {
        let arguments = if self.arguments.is_empty() {
            "{}"
        } else {
            self.arguments
        };
        serde_json::from_str(arguments).ok()
    }
}

/// The role as LangChain types a whole message.
fn message_type(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "human",
        Role::Assistant => "ai",
        Role::Tool => "tool",
    }
}

impl Serialize for LangChainJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("content", self.content)?;
        let whole_ai = matches!(self.kind, Kind::Message(Role::Assistant));
        map.serialize_entry(
            "additional_kwargs",
            &AdditionalKwargs {
                calls: whole_ai.then(|| self.calls()),
            },
        )?;
        map.serialize_entry(
            "response_metadata",
            &ResponseMetadata {
                model: self.model,
                finish_reason: self.finish_reason,
                response_id: self.response_id,
                response_model: self.response_model,
            },
        )?;
        let kind = match self.kind {
            Kind::Message(role) => message_type(role),
            Kind::Chunk { .. } => "AIMessageChunk",
        };
        map.serialize_entry("type", kind)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("id", &self.id)?;
        match self.kind {
            Kind::Message(Role::Tool) => {
                map.serialize_entry("tool_call_id", &self.tool_call_id.unwrap_or_default())?;
                map.serialize_entry("artifact", &None::<()>)?;
                map.serialize_entry("status", self.status.unwrap_or_default().as_str())?;
            }
            Kind::Message(Role::Assistant) => {
                map.serialize_entry("tool_calls", &ToolCallsJson::new(self.calls(), true))?;
                map.serialize_entry(
                    "invalid_tool_calls",
                    &ToolCallsJson::new(self.calls(), false),
                )?;
                map.serialize_entry("usage_metadata", &self.usage.map(UsageJson))?;
            }
            Kind::Message(Role::User | Role::System) => {}
            Kind::Chunk { last } => {
                map.serialize_entry("tool_calls", &[(); 0])?;
                map.serialize_entry("invalid_tool_calls", &[(); 0])?;
                map.serialize_entry("usage_metadata", &self.usage.map(UsageJson))?;
                map.serialize_entry("tool_call_chunks", &ToolCallChunksJson(self.calls()))?;
                map.serialize_entry("chunk_position", &last.then_some("last"))?;
            }
        }
        map.end()
    }
}

/// `{}`, or for a model's whole message with tool calls, the calls as OpenAI sent them
/// (`{"tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}]}`):
/// LangChain's OpenAI integration keeps them there, and the arguments' exact text is read
/// back from it.
struct AdditionalKwargs<I> {
    calls: Option<I>,
}

impl<'a, I: Iterator<Item = CallRef<'a>> + Clone> Serialize for AdditionalKwargs<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(calls) = &self.calls {
            let calls: Vec<serde_json::Value> = calls
                .clone()
                .map(|call| {
                    serde_json::json!({
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    })
                })
                .collect();
            if !calls.is_empty() {
                map.serialize_entry("tool_calls", &calls)?;
            }
        }
        map.end()
    }
}

/// `{"model_provider"}` on every chunk; `finish_reason` and `model_name` on the last, as
/// LangChain's OpenAI integration fills them: `model_name` is the model the provider says
/// answered, else the one asked for. The last also has the provider's `id` for the answer
/// when it gave one, as LangChain's `invoke` does. Each key is on one chunk only: LangChain
/// joins the strings of a key found on several chunks when it adds them up.
struct ResponseMetadata<'a> {
    model: Option<&'a ModelIdentity>,
    finish_reason: Option<&'a FinishReason>,
    response_id: Option<&'a str>,
    response_model: Option<&'a str>,
}

impl Serialize for ResponseMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(reason) = self.finish_reason {
            map.serialize_entry("finish_reason", reason.as_str())?;
            let asked = self.model.map(|model| model.model_name.as_str());
            if let Some(model) = self.response_model.or(asked) {
                map.serialize_entry("model_name", model)?;
            }
            if let Some(id) = self.response_id {
                map.serialize_entry("id", id)?;
            }
        }
        if let Some(model) = self.model {
            map.serialize_entry("model_provider", &model.provider)?;
        }
        map.end()
    }
}

struct UsageJson(Usage);

impl Serialize for UsageJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("input_tokens", &self.0.prompt_tokens)?;
        map.serialize_entry("output_tokens", &self.0.completion_tokens)?;
        map.serialize_entry("total_tokens", &self.0.total_tokens)?;
        map.end()
    }
}

/// `[{"name", "args", "id", "index", "type": "tool_call_chunk"}]`.
struct ToolCallChunksJson<I>(I);

impl<'a, I: Iterator<Item = CallRef<'a>> + Clone> Serialize for ToolCallChunksJson<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone().map(|call| {
            serde_json::json!({
                "name": call.name, "args": call.arguments, "id": call.id,
                "index": call.index, "type": "tool_call_chunk",
            })
        }))
    }
}

/// The calls whose arguments parse as JSON (`tool_calls`: `{"name", "args", "id", "type":
/// "tool_call"}`), or those whose arguments do not (`invalid_tool_calls`, with the raw text
/// and an `error`), as LangChain splits them.
struct ToolCallsJson<I> {
    calls: I,
    valid: bool,
}

impl<I> ToolCallsJson<I> {
    fn new(calls: I, valid: bool) -> Self {
        Self { calls, valid }
    }
}

impl<'a, I: Iterator<Item = CallRef<'a>> + Clone> Serialize for ToolCallsJson<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let valid = self.valid;
        serializer.collect_seq(self.calls.clone().filter_map(move |call| {
            match (call.args(), valid) {
                (Some(args), true) => Some(serde_json::json!({
                    "name": call.name, "args": args, "id": call.id, "type": "tool_call",
                })),
                (None, false) => Some(serde_json::json!({
                    "name": call.name, "args": call.arguments, "id": call.id,
                    "error": "the arguments are not JSON", "type": "invalid_tool_call",
                })),
                _ => None,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chunk_has_every_field_of_langchains_ai_message_chunk() {
        let chunk = ChatChunk::text("Why");
        let model = ModelIdentity::new("openai", "gpt-4o-mini");
        let json = serde_json::to_value(
            LangChainJson::chunk(&chunk, "run-1", false).with_model(Some(&model)),
        )
        .unwrap();
        assert_eq!(
            json,
            json!({
                "content": "Why", "additional_kwargs": {}, "response_metadata": {"model_provider": "openai"},
                "type": "AIMessageChunk", "name": null, "id": "run-1", "tool_calls": [],
                "invalid_tool_calls": [], "usage_metadata": null, "tool_call_chunks": [],
                "chunk_position": null,
            })
        );
    }

    #[test]
    fn the_last_chunk_names_the_model_and_response_the_provider_named() {
        let model = ModelIdentity::new("openai", "gpt-4o-mini");
        let metadata = |chunk: &ChatChunk, last| {
            serde_json::to_value(
                LangChainJson::chunk(chunk, "run-1", last).with_model(Some(&model)),
            )
            .unwrap()["response_metadata"]
                .clone()
        };
        let first = ChatChunk::text("Why")
            .with_response_id("chatcmpl-9")
            .with_response_model("gpt-4o-mini-2024-07-18");
        assert_eq!(
            metadata(&first, false),
            json!({"model_provider": "openai"}),
            "each key on the last chunk only"
        );
        let last = ChatChunk::default()
            .with_finish_reason(FinishReason::Stop)
            .with_response_id("chatcmpl-9")
            .with_response_model("gpt-4o-mini-2024-07-18");
        assert_eq!(
            metadata(&last, true),
            json!({
                "finish_reason": "stop", "model_name": "gpt-4o-mini-2024-07-18",
                "id": "chatcmpl-9", "model_provider": "openai",
            })
        );
        let unnamed = ChatChunk::default().with_finish_reason(FinishReason::Stop);
        assert_eq!(
            metadata(&unnamed, true),
            json!({"finish_reason": "stop", "model_name": "gpt-4o-mini", "model_provider": "openai"}),
            "the model asked for when the provider names none"
        );
    }

    #[test]
    fn a_tool_message_is_langchains_tool_message() {
        let mut message = Message::tool_result("call_1", "get_weather", "Oops", ToolStatus::Error);
        message.id = Some("m1".into());
        assert_eq!(
            serde_json::to_value(LangChainJson::message(&message)).unwrap(),
            json!({
                "content": "Oops", "additional_kwargs": {}, "response_metadata": {},
                "type": "tool", "name": "get_weather", "id": "m1", "tool_call_id": "call_1",
                "artifact": null, "status": "error",
            })
        );
        let chunk = ChatChunk::whole(&message);
        assert_eq!(
            serde_json::to_value(LangChainJson::whole_chunk(&chunk, "m1")).unwrap(),
            serde_json::to_value(LangChainJson::message(&message)).unwrap(),
            "a returned message has the shape of the message"
        );
    }

    #[test]
    fn an_ai_message_splits_its_calls_by_whether_their_arguments_parse() {
        let message = Message::assistant_tool_calls([
            ToolCall {
                id: "a".into(),
                name: "search".into(),
                arguments: r#"{"q": "cats"}"#.into(),
            },
            ToolCall {
                id: "b".into(),
                name: "search".into(),
                arguments: r#"{"q": "#.into(),
            },
        ]);
        let json = serde_json::to_value(LangChainJson::message(&message)).unwrap();
        assert_eq!(json["type"], "ai");
        assert_eq!(
            json["tool_calls"],
            json!([{"name": "search", "args": {"q": "cats"}, "id": "a", "type": "tool_call"}])
        );
        assert_eq!(json["invalid_tool_calls"][0]["args"], r#"{"q": "#);
        assert_eq!(
            json["additional_kwargs"]["tool_calls"][0]["function"]["arguments"],
            r#"{"q": "cats"}"#
        );
    }
}
