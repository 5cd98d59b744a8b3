//! Who may see what, over real HTTP on 127.0.0.1: two identities with API keys walk every
//! endpoint on each other's thread (404, never the data, and nothing changed), search
//! finds only their own threads, requests without a valid key are 401; CORS lets the
//! page's origin in and no other; runs in flight are capped per identity (429 with
//! `Retry-After`).

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use stategraph_checkpoint::MemoryCheckpointer;
use stategraph_server::Server;
use stategraph_server::auth::ApiKeys;
use stategraph_test_support::guide::{progress_joke_poem, scripted_models};
use stategraph_test_support::threads::{Gate, gated, release};

const ALICE: &str = "sk-alice-0123456789";
const BOB: &str = "sk-bob-9876543210";

async fn serve(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));
    format!("http://{address}")
}

fn keys() -> ApiKeys {
    ApiKeys::new().key("alice", ALICE).key("bob", BOB)
}

/// Serves `agent` (the guide's graph), `gated` and `release` behind the two keys.
async fn serve_agent() -> String {
    let gate = Gate::new();
    serve(
        Server::new()
            .store(Arc::new(MemoryCheckpointer::new()))
            .authenticate(keys())
            .graph("agent", progress_joke_poem::Graph::new(scripted_models()))
            .graph("gated", gated::Graph::new(gate.clone()))
            .graph("release", release::Graph::new(gate)),
    )
    .await
}

/// A response: its status, its `Retry-After`, and its body as JSON (or as a string when
/// it is not JSON, such as a stream's events).
struct Answer {
    status: u16,
    retry_after: Option<String>,
    text: String,
    json: Value,
}

async fn call(key: Option<&str>, method: Method, url: String, body: Option<Value>) -> Answer {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        retry_after,
        text,
        json,
    }
}

