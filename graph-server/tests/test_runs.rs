//! Stored runs over real HTTP with reqwest, on a SQLite store: background runs, their
//! records, join (the result and the events, after `Last-Event-ID`), cancel, each
//! multitask strategy, threads a stopped server left busy, and resumable stateless runs
//! joined at `/runs/{run_id}/stream`. The `gated` graph holds its
//! thread until a run of `release` opens the gate, so nothing here is timed.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use stategraph::checkpoint::{
    Checkpointer, RunRecord, RunStatus, ThreadChange, ThreadRecord, ThreadStatus,
};
use stategraph_checkpoint::SqlCheckpointer;
use stategraph_server::Server;
use stategraph_test_support::threads::{Gate, gated, release};

async fn serve(store: Arc<dyn Checkpointer>) -> String {
    let gate = Gate::new();
    let server = Server::new()
        .store(store)
        .graph("gated", gated::Graph::new(gate.clone()))
        .graph("release", release::Graph::new(gate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));
    format!("http://{address}")
}

async fn sqlite() -> (Arc<dyn Checkpointer>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    (Arc::new(SqlCheckpointer::connect(&url).await.unwrap()), dir)
}

/// One SSE event: its name, data and id (when it has one).
#[derive(Debug, Clone, PartialEq)]
struct Event {
    name: String,
    data: Value,
    id: Option<String>,
}

fn events(body: &str) -> Vec<Event> {
    body.split("\r\n\r\n")
        .filter(|frame| !frame.is_empty() && !frame.starts_with(':'))
        .map(|frame| {
            let mut event = Event {
                name: String::new(),
                data: Value::Null,
                id: None,
            };
            for line in frame.split("\r\n") {
                if let Some(name) = line.strip_prefix("event: ") {
                    event.name = name.to_owned();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    event.data = serde_json::from_str(data).unwrap();
                } else if let Some(id) = line.strip_prefix("id: ") {
                    event.id = Some(id.to_owned());
                }
            }
            event
        })
        .collect()
}

/// Reads a streaming body into `seen` until it holds `count` events; returns them.
async fn read_events<B: AsRef<[u8]>, E: std::fmt::Debug>(
    body: &mut (impl futures::Stream<Item = Result<B, E>> + Unpin),
    seen: &mut String,
    count: usize,
) -> Vec<Event> {
    while events(seen).len() < count {
        seen.push_str(std::str::from_utf8(body.next().await.unwrap().unwrap().as_ref()).unwrap());
    }
    events(seen)
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json)
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    call(reqwest::Method::POST, format!("{base}{path}"), Some(body)).await
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    call(reqwest::Method::GET, format!("{base}{path}"), None).await
}

async fn thread(base: &str) -> String {
    let (status, thread) = post(base, "/threads", json!({})).await;
    assert_eq!(status, 200, "{thread}");
    thread["thread_id"].as_str().unwrap().to_owned()
}

/// Starts a run in the background; returns its id.
async fn background(base: &str, thread_id: &str, body: Value) -> String {
    let (status, run) = post(base, &format!("/threads/{thread_id}/runs"), body).await;
    assert_eq!(status, 200, "{run}");
    run["run_id"].as_str().unwrap().to_owned()
}

/// Lets one waiting `gated` run through.
async fn open_gate(base: &str) {
    let (status, _) = post(base, "/runs/wait", json!({"assistant_id": "release"})).await;
    assert_eq!(status, 200);
}

async fn run_status(base: &str, thread_id: &str, run_id: &str) -> String {
    let (status, run) = get(base, &format!("/threads/{thread_id}/runs/{run_id}")).await;
    assert_eq!(status, 200, "{run}");
    run["status"].as_str().unwrap().to_owned()
}

/// Waits, polling, until the run's status is `want` (bounded by the harness, no clock).
async fn until_status(base: &str, thread_id: &str, run_id: &str, want: &str) {
    loop {
        let status = run_status(base, thread_id, run_id).await;
        if status == want {
            return;
        }
        let ended = ["success", "error", "interrupted"].contains(&status.as_str());
        assert!(!ended, "run {run_id} ended `{status}`, not `{want}`");
        tokio::task::yield_now().await;
    }
}

