//! `/metrics` after real runs over HTTP: runs started and finished by status, in flight,
//! open streams, tokens streamed, and the GenAI and checkpoint histograms fed by
//! graph-core's spans through the server's metrics layer.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, ModelIdentity};
use stategraph_server::Server;
use stategraph_test_support::guide::{
    Topic, TopicUpdate, guide_tokens, joke_poem, scripted_models,
};
use tracing_subscriber::layer::SubscriberExt;

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

/// Serves `agent` (the guide), `failing` (its model fails after 3 chunks) and `slow` (its
/// model streams 10,000 chunks, one every 20 ms) on a free port, with the metrics layer as this
/// thread's subscriber (the test's runtime runs on this thread only).
async fn serve() -> (String, tracing::subscriber::DefaultGuard) {
    let failing = ScriptedModel::new(["Why", " did", " the", " cat"]).fail_after(3, "reset");
    let slow = ScriptedModel::new(vec!["z"; 10_000])
        .with_identity(ModelIdentity::new("scripted", "slow"))
        .with_delay(Duration::from_millis(20));
    let server = Server::new()
        .graph("agent", joke_poem::Graph::new(scripted_models()))
        .graph(
            "failing",
            single_call::Graph::new(AnyChatModel::new(failing)),
        )
        .graph("slow", single_call::Graph::new(AnyChatModel::new(slow)));
    let subscriber = tracing_subscriber::registry().with(server.metrics().layer());
    let guard = tracing::subscriber::set_default(subscriber);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));
    (format!("http://{address}"), guard)
}

async fn post(base: &str, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// Runs `assistant` in messages mode (on `thread` when given); returns how many
/// `messages` events it streamed.
async fn run(base: &str, assistant: &str, thread: Option<&str>) -> usize {
    let path = thread.map_or_else(
        || "/runs/stream".to_owned(),
        |thread| format!("/threads/{thread}/runs/stream"),
    );
    let body = json!({"assistant_id": assistant, "input": {"topic": "cats"}, "stream_mode": "messages-tuple"});
    let response = post(base, &path, body).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|line| *line == "event: messages")
        .count()
}

/// Every series of `/metrics`, by name with its labels.
async fn metrics(base: &str) -> HashMap<String, f64> {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of the series named `name` whose labels hold every one of `labels`.
fn sum(metrics: &HashMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    metrics
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name) && labels.iter().all(|l| series.contains(l))
        })
        .map(|(_, value)| value)
        .sum()
}

#[tokio::test]
async fn runs_tokens_model_calls_and_checkpoint_writes_are_counted() {
    let (base, _subscriber) = serve().await;
    let before = metrics(&base).await;

    let mut streamed = 0;
    streamed += run(&base, "agent", None).await;
    streamed += run(&base, "agent", None).await;
    streamed += run(&base, "failing", None).await;
    let thread = post(&base, "/threads", json!({}))
        .await
        .text()
        .await
        .unwrap();
    let thread: Value = serde_json::from_str(&thread).unwrap();
    let thread_id = thread["thread_id"].as_str().unwrap();
    streamed += run(&base, "agent", Some(thread_id)).await;

    let after = metrics(&base).await;
    let delta =
        |name: &str, labels: &[&str]| sum(&after, name, labels) - sum(&before, name, labels);
    assert_eq!(delta("stategraph_runs_started_total", &[]), 4.0);
    assert_eq!(
        delta("stategraph_runs_finished_total", &["status=\"success\""]),
        3.0
    );
    assert_eq!(
        delta("stategraph_runs_finished_total", &["status=\"error\""]),
        1.0
    );
    assert_eq!(sum(&after, "stategraph_runs_in_flight", &[]), 0.0);
    assert_eq!(sum(&after, "stategraph_open_streams", &[]), 0.0);
    let (joke, poem) = guide_tokens();
    assert_eq!(streamed, 3 * (joke.len() + poem.len()) + 3);
    #[allow(clippy::cast_precision_loss)]
    let streamed = streamed as f64;
    assert_eq!(delta("stategraph_tokens_streamed_total", &[]), streamed);

    // Three runs of the guide make two calls each; the failing run one.
    let model = "gen_ai_request_model=\"gpt-4o-mini\"";
    let input = "gen_ai_token_type=\"input\"";
    let output = "gen_ai_token_type=\"output\"";
    assert_eq!(
        delta("gen_ai_client_token_usage_count", &[model, input]),
        6.0
    );
    assert_eq!(
        delta("gen_ai_client_token_usage_count", &[model, output]),
        6.0
    );
    #[allow(clippy::cast_precision_loss)]
    let output_tokens = 3.0 * (joke.len() + poem.len()) as f64;
    assert_eq!(
        delta("gen_ai_client_token_usage_sum", &[model, output]),
        output_tokens
    );
    assert_eq!(
        delta("gen_ai_client_operation_duration_seconds_count", &[model]),
        6.0
    );
    assert_eq!(
        delta(
            "gen_ai_client_operation_duration_seconds_count",
            &["gen_ai_request_model=\"scripted-model\"", "error_type=\""]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "gen_ai_client_operation_time_to_first_chunk_seconds_count",
            &[]
        ),
        7.0
    );
    assert!(
        delta("stategraph_checkpoint_write_duration_seconds_count", &[]) >= 2.0,
        "the thread run stores its input and its step"
    );
    assert_eq!(
        delta("stategraph_checkpoint_write_duration_seconds_count", &[]),
        delta("stategraph_checkpoint_write_duration_seconds_count", &[]).round()
    );
}

#[tokio::test]
async fn an_open_stream_and_its_run_are_counted_until_the_client_goes_away() {
    let (base, _subscriber) = serve().await;
    let body = json!({
        "assistant_id": "slow",
        "input": {"topic": "cats"},
        "stream_mode": "messages-tuple",
        "on_disconnect": "cancel",
    });
    let mut response = post(&base, "/runs/stream", body).await;
    // The metadata event: the stream is open and its run under way.
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: metadata"));
    let open = metrics(&base).await;
    assert_eq!(sum(&open, "stategraph_open_streams", &[]), 1.0);
    assert_eq!(sum(&open, "stategraph_runs_in_flight", &[]), 1.0);

    drop(response);
    // The server sees the connection close when it next writes a chunk: wait for it.
    let mut closed = metrics(&base).await;
    for _ in 0..500 {
        if sum(&closed, "stategraph_open_streams", &[]) == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        closed = metrics(&base).await;
    }
    assert_eq!(sum(&closed, "stategraph_open_streams", &[]), 0.0);
    assert_eq!(sum(&closed, "stategraph_runs_in_flight", &[]), 0.0);
    assert_eq!(
        sum(
            &closed,
            "stategraph_runs_finished_total",
            &["status=\"cancelled\""]
        ),
        1.0
    );
}
