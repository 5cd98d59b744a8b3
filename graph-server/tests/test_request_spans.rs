//! Each request has its span (tower-http's trace layer), with the run it starts inside it.

use serde_json::json;
use stategraph_server::Server;
use stategraph_test_support::guide::{joke_poem, scripted_models};
use stategraph_test_support::span_recorder::SpanRecorder;

#[tokio::test]
async fn a_request_span_holds_the_run_it_starts() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let server = Server::new().graph("agent", joke_poem::Graph::new(scripted_models()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on(listener));

    let body =
        json!({"assistant_id": "agent", "input": {"topic": "cats"}, "stream_mode": "values"});
    let response = reqwest::Client::new()
        .post(format!("http://{address}/runs/stream"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    let missing = reqwest::get(format!("http://{address}/assistants/nobody"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let (request_index, request) = recorder.one("POST /runs/stream");
    assert_eq!(request.name, "http.request");
    assert_eq!(request.target, "stategraph::server");
    assert_eq!(request.field("otel.kind"), Some("server"));
    assert_eq!(request.field("http.request.method"), Some("POST"));
    assert_eq!(request.field("http.response.status_code"), Some("200"));
    let (_, run) = recorder.one("joke_poem");
    assert_eq!(run.parent, Some(request_index), "{}", recorder.tree());
    let (_, missing) = recorder.one("GET /assistants/nobody");
    assert_eq!(missing.field("http.response.status_code"), Some("404"));
    assert_eq!(
        missing.field("otel.status_code"),
        None,
        "a 4xx is the client's"
    );
}
