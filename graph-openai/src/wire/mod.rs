//! The OpenAI chat-completions wire format: what we send and what streams back.
//!
//! The response types are deliberately tolerant, because compatible servers differ from
//! OpenAI in small ways: unknown fields are ignored, a missing `index` is 0, `content: null`
//! and an empty `finish_reason` are accepted, and a usage-only chunk may have no `choices`.

mod delta;
mod request;
mod response;

pub(crate) use delta::{DeltaChunk, ResponseHead};

pub use request::{
    ChatCompletionRequest, FunctionCall, FunctionDefinition, RequestMessage, RequestToolCall,
    StreamOptions, Tool, ToolChoice,
};
pub use response::{
    ApiError, ChatCompletionChunk, ChunkChoice, ChunkDelta, CompletionUsage, ErrorEnvelope,
    FunctionCallDelta, ToolCallDelta,
};
