//! Prebuilt agent pieces for [stategraph](https://docs.rs/stategraph), as LangGraph's
//! `langgraph.prebuilt` and LangChain's fake chat models:
//!
//! | item | what it is | LangGraph / LangChain |
//! |---|---|---|
//! | [`ToolNode`] | runs every tool call of the last AI message, concurrently | `ToolNode` |
//! | [`tools_condition`] | routes to the tools while the model calls them, else to `END` | `tools_condition` |
//! | [`MessagesState`] | a state of one conversation, merged by message id | `MessagesState` |
//! | [`create_react_agent`], [`react_agent`] | a model calling tools until it can answer | `create_react_agent` |
//! | [`FakeChatModel`] | scripts whole conversations for tests: text, tool calls, errors | `GenericFakeChatModel` |
//!
//! Users reach it through the facade's `stategraph::prebuilt` (feature `prebuilt`).
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod condition;
mod fake_model;
mod messages_state;
mod react;
mod tool_node;

pub use condition::tools_condition;
pub use fake_model::{FakeChatModel, FakeModelError, FakeToolCall, Reply};
pub use messages_state::{MessagesState, MessagesStateUpdate};
pub use react::{ReactAgent, create_react_agent, react_agent};
pub use tool_node::{HandleToolErrors, ToolNode, ToolNodeError};

/// The runtime as `#[graph]` and `#[derive(State)]` name it (`crate = crate::runtime`):
/// this crate sits below the facade, so it cannot name `::stategraph`.
#[doc(hidden)]
pub mod runtime {
    pub use stategraph_core::*;

    /// What generated code names.
    pub mod __private {
        pub use serde;
        pub use stategraph_core::__private::*;
        pub use std::sync::Arc;
    }
}
