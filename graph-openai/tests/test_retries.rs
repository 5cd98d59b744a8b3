//! Which failures send a request again, counted at a local server: only a request that
//! never ran (no connection, or a status saying the server turned it away), never one the
//! server may be generating, and never more than the client's retry budget allows.

use std::time::Duration;

use futures::StreamExt;
use stategraph_openai::wire::{ChatCompletionRequest, RequestMessage};
use stategraph_openai::{
    OpenAiClient, OpenAiClientBuilder, OpenAiError, RetryBudget, RetryPolicy, TimeoutPhase,
};
use stategraph_test_support::events::{DONE, content_event, finish_event};
use stategraph_test_support::fault_server::{End, FaultServer, Reply};

const RETRYABLE: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Two retries with short backoffs, and no budget unless a test sets one.
fn client(base_url: &str) -> OpenAiClientBuilder {
    OpenAiClient::builder()
        .base_url(base_url)
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(5),
            budget: None,
        })
}

fn ok() -> Reply {
    Reply::sse([content_event("ok"), finish_event("stop"), DONE.to_owned()])
}

/// The call's error, if it had one, after reading every chunk.
async fn call(client: &OpenAiClient) -> Option<OpenAiError> {
    let request = ChatCompletionRequest::new("m", [RequestMessage::user("hi")]);
    let mut stream = client.stream_chat(&request);
    while let Some(item) = stream.next().await {
        if let Err(error) = item {
            return Some(error);
        }
    }
    None
}

