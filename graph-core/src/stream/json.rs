//! LangGraph's JSON, written in this one place: each item in the shape its mode has in
//! LangGraph, the metadata with LangGraph's field names, and the typed v2 stream part
//! `{"type", "ns", "data"}`, whose namespace is chosen by [`V2Data::namespace`] alone.

use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};

use super::checkpoint_item::CheckpointEvent;
use super::items::{CustomChunk, MessageChunk};
use super::metadata::{MessageMetadata, PREGEL_PULL, PREGEL_PUSH, TaskMetadata, TaskPath};
use super::mode::{Flag, ModeFlags, Off};
use super::stream_item::StreamItem;
use super::task_items::{NodeUpdate, TaskEvent, TaskEventKind};
use crate::chat::LangChainJson;
use crate::graph::tags::TagSet;
use crate::graph::traits::{GraphDef, GraphNode, GraphTag, SentInput, State};

type Update<G> = <<G as GraphDef>::State as State>::Update;

/// The namespace of the root graph: an item from inside a subgraph has one segment per level.
const ROOT: &[String] = &[];

/// An item that knows its mode and namespace, for the v2 stream part. Use [`V2`] to
/// serialize a single-mode item in that shape.
///
/// Its message names the usual fix: an update serializes only when its state asks for it
/// with `#[state(derive(Serialize))]`, which a user cannot guess from serde's own error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written as LangGraph's JSON: it does not implement `Serialize`",
    label = "the items of every mode asked for must serialize",
    note = "updates mode: add `#[state(derive(Serialize))]` next to `#[derive(State)]` on the state, so its update derives `Serialize` (rustc hides the `#[derive(..)]` list from `State`)",
    note = "values mode: derive `Serialize` on the state; custom mode: on the custom payload; tasks mode: both of the state and its update"
)]
pub trait V2Data: Serialize {
    /// The mode's name, the part's `type`.
    const MODE: &'static str;
    /// The part's `ns`: the namespace of the graph that produced the item.
    fn namespace(&self) -> &[String];
}

/// Writes `item` as the v2 part's `ns` and `data`.
fn v2_fields<M: SerializeMap, T: V2Data>(map: &mut M, item: &T) -> Result<(), M::Error> {
    map.serialize_entry("ns", item.namespace())?;
    map.serialize_entry("data", item)
}

/// A single-mode item in LangGraph's v2 shape, `{"type", "ns", "data"}`:
/// `serde_json::to_string(&V2(&chunk))`.
#[derive(Debug)]
pub struct V2<'a, T>(pub &'a T);

impl<T: V2Data> Serialize for V2<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", T::MODE)?;
        v2_fields(&mut map, self.0)?;
        map.end()
    }
}

/// The v2 stream part: `{"type", "ns", "data"}`.
impl<G: GraphDef, M: ModeFlags> Serialize for StreamItem<G, M>
where
    <M::Values as Flag>::Out<G::State>: V2Data,
    <M::Updates as Flag>::Out<NodeUpdate<G>>: V2Data,
    <M::Messages as Flag>::Out<MessageChunk<G::Tag>>: V2Data,
    <M::Custom as Flag>::Out<CustomChunk<G::Custom, G::Tag>>: V2Data,
    <M::Tasks as Flag>::Out<TaskEvent<G>>: V2Data,
    <M::Checkpoints as Flag>::Out<CheckpointEvent<G>>: V2Data,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", self.mode())?;
        match self {
            Self::Values(item) => v2_fields(&mut map, item)?,
            Self::Updates(item) => v2_fields(&mut map, item)?,
            Self::Messages(item) => v2_fields(&mut map, item)?,
            Self::Custom(item) => v2_fields(&mut map, item)?,
            Self::Tasks(item) => v2_fields(&mut map, item)?,
            Self::Checkpoints(item) => v2_fields(&mut map, item)?,
        }
        map.end()
    }
}

