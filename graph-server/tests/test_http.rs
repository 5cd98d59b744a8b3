//! The server driven over real HTTP on 127.0.0.1 with reqwest: assistants, stateless runs in
//! every mode, errors before and during a run, oversized bodies, and client disconnects.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, ChatChunk, ChatChunkStream, ChatRequest, ModelIdentity};
use stategraph_server::Server;
use stategraph_test_support::guide::{
    Topic, TopicUpdate, nested, progress_joke_poem, scripted_models,
};
use tokio::sync::{Notify, Semaphore};

/// A model that sends one chunk per permit, out of `tokens`, and says when its stream
/// finished or was dropped: what a disconnect does to the model request.
struct GatedModel {
    identity: ModelIdentity,
    tokens: usize,
    permits: Arc<Semaphore>,
    sent: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    dropped: Arc<Notify>,
}

struct OnDrop(Arc<Notify>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[derive(Debug, thiserror::Error)]
#[error("gated model")]
struct GatedError;

impl ChatModel for GatedModel {
    type Error = GatedError;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<GatedError> {
        let (tokens, permits, sent, finished) = (
            self.tokens,
            Arc::clone(&self.permits),
            Arc::clone(&self.sent),
            Arc::clone(&self.finished),
        );
        let guard = OnDrop(Arc::clone(&self.dropped));
        Box::pin(futures::stream::unfold((0, guard), move |(at, guard)| {
            let (permits, sent, finished) = (
                Arc::clone(&permits),
                Arc::clone(&sent),
                Arc::clone(&finished),
            );
            async move {
                if at == tokens {
                    finished.store(true, Ordering::SeqCst);
                    return None;
                }
                permits.acquire().await.ok()?.forget();
                sent.fetch_add(1, Ordering::SeqCst);
                Some((Ok(ChatChunk::text(format!("t{at} "))), (at + 1, guard)))
            }
        }))
    }
}

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

struct Gate {
    permits: Arc<Semaphore>,
    sent: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    dropped: Arc<Notify>,
}

/// Serves `agent` (the guide), `nested`, `failing` and `gated` on a free port.
async fn serve(tokens: usize) -> (String, Gate) {
    let gate = Gate {
        permits: Arc::new(Semaphore::new(0)),
        sent: Arc::default(),
        finished: Arc::default(),
        dropped: Arc::default(),
    };
    let gated = GatedModel {
        identity: ModelIdentity::new("test", "gated"),
        tokens,
        permits: Arc::clone(&gate.permits),
        sent: Arc::clone(&gate.sent),
        finished: Arc::clone(&gate.finished),
        dropped: Arc::clone(&gate.dropped),
    };
    let failing = ScriptedModel::new(["Why", " did", " the", " cat"])
        .fail_after(3, "connection reset by the secret host 10.0.0.7");
    let server = Server::new()
        .graph("agent", progress_joke_poem::Graph::new(scripted_models()))
        .graph(
            "nested",
            nested::Graph::new(progress_joke_poem::Graph::new(scripted_models())),
        )
        .graph(
            "failing",
            single_call::Graph::new(AnyChatModel::new(failing)),
        )
        .graph("gated", single_call::Graph::new(AnyChatModel::new(gated)))
        .body_limit(64 * 1024);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));
    (format!("http://{address}"), gate)
}

/// One parsed SSE event.
#[derive(Debug)]
struct Event {
    name: String,
    data: Value,
}

