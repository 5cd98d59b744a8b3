//! The client against a local scripted server: what it sends, what it accepts, and that
//! the key stays secret.

use futures::{StreamExt, TryStreamExt};
use stategraph_core::{
    ChatModel, ChatRequest, FinishReason, Message, MessageBuilder, Role, ToolDefinition, Usage,
};
use stategraph_openai::wire::{ChatCompletionRequest, RequestMessage, ToolChoice};
use stategraph_openai::{ChatOpenAI, CompletionBuilder, OpenAiClient};
use stategraph_test_support::events::{DONE, content_event, finish_event};
use stategraph_test_support::fault_server::{FaultServer, Reply};

/// llama-server's exact stream for "Say hello in five words." (see scripts/real-llm NOTES).
const LLAMA_SSE: &str = concat!(
    r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1795465721,"id":"chatcmpl-K","model":"smollm2-135m","system_fingerprint":"b0-unknown","object":"chat.completion.chunk"}"#,
    "\n\n",
    r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"I"}}],"created":1795465721,"id":"chatcmpl-K","model":"smollm2-135m","object":"chat.completion.chunk"}"#,
    "\n\n",
    r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"'m h\u00e9"}}],"created":1795465721,"id":"chatcmpl-K","model":"smollm2-135m","object":"chat.completion.chunk"}"#,
    "\n\n",
    r#"data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1795465721,"id":"chatcmpl-K","model":"smollm2-135m","object":"chat.completion.chunk"}"#,
    "\n\n",
    r#"data: {"choices":[],"created":1795465721,"id":"chatcmpl-K","model":"smollm2-135m","object":"chat.completion.chunk","usage":{"completion_tokens":19,"prompt_tokens":38,"total_tokens":57,"prompt_tokens_details":{"cached_tokens":0}},"timings":{"cache_n":0}}"#,
    "\n\n",
    "data: [DONE]\n\n",
);

fn model(server: &FaultServer) -> ChatOpenAI {
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .api_key("sk-test-secret-123")
        .header("X-Gateway-Route", "blue")
        .build()
        .unwrap();
    ChatOpenAI::new(client, "smollm2-135m")
}