#[tokio::test]
async fn each_retryable_status_is_retried_to_success() {
    for status in RETRYABLE {
        let server = FaultServer::start(vec![
            Reply::status(status, r#"{"error":{"message":"try again"}}"#),
            Reply::status(status, "try again"),
            ok(),
        ])
        .await;
        let error = call(&client(&server.base_url).build().unwrap()).await;
        assert!(error.is_none(), "{status}: {error:?}");
        assert_eq!(server.request_count(), 3, "{status}");
    }
}

#[tokio::test]
async fn retries_give_up_with_the_last_status_and_the_attempt_count() {
    let server = FaultServer::start(vec![Reply::status(503, "upstream unavailable")]).await;
    let error = call(&client(&server.base_url).build().unwrap()).await;
    assert_eq!(
        error.unwrap().to_string(),
        "the server answered HTTP 503 Service Unavailable after 3 attempts: upstream unavailable"
    );
    assert_eq!(server.request_count(), 3);
}

#[tokio::test(start_paused = true)]
async fn each_retryable_status_waits_as_long_as_retry_after_asks() {
    for status in RETRYABLE {
        for (header, value, asked) in [
            ("Retry-After", "2", Duration::from_secs(2)),
            ("retry-after-ms", "1500", Duration::from_millis(1500)),
        ] {
            let refused = Reply::status(status, "busy").header(header, value);
            let server = FaultServer::start(vec![refused, ok()]).await;
            let error = call(&client(&server.base_url).build().unwrap()).await;
            assert!(error.is_none(), "{status} {header}: {error:?}");
            let requests = server.requests();
            assert_eq!(requests.len(), 2, "{status} {header}");
            // The clock is paused: it moves only by the timers that fire, so the wait is
            // the one asked for, not the computed backoff of at most 40 ms.
            let waited = requests[1].at - requests[0].at;
            assert!(
                waited >= asked && waited < asked + Duration::from_millis(40),
                "{status} {header}: waited {waited:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_status_that_is_not_retryable_is_sent_once() {
    for status in [400, 401, 403, 404, 409, 422, 501, 505] {
        let server = FaultServer::start(vec![Reply::status(status, "no"), ok()]).await;
        let error = call(&client(&server.base_url).build().unwrap()).await;
        assert_eq!(
            error.and_then(|e| e.status()).map(|s| s.as_u16()),
            Some(status)
        );
        assert_eq!(server.request_count(), 1, "{status}");
    }
}

#[tokio::test]
async fn a_reset_after_the_request_was_sent_is_not_retried() {
    let server = FaultServer::start(vec![Reply::reset_before_status(), ok()]).await;
    let error = call(&client(&server.base_url).build().unwrap()).await;
    let error = error.expect("the reset is the call's error");
    assert!(
        matches!(error, OpenAiError::Transport { chunks: 0, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the server reset the connection after 0 chunks"
    );
    assert_eq!(server.request_count(), 1, "the model would run twice");
}

#[tokio::test]
async fn a_connection_closed_after_the_request_was_sent_is_not_retried() {
    let closed = Reply {
        end: End::Close,
        ..Reply::reset_before_status()
    };
    let server = FaultServer::start(vec![closed, ok()]).await;
    let error = call(&client(&server.base_url).build().unwrap()).await;
    let error = error.expect("the close is the call's error");
    assert!(
        matches!(error, OpenAiError::Transport { chunks: 0, .. }),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 1, "the model would run twice");
}

#[tokio::test]
async fn a_reset_after_a_200_status_line_is_not_retried() {
    let reset = Reply::sse(Vec::<String>::new()).end(End::Reset);
    let server = FaultServer::start(vec![reset, ok()]).await;
    let error = call(&client(&server.base_url).build().unwrap()).await;
    let error = error.expect("the reset is the call's error");
    assert!(
        matches!(error, OpenAiError::Transport { chunks: 0, .. }),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_first_byte_timeout_is_not_retried() {
    let server = FaultServer::start(vec![Reply::silent(), ok()]).await;
    let client = client(&server.base_url)
        .first_byte_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = call(&client).await;
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
    assert_eq!(server.request_count(), 1, "the server may be generating");
}

#[tokio::test]
async fn a_failed_tls_handshake_is_a_connect_failure_and_is_retried() {
    let server = FaultServer::start(vec![Reply::not_tls()]).await;
    let https = server.base_url.replacen("http://", "https://", 1);
    let error = call(&client(&https).build().unwrap()).await;
    let error = error.expect("no TLS, no answer");
    assert!(matches!(error, OpenAiError::Connect { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("could not reach {https}")),
        "{error}"
    );
    assert_eq!(
        server.connection_count(),
        3,
        "the first try and two retries"
    );
    assert_eq!(server.request_count(), 0, "no request was ever sent");
}

#[tokio::test]
async fn the_retry_budget_bounds_the_retries_of_many_concurrent_requests() {
    const REQUESTS: usize = 1000;
    // A window far longer than the test: the bound below holds for one window.
    let budget = RetryBudget {
        percent: 10,
        min_per_sec: 1,
        window: Duration::from_secs(100),
    };
    let server = FaultServer::start(vec![Reply::status(503, "overloaded")]).await;
    let client = client(&server.base_url)
        .retry(RetryPolicy {
            budget: Some(budget),
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let calls = (0..REQUESTS).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { call(&client).await })
    });
    for error in futures::future::join_all(calls).await {
        assert_eq!(error.unwrap().unwrap().status().unwrap().as_u16(), 503);
    }
    let sent = server.request_count();
    // 10 % of the requests, plus 1 a second over the 100 s window; without a budget
    // every request would be sent three times (3,000).
    let bound = REQUESTS + REQUESTS / 10 + 100;
    assert!(
        sent <= bound,
        "{sent} requests sent, at most {bound} allowed"
    );
    assert!(sent > REQUESTS, "the budget allowed some retries: {sent}");
}

#[tokio::test]
async fn the_default_budget_still_lets_a_lone_request_retry() {
    let server = FaultServer::start(vec![
        Reply::status(429, "slow down"),
        Reply::status(503, "busy"),
        ok(),
    ])
    .await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    assert!(RetryPolicy::default().budget.is_some());
    let error = call(&client).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(server.request_count(), 3);
}
