//! A chat model that scripts whole conversations for tests and offline examples.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use stategraph_core::{
    ChatChunk, ChatChunkStream, ChatModel, ChatRequest, FinishReason, ModelIdentity, Role,
    ToolCallChunk, Usage,
};

/// A chat model that plays a script: a queue of [`Reply`]s, one per call, and replies
/// chosen by what the prompt says. Each reply streams as a real provider streams it: a
/// role-only first chunk, the text in the pieces given or the tool calls as argument
/// deltas (with their ids and indexes), then a chunk with the finish reason and usage.
///
/// It records every request, so a test can check what the model was sent (the tools
/// offered, the tool messages in the history).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use futures::TryStreamExt;
/// use stategraph_core::{ChatModel, ChatRequest, Message, MessageBuilder};
/// use stategraph_prebuilt::{FakeChatModel, Reply};
///
/// let model = FakeChatModel::new([
///     Reply::tool_call("get_weather", serde_json::json!({"city": "Paris"})),
///     Reply::text("It is sunny in Paris."),
/// ]);
/// let chunks: Vec<_> = model.stream(ChatRequest::new([Message::user("Weather in Paris?")])).try_collect().await.unwrap();
/// let mut message = MessageBuilder::default();
/// chunks.iter().for_each(|chunk| message.push(chunk));
/// assert_eq!(message.finish().tool_calls[0].arguments, r#"{"city":"Paris"}"#);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct FakeChatModel {
    identity: ModelIdentity,
    script: Arc<Mutex<Script>>,
    delay: Option<Duration>,
}

#[derive(Debug, Default)]
struct Script {
    queue: VecDeque<Reply>,
    /// `(text the last message contains, the reply)`, tried in order before the queue.
    rules: Vec<(String, Reply)>,
    requests: Vec<ChatRequest>,
}

/// One scripted answer of a [`FakeChatModel`].
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    kind: ReplyKind,
}

#[derive(Clone, Debug, PartialEq)]
enum ReplyKind {
    Text(Vec<String>),
    ToolCalls(Vec<FakeToolCall>),
    Error(String),
}

/// A tool call a [`Reply`] makes.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeToolCall {
    /// The call's id; `None` numbers it `call_<n>` in the model's calls.
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON text: any text, so a test can script arguments that do not
    /// parse.
    pub arguments: String,
}

impl FakeToolCall {
    /// A call of `name` with `arguments` written as JSON.
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::raw(name, arguments.to_string())
    }

    /// A call of `name` with `arguments` as they are, JSON or not.
    pub fn raw(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    /// The call, with the id `id`.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl Reply {
    /// Text, streamed word by word (each piece after the first starts with its space).
    pub fn text(text: &str) -> Self {
        let mut pieces = Vec::new();
        let mut start = 0;
        for (at, ch) in text.char_indices() {
            if ch == ' ' && at > start {
                pieces.push(text[start..at].to_owned());
                start = at;
            }
        }
        if start < text.len() {
            pieces.push(text[start..].to_owned());
        }
        Self {
            kind: ReplyKind::Text(pieces),
        }
    }

    /// Text, streamed in exactly these pieces.
    pub fn text_in(pieces: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            kind: ReplyKind::Text(pieces.into_iter().map(Into::into).collect()),
        }
    }

    /// One tool call of `name` with `arguments`.
    pub fn tool_call(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::tool_calls([FakeToolCall::new(name, arguments)])
    }

    /// Several tool calls in one answer, indexed in this order.
    pub fn tool_calls(calls: impl IntoIterator<Item = FakeToolCall>) -> Self {
        Self {
            kind: ReplyKind::ToolCalls(calls.into_iter().collect()),
        }
    }

    /// The call fails with [`FakeModelError::Scripted`], before any chunk.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: ReplyKind::Error(message.into()),
        }
    }
}

/// Why a [`FakeChatModel`] call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FakeModelError {
    /// The script has no reply left for this call and no rule matched its prompt.
    #[error(
        "the fake model has no reply left for call {call} (its last message: {last_message:?})"
    )]
    NoReplyLeft {
        /// Which call, counting from 1.
        call: usize,
        /// The text of the call's last message, to see which turn was not scripted.
        last_message: String,
    },
    /// The script's [`Reply::error`].
    #[error("scripted model error: {message}")]
    Scripted {
        /// The scripted message.
        message: String,
    },
}

