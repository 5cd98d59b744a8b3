//! The spans a run opens, as a subscriber sees them: run, step, task, model call, tool call
//! and checkpoint write, nested as the run is, with OpenTelemetry's GenAI attributes,
//! LangSmith's keys, and failures marked where they happen.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use stategraph::checkpoint::Checkpointer;
use stategraph::mode::Messages;
use stategraph::prebuilt::{
    FakeChatModel, FakeToolCall, MessagesState, MessagesStateUpdate, Reply, ToolNode,
    create_react_agent,
};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, GraphError, ModelIdentity, telemetry};
use stategraph_checkpoint::MemoryCheckpointer;
use stategraph_openai::{ChatOpenAI, OpenAiClient};
use stategraph_test_support::fault_server::{FaultServer, Reply as ServerReply};
use stategraph_test_support::guide::{
    Topic, TopicUpdate, joke_poem, openai_models, scripted_models,
};
use stategraph_test_support::span_recorder::{RecordedSpan, SpanRecorder};

fn parent<'a>(spans: &'a [RecordedSpan], span: &RecordedSpan) -> &'a RecordedSpan {
    &spans[span.parent.expect("the span has a parent")]
}

#[tokio::test(start_paused = true)]
async fn a_run_is_a_tree_of_run_step_task_and_model_call_spans_with_gen_ai_attributes() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let mut models = scripted_models();
    let (joke, poem) = stategraph_test_support::guide::guide_tokens();
    let identity = ModelIdentity::new("scripted", "gpt-4o-mini")
        .with_temperature(0.7)
        .with_max_tokens(256);
    models.joke = AnyChatModel::new(
        ScriptedModel::new(joke)
            .with_identity(identity.clone())
            .with_delay(Duration::from_millis(25)),
    );
    models.poem = AnyChatModel::new(ScriptedModel::new(poem).with_identity(identity));
    let graph = joke_poem::Graph::new(models);
    let input = Topic {
        topic: "cats".into(),
        ..Topic::default()
    };
    let chunks: Vec<_> = graph.stream(input, Messages).try_collect().await.unwrap();
    assert!(chunks.len() > 10);

    let spans = recorder.spans();
    let (_, run) = recorder.one("joke_poem");
    assert_eq!(run.name, "graph.run");
    assert_eq!(run.target, "stategraph::run");
    assert_eq!(run.field("langsmith.span.kind"), Some("chain"));
    assert!(run.field("run_id").is_some());
    assert!(run.closed, "the run's span closes when the run ends");

    let (_, task) = recorder.one("call_model");
    assert_eq!(task.name, "graph.task");
    assert_eq!(task.level, tracing::Level::DEBUG);
    assert_eq!(task.field("node"), Some("call_model"));
    assert_eq!(task.field("step"), Some("1"));
    assert_eq!(task.field("attempt"), Some("1"));
    assert_eq!(task.field("trigger"), Some("branch:to:call_model"));
    assert_eq!(
        task.field("langsmith.metadata.langgraph_node"),
        Some("call_model")
    );
    assert!(task.field("task_id").is_some());
    let step = parent(&spans, &task);
    assert_eq!(step.name, "graph.step");
    assert_eq!(step.field("step"), Some("1"));
    assert_eq!(parent(&spans, step).otel_name(), "joke_poem");

    let calls = recorder.named("chat gpt-4o-mini");
    assert_eq!(calls.len(), 2, "{}", recorder.tree());
    for (_, call) in &calls {
        assert_eq!(parent(&spans, call).otel_name(), "call_model");
        assert_eq!(call.name, "chat");
        assert_eq!(call.target, "stategraph::chat");
        assert_eq!(call.field("gen_ai.operation.name"), Some("chat"));
        assert_eq!(call.field("gen_ai.provider.name"), Some("scripted"));
        assert_eq!(call.field("gen_ai.request.model"), Some("gpt-4o-mini"));
        assert_eq!(call.field("gen_ai.request.temperature"), Some("0.7"));
        assert_eq!(call.field("gen_ai.request.max_tokens"), Some("256"));
        assert_eq!(call.field("gen_ai.response.model"), Some("gpt-4o-mini"));
        assert_eq!(
            call.field("gen_ai.response.finish_reasons"),
            Some(r#"["stop"]"#)
        );
        assert_eq!(call.field("langsmith.span.kind"), Some("llm"));
        assert!(call.field("gen_ai.usage.input_tokens").is_some());
        assert!(call.field("gen_ai.usage.output_tokens").is_some());
        assert!(call.field("gen_ai.response.id").is_some());
        assert_eq!(call.field("otel.status_code"), None);
        assert_eq!(
            call.field("gen_ai.input.messages"),
            None,
            "content is off by default"
        );
        assert!(call.closed);
    }
    // The joke model waits 25 ms (on the paused clock) before each chunk.
    let joke = calls
        .iter()
        .find(|(_, call)| call.field("gen_ai.response.time_to_first_chunk") == Some("0.025"));
    assert!(joke.is_some(), "{calls:#?}");
    // The message ids of messages mode are the calls' response ids.
    let ids: Vec<&str> = calls
        .iter()
        .filter_map(|(_, call)| call.field("gen_ai.response.id"))
        .collect();
    assert!(chunks.iter().all(|chunk| ids.contains(&chunk.id())));
}

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

