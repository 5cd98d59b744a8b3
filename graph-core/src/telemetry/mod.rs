//! What a run tells `tracing`: one span per run, step, node task, model call, tool call
//! and checkpoint write, nested as the run is, carrying OpenTelemetry's GenAI attributes
//! and the keys LangSmith draws a run's tree from. The names are in [`names`].
//!
//! | span | name (`otel.name`) | target | level |
//! |---|---|---|---|
//! | a run | `graph.run` (the graph) | `stategraph::run` | INFO |
//! | a step | `graph.step` | `stategraph::step` | DEBUG |
//! | a node task | `graph.task` (the node) | `stategraph::task` | DEBUG |
//! | a model call | `chat` (`chat {model}`) | `stategraph::chat` | INFO |
//! | a tool call | `execute_tool` (`execute_tool {name}`) | `stategraph::tool` | INFO |
//! | a checkpoint write | `checkpoint.write` | `stategraph::checkpoint` | DEBUG |
//!
//! So `RUST_LOG=stategraph=debug` shows them all. Spans are per call and per task, never
//! per token; with no subscriber they cost a check each. Prompts and answers are recorded
//! only when [`record_content`] says so.

mod content;
pub(crate) mod model_call;
pub mod names;
pub(crate) mod spans;

pub use content::{CAPTURE_CONTENT_VAR, record_content, set_record_content};
pub use spans::{mark_error, tool_span};
