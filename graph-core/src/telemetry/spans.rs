//! The spans of a run, a step, a task, a checkpoint write and a tool call, and how a
//! failure marks one. Each is made here, with every field it will ever carry declared
//! (fields recorded later are declared empty), so a span's shape is read in one place.
//!
//! With no subscriber, or one that filters a span out, making it costs a check of its
//! callsite's interest and nothing is formatted; callers skip the rest of their
//! bookkeeping when [`Span::is_disabled`] says so.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use futures::future::Either;
use tokio::task::futures::TaskLocalFuture;
use tracing::field::Empty;
use tracing::{Level, Span};
use uuid::Uuid;

use super::names::*;

/// The span of a run of the graph `#[graph]` made in module `graph` (a path), named by the
/// module's own name; a child of the current span, so a request's span holds the runs it
/// starts.
pub(crate) fn run_span(graph: &'static str, run_id: Uuid, thread_id: Option<&str>) -> Span {
    let name = graph.rsplit("::").next().unwrap_or(graph);
    tracing::span!(
        target: TARGET_RUN,
        Level::INFO,
        "graph.run",
        graph,
        %run_id,
        thread_id,
        { OTEL_NAME } = name,
        { LANGSMITH_SPAN_KIND } = KIND_CHAIN,
        { LANGSMITH_TRACE_NAME } = name,
        { LANGSMITH_RUN_ID } = %run_id,
        { LANGSMITH_THREAD_ID } = thread_id,
        { GEN_AI_CONVERSATION_ID } = thread_id,
        { ERROR_TYPE } = Empty,
        { OTEL_STATUS_CODE } = Empty,
        { OTEL_STATUS_DESCRIPTION } = Empty,
    )
}

/// The span of step `step` of the run whose span is `run`.
pub(crate) fn step_span(run: &Span, step: u64) -> Span {
    tracing::span!(target: TARGET_STEP, parent: run, Level::DEBUG, "graph.step", step = int(step))
}

/// `n` as a signed integer: OpenTelemetry's attributes have no unsigned ones, and
/// `tracing-opentelemetry` writes a `u64` as text.
pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// What a task's span shows.
pub(crate) struct TaskFields<'a> {
    pub(crate) node: &'static str,
    pub(crate) task_id: Uuid,
    pub(crate) step: u64,
    pub(crate) attempt: u32,
    pub(crate) triggers: &'a [&'static str],
    pub(crate) checkpoint_ns: &'a str,
    pub(crate) thread_id: Option<&'a str>,
}

/// The span of a node task, a child of its step's span.
pub(crate) fn task_span(step: &Span, task: &TaskFields<'_>) -> Span {
    let span = tracing::span!(
        target: TARGET_TASK,
        parent: step,
        Level::DEBUG,
        "graph.task",
        node = task.node,
        task_id = %task.task_id,
        step = int(task.step),
        attempt = i64::from(task.attempt),
        trigger = Empty,
        { OTEL_NAME } = task.node,
        { LANGSMITH_SPAN_KIND } = KIND_CHAIN,
        { LANGSMITH_NODE } = task.node,
        { LANGSMITH_STEP } = int(task.step),
        { LANGSMITH_TRIGGERS } = Empty,
        { LANGSMITH_CHECKPOINT_NS } = task.checkpoint_ns,
        { LANGSMITH_THREAD_ID } = task.thread_id,
        { ERROR_TYPE } = Empty,
        { OTEL_STATUS_CODE } = Empty,
        { OTEL_STATUS_DESCRIPTION } = Empty,
    );
    if !span.is_disabled() {
        let triggers = task.triggers.join(",");
        span.record("trigger", triggers.as_str());
        span.record(LANGSMITH_TRIGGERS, triggers.as_str());
    }
    span
}

