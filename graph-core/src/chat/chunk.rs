use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{FinishReason, Role, ToolStatus, Usage};

/// One streamed piece of a model's answer, as the provider sent it.
///
/// Nearly every chunk of a stream is a token of text, so the text and role are plain
/// fields and the rest (tool-call pieces, the finish reason, usage), which only a few
/// chunks carry, sits behind one pointer, read with [`tool_call_chunks`](Self::tool_call_chunks),
/// [`finish_reason`](Self::finish_reason) and [`usage`](Self::usage). A chunk is then
/// 40 bytes instead of 112, and every layer between the model and the consumer moves it
/// that much faster.
///
/// In a graph stream each chunk is wrapped in a [`MessageChunk`](crate::MessageChunk) that
/// adds where it came from.
///
/// ```
/// use stategraph_core::{ChatChunk, FinishReason, Usage};
/// let last = ChatChunk::text("!")
///     .with_finish_reason(FinishReason::Stop)
///     .with_usage(Usage { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
/// assert_eq!(last.finish_reason(), Some(&FinishReason::Stop));
/// assert_eq!(last.usage().map(|usage| usage.total_tokens), Some(8));
/// assert!(last.tool_call_chunks().is_empty());
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct ChatChunk {
    /// The role, usually only on the first chunk.
    pub role: Option<Role>,
    /// The text this chunk adds (often one token). Empty for chunks that only carry
    /// tool-call deltas, a finish reason or usage.
    pub content: String,
    /// `None` whenever all of it would be empty, so that equal chunks compare equal.
    rare: Option<Box<RareParts>>,
}

/// What few chunks carry.
#[derive(Clone, Debug, Default, PartialEq)]
struct RareParts {
    tool_call_chunks: Vec<ToolCallChunk>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    message_id: Option<String>,
    /// The provider's id for its answer (OpenAI's `chatcmpl-...`).
    response_id: Option<String>,
    /// The model that answered, as the provider names it.
    response_model: Option<String>,
    /// A whole tool message's answer: the call it answers, the tool's name, its status.
    tool_result: Option<ToolResultParts>,
}

#[derive(Clone, Debug, PartialEq)]
struct ToolResultParts {
    tool_call_id: Option<String>,
    name: Option<String>,
    status: Option<ToolStatus>,
}

