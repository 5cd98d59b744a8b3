//! Threads over real HTTP on 127.0.0.1 with reqwest, on a SQLite store: records and their
//! statuses, runs that stop on an interrupt and resume, a busy thread, a cancelled run, the
//! errors, and threads that outlive the server that ran them.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use stategraph::checkpoint::Checkpointer;
use stategraph_checkpoint::SqlCheckpointer;
use stategraph_server::Server;
use stategraph_test_support::guide::{progress_joke_poem, scripted_models};
use stategraph_test_support::threads::{Gate, approval, crawl, gated, release};

/// Serves `agent`, `approval`, `gated`, `release` and `crawl` on a free port, on `store`.
async fn serve(store: Arc<dyn Checkpointer>) -> String {
    let gate = Gate::new();
    let server = Server::new()
        .store(store)
        .graph("agent", progress_joke_poem::Graph::new(scripted_models()))
        .graph("approval", approval::Graph::new())
        .graph("gated", gated::Graph::new(gate.clone()))
        .graph("release", release::Graph::new(gate))
        .graph("crawl", crawl::Graph::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));
    format!("http://{address}")
}

/// A SQLite store in a new temporary directory (kept alive by the returned guard).
async fn sqlite() -> (Arc<dyn Checkpointer>, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    (Arc::new(store), dir, url)
}

#[derive(Debug)]
struct Event {
    name: String,
    data: Value,
}

fn events(body: &str) -> Vec<Event> {
    body.split("\r\n\r\n")
        .filter(|frame| !frame.is_empty() && !frame.starts_with(':'))
        .map(|frame| {
            let mut lines = frame.split("\r\n");
            let name = lines.next().unwrap().strip_prefix("event: ").unwrap();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            Event {
                name: name.to_owned(),
                data: serde_json::from_str(data).unwrap(),
            }
        })
        .collect()
}

async fn send(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, json)
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    send(reqwest::Method::POST, format!("{base}{path}"), Some(body)).await
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    send(reqwest::Method::GET, format!("{base}{path}"), None).await
}

async fn create(base: &str, metadata: Value) -> String {
    let (status, thread) = post(base, "/threads", json!({ "metadata": metadata })).await;
    assert_eq!(status, 200, "{thread}");
    thread["thread_id"].as_str().unwrap().to_owned()
}

