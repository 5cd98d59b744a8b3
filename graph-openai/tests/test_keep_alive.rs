//! Connections are kept alive between calls, and never reused when that could mix two
//! answers or send a request twice. The one resend: a reused connection that the server
//! closed without a byte of answer, once, on a new connection.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use stategraph_openai::wire::{ChatCompletionRequest, RequestMessage};
use stategraph_openai::{OpenAiClient, OpenAiError};
use stategraph_test_support::events::{DONE, content_event, finish_event};
use stategraph_test_support::keep_alive::{Counts, HangUpServer, KeepAliveServer};

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest::new("m", [RequestMessage::user("hi")])
}

fn answer(tokens: usize) -> Vec<String> {
    let mut events: Vec<String> = (0..tokens).map(|i| content_event(&i.to_string())).collect();
    events.push(finish_event("stop"));
    events.push(DONE.to_owned());
    events
}

async fn call(client: &OpenAiClient) -> usize {
    let chunks: Vec<_> = client.stream_chat(&request()).try_collect().await.unwrap();
    chunks.len()
}

#[tokio::test]
async fn sequential_calls_share_one_connection() {
    let server = KeepAliveServer::start(answer(3), false).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(call(&client).await, 4);
    }
    assert_eq!(
        server.counts(),
        Counts {
            connections: 1,
            requests: 3
        }
    );
}

#[tokio::test]
async fn a_response_dropped_half_read_does_not_lend_its_connection() {
    let server = KeepAliveServer::start(answer(2000), false).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let first: Vec<_> = client.stream_chat(&request()).take(2).collect().await;
    assert_eq!(first.len(), 2);
    // The rest of the first answer is still on its connection: the second call must not
    // read it as its own.
    let chunks: Vec<_> = client.stream_chat(&request()).try_collect().await.unwrap();
    assert_eq!(chunks.len(), 2001);
    assert_eq!(server.counts().connections, 2);
    assert_eq!(server.counts().requests, 2);
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_replaced_without_a_second_post() {
    let server = KeepAliveServer::start(answer(3), true).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(call(&client).await, 4);
    server.close_idle().await;
    // Gives the runtime's I/O driver a turn, so that the close has reached the socket's
    // readiness before the connection is taken from the pool.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(call(&client).await, 4, "the dead connection is replaced");
    assert_eq!(
        server.counts(),
        Counts {
            connections: 2,
            requests: 2
        },
        "one request per call: none was sent on the dead connection"
    );
}

#[tokio::test]
async fn a_pooled_connection_closed_unanswered_is_sent_again_once_on_a_new_connection() {
    // Each connection answers its first request and hangs up on its second, as llama-server
    // does when its keep-alive ends as the next request arrives.
    let server = HangUpServer::start(answer(3), |arrival| arrival.on_connection == 0).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(call(&client).await, 4);
    assert_eq!(
        call(&client).await,
        4,
        "the request the pooled connection took and never answered is sent on a new one"
    );
    assert_eq!(
        server.counts(),
        Counts {
            connections: 2,
            requests: 3
        },
        "the second call's request was read twice: once unanswered, once answered"
    );
}

#[tokio::test]
async fn a_server_that_hangs_up_on_every_connection_gives_a_transport_error_after_one_resend() {
    // The first request is answered; the next two (the second call and its resend on a
    // new connection) are hung up on, and a new connection is never resent (the server may
    // have run the request). Later requests are answered, so that a client that kept
    // resending would end with an answer and fail this test, rather than hang it.
    let server = HangUpServer::start(answer(3), |arrival| {
        arrival.overall == 0 || arrival.overall > 2
    })
    .await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(call(&client).await, 4);
    let outcome: Result<Vec<_>, _> = client.stream_chat(&request()).try_collect().await;
    let error = outcome.expect_err("both connections were closed unanswered");
    assert!(
        matches!(error, OpenAiError::Transport { chunks: 0, .. }),
        "{error:?}"
    );
    assert_eq!(
        server.counts(),
        Counts {
            connections: 2,
            requests: 3
        },
        "one resend, on one new connection, then the error"
    );
}
