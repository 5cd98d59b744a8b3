//! Messages mode beyond text: tool-call argument deltas, the marked last chunk, calls
//! marked `nostream`, and the metadata's tag order and unset temperature.

use futures::{StreamExt, TryStreamExt};
use stategraph::prelude::*;
use stategraph::{
    ChatChunk, ChatChunkStream, ChatRequest, FinishReason, ModelIdentity, ToolCall, ToolCallChunk,
};

/// A model that answers with a tool call, its arguments in three pieces.
struct ToolCaller {
    identity: ModelIdentity,
}

impl ChatModel for ToolCaller {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        let piece = |id: Option<&str>, name: Option<&str>, arguments: &str| {
            ChatChunk::default().with_tool_call_chunks([ToolCallChunk {
                index: 0,
                id: id.map(str::to_owned),
                name: name.map(str::to_owned),
                arguments: arguments.to_owned(),
            }])
        };
        let last = piece(None, None, "\"}").with_finish_reason(FinishReason::ToolCalls);
        futures::stream::iter([
            piece(Some("call_1"), Some("get_weather"), "{\"city\""),
            piece(None, None, ": \"Paris"),
            last,
        ])
        .map(Ok)
        .boxed()
    }
}

#[derive(Clone, Debug, Default, State)]
pub struct Calls {
    pub calls: Vec<ToolCall>,
    pub hidden: String,
}

/// The models of the graph below.
pub struct Models {
    tools: ToolCaller,
    hidden: ScriptedModel,
}

#[graph(state = Calls, context = Models, edges = [START -> act -> END])]
pub mod agent {
    use super::*;

    /// The calls of the graph.
    #[tags]
    pub enum Tag {
        /// The tool-calling model.
        Tools,
        /// Given to the whole run, declared after the call's tag.
        Traced,
    }

    /// Calls a hidden model (not streamed), then the tool-calling one.
    #[node]
    pub async fn act(_state: &Calls, ctx: &Ctx) -> Result<CallsUpdate, NodeError> {
        let models = ctx.context();
        let hidden = ctx
            .chat(&models.hidden)
            .nostream()
            .invoke([Message::user("think")])
            .await?;
        let answer = ctx
            .chat(&models.tools)
            .tag(Tag::Tools)
            .invoke([Message::user("weather in Paris?")])
            .await?;
        Ok(CallsUpdate::default()
            .calls(answer.tool_calls)
            .hidden(hidden.content))
    }
}

fn graph() -> agent::Graph {
    agent::Graph::new(Models {
        tools: ToolCaller {
            identity: ModelIdentity::new("test", "tool-caller"),
        },
        hidden: ScriptedModel::new(["secret", " thoughts"]),
    })
}

#[tokio::test]
async fn tool_call_deltas_stream_as_they_arrive_and_the_last_chunk_is_marked() {
    let mut stream = graph().stream(Calls::default(), Messages);
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.try_next().await.unwrap() {
        chunks.push(chunk);
    }
    let state = stream.into_state();
    // Only the tool caller's chunks: the `nostream` call streamed nothing.
    assert_eq!(chunks.len(), 3);
    assert!(chunks.iter().all(|c| c.has_tag(agent::Tag::Tools)));
    let arguments: Vec<&str> = chunks
        .iter()
        .map(|c| c.chunk().tool_call_chunks()[0].arguments.as_str())
        .collect();
    assert_eq!(arguments, ["{\"city\"", ": \"Paris", "\"}"]);
    assert_eq!(
        chunks[0].chunk().tool_call_chunks()[0].name.as_deref(),
        Some("get_weather")
    );
    let last: Vec<bool> = chunks.iter().map(|c| c.is_last()).collect();
    assert_eq!(last, [false, false, true]);
    assert!(
        chunks.iter().all(|c| c.id() == chunks[0].id()),
        "one id per call"
    );
    // The node got the assembled call, and the hidden call's answer.
    assert_eq!(
        state.calls,
        [ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: "{\"city\": \"Paris\"}".into(),
        }]
    );
    assert_eq!(state.hidden, "secret thoughts");
    let json = serde_json::to_value(&chunks[0]).unwrap();
    assert_eq!(
        json[0]["tool_call_chunks"],
        serde_json::json!([{"index": 0, "id": "call_1", "name": "get_weather", "args": "{\"city\"", "type": "tool_call_chunk"}])
    );
}

#[tokio::test]
async fn the_runs_tags_come_before_the_calls_own_whatever_their_declaration_order() {
    let config = RunConfig::default().tag(agent::Tag::Traced);
    let chunks: Vec<_> = graph()
        .stream_with(Calls::default(), Messages, config)
        .try_collect()
        .await
        .unwrap();
    let tags: Vec<agent::Tag> = chunks[0].tags().iter().collect();
    assert_eq!(tags, [agent::Tag::Traced, agent::Tag::Tools]);
    let json = serde_json::to_value(&chunks[0]).unwrap();
    assert_eq!(json[1]["tags"], serde_json::json!(["traced", "tools"]));
}

#[tokio::test]
async fn an_unset_temperature_is_written_as_null() {
    let chunks: Vec<_> = graph()
        .stream(Calls::default(), Messages)
        .try_collect()
        .await
        .unwrap();
    let json = serde_json::to_value(&chunks[0]).unwrap();
    assert_eq!(
        json[1].get("ls_temperature"),
        Some(&serde_json::Value::Null),
        "{json}"
    );
    let identity = serde_json::to_value(ModelIdentity::new("test", "tool-caller")).unwrap();
    assert_eq!(
        identity.get("ls_temperature"),
        Some(&serde_json::Value::Null)
    );
}
