//! A broken server inside a graph: every chunk received reaches the consumer, then one
//! error naming the node, the step and the cause (LangGraph accepts a truncated answer
//! silently; stategraph must not).

use futures::StreamExt;
use stategraph::GraphError;
use stategraph::mode::Messages;
use stategraph_openai::{ChatOpenAI, OpenAiClient, OpenAiError};
use stategraph_test_support::events::content_event;
use stategraph_test_support::fault_server::{End, FaultServer, Reply};
use stategraph_test_support::guide::{Topic, joke_poem, openai_models};

fn cats() -> Topic {
    Topic {
        topic: "cats".into(),
        ..Topic::default()
    }
}

async fn run(reply: Reply) -> (Vec<String>, GraphError) {
    let server = FaultServer::start(vec![reply]).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .max_retries(0)
        .build()
        .unwrap();
    let graph = joke_poem::Graph::new(openai_models(ChatOpenAI::new(client, "m")));
    let mut stream = graph.stream(cats(), Messages);
    let mut contents = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => contents.push(chunk.content().to_owned()),
            Err(error) => {
                assert!(
                    stream.next().await.is_none(),
                    "the stream ends after its error"
                );
                return (contents, error);
            }
        }
    }
    panic!("the stream ended without an error after {contents:?}");
}

/// The `OpenAiError` behind a graph error.
fn cause(error: &GraphError) -> &OpenAiError {
    error
        .model_error::<OpenAiError>()
        .unwrap_or_else(|| panic!("no OpenAiError behind {error:?}"))
}

#[tokio::test]
async fn a_connection_reset_mid_answer_is_an_error_after_every_chunk() {
    let reply = Reply::sse([content_event("Why"), content_event(" was")]).end(End::Reset);
    let (contents, error) = run(reply).await;
    assert_eq!(contents, ["Why", " was"]);
    let message = error.to_string();
    assert!(
        message.contains("`call_model`") && message.contains("step 1"),
        "{message}"
    );
    assert!(
        matches!(cause(&error), OpenAiError::Transport { chunks: 2, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_clean_end_without_done_is_an_error_not_a_short_answer() {
    let (contents, error) = run(Reply::sse([content_event("Why")])).await;
    assert_eq!(contents, ["Why"]);
    assert!(
        matches!(cause(&error), OpenAiError::Truncated { chunks: 1 }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("without `[DONE]` or a finish reason"),
        "{message}"
    );
}

#[tokio::test]
async fn dropping_the_stream_mid_call_closes_the_servers_connection() {
    let parts: Vec<String> = (0..2000).map(|i| content_event(&format!(" {i}"))).collect();
    let reply = Reply::sse(parts).gap(std::time::Duration::from_millis(2));
    let server = FaultServer::start(vec![reply]).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let graph = joke_poem::Graph::new(openai_models(ChatOpenAI::new(client, "m")));
    let mut stream = graph.stream(cats(), Messages);
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    // The node, its model call and the HTTP response went with the stream: the server's
    // next writes fail.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !server.client_went_away() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the server saw the connection close");
    assert_eq!(server.requests().len(), 1, "the poem call never started");
}

/// The state of the detached-call graph: nothing, the call runs outside the run.
#[derive(Clone, Debug, Default, stategraph::State)]
struct Nothing {
    done: bool,
}

/// What the detached call returned, sent back to the test.
type CallResult = Result<stategraph::Message, stategraph::ChatCallError<OpenAiError>>;

#[stategraph::graph(
    state = Nothing,
    context = (ChatOpenAI, std::sync::Mutex<Option<tokio::sync::oneshot::Sender<CallResult>>>),
    edges = [START -> detach -> END]
)]
mod detached {
    use super::*;
    use stategraph::Message;

    /// Calls the model from a plain `tokio::spawn` on a clone of its context, which
    /// nothing aborts when the run ends, and waits forever.
    #[node]
    async fn detach(_state: &Nothing, ctx: &Ctx) -> NothingUpdate {
        let call = ctx.clone();
        tokio::spawn(async move {
            let (model, outcome) = call.context();
            let result = call.chat(model).invoke([Message::user("go")]).await;
            let sender = outcome.lock().unwrap().take().unwrap();
            let _ = sender.send(result);
        });
        std::future::pending::<()>().await;
        NothingUpdate::default().done(true)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_call_outside_the_run_closes_its_connection_when_the_stream_is_dropped() {
    let parts: Vec<String> = (0..5000).map(|i| content_event(&format!(" {i}"))).collect();
    let reply = Reply::sse(parts).gap(std::time::Duration::from_millis(2));
    let server = FaultServer::start(vec![reply]).await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let context = (
        ChatOpenAI::new(client, "m"),
        std::sync::Mutex::new(Some(sender)),
    );
    let graph = detached::Graph::new(context);
    let mut stream = graph.stream(Nothing::default(), Messages);
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), receiver)
        .await
        .expect("the call returns once the run is gone")
        .unwrap();
    assert!(
        matches!(outcome, Err(stategraph::ChatCallError::RunEnded)),
        "{outcome:?}"
    );
    // The issue allows the close a second to reach the server; its next write then fails.
    tokio::time::timeout(std::time::Duration::from_secs(1), async {
        while !server.client_went_away() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the server saw the connection close within a second");
}
