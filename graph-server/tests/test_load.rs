//! The server under load, over real HTTP on 127.0.0.1: a thousand clients streaming runs at
//! once each get their whole run; a client that stops reading holds up only its own run
//! (which waits for it instead of buffering), and a client that leaves frees its run or,
//! with `on_disconnect=continue`, lets it finish. Counts and statuses, no clock.

use futures::StreamExt;
use serde_json::{Value, json};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, ScriptedModel};
use stategraph_server::Server;
use stategraph_test_support::guide::{Topic, TopicUpdate, progress_joke_poem, scripted_models};

/// Tokens of the `long` graph's one model call: far more bytes of events than any buffer
/// between the run and its reader holds.
const LONG_TOKENS: usize = 50_000;

/// `START -> call -> END`: one model call.
#[graph(state = Topic, context = AnyChatModel, edges = [START -> call -> END])]
mod single_call {
    use super::*;

    /// Asks the model about the topic.
    #[node]
    pub async fn call(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let answer = ctx
            .chat(ctx.context())
            .invoke([Message::user(state.topic.clone())])
            .await?;
        Ok(TopicUpdate::default().joke(answer.content))
    }
}

async fn serve() -> String {
    let tokens = (0..LONG_TOKENS).map(|at| format!("t{at} "));
    let server = Server::new()
        .graph("agent", progress_joke_poem::Graph::new(scripted_models()))
        .graph(
            "long",
            single_call::Graph::new(AnyChatModel::new(ScriptedModel::new(tokens))),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));
    format!("http://{address}")
}

/// Event names and data, heartbeats left out.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\r\n\r\n")
        .filter(|frame| !frame.is_empty() && !frame.starts_with(':'))
        .map(|frame| {
            let mut lines = frame.split("\r\n");
            let name = lines.next().unwrap().strip_prefix("event: ").unwrap();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            (name.to_owned(), serde_json::from_str(data).unwrap())
        })
        .collect()
}

/// Starts a streamed run on a new thread; returns the response and the run's path.
async fn start(http: &reqwest::Client, base: &str, body: Value) -> (reqwest::Response, String) {
    let thread = uuid_like();
    let mut body = body;
    body["if_not_exists"] = json!("create");
    let response = http
        .post(format!("{base}/threads/{thread}/runs/stream"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let path = response.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    (response, path)
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("load-{}", NEXT.fetch_add(1, Ordering::SeqCst))
}

async fn run_status(http: &reqwest::Client, base: &str, path: &str) -> String {
    let run = http
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let run: Value = serde_json::from_str(&run).unwrap();
    run["status"].as_str().unwrap().to_owned()
}

/// Polls until the run's status is `want` (bounded by the harness, no clock).
async fn until_status(http: &reqwest::Client, base: &str, path: &str, want: &str) {
    while run_status(http, base, path).await != want {
        tokio::task::yield_now().await;
    }
}

/// The events of a run with the ids that differ between runs taken out.
fn shape(events: &[(String, Value)]) -> Vec<(String, Value)> {
    events
        .iter()
        .map(|(name, data)| {
            let data = match name.as_str() {
                // The run's own ids.
                "metadata" => Value::Null,
                "messages" => data[0]["content"].clone(),
                _ => data.clone(),
            };
            (name.clone(), data)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a thousand concurrent clients: over a minute in a debug build on 2 busy cores; run by scripts/test"]
async fn a_thousand_concurrent_clients_each_get_their_whole_run() {
    let base = serve().await;
    let http = reqwest::Client::new();
    let body = json!({
        "assistant_id": "agent",
        "input": {"topic": "cats"},
        "stream_mode": ["values", "updates", "messages-tuple"],
    });
    let (alone, _) = start(&http, &base, body.clone()).await;
    let expected = shape(&events(&alone.text().await.unwrap()));
    assert!(expected.len() > 10, "{expected:?}");
    let clients = (0..1000).map(|_| {
        let (http, base, body) = (http.clone(), base.clone(), body.clone());
        tokio::spawn(async move {
            let (response, _) = start(&http, &base, body).await;
            shape(&events(&response.text().await.unwrap()))
        })
    });
    let runs = futures::future::join_all(clients).await;
    for (at, run) in runs.into_iter().enumerate() {
        assert_eq!(run.unwrap(), expected, "client {at}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_holds_up_only_its_own_run() {
    let base = serve().await;
    let http = reqwest::Client::new();
    let long = json!({"assistant_id": "long", "stream_mode": "messages-tuple"});
    let (slow, slow_path) = start(&http, &base, long).await;
    let mut slow = slow.bytes_stream();
    let first = slow.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"event: metadata"));
    // While it reads nothing more, a hundred other runs go from start to end.
    let others = (0..100).map(|_| {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            let body = json!({"assistant_id": "agent", "input": {"topic": "cats"}});
            let (response, _) = start(&http, &base, body).await;
            events(&response.text().await.unwrap()).len()
        })
    });
    for done in futures::future::join_all(others).await {
        assert!(done.unwrap() > 2);
    }
    // The slow client's run waits for it rather than keeping its events: it has not ended.
    assert_eq!(run_status(&http, &base, &slow_path).await, "running");
    // Read on: every token comes, in order.
    let mut rest = Vec::from(&first[..]);
    while let Some(chunk) = slow.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    let tokens: Vec<String> = events(std::str::from_utf8(&rest).unwrap())
        .into_iter()
        .filter(|(name, _)| name == "messages")
        .map(|(_, data)| data[0]["content"].as_str().unwrap().to_owned())
        .filter(|content| !content.is_empty())
        .collect();
    assert_eq!(tokens.len(), LONG_TOKENS);
    assert!(
        tokens
            .iter()
            .enumerate()
            .all(|(at, token)| *token == format!("t{at} "))
    );
    until_status(&http, &base, &slow_path, "success").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_frees_its_run_or_lets_it_finish() {
    let base = serve().await;
    let http = reqwest::Client::new();
    let leave = |on_disconnect: &str| {
        let (http, base) = (http.clone(), base.clone());
        let body = json!({
            "assistant_id": "long",
            "stream_mode": "messages-tuple",
            "on_disconnect": on_disconnect,
        });
        async move {
            let (response, path) = start(&http, &base, body).await;
            let mut events = response.bytes_stream();
            events.next().await.unwrap().unwrap();
            drop(events);
            path
        }
    };
    let cancelled = leave("cancel").await;
    until_status(&http, &base, &cancelled, "interrupted").await;
    let continued = leave("continue").await;
    until_status(&http, &base, &continued, "success").await;
    let thread = continued.rsplit_once("/runs/").unwrap().0;
    let state = http
        .get(format!("{base}{thread}/state"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    let joke = state["values"]["joke"].as_str().unwrap();
    assert_eq!(
        joke.matches(' ').count(),
        LONG_TOKENS,
        "the whole answer was saved"
    );
}