impl RareParts {
    fn is_empty(&self) -> bool {
        self.tool_call_chunks.is_empty()
            && self.finish_reason.is_none()
            && self.usage.is_none()
            && self.message_id.is_none()
            && self.response_id.is_none()
            && self.response_model.is_none()
            && self.tool_result.is_none()
    }
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
        let pieces = message
            .tool_calls
            .iter()
            .zip(0..)
            .map(|(call, index)| ToolCallChunk {
                index,
                id: Some(call.id.clone()),
                name: Some(call.name.clone()),
                arguments: call.arguments.clone(),
            });
        let mut chunk = Self {
            role: Some(message.role),
            ..Self::text(message.content.clone())
        }
        .with_tool_call_chunks(pieces);
        chunk.set_finish_reason(message.finish_reason.clone());
        chunk.set_usage(message.usage);
        if message.tool_call_id.is_some() || message.name.is_some() || message.status.is_some() {
            chunk.rare_mut().tool_result = Some(ToolResultParts {
                tool_call_id: message.tool_call_id.clone(),
                name: message.name.clone(),
                status: message.status,
            });
        }
        chunk
    }

    /// Whether the chunk adds neither text nor a piece of a tool call: the role-only first
    /// chunk, or the last one that carries only the finish reason and usage. Streams keep
    /// them, as LangGraph does; a consumer printing tokens may skip them.
    ///
    /// ```
    /// use stategraph_core::{ChatChunk, FinishReason};
    /// assert!(ChatChunk::default().with_finish_reason(FinishReason::Stop).is_empty());
    /// assert!(!ChatChunk::text("Why").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.content.is_empty() && self.tool_call_chunks().is_empty()
    }

    /// For a whole tool message (as messages mode carries one a node returned): the id of
    /// the call it answers.
    pub fn tool_call_id(&self) -> Option<&str> {
        self.tool_result()?.tool_call_id.as_deref()
    }

    /// For a whole message with a name (a tool message names its tool): the name.
    pub fn name(&self) -> Option<&str> {
        self.tool_result()?.name.as_deref()
    }

    /// For a whole tool message: whether the call succeeded.
    pub fn tool_status(&self) -> Option<ToolStatus> {
        self.tool_result()?.status
    }

    fn tool_result(&self) -> Option<&ToolResultParts> {
        self.rare.as_ref()?.tool_result.as_ref()
    }

    /// Pieces of tool calls, to be assembled by their `index`.
    pub fn tool_call_chunks(&self) -> &[ToolCallChunk] {
        self.rare
            .as_ref()
            .map_or(&[], |rare| &rare.tool_call_chunks)
    }

    /// Why the answer ended, on the chunk that ends it.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.rare.as_ref()?.finish_reason.as_ref()
    }

    /// Token counts, on the chunk that carries them (usually the last).
    pub fn usage(&self) -> Option<Usage> {
        self.rare.as_ref()?.usage
    }

    /// The id of the message this chunk belongs to, when the chunk carries it. A model call
    /// made with `ctx.chat(..)` puts its call's id on the first chunk it hands the node, so
    /// that a [`MessageBuilder`](crate::MessageBuilder) fed the call's chunks builds a
    /// message with that id (as LangChain's chunks keep their id when summed).
    pub fn message_id(&self) -> Option<&str> {
        self.rare.as_ref()?.message_id.as_deref()
    }

    /// This chunk, belonging to the message `id`.
    #[must_use]
    pub fn with_message_id(mut self, id: impl Into<String>) -> Self {
        self.rare_mut().message_id = Some(id.into());
        self
    }

    /// The provider's id for the answer this chunk belongs to (OpenAI's `chatcmpl-...`),
    /// when the chunk carries it. It is not the message's id
    /// ([`message_id`](Self::message_id)), which the graph gives each model call; the
    /// model call's span records it as `gen_ai.response.id`.
    ///
    /// ```
    /// use stategraph_core::ChatChunk;
    /// let chunk = ChatChunk::text("Hi")
    ///     .with_response_id("chatcmpl-1")
    ///     .with_response_model("gpt-4o-mini-2024-07-18");
    /// assert_eq!(chunk.response_id(), Some("chatcmpl-1"));
    /// assert_eq!(chunk.response_model(), Some("gpt-4o-mini-2024-07-18"));
    /// assert_eq!(chunk.message_id(), None);
    /// ```
    pub fn response_id(&self) -> Option<&str> {
        self.rare.as_ref()?.response_id.as_deref()
    }

    /// The model that answered, as the provider names it (often more exact than the model
    /// asked for: `gpt-4o-mini-2024-07-18` for `gpt-4o-mini`), when the chunk carries it.
    pub fn response_model(&self) -> Option<&str> {
        self.rare.as_ref()?.response_model.as_deref()
    }

    /// This chunk, carrying the provider's id for its answer.
    #[must_use]
    pub fn with_response_id(mut self, id: impl Into<String>) -> Self {
        self.rare_mut().response_id = Some(id.into());
        self
    }

    /// This chunk, carrying the name of the model that answered.
    #[must_use]
    pub fn with_response_model(mut self, model: impl Into<String>) -> Self {
        self.rare_mut().response_model = Some(model.into());
        self
    }

    /// This chunk, written by `role`.
    #[must_use]
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// This chunk with `pieces` added to its tool-call pieces.
    #[must_use]
    pub fn with_tool_call_chunks(
        mut self,
        pieces: impl IntoIterator<Item = ToolCallChunk>,
    ) -> Self {
        let mut pieces = pieces.into_iter().peekable();
        if pieces.peek().is_some() {
            self.rare_mut().tool_call_chunks.extend(pieces);
        }
        self
    }

    /// This chunk, ending the answer for `reason`.
    #[must_use]
    pub fn with_finish_reason(mut self, reason: FinishReason) -> Self {
        self.set_finish_reason(Some(reason));
        self
    }

    /// This chunk, carrying `usage`.
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.set_usage(Some(usage));
        self
    }

    /// Sets or clears the finish reason, returning the one it replaces.
    pub fn set_finish_reason(&mut self, reason: Option<FinishReason>) -> Option<FinishReason> {
        let old = match reason {
            Some(reason) => self.rare_mut().finish_reason.replace(reason),
            None => self
                .rare
                .as_mut()
                .and_then(|rare| rare.finish_reason.take()),
        };
        self.drop_empty_rare();
        old
    }

    /// Sets or clears the usage, returning the one it replaces.
    pub fn set_usage(&mut self, usage: Option<Usage>) -> Option<Usage> {
        let old = match usage {
            Some(usage) => self.rare_mut().usage.replace(usage),
            None => self.rare.as_mut().and_then(|rare| rare.usage.take()),
        };
        self.drop_empty_rare();
        old
    }

    /// Whether the chunk carries only a role and text: no tool-call piece, finish reason,
    /// usage, message id or response id or model.
    pub fn is_text_only(&self) -> bool {
        self.rare.is_none()
    }

    fn rare_mut(&mut self) -> &mut RareParts {
        self.rare.get_or_insert_with(Box::default)
    }

    fn drop_empty_rare(&mut self) {
        if self.rare.as_ref().is_some_and(|rare| rare.is_empty()) {
            self.rare = None;
        }
    }
}