impl Serialize for Off {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl V2Data for Off {
    const MODE: &'static str = "off";
    fn namespace(&self) -> &[String] {
        match *self {}
    }
}

/// A values-mode item is the state itself, at the root namespace.
impl<S: State + Serialize> V2Data for S {
    const MODE: &'static str = "values";
    fn namespace(&self) -> &[String] {
        ROOT
    }
}

impl<T: GraphTag> V2Data for MessageChunk<T> {
    const MODE: &'static str = "messages";
    fn namespace(&self) -> &[String] {
        self.metadata().task().namespace()
    }
}

impl<P: Serialize, T: GraphTag> V2Data for CustomChunk<P, T> {
    const MODE: &'static str = "custom";
    fn namespace(&self) -> &[String] {
        self.metadata().namespace()
    }
}

impl<G: GraphDef> V2Data for NodeUpdate<G>
where
    NodeUpdate<G>: Serialize,
{
    const MODE: &'static str = "updates";
    fn namespace(&self) -> &[String] {
        self.metadata().namespace()
    }
}

impl<G: GraphDef> V2Data for TaskEvent<G>
where
    TaskEvent<G>: Serialize,
{
    const MODE: &'static str = "debug";
    fn namespace(&self) -> &[String] {
        self.metadata().namespace()
    }
}

/// As LangGraph's messages mode: the pair `[message_chunk, metadata]`, the message in
/// LangChain's shape.
impl<T: GraphTag> Serialize for MessageChunk<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut pair = serializer.serialize_tuple(2)?;
        let metadata = self.metadata();
        // A whole message a node returned is written as that message (a `ToolMessage` is
        // `type: "tool"`), as LangGraph emits it; a model call's chunk as an
        // `AIMessageChunk`.
        let message = if metadata.is_returned_message() {
            LangChainJson::whole_chunk(self.chunk(), self.id())
        } else {
            LangChainJson::chunk(self.chunk(), self.id(), self.is_last())
                .with_model(metadata.model())
        };
        pair.serialize_element(&message)?;
        pair.serialize_element(self.metadata())?;
        pair.end()
    }
}

/// As LangGraph's custom mode: the payload alone.
impl<P: Serialize, T: GraphTag> Serialize for CustomChunk<P, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.payload().serialize(serializer)
    }
}

/// As LangGraph: `{"<node>": <update>}`.
impl<G: GraphDef> Serialize for NodeUpdate<G>
where
    Update<G>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.node().name(), self.update())?;
        map.end()
    }
}

/// The `payload` of a task event: `{"id", "name", "input", "triggers"}` for a start,
/// `{"id", "name", "error", "result"}` for a result.
struct TaskPayload<'a, G: GraphDef>(&'a TaskEvent<G>);

impl<G: GraphDef> Serialize for TaskPayload<'_, G>
where
    G::State: Serialize,
    Update<G>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let event = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &event.metadata().task_id().to_string())?;
        map.serialize_entry("name", event.node().name())?;
        match event.kind() {
            TaskEventKind::Started { input } => {
                match (
                    input.state(),
                    input.sent().and_then(SentInput::payload_json),
                ) {
                    (Some(state), _) => map.serialize_entry("input", state)?,
                    (None, Some(Ok(payload))) => map.serialize_entry("input", &payload)?,
                    (None, Some(Err(error))) => return Err(S::Error::custom(error)),
                    (None, None) => map.serialize_entry("input", &None::<()>)?,
                }
                map.serialize_entry("triggers", event.metadata().triggers())?;
            }
            TaskEventKind::Finished { update } => {
                map.serialize_entry("error", &None::<String>)?;
                map.serialize_entry("result", update)?;
            }
            TaskEventKind::Failed { error } => {
                map.serialize_entry("error", error)?;
                map.serialize_entry("result", &None::<()>)?;
            }
            TaskEventKind::AttemptFailed {
                error,
                attempt,
                retry_in,
            } => {
                map.serialize_entry("error", error)?;
                map.serialize_entry("result", &None::<()>)?;
                map.serialize_entry("attempt", attempt)?;
                let retry_in_ms = u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX);
                map.serialize_entry("retry_in_ms", &retry_in_ms)?;
            }
            TaskEventKind::Interrupted { interrupt } => {
                map.serialize_entry("error", &None::<String>)?;
                map.serialize_entry("result", &[(); 0])?;
                map.serialize_entry("interrupts", &[interrupt])?;
            }
        }
        map.end()
    }
}

/// As LangGraph's debug mode: `{"type": "task" | "task_result", "timestamp", "step",
/// "payload"}`.
impl<G: GraphDef> Serialize for TaskEvent<G>
where
    G::State: Serialize,
    Update<G>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kind = match self.kind() {
            TaskEventKind::Started { .. } => "task",
            _ => "task_result",
        };
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", kind)?;
        map.serialize_entry(
            "timestamp",
            &humantime::format_rfc3339_micros(self.timestamp()).to_string(),
        )?;
        map.serialize_entry("step", &self.step())?;
        map.serialize_entry("payload", &TaskPayload(self))?;
        map.end()
    }
}

/// As LangGraph's `langgraph_path`: `["__pregel_pull", node]` or `["__pregel_push", index]`.
impl Serialize for TaskPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(2)?;
        match self {
            Self::Pull(node) => {
                tuple.serialize_element(PREGEL_PULL)?;
                tuple.serialize_element(node)?;
            }
            Self::Push(index) => {
                tuple.serialize_element(PREGEL_PUSH)?;
                tuple.serialize_element(index)?;
            }
        }
        tuple.end()
    }
}

