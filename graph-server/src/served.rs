//! A registered graph behind a trait object: its input JSON becomes the typed state, and its
//! typed stream becomes [`RunItem`]s that the wire layer encodes without knowing the graph.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
// `RunNode` and `stream` are what generated code starts a run with; the server starts runs
// of any registered graph the same way.
use stategraph_core::__private::{RunNode, stream};
use stategraph_core::checkpoint::{CheckpointId, Checkpointer, Durable, ListOptions};
use stategraph_core::mode::{Checkpoints, Custom, Messages, Tasks, Updates, Values};
use stategraph_core::{
    ChatChunk, DebugCheckpoint, GraphDef, GraphDescription, GraphError, GraphStream, GraphTag,
    ModelIdentity, RunConfig, State, StreamItem,
};

use crate::error::ApiError;
use crate::request::{Begin, ConfigBody, Modes, json_kind};

mod thread;

pub(crate) use thread::ThreadSettings;

/// Everything the server asks of a registered graph; one implementation, [`Served`], for
/// every graph type, so the routes are written once.
pub(crate) trait ServedGraph: Send + Sync + 'static {
    /// The nodes and edges.
    fn description(&self) -> &'static GraphDescription;

    /// A JSON schema of the state, inferred from its default value.
    fn state_schema(&self) -> Value;

    /// Checks `input` against the state and starts a run streaming `modes`.
    fn start(&self, input: Value, run: RunSettings) -> Result<RunItems, ApiError>;

    /// Starts a run on a thread from an input or a command: a 409 while another run holds
    /// the thread. The items end by bringing the thread's record up to date.
    fn start_on_thread(
        &self,
        begin: Begin,
        run: RunSettings,
        thread: ThreadSettings,
    ) -> BoxFuture<'_, Result<RunItems, ApiError>>;

    /// The thread's state at checkpoint `at` (its newest when `None`) as LangGraph's
    /// `ThreadState`; `None` when there is no such checkpoint.
    fn thread_state(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        at: Option<CheckpointId>,
    ) -> BoxFuture<'_, Result<Option<Value>, ApiError>>;

    /// The states of the thread's checkpoints, newest first.
    fn thread_history(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        options: ListOptions,
        metadata: Map<String, Value>,
    ) -> BoxFuture<'_, Result<Vec<Value>, ApiError>>;

    /// Applies `values` as if node `as_node` returned them, to the newest state or to the
    /// state at checkpoint `at` (a fork there); returns `{"checkpoint"}`.
    fn update_state(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        values: Value,
        as_node: Option<String>,
        at: Option<CheckpointId>,
    ) -> BoxFuture<'_, Result<Value, ApiError>>;
}

/// What a run is started with, besides its input.
pub(crate) struct RunSettings {
    pub(crate) run_id: uuid::Uuid,
    pub(crate) modes: Modes,
    pub(crate) subgraphs: bool,
    pub(crate) config: ConfigBody,
    /// Added to the metadata of every item: the run's ids and the client's metadata.
    pub(crate) metadata: Map<String, Value>,
}

