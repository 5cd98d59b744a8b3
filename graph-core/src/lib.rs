//! The runtime of [stategraph](https://docs.rs/stategraph): the pull-driven executor of
//! graphs that `#[graph]` generates, the typed items their streams yield, and the
//! [`ChatModel`] trait with a [`ScriptedModel`].
//!
//! Users depend on the `stategraph` facade, which re-exports this crate. The pieces:
//!
//! | item | what it is |
//! |---|---|
//! | [`GraphStream`] | a running graph: a `Stream` of typed items, bounded and cancel-on-drop |
//! | [`mode`]: `Messages`, `Custom`, `Values`, `Updates`, `Tasks` | stream modes; the mode decides the item type |
//! | [`MessageChunk`], [`CustomChunk`], [`NodeUpdate`], [`TaskEvent`] | the items, with [`MessageMetadata`] / [`TaskMetadata`] |
//! | [`StreamItem`], [`StreamItemRef`], [`V2`] | the item of several modes at once, borrowed; LangGraph's v2 JSON shape |
//! | [`NodeContext`] | `ctx` in a node: model calls, the custom writer, spawning, [`SubgraphCall`] |
//! | [`ChatModel`], [`ScriptedModel`] | models, and one that streams fixed tokens |
//! | [`Tool`], [`ToolDefinition`], [`ToolChoice`] | tools a model may call (`#[tool]` implements [`Tool`]) |
//! | [`State`], [`GraphNode`], [`GraphTag`], [`GraphDef`] | what `#[graph]` and `#[derive(State)]` implement |
//! | [`reducer`] | the reducers a state's fields name: `append`, `add_messages` |
//! | [`GraphDescription`] | a graph's nodes and edges as plain data: Mermaid text, LangGraph's graph JSON |
//!
//! The modules and the layers between them are drawn in `ARCHITECTURE.md` at the
//! repository's root.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

// Public only for `benches/benches/buffer.rs`, which measures it against tokio's `mpsc`
// in the same run: not a public API.
#[doc(hidden)]
pub mod buffer;
mod chat;
pub mod checkpoint;
mod config;
mod description;
mod error;
mod graph;
mod graph_stream;
mod interrupt;
mod node;
mod run;
mod stream;
pub mod telemetry;
mod thread;
mod thread_line;

pub use chat::{
    AnyChatError, AnyChatModel, ChatChunk, ChatChunkStream, ChatModel, ChatRequest, FinishReason,
    IntoToolOutput, LangChainJson, Message, MessageBuilder, ModelIdentity, ResponseFormat, Role,
    ScriptedError, ScriptedModel, StructuredMethod, StructuredOutputError, Tool, ToolCall,
    ToolCallChunk, ToolChoice, ToolDefinition, ToolError, ToolFuture, ToolStatus, Usage,
    merge_tools, parse_tool_arguments, read_structured, tool_arguments_schema,
};
pub use config::{DEFAULT_BUFFER, DEFAULT_RECURSION_LIMIT, Durability, RunConfig};
pub use description::{EdgeDescription, EdgeKind, GraphDescription, NodeDescription, Vertex};
pub use error::{BoxError, ChatCallError, GraphError, NodeError, NodeTimedOut, UpdateConflict};
pub use graph::command::{Command, Resume};
pub use graph::goto::{Goto, IntoNodeGoto};
pub use graph::policy::{NodePolicy, RetryPolicy};
pub use graph::sent::TaskInput;
pub use graph::tags::TagSet;
pub use graph::traits::{GraphDef, GraphNode, GraphTag, IntoNodeResult, SentInput, State};
pub use graph_stream::GraphStream;
pub use interrupt::Interrupt;
pub use node::chat_call::{ChatCall, ChatCallStream};
pub use node::context::NodeContext;
pub use node::structured_call::StructuredCall;
pub use node::subgraph::SubgraphCall;
pub use node::writer::Writer;
pub use stream::checkpoint_item::CheckpointEvent;
pub use stream::items::{CustomChunk, MessageChunk};
pub use stream::json::{DebugCheckpoint, V2};
pub use stream::metadata::{MessageMetadata, TaskMetadata, TaskPath};
pub use stream::stream_item::{StreamItem, StreamItemRef};
pub use stream::task_items::{NodeUpdate, TaskEvent, TaskEventKind};
pub use thread::{DEFAULT_LEASE, StateSnapshot, Thread};
pub use uuid::Uuid;

/// The stream modes: pass one, or a tuple of two to six, to `Graph::stream`.
///
/// | mode | items | LangGraph |
/// |---|---|---|
/// | [`Messages`](mode::Messages) | [`MessageChunk`]: every model chunk, with its node, step and tags | `messages` |
/// | [`Custom`](mode::Custom) | [`CustomChunk`]: what nodes write through `ctx.write(..)` | `custom` |
/// | [`Values`](mode::Values) | the whole state, after the input and each step that wrote to it | `values` |
/// | [`Updates`](mode::Updates) | [`NodeUpdate`]: each finished node's update | `updates` |
/// | [`Tasks`](mode::Tasks) | [`TaskEvent`]: each task's start and result | `tasks` (JSON as `debug`) |
/// | [`Checkpoints`](mode::Checkpoints) | [`CheckpointEvent`]: each checkpoint a run on a thread writes | `checkpoints` |
/// | a tuple | [`StreamItem`]: one variant per mode asked for | several modes |
pub mod mode {
    pub use crate::stream::mode::{
        Checkpoints, Custom, Messages, Off, StreamMode, Tasks, Updates, Values,
    };
}

/// The reducers a state's fields name in `#[reducer(..)]`.
pub mod reducer {
    pub use crate::graph::reducers::{add_messages, append};
}

/// What generated code names; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::chat::{ToolArgument, tool_output};
    pub use crate::checkpoint;
    pub use crate::graph::goto::NodeOutput;
    pub use crate::graph::policy::{NodePolicy, RetryPolicy};
    pub use crate::graph::reducers::{MissingState, add_messages, append};
    pub use crate::graph::sent::{PayloadJson, PayloadNoJson, PayloadProbe, SentJson};
    pub use crate::graph::topology::{Edge, Source, Target, Topology};
    pub use crate::graph::traits::NodeFuture;
    pub use crate::graph_stream::{invoke, stream};
    pub use crate::node::RunNode;
    pub use crate::node::route::{AsyncRoute, IntoRoute, route_in_task};
    pub use crate::stream::json::V2Data;
    pub use crate::stream::mode::{Flag, ModeFlags, ModeSet, No, Or, StreamMode, Yes};
    pub use crate::stream::record::Event;
    pub use crate::thread::Thread;
    pub use crate::thread_line::child::{
        ChildOnThread, ChildOnThreadIfDurable, ChildOnThreadNever, Probe,
    };
    pub use crate::{
        EdgeDescription, EdgeKind, Goto, GraphDef, GraphDescription, GraphError, GraphNode,
        GraphStream, GraphTag, IntoNodeGoto, IntoNodeResult, Message, NodeContext, NodeDescription,
        NodeError, RunConfig, SentInput, State, TaskInput, UpdateConflict, Vertex,
    };
    pub use futures::future::BoxFuture;
    pub use schemars;
}