/// Every endpoint that names a thread, as `(method, path, body)`, on `thread` and its run.
fn thread_endpoints(
    thread: &str,
    run: &str,
    checkpoint: &str,
) -> Vec<(Method, String, Option<Value>)> {
    let run_body = json!({ "assistant_id": "agent", "input": { "topic": "dogs" } });
    vec![
        (Method::GET, format!("/threads/{thread}"), None),
        (
            Method::PATCH,
            format!("/threads/{thread}"),
            Some(json!({ "metadata": { "tag": "x" } })),
        ),
        (Method::POST, format!("/threads/{thread}/copy"), None),
        (Method::GET, format!("/threads/{thread}/state"), None),
        (
            Method::GET,
            format!("/threads/{thread}/state/{checkpoint}"),
            None,
        ),
        (
            Method::POST,
            format!("/threads/{thread}/state/checkpoint"),
            Some(json!({ "checkpoint": { "checkpoint_id": checkpoint } })),
        ),
        (
            Method::POST,
            format!("/threads/{thread}/state"),
            Some(json!({ "values": { "topic": "stolen" } })),
        ),
        (
            Method::POST,
            format!("/threads/{thread}/history"),
            Some(json!({})),
        ),
        (Method::GET, format!("/threads/{thread}/runs"), None),
        (
            Method::POST,
            format!("/threads/{thread}/runs"),
            Some(run_body.clone()),
        ),
        (
            Method::POST,
            format!("/threads/{thread}/runs/stream"),
            Some(run_body.clone()),
        ),
        (
            Method::POST,
            format!("/threads/{thread}/runs/wait"),
            Some(run_body.clone()),
        ),
        (
            Method::POST,
            format!("/threads/{thread}/runs/stream"),
            Some(
                json!({ "assistant_id": "agent", "input": { "topic": "dogs" }, "if_not_exists": "create" }),
            ),
        ),
        (Method::GET, format!("/threads/{thread}/runs/{run}"), None),
        (
            Method::POST,
            format!("/threads/{thread}/runs/{run}/cancel"),
            None,
        ),
        (
            Method::GET,
            format!("/threads/{thread}/runs/{run}/join"),
            None,
        ),
        (
            Method::GET,
            format!("/threads/{thread}/runs/{run}/stream"),
            None,
        ),
        (
            Method::DELETE,
            format!("/threads/{thread}/runs/{run}"),
            None,
        ),
        (Method::DELETE, format!("/threads/{thread}"), None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_identity_gets_404_on_every_thread_endpoint_and_changes_nothing() {
    let base = serve_agent().await;
    let alice = |method, path: &str, body| call(Some(ALICE), method, format!("{base}{path}"), body);
    let bob = |method, path: &str, body| call(Some(BOB), method, format!("{base}{path}"), body);

    let created = alice(
        Method::POST,
        "/threads",
        Some(json!({ "metadata": { "owner": "bob" } })),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    // The owner is who created it, whatever the client sent.
    assert_eq!(created.json["metadata"]["owner"], "alice");
    let thread = created.json["thread_id"].as_str().unwrap().to_owned();
    let ran = alice(
        Method::POST,
        &format!("/threads/{thread}/runs/wait"),
        Some(json!({ "assistant_id": "agent", "input": { "topic": "cats" } })),
    )
    .await;
    assert_eq!(ran.status, 200, "{}", ran.text);
    let joke = ran.json["joke"].as_str().unwrap().to_owned();
    assert!(!joke.is_empty());
    let runs = alice(Method::GET, &format!("/threads/{thread}/runs"), None).await;
    let run = runs.json[0]["run_id"].as_str().unwrap().to_owned();
    let before = alice(Method::GET, &format!("/threads/{thread}/state"), None).await;
    let checkpoint = before.json["checkpoint"]["checkpoint_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let history_before = alice(
        Method::POST,
        &format!("/threads/{thread}/history"),
        Some(json!({})),
    )
    .await;

    for (method, path, body) in thread_endpoints(&thread, &run, &checkpoint) {
        let answer = bob(method.clone(), &path, body).await;
        assert_eq!(answer.status, 404, "{method} {path}: {}", answer.text);
        assert!(
            !answer.text.contains(&joke),
            "{method} {path} showed alice's state: {}",
            answer.text
        );
        assert!(
            !answer.text.contains("alice"),
            "{method} {path}: {}",
            answer.text
        );
    }

    // Nothing bob sent reached the thread.
    let after = alice(Method::GET, &format!("/threads/{thread}/state"), None).await;
    assert_eq!(after.json, before.json);
    let history_after = alice(
        Method::POST,
        &format!("/threads/{thread}/history"),
        Some(json!({})),
    )
    .await;
    assert_eq!(history_after.json, history_before.json);
    let record = alice(Method::GET, &format!("/threads/{thread}"), None).await;
    assert_eq!(record.json["metadata"]["owner"], "alice");
    assert!(
        record.json["metadata"].get("tag").is_none(),
        "{}",
        record.text
    );
    let runs_after = alice(Method::GET, &format!("/threads/{thread}/runs"), None).await;
    assert_eq!(runs_after.json, runs.json);

    // Taking the id over is refused without the record.
    let taken = bob(
        Method::POST,
        "/threads",
        Some(json!({ "thread_id": thread, "if_exists": "do_nothing" })),
    )
    .await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    assert!(!taken.text.contains("alice"));

    // The owner reaches every endpoint on its own thread.
    for (method, path, body) in thread_endpoints(&thread, &run, &checkpoint) {
        let answer = alice(method.clone(), &path, body).await;
        let expected: &[u16] = match (method.as_str(), path.ends_with("/cancel")) {
            // The run has ended: there is nothing to cancel.
            (_, true) => &[409],
            ("DELETE", _) => &[204],
            _ => &[200],
        };
        assert!(
            expected.contains(&answer.status),
            "{method} {path}: {} {}",
            answer.status,
            answer.text
        );
        // Runs started above on alice's thread end before the next request needs it.
        if path.ends_with("/runs") && method == Method::POST {
            let run = answer.json["run_id"].as_str().unwrap();
            let joined = alice(
                Method::GET,
                &format!("/threads/{thread}/runs/{run}/join"),
                None,
            )
            .await;
            assert_eq!(joined.status, 200, "{}", joined.text);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_finds_only_the_callers_threads_whatever_owner_it_asks_for() {
    let base = serve_agent().await;
    let search = |key, body: Value| {
        call(
            Some(key),
            Method::POST,
            format!("{base}/threads/search"),
            Some(body),
        )
    };
    let mut mine = Vec::new();
    for (key, topic) in [(ALICE, "a1"), (BOB, "b1"), (ALICE, "a2")] {
        let created = call(
            Some(key),
            Method::POST,
            format!("{base}/threads"),
            Some(json!({ "metadata": { "topic": topic } })),
        )
        .await;
        mine.push((key, created.json["thread_id"].as_str().unwrap().to_owned()));
    }
    let ids = |answer: Answer| -> Vec<String> {
        answer
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|thread| thread["thread_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let alices = ids(search(ALICE, json!({})).await);
    assert_eq!(alices, vec![mine[2].1.clone(), mine[0].1.clone()]);
    assert_eq!(ids(search(BOB, json!({})).await), vec![mine[1].1.clone()]);
    assert!(ids(search(BOB, json!({ "metadata": { "owner": "alice" } })).await).is_empty());
    assert!(ids(search(BOB, json!({ "metadata": { "topic": "a1" } })).await).is_empty());
    assert_eq!(
        ids(search(ALICE, json!({ "metadata": { "topic": "a1" } })).await),
        vec![mine[0].1.clone()]
    );
    // A patch cannot hand a thread to someone else.
    let patched = call(
        Some(ALICE),
        Method::PATCH,
        format!("{base}/threads/{}", mine[0].1),
        Some(json!({ "metadata": { "owner": "bob" } })),
    )
    .await;
    assert_eq!(
        patched.json["metadata"]["owner"], "alice",
        "{}",
        patched.text
    );
    assert_eq!(ids(search(BOB, json!({})).await), vec![mine[1].1.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_key_are_401_and_reach_no_route() {
    let base = serve_agent().await;
    assert_eq!(
        call(None, Method::GET, format!("{base}/ok"), None)
            .await
            .status,
        200
    );
    for key in [None, Some("sk-alice-012345678"), Some("")] {
        for (method, path) in [
            (Method::POST, "/threads"),
            (Method::POST, "/threads/search"),
            (Method::POST, "/assistants/search"),
            (Method::GET, "/info"),
            (Method::POST, "/runs/wait"),
        ] {
            let answer = call(
                key,
                method.clone(),
                format!("{base}{path}"),
                Some(json!({ "assistant_id": "agent", "input": {} })),
            )
            .await;
            assert_eq!(
                answer.status, 401,
                "{key:?} {method} {path}: {}",
                answer.text
            );
            assert!(answer.json["detail"].is_string(), "{}", answer.text);
        }
    }
    // Nothing was created by the refused requests.
    let found = call(
        Some(ALICE),
        Method::POST,
        format!("{base}/threads/search"),
        Some(json!({})),
    )
    .await;
    assert_eq!(found.json, json!([]));
    let bearer = reqwest::Client::new()
        .post(format!("{base}/assistants/search"))
        .header("authorization", format!("Bearer {BOB}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_the_pages_origin_in_and_no_other() {
    let base = serve(
        Server::new()
            .cors_origins(["http://127.0.0.1:5173"])
            .graph("agent", progress_joke_poem::Graph::new(scripted_models())),
    )
    .await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(Method::OPTIONS, format!("{base}/threads/search"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-api-key")
            .send()
    };
    let allowed = preflight("http://127.0.0.1:5173").await.unwrap();
    assert_eq!(allowed.status(), 200);
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://127.0.0.1:5173"
    );
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed_headers.contains("x-api-key"), "{allowed_headers}");
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let answer = reqwest::Client::new()
        .post(format!("{base}/threads"))
        .header("origin", "http://127.0.0.1:5173")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let headers = answer.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://127.0.0.1:5173"
    );
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("content-location"), "{exposed}");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let bad = Server::new()
        .cors_origins(["127.0.0.1:5173"])
        .router()
        .err()
        .unwrap();
    assert!(bad.to_string().contains("`127.0.0.1:5173`"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_in_flight_are_capped_per_identity_with_retry_after() {
    let gate = Gate::new();
    let base = serve(
        Server::new()
            .authenticate(keys())
            .max_runs_per_identity(2)
            .graph("gated", gated::Graph::new(gate.clone()))
            .graph("release", release::Graph::new(gate)),
    )
    .await;
    let gated_run = |key| {
        call(
            Some(key),
            Method::POST,
            format!("{base}/threads/{}/runs", uuid_like()),
            Some(json!({ "assistant_id": "gated", "input": {}, "if_not_exists": "create" })),
        )
    };
    let first = gated_run(ALICE).await;
    let second = gated_run(ALICE).await;
    assert_eq!(
        (first.status, second.status),
        (200, 200),
        "{} {}",
        first.text,
        second.text
    );
    let third = gated_run(ALICE).await;
    assert_eq!(third.status, 429, "{}", third.text);
    assert_eq!(third.retry_after.as_deref(), Some("1"));
    assert!(
        third.json["detail"].as_str().unwrap().contains("at most 2"),
        "{}",
        third.text
    );
    // A stateless run counts too.
    let stateless = call(
        Some(ALICE),
        Method::POST,
        format!("{base}/runs/wait"),
        Some(json!({ "assistant_id": "release", "input": {} })),
    )
    .await;
    assert_eq!(stateless.status, 429, "{}", stateless.text);

    // Bob has places of his own: his runs open the gate twice.
    for _ in 0..2 {
        let released = call(
            Some(BOB),
            Method::POST,
            format!("{base}/runs/wait"),
            Some(json!({ "assistant_id": "release", "input": {} })),
        )
        .await;
        assert_eq!(released.status, 200, "{}", released.text);
    }
    for started in [&first, &second] {
        let path = format!(
            "{base}/threads/{}/runs/{}/join",
            started.json["thread_id"].as_str().unwrap(),
            started.json["run_id"].as_str().unwrap()
        );
        let joined = call(Some(ALICE), Method::GET, path, None).await;
        assert_eq!(joined.json["passed"], 1, "{}", joined.text);
    }
    // Ended runs give their places back; the run's task may still be finishing its
    // record when join answers, so the place is asked for until it is free.
    let mut again = gated_run(ALICE).await;
    for _ in 0..500 {
        if again.status != 429 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        again = gated_run(ALICE).await;
    }
    assert_eq!(again.status, 200, "{}", again.text);
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "00000000-0000-4000-8000-{:012}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
