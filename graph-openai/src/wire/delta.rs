//! The part of a `chat.completion.chunk` that `ChatOpenAI` reads: choice 0's role, text,
//! tool-call pieces and finish reason, the usage, and an in-band error.
//!
//! Decoding a whole [`ChatCompletionChunk`](super::ChatCompletionChunk) allocates the id,
//! the model name, the fingerprint and the `choices` vector on every chunk, and moves
//! 130-byte choices around, only for `ChatOpenAI` to drop most of it. Here serde skips
//! those fields without building them and the choice stays small, which took about a
//! sixth off the time per chunk of `ChatOpenAI` end to end (`benches/benches/http.rs`).
//! The answer's id and model, the same on every chunk, are read once
//! ([`DeltaChunk::read_head`]), from the first chunk that names them.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use stategraph_core::{ChatChunk, FinishReason, Role, ToolCallChunk};

use super::response::{error_object_or_text, finish_reason, role};
use super::{ApiError, CompletionUsage, ToolCallDelta};

/// A chunk as `ChatOpenAI` sees it. Fields it does not read are skipped unchecked, so a
/// server that sends, say, a numeric `id` still streams here, while the raw
/// [`ChunkStream`](crate::ChunkStream) reports that chunk as invalid.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeltaChunk {
    #[serde(default, deserialize_with = "choice_zero")]
    pub(crate) choices: Choices,
    #[serde(default)]
    pub(crate) usage: Option<CompletionUsage>,
    #[serde(default, deserialize_with = "error_object_or_text")]
    pub(crate) error: Option<Box<ApiError>>,
    /// The answer's id and model, on the chunk they were read from.
    #[serde(skip)]
    pub(crate) head: Option<Box<ResponseHead>>,
}

/// The answer's id and model, as the server names them on each chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct ResponseHead {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) model: Option<String>,
}

impl DeltaChunk {
    /// Reads the answer's id and model from `data`, the JSON this chunk was decoded from;
    /// whether it named an id. A second pass over the chunk, so the stream makes it only
    /// until a chunk names the id (Azure's first chunk, carrying only content filters, has
    /// an empty one). A chunk whose `id` or `model` is not a string names none.
    pub(crate) fn read_head(&mut self, data: &str) -> bool {
        let Ok(mut head) = serde_json::from_str::<ResponseHead>(data) else {
            return false;
        };
        head.model = head.model.filter(|model| !model.is_empty());
        let named = head.id.as_deref().is_some_and(|id| !id.is_empty());
        if named {
            self.head = Some(Box::new(head));
        }
        named
    }
}

/// What `ChatOpenAI` keeps of `choices`.
#[derive(Debug, Default)]
pub(crate) struct Choices {
    /// Choice 0, the one a `ChatOpenAI` call asks for; other choices are read and dropped.
    pub(crate) zero: Option<DeltaChoice>,
    /// Some choice, 0 or another, carried a finish reason: the answer is complete, so a
    /// connection cut after it loses nothing.
    pub(crate) finished: bool,
}

/// One choice, with only the fields a [`ChatChunk`] keeps.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeltaChoice {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default, deserialize_with = "finish_reason")]
    pub(crate) finish_reason: Option<FinishReason>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default, deserialize_with = "role")]
    role: Option<Role>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

impl DeltaChoice {
    /// Whether it carries part of the answer: text or tool-call pieces.
    pub(crate) fn carries_content(&self) -> bool {
        self.delta.as_ref().is_some_and(|delta| {
            delta
                .content
                .as_deref()
                .is_some_and(|text| !text.is_empty())
                || delta
                    .tool_calls
                    .as_ref()
                    .is_some_and(|calls| !calls.is_empty())
        })
    }

    /// This choice as a graph-core chunk, moving its strings.
    pub(crate) fn into_chat_chunk(self, usage: Option<stategraph_core::Usage>) -> ChatChunk {
        let delta = self.delta.unwrap_or_default();
        let mut chunk = ChatChunk::text(delta.content.unwrap_or_default());
        chunk.role = delta.role;
        // Most chunks carry none of the rest, and build nothing for it.
        if let Some(calls) = delta.tool_calls {
            chunk = chunk.with_tool_call_chunks(calls.into_iter().map(ToolCallChunk::from));
        }
        if self.finish_reason.is_some() {
            chunk.set_finish_reason(self.finish_reason);
        }
        if usage.is_some() {
            chunk.set_usage(usage);
        }
        chunk
    }
}

