//! The real OTLP exporter (feature `otel`) against an OTLP/HTTP receiver written here, on
//! 127.0.0.1: the spans of a run arrive as protobuf with their tree (names, parent links),
//! their GenAI attributes, the error status of a failed run, and the headers of
//! `OTEL_EXPORTER_OTLP_HEADERS`.
//!
//! Its own `main`: it sets the exporter's variables on its own process before any thread
//! starts, which is the only time that is sound.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind, status::StatusCode};
use prost::Message as _;
use stategraph::prelude::*;
use stategraph::{AnyChatModel, checkpoint::Checkpointer};
use stategraph_checkpoint::MemoryCheckpointer;
use stategraph_test_support::guide::{TopicUpdate, joke_poem, scripted_models};
use tracing_subscriber::layer::SubscriberExt;

type Received = Arc<Mutex<Vec<(HeaderMap, ExportTraceServiceRequest)>>>;

#[derive(Clone, Debug, Default, State)]
struct Note {
    text: String,
}

#[graph(state = Note, context = AnyChatModel, edges = [START -> ask, ask -> END])]
mod failing {
    use super::*;

    /// Asks a model that fails.
    #[node]
    async fn ask(_state: &Note, ctx: &Ctx) -> Result<NoteUpdate, NodeError> {
        let answer = ctx
            .chat(ctx.context())
            .invoke([Message::user("go")])
            .await?;
        Ok(NoteUpdate::default().text(answer.content))
    }
}

fn main() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds 127.0.0.1");
    let port = listener.local_addr().expect("has an address").port();
    // SAFETY: no other thread exists yet: the runtime and the exporter start below.
    unsafe {
        std::env::set_var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        );
        std::env::set_var("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=test-key");
        std::env::set_var("OTEL_SERVICE_NAME", "stategraph-otel-test");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let received = Received::default();
    let receiver = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post({
            let received = Arc::clone(&received);
            move |headers: HeaderMap, body: Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).expect("protobuf");
                received
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((headers, request));
                ""
            }
        }),
    );
    runtime.spawn(async move {
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        axum::serve(listener, receiver).await.expect("serves");
    });

    let (layer, otel) = stategraph::otel::layer().expect("the exporter starts");
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the first subscriber");
    runtime.block_on(async {
        let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
        joke_poem::Graph::new(scripted_models())
            .thread(&store, "thread-otel")
            .invoke(TopicUpdate::default().topic("cats".to_owned()))
            .await
            .expect("the joke run");
        let model = AnyChatModel::new(ScriptedModel::new(["a"]).fail_after(1, "boom"));
        failing::Graph::new(model)
            .invoke(Note::default())
            .await
            .expect_err("the failing run fails");
    });
    otel.shutdown().expect("the last spans are sent");

    let received = received.lock().unwrap_or_else(PoisonError::into_inner);
    check(&received);
    println!("test_otel: the exporter's spans arrived as a tree with their attributes: ok");
}

fn check(received: &[(HeaderMap, ExportTraceServiceRequest)]) {
    assert!(!received.is_empty(), "nothing was exported");
    for (headers, _) in received {
        assert_eq!(
            headers.get("x-api-key").and_then(|v| v.to_str().ok()),
            Some("test-key"),
            "OTEL_EXPORTER_OTLP_HEADERS reach the endpoint"
        );
    }
    let mut spans: Vec<&Span> = Vec::new();
    for (_, request) in received {
        for resource in &request.resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| v.value.clone());
            assert_eq!(
                service,
                Some(Value::StringValue("stategraph-otel-test".into()))
            );
            for scope in &resource.scope_spans {
                spans.extend(&scope.spans);
            }
        }
    }
    let by_id: HashMap<&[u8], &Span> = spans.iter().map(|s| (&s.span_id[..], *s)).collect();
    let one = |name: &str| -> &Span {
        let named: Vec<&&Span> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(named.len(), 1, "one span `{name}` in {:?}", names(&spans));
        named[0]
    };
    let parent = |span: &Span| -> &Span {
        by_id
            .get(&span.parent_span_id[..])
            .unwrap_or_else(|| panic!("the parent of `{}` was exported", span.name))
    };

    let run = one("joke_poem");
    assert!(run.parent_span_id.is_empty(), "the run is the trace's root");
    assert_eq!(attr(run, "langsmith.span.kind"), Some(text("chain")));
    assert_eq!(
        attr(run, "gen_ai.conversation.id"),
        Some(text("thread-otel"))
    );
    let task = one("call_model");
    let step = parent(task);
    assert_eq!(step.name, "graph.step");
    assert_eq!(parent(step).span_id, run.span_id);
    assert_eq!(task.trace_id, run.trace_id);
    let calls: Vec<&&Span> = spans
        .iter()
        .filter(|s| s.name == "chat gpt-4o-mini")
        .collect();
    assert_eq!(calls.len(), 2, "{:?}", names(&spans));
    for call in calls {
        assert_eq!(parent(call).span_id, task.span_id);
        assert_eq!(call.kind, SpanKind::Client as i32);
        assert_eq!(attr(call, "gen_ai.operation.name"), Some(text("chat")));
        assert_eq!(attr(call, "gen_ai.provider.name"), Some(text("scripted")));
        assert_eq!(
            attr(call, "gen_ai.request.model"),
            Some(text("gpt-4o-mini"))
        );
        assert_eq!(
            attr(call, "gen_ai.request.temperature"),
            Some(Value::DoubleValue(0.7))
        );
        assert_eq!(
            attr(call, "gen_ai.conversation.id"),
            Some(text("thread-otel"))
        );
        assert_eq!(attr(call, "langsmith.span.kind"), Some(text("llm")));
        assert!(
            matches!(attr(call, "gen_ai.usage.output_tokens"), Some(Value::IntValue(n)) if n > 0)
        );
        assert!(
            matches!(attr(call, "gen_ai.usage.input_tokens"), Some(Value::IntValue(n)) if n > 0)
        );
        assert_eq!(
            attr(call, "gen_ai.response.finish_reasons"),
            Some(text(r#"["stop"]"#))
        );
        assert!(
            call.status
                .as_ref()
                .is_none_or(|s| s.code != StatusCode::Error as i32)
        );
    }
    let writes = spans
        .iter()
        .filter(|s| s.name == "checkpoint.write")
        .count();
    assert!(writes > 0, "{:?}", names(&spans));

    let failed_run = one("failing");
    let status = failed_run.status.as_ref().expect("a status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(status.message.contains("boom"), "{status:?}");
    assert_eq!(attr(failed_run, "error.type"), Some(text("node")));
    let failed_call = one("chat scripted-model");
    assert_eq!(
        failed_call.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    let failed_task = one("ask");
    assert_eq!(parent(failed_call).span_id, failed_task.span_id);
    assert_eq!(
        failed_task.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
}

fn names(spans: &[&Span]) -> Vec<String> {
    spans.iter().map(|s| s.name.clone()).collect()
}

fn text(value: &str) -> Value {
    Value::StringValue(value.to_owned())
}

fn attr(span: &Span, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.clone())
}