/// A running graph's items, in order, ending with an error if the run fails.
pub(crate) type RunItems = BoxStream<'static, Result<RunItem, RunFailure>>;

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunFailure {
    /// The graph failed: a node, a router, the recursion limit.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A state, update or payload did not serialize: the graph's bug, shown to clients as
    /// an internal error.
    #[error("an item of the run does not serialize as JSON: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// One item of a run, with its data already in JSON except model chunks, whose shape
/// depends on the mode they are sent in.
pub(crate) enum RunItem {
    /// The whole state (values mode).
    Values(String),
    /// `{"<node>": <update>}` (updates mode).
    Updates { ns: Vec<String>, json: String },
    /// A custom payload (custom mode).
    Custom { ns: Vec<String>, json: String },
    /// A task starting or finishing: LangGraph's debug event, and its payload alone for
    /// tasks mode; each present only when its mode is on.
    Task {
        ns: Vec<String>,
        debug: Option<String>,
        task: Option<String>,
    },
    /// A model chunk (either messages mode).
    Message(MessageItem),
    /// A checkpoint the run stored: the checkpoints-mode payload and debug mode's
    /// `checkpoint` event, each present only when its mode is on.
    Checkpoint {
        checkpoint: Option<String>,
        debug: Option<String>,
    },
    /// The run stopped on interrupts or at a breakpoint: the state with `"__interrupt__"`
    /// (values mode, when there are interrupts) and `{"__interrupt__": [...]}` (updates
    /// mode).
    Interrupt {
        values: Option<String>,
        updates: Option<String>,
    },
}

/// A model chunk with what its wire shapes need.
pub(crate) struct MessageItem {
    pub(crate) ns: Vec<String>,
    pub(crate) chunk: ChatChunk,
    /// The call's id, shared by its chunks: the message's `id`.
    pub(crate) id: Arc<str>,
    pub(crate) model: Option<ModelIdentity>,
    /// The call's metadata as JSON, serialized once per call.
    pub(crate) metadata: Arc<str>,
    /// The call's last chunk (or a whole returned message).
    pub(crate) last: bool,
    /// A whole message a node returned, written as that message rather than as a chunk.
    pub(crate) returned: bool,
}

/// The one [`ServedGraph`]: a graph whose state reads and writes JSON.
pub(crate) struct Served<G> {
    graph: G,
}

impl<G> Served<G> {
    pub(crate) fn new(graph: G) -> Self {
        Self { graph }
    }
}

/// Every mode at once: the server picks what each client asked for at run time.
pub(crate) type AllModes = (Values, Updates, Messages, Custom, Tasks, Checkpoints);

impl<G> ServedGraph for Served<G>
where
    G: RunNode,
    G::State: Serialize + DeserializeOwned + Default + Durable,
    <G::State as State>::Update: Serialize,
    G::Custom: Serialize,
{
    fn description(&self) -> &'static GraphDescription {
        G::description()
    }

    fn state_schema(&self) -> Value {
        let title = std::any::type_name::<G::State>()
            .rsplit("::")
            .next()
            .unwrap_or("State");
        match serde_json::to_value(G::State::default()) {
            Ok(default) => schema_of(title, &default),
            Err(error) => {
                tracing::error!(%error, "the state's default does not serialize");
                Value::Null
            }
        }
    }

    fn start(&self, input: Value, run: RunSettings) -> Result<RunItems, ApiError> {
        let input: G::State = state_from_input(input)?;
        let config = run_config::<G>(&run)?;
        let stream: GraphStream<G, AllModes> =
            stream::<G, AllModes>(Arc::clone(self.graph.shared_context()), input, config);
        Ok(Box::pin(ModeSelector::<G>::items(stream, run.modes)))
    }

    fn start_on_thread(
        &self,
        begin: Begin,
        run: RunSettings,
        thread: ThreadSettings,
    ) -> BoxFuture<'_, Result<RunItems, ApiError>> {
        Box::pin(thread::start(&self.graph, begin, run, thread))
    }

    fn thread_state(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        at: Option<CheckpointId>,
    ) -> BoxFuture<'_, Result<Option<Value>, ApiError>> {
        Box::pin(async move { thread::state(&self.graph, store, &thread_id, at).await })
    }

    fn thread_history(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        options: ListOptions,
        metadata: Map<String, Value>,
    ) -> BoxFuture<'_, Result<Vec<Value>, ApiError>> {
        Box::pin(async move {
            thread::history(&self.graph, store, &thread_id, options, &metadata).await
        })
    }

    fn update_state(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        values: Value,
        as_node: Option<String>,
        at: Option<CheckpointId>,
    ) -> BoxFuture<'_, Result<Value, ApiError>> {
        Box::pin(async move {
            thread::update_state(&self.graph, store, &thread_id, values, as_node, at).await
        })
    }
}

