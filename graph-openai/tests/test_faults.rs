//! Every way a server can misbehave ends in a typed error, after every chunk received
//! before it, and never in a panic or a quiet end.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use stategraph_openai::wire::{ChatCompletionChunk, ChatCompletionRequest, RequestMessage};
use stategraph_openai::{
    OpenAiClient, OpenAiClientBuilder, OpenAiError, RetryPolicy, TimeoutPhase,
};
use stategraph_test_support::events::{DONE, content_event, finish_event, role_event};
use stategraph_test_support::fault_server::{End, FaultServer, Reply};

fn client(server: &FaultServer) -> OpenAiClientBuilder {
    OpenAiClient::builder()
        .base_url(&server.base_url)
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        })
}

/// Every item of one call: the chunks' text, then the error if there was one.
async fn run(client: OpenAiClient) -> (Vec<String>, Option<OpenAiError>) {
    let request = ChatCompletionRequest::new("m", [RequestMessage::user("hi")]);
    let mut stream = client.stream_chat(&request);
    let mut texts = Vec::new();
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => texts.push(text(&chunk)),
            Some(Err(error)) => {
                assert!(
                    stream.next().await.is_none(),
                    "the stream ends after its error"
                );
                return (texts, Some(error));
            }
            None => return (texts, None),
        }
    }
}

fn text(chunk: &ChatCompletionChunk) -> String {
    chunk
        .choices
        .iter()
        .filter_map(|c| c.delta.content.clone())
        .collect()
}

