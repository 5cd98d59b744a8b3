//! The client against a real OpenAI-compatible server with a real model: llama.cpp's
//! `llama-server` serving SmolLM2-135M-Instruct on 127.0.0.1, which `scripts/test` builds,
//! starts and names in `REAL_LLM_BASE_URL`.

use futures::TryStreamExt;
use stategraph_core::{
    ChatModel, ChatRequest, FinishReason, Message, MessageBuilder, ToolCall, ToolDefinition,
};
use stategraph_openai::wire::{ChatCompletionRequest, RequestMessage, ToolChoice};
use stategraph_openai::{ChatOpenAI, CompletionBuilder, OpenAiClient};

const MODEL: &str = "smollm2-135m";

fn client() -> OpenAiClient {
    let base_url = std::env::var("REAL_LLM_BASE_URL").expect(
        "REAL_LLM_BASE_URL is unset: run scripts/test, which starts the local model server",
    );
    OpenAiClient::builder().base_url(base_url).build().unwrap()
}

fn model() -> ChatOpenAI {
    ChatOpenAI::new(client(), MODEL).temperature(0.0).seed(42)
}

fn prompt(text: &str) -> Vec<Message> {
    vec![
        Message::system("You are a helpful assistant."),
        Message::user(text),
    ]
}

async fn answer(model: &ChatOpenAI, messages: Vec<Message>) -> (usize, Message) {
    let chunks: Vec<_> = model
        .stream(ChatRequest::new(messages))
        .try_collect()
        .await
        .unwrap();
    let mut builder = MessageBuilder::default();
    chunks.iter().for_each(|chunk| builder.push(chunk));
    (chunks.len(), builder.finish())
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn temperature_zero_gives_the_same_streamed_text_twice_with_usage() {
    let model = model().max_tokens(24);
    let (chunks, first) = answer(&model, prompt("Say hello in five words.")).await;
    let (_, second) = answer(&model, prompt("Say hello in five words.")).await;
    assert!(chunks > 3, "the answer streamed in {chunks} chunks");
    assert!(!first.content.trim().is_empty());
    assert_eq!(first.content, second.content);
    let usage = first
        .usage
        .expect("stream_options.include_usage gives usage");
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    assert!(first.finish_reason.is_some());
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn max_tokens_gives_finish_reason_length() {
    let model = model().max_tokens(3);
    let (_, message) = answer(&model, prompt("Write a long story about the sea.")).await;
    assert_eq!(message.finish_reason, Some(FinishReason::Length));
    assert_eq!(message.usage.unwrap().completion_tokens, 3);
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn a_tool_call_streams_argument_deltas_that_assemble_into_a_valid_call() {
    let weather = ToolDefinition::new(
        "get_weather",
        "Get the current weather in a city",
        serde_json::json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        }),
    );
    // The 135M model calls tools reliably only after one example call in the history.
    let history = vec![
        Message::system("You are a helpful assistant with tools."),
        Message::user("What is the weather in London?"),
        Message::assistant_tool_calls([ToolCall {
            id: "call_example".into(),
            name: "get_weather".into(),
            arguments: r#"{"city": "London"}"#.into(),
        }]),
        Message::user("What is the weather in Paris?"),
    ];
    let model = model()
        .max_tokens(64)
        .tools([weather])
        .tool_choice(ToolChoice::Auto);
    let chunks: Vec<_> = model
        .stream(ChatRequest::new(history))
        .try_collect()
        .await
        .unwrap();
    let argument_deltas = chunks
        .iter()
        .flat_map(stategraph_core::ChatChunk::tool_call_chunks)
        .filter(|piece| !piece.arguments.is_empty())
        .count();
    assert!(
        argument_deltas > 1,
        "arguments arrive in pieces: {chunks:?}"
    );
    let mut builder = MessageBuilder::default();
    chunks.iter().for_each(|chunk| builder.push(chunk));
    let message = builder.finish();
    assert_eq!(message.finish_reason, Some(FinishReason::ToolCalls));
    let [call] = message.tool_calls.as_slice() else {
        panic!("one call: {message:?}");
    };
    assert_eq!(call.name, "get_weather");
    assert!(!call.id.is_empty());
    assert_eq!(
        call.arguments_json().unwrap(),
        serde_json::json!({"city": "Paris"})
    );
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn the_raw_client_streams_typed_chunks_that_assemble_into_the_answer() {
    let request = ChatCompletionRequest::new(
        MODEL,
        [
            RequestMessage::system("You are a helpful assistant."),
            RequestMessage::user("Name a colour."),
        ],
    )
    .temperature(0.0)
    .max_tokens(16);
    let chunks: Vec<_> = client().stream_chat(&request).try_collect().await.unwrap();
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk.id == chunks[0].id && chunk.id.starts_with("chatcmpl-"))
    );
    assert!(
        chunks.last().unwrap().choices.is_empty(),
        "the usage chunk has no choices"
    );
    let mut builder = CompletionBuilder::default();
    chunks.iter().for_each(|chunk| builder.push(chunk));
    let message = builder.finish().remove(0);
    assert!(!message.content.trim().is_empty());
    assert!(message.usage.is_some());
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn a_400_from_the_server_is_a_typed_error() {
    // llama-server serves one choice only.
    let mut request = ChatCompletionRequest::new(MODEL, [RequestMessage::user("hi")]);
    request.n = Some(2);
    let error = client()
        .stream_chat(&request)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    let api = error.api_error().unwrap();
    assert_eq!(api.kind.as_deref(), Some("invalid_request_error"));
    assert!(api.message.contains("'n'"), "{api:?}");
}