/// The run's settings as a [`RunConfig`]: its id, subgraphs, recursion limit, tags and
/// metadata.
pub(crate) fn run_config<G: RunNode>(run: &RunSettings) -> Result<RunConfig<G::Tag>, ApiError> {
    let mut config = RunConfig::<G::Tag>::default()
        .run_id(run.run_id)
        .subgraphs(run.subgraphs);
    if let Some(limit) = run.config.recursion_limit {
        config = config.recursion_limit(limit);
    }
    for name in run.config.tags.iter().flatten() {
        let tag = G::Tag::ALL
            .iter()
            .copied()
            .find(|tag| tag.name() == name)
            .ok_or_else(|| unknown_tag::<G::Tag>(name))?;
        config = config.tag(tag);
    }
    for (key, value) in &run.metadata {
        config = config.metadata(key.clone(), value.clone());
    }
    Ok(config)
}

fn unknown_tag<T: GraphTag>(name: &str) -> ApiError {
    let known: Vec<String> = T::ALL
        .iter()
        .map(|tag| format!("`{}`", tag.name()))
        .collect();
    let known = if known.is_empty() {
        "the graph declares none".to_owned()
    } else {
        format!("the graph's tags are {}", known.join(", "))
    };
    ApiError::Unprocessable(format!("config.tags: unknown tag `{name}`; {known}"))
}

/// The input as LangGraph takes it: the fields given, over the state's default. A field the
/// state lacks, or of the wrong type, is a 422 naming it.
fn state_from_input<S: Serialize + DeserializeOwned + Default>(
    input: Value,
) -> Result<S, ApiError> {
    let mut state = serde_json::to_value(S::default()).map_err(ApiError::internal)?;
    match (input, &mut state) {
        (Value::Null, _) => {}
        (Value::Object(given), Value::Object(fields)) => {
            for (key, value) in given {
                if !fields.contains_key(&key) {
                    let known: Vec<String> = fields.keys().map(|key| format!("`{key}`")).collect();
                    return Err(ApiError::Unprocessable(format!(
                        "input: unknown field `{key}`; the state's fields are {}",
                        known.join(", ")
                    )));
                }
                fields.insert(key, value);
            }
        }
        (given, _) => {
            return Err(ApiError::Unprocessable(format!(
                "input: expected an object of the state's fields, got {}",
                json_kind(&given)
            )));
        }
    }
    serde_path_to_error::deserialize(state).map_err(|error| {
        let path = error.path().to_string();
        ApiError::Unprocessable(format!("input.{path}: {}", error.into_inner()))
    })
}

/// A JSON schema with the default value's fields and their JSON types. What a derive would
/// add (descriptions, item types of empty lists, optional fields) is not known here.
fn schema_of(title: &str, default: &Value) -> Value {
    fn type_of(value: &Value) -> Value {
        match value {
            Value::Null => serde_json::json!({}),
            Value::Bool(_) => serde_json::json!({ "type": "boolean" }),
            Value::Number(number) if number.is_f64() => serde_json::json!({ "type": "number" }),
            Value::Number(_) => serde_json::json!({ "type": "integer" }),
            Value::String(_) => serde_json::json!({ "type": "string" }),
            Value::Array(_) => serde_json::json!({ "type": "array" }),
            Value::Object(fields) => serde_json::json!({
                "type": "object",
                "properties": fields.iter().map(|(key, value)| (key.clone(), type_of(value))).collect::<Map<_, _>>(),
            }),
        }
    }
    let mut schema = type_of(default);
    if let Value::Object(map) = &mut schema {
        map.insert("title".into(), Value::String(title.to_owned()));
    }
    schema
}

/// Turns typed items into [`RunItem`]s, keeping and serializing only what the requested
/// modes send.
pub(crate) struct ModeSelector<G: GraphDef> {
    modes: Modes,
    /// The last model call's id and metadata JSON: its chunks share them.
    call: Option<(Arc<str>, Arc<str>)>,
    _graph: std::marker::PhantomData<fn() -> G>,
}

