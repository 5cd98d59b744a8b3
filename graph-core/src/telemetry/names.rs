//! The names spans carry: OpenTelemetry's GenAI semantic conventions, LangSmith's keys and
//! OpenTelemetry's own, written here once. Our own constants: the
//! `opentelemetry-semantic-conventions` crate marks its GenAI ones deprecated while the
//! conventions are in development, and a rename there must not break a user's dashboards
//! without a line of ours changing.
//!
//! The `tracing` targets are here too: every span of the runtime has a target under
//! `stategraph::`, so `RUST_LOG=stategraph=debug` shows them all and
//! `RUST_LOG=stategraph::chat=info` only the model calls.

/// Target of a run's span.
pub const TARGET_RUN: &str = "stategraph::run";
/// Target of a step's span.
pub const TARGET_STEP: &str = "stategraph::step";
/// Target of a node task's span.
pub const TARGET_TASK: &str = "stategraph::task";
/// Target of a model call's span.
pub const TARGET_CHAT: &str = "stategraph::chat";
/// Target of a tool call's span.
pub const TARGET_TOOL: &str = "stategraph::tool";
/// Target of a checkpoint write's span.
pub const TARGET_CHECKPOINT: &str = "stategraph::checkpoint";

/// The span's name as OpenTelemetry exports it (`tracing-opentelemetry` reads it).
pub const OTEL_NAME: &str = "otel.name";
/// The span's kind: `client` for model calls.
pub const OTEL_KIND: &str = "otel.kind";
/// `ERROR` on a span whose work failed.
pub const OTEL_STATUS_CODE: &str = "otel.status_code";
/// The failure's message, on a span whose work failed.
pub const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";
/// What kind of failure it was: the error's variant (`model`, `node`, `timeout`, ...).
pub const ERROR_TYPE: &str = "error.type";

/// `chat` for a model call, `execute_tool` for a tool call.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// Who serves the model (`openai`, `scripted`, ...).
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The model asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// The sampling temperature asked for, when one was set.
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// The most tokens asked for, when a limit was set.
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// The answer's id: the provider's (OpenAI's `chatcmpl-...`) when the model's chunks carry
/// it ([`ChatChunk::response_id`](crate::ChatChunk::response_id)), else the id of the
/// message the call made, as messages mode labels it.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// The model that answered: as the provider names it when the chunks carry it
/// ([`ChatChunk::response_model`](crate::ChatChunk::response_model)), else the model asked
/// for.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// Why the model stopped (`stop`, `tool_calls`, ...).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Seconds from the call's start to its first chunk.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// Tokens in the prompt, as the provider counted them.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Tokens the model generated, as the provider counted them.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// The conversation: the thread's id, when the run has a thread.
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// The messages sent, as OpenTelemetry's JSON (`[{role, parts}]`); recorded only when
/// content recording is on ([`record_content`](super::record_content)).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// The answer, as OpenTelemetry's JSON; recorded only when content recording is on.
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// The tool called.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// The id of the tool call the model made.
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// `function` for tools the model calls by name.
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";

/// The value of [`GEN_AI_OPERATION_NAME`] for a model call.
pub const OPERATION_CHAT: &str = "chat";
/// The value of [`GEN_AI_OPERATION_NAME`] for a tool call.
pub const OPERATION_EXECUTE_TOOL: &str = "execute_tool";

/// LangSmith's run type: `chain` for a graph and its nodes, `llm` for a model call,
/// `tool` for a tool call.
pub const LANGSMITH_SPAN_KIND: &str = "langsmith.span.kind";
/// The name LangSmith shows for the trace.
pub const LANGSMITH_TRACE_NAME: &str = "langsmith.trace.name";
/// The thread, on every span of a run on one: LangSmith's Threads view groups traces by it.
pub const LANGSMITH_THREAD_ID: &str = "langsmith.metadata.thread_id";
/// The run's id.
pub const LANGSMITH_RUN_ID: &str = "langsmith.metadata.run_id";
/// The node of a task (LangGraph's `langgraph_node`).
pub const LANGSMITH_NODE: &str = "langsmith.metadata.langgraph_node";
/// The step of a task (LangGraph's `langgraph_step`).
pub const LANGSMITH_STEP: &str = "langsmith.metadata.langgraph_step";
/// What started a task (LangGraph's `langgraph_triggers`).
pub const LANGSMITH_TRIGGERS: &str = "langsmith.metadata.langgraph_triggers";
/// The task's checkpoint namespace (LangGraph's `langgraph_checkpoint_ns`).
pub const LANGSMITH_CHECKPOINT_NS: &str = "langsmith.metadata.langgraph_checkpoint_ns";
/// The model's provider (LangChain's `ls_provider`).
pub const LANGSMITH_PROVIDER: &str = "langsmith.metadata.ls_provider";
/// The model's name (LangChain's `ls_model_name`).
pub const LANGSMITH_MODEL_NAME: &str = "langsmith.metadata.ls_model_name";

/// [`LANGSMITH_SPAN_KIND`] of a graph and of its nodes.
pub const KIND_CHAIN: &str = "chain";
/// [`LANGSMITH_SPAN_KIND`] of a model call.
pub const KIND_LLM: &str = "llm";
/// [`LANGSMITH_SPAN_KIND`] of a tool call.
pub const KIND_TOOL: &str = "tool";