/// A task's fields with LangGraph's names, after the run's extra metadata.
fn task_fields<N: GraphNode, M: SerializeMap>(
    task: &TaskMetadata<N>,
    map: &mut M,
) -> Result<(), M::Error> {
    for (key, value) in task.extra() {
        map.serialize_entry(key, value)?;
    }
    map.serialize_entry("langgraph_step", &task.step())?;
    map.serialize_entry("langgraph_node", task.name())?;
    map.serialize_entry("langgraph_triggers", task.triggers())?;
    map.serialize_entry("langgraph_path", &task.path())?;
    map.serialize_entry("langgraph_checkpoint_ns", task.checkpoint_ns())?;
    if let Some(attempt) = task.retry_attempt() {
        map.serialize_entry("stategraph_attempt", &attempt)?;
    }
    map.serialize_entry("checkpoint_ns", task.root_checkpoint_ns())
}

impl<N: GraphNode> Serialize for TaskMetadata<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        task_fields(self, &mut map)?;
        map.end()
    }
}

/// The task's fields, then `ls_provider`, `ls_model_name`, `ls_model_type`,
/// `ls_temperature` for a model call, and `tags` when there are any.
impl<T: GraphTag> Serialize for MessageMetadata<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        task_fields(self.task(), &mut map)?;
        if let Some(model) = self.model() {
            map.serialize_entry("ls_provider", &model.provider)?;
            map.serialize_entry("ls_model_name", &model.model_name)?;
            map.serialize_entry("ls_model_type", &model.model_type)?;
            map.serialize_entry("ls_temperature", &model.temperature)?;
        }
        let tags = self.tags();
        if !tags.is_empty() {
            map.serialize_entry("tags", &tags)?;
        }
        map.end()
    }
}

/// As LangGraph's `tags`: the names, in the set's listing order.
impl<T: GraphTag> Serialize for TagSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for tag in self.iter() {
            seq.serialize_element(tag.name())?;
        }
        seq.end()
    }
}

/// A checkpoint's `config` as LangGraph writes it: `{"configurable": {"thread_id",
/// "checkpoint_ns", "checkpoint_id"}}`.
struct CheckpointConfig<'a> {
    thread_id: &'a str,
    checkpoint_ns: &'a str,
    checkpoint_id: String,
}

impl Serialize for CheckpointConfig<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut configurable = serde_json::Map::new();
        configurable.insert("thread_id".into(), self.thread_id.into());
        configurable.insert("checkpoint_ns".into(), self.checkpoint_ns.into());
        configurable.insert("checkpoint_id".into(), self.checkpoint_id.clone().into());
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("configurable", &configurable)?;
        map.end()
    }
}

/// As LangGraph's checkpoints mode: `{"config", "parent_config", "values", "metadata":
/// {"source", "step", "parents"}, "next", "tasks": [{"id", "name",
/// "interrupts", "state"}]}`.
impl<G: GraphDef> Serialize for CheckpointEvent<G>
where
    G::State: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let meta = self.meta();
        let config = |id: String| CheckpointConfig {
            thread_id: &meta.thread_id,
            checkpoint_ns: &meta.checkpoint_ns,
            checkpoint_id: id,
        };
        let mut metadata = serde_json::Map::new();
        metadata.insert("source".into(), meta.source.as_str().into());
        metadata.insert("step".into(), meta.step.into());
        metadata.insert(
            "parents".into(),
            serde_json::Value::Object(Default::default()),
        );
        let tasks: Vec<serde_json::Value> = self
            .tasks()
            .iter()
            .map(|(id, name)| {
                serde_json::json!({"id": id.to_string(), "name": name, "interrupts": [], "state": null})
            })
            .collect();
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("config", &config(meta.id.to_string()))?;
        map.serialize_entry(
            "parent_config",
            &meta.parent_id.map(|parent| config(parent.to_string())),
        )?;
        map.serialize_entry("values", self.values())?;
        map.serialize_entry("metadata", &metadata)?;
        map.serialize_entry("next", &meta.next)?;
        map.serialize_entry("tasks", &tasks)?;
        map.end()
    }
}

/// A checkpoints-mode item is in its thread's namespace: the root's, for a root run.
impl<G: GraphDef> V2Data for CheckpointEvent<G>
where
    G::State: Serialize,
{
    const MODE: &'static str = "checkpoints";
    fn namespace(&self) -> &[String] {
        ROOT
    }
}

/// A [`CheckpointEvent`] as LangGraph's debug mode writes it: `{"type": "checkpoint",
/// "timestamp", "step", "payload"}`, the payload being the checkpoints-mode item.
#[derive(Debug)]
pub struct DebugCheckpoint<'a, G: GraphDef>(pub &'a CheckpointEvent<G>);

impl<G: GraphDef> Serialize for DebugCheckpoint<'_, G>
where
    G::State: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let meta = self.0.meta();
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", "checkpoint")?;
        map.serialize_entry(
            "timestamp",
            &humantime::format_rfc3339_micros(meta.created_at).to_string(),
        )?;
        map.serialize_entry("step", &meta.step)?;
        map.serialize_entry("payload", self.0)?;
        map.end()
    }
}
