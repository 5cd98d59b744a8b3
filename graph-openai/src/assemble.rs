//! Whole messages from raw chunks, for nodes that read the raw client.

use std::collections::BTreeMap;

use stategraph_core::{Message, MessageBuilder};

use crate::wire::ChatCompletionChunk;

/// Assembles the raw chunks of one completion into one [`Message`] per choice: text
/// joined, tool-call deltas assembled by their `index` into whole calls, the finish
/// reason and the usage kept.
///
/// ```
/// use stategraph_openai::{CompletionBuilder, wire::ChatCompletionChunk};
/// let chunks: Vec<ChatCompletionChunk> = [
///     r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_weather","arguments":"{\"ci"}}]}}]}"#,
///     r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Paris\"}"}}]},"finish_reason":"tool_calls"}]}"#,
/// ].iter().map(|json| serde_json::from_str(json).unwrap()).collect();
///
/// let mut builder = CompletionBuilder::default();
/// chunks.iter().for_each(|chunk| builder.push(chunk));
/// let message = builder.finish().remove(0);
/// assert_eq!(message.tool_calls[0].name, "get_weather");
/// assert_eq!(message.tool_calls[0].arguments, r#"{"city": "Paris"}"#);
/// ```
#[derive(Debug, Default)]
pub struct CompletionBuilder {
    id: Option<String>,
    choices: BTreeMap<u32, MessageBuilder>,
    usage: Option<stategraph_core::Usage>,
}

impl CompletionBuilder {
    /// Adds one chunk.
    pub fn push(&mut self, chunk: &ChatCompletionChunk) {
        if self.id.is_none() && !chunk.id.is_empty() {
            self.id = Some(chunk.id.clone());
        }
        for choice in &chunk.choices {
            let builder = self.choices.entry(choice.index).or_insert_with(|| {
                self.id
                    .as_ref()
                    .map_or_else(MessageBuilder::default, MessageBuilder::with_id)
            });
            builder.push(&choice.clone().into_chat_chunk(None));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
    }

    /// The text of choice `index` so far.
    pub fn content(&self, index: u32) -> Option<&str> {
        self.choices.get(&index).map(MessageBuilder::content)
    }

    /// One assistant message per choice, in index order; the usage (which covers the
    /// whole completion) goes on the first.
    pub fn finish(self) -> Vec<Message> {
        let mut messages: Vec<Message> = self
            .choices
            .into_values()
            .map(MessageBuilder::finish)
            .collect();
        if let Some(first) = messages.first_mut() {
            first.usage = self.usage;
        }
        messages
    }
}
