//! What goes on the wire: SSE frames, LangChain's message JSON, and the events of each
//! stream mode.

pub(crate) mod events;
pub(crate) mod message;
pub(crate) mod sse;
