//! Model output in LangChain's serialized message shape (`model_dump()` of an
//! `AIMessageChunk` or `AIMessage`), as LangGraph's server sends it and the SDKs' message
//! coercion reads it.

use serde::ser::{Serialize, SerializeMap, Serializer};
use stategraph_core::{ChatChunk, FinishReason, ModelIdentity, ToolCallChunk, Usage};

/// One chunk as `AIMessageChunk`.
pub(crate) struct ChunkJson<'a> {
    pub(crate) chunk: &'a ChatChunk,
    pub(crate) id: &'a str,
    pub(crate) model: Option<&'a ModelIdentity>,
    pub(crate) last: bool,
}

impl Serialize for ChunkJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let chunk = self.chunk;
        let mut map = serializer.serialize_map(Some(12))?;
        map.serialize_entry("content", &chunk.content)?;
        map.serialize_entry("additional_kwargs", &Empty)?;
        map.serialize_entry(
            "response_metadata",
            &ResponseMetadata {
                model: self.model,
                finish_reason: chunk.finish_reason(),
            },
        )?;
        map.serialize_entry("type", "AIMessageChunk")?;
        map.serialize_entry("name", &None::<()>)?;
        map.serialize_entry("id", self.id)?;
        map.serialize_entry("tool_calls", &[(); 0])?;
        map.serialize_entry("invalid_tool_calls", &[(); 0])?;
        map.serialize_entry("usage_metadata", &chunk.usage().map(UsageJson))?;
        map.serialize_entry(
            "tool_call_chunks",
            &ToolCallChunksJson(chunk.tool_call_chunks()),
        )?;
        map.serialize_entry("chunk_position", &self.last.then_some("last"))?;
        map.end()
    }
}

/// A model call's chunks added up, as LangChain adds `AIMessageChunk`s.
#[derive(Default)]
pub(crate) struct Accumulated {
    content: String,
    tool_calls: Vec<ToolCallChunk>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
}

impl Accumulated {
    pub(crate) fn add(&mut self, chunk: &ChatChunk) {
        self.content.push_str(&chunk.content);
        for piece in chunk.tool_call_chunks() {
            match self
                .tool_calls
                .iter_mut()
                .find(|call| call.index == piece.index)
            {
                Some(call) => {
                    if call.id.is_none() {
                        call.id.clone_from(&piece.id);
                    }
                    if call.name.is_none() {
                        call.name.clone_from(&piece.name);
                    }
                    call.arguments.push_str(&piece.arguments);
                }
                None => self.tool_calls.push(piece.clone()),
            }
        }
        if let Some(reason) = chunk.finish_reason() {
            self.finish_reason = Some(reason.clone());
        }
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage);
        }
    }
}

/// The accumulated message as an `AIMessage` (`type: "ai"`), as `messages` mode sends it.
pub(crate) struct MessageJson<'a> {
    pub(crate) message: &'a Accumulated,
    pub(crate) id: &'a str,
    pub(crate) model: Option<&'a ModelIdentity>,
}

impl Serialize for MessageJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = self.message;
        let mut map = serializer.serialize_map(Some(9))?;
        map.serialize_entry("content", &message.content)?;
        map.serialize_entry("additional_kwargs", &Empty)?;
        map.serialize_entry(
            "response_metadata",
            &ResponseMetadata {
                model: self.model,
                finish_reason: message.finish_reason.as_ref(),
            },
        )?;
        map.serialize_entry("type", "ai")?;
        map.serialize_entry("name", &None::<()>)?;
        map.serialize_entry("id", self.id)?;
        map.serialize_entry(
            "tool_calls",
            &ToolCallsJson {
                calls: &message.tool_calls,
                valid: true,
            },
        )?;
        map.serialize_entry(
            "invalid_tool_calls",
            &ToolCallsJson {
                calls: &message.tool_calls,
                valid: false,
            },
        )?;
        map.serialize_entry("usage_metadata", &message.usage.map(UsageJson))?;
        map.end()
    }
}

struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}

/// `{"model_provider"}` on every chunk; `finish_reason` and `model_name` on the last, as
/// LangChain's OpenAI integration fills them.
struct ResponseMetadata<'a> {
    model: Option<&'a ModelIdentity>,
    finish_reason: Option<&'a FinishReason>,
}