/// Reads the whole stream and splits it into events (heartbeat comments skipped).
fn events(body: &str) -> Vec<Event> {
    body.split("\r\n\r\n")
        .filter(|frame| !frame.is_empty() && !frame.starts_with(':'))
        .map(|frame| {
            let mut lines = frame.split("\r\n");
            let name = lines
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .unwrap()
                .to_owned();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            Event {
                name,
                data: serde_json::from_str(data).unwrap(),
            }
        })
        .collect()
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

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

async fn get(base: &str, path: &str) -> Value {
    json_of(reqwest::get(format!("{base}{path}")).await.unwrap()).await
}

async fn run(base: &str, body: Value) -> Vec<Event> {
    let response = post(base, "/runs/stream", body).await;
    assert_eq!(response.status(), 200);
    events(&response.text().await.unwrap())
}

async fn detail(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = json_of(response).await;
    (status, body["detail"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistant_is_found_by_its_id_or_its_graph_id() {
    let (base, _) = serve(0).await;
    let by_graph = get(&base, "/assistants/agent").await;
    assert_eq!(
        by_graph["assistant_id"],
        "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    );
    assert_eq!(by_graph["graph_id"], "agent");
    assert_eq!(by_graph["metadata"], json!({"created_by": "system"}));
    let by_id = get(&base, "/assistants/fe096781-5601-53d2-b2f6-0d3403f7e9ca").await;
    assert_eq!(by_id, by_graph);

    let graph = get(&base, "/assistants/agent/graph").await;
    assert_eq!(
        graph,
        serde_json::to_value(progress_joke_poem::Graph::description()).unwrap()
    );
    let schemas = get(&base, "/assistants/agent/schemas").await;
    assert_eq!(
        schemas["state_schema"]["properties"]["topic"],
        json!({"type": "string"})
    );

    let found =
        json_of(post(&base, "/assistants/search", json!({"graph_id": "nested"})).await).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["graph_id"], "nested");
    let all = json_of(
        post(
            &base,
            "/assistants/search",
            json!({"metadata": {"created_by": "system"}, "limit": 100}),
        )
        .await,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 4);
    let none = json_of(
        post(
            &base,
            "/assistants/search",
            json!({"metadata": {"created_by": "user"}}),
        )
        .await,
    )
    .await;
    assert_eq!(none, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_and_paths_are_404_and_the_server_keeps_serving() {
    let (base, _) = serve(0).await;
    let client = reqwest::Client::new();
    let (status, text) = detail(
        client
            .get(format!("{base}/assistants/nobody"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, text.as_str()),
        (404, "Assistant 'nobody' not found")
    );
    let (status, text) =
        detail(post(&base, "/runs/stream", json!({"assistant_id": "nobody"})).await).await;
    assert_eq!(
        (status, text.as_str()),
        (404, "Assistant 'nobody' not found")
    );
    let (status, text) = detail(
        client
            .get(format!("{base}/threads/t1/state"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, text.as_str()), (404, "Thread 't1' not found"));
    let (status, text) = detail(
        client
            .get(format!("{base}/threads/t1/runs/r1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // The thread is asked for first: a run is found through the thread it belongs to.
    assert_eq!((status, text.as_str()), (404, "Thread 't1' not found"));
    assert_eq!(
        client
            .get(format!("{base}/ok"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_wrong_types_are_refused_naming_what_is_wrong() {
    let (base, _) = serve(0).await;
    let client = reqwest::Client::new();
    let raw = |body: &'static str| client.post(format!("{base}/runs/stream")).body(body).send();
    let (status, text) = detail(
        raw(r#"{"assistant_id": "agent", "input": {"#)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        text.starts_with("the body is not JSON: EOF while parsing"),
        "{text}"
    );

    let cases = [
        (
            json!({"assistant_id": "agent", "input": {"topic": 5}}),
            "input.topic: invalid type: integer `5`, expected a string",
        ),
        (
            json!({"assistant_id": "agent", "input": {"topik": "cats"}}),
            "input: unknown field `topik`; the state's fields are `joke`, `poem`, `topic`",
        ),
        (
            json!({"assistant_id": "agent", "input": "cats"}),
            "input: expected an object of the state's fields, got a string",
        ),
        (
            json!({"assistant_id": 7}),
            "assistant_id: invalid type: integer `7`, expected a string",
        ),
        (
            json!({"assistant_id": "agent", "stream_mode": ["values", 3]}),
            "stream_mode: data did not match any variant of untagged enum OneOrMany",
        ),
        (
            json!({"assistant_id": "agent", "stream_mode": "everything"}),
            "stream_mode: unknown mode `everything`; the modes are `values`, `updates`, `messages-tuple`, `messages`, `custom`, `debug`, `tasks`, `checkpoints`",
        ),
        (
            json!({"assistant_id": "agent", "on_disconnect": "hang"}),
            "on_disconnect: unknown variant `hang`, expected `cancel` or `continue`",
        ),
        (
            json!({"assistant_id": "agent", "config": {"recursion_limit": -1}}),
            "config.recursion_limit: invalid value: integer `-1`, expected u32",
        ),
        (
            json!({"assistant_id": "agent", "config": {"tags": ["funny"]}}),
            "config.tags: unknown tag `funny`; the graph's tags are `joke`, `poem`",
        ),
    ];
    for (body, expected) in cases {
        let (status, text) = detail(post(&base, "/runs/stream", body.clone()).await).await;
        assert_eq!((status, text.as_str()), (422, expected), "{body}");
    }
    let (status, text) = detail(
        post(
            &base,
            "/runs/stream",
            json!({"assistant_id": "agent", "command": {"resume": 1}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 501);
    assert!(text.starts_with("command: needs a thread"), "{text}");
    assert_eq!(
        client
            .get(format!("{base}/ok"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_whether_its_length_is_declared_or_streamed() {
    let (base, _) = serve(0).await;
    let client = reqwest::Client::new();
    let huge = format!(
        r#"{{"assistant_id": "agent", "input": {{"topic": "{}"}}}}"#,
        "a".repeat(100 * 1024)
    );
    // A declared length over the limit is refused before the body is read: the client
    // sends its first piece and then waits, so it is not writing when the server closes.
    let first: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(huge.as_bytes()[..4096].to_vec())];
    let declared = client
        .post(format!("{base}/runs/stream"))
        .header("content-length", huge.len())
        .body(reqwest::Body::wrap_stream(
            futures::stream::iter(first).chain(futures::stream::pending()),
        ))
        .send()
        .await
        .unwrap();
    let (status, text) = detail(declared).await;
    assert_eq!(
        (status, text.as_str()),
        (413, "the request body exceeds the limit of 65536 bytes")
    );
    // A body sent in pieces with no declared length: just over the limit, then nothing more
    // while the answer comes, so the client is not writing when the server closes.
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = huge.into_bytes()[..17 * 4096]
        .chunks(4096)
        .map(|piece| Ok(piece.to_vec()))
        .collect();
    let chunks = futures::stream::iter(pieces).chain(futures::stream::pending());
    let streamed = client
        .post(format!("{base}/runs/stream"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let (status, text) = detail(streamed).await;
    assert_eq!(
        (status, text.as_str()),
        (413, "the request body exceeds the limit of 65536 bytes")
    );
    assert_eq!(
        client
            .get(format!("{base}/ok"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_starts_with_metadata_and_names_the_run_in_its_headers() {
    let (base, _) = serve(0).await;
    let response = post(
        &base,
        "/runs/stream",
        json!({"assistant_id": "agent", "input": {"topic": "cats"}}),
    )
    .await;
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/event-stream; charset=utf-8");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-accel-buffering"), "no");
    let (location, content_location) = (header("location"), header("content-location"));
    let events = events(&response.text().await.unwrap());
    assert_eq!(events[0].name, "metadata");
    let run_id = events[0].data["run_id"].as_str().unwrap();
    assert_eq!(events[0].data["attempt"], 1);
    assert_eq!(location, format!("/runs/{run_id}/stream"));
    assert_eq!(content_location, format!("/runs/{run_id}"));
    // Values mode by default: the input, then the final state.
    let names: Vec<&str> = events.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(names, ["metadata", "values", "values"]);
    assert_eq!(
        events[1].data,
        json!({"topic": "cats", "joke": "", "poem": ""})
    );
    assert!(
        events[2].data["joke"]
            .as_str()
            .unwrap()
            .starts_with("Why was the cat")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_tuple_carries_langchain_chunks_and_the_runs_ids() {
    let (base, _) = serve(0).await;
    let events = run(&base, json!({"assistant_id": "agent", "input": {"topic": "cats"}, "stream_mode": "messages-tuple", "metadata": {"user": "ada"}})).await;
    let run_id = events[0].data["run_id"].clone();
    let messages: Vec<&Event> = events
        .iter()
        .filter(|event| event.name == "messages")
        .collect();
    assert_eq!(
        messages.len() + 1,
        events.len(),
        "only messages after metadata"
    );
    let (chunk, metadata) = (&messages[0].data[0], &messages[0].data[1]);
    assert_eq!(chunk["type"], "AIMessageChunk");
    assert_eq!(chunk["content"], "Why");
    for field in [
        "id",
        "tool_call_chunks",
        "tool_calls",
        "invalid_tool_calls",
        "usage_metadata",
        "response_metadata",
        "additional_kwargs",
        "chunk_position",
    ] {
        assert!(chunk.get(field).is_some(), "no `{field}` in {chunk}");
    }
    assert_eq!(metadata["run_id"], run_id);
    assert_eq!(metadata["thread_id"], Value::Null);
    assert_eq!(
        metadata["assistant_id"],
        "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    );
    assert_eq!(metadata["graph_id"], "agent");
    assert_eq!(metadata["user"], "ada");
    assert_eq!(metadata["langgraph_node"], "call_model");
    assert_eq!(metadata["tags"], json!(["joke"]));
    let last = messages
        .iter()
        .find(|event| event.data[0]["chunk_position"] == "last")
        .unwrap();
    assert_eq!(last.data[0]["response_metadata"]["finish_reason"], "stop");
    assert!(
        last.data[0]["usage_metadata"]["output_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    let text: String = messages
        .iter()
        .take_while(|event| event.data[1]["tags"] == json!(["joke"]))
        .map(|event| event.data[0]["content"].as_str().unwrap())
        .collect();
    assert!(
        text.starts_with("Why was the cat sitting on the computer?"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_mode_sends_metadata_then_the_message_so_far_then_the_complete_message() {
    let (base, _) = serve(0).await;
    let events = run(
        &base,
        json!({"assistant_id": "agent", "input": {"topic": "cats"}, "stream_mode": ["messages"]}),
    )
    .await;
    let names: Vec<&str> = events.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(
        names
            .iter()
            .filter(|name| **name == "messages/metadata")
            .count(),
        2,
        "one per model call"
    );
    assert_eq!(
        names
            .iter()
            .filter(|name| **name == "messages/complete")
            .count(),
        2
    );
    assert_eq!(names[1], "messages/metadata");
    let id = events[2].data[0]["id"].as_str().unwrap();
    assert!(events[1].data[id]["metadata"]["langgraph_node"] == "call_model");
    assert_eq!(events[2].data[0]["content"], "Why");
    assert_eq!(events[3].data[0]["content"], "Why was");
    assert_eq!(events[3].data[0]["type"], "ai");
    let complete = events
        .iter()
        .find(|event| event.name == "messages/complete")
        .unwrap();
    assert_eq!(complete.data[0]["id"], id);
    assert!(
        complete.data[0]["content"]
            .as_str()
            .unwrap()
            .ends_with("mouse!")
    );
    assert_eq!(
        complete.data[0]["response_metadata"]["finish_reason"],
        "stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_modes_interleave_in_run_order() {
    let (base, _) = serve(0).await;
    let events = run(&base, json!({"assistant_id": "agent", "input": {"topic": "cats"}, "stream_mode": ["updates", "custom", "debug", "tasks", "values"]})).await;
    let names: Vec<&str> = events.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "metadata", "values", "debug", "tasks", "custom", "custom", "updates", "debug",
            "tasks", "values"
        ]
    );
    assert_eq!(events[2].data["type"], "task");
    assert_eq!(events[3].data["name"], "call_model");
    assert_eq!(events[3].data, events[2].data["payload"]);
    assert_eq!(events[4].data, json!({"note": "asking for a joke"}));
    assert!(
        events[6].data["call_model"]["joke"]
            .as_str()
            .unwrap()
            .starts_with("Why")
    );
    assert_eq!(events[7].data["type"], "task_result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subgraph_events_are_named_by_their_namespace_when_asked_for() {
    let (base, _) = serve(0).await;
    let events = run(&base, json!({"assistant_id": "nested", "input": {"topic": "cats"}, "stream_mode": ["messages-tuple", "custom", "updates"], "stream_subgraphs": true})).await;
    let custom = events
        .iter()
        .find(|event| event.name.starts_with("custom"))
        .unwrap();
    let (mode, ns) = custom.name.split_once('|').unwrap();
    assert_eq!(mode, "custom");
    assert!(ns.starts_with("tell:"), "{ns}");
    let message = events
        .iter()
        .find(|event| event.name.starts_with("messages"))
        .unwrap();
    assert_eq!(message.name, format!("messages|{ns}"));
    assert_eq!(
        message.data[1]["langgraph_checkpoint_ns"]
            .as_str()
            .unwrap()
            .split('|')
            .next(),
        Some(ns)
    );
    assert_eq!(
        events.last().unwrap().name,
        "updates",
        "the parent's own update has no namespace"
    );

    let flat = run(&base, json!({"assistant_id": "nested", "input": {"topic": "cats"}, "stream_mode": ["messages-tuple", "custom", "updates"]})).await;
    let names: Vec<&str> = flat.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(
        names,
        ["metadata", "updates"],
        "without stream_subgraphs the child stays quiet"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_failing_mid_stream_ends_with_an_error_event_after_its_tokens() {
    let (base, _) = serve(0).await;
    let events = run(&base, json!({"assistant_id": "failing", "input": {"topic": "cats"}, "stream_mode": ["messages-tuple", "updates"]})).await;
    let names: Vec<&str> = events.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(
        names,
        ["metadata", "messages", "messages", "messages", "error"]
    );
    assert_eq!(
        events[4].data,
        json!({"error": "NodeError", "message": "node `call` failed in step 1"})
    );
    let body = post(
        &base,
        "/runs/stream",
        json!({"assistant_id": "failing", "input": {"topic": "cats"}}),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        !body.contains("10.0.0.7"),
        "a node's own error stays in the server's log: {body}"
    );

    let waited = json_of(
        post(
            &base,
            "/runs/wait",
            json!({"assistant_id": "failing", "input": {"topic": "cats"}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        waited,
        json!({"__error__": {"error": "NodeError", "message": "node `call` failed in step 1"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_the_final_state() {
    let (base, _) = serve(0).await;
    let response = post(
        &base,
        "/runs/wait",
        json!({"assistant_id": "agent", "input": {"topic": "cats"}, "stream_mode": "messages"}),
    )
    .await;
    assert!(
        response.headers()["content-location"]
            .to_str()
            .unwrap()
            .starts_with("/runs/")
    );
    let state = json_of(response).await;
    assert_eq!(state["topic"], "cats");
    assert!(
        state["poem"]
            .as_str()
            .unwrap()
            .starts_with("In sunlit patches")
    );
}

/// Reads the stream until `count` messages events have arrived, then drops it.
async fn read_messages_then_disconnect(base: &str, on_disconnect: &str, count: usize) {
    let response = post(base, "/runs/stream", json!({"assistant_id": "gated", "input": {"topic": "cats"}, "stream_mode": "messages-tuple", "on_disconnect": on_disconnect})).await;
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while text.matches("event: messages").count() < count {
        text.push_str(std::str::from_utf8(&body.next().await.unwrap().unwrap()).unwrap());
    }
}

/// Guards a wait that must end; a hang fails the test instead of blocking the suite.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_with_on_disconnect_cancel_stops_the_run_and_its_model_request() {
    let (base, gate) = serve(1_000).await;
    gate.permits.add_permits(2);
    read_messages_then_disconnect(&base, "cancel", 2).await;
    within("the model request's drop", gate.dropped.notified()).await;
    assert_eq!(gate.sent.load(Ordering::SeqCst), 2);
    assert!(!gate.finished.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_with_on_disconnect_continue_lets_the_run_finish() {
    // Far more tokens than the run's buffer and one batch hold, so a run stopped when its
    // events find nobody could not have finished.
    let (base, gate) = serve(1_000).await;
    gate.permits.add_permits(2);
    read_messages_then_disconnect(&base, "continue", 2).await;
    // The rest of the answer is produced for nobody, to the end.
    gate.permits.add_permits(998);
    within("the model request's end", gate.dropped.notified()).await;
    assert_eq!(gate.sent.load(Ordering::SeqCst), 1_000);
    assert!(
        gate.finished.load(Ordering::SeqCst),
        "the model stream was dropped before its end"
    );
}