impl FakeChatModel {
    /// A model answering its calls with `replies`, in order. Its identity is provider
    /// `fake`, model `fake-chat-model`.
    pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            identity: ModelIdentity::new("fake", "fake-chat-model"),
            script: Arc::new(Mutex::new(Script {
                queue: replies.into_iter().collect(),
                ..Script::default()
            })),
            delay: None,
        }
    }

    /// Answers `reply`, every time, to a call whose last message contains `text`; tried
    /// before the queue, in the order the rules were added.
    #[must_use]
    pub fn when_prompt_contains(self, text: impl Into<String>, reply: Reply) -> Self {
        self.script().rules.push((text.into(), reply));
        self
    }

    /// Waits `delay` before each chunk (on Tokio's clock, so paused-clock tests are exact).
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Presents the model with `identity` in stream metadata.
    #[must_use]
    pub fn with_identity(mut self, identity: ModelIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// Every request the model was sent, in order (clones share them).
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.script().requests.clone()
    }

    /// How many queued replies are left.
    pub fn remaining(&self) -> usize {
        self.script().queue.len()
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The reply for `request`, recording it.
    fn next_reply(&self, request: &ChatRequest) -> Result<(usize, Reply), FakeModelError> {
        let mut script = self.script();
        script.requests.push(request.clone());
        let call = script.requests.len();
        let last_message = request
            .messages
            .last()
            .map_or(String::new(), |m| m.content.clone());
        let ruled = script
            .rules
            .iter()
            .find(|(text, _)| last_message.contains(text.as_str()))
            .map(|(_, reply)| reply.clone());
        match ruled.or_else(|| script.queue.pop_front()) {
            Some(reply) => Ok((call, reply)),
            None => Err(FakeModelError::NoReplyLeft { call, last_message }),
        }
    }
}

/// A reply's chunks, as a provider streams them.
fn chunks(call: usize, reply: Reply, prompt_tokens: u64) -> Result<Vec<ChatChunk>, FakeModelError> {
    let mut chunks = vec![ChatChunk::default().with_role(Role::Assistant)];
    let finish = match reply.kind {
        ReplyKind::Error(message) => return Err(FakeModelError::Scripted { message }),
        ReplyKind::Text(pieces) => {
            chunks.extend(pieces.into_iter().map(ChatChunk::text));
            FinishReason::Stop
        }
        ReplyKind::ToolCalls(calls) => {
            for (index, call_) in (0..).zip(calls) {
                let id = call_.id.unwrap_or_else(|| format!("call_{call}_{index}"));
                // The first delta names the call; its arguments follow in pieces.
                chunks.push(ChatChunk::default().with_tool_call_chunks([ToolCallChunk {
                    index,
                    id: Some(id),
                    name: Some(call_.name),
                    arguments: String::new(),
                }]));
                for piece in argument_pieces(&call_.arguments) {
                    chunks.push(ChatChunk::default().with_tool_call_chunks([ToolCallChunk {
                        index,
                        id: None,
                        name: None,
                        arguments: piece,
                    }]));
                }
            }
            FinishReason::ToolCalls
        }
    };
    let completion_tokens = (chunks.len() - 1) as u64;
    chunks.push(
        ChatChunk::default()
            .with_finish_reason(finish)
            .with_usage(Usage {
                prompt_tokens,
                completion_tokens,
                total_tokens: prompt_tokens + completion_tokens,
            }),
    );
    Ok(chunks)
}

/// Arguments in pieces of a few characters, as providers stream them.
fn argument_pieces(arguments: &str) -> Vec<String> {
    const PIECE: usize = 8;
    let chars: Vec<char> = arguments.chars().collect();
    chars
        .chunks(PIECE)
        .map(|piece| piece.iter().collect())
        .collect()
}