/// The span of one checkpoint write of the run whose span is `run`: `what` says which
/// (`step`, `task`, `interrupt`, `end`, `release`).
pub(crate) fn checkpoint_span(
    run: &Span,
    what: &'static str,
    step: u64,
    thread_id: Option<&str>,
) -> Span {
    tracing::span!(
        target: TARGET_CHECKPOINT,
        parent: run,
        Level::DEBUG,
        "checkpoint.write",
        write = what,
        step = int(step),
        thread_id,
        { ERROR_TYPE } = Empty,
        { OTEL_STATUS_CODE } = Empty,
        { OTEL_STATUS_DESCRIPTION } = Empty,
    )
}

tokio::task_local! {
    /// The thread of the run whose node task is being polled: what a tool span made in the
    /// task names as its conversation. Set only while tool spans are recorded (see
    /// [`in_conversation`]), so a run nobody watches pays nothing per poll.
    static CONVERSATION: Arc<str>;
}

/// `task`, polled with `thread_id` as the conversation of the tool spans made in it, when
/// the run is on a thread and a subscriber records tool spans; otherwise `task` as it is.
pub(crate) fn in_conversation<F: Future>(
    thread_id: Option<&str>,
    task: F,
) -> Either<TaskLocalFuture<Arc<str>, F>, F> {
    match thread_id {
        Some(thread_id) if tracing::span_enabled!(target: TARGET_TOOL, Level::INFO) => {
            Either::Left(CONVERSATION.scope(Arc::from(thread_id), task))
        }
        _ => Either::Right(task),
    }
}

/// The span of one tool call: `execute_tool {name}`, a child of the current span (the
/// task running the tool). [`mark_error`] marks a call that failed. Made in a node's task
/// (not in work it spawned) of a run on a thread, it carries the thread as
/// `gen_ai.conversation.id`, as the run's and the model calls' spans do.
///
/// ```
/// let span = stategraph_core::telemetry::tool_span("get_weather", "call_1");
/// let _in_it = span.enter();
/// ```
pub fn tool_span(name: &str, call_id: &str) -> Span {
    let span = tracing::span!(
        target: TARGET_TOOL,
        Level::INFO,
        "execute_tool",
        { OTEL_NAME } = Empty,
        { GEN_AI_OPERATION_NAME } = OPERATION_EXECUTE_TOOL,
        { GEN_AI_TOOL_NAME } = name,
        { GEN_AI_TOOL_CALL_ID } = call_id,
        { GEN_AI_TOOL_TYPE } = "function",
        { GEN_AI_CONVERSATION_ID } = Empty,
        { LANGSMITH_SPAN_KIND } = KIND_TOOL,
        { LANGSMITH_THREAD_ID } = Empty,
        { ERROR_TYPE } = Empty,
        { OTEL_STATUS_CODE } = Empty,
        { OTEL_STATUS_DESCRIPTION } = Empty,
    );
    if !span.is_disabled() {
        span.record(OTEL_NAME, format!("execute_tool {name}").as_str());
        // Outside a node's task (or in a run on no thread) there is none to record.
        let _ = CONVERSATION.try_with(|thread_id| {
            span.record(GEN_AI_CONVERSATION_ID, &**thread_id);
            span.record(LANGSMITH_THREAD_ID, &**thread_id);
        });
    }
    span
}

/// Marks `span` failed: `error.type` is `kind` (a short, stable name of what failed, as
/// OpenTelemetry asks), the status `ERROR` with `message`.
///
/// ```
/// let span = stategraph_core::telemetry::tool_span("get_weather", "call_1");
/// stategraph_core::telemetry::mark_error(&span, "tool_error", "no such city");
/// ```
pub fn mark_error(span: &Span, kind: &str, message: impl Display) {
    if span.is_disabled() {
        return;
    }
    span.record(ERROR_TYPE, kind);
    span.record(OTEL_STATUS_CODE, "ERROR");
    span.record(OTEL_STATUS_DESCRIPTION, message.to_string().as_str());
}