#[tokio::test]
async fn a_real_servers_stream_read_byte_by_byte_becomes_the_message_with_usage() {
    // One byte per write: every event, line end and UTF-8 character is split across reads
    // (as far as TCP keeps the writes apart; the decoder's unit tests cover every split).
    let bytes: Vec<Vec<u8>> = LLAMA_SSE.bytes().map(|b| vec![b]).collect();
    let server = FaultServer::start(vec![Reply::sse(bytes)]).await;
    let model = model(&server).temperature(0.7);
    let chunks: Vec<_> = model
        .stream(ChatRequest::new([Message::user(
            "Say hello in five words.",
        )]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        chunks.len(),
        4,
        "role, two tokens, finish with usage: {chunks:?}"
    );
    let last = chunks.last().unwrap();
    assert_eq!(last.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(
        last.usage().map(|u| u.total_tokens),
        Some(57),
        "the usage is merged into the last chunk"
    );
    assert_eq!(chunks[0].role, Some(Role::Assistant));
    let mut builder = MessageBuilder::default();
    chunks.iter().for_each(|chunk| builder.push(chunk));
    let message = builder.finish();
    assert_eq!(message.content, "I'm h\u{e9}");
    assert_eq!(message.finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        message.usage,
        Some(Usage {
            prompt_tokens: 38,
            completion_tokens: 19,
            total_tokens: 57
        })
    );
}

#[tokio::test]
async fn the_first_and_the_finishing_chunk_carry_the_servers_id_and_model_for_the_answer() {
    let server = FaultServer::start(vec![Reply::sse([LLAMA_SSE])]).await;
    let chunks: Vec<_> = model(&server)
        .model("asked-for")
        .stream(ChatRequest::new([Message::user("hi")]))
        .try_collect()
        .await
        .unwrap();
    let named: Vec<_> = chunks
        .iter()
        .map(|chunk| (chunk.response_id(), chunk.response_model()))
        .collect();
    let head = (Some("chatcmpl-K"), Some("smollm2-135m"));
    assert_eq!(
        named,
        [head, (None, None), (None, None), head],
        "{chunks:?}"
    );
    assert_eq!(chunks[3].finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(
        chunks[1].message_id(),
        None,
        "the message's id is the graph's, not the server's"
    );
}

#[tokio::test]
async fn a_first_chunk_without_an_id_leaves_the_answers_head_to_the_next() {
    // Azure's first chunk: content filter results, no choices, empty id and model.
    let filters = r#"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[]}"#;
    let named = |text: &str, reason: Option<&str>| {
        let finish = reason.map_or(String::new(), |r| format!(r#","finish_reason":"{r}""#));
        format!(
            r#"data: {{"id":"chatcmpl-A","model":"gpt-4o-2024-11-20","choices":[{{"index":0,"delta":{{"content":"{text}"}}{finish}}}]}}"#
        ) + "\n\n"
    };
    let server = FaultServer::start(vec![Reply::sse([
        format!("{filters}\n\n"),
        named("Hi", None),
        named(" there", None),
        named("", Some("length")),
        DONE.to_owned(),
    ])])
    .await;
    let chunks: Vec<_> = model(&server)
        .stream(ChatRequest::new([Message::user("hi")]))
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = chunks.iter().map(|chunk| chunk.response_id()).collect();
    assert_eq!(
        ids,
        [Some("chatcmpl-A"), None, Some("chatcmpl-A")],
        "{chunks:?}"
    );
    assert_eq!(chunks[0].response_model(), Some("gpt-4o-2024-11-20"));
    assert_eq!(chunks[0].content, "Hi");
}

#[tokio::test]
async fn a_calls_tools_merge_with_the_models_by_name_and_its_tool_choice_wins() {
    let server = FaultServer::start(vec![Reply::sse([LLAMA_SSE])]).await;
    let tool = |name: &str, description: &str| {
        ToolDefinition::new(name, description, serde_json::json!({"type": "object"}))
    };
    let model = model(&server)
        .tools([
            tool("get_weather", "the model's"),
            tool("get_time", "the time"),
        ])
        .tool_choice(ToolChoice::Auto);
    let request = ChatRequest::new([Message::user("Weather in Paris?")])
        .with_tools([tool("get_weather", "the call's"), tool("search", "search")])
        .with_tool_choice(stategraph_core::ToolChoice::Tool("get_weather".into()));
    let _: Vec<_> = model.stream(request).try_collect().await.unwrap();
    let body = &server.requests()[0].body;
    let tools: Vec<_> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            (
                tool["function"]["name"].as_str().unwrap(),
                tool["function"]["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            ("get_weather", "the call's"),
            ("get_time", "the time"),
            ("search", "search")
        ]
    );
    assert_eq!(
        body["tool_choice"],
        serde_json::json!({"type": "function", "function": {"name": "get_weather"}})
    );
}

#[tokio::test]
async fn a_calls_response_format_goes_on_the_wire_as_a_json_schema() {
    let server = FaultServer::start(vec![Reply::sse([LLAMA_SSE])]).await;
    let schema = serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}});
    let mut request = ChatRequest::new([Message::user("Weather in Paris?")]);
    request.response_format = Some(stategraph_core::ResponseFormat {
        name: "Weather".into(),
        schema: schema.clone(),
    });
    let _: Vec<_> = model(&server).stream(request).try_collect().await.unwrap();
    assert_eq!(
        server.requests()[0].body["response_format"],
        serde_json::json!({"type": "json_schema", "json_schema": {"name": "Weather", "schema": schema}})
    );
}

#[tokio::test]
async fn chat_openai_sends_the_request_it_was_configured_with() {
    let server = FaultServer::start(vec![Reply::sse([LLAMA_SSE])]).await;
    let weather = ToolDefinition::new(
        "get_weather",
        "The weather in a city",
        serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    let model = model(&server)
        .temperature(0.0)
        .max_tokens(20)
        .seed(42)
        .stop(["\n\n"])
        .tools([weather])
        .tool_choice(ToolChoice::Auto)
        .extra("top_k", serde_json::json!(40));
    assert_eq!(model.identity().provider, "openai");
    assert_eq!(model.identity().model_type, "chat");
    assert_eq!(model.identity().temperature, Some(0.0));
    let history = [
        Message::system("Be brief."),
        Message::user("Weather in London?"),
        Message::assistant_tool_calls([stategraph_core::ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"London"}"#.into(),
        }]),
        Message::tool("call_1", "rainy"),
    ];
    let _: Vec<_> = model
        .stream(ChatRequest::new(history))
        .try_collect()
        .await
        .unwrap();

    let seen = &server.requests()[0];
    assert!(seen.head.starts_with("POST /v1/chat/completions HTTP/1.1"));
    assert_eq!(
        seen.header("authorization").unwrap(),
        "Bearer sk-test-secret-123"
    );
    assert_eq!(seen.header("x-gateway-route").unwrap(), "blue");
    let body = &seen.body;
    assert_eq!(body["model"], "smollm2-135m");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["max_tokens"], 20);
    assert_eq!(body["seed"], 42);
    assert_eq!(body["stop"], serde_json::json!(["\n\n"]));
    assert_eq!(body["top_k"], 40);
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(
        messages[0],
        serde_json::json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(messages[2]["content"], serde_json::Value::Null);
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"London"}"#
    );
    assert_eq!(
        messages[3],
        serde_json::json!({"role": "tool", "content": "rainy", "tool_call_id": "call_1"})
    );
    assert!(
        body.get("top_p").is_none(),
        "unset options are not sent: {body}"
    );
}