impl ChatModel for FakeChatModel {
    type Error = FakeModelError;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<FakeModelError> {
        let prompt_tokens = request
            .messages
            .iter()
            .map(|message| message.content.split_whitespace().count() as u64)
            .sum();
        let items: Vec<Result<ChatChunk, FakeModelError>> = match self
            .next_reply(&request)
            .and_then(|(call, reply)| chunks(call, reply, prompt_tokens))
        {
            Ok(chunks) => chunks.into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        };
        let delay = self.delay;
        futures::stream::iter(items)
            .then(move |item| async move {
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                item
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;
    use stategraph_core::{Message, MessageBuilder};

    use super::*;

    async fn answer(model: &FakeChatModel, prompt: &str) -> Result<Vec<ChatChunk>, FakeModelError> {
        model
            .stream(ChatRequest::new([Message::user(prompt)]))
            .try_collect()
            .await
    }

    #[tokio::test]
    async fn text_streams_in_its_pieces_between_a_role_chunk_and_a_finish_chunk() {
        let model = FakeChatModel::new([Reply::text_in(["Sun", "ny", "!"])]);
        let chunks = answer(&model, "hi").await.unwrap();
        let contents: Vec<_> = chunks.iter().map(|c| c.content.as_str()).collect();
        assert_eq!(contents, ["", "Sun", "ny", "!", ""]);
        assert_eq!(chunks[0].role, Some(Role::Assistant));
        assert!(chunks[0].is_empty() && chunks[4].is_empty());
        assert_eq!(chunks[4].finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(chunks[4].usage().unwrap().completion_tokens, 3);
        assert_eq!(
            Reply::text("It is sunny"),
            Reply::text_in(["It", " is", " sunny"])
        );
    }

    #[tokio::test]
    async fn tool_calls_stream_as_argument_deltas_with_their_ids_and_indexes() {
        let model = FakeChatModel::new([Reply::tool_calls([
            FakeToolCall::new("get_weather", serde_json::json!({"city": "Paris"}))
                .with_id("call_a"),
            FakeToolCall::new("get_time", serde_json::json!({"zone": "Europe/Paris"})),
        ])]);
        let chunks = answer(&model, "hi").await.unwrap();
        let pieces: Vec<_> = chunks
            .iter()
            .flat_map(ChatChunk::tool_call_chunks)
            .collect();
        assert!(pieces.len() > 4, "arguments arrive in pieces: {pieces:?}");
        assert_eq!(pieces[0].id.as_deref(), Some("call_a"));
        assert!(pieces[1].id.is_none() && pieces[1].name.is_none());
        let mut message = MessageBuilder::default();
        chunks.iter().for_each(|chunk| message.push(chunk));
        let message = message.finish();
        assert_eq!(message.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(message.tool_calls.len(), 2);
        assert_eq!(message.tool_calls[1].id, "call_1_1");
        assert_eq!(
            message.tool_calls[1].arguments_json().unwrap(),
            serde_json::json!({"zone": "Europe/Paris"})
        );
    }

    #[tokio::test]
    async fn rules_answer_by_prompt_before_the_queue_and_an_empty_queue_is_a_typed_error() {
        let model = FakeChatModel::new([Reply::text("queued"), Reply::error("overloaded")])
            .when_prompt_contains("weather", Reply::text("sunny"));
        let text =
            |chunks: Vec<ChatChunk>| chunks.iter().map(|c| c.content.clone()).collect::<String>();
        assert_eq!(text(answer(&model, "the weather?").await.unwrap()), "sunny");
        assert_eq!(text(answer(&model, "hello").await.unwrap()), "queued");
        assert_eq!(
            text(answer(&model, "weather again").await.unwrap()),
            "sunny"
        );
        assert_eq!(
            answer(&model, "hello").await.unwrap_err(),
            FakeModelError::Scripted {
                message: "overloaded".into()
            }
        );
        let error = answer(&model, "anyone?").await.unwrap_err();
        assert_eq!(
            error,
            FakeModelError::NoReplyLeft {
                call: 5,
                last_message: "anyone?".into()
            }
        );
        assert_eq!(model.requests().len(), 5);
        assert_eq!(model.requests()[1].messages[0].content, "hello");
    }
}