#[tokio::test]
async fn a_reset_mid_stream_says_so_and_counts_only_the_chunks_with_content() {
    let reply = Reply::sse([role_event(), content_event("a"), content_event("b")]).end(End::Reset);
    let server = FaultServer::start(vec![reply]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(texts, ["", "a", "b"]);
    let error = error.expect("a reset is an error");
    assert!(
        matches!(error, OpenAiError::Transport { chunks: 2, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the server reset the connection after 2 chunks"
    );
    assert_eq!(
        server.request_count(),
        1,
        "a broken stream is not sent again"
    );
}

#[tokio::test]
async fn chat_openai_counts_only_the_chunks_with_content_before_a_reset() {
    use stategraph_core::{ChatModel, ChatRequest, Message};
    let reply = Reply::sse([role_event(), content_event("a")]).end(End::Reset);
    let server = FaultServer::start(vec![reply]).await;
    let model = stategraph_openai::ChatOpenAI::new(client(&server).build().unwrap(), "m");
    let items: Vec<_> = model
        .stream(ChatRequest::new([Message::user("hi")]))
        .collect()
        .await;
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(error, OpenAiError::Transport { chunks: 1, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the server reset the connection after 1 chunk"
    );
}

#[tokio::test]
async fn a_clean_end_without_done_or_finish_reason_is_truncated() {
    let server =
        FaultServer::start(vec![Reply::sse([content_event("a"), content_event("b")])]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(texts, ["a", "b"]);
    let error = error.unwrap();
    assert!(
        matches!(error, OpenAiError::Truncated { chunks: 2 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the stream ended after 2 chunks without `[DONE]` or a finish reason"
    );
}

#[tokio::test]
async fn a_body_cut_inside_an_event_is_truncated_not_a_json_error() {
    let cut = content_event("b");
    let server =
        FaultServer::start(vec![Reply::sse([content_event("a"), cut[..20].to_owned()])]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(texts, ["a"]);
    assert!(
        matches!(error, Some(OpenAiError::Truncated { chunks: 1 })),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_in_band_error_comes_after_the_chunks_before_it() {
    let error_event = "data: {\"error\":{\"message\":\"model overloaded\",\"type\":\"server_error\",\"code\":\"overloaded\"}}\n\n";
    let server = FaultServer::start(vec![Reply::sse([
        content_event("a"),
        error_event.to_owned(),
    ])])
    .await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(texts, ["a"]);
    let error = error.unwrap();
    let api = error.api_error().expect("the server's own error");
    assert_eq!(api.message, "model overloaded");
    assert_eq!(api.kind.as_deref(), Some("server_error"));
    assert_eq!(api.code.as_deref(), Some("overloaded"));
    assert_eq!(
        error.to_string(),
        "the server reported an error mid-stream after 1 chunk: server_error (overloaded): model overloaded"
    );
}

#[tokio::test]
async fn a_400_is_a_typed_status_error_and_is_not_retried() {
    let body = r#"{"error":{"code":400,"message":"Expected 'messages' to be an array","type":"invalid_request_error"}}"#;
    let server = FaultServer::start(vec![Reply::status(400, body)]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert!(texts.is_empty());
    let error = error.unwrap();
    assert_eq!(error.status().unwrap().as_u16(), 400);
    assert_eq!(
        error.to_string(),
        "the server answered HTTP 400 Bad Request: invalid_request_error (400): Expected 'messages' to be an array"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_401_is_not_retried_and_says_so_clearly() {
    let body = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
    let server = FaultServer::start(vec![Reply::status(401, body)]).await;
    let (_, error) = run(client(&server).build().unwrap()).await;
    let error = error.unwrap();
    assert!(
        error.to_string().contains("HTTP 401 Unauthorized"),
        "{error}"
    );
    assert!(
        error.to_string().contains("Incorrect API key provided"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_body_that_is_not_sse_is_an_error() {
    let html =
        Reply::sse(["<html><body>502 Bad Gateway</body></html>\n"]).content_type("text/html");
    let server = FaultServer::start(vec![html]).await;
    let (_, error) = run(client(&server).build().unwrap()).await;
    let error = error.unwrap();
    assert!(
        matches!(&error, OpenAiError::NotEventStream { content_type: Some(ct), body } if ct == "text/html" && body.contains("502 Bad Gateway")),
        "{error:?}"
    );

    let json = Reply::sse([r#"{"id":"x","object":"chat.completion","choices":[]}"#])
        .content_type("application/json");
    let server = FaultServer::start(vec![json]).await;
    let (_, error) = run(client(&server).build().unwrap()).await;
    assert!(
        matches!(error, Some(OpenAiError::NotEventStream { .. })),
        "{error:?}"
    );

    let json_error = Reply::sse([
        r#"{"error":{"message":"stream not supported","type":"invalid_request_error"}}"#,
    ])
    .content_type("application/json");
    let server = FaultServer::start(vec![json_error]).await;
    let (_, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(
        error.unwrap().api_error().unwrap().message,
        "stream not supported"
    );
}

#[tokio::test]
async fn an_event_over_the_size_limit_is_an_error() {
    let huge = content_event(&"x".repeat(8 * 1024));
    let server = FaultServer::start(vec![Reply::sse([content_event("a"), huge])]).await;
    let (texts, error) = run(client(&server).max_event_size(4096).build().unwrap()).await;
    assert_eq!(texts, ["a"]);
    assert!(
        matches!(error, Some(OpenAiError::EventTooLarge { limit: 4096 })),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_utf8_is_an_error_after_the_chunks_before_it() {
    let mut bad = content_event("b").into_bytes();
    let at = bad.iter().position(|&b| b == b'b').unwrap();
    bad[at] = 0xff;
    let server = FaultServer::start(vec![Reply::sse([content_event("a").into_bytes(), bad])]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(texts, ["a"]);
    assert!(
        matches!(error, Some(OpenAiError::InvalidUtf8 { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_chunk_that_is_not_json_is_a_typed_error() {
    let server = FaultServer::start(vec![Reply::sse(["data: {not json}\n\n"])]).await;
    let (_, error) = run(client(&server).build().unwrap()).await;
    let error = error.unwrap();
    assert!(
        matches!(error, OpenAiError::InvalidChunk { chunks: 0, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("{not json}"), "{error}");
}

#[tokio::test]
async fn utf8_split_across_reads_is_decoded() {
    let event = content_event("h\u{e9}\u{1F600}");
    let bytes = event.as_bytes();
    let emoji = event.find('\u{1F600}').unwrap();
    let parts = [
        &bytes[..emoji + 1],
        &bytes[emoji + 1..emoji + 3],
        &bytes[emoji + 3..],
    ];
    let reply = Reply::sse(parts.map(<[u8]>::to_vec)).gap(Duration::from_millis(20));
    let mut reply = reply;
    reply.parts.push(finish_event("stop").into_bytes());
    let server = FaultServer::start(vec![reply]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts, ["h\u{e9}\u{1F600}", ""]);
}

#[tokio::test]
async fn a_stalled_stream_hits_the_idle_timeout() {
    let reply = Reply::sse([content_event("a")]).end(End::Stall);
    let server = FaultServer::start(vec![reply]).await;
    let client = client(&server)
        .idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (texts, error) = run(client).await;
    assert_eq!(texts, ["a"]);
    let error = error.unwrap();
    assert!(
        matches!(
            error,
            OpenAiError::Timeout {
                phase: TimeoutPhase::Idle,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "timed out after 200ms waiting for the next bytes of the stream"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_first_byte_timeout() {
    let server = FaultServer::start(vec![Reply::silent()]).await;
    let client = client(&server)
        .first_byte_timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    let (_, error) = run(client).await;
    assert!(
        matches!(
            error,
            Some(OpenAiError::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_naming_the_server() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = OpenAiClient::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .max_retries(0)
        .build()
        .unwrap();
    let (_, error) = run(client).await;
    let error = error.unwrap();
    assert!(matches!(error, OpenAiError::Connect { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("could not reach http://127.0.0.1:{port}/v1")),
        "{error}"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let parts: Vec<String> = (0..2000).map(|i| content_event(&i.to_string())).collect();
    let reply = Reply::sse(parts).gap(Duration::from_millis(2));
    let server = FaultServer::start(vec![reply]).await;
    let client = client(&server).build().unwrap();
    let request = ChatCompletionRequest::new("m", [RequestMessage::user("hi")]);
    let first: Vec<_> = client
        .stream_chat(&request)
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    // `take` dropped the stream; the server's next writes must fail.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !server.client_went_away() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the server saw the connection close");
}

#[tokio::test]
async fn chat_openai_delivers_the_finish_chunk_before_an_error_that_follows_it() {
    use stategraph_core::{ChatModel, ChatRequest, FinishReason, Message};
    let error_event = "data: {\"error\":{\"message\":\"late failure\"}}\n\n";
    let reply = Reply::sse([
        content_event("a"),
        finish_event("stop"),
        error_event.to_owned(),
    ]);
    let server = FaultServer::start(vec![reply]).await;
    let model = stategraph_openai::ChatOpenAI::new(client(&server).build().unwrap(), "m");
    let items: Vec<_> = model
        .stream(ChatRequest::new([Message::user("hi")]))
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().content, "a");
    assert_eq!(
        items[1].as_ref().unwrap().finish_reason(),
        Some(&FinishReason::Stop)
    );
    let error = items[2].as_ref().unwrap_err();
    assert_eq!(error.api_error().unwrap().message, "late failure");
}

#[tokio::test]
async fn a_reset_after_the_finish_reason_loses_nothing_and_is_no_error() {
    let reply = Reply::sse([content_event("a"), finish_event("stop")]).end(End::Reset);
    let server = FaultServer::start(vec![reply]).await;
    let (texts, error) = run(client(&server).build().unwrap()).await;
    assert_eq!(texts, ["a", ""]);
    assert!(error.is_none(), "{error:?}");
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_fails_at_once_and_absurd_ones_do_not_panic() {
    for retry_after in ["3600", "1e20", "99999999999999999999"] {
        let reply = Reply::status(429, r#"{"error":{"message":"slow down"}}"#)
            .header("Retry-After", retry_after);
        let server = FaultServer::start(vec![reply]).await;
        let (_, error) = run(client(&server).build().unwrap()).await;
        let error = error.unwrap();
        assert_eq!(error.status().unwrap().as_u16(), 429, "{retry_after}");
        assert_eq!(
            server.requests().len(),
            1,
            "{retry_after}: not retried sooner than asked"
        );
    }
}

#[tokio::test]
async fn an_https_url_to_a_server_without_tls_is_a_connect_error() {
    use tokio::io::AsyncWriteExt;
    // A plain HTTP server answers the TLS hello with plain text.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let client = OpenAiClient::builder()
        .base_url(format!("https://127.0.0.1:{port}/v1"))
        .max_retries(0)
        .build()
        .unwrap();
    let (texts, error) = run(client).await;
    assert!(texts.is_empty(), "{texts:?}");
    let error = error.unwrap();
    assert!(matches!(error, OpenAiError::Connect { .. }), "{error:?}");
}

#[tokio::test]
async fn a_users_reqwest_client_streams_and_fails_the_same_way() {
    let reply = Reply::sse([content_event("a"), finish_event("stop"), DONE.to_owned()]);
    let server = FaultServer::start(vec![reply]).await;
    let client = client(&server)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    let (texts, error) = run(client).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts, ["a", ""]);

    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = OpenAiClient::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .http_client(reqwest::Client::new())
        .max_retries(0)
        .build()
        .unwrap();
    let (_, error) = run(client).await;
    let error = error.unwrap();
    assert!(matches!(error, OpenAiError::Connect { .. }), "{error:?}");
}