#[tokio::test]
async fn include_usage_can_be_left_out_for_servers_that_reject_it() {
    let server = FaultServer::start(vec![Reply::sse([LLAMA_SSE])]).await;
    let model = model(&server).include_usage(false);
    let _: Vec<_> = model
        .stream(ChatRequest::new([Message::user("hi")]))
        .try_collect()
        .await
        .unwrap();
    assert!(server.requests()[0].body.get("stream_options").is_none());
}

#[tokio::test]
async fn compatible_servers_quirks_are_accepted() {
    let body = concat!(
        ": keep-alive comment\r\n\r\n",
        // no index, empty finish_reason, content null, unknown fields
        r#"data: {"choices":[{"delta":{"role":"assistant","content":null},"finish_reason":"","logprobs":null}],"x_extra":{"a":1}}"#,
        "\r\n\r\n",
        // multi-line data: the lines join with a newline, which is JSON whitespace
        "data: {\"choices\":[{\"delta\":\r\ndata: {\"content\":\"Hi\"}}]}\r\n\r\n",
        r#"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
        "\r\n\r\n",
        r#"data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#,
        "\r\n\r\n",
        "data: [DONE]\r\n\r\n",
    );
    let server = FaultServer::start(vec![Reply::sse([body])]).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let chunks: Vec<_> = client
        .stream_chat(&ChatCompletionRequest::new(
            "m",
            [RequestMessage::user("hi")],
        ))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 4);
    assert_eq!(chunks[0].choices[0].index, 0);
    assert_eq!(chunks[0].choices[0].finish_reason, None);
    assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some("Hi"));
    assert!(chunks[3].choices.is_empty());
    let mut builder = CompletionBuilder::default();
    chunks.iter().for_each(|chunk| builder.push(chunk));
    let message = builder.finish().remove(0);
    assert_eq!(message.content, "Hi");
    assert_eq!(message.usage.unwrap().total_tokens, 2);
    assert!(server.requests()[0].header("authorization").is_none());
}

#[tokio::test]
async fn tool_call_deltas_assemble_into_whole_calls_by_index() {
    // Two calls whose argument fragments interleave, as parallel tool calls can.
    let delta = |index: u32, head: Option<(&str, &str)>, arguments: &str| {
        let mut call = serde_json::json!({"index": index, "function": {"arguments": arguments}});
        if let Some((id, name)) = head {
            call["id"] = id.into();
            call["type"] = "function".into();
            call["function"]["name"] = name.into();
        }
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
        )
    };
    let body = [
        delta(0, Some(("a1", "get_weather")), "{\"city\""),
        delta(1, Some(("b2", "get_time")), "{\"tz\": "),
        delta(0, None, ": \"Paris\"}"),
        delta(1, None, "\"CET\"}"),
        finish_event("tool_calls"),
        DONE.to_owned(),
    ];
    let server = FaultServer::start(vec![Reply::sse(body)]).await;
    let chunks: Vec<_> = model(&server)
        .stream(ChatRequest::new([Message::user("hi")]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        chunks[0].tool_call_chunks()[0].name.as_deref(),
        Some("get_weather")
    );
    assert_eq!(chunks[2].tool_call_chunks()[0].arguments, ": \"Paris\"}");
    let mut builder = MessageBuilder::default();
    chunks.iter().for_each(|chunk| builder.push(chunk));
    let message = builder.finish();
    assert_eq!(message.finish_reason, Some(FinishReason::ToolCalls));
    let calls: Vec<_> = message
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments_json().unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            ("a1", "get_weather", serde_json::json!({"city": "Paris"})),
            ("b2", "get_time", serde_json::json!({"tz": "CET"})),
        ]
    );
}

