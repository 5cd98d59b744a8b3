//! Chat models: the messages a node sends, the chunks a model streams back, and the
//! [`ChatModel`] trait that any provider implements.
//!
//! These types are provider-neutral. `stategraph-openai` maps them onto the OpenAI wire
//! format; [`ScriptedModel`] produces them from a fixed script.

mod aggregate;
mod any;
mod chunk;
mod langchain;
mod message;
mod message_json;
mod model;
mod scripted;
mod structured;
mod tool;

pub use aggregate::MessageBuilder;
pub use any::{AnyChatError, AnyChatModel};
pub use chunk::{ChatChunk, ToolCallChunk};
pub use langchain::LangChainJson;
pub use message::{FinishReason, Message, Role, ToolCall, ToolDefinition, Usage};
pub use model::{ChatChunkStream, ChatModel, ChatRequest, ModelIdentity, merge_tools};
pub use scripted::{ScriptedError, ScriptedModel};
pub use structured::{ResponseFormat, StructuredMethod, StructuredOutputError, read_structured};
pub use tool::{
    IntoToolOutput, Tool, ToolArgument, ToolChoice, ToolError, ToolFuture, ToolStatus,
    parse_tool_arguments, tool_arguments_schema, tool_output,
};