#[tokio::test]
async fn a_failed_model_call_marks_its_span_its_task_and_its_run() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let model = AnyChatModel::new(ScriptedModel::new(["a", "b"]).fail_after(1, "connection reset"));
    let error = failing::Graph::new(model)
        .invoke(Note::default())
        .await
        .unwrap_err();
    assert!(matches!(error, GraphError::Node { .. }), "{error}");

    let (_, call) = recorder.one("chat scripted-model");
    assert_eq!(call.field("otel.status_code"), Some("ERROR"));
    assert!(
        call.field("error.type").unwrap().contains("AnyChatError"),
        "{call:?}"
    );
    assert!(
        call.field("otel.status_description")
            .unwrap()
            .contains("connection reset"),
        "{call:?}"
    );
    let (_, task) = recorder.one("ask");
    assert_eq!(task.field("otel.status_code"), Some("ERROR"));
    assert_eq!(task.field("error.type"), Some("node"));
    assert!(
        task.field("otel.status_description")
            .unwrap()
            .contains("connection reset")
    );
    let (_, run) = recorder.one("failing");
    assert_eq!(run.field("otel.status_code"), Some("ERROR"));
    assert_eq!(run.field("error.type"), Some("node"));
    assert_eq!(
        run.field("otel.status_description"),
        Some(error.to_string().as_str())
    );
}

#[tokio::test]
async fn tool_calls_are_execute_tool_spans_in_their_task_and_a_failed_one_is_marked() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let model = FakeChatModel::new([
        Reply::tool_calls([
            FakeToolCall::new("upper", serde_json::json!({"text": "hi"})).with_id("call_1"),
            FakeToolCall::new("missing", serde_json::json!({})).with_id("call_2"),
        ]),
        Reply::text("done"),
    ]);
    let agent = create_react_agent(model, ToolNode::new().tool(Upper));
    agent
        .invoke(MessagesState::new([Message::user("shout")]))
        .await
        .unwrap();

    let spans = recorder.spans();
    let (_, upper) = recorder.one("execute_tool upper");
    assert_eq!(upper.target, "stategraph::tool");
    assert_eq!(upper.field("gen_ai.operation.name"), Some("execute_tool"));
    assert_eq!(upper.field("gen_ai.tool.name"), Some("upper"));
    assert_eq!(upper.field("gen_ai.tool.call.id"), Some("call_1"));
    assert_eq!(upper.field("langsmith.span.kind"), Some("tool"));
    assert_eq!(upper.field("otel.status_code"), None);
    assert_eq!(parent(&spans, &upper).name, "graph.task");
    assert_eq!(parent(&spans, &upper).field("node"), Some("tools"));
    let (_, missing) = recorder.one("execute_tool missing");
    assert_eq!(missing.field("otel.status_code"), Some("ERROR"));
    assert_eq!(missing.field("error.type"), Some("tool_error"));
    assert_eq!(
        recorder.named("chat fake-chat-model").len(),
        2,
        "{}",
        recorder.tree()
    );
}

