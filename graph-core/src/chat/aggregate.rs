use super::{ChatChunk, Message, Role, ToolCall};

/// Assembles streamed [`ChatChunk`]s into the whole [`Message`].
///
/// Text is concatenated; tool-call pieces are assembled by their `index` (not by arrival
/// order, which servers may interleave); the last finish reason and usage win.
///
/// ```
/// use stategraph_core::{ChatChunk, MessageBuilder};
/// let mut builder = MessageBuilder::default();
/// builder.push(&ChatChunk::text("Why"));
/// builder.push(&ChatChunk::text(" was"));
/// assert_eq!(builder.finish().text(), "Why was");
/// ```
#[derive(Debug, Default)]
pub struct MessageBuilder {
    content: String,
    tool_calls: Vec<PartialToolCall>,
    finish_reason: Option<super::FinishReason>,
    usage: Option<super::Usage>,
    id: Option<String>,
}

#[derive(Debug)]
struct PartialToolCall {
    index: u32,
    id: String,
    name: String,
    arguments: String,
}

impl MessageBuilder {
    /// A builder whose message will carry `id`.
    pub fn with_id(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Adds one chunk. The message takes the id of the first chunk that carries one
    /// ([`ChatChunk::message_id`]), unless the builder was made [`with_id`](Self::with_id).
    pub fn push(&mut self, chunk: &ChatChunk) {
        self.content.push_str(&chunk.content);
        if chunk.is_text_only() {
            // Nearly every chunk: a token of text.
            return;
        }
        if let (None, Some(id)) = (&self.id, chunk.message_id()) {
            self.id = Some(id.to_owned());
        }
        for piece in chunk.tool_call_chunks() {
            let call = match self
                .tool_calls
                .iter_mut()
                .position(|c| c.index == piece.index)
            {
                Some(at) => &mut self.tool_calls[at],
                None => {
                    self.tool_calls.push(PartialToolCall {
                        index: piece.index,
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                    let last = self.tool_calls.len() - 1;
                    &mut self.tool_calls[last]
                }
            };
            if let Some(id) = &piece.id {
                call.id.clone_from(id);
            }
            if let Some(name) = &piece.name {
                call.name.push_str(name);
            }
            call.arguments.push_str(&piece.arguments);
        }
        if let Some(reason) = chunk.finish_reason() {
            self.finish_reason = Some(reason.clone());
        }
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage);
        }
    }

    /// The text received so far.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// The assembled assistant message.
    pub fn finish(mut self) -> Message {
        self.tool_calls.sort_by_key(|call| call.index);
        let mut message = Message::new(Role::Assistant, self.content);
        message.tool_calls = self
            .tool_calls
            .into_iter()
            .map(|call| ToolCall {
                id: call.id,
                name: call.name,
                arguments: call.arguments,
            })
            .collect();
        message.finish_reason = self.finish_reason;
        message.usage = self.usage;
        message.id = self.id;
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::chunk::ToolCallChunk;

    fn piece(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> ChatChunk {
        ChatChunk::default().with_tool_call_chunks([ToolCallChunk {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: arguments.to_owned(),
        }])
    }

    #[test]
    fn a_message_takes_the_id_its_chunks_carry_unless_given_one() {
        let mut builder = MessageBuilder::default();
        builder.push(&ChatChunk::text("a").with_message_id("run-1"));
        builder.push(&ChatChunk::text("b").with_message_id("run-2"));
        let message = builder.finish();
        assert_eq!(message.id.as_deref(), Some("run-1"));
        assert_eq!(message.text(), "ab");
        let mut builder = MessageBuilder::with_id("mine");
        builder.push(&ChatChunk::text("a").with_message_id("run-1"));
        assert_eq!(builder.finish().id.as_deref(), Some("mine"));
    }

    #[test]
    fn tool_call_pieces_assemble_by_index_even_when_interleaved() {
        let mut builder = MessageBuilder::default();
        builder.push(&piece(1, Some("b"), Some("get_time"), "{\"tz\""));
        builder.push(&piece(0, Some("a"), Some("get_weather"), "{\"city\""));
        builder.push(&piece(0, None, None, ": \"Paris\"}"));
        builder.push(&piece(1, None, None, ": \"UTC\"}"));
        let message = builder.finish();
        assert_eq!(message.tool_calls.len(), 2);
        assert_eq!(message.tool_calls[0].name, "get_weather");
        assert_eq!(message.tool_calls[0].arguments, "{\"city\": \"Paris\"}");
        assert_eq!(message.tool_calls[1].id, "b");
        assert_eq!(message.tool_calls[1].arguments_json().unwrap()["tz"], "UTC");
    }
}