async fn stream(base: &str, thread_id: &str, body: Value) -> Vec<Event> {
    let response = reqwest::Client::new()
        .post(format!("{base}/threads/{thread_id}/runs/stream"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        panic!("{}: {}", response.status(), response.text().await.unwrap());
    }
    events(&response.text().await.unwrap())
}

async fn status_of(base: &str, thread_id: &str) -> String {
    let (_, thread) = get(base, &format!("/threads/{thread_id}")).await;
    thread["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_record_is_created_read_updated_searched_and_deleted() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let (status, thread) = post(
        &base,
        "/threads",
        json!({"thread_id": "t-1", "metadata": {"owner": "ann"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(thread["thread_id"], "t-1");
    assert_eq!(thread["status"], "idle");
    assert_eq!(thread["values"], Value::Null);
    assert_eq!(thread["interrupts"], json!({}));
    let (status, again) = post(&base, "/threads", json!({"thread_id": "t-1"})).await;
    assert_eq!(
        (status, again["detail"].as_str()),
        (409, Some("Thread 't-1' already exists"))
    );
    let (status, same) = post(
        &base,
        "/threads",
        json!({"thread_id": "t-1", "if_exists": "do_nothing", "metadata": {"owner": "bob"}}),
    )
    .await;
    assert_eq!((status, &same["metadata"]), (200, &json!({"owner": "ann"})));

    let (status, patched) = send(
        reqwest::Method::PATCH,
        format!("{base}/threads/t-1"),
        Some(json!({"metadata": {"team": "red"}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["metadata"], json!({"owner": "ann", "team": "red"}));
    let (_, got) = get(&base, "/threads/t-1").await;
    assert_eq!(got, patched);

    create(&base, json!({"team": "blue"})).await;
    let (status, found) = post(
        &base,
        "/threads/search",
        json!({"metadata": {"team": "red"}}),
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["thread_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t-1"]);
    // By ids, ordered by id either way, or by the record changed last.
    let second = create(&base, json!({"team": "blue"})).await;
    let search_ids = |body: Value| {
        let base = base.clone();
        async move {
            let (status, found) = post(&base, "/threads/search", body).await;
            assert_eq!(status, 200, "{found}");
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["thread_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mut by_id = vec!["t-1".to_owned(), second.clone()];
    by_id.sort();
    assert_eq!(
        search_ids(
            json!({"ids": ["t-1", second, "nobody"], "sort_by": "thread_id", "sort_order": "asc"})
        )
        .await,
        by_id
    );
    by_id.reverse();
    assert_eq!(
        search_ids(json!({"ids": ["t-1", second], "sort_by": "thread_id"})).await,
        by_id
    );
    assert_eq!(
        search_ids(json!({"ids": ["t-1", second], "sort_by": "updated_at", "limit": 1})).await,
        vec![second],
        "the newest record"
    );
    for (body, field) in [
        (json!({"sort_by": "size"}), "sort_by: unknown field `size`"),
        (
            json!({"sort_order": "up"}),
            "sort_order: unknown order `up`",
        ),
    ] {
        let (status, error) = post(&base, "/threads/search", body).await;
        assert_eq!(status, 422, "{error}");
        assert!(
            error["detail"].as_str().unwrap().starts_with(field),
            "{error}"
        );
    }
    let (status, error) = post(&base, "/threads/search", json!({"status": "asleep"})).await;
    assert_eq!(status, 422);
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .starts_with("status: unknown status `asleep`")
    );

    let (status, _) = send(reqwest::Method::DELETE, format!("{base}/threads/t-1"), None).await;
    assert_eq!(status, 204);
    let (status, error) = get(&base, "/threads/t-1").await;
    assert_eq!(
        (status, error["detail"].as_str()),
        (404, Some("Thread 't-1' not found"))
    );
    let (status, _) = send(reqwest::Method::DELETE, format!("{base}/threads/t-1"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stops_on_its_interrupt_and_a_command_resumes_it() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({})).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/threads/{thread_id}/runs/stream"))
        .header("content-type", "application/json")
        .body(
            json!({"assistant_id": "approval", "input": {"task": "ship"}, "stream_mode": ["values", "updates"]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let content_location = response.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    let stopped = events(&response.text().await.unwrap());
    let run = stopped[0].data["run_id"].as_str().unwrap();
    assert_eq!(content_location, format!("/threads/{thread_id}/runs/{run}"));
    assert_eq!(location, format!("{content_location}/stream"));
    let last = stopped.last().unwrap();
    assert_eq!(last.name, "updates");
    let interrupts = last.data["__interrupt__"].as_array().unwrap().clone();
    assert_eq!(interrupts.len(), 1);
    assert_eq!(interrupts[0]["value"], json!({"question": "may I ship?"}));
    let values = &stopped[stopped.len() - 2];
    assert_eq!(values.name, "values");
    assert_eq!(values.data["__interrupt__"], json!(interrupts));
    assert_eq!(values.data["log"], json!(["planned ship"]));

    let (_, thread) = get(&base, &format!("/threads/{thread_id}")).await;
    assert_eq!(thread["status"], "interrupted");
    assert_eq!(thread["metadata"]["graph_id"], "approval");
    let pending: Vec<&Value> = thread["interrupts"].as_object().unwrap().values().collect();
    assert_eq!(pending, [&json!(interrupts)]);
    let (_, state) = get(&base, &format!("/threads/{thread_id}/state")).await;
    assert_eq!(state["next"], json!(["approve"]));
    assert_eq!(state["interrupts"], json!(interrupts));
    assert_eq!(state["tasks"][0]["interrupts"], json!(interrupts));

    let (status, done) = post(
        &base,
        &format!("/threads/{thread_id}/runs/wait"),
        json!({"assistant_id": "approval", "command": {"resume": "yes"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        done["log"],
        json!(["planned ship", "answered yes", "did ship"])
    );
    assert!(done.get("__interrupt__").is_none());
    let (_, thread) = get(&base, &format!("/threads/{thread_id}")).await;
    assert_eq!(thread["status"], "idle");
    assert_eq!(thread["interrupts"], json!({}));
    assert_eq!(thread["values"], done);

    // The history holds both runs, newest first, their steps continuing.
    let (_, history) = post(
        &base,
        &format!("/threads/{thread_id}/history"),
        json!({"limit": 100}),
    )
    .await;
    let steps: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["metadata"]["step"].as_i64().unwrap())
        .collect();
    let mut sorted = steps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(steps, sorted);
    assert_eq!(*steps.last().unwrap(), -1);

    // Filtered by metadata before the limit counts: only the input checkpoint (the second
    // run was a command), with its state; the loop checkpoints, and with `limit: 1` the
    // newest of them.
    let (status, inputs) = post(
        &base,
        &format!("/threads/{thread_id}/history"),
        json!({"metadata": {"source": "input"}}),
    )
    .await;
    assert_eq!(status, 200, "{inputs}");
    let inputs = inputs.as_array().unwrap();
    let all_inputs = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["metadata"]["source"] == "input")
        .collect::<Vec<_>>();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    assert_eq!(all_inputs, [&inputs[0]]);
    let loops = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["metadata"]["source"] == "loop")
        .collect::<Vec<_>>();
    assert!(loops.len() >= 2, "{loops:?}");
    let (_, newest) = post(
        &base,
        &format!("/threads/{thread_id}/history"),
        json!({"metadata": {"source": "loop"}, "limit": 1}),
    )
    .await;
    assert_eq!(newest.as_array().unwrap().as_slice(), [loops[0].clone()]);
    let (_, step_one) = post(
        &base,
        &format!("/threads/{thread_id}/history"),
        json!({"metadata": {"step": 1, "source": "loop"}}),
    )
    .await;
    let step_one = step_one.as_array().unwrap();
    assert_eq!(step_one.len(), 1, "{step_one:?}");
    assert_eq!(step_one[0]["metadata"]["step"], 1);
    let (_, none) = post(
        &base,
        &format!("/threads/{thread_id}/history"),
        json!({"metadata": {"source": "fork"}}),
    )
    .await;
    assert_eq!(none, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_a_busy_thread_is_409_and_the_first_finishes() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({})).await;
    let held = reqwest::Client::new()
        .post(format!("{base}/threads/{thread_id}/runs/stream"))
        .header("content-type", "application/json")
        .body(json!({"assistant_id": "gated"}).to_string())
        .send()
        .await
        .unwrap();
    // The status line comes once the run holds the thread.
    assert_eq!(held.status(), 200);
    assert_eq!(status_of(&base, &thread_id).await, "busy");
    let (status, error) = post(
        &base,
        &format!("/threads/{thread_id}/runs/wait"),
        json!({"assistant_id": "gated", "multitask_strategy": "reject"}),
    )
    .await;
    assert_eq!(status, 409, "{error}");
    let (status, _) = post(
        &base,
        &format!("/threads/{thread_id}/state"),
        json!({"values": {"passed": 5}}),
    )
    .await;
    assert_eq!(status, 409, "update_state waits for no run either");
    let (status, _) = send(
        reqwest::Method::DELETE,
        format!("{base}/threads/{thread_id}"),
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = post(&base, "/runs/wait", json!({"assistant_id": "release"})).await;
    assert_eq!(status, 200);
    let finished = events(&held.text().await.unwrap());
    assert_eq!(finished.last().unwrap().data, json!({"passed": 1}));
    assert_eq!(status_of(&base, &thread_id).await, "idle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_by_its_client_gives_the_thread_back() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({})).await;
    let held = reqwest::Client::new()
        .post(format!("{base}/threads/{thread_id}/runs/stream"))
        .header("content-type", "application/json")
        .body(json!({"assistant_id": "gated", "on_disconnect": "cancel"}).to_string())
        .send()
        .await
        .unwrap();
    let mut body = held.bytes_stream();
    // The metadata event: the run holds the thread.
    body.next().await.unwrap().unwrap();
    assert_eq!(status_of(&base, &thread_id).await, "busy");
    drop(body);
    // The record is written by a task of its own once the run is dropped: wait for it
    // (bounded by the test harness, not by a clock in the assertion).
    let mut status = status_of(&base, &thread_id).await;
    for _ in 0..3000 {
        if status != "busy" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        status = status_of(&base, &thread_id).await;
    }
    assert_eq!(status, "idle", "a cancelled run leaves its thread idle");
    // The thread is free for the next run.
    let (status, _) = post(&base, "/runs/wait", json!({"assistant_id": "release"})).await;
    assert_eq!(status, 200);
    let (status, state) = post(
        &base,
        &format!("/threads/{thread_id}/runs/wait"),
        json!({"assistant_id": "gated"}),
    )
    .await;
    assert_eq!((status, &state), (200, &json!({"passed": 1})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_threads_commands_and_updates_are_refused_naming_what_is_wrong() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let (status, error) = post(
        &base,
        "/threads/nobody/runs/stream",
        json!({"assistant_id": "agent"}),
    )
    .await;
    assert_eq!(
        (status, error["detail"].as_str()),
        (404, Some("Thread 'nobody' not found"))
    );
    for path in ["/threads/nobody/state", "/threads/nobody"] {
        assert_eq!(get(&base, path).await.0, 404, "{path}");
    }
    assert_eq!(
        post(&base, "/threads/nobody/history", json!({})).await.0,
        404
    );
    assert_eq!(post(&base, "/threads/nobody/copy", json!({})).await.0, 404);

    let thread_id = create(&base, json!({})).await;
    let runs = format!("/threads/{thread_id}/runs/wait");
    let (status, error) = post(
        &base,
        &runs,
        json!({"assistant_id": "approval", "command": {"resume": "yes"}}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("has no checkpoint"),
        "{error}"
    );
    post(
        &base,
        &runs,
        json!({"assistant_id": "approval", "input": {"task": "x"}}),
    )
    .await;
    let cases = [
        (
            json!({"assistant_id": "approval", "command": {"goto": "nowhere"}}),
            "command.goto: unknown node `nowhere`; the graph's nodes are `plan`, `approve`, `act`",
        ),
        (
            json!({"assistant_id": "approval", "command": {"update": {"approved": "perhaps"}}}),
            "command.update.approved: invalid type: string \"perhaps\", expected a boolean",
        ),
        (
            json!({"assistant_id": "approval", "command": {"update": [["approved"]]}}),
            "command.update[0]: expected a [key, value] pair",
        ),
        (
            json!({"assistant_id": "approval", "input": {"task": "y"}, "command": {"resume": "yes"}}),
            "input: give an input or a command, not both",
        ),
        (
            json!({"assistant_id": "approval", "input": {"tasks": "y"}}),
            "input.tasks: the state has no such field (was it renamed or removed?)",
        ),
        (
            json!({"assistant_id": "approval", "interrupt_before": ["nobody"]}),
            "interrupt_before: unknown node `nobody`; the graph's nodes are `plan`, `approve`, `act`",
        ),
        (
            json!({"assistant_id": "approval", "checkpoint_id": "not-an-id"}),
            "checkpoint_id: `not-an-id` is not a checkpoint id: invalid character: found `n` at 0",
        ),
    ];
    for (body, expected) in cases {
        let (status, error) = post(&base, &runs, body.clone()).await;
        assert_eq!(
            (status, error["detail"].as_str().unwrap_or_default()),
            (422, expected),
            "{body}"
        );
    }
    let (status, error) = post(
        &base,
        &runs,
        json!({"assistant_id": "approval", "multitask_strategy": "later"}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    let state = format!("/threads/{thread_id}/state");
    let (status, error) = post(
        &base,
        &state,
        json!({"values": {"log": ["x"]}, "as_node": "nobody"}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    // Nothing refused changed the thread: it still waits on its question.
    assert_eq!(status_of(&base, &thread_id).await, "interrupted");
}

/// LangGraph's `Command(goto=[Send("fetch", {"url": ..}), Send("note", {..})])`: each Send
/// starts one task of its node on exactly its input (`fetch` its own `Page`, `note` a
/// state), beside a node named alone; a wrong input or node is a 422 naming the item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_goto_of_sends_starts_each_node_on_its_input() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({})).await;
    let runs = format!("/threads/{thread_id}/runs/wait");
    let (status, state) = post(
        &base,
        &runs,
        json!({"assistant_id": "crawl", "input": {"urls": ["a"]}}),
    )
    .await;
    assert_eq!(
        (status, &state["log"]),
        (200, &json!(["planned a", "fetched a"]))
    );

    let goto = json!([
        {"node": "fetch", "input": {"url": "sent"}},
        {"node": "note", "input": {"urls": ["x", "y"]}},
        {"node": "fetch", "input": {"url": "twice"}},
    ]);
    let (status, state) = post(
        &base,
        &runs,
        json!({"assistant_id": "crawl", "command": {"goto": goto}}),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    let mut log: Vec<&str> = state["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    log[2..].sort_unstable();
    assert_eq!(
        log,
        [
            "planned a",
            "fetched a",
            "fetched sent",
            "fetched twice",
            "noted x,y"
        ],
        "one task per Send, each on its own input; the thread's urls untouched"
    );
    assert_eq!(state["urls"], json!(["a"]));
    // One Send alone, not in a list.
    let (status, state) = post(
        &base,
        &runs,
        json!({"assistant_id": "crawl", "command": {"goto": {"node": "fetch", "input": {"url": "one"}}}}),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(
        state["log"].as_array().unwrap().last(),
        Some(&json!("fetched one"))
    );
    // A node no router sends to, on a state of its own; its router then reads the thread's
    // state, as LangGraph's edges after a `Send`'s task do.
    let (status, state) = post(
        &base,
        &runs,
        json!({"assistant_id": "crawl", "command": {"goto": {"node": "plan", "input": {"urls": ["p"]}}}}),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    let log = state["log"].as_array().unwrap();
    assert_eq!(
        log[log.len() - 2..],
        [json!("planned p"), json!("fetched a")]
    );

    let cases = [
        (
            json!({"goto": ["plan", {"node": "fetch", "input": {"url": 5}}]}),
            "command.goto[1].input: invalid type: integer `5`, expected a string",
        ),
        (
            json!({"goto": [{"node": "fetch", "input": {"page": "x"}}]}),
            "command.goto[0].input: missing field `url`",
        ),
        (
            json!({"goto": {"node": "note", "input": {"urls": "x"}}}),
            "command.goto.input.urls: invalid type: string \"x\", expected a sequence",
        ),
        (
            json!({"goto": [{"node": "nowhere", "input": {}}]}),
            "command.goto[0].node: unknown node `nowhere`; the graph's nodes are `plan`, `fetch`, `note`",
        ),
        (
            json!({"goto": [{"input": {}}]}),
            "command.goto[0]: expected a node name or a Send (`{\"node\", \"input\"}`), got an object without `node`",
        ),
        (
            json!({"goto": [7]}),
            "command.goto[0]: expected a node name or a Send (`{\"node\", \"input\"}`), got a number",
        ),
    ];
    for (command, expected) in cases {
        let body = json!({"assistant_id": "crawl", "command": command});
        let (status, error) = post(&base, &runs, body.clone()).await;
        assert_eq!(
            (status, error["detail"].as_str().unwrap_or_default()),
            (422, expected),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_outlive_the_server_that_ran_them() {
    let (store, _dir, url) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({"kept": true})).await;
    stream(
        &base,
        &thread_id,
        json!({"assistant_id": "approval", "input": {"task": "sleep"}}),
    )
    .await;
    // Another server on the same database, as after a restart.
    let reopened: Arc<dyn Checkpointer> = Arc::new(SqlCheckpointer::connect(&url).await.unwrap());
    let base = serve(reopened).await;
    let (_, thread) = get(&base, &format!("/threads/{thread_id}")).await;
    assert_eq!(thread["status"], "interrupted");
    assert_eq!(thread["metadata"]["kept"], true);
    assert_eq!(thread["values"]["log"], json!(["planned sleep"]));
    let (status, done) = post(
        &base,
        &format!("/threads/{thread_id}/runs/wait"),
        json!({"assistant_id": "approval", "command": {"resume": "no"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        done["log"],
        json!(["planned sleep", "answered no", "did not sleep"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_mode_sends_each_stored_checkpoint_and_a_fork_starts_from_one() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({})).await;
    let first = stream(
        &base,
        &thread_id,
        json!({"assistant_id": "agent", "input": {"topic": "cats"}, "stream_mode": "checkpoints"}),
    )
    .await;
    let checkpoints: Vec<&Event> = first.iter().filter(|e| e.name == "checkpoints").collect();
    let steps: Vec<i64> = checkpoints
        .iter()
        .map(|e| e.data["metadata"]["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, [-1, 0, 1]);
    assert_eq!(
        checkpoints[0].data["config"]["configurable"]["thread_id"],
        json!(thread_id)
    );
    let second = stream(
        &base,
        &thread_id,
        json!({"assistant_id": "agent", "input": {"topic": "dogs"}, "stream_mode": "checkpoints"}),
    )
    .await;
    let steps: Vec<i64> = second
        .iter()
        .filter(|e| e.name == "checkpoints")
        .map(|e| e.data["metadata"]["step"].as_i64().unwrap())
        .collect();
    assert_eq!(
        steps,
        [2, 3, 4],
        "a thread's second run continues its steps"
    );
    // Fork from the first run's step 0 (its input applied, `call_model` due): the run goes
    // on from there, on the first run's topic.
    let fork_from = checkpoints[1].data["config"]["configurable"]["checkpoint_id"]
        .as_str()
        .unwrap();
    let forked = stream(
        &base,
        &thread_id,
        json!({"assistant_id": "agent", "checkpoint_id": fork_from, "stream_mode": ["values", "checkpoints"]}),
    )
    .await;
    let last = forked.iter().rev().find(|e| e.name == "values").unwrap();
    assert_eq!(last.data["topic"], "cats");
    assert!(
        last.data["joke"]
            .as_str()
            .unwrap()
            .starts_with("Why was the cat")
    );
    let first = forked.iter().find(|e| e.name == "checkpoints").unwrap();
    assert_eq!(
        first.data["parent_config"]["configurable"]["checkpoint_id"],
        json!(fork_from),
        "the fork's first checkpoint follows the one it forked from"
    );
    assert_eq!(first.data["metadata"]["step"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_of_another_state_on_a_thread_is_a_409_naming_the_field_and_the_thread_is_kept() {
    let (store, _dir, _) = sqlite().await;
    let base = serve(store).await;
    let thread_id = create(&base, json!({})).await;
    stream(
        &base,
        &thread_id,
        json!({ "assistant_id": "agent", "input": { "topic": "cats" } }),
    )
    .await;
    let (_, before) = get(&base, &format!("/threads/{thread_id}/state")).await;
    let (status, refused) = send(
        reqwest::Method::POST,
        format!("{base}/threads/{thread_id}/runs/wait"),
        Some(json!({ "assistant_id": "approval", "input": {} })),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("field `task`"), "{detail}");
    assert!(detail.contains("new thread"), "{detail}");
    // The thread is as the first graph left it, and still readable.
    let (status, after) = get(&base, &format!("/threads/{thread_id}/state")).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after, before);
    let (status, history) = post(&base, &format!("/threads/{thread_id}/history"), json!({})).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(status_of(&base, &thread_id).await, "idle");
}