#[tokio::test]
async fn a_tool_call_of_a_run_on_a_thread_carries_the_thread() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let model = || {
        FakeChatModel::new([
            Reply::tool_calls([
                FakeToolCall::new("upper", serde_json::json!({"text": "hi"})).with_id("call_1"),
            ]),
            Reply::text("done"),
        ])
    };
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    create_react_agent(model(), ToolNode::new().tool(Upper))
        .thread(&store, "thread-9")
        .invoke(MessagesStateUpdate::default().messages(vec![Message::user("shout")]))
        .await
        .unwrap();
    let (_, upper) = recorder.one("execute_tool upper");
    assert_eq!(upper.field("gen_ai.conversation.id"), Some("thread-9"));
    assert_eq!(
        upper.field("langsmith.metadata.thread_id"),
        Some("thread-9")
    );

    // A run on no thread has no conversation.
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    create_react_agent(model(), ToolNode::new().tool(Upper))
        .invoke(MessagesState::new([Message::user("shout")]))
        .await
        .unwrap();
    let (_, upper) = recorder.one("execute_tool upper");
    assert_eq!(upper.field("gen_ai.conversation.id"), None);
}

/// Upper-cases its text.
#[stategraph::tool]
async fn upper(text: String) -> String {
    text.to_uppercase()
}

#[tokio::test]
async fn a_run_on_a_thread_carries_the_thread_and_has_a_span_per_checkpoint_write() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let graph = joke_poem::Graph::new(scripted_models());
    graph
        .thread(&store, "thread-7")
        .invoke(TopicUpdate::default().topic("cats".to_owned()))
        .await
        .unwrap();

    let spans = recorder.spans();
    let (run_index, run) = recorder.one("joke_poem");
    assert_eq!(run.field("thread_id"), Some("thread-7"));
    assert_eq!(run.field("gen_ai.conversation.id"), Some("thread-7"));
    assert_eq!(run.field("langsmith.metadata.thread_id"), Some("thread-7"));
    let (_, task) = recorder.one("call_model");
    assert_eq!(task.field("langsmith.metadata.thread_id"), Some("thread-7"));
    for (_, call) in recorder.named("chat gpt-4o-mini") {
        assert_eq!(call.field("gen_ai.conversation.id"), Some("thread-7"));
        assert_eq!(call.field("langsmith.metadata.thread_id"), Some("thread-7"));
    }
    let writes: Vec<&RecordedSpan> = spans
        .iter()
        .filter(|span| span.name == "checkpoint.write")
        .collect();
    assert!(!writes.is_empty(), "{}", recorder.tree());
    for write in &writes {
        assert_eq!(write.parent, Some(run_index));
        assert_eq!(write.target, "stategraph::checkpoint");
        assert_eq!(write.field("thread_id"), Some("thread-7"));
        assert!(write.closed);
    }
    assert!(
        writes
            .iter()
            .any(|write| write.field("write") == Some("step"))
    );
}

#[tokio::test]
async fn prompts_and_answers_are_recorded_only_when_asked_for() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let model = AnyChatModel::new(ScriptedModel::new(["Hello", "!"]));
    let graph = failing::Graph::new(model);

    telemetry::set_record_content(false);
    graph.invoke(Note::default()).await.unwrap();
    telemetry::set_record_content(true);
    graph.invoke(Note::default()).await.unwrap();
    telemetry::set_record_content(false);

    let calls = recorder.named("chat scripted-model");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].1.field("gen_ai.input.messages"), None);
    assert_eq!(calls[0].1.field("gen_ai.output.messages"), None);
    assert_eq!(
        calls[1].1.field("gen_ai.input.messages"),
        Some(r#"[{"parts":[{"content":"go","type":"text"}],"role":"user"}]"#)
    );
    assert_eq!(
        calls[1].1.field("gen_ai.output.messages"),
        Some(
            r#"[{"finish_reason":"stop","parts":[{"content":"Hello!","type":"text"}],"role":"assistant"}]"#
        )
    );
}