impl Serialize for ResponseMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(reason) = self.finish_reason {
            map.serialize_entry("finish_reason", reason.as_str())?;
            if let Some(model) = self.model {
                map.serialize_entry("model_name", &model.model_name)?;
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
struct ToolCallChunksJson<'a>(&'a [ToolCallChunk]);

impl Serialize for ToolCallChunksJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct One<'a>(&'a ToolCallChunk);
        impl Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(5))?;
                map.serialize_entry("name", &self.0.name)?;
                map.serialize_entry("args", &self.0.arguments)?;
                map.serialize_entry("id", &self.0.id)?;
                map.serialize_entry("index", &self.0.index)?;
                map.serialize_entry("type", "tool_call_chunk")?;
                map.end()
            }
        }
        serializer.collect_seq(self.0.iter().map(One))
    }
}

/// The calls whose arguments parse as JSON (`tool_calls`: `{"name", "args", "id", "type":
/// "tool_call"}`), or those whose arguments do not (`invalid_tool_calls`, with the raw text
/// and an `error`), as LangChain splits them.
struct ToolCallsJson<'a> {
    calls: &'a [ToolCallChunk],
    valid: bool,
}

impl Serialize for ToolCallsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let parsed = self.calls.iter().filter_map(|call| {
            let arguments = if call.arguments.is_empty() {
                "{}"
            } else {
                &call.arguments
            };
            let args = serde_json::from_str::<serde_json::Value>(arguments).ok();
            (args.is_some() == self.valid).then_some((call, args))
        });
        let mut seq = Vec::new();
        for (call, args) in parsed {
            seq.push(match args {
                Some(args) => serde_json::json!({
                    "name": call.name, "args": args, "id": call.id, "type": "tool_call",
                }),
                None => serde_json::json!({
                    "name": call.name, "args": call.arguments, "id": call.id,
                    "error": "the arguments are not JSON", "type": "invalid_tool_call",
                }),
            });
        }
        seq.serialize(serializer)
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
        let json = serde_json::to_value(ChunkJson {
            chunk: &chunk,
            id: "run-1",
            model: Some(&model),
            last: false,
        })
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
    fn the_last_chunk_carries_finish_reason_usage_and_position() {
        let chunk = ChatChunk::text("")
            .with_finish_reason(FinishReason::Stop)
            .with_usage(Usage {
                prompt_tokens: 3,
                completion_tokens: 5,
                total_tokens: 8,
            });
        let model = ModelIdentity::new("openai", "gpt-4o-mini");
        let json = serde_json::to_value(ChunkJson {
            chunk: &chunk,
            id: "run-1",
            model: Some(&model),
            last: true,
        })
        .unwrap();
        assert_eq!(
            json["response_metadata"],
            json!({"finish_reason": "stop", "model_name": "gpt-4o-mini", "model_provider": "openai"})
        );
        assert_eq!(
            json["usage_metadata"],
            json!({"input_tokens": 3, "output_tokens": 5, "total_tokens": 8})
        );
        assert_eq!(json["chunk_position"], "last");
    }

    #[test]
    fn accumulated_tool_calls_join_their_pieces_and_parse_when_complete() {
        let piece = |index, id: Option<&str>, name: Option<&str>, args: &str| ToolCallChunk {
            index,
            id: id.map(Into::into),
            name: name.map(Into::into),
            arguments: args.into(),
        };
        let mut message = Accumulated::default();
        message.add(&ChatChunk::text("").with_tool_call_chunks([piece(
            0,
            Some("call_1"),
            Some("search"),
            "{\"q\":",
        )]));
        let half = serde_json::to_value(MessageJson {
            message: &message,
            id: "m",
            model: None,
        })
        .unwrap();
        assert_eq!(half["tool_calls"], json!([]));
        assert_eq!(half["invalid_tool_calls"][0]["args"], "{\"q\":");
        message.add(&ChatChunk::text("").with_tool_call_chunks([piece(
            0,
            None,
            None,
            "\"cats\"}",
        )]));
        let whole = serde_json::to_value(MessageJson {
            message: &message,
            id: "m",
            model: None,
        })
        .unwrap();
        assert_eq!(
            whole["tool_calls"],
            json!([{"name": "search", "args": {"q": "cats"}, "id": "call_1", "type": "tool_call"}])
        );
        assert_eq!(whole["type"], "ai");
    }
}