impl<G> ModeSelector<G>
where
    G: GraphDef,
    G::State: Serialize,
    <G::State as State>::Update: Serialize,
    G::Custom: Serialize,
{
    pub(crate) fn new(modes: Modes) -> Self {
        Self {
            modes,
            call: None,
            _graph: std::marker::PhantomData,
        }
    }

    fn items(
        stream: GraphStream<G, AllModes>,
        modes: Modes,
    ) -> impl Stream<Item = Result<RunItem, RunFailure>> + Send + 'static {
        let mut selector = Self::new(modes);
        stream.filter_map(move |item| {
            let item = match item {
                Ok(item) => selector.convert(item).transpose(),
                Err(error) => Some(Err(RunFailure::Graph(error))),
            };
            futures::future::ready(item)
        })
    }

    pub(crate) fn convert(
        &mut self,
        item: StreamItem<G, AllModes>,
    ) -> Result<Option<RunItem>, RunFailure> {
        let modes = self.modes;
        Ok(match item {
            StreamItem::Values(state) if modes.values => {
                Some(RunItem::Values(serde_json::to_string(&state)?))
            }
            StreamItem::Updates(update) if modes.updates => Some(RunItem::Updates {
                ns: update.metadata().namespace().to_vec(),
                json: serde_json::to_string(&update)?,
            }),
            StreamItem::Custom(chunk) if modes.custom => Some(RunItem::Custom {
                ns: chunk.metadata().namespace().to_vec(),
                json: serde_json::to_string(&chunk)?,
            }),
            StreamItem::Tasks(event) if modes.debug || modes.tasks => {
                let debug = serde_json::to_value(&event)?;
                Some(RunItem::Task {
                    ns: event.metadata().namespace().to_vec(),
                    task: if modes.tasks {
                        Some(serde_json::to_string(&debug["payload"])?)
                    } else {
                        None
                    },
                    debug: if modes.debug {
                        Some(serde_json::to_string(&debug)?)
                    } else {
                        None
                    },
                })
            }
            StreamItem::Checkpoints(event) if modes.checkpoints || modes.debug => {
                Some(RunItem::Checkpoint {
                    checkpoint: if modes.checkpoints {
                        Some(serde_json::to_string(&event)?)
                    } else {
                        None
                    },
                    debug: if modes.debug {
                        Some(serde_json::to_string(&DebugCheckpoint(&event))?)
                    } else {
                        None
                    },
                })
            }
            StreamItem::Messages(chunk) if modes.any_messages() => {
                let (id, metadata) = match &self.call {
                    Some((id, metadata)) if **id == *chunk.id() => (id.clone(), metadata.clone()),
                    _ => {
                        let id: Arc<str> = Arc::from(chunk.id());
                        let metadata: Arc<str> =
                            Arc::from(serde_json::to_string(chunk.metadata())?);
                        self.call = Some((id.clone(), metadata.clone()));
                        (id, metadata)
                    }
                };
                let last = chunk.is_last();
                let returned = chunk.metadata().is_returned_message();
                let ns = chunk.metadata().task().namespace().to_vec();
                let model = chunk.metadata().model().cloned();
                Some(RunItem::Message(MessageItem {
                    ns,
                    chunk: chunk.into_chunk(),
                    id,
                    model,
                    metadata,
                    last,
                    returned,
                }))
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Topic {
        topic: String,
        count: u32,
    }

    #[test]
    fn input_fills_the_fields_it_gives_over_the_default() {
        let state: Topic = state_from_input(serde_json::json!({"topic": "cats"})).unwrap();
        assert_eq!(
            state,
            Topic {
                topic: "cats".into(),
                count: 0
            }
        );
        let state: Topic = state_from_input(Value::Null).unwrap();
        assert_eq!(state, Topic::default());
    }

    #[test]
    fn wrong_input_names_the_field() {
        let error = state_from_input::<Topic>(serde_json::json!({"count": "three"})).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("input.count: invalid type: string"),
            "{error}"
        );
        let error = state_from_input::<Topic>(serde_json::json!({"topik": "cats"})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "input: unknown field `topik`; the state's fields are `count`, `topic`"
        );
        let error = state_from_input::<Topic>(serde_json::json!(["cats"])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "input: expected an object of the state's fields, got an array"
        );
    }

    #[test]
    fn the_schema_lists_the_fields_with_their_types() {
        let schema = schema_of("Topic", &serde_json::to_value(Topic::default()).unwrap());
        assert_eq!(
            schema,
            serde_json::json!({
                "title": "Topic",
                "type": "object",
                "properties": {"topic": {"type": "string"}, "count": {"type": "integer"}},
            })
        );
    }
}
