//! The runtime of [stategraph](https://docs.rs/stategraph): the pull-driven executor of
//! graphs that `#[graph]` generates, the typed items their streams yield, and the
//! [`ChatModel`] trait with a [`ScriptedModel`].
//!
//! Users depend on the `stategraph` facade, which re-exports this crate. The pieces:
//!
//! | item | what it is |
//! |---|---|
//! | [`GraphStream`] | a running graph: a `Stream` of typed items, bounded and cancel-on-drop |
//! | [`Messages`], [`Custom`], [`Values`], [`Updates`], [`Debug`](struct@Debug) | stream modes; the mode decides the item type |
//! | [`MessageChunk`], [`CustomChunk`], [`NodeUpdate`], [`TaskEvent`] | the items, with [`MessageMetadata`] / [`TaskMetadata`] |
//! | [`StreamItem`], [`StreamItemRef`], [`V2`] | the item of several modes at once, borrowed; LangGraph's v2 JSON shape |
//! | [`NodeContext`] | `ctx` in a node: model calls, the custom writer, spawning, [`SubgraphCall`] |
//! | [`ChatModel`], [`ScriptedModel`] | models, and one that streams fixed tokens |
//! | [`State`], [`GraphNode`], [`GraphTag`], [`GraphDef`] | what `#[graph]` and `#[derive(State)]` implement |
//! | [`GraphDescription`] | a graph's nodes and edges as plain data: Mermaid text, LangGraph's graph JSON |
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

// Public only for `benches/benches/buffer.rs`, which measures it against tokio's `mpsc`
// in the same run: not a public API.
#[doc(hidden)]
pub mod buffer;
mod chat;
pub mod checkpoint;
mod config;
mod context;
mod description;
mod error;
mod forward;
mod items;
mod metadata;
mod mode;
mod multi_mode;
mod run;
mod scripted;
mod state;
mod step_futures;
mod stream;
mod subgraph;
mod sync;
mod tag;
mod task_items;
mod topology;
mod traits;

pub use chat::{
    AnyChatError, AnyChatModel, ChatChunk, ChatChunkStream, ChatModel, ChatRequest, FinishReason,
    Message, MessageBuilder, ModelIdentity, Role, ToolCall, ToolCallChunk, ToolDefinition, Usage,
};
pub use config::{DEFAULT_BUFFER, DEFAULT_RECURSION_LIMIT, RunConfig};
pub use context::{ChatCall, ChatCallStream, NodeContext, Writer};
pub use description::{EdgeDescription, EdgeKind, GraphDescription, NodeDescription, Vertex};
pub use error::{BoxError, ChatCallError, GraphError, NodeError, UpdateConflict};
pub use items::{CustomChunk, MessageChunk};
pub use metadata::{MessageMetadata, TaskMetadata, TaskPath};
pub use mode::{Custom, Debug, Messages, Updates, Values};
#[doc(hidden)]
pub use mode::{Event, ModeSet};
pub use multi_mode::{Flag, ModeFlags, No, Off, Or, StreamItem, StreamItemRef, V2, V2Data, Yes};
pub use scripted::{ScriptedError, ScriptedModel};
#[doc(hidden)]
pub use state::MissingState;
pub use state::{add_messages, append};
pub use stream::{GraphStream, invoke};
pub use subgraph::SubgraphCall;
pub use tag::TagSet;
pub use task_items::{NodeUpdate, TaskEvent, TaskEventKind};
pub use topology::{Edge, Source, Target, Topology};
pub use traits::{GraphDef, GraphNode, GraphTag, IntoNodeResult, NodeFuture, State, StreamMode};
pub use uuid::Uuid;