/// Adds a chunk of the same call, as LangChain adds `AIMessageChunk`s: text appended,
/// tool-call pieces joined by `index` (the first id and name kept, arguments appended),
/// the last finish reason and usage kept, the first response id and model kept.
impl std::ops::AddAssign<&ChatChunk> for ChatChunk {
    fn add_assign(&mut self, next: &ChatChunk) {
        self.content.push_str(&next.content);
        if self.role.is_none() {
            self.role = next.role;
        }
        if next.is_text_only() {
            return;
        }
        for piece in next.tool_call_chunks() {
            let pieces = &mut self.rare_mut().tool_call_chunks;
            match pieces.iter_mut().find(|call| call.index == piece.index) {
                Some(call) => {
                    if call.id.is_none() {
                        call.id.clone_from(&piece.id);
                    }
                    if call.name.is_none() {
                        call.name.clone_from(&piece.name);
                    }
                    call.arguments.push_str(&piece.arguments);
                }
                None => pieces.push(piece.clone()),
            }
        }
        if let Some(reason) = next.finish_reason() {
            self.set_finish_reason(Some(reason.clone()));
        }
        if let Some(usage) = next.usage() {
            self.set_usage(Some(usage));
        }
        if let (None, Some(id)) = (self.response_id(), next.response_id()) {
            self.rare_mut().response_id = Some(id.to_owned());
        }
        if let (None, Some(model)) = (self.response_model(), next.response_model()) {
            self.rare_mut().response_model = Some(model.to_owned());
        }
    }
}

impl fmt::Debug for ChatChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Flat, as the chunk reads through its accessors.
        f.debug_struct("ChatChunk")
            .field("role", &self.role)
            .field("content", &self.content)
            .field("tool_call_chunks", &self.tool_call_chunks())
            .field("finish_reason", &self.finish_reason())
            .field("usage", &self.usage())
            .field("message_id", &self.message_id())
            .field("response_id", &self.response_id())
            .field("response_model", &self.response_model())
            .finish()
    }
}

// As JSON a chunk keeps the flat shape: its fields side by side, each left out when empty.