/// `choices` (an array, or `null`) down to the choice with index 0, without a vector.
fn choice_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Choices, D::Error> {
    struct ChoiceZero;

    impl<'de> Visitor<'de> for ChoiceZero {
        type Value = Choices;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of choices")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Choices::default())
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Choices::default())
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
            let mut choices = Choices::default();
            while let Some(choice) = items.next_element::<DeltaChoice>()? {
                choices.finished |= choice.finish_reason.is_some();
                // A missing or null index is 0, as in the full chunk.
                if choices.zero.is_none() && choice.index.unwrap_or(0) == 0 {
                    choices.zero = Some(choice);
                }
            }
            Ok(choices)
        }
    }

    deserializer.deserialize_option(ChoiceZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ChatCompletionChunk;

    /// The lean decoding must agree with the full one on everything `ChatOpenAI` reads.
    fn agrees(json: &str) {
        let full: ChatCompletionChunk = serde_json::from_str(json).unwrap();
        let lean: DeltaChunk = serde_json::from_str(json).unwrap();
        let zero = full
            .choices
            .iter()
            .find(|choice| choice.index == 0)
            .cloned();
        assert_eq!(
            lean.choices.finished,
            full.choices
                .iter()
                .any(|choice| choice.finish_reason.is_some()),
            "{json}"
        );
        assert_eq!(
            lean.choices.zero.map(|choice| choice.into_chat_chunk(None)),
            zero.map(|choice| choice.into_chat_chunk(None)),
            "{json}"
        );
        assert_eq!(lean.usage, full.usage, "{json}");
        assert_eq!(lean.error, full.error, "{json}");
    }

    #[test]
    fn agrees_with_the_full_chunk_on_what_chat_openai_reads() {
        agrees(
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":null}]}"#,
        );
        agrees(r#"{"choices":[{"delta":{"content":null},"finish_reason":""}],"extra":1}"#);
        agrees(r#"{"choices":[{"index":null,"delta":null,"finish_reason":"length"}]}"#);
        agrees(
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        );
        agrees(r#"{"choices":null,"usage":null}"#);
        agrees(r#"{}"#);
        agrees(
            r#"{"choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}"#,
        );
        agrees(
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{"}}]}}]}"#,
        );
        agrees(r#"{"choices":[{"delta":{"tool_calls":null,"refusal":"no","role":"robot"}}]}"#);
        agrees(r#"{"error":{"message":"overloaded","type":"server_error","code":503}}"#);
        agrees(r#"{"error":"plain text"}"#);
        // Only another choice finishes: the answer still counts as complete.
        agrees(r#"{"choices":[{"index":1,"delta":{},"finish_reason":"stop"}]}"#);
    }

    #[test]
    fn fields_chat_openai_does_not_read_are_not_checked() {
        let json = r#"{"id":5,"model":null,"created":"x","choices":[{"delta":{"content":"a","refusal":7}}]}"#;
        let lean: DeltaChunk = serde_json::from_str(json).unwrap();
        assert_eq!(
            lean.choices.zero.unwrap().into_chat_chunk(None).content,
            "a"
        );
        assert!(serde_json::from_str::<ChatCompletionChunk>(json).is_err());
    }

    #[test]
    fn the_head_is_the_answers_id_and_model_when_they_are_strings() {
        let read = |json: &str| {
            let mut chunk: DeltaChunk = serde_json::from_str(json).unwrap();
            let named = chunk.read_head(json);
            (named, chunk.head.map(|head| *head))
        };
        let json = r#"{"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","choices":[{"delta":{"content":"a"}}]}"#;
        assert_eq!(
            read(json),
            (
                true,
                Some(ResponseHead {
                    id: Some("chatcmpl-1".into()),
                    model: Some("gpt-4o-mini-2024-07-18".into()),
                })
            )
        );
        // Azure's first chunk: content filters, an empty id and model.
        assert_eq!(read(r#"{"id":"","model":"","choices":[]}"#), (false, None));
        assert_eq!(read(r#"{"id":5,"model":null,"choices":[]}"#), (false, None));
        assert_eq!(
            read(r#"{"id":"c","model":""}"#),
            (
                true,
                Some(ResponseHead {
                    id: Some("c".into()),
                    model: None
                })
            )
        );
    }

    #[test]
    fn a_malformed_choices_field_is_an_error_as_in_the_full_chunk() {
        for json in [r#"{"choices":{"index":0}}"#, r#"{"choices":[{"delta":7}]}"#] {
            assert!(serde_json::from_str::<DeltaChunk>(json).is_err(), "{json}");
            assert!(
                serde_json::from_str::<ChatCompletionChunk>(json).is_err(),
                "{json}"
            );
        }
    }
}