/// Runs the `joke_poem` example offline with `RUST_LOG` set to `log` (unset for `None`):
/// its stdout and stderr.
fn joke_poem_example(log: Option<&str>) -> (String, String) {
    let binary = stategraph_test_support::examples::example(
        env!("CARGO_MANIFEST_DIR").as_ref(),
        "joke_poem",
    );
    let mut command = std::process::Command::new(binary);
    command
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("RUST_LOG");
    if let Some(log) = log {
        command.env("RUST_LOG", log);
    }
    let output = command.output().expect("the example starts");
    assert!(output.status.success(), "{output:?}");
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_example_logs_its_spans_on_stderr_with_rust_log_and_keeps_stdout_for_tokens() {
    let (quiet_out, quiet_err) = joke_poem_example(None);
    let (out, err) = joke_poem_example(Some("stategraph=debug"));
    assert!(!quiet_err.contains("graph.run"), "{quiet_err}");
    // The tokens are the same with the log on; only the metadata's run ids differ.
    let tokens = |out: &str| out.split('{').next().unwrap_or_default().to_owned();
    assert_eq!(tokens(&out), tokens(&quiet_out));
    assert!(!out.contains("gen_ai"), "{out}");
    for wanted in [
        "graph.run{",
        "graph.task{node=\"call_model\"",
        "chat{",
        "gen_ai.request.model=\"gpt-4o-mini\"",
        "gen_ai.usage.output_tokens=",
        ": close",
    ] {
        assert!(err.contains(wanted), "no `{wanted}` in:\n{err}");
    }
}

/// llama-server's stream, answering as a model other than the one asked for.
fn served_answer(id: &str) -> ServerReply {
    let chunk = |delta: &str, finish: &str| {
        format!(
            r#"data: {{"id":"{id}","model":"served-model-2024","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        ) + "\n\n"
    };
    ServerReply::sse([
        chunk(r#"{"role":"assistant","content":null}"#, "null"),
        chunk(r#"{"content":"Hi"}"#, "null"),
        chunk("{}", r#""stop""#),
        format!(
            r#"data: {{"id":"{id}","model":"served-model-2024","choices":[],"usage":{{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}}}"#
        ) + "\n\n",
        "data: [DONE]\n\n".to_owned(),
    ])
}

#[tokio::test]
async fn a_chat_openai_calls_span_has_the_servers_response_id_and_model_and_no_key() {
    let (recorder, dispatch) = SpanRecorder::new();
    let _subscriber = tracing::dispatcher::set_default(&dispatch);
    let server = FaultServer::start(vec![
        served_answer("chatcmpl-J1"),
        served_answer("chatcmpl-P2"),
    ])
    .await;
    let client = OpenAiClient::builder()
        .base_url(&server.base_url)
        .api_key("sk-telemetry-secret-42")
        .max_retries(0)
        .build()
        .unwrap();
    let graph = joke_poem::Graph::new(openai_models(ChatOpenAI::new(client, "gpt-4o-mini")));
    let input = Topic {
        topic: "cats".into(),
        ..Topic::default()
    };
    let chunks: Vec<_> = graph.stream(input, Messages).try_collect().await.unwrap();

    let calls = recorder.named("chat gpt-4o-mini");
    assert_eq!(calls.len(), 2, "{}", recorder.tree());
    let mut ids: Vec<&str> = calls
        .iter()
        .map(|(_, call)| call.field("gen_ai.response.id").unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["chatcmpl-J1", "chatcmpl-P2"]);
    for (_, call) in &calls {
        assert_eq!(call.field("gen_ai.provider.name"), Some("openai"));
        assert_eq!(call.field("gen_ai.request.model"), Some("gpt-4o-mini"));
        assert_eq!(
            call.field("gen_ai.response.model"),
            Some("served-model-2024")
        );
        assert_eq!(
            call.field("gen_ai.response.finish_reasons"),
            Some(r#"["stop"]"#)
        );
        assert_eq!(call.field("gen_ai.usage.output_tokens"), Some("1"));
    }
    // Messages mode keeps the graph's own ids for its messages.
    assert!(chunks.iter().all(|chunk| chunk.id().starts_with("run-")));
    for span in recorder.spans() {
        for (name, value) in &span.fields {
            assert!(
                !value.contains("sk-telemetry"),
                "the key in {name} of {span:?}"
            );
        }
    }
}