impl Serialize for ChatChunk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ChunkJsonRef {
            role: self.role,
            content: &self.content,
            tool_call_chunks: self.tool_call_chunks(),
            finish_reason: self.finish_reason(),
            usage: self.usage(),
            id: self.message_id(),
            response_id: self.response_id(),
            response_model: self.response_model(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ChatChunk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = ChunkJson::deserialize(deserializer)?;
        let mut chunk = Self {
            role: json.role,
            ..Self::text(json.content)
        }
        .with_tool_call_chunks(json.tool_call_chunks);
        chunk.set_finish_reason(json.finish_reason);
        chunk.set_usage(json.usage);
        if let Some(id) = json.id {
            chunk = chunk.with_message_id(id);
        }
        if let Some(id) = json.response_id {
            chunk = chunk.with_response_id(id);
        }
        if let Some(model) = json.response_model {
            chunk = chunk.with_response_model(model);
        }
        Ok(chunk)
    }
}

#[derive(Serialize)]
struct ChunkJsonRef<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    content: &'a str,
    #[serde(skip_serializing_if = "no_pieces")]
    tool_call_chunks: &'a [ToolCallChunk],
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'a FinishReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_model: Option<&'a str>,
}

fn no_pieces(pieces: &&[ToolCallChunk]) -> bool {
    pieces.is_empty()
}

#[derive(Deserialize)]
struct ChunkJson {
    #[serde(default)]
    role: Option<Role>,
    content: String,
    #[serde(default)]
    tool_call_chunks: Vec<ToolCallChunk>,
    #[serde(default)]
    finish_reason: Option<FinishReason>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    response_id: Option<String>,
    #[serde(default)]
    response_model: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_chunk_is_its_text_a_role_and_one_pointer() {
        // Every layer between the model and the consumer moves each chunk: it must stay
        // small, so the rare parts live behind the one pointer.
        assert_eq!(std::mem::size_of::<ChatChunk>(), 40);
    }

    #[test]
    fn the_rare_parts_are_kept_only_while_one_is_set() {
        let mut chunk = ChatChunk::text("a").with_finish_reason(FinishReason::Stop);
        assert!(!chunk.is_text_only());
        assert_eq!(chunk.set_finish_reason(None), Some(FinishReason::Stop));
        assert!(chunk.is_text_only());
        assert_eq!(chunk, ChatChunk::text("a"), "equal once the reason is gone");
        assert!(
            ChatChunk::text("a")
                .with_tool_call_chunks([])
                .is_text_only()
        );
    }

    #[test]
    fn a_sum_of_chunks_keeps_the_first_response_id_and_model() {
        let mut sum = ChatChunk::text("a");
        sum += &ChatChunk::text("b")
            .with_response_id("chatcmpl-1")
            .with_response_model("m-2024");
        sum += &ChatChunk::text("c")
            .with_response_id("chatcmpl-2")
            .with_response_model("other");
        assert_eq!(sum.content, "abc");
        assert_eq!(sum.response_id(), Some("chatcmpl-1"));
        assert_eq!(sum.response_model(), Some("m-2024"));
        let json = serde_json::to_value(&sum).unwrap();
        assert_eq!(json["response_id"], "chatcmpl-1");
        assert_eq!(json["response_model"], "m-2024");
        assert_eq!(serde_json::from_value::<ChatChunk>(json).unwrap(), sum);
    }

    #[test]
    fn json_keeps_the_flat_shape_both_ways() {
        let usage = Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
            total_tokens: 3,
        };
        let chunk = ChatChunk::text("hi")
            .with_role(Role::Assistant)
            .with_finish_reason(FinishReason::Length)
            .with_usage(usage);
        let json = serde_json::to_value(&chunk).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "role": "assistant",
                "content": "hi",
                "finish_reason": "length",
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            })
        );
        assert_eq!(serde_json::from_value::<ChatChunk>(json).unwrap(), chunk);
        let text: ChatChunk = serde_json::from_str(r#"{"content": "x"}"#).unwrap();
        assert!(text.is_text_only());
        assert!(
            serde_json::from_str::<ChatChunk>("{}").is_err(),
            "content is required"
        );
    }
}
