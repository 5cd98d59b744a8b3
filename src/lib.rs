#![doc = include_str!("../README.md")]
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `macros` | yes | `#[graph]` and `#[derive(State)]` |
//! | `prebuilt` | yes | `stategraph::prebuilt`: `ToolNode`, `tools_condition`, `MessagesState`, `create_react_agent`, `FakeChatModel` |
//! | `openai` | no | `stategraph::openai`: `ChatOpenAI`, the OpenAI-compatible streaming client |
//! | `server` | no | `stategraph::server`: serves graphs to LangGraph's clients over its Agent Server protocol |
//! | `sqlite` | no | `stategraph::checkpoint::SqlCheckpointer` on SQLite (compiled in), and the memory store |
//! | `postgres` | no | `stategraph::checkpoint::SqlCheckpointer` on Postgres, and the memory store |
//! | `otel` | no | `stategraph::otel`: the runs' spans exported over OTLP/HTTP (`OTEL_EXPORTER_OTLP_*`) |
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub use stategraph_core::*;

#[cfg(feature = "macros")]
pub use stategraph_macros::{State, graph, node, router, tags, tool};

/// Prebuilt agent pieces: the tool node, `tools_condition`, `MessagesState`, the ReAct
/// agent and the fake chat model (feature `prebuilt`).
#[cfg(feature = "prebuilt")]
pub use stategraph_prebuilt as prebuilt;

/// `ChatOpenAI`, the OpenAI-compatible streaming client (feature `openai`).
#[cfg(feature = "openai")]
pub use stategraph_openai as openai;

/// `Server`, which serves graphs to LangGraph's own clients (feature `server`).
#[cfg(feature = "server")]
pub use stategraph_server as server;
#[cfg(feature = "otel")]
pub mod otel;

/// Durable threads: the [`Checkpointer`](checkpoint::Checkpointer) trait and its data, and
/// with the `sqlite` or `postgres` feature the stores of `stategraph-checkpoint`.
pub mod checkpoint {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub use stategraph_checkpoint::*;
    pub use stategraph_core::checkpoint::*;
}

/// What a graph module and its consumers need: `use stategraph::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "macros")]
    pub use crate::{graph, tool};
    // Brings both the trait and, with `macros`, the derive.
    pub use crate::State;
    pub use crate::mode::{Checkpoints, Custom, Messages, Tasks, Updates, Values};
    pub use crate::{
        ChatModel, Command, Goto, GraphError, Message, MessageChunk, NodeError, RunConfig,
        ScriptedModel, StreamItem, StreamItemRef,
    };
    pub use futures::{StreamExt as _, TryStreamExt as _};
}

/// What generated code names; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use stategraph_core::__private::*;
    pub use std::sync::Arc;
}