async fn thread_status(base: &str, thread_id: &str) -> String {
    get(base, &format!("/threads/{thread_id}")).await.1["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_run_is_stored_listed_joined_and_deleted() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let (status, run) = post(
        &base,
        &format!("/threads/{thread_id}/runs"),
        json!({"assistant_id": "gated", "metadata": {"who": "ann"}}),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(run["thread_id"], thread_id.as_str());
    assert_eq!(run["metadata"], json!({"who": "ann"}));
    assert_eq!(run["kwargs"]["assistant_id"], "gated");
    // LangGraph's server's default.
    assert_eq!(run["multitask_strategy"], "enqueue");
    // It runs without a client, held at the gate.
    until_status(&base, &thread_id, &run_id, "running").await;
    assert_eq!(thread_status(&base, &thread_id).await, "busy");
    let (status, listed) = get(&base, &format!("/threads/{thread_id}/runs")).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["run_id"], run_id.as_str());
    let (_, running) = get(&base, &format!("/threads/{thread_id}/runs?status=running")).await;
    assert_eq!(running.as_array().unwrap().len(), 1);
    let (_, none) = get(&base, &format!("/threads/{thread_id}/runs?status=success")).await;
    assert_eq!(none, json!([]));
    let (status, _) = get(&base, &format!("/threads/{thread_id}/runs?status=done")).await;
    assert_eq!(status, 422);
    // A join waits for the end and answers with the thread's state.
    let join = tokio::spawn({
        let (base, path) = (
            base.clone(),
            format!("/threads/{thread_id}/runs/{run_id}/join"),
        );
        async move { get(&base, &path).await }
    });
    let (status, _) = call(
        reqwest::Method::DELETE,
        format!("{base}/threads/{thread_id}/runs/{run_id}"),
        None,
    )
    .await;
    assert_eq!(status, 409, "a live run is not deleted");
    open_gate(&base).await;
    assert_eq!(join.await.unwrap(), (200, json!({"passed": 1})));
    assert_eq!(run_status(&base, &thread_id, &run_id).await, "success");
    assert_eq!(thread_status(&base, &thread_id).await, "idle");
    // Joined after its end: the same answer.
    let path = format!("/threads/{thread_id}/runs/{run_id}/join");
    assert_eq!(get(&base, &path).await, (200, json!({"passed": 1})));
    let (status, _) = call(
        reqwest::Method::DELETE,
        format!("{base}/threads/{thread_id}/runs/{run_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, error) = get(&base, &format!("/threads/{thread_id}/runs/{run_id}")).await;
    assert_eq!(
        (status, error["detail"].as_str().unwrap()),
        (404, format!("Run '{run_id}' not found").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_read_to_its_end_leaves_the_thread_free_for_the_next_run_at_once() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    // A chat client's turns: each starts the moment the last one's stream ended.
    for turn in 0..100 {
        let response = reqwest::Client::new()
            .post(format!("{base}/threads/{thread_id}/runs/stream"))
            .header("content-type", "application/json")
            .body(json!({ "assistant_id": "release", "input": {} }).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "turn {turn}: {body}");
        assert!(
            events(&body).iter().any(|event| event.name == "values"),
            "turn {turn}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_with_stream_mode_gets_only_those_modes_events() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let run_id = background(
        &base,
        &thread_id,
        json!({"assistant_id": "release", "stream_mode": ["values", "updates", "debug"]}),
    )
    .await;
    until_status(&base, &thread_id, &run_id, "success").await;
    let join = |query: &'static str| {
        let request = reqwest::Client::new()
            .get(format!(
                "{base}/threads/{thread_id}/runs/{run_id}/stream{query}"
            ))
            .header("Last-Event-ID", "-1");
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let names =
        |body: &str| -> Vec<String> { events(body).into_iter().map(|event| event.name).collect() };
    let (_, all) = join("").await;
    let all = names(&all);
    // What the Python SDK sends when no mode is given.
    let (_, unnamed) = join("?stream_mode=&cancel_on_disconnect=false").await;
    assert_eq!(names(&unnamed), all);
    assert!(all.iter().any(|name| name == "values"), "{all:?}");
    assert!(all.iter().any(|name| name == "debug"), "{all:?}");
    let (status, updates) = join("?stream_mode=updates").await;
    assert_eq!(status, 200);
    assert_eq!(names(&updates), vec!["metadata", "updates"]);
    let (_, two) = join("?stream_mode=updates&stream_mode=values").await;
    let two = names(&two);
    let expected: Vec<String> = all
        .iter()
        .filter(|name| *name != "debug")
        .cloned()
        .collect();
    assert_eq!(two, expected);
    let (status, wrong) = join("?stream_mode=tokens").await;
    assert_eq!(status, 422, "{wrong}");
    assert!(wrong.contains("unknown mode `tokens`"), "{wrong}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_after_last_event_id_gets_only_the_events_after_it() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let run_id = background(
        &base,
        &thread_id,
        json!({"assistant_id": "gated", "stream_mode": ["values", "updates"]}),
    )
    .await;
    let join = |last: &str| {
        let request = reqwest::Client::new()
            .get(format!("{base}/threads/{thread_id}/runs/{run_id}/stream"))
            .header("Last-Event-ID", last);
        async move { request.send().await.unwrap() }
    };
    // From the start while the run waits at the gate: metadata and the first state.
    let early = join("-1").await;
    assert_eq!(early.status(), 200);
    let before = read_events(&mut early.bytes_stream(), &mut String::new(), 2).await;
    assert_eq!(before[0].name, "metadata");
    assert_eq!(before[0].data["run_id"], run_id.as_str());
    let last = before[1].id.clone().expect("a joined event has an id");
    open_gate(&base).await;
    until_status(&base, &thread_id, &run_id, "success").await;
    let all = events(&join("-1").await.text().await.unwrap());
    let later = events(&join(&last).await.text().await.unwrap());
    assert!(all.len() > 2, "{all:?}");
    assert_eq!(
        &all[..2],
        &before[..],
        "the replay starts with what was seen"
    );
    assert_eq!(
        later,
        all[2..].to_vec(),
        "only what came after, nothing repeated"
    );
    assert_eq!(later.last().unwrap().data, json!({"passed": 1}));
    // Without the header, a join sees live events only: the run has ended, so none.
    let live = reqwest::Client::new()
        .get(format!("{base}/threads/{thread_id}/runs/{run_id}/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(events(&live.text().await.unwrap()), vec![]);
    let bad = join("yesterday").await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumable_stream_carries_ids_and_goes_on_without_its_client() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/threads/{thread_id}/runs/stream"))
        .header("content-type", "application/json")
        .body(json!({"assistant_id": "gated", "stream_resumable": true}).to_string())
        .send()
        .await
        .unwrap();
    let location = response.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    let run_id = location.rsplit('/').next().unwrap().to_owned();
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    let first = events(std::str::from_utf8(&first).unwrap());
    assert_eq!(first[0].name, "metadata");
    assert!(first.iter().all(|event| event.id.is_some()), "{first:?}");
    // The client leaves; `on_disconnect` is `continue` by default.
    drop(body);
    open_gate(&base).await;
    until_status(&base, &thread_id, &run_id, "success").await;
    let (_, state) = get(&base, &format!("/threads/{thread_id}/state")).await;
    assert_eq!(state["values"], json!({"passed": 1}));
}

/// A resumable stateless run (`POST /runs/stream` with `stream_resumable`) keeps its
/// events: a join at `GET /runs/{run_id}/stream` (the JS SDK's `joinStream(null, runId)`)
/// from the start gets them all, one after a `Last-Event-ID` mid-run gets the rest with
/// nothing lost or repeated, one without the header only what comes after it; each then
/// follows the run live to its end. Unknown and non-resumable runs are 404s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumable_stateless_run_is_joined_from_the_start_or_after_an_event_id() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/runs/stream"))
        .header("content-type", "application/json")
        .body(
            json!({"assistant_id": "gated", "stream_resumable": true, "stream_mode": ["values", "updates"]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    let run_path = header("content-location");
    let run_id = run_path.strip_prefix("/runs/").unwrap().to_owned();
    assert_eq!(header("location"), format!("/runs/{run_id}/stream"));
    let mut started = response.bytes_stream();
    let mut seen = String::new();
    // The run waits at the gate after its metadata and its first state.
    let before = read_events(&mut started, &mut seen, 2).await;
    assert_eq!(before[0].name, "metadata");
    assert_eq!(before[0].data["run_id"], run_id.as_str());
    assert!(before.iter().all(|event| event.id.is_some()), "{before:?}");

    let join = |last: Option<&str>| {
        let mut request = client.get(format!("{base}/runs/{run_id}/stream"));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last);
        }
        async move { request.send().await.unwrap() }
    };
    let from_start = join(Some("-1")).await;
    let after_first = join(before[0].id.as_deref()).await;
    let live = join(None).await;
    for response in [&from_start, &after_first, &live] {
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-location"], run_path.as_str());
    }
    open_gate(&base).await;
    while let Some(chunk) = started.next().await {
        seen.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    let all = events(&seen);
    assert!(all.len() > 2, "{all:?}");
    assert_eq!(all.last().unwrap().data, json!({"passed": 1}));
    assert_eq!(events(&from_start.text().await.unwrap()), all);
    assert_eq!(
        events(&after_first.text().await.unwrap()),
        all[1..].to_vec(),
        "after the first event: the rest, nothing lost or repeated"
    );
    assert_eq!(
        events(&live.text().await.unwrap()),
        all[2..].to_vec(),
        "without the header: only what came after the join"
    );

    let unknown = "0199d3a2-7c20-7b11-8e2f-aa11bb22cc33";
    let (status, error) = get(&base, &format!("/runs/{unknown}/stream")).await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(get(&base, "/runs/not-a-run/stream").await.0, 404);
    let plain = client
        .post(format!("{base}/runs/stream"))
        .header("content-type", "application/json")
        .body(json!({"assistant_id": "release"}).to_string())
        .send()
        .await
        .unwrap();
    let plain_path = plain.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    let plain_events = events(&plain.text().await.unwrap());
    assert!(
        plain_events.iter().all(|event| event.id.is_none()),
        "{plain_events:?}"
    );
    let (status, _) = get(&base, &format!("{plain_path}/stream")).await;
    assert_eq!(status, 404, "a run that is not resumable keeps no events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_run_mid_way_ends_its_stream_and_frees_the_thread() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/threads/{thread_id}/runs/stream"))
        .header("content-type", "application/json")
        .body(json!({"assistant_id": "gated"}).to_string())
        .send()
        .await
        .unwrap();
    let location = response.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    let run_id = location.rsplit('/').next().unwrap().to_owned();
    until_status(&base, &thread_id, &run_id, "running").await;
    let cancel = format!("/threads/{thread_id}/runs/{run_id}/cancel?wait=1&action=interrupt");
    let (status, _) = post(&base, &cancel, Value::Null).await;
    assert_eq!(status, 202);
    // The stream ends; the run never passed the gate.
    let streamed = events(&response.text().await.unwrap());
    assert_eq!(streamed[0].name, "metadata");
    assert!(
        streamed
            .iter()
            .all(|event| event.data != json!({"passed": 1}))
    );
    assert_eq!(run_status(&base, &thread_id, &run_id).await, "interrupted");
    assert_eq!(thread_status(&base, &thread_id).await, "idle");
    let (status, _) = post(&base, &cancel, Value::Null).await;
    assert_eq!(status, 409, "an ended run cannot be cancelled again");
    // The thread takes the next run.
    let next = background(
        &base,
        &thread_id,
        json!({"assistant_id": "gated", "input": {}}),
    )
    .await;
    open_gate(&base).await;
    until_status(&base, &thread_id, &next, "success").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_stops_the_running_run_and_keeps_what_it_stored() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let first = background(&base, &thread_id, json!({"assistant_id": "gated"})).await;
    until_status(&base, &thread_id, &first, "running").await;
    // The same graph, so the thread's history reads as one graph's.
    let second = background(
        &base,
        &thread_id,
        json!({"assistant_id": "gated", "input": {"passed": 7}, "multitask_strategy": "interrupt"}),
    )
    .await;
    until_status(&base, &thread_id, &second, "running").await;
    open_gate(&base).await;
    let path = format!("/threads/{thread_id}/runs/{second}/join");
    assert_eq!(get(&base, &path).await, (200, json!({"passed": 8})));
    assert_eq!(run_status(&base, &thread_id, &first).await, "interrupted");
    assert_eq!(thread_status(&base, &thread_id).await, "idle");
    // The first run's input checkpoint is kept under the second's.
    let (status, history) = post(&base, &format!("/threads/{thread_id}/history"), json!({})).await;
    assert_eq!(status, 200, "{history}");
    let runs: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|state| state["metadata"]["run_id"].as_str())
        .collect();
    assert!(runs.contains(&first.as_str()), "{runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_stops_the_running_run_and_deletes_it_and_its_checkpoints() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let first = background(&base, &thread_id, json!({"assistant_id": "gated"})).await;
    until_status(&base, &thread_id, &first, "running").await;
    let (status, state) = post(
        &base,
        &format!("/threads/{thread_id}/runs/wait"),
        json!({"assistant_id": "release", "input": {"passed": 7}, "multitask_strategy": "rollback"}),
    )
    .await;
    assert_eq!((status, &state), (200, &json!({"passed": 7})));
    let (status, _) = get(&base, &format!("/threads/{thread_id}/runs/{first}")).await;
    assert_eq!(status, 404, "the rolled back run's record is gone");
    let (_, history) = post(&base, &format!("/threads/{thread_id}/history"), json!({})).await;
    let history = history.as_array().unwrap();
    assert!(!history.is_empty());
    assert!(
        history
            .iter()
            .all(|state| state["metadata"]["run_id"] != first.as_str()),
        "{history:?}"
    );
    let (_, listed) = get(&base, &format!("/threads/{thread_id}/runs")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueued_runs_start_in_order_after_the_running_one() {
    let (store, _dir) = sqlite().await;
    let base = serve(store).await;
    let thread_id = thread(&base).await;
    let enqueue = json!({"assistant_id": "gated", "input": {}, "multitask_strategy": "enqueue"});
    let first = background(&base, &thread_id, enqueue.clone()).await;
    until_status(&base, &thread_id, &first, "running").await;
    let second = background(&base, &thread_id, enqueue.clone()).await;
    let third = background(&base, &thread_id, enqueue).await;
    assert_eq!(run_status(&base, &thread_id, &second).await, "pending");
    assert_eq!(run_status(&base, &thread_id, &third).await, "pending");
    open_gate(&base).await;
    until_status(&base, &thread_id, &first, "success").await;
    until_status(&base, &thread_id, &second, "running").await;
    assert_eq!(run_status(&base, &thread_id, &third).await, "pending");
    open_gate(&base).await;
    until_status(&base, &thread_id, &second, "success").await;
    open_gate(&base).await;
    until_status(&base, &thread_id, &third, "success").await;
    // Each went on from the one before.
    let path = format!("/threads/{thread_id}/runs/{third}/join");
    assert_eq!(get(&base, &path).await, (200, json!({"passed": 3})));
    // A queued run can be cancelled before it starts.
    let running = background(
        &base,
        &thread_id,
        json!({"assistant_id": "gated", "input": {}}),
    )
    .await;
    until_status(&base, &thread_id, &running, "running").await;
    let queued = background(
        &base,
        &thread_id,
        json!({"assistant_id": "gated", "input": {}, "multitask_strategy": "enqueue"}),
    )
    .await;
    let cancel = format!("/threads/{thread_id}/runs/{queued}/cancel");
    assert_eq!(post(&base, &cancel, Value::Null).await.0, 202);
    assert_eq!(run_status(&base, &thread_id, &queued).await, "interrupted");
    open_gate(&base).await;
    until_status(&base, &thread_id, &running, "success").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_left_busy_by_a_stopped_server_is_idle_at_startup() {
    let (store, _dir) = sqlite().await;
    store
        .create_thread(ThreadRecord::new("left", Default::default()))
        .await
        .unwrap();
    let busy = ThreadChange {
        status: Some(ThreadStatus::Busy),
        ..ThreadChange::default()
    };
    store.update_thread("left", busy).await.unwrap();
    let mut run = RunRecord::new("r-left", "left", "gated");
    run.status = RunStatus::Running;
    store.put_run(run).await.unwrap();
    let base = serve(Arc::clone(&store)).await;
    assert_eq!(thread_status(&base, "left").await, "idle");
    assert_eq!(run_status(&base, "left", "r-left").await, "error");
}