#[tokio::test]
async fn the_api_key_appears_in_no_debug_display_or_error() {
    let key = "sk-test-secret-123";
    let server = FaultServer::start(vec![Reply::status(
        401,
        r#"{"error":{"message":"Incorrect API key provided: sk-test-***123","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    )])
    .await;
    let builder = OpenAiClient::builder()
        .base_url(&server.base_url)
        .api_key(key);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let model = ChatOpenAI::new(client.clone(), "m");
    let error = model
        .stream(ChatRequest::new([Message::user("hi")]))
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    for shown in [
        builder_debug,
        format!("{client:?}"),
        format!("{model:?}"),
        format!("{error:?}"),
        error.to_string(),
        format!("{:?}", stategraph_openai::ApiKey::new(key)),
    ] {
        assert!(!shown.contains(key) && !shown.contains("secret"), "{shown}");
    }
    assert!(format!("{client:?}").contains("<redacted>"));
}

#[test]
fn a_bad_base_url_is_a_clear_configuration_error() {
    let error = OpenAiClient::builder()
        .base_url("localhost:8080")
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid client configuration: the base URL's scheme is `localhost`; it must be http or https"
    );
    let error = OpenAiClient::builder()
        .base_url("https://user:s3cret@host:99999/v1")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("not a valid URL"), "{error}");
    assert!(!error.to_string().contains("s3cret"), "{error}");
    let error = OpenAiClient::builder()
        .base_url("ftp://x/v1")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("http or https"), "{error}");
}

#[tokio::test]
async fn a_trailing_slash_credentials_and_a_query_in_the_base_url_are_handled() {
    let server =
        FaultServer::start(vec![Reply::sse([content_event("x"), finish_event("stop")])]).await;
    let url = server.base_url.replace("http://", "http://user:pw@") + "/?api-version=2024-02-01";
    let client = OpenAiClient::builder().base_url(url).build().unwrap();
    assert!(!client.base_url().contains("pw"), "{}", client.base_url());
    assert!(
        !client.base_url().contains("api-version"),
        "{}",
        client.base_url()
    );
    let chunks: Vec<_> = client
        .stream_chat(&ChatCompletionRequest::new(
            "m",
            [RequestMessage::user("hi")],
        ))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        chunks.len(),
        2,
        "a finish reason without [DONE] is a complete answer"
    );
    let seen = &server.requests()[0];
    assert!(
        seen.head
            .starts_with("POST /v1/chat/completions?api-version=2024-02-01 "),
        "{}",
        seen.head
    );
    // Credentials in the URL are sent, as Basic auth (`user:pw`), not silently dropped.
    assert_eq!(
        seen.header("authorization").as_deref(),
        Some("Basic dXNlcjpwdw==")
    );
}

#[tokio::test]
async fn the_last_chunk_carries_finish_and_usage_when_the_finish_reason_rides_on_a_token() {
    let body = concat!(
        r#"data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
        "\n\n",
        r#"data: {"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}"#,
        "\n\n",
        r#"data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
        "\n\n",
        "data: [DONE]\n\n",
    );
    let server = FaultServer::start(vec![Reply::sse([body])]).await;
    let chunks: Vec<_> = model(&server)
        .stream(ChatRequest::new([Message::user("hi")]))
        .try_collect()
        .await
        .unwrap();
    let shape: Vec<(&str, bool, bool)> = chunks
        .iter()
        .map(|c| {
            (
                c.content.as_str(),
                c.finish_reason().is_some(),
                c.usage().is_some(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [("Hi", false, false), ("!", false, false), ("", true, true)]
    );
}
