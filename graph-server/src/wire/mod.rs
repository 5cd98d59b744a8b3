//! What goes on the wire: SSE frames and the events (LangChain's message JSON is graph-core's `LangChainJson`) of each
//! stream mode.

pub(crate) mod events;
pub(crate) mod sse;
