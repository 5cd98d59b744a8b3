//! What the server does with a registered graph on a thread: starts runs from an input or
//! a command, reads its state and history as LangGraph's `ThreadState`, updates it, and
//! keeps the thread's record in step with each run's outcome.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt as _;
use serde::Serialize;
use serde_json::{Map, Value, json};
use stategraph_core::__private::RunNode;
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, CheckpointMeta, Checkpointer, Durable, ThreadChange,
    ThreadStatus,
};
use stategraph_core::{
    Command, Durability, GraphError, GraphNode, GraphStream, GraphTag, Interrupt, SentInput, State,
    StateSnapshot, Thread,
};
use uuid::Uuid;

use super::{AllModes, ModeSelector, RunFailure, RunItem, RunItems, RunSettings};
use crate::error::ApiError;
use crate::request::{Begin, Breakpoints, CancelAction, CommandBody, Goto, Modes, json_kind};

/// What a run on a thread is started with, besides [`RunSettings`].
pub(crate) struct ThreadSettings {
    pub(crate) store: Arc<dyn Checkpointer>,
    pub(crate) thread_id: String,
    pub(crate) interrupt_before: Option<Breakpoints>,
    pub(crate) interrupt_after: Option<Breakpoints>,
    /// The checkpoint to fork from.
    pub(crate) checkpoint_id: Option<CheckpointId>,
    pub(crate) durability: Option<Durability>,
    /// Tells the run to stop: it drops the graph's stream (closing its model requests),
    /// on `rollback` deletes the checkpoints it wrote, brings the record up to date, and
    /// ends.
    pub(crate) stop: Option<tokio::sync::watch::Receiver<Option<CancelAction>>>,
}

/// How a thread's run ended, for its record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ended {
    Done,
    Failed,
    /// Stopped by a cancel or a later run: the thread is idle again.
    Stopped,
}

/// The graph's thread `thread_id`.
fn thread_of<G>(graph: &G, store: Arc<dyn Checkpointer>, thread_id: &str) -> Thread<G>
where
    G: RunNode,
    G::State: Durable + Default,
{
    Thread::new(Arc::clone(graph.shared_context()), store, thread_id)
}

/// The node named `name`, or a 422 naming `field` and the graph's nodes.
fn node_named<N: GraphNode>(field: &str, name: &str) -> Result<N, ApiError> {
    N::ALL
        .iter()
        .copied()
        .find(|node| node.name() == name)
        .ok_or_else(|| {
            let known: Vec<String> = N::ALL
                .iter()
                .map(|node| format!("`{}`", node.name()))
                .collect();
            ApiError::Unprocessable(format!(
                "{field}: unknown node `{name}`; the graph's nodes are {}",
                known.join(", ")
            ))
        })
}

/// An update as the state's update type, or a 422 naming the field.
fn update_from<G: RunNode>(
    field: &str,
    json: Map<String, Value>,
) -> Result<<G::State as State>::Update, ApiError>
where
    G::State: Durable,
{
    G::State::update_from_json(json).map_err(|error| match error {
        CheckpointError::StateShape {
            field: name,
            detail,
        } => ApiError::Unprocessable(format!("{field}.{name}: {detail}")),
        other => ApiError::Unprocessable(format!("{field}: {other}")),
    })
}

/// The errors of starting a run or writing to a thread, as the client sees them.
pub(crate) fn start_error(error: GraphError) -> ApiError {
    match error {
        GraphError::Checkpoint(CheckpointError::ThreadBusy { thread }) => ApiError::Conflict(
            format!("Thread '{thread}' is busy: a run holds it (multitask_strategy `reject`)"),
        ),
        GraphError::Checkpoint(CheckpointError::NotFound { thread, at: None }) => {
            ApiError::Unprocessable(format!(
                "command: thread '{thread}' has no checkpoint to go on from; start it with an input"
            ))
        }
        GraphError::Checkpoint(CheckpointError::NotFound {
            thread,
            at: Some(id),
        }) => ApiError::NotFound(format!("Thread '{thread}' has no checkpoint '{id}'")),
        GraphError::Checkpoint(error @ CheckpointError::StateShape { .. }) => other_shape(&error),
        error @ GraphError::CannotResume { .. } => ApiError::Unprocessable(error.to_string()),
        error @ GraphError::ConflictingUpdate { .. } => ApiError::Unprocessable(error.to_string()),
        other => ApiError::internal(other),
    }
}

/// A thread whose stored state another graph wrote (a field this graph's state lacks, or
/// of another type): a 409 naming the field, never a state decoded wrong.
fn other_shape(error: &CheckpointError) -> ApiError {
    ApiError::Conflict(format!(
        "this graph cannot read the thread's state: {error}. A thread keeps the state of the graph that first ran on it; run this graph on a new thread"
    ))
}

/// Starts a run of `graph` on a thread: takes the thread (a 409 when another run holds
/// it), and returns its items, which end by bringing the thread's record up to date.
pub(crate) async fn start<G>(
    graph: &G,
    begin: Begin,
    run: RunSettings,
    settings: ThreadSettings,
) -> Result<RunItems, ApiError>
where
    G: RunNode,
    G::State: Serialize + Durable + Default,
    <G::State as State>::Update: Serialize,
    G::Custom: Serialize,
{
    let thread = thread_of(graph, Arc::clone(&settings.store), &settings.thread_id);
    let mut config = super::run_config::<G>(&run)?;
    for (breakpoints, before) in [
        (&settings.interrupt_before, true),
        (&settings.interrupt_after, false),
    ] {
        let field = if before {
            "interrupt_before"
        } else {
            "interrupt_after"
        };
        let nodes: Vec<<G::Tag as GraphTag>::Node> = match breakpoints {
            None => Vec::new(),
            Some(Breakpoints::All) => <G::Tag as GraphTag>::Node::ALL.to_vec(),
            Some(Breakpoints::Nodes(names)) => names
                .iter()
                .map(|name| node_named(field, name))
                .collect::<Result<_, _>>()?,
        };
        for node in nodes {
            config = if before {
                config.interrupt_before(node)
            } else {
                config.interrupt_after(node)
            };
        }
    }
    if let Some(id) = settings.checkpoint_id {
        config = config.checkpoint_id(id);
    }
    if let Some(durability) = settings.durability {
        config = config.durability(durability);
    }
    let stream: GraphStream<G, AllModes> = match begin {
        // No input goes on from where the thread stopped, as LangGraph's `input=None`; on
        // a thread with no checkpoint yet, it starts from the state's default.
        Begin::Input(Value::Null) if thread.state().await.map_err(start_error)?.is_some() => thread
            .command_with(Command::proceed(), AllModes::default(), config)
            .await
            .map_err(start_error)?,
        Begin::Input(input) => {
            let update = match input {
                Value::Null => <G::State as State>::Update::default(),
                Value::Object(fields) => update_from::<G>("input", fields)?,
                other => {
                    return Err(ApiError::Unprocessable(format!(
                        "input: expected an object of the state's fields, got {}",
                        json_kind(&other)
                    )));
                }
            };
            thread
                .stream_with(update, AllModes::default(), config)
                .await
                .map_err(start_error)?
        }
        Begin::Command(body) => {
            let command = command_of::<G>(&thread, body).await?;
            thread
                .command_with(command, AllModes::default(), config)
                .await
                .map_err(start_error)?
        }
    };
    Ok(Box::pin(items(
        stream,
        run,
        thread,
        settings.store,
        settings.stop,
    )))
}

/// The command `body` asks for. A `resume` object whose keys are all ids of interrupts
/// pending on the thread answers them by id, as LangGraph reads it; any other value
/// answers the one pending interrupt.
async fn command_of<G>(thread: &Thread<G>, body: CommandBody) -> Result<Command<G>, ApiError>
where
    G: RunNode,
    G::State: Durable + Default,
{
    let mut command = match body.resume {
        None => Command::proceed(),
        Some(Value::Object(answers)) if !answers.is_empty() => {
            let pending: Vec<String> = match thread.state().await.map_err(start_error)? {
                Some(snapshot) => snapshot
                    .interrupts
                    .iter()
                    .map(|interrupt| interrupt.id().to_owned())
                    .collect(),
                None => Vec::new(),
            };
            if answers.keys().all(|id| pending.contains(id)) {
                Command::resume_by_id(answers)
            } else {
                Command::resume(Value::Object(answers))
            }
        }
        Some(value) => Command::resume(value),
    };
    if let Some(update) = body.update {
        command = command.update(update_from::<G>("command.update", update)?);
    }
    for target in body.goto {
        command = match target.to {
            Goto::Node(name) => command.goto(node_named(&target.field, &name)?),
            Goto::Send { node, input } => {
                let node = node_named(&format!("{}.node", target.field), &node)?;
                command.send(sent_input::<G>(&target.field, node, input)?)
            }
        };
    }
    Ok(command)
}

/// The typed input of a Send to `node` read from `input`: for a node that takes the state,
/// the state's fields over its `Default`, as a run's input; for one that takes an input of
/// its own, that type read through serde. A wrong input is a 422 naming `{field}.input`.
fn sent_input<G>(field: &str, node: G::Node, input: Value) -> Result<G::Sent, ApiError>
where
    G: RunNode,
    G::State: Durable + Default,
{
    let field = format!("{field}.input");
    if G::Sent::from_state(node, G::State::default()).is_none() {
        return G::Sent::payload_from_json(node, input)
            .map_err(|detail| ApiError::Unprocessable(format!("{field}: {detail}")));
    }
    let fields = match input {
        Value::Null => Map::new(),
        Value::Object(fields) => fields,
        other => {
            return Err(ApiError::Unprocessable(format!(
                "{field}: `{}` takes the state: expected an object of the state's fields, got {}",
                node.name(),
                json_kind(&other)
            )));
        }
    };
    let mut state = G::State::default();
    state
        .merge(vec![("__send__", update_from::<G>(&field, fields)?)])
        .map_err(|conflict| ApiError::Unprocessable(format!("{field}: {conflict}")))?;
    G::Sent::from_state(node, state)
        .ok_or_else(|| ApiError::internal("a node that takes the state took no state"))
}

/// What the item stream of a thread run holds between items.
struct ThreadRun<G: RunNode>
where
    G::State: Durable + Default,
{
    stream: Option<GraphStream<G, AllModes>>,
    selector: ModeSelector<G>,
    /// Items to hand out before going on: the interrupt, the failure.
    ready: VecDeque<Result<RunItem, RunFailure>>,
    /// Brings the record up to date if the run is dropped before it ends.
    record: RecordGuard<G>,
    stop: Option<tokio::sync::watch::Receiver<Option<CancelAction>>>,
    run_id: String,
}

/// The first stop asked; never ends when none can come any more.
async fn stop_asked(stop: &mut tokio::sync::watch::Receiver<Option<CancelAction>>) -> CancelAction {
    loop {
        if let Some(action) = *stop.borrow_and_update() {
            return action;
        }
        if stop.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Updates the thread's record after the run; when dropped before (a client that
/// disconnects with `on_disconnect=cancel`), does it in a task of its own.
struct RecordGuard<G: RunNode>
where
    G::State: Durable + Default,
{
    thread: Option<(Thread<G>, Arc<dyn Checkpointer>)>,
}

impl<G: RunNode> RecordGuard<G>
where
    G::State: Durable + Default + Serialize,
{
    async fn finish(&mut self, ended: Ended) -> Option<Value> {
        let (thread, store) = self.thread.take()?;
        refresh_after(&thread, &*store, ended).await
    }
}

impl<G: RunNode> RecordGuard<G>
where
    G::State: Durable + Default,
{
    /// Deletes the checkpoints run `run_id` wrote.
    async fn roll_back(&self, run_id: &str) {
        if let Some((thread, store)) = &self.thread
            && let Err(error) = store.delete_run_checkpoints(thread.id(), run_id).await
        {
            tracing::error!(%error, thread = thread.id(), "could not roll a run back");
        }
    }
}

impl<G: RunNode> Drop for RecordGuard<G>
where
    G::State: Durable + Default,
{
    fn drop(&mut self) {
        if let Some((thread, store)) = self.thread.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(refresh_record_erased(thread, store));
        }
    }
}

/// [`refresh_record`] for a thread whose state is only known to be [`Durable`] (what a
/// `Drop` can name): the values are read back as stored JSON.
async fn refresh_record_erased<G: RunNode>(thread: Thread<G>, store: Arc<dyn Checkpointer>)
where
    G::State: Durable + Default,
{
    let snapshot = match thread.state().await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            tracing::error!(%error, thread = thread.id(), "could not read a cancelled run's thread");
            None
        }
    };
    let change = match snapshot {
        Some(snapshot) => match G::State::to_values(&snapshot.values) {
            Ok(values) => record_change(&snapshot, Value::Object(values), false),
            Err(error) => {
                tracing::error!(%error, "a state does not serialize");
                status_only(ThreadStatus::Idle)
            }
        },
        None => status_only(ThreadStatus::Idle),
    };
    write_record(&*store, thread.id(), change).await;
}

fn status_only(status: ThreadStatus) -> ThreadChange {
    ThreadChange {
        status: Some(status),
        ..ThreadChange::default()
    }
}

/// Reads the thread's newest checkpoint and writes the record: its state, its interrupts
/// and its status (error when the run failed, interrupted when the checkpoint has
/// interrupts pending or nodes due, else idle). Returns the state as JSON.
pub(crate) async fn refresh_record<G>(
    thread: &Thread<G>,
    store: &dyn Checkpointer,
    failed: bool,
) -> Option<Value>
where
    G: RunNode,
    G::State: Durable + Default + Serialize,
{
    let ended = if failed { Ended::Failed } else { Ended::Done };
    refresh_after(thread, store, ended).await
}

/// [`refresh_record`] after a run that ended as `ended`.
async fn refresh_after<G>(
    thread: &Thread<G>,
    store: &dyn Checkpointer,
    ended: Ended,
) -> Option<Value>
where
    G: RunNode,
    G::State: Durable + Default + Serialize,
{
    let failed = ended == Ended::Failed;
    let snapshot = match thread.state().await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            tracing::error!(%error, thread = thread.id(), "could not read the thread's state");
            None
        }
    };
    let Some(snapshot) = snapshot else {
        let change = match ended {
            Ended::Failed => status_only(ThreadStatus::Error),
            Ended::Done => status_only(ThreadStatus::Idle),
            // A rolled-back first run leaves no checkpoint: no state either.
            Ended::Stopped => ThreadChange {
                values: Some(Value::Null),
                interrupts: Some(Map::new()),
                ..status_only(ThreadStatus::Idle)
            },
        };
        write_record(store, thread.id(), change).await;
        return None;
    };
    let values = match serde_json::to_value(&snapshot.values) {
        Ok(values) => values,
        Err(error) => {
            tracing::error!(%error, "a state does not serialize");
            Value::Null
        }
    };
    let mut change = record_change(&snapshot, values.clone(), failed);
    if ended == Ended::Stopped {
        change.status = Some(ThreadStatus::Idle);
    }
    write_record(store, thread.id(), change).await;
    Some(values)
}

fn record_change<G: RunNode>(
    snapshot: &StateSnapshot<G>,
    values: Value,
    failed: bool,
) -> ThreadChange {
    let status = if failed {
        ThreadStatus::Error
    } else if !snapshot.interrupts.is_empty() || !snapshot.next.is_empty() {
        ThreadStatus::Interrupted
    } else {
        ThreadStatus::Idle
    };
    let interrupts = tasks_of(snapshot)
        .into_iter()
        .filter_map(|mut task| {
            let list = task.get_mut("interrupts").map(Value::take)?;
            let Value::String(id) = task.get_mut("id").map(Value::take)? else {
                return None;
            };
            (list.as_array().is_some_and(|list| !list.is_empty())).then_some((id, list))
        })
        .collect();
    ThreadChange {
        metadata: Map::new(),
        status: Some(status),
        values: Some(values),
        interrupts: Some(interrupts),
    }
}

async fn write_record(store: &dyn Checkpointer, thread_id: &str, change: ThreadChange) {
    if let Err(error) = store.update_thread(thread_id, change).await {
        tracing::error!(%error, thread = thread_id, "could not update the thread's record");
    }
}

fn interrupt_json(interrupt: &Interrupt) -> Value {
    json!({ "value": interrupt.value(), "id": interrupt.id() })
}

/// The tasks due after a checkpoint, as LangGraph's `ThreadTask`s: one per node due, its
/// id derived from the checkpoint and the node (the same on every read), with the
/// interrupts that node asked.
fn tasks_of<G: RunNode>(snapshot: &StateSnapshot<G>) -> Vec<Value> {
    snapshot
        .next
        .iter()
        .map(|node| {
            let name = node.name();
            let interrupts: Vec<Value> = snapshot
                .interrupts
                .iter()
                .filter(|interrupt| interrupt.node() == name)
                .map(interrupt_json)
                .collect();
            json!({
                "id": task_id(snapshot.checkpoint_id, name),
                "name": name,
                "path": ["__pregel_pull", name],
                "error": null,
                "interrupts": interrupts,
                "checkpoint": null,
                "state": null,
                "result": null,
            })
        })
        .collect()
}

fn task_id(checkpoint: CheckpointId, node: &str) -> Uuid {
    Uuid::new_v5(&checkpoint.as_uuid(), node.as_bytes())
}

/// `{"thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map"}`.
pub(crate) fn checkpoint_json(thread_id: &str, id: CheckpointId) -> Value {
    json!({
        "thread_id": thread_id,
        "checkpoint_ns": "",
        "checkpoint_id": id.to_string(),
        "checkpoint_map": null,
    })
}

/// A checkpoint's `metadata` as LangGraph's server shows it.
fn metadata_json(meta: &CheckpointMeta) -> Map<String, Value> {
    let mut metadata = Map::new();
    metadata.insert("source".into(), json!(meta.source.as_str()));
    metadata.insert("step".into(), json!(meta.step));
    metadata.insert("parents".into(), json!({}));
    if let Some(run_id) = &meta.run_id {
        metadata.insert("run_id".into(), json!(run_id));
    }
    metadata
}

/// The thread's state at checkpoint `meta` as LangGraph's `ThreadState`.
async fn state_json<G>(thread: &Thread<G>, meta: &CheckpointMeta) -> Result<Option<Value>, ApiError>
where
    G: RunNode,
    G::State: Durable + Default + Serialize,
{
    let snapshot = thread
        .state_at(meta.id)
        .await
        .map_err(|error| match error {
            GraphError::Checkpoint(error @ CheckpointError::StateShape { .. }) => {
                other_shape(&error)
            }
            other => ApiError::internal(other),
        })?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let thread_id = thread.id();
    let next: Vec<&str> = snapshot.next.iter().map(|node| node.name()).collect();
    let metadata = metadata_json(meta);
    Ok(Some(json!({
        "values": serde_json::to_value(&snapshot.values).map_err(ApiError::internal)?,
        "next": next,
        "checkpoint": checkpoint_json(thread_id, snapshot.checkpoint_id),
        "metadata": metadata,
        "created_at": humantime::format_rfc3339_micros(snapshot.created_at).to_string(),
        "parent_checkpoint": snapshot.parent_id.map(|id| checkpoint_json(thread_id, id)),
        "tasks": tasks_of(&snapshot),
        "interrupts": snapshot.interrupts.iter().map(interrupt_json).collect::<Vec<_>>(),
    })))
}

/// `GET /threads/{id}/state[/{checkpoint_id}]`: the newest checkpoint, or `at`; `None`
/// when there is no such checkpoint.
pub(crate) async fn state<G>(
    graph: &G,
    store: Arc<dyn Checkpointer>,
    thread_id: &str,
    at: Option<CheckpointId>,
) -> Result<Option<Value>, ApiError>
where
    G: RunNode,
    G::State: Durable + Default + Serialize,
{
    let thread = thread_of(graph, Arc::clone(&store), thread_id);
    let meta = match at {
        Some(id) => store
            .get(thread_id, "", Some(id))
            .await
            .map_err(ApiError::internal)?
            .map(|checkpoint| checkpoint.meta),
        None => store
            .list(
                thread_id,
                "",
                stategraph_core::checkpoint::ListOptions {
                    limit: Some(1),
                    before: None,
                },
            )
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .next(),
    };
    match meta {
        Some(meta) => state_json(&thread, &meta).await,
        None => Ok(None),
    }
}

/// `POST /threads/{id}/history`: the states of the thread's checkpoints, newest first;
/// with `metadata`, only those whose metadata holds each of its keys with the same value
/// (as a thread search matches metadata).
pub(crate) async fn history<G>(
    graph: &G,
    store: Arc<dyn Checkpointer>,
    thread_id: &str,
    options: stategraph_core::checkpoint::ListOptions,
    metadata: &Map<String, Value>,
) -> Result<Vec<Value>, ApiError>
where
    G: RunNode,
    G::State: Durable + Default + Serialize,
{
    let thread = thread_of(graph, Arc::clone(&store), thread_id);
    // A filter is applied to the checkpoints' metadata before any state is read back, so
    // `limit` counts matching checkpoints and only theirs are folded.
    let limit = options.limit;
    let listed = if metadata.is_empty() {
        options
    } else {
        stategraph_core::checkpoint::ListOptions {
            limit: None,
            ..options
        }
    };
    let mut metas = store
        .list(thread_id, "", listed)
        .await
        .map_err(ApiError::internal)?;
    if !metadata.is_empty() {
        metas.retain(|meta| {
            let held = metadata_json(meta);
            metadata
                .iter()
                .all(|(key, value)| held.get(key) == Some(value))
        });
        metas.truncate(limit.unwrap_or(usize::MAX));
    }
    let mut states = Vec::with_capacity(metas.len());
    for meta in &metas {
        if let Some(state) = state_json(&thread, meta).await? {
            states.push(state);
        }
    }
    Ok(states)
}

/// `POST /threads/{id}/state`: writes a checkpoint with `values` applied as if `as_node`
/// returned them, brings the record up to date, and returns the new checkpoint.
pub(crate) async fn update_state<G>(
    graph: &G,
    store: Arc<dyn Checkpointer>,
    thread_id: &str,
    values: Value,
    as_node: Option<String>,
    at: Option<CheckpointId>,
) -> Result<Value, ApiError>
where
    G: RunNode,
    G::State: Durable + Default + Serialize,
{
    let thread = thread_of(graph, Arc::clone(&store), thread_id);
    let update = match values {
        Value::Null => <G::State as State>::Update::default(),
        Value::Object(fields) => update_from::<G>("values", fields)?,
        other => {
            return Err(ApiError::Unprocessable(format!(
                "values: expected an object of the state's fields, got {}",
                json_kind(&other)
            )));
        }
    };
    let as_node = as_node
        .map(|name| node_named::<G::Node>("as_node", &name))
        .transpose()?;
    let id = match at {
        Some(at) => thread.update_state_at(at, update, as_node).await,
        None => thread.update_state(update, as_node).await,
    }
    .map_err(start_error)?;
    refresh_record(&thread, &*store, false).await;
    Ok(json!({ "checkpoint": checkpoint_json(thread_id, id) }))
}

/// The run's items, then the interrupt it stopped on (in the values and updates shapes),
/// with the record brought up to date before the last item.
fn items<G>(
    stream: GraphStream<G, AllModes>,
    run: RunSettings,
    thread: Thread<G>,
    store: Arc<dyn Checkpointer>,
    stop: Option<tokio::sync::watch::Receiver<Option<CancelAction>>>,
) -> impl futures::Stream<Item = Result<RunItem, RunFailure>> + Send + 'static
where
    G: RunNode,
    G::State: Serialize + Durable + Default,
    <G::State as State>::Update: Serialize,
    G::Custom: Serialize,
{
    let modes = run.modes;
    let state = ThreadRun {
        stream: Some(stream),
        selector: ModeSelector::new(modes),
        ready: VecDeque::new(),
        record: RecordGuard {
            thread: Some((thread, store)),
        },
        stop,
        run_id: run.run_id.to_string(),
    };
    futures::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(item) = state.ready.pop_front() {
                return Some((item, state));
            }
            let stream = state.stream.as_mut()?;
            let next = match state.stop.as_mut() {
                Some(stop) => tokio::select! {
                    biased;
                    action = stop_asked(stop) => Err(action),
                    item = stream.next() => Ok(item),
                },
                None => Ok(stream.next().await),
            };
            let next = match next {
                Ok(next) => next,
                Err(action) => {
                    // Dropping the stream stops the run where it is and gives the thread up.
                    state.stream = None;
                    if action == CancelAction::Rollback {
                        state.record.roll_back(&state.run_id).await;
                    }
                    state.record.finish(Ended::Stopped).await;
                    return None;
                }
            };
            match next {
                Some(Ok(item)) => match state.selector.convert(item) {
                    Ok(Some(item)) => return Some((Ok(item), state)),
                    Ok(None) => {}
                    Err(failure) => {
                        state.stream = None;
                        state.record.finish(Ended::Failed).await;
                        state.ready.push_back(Err(failure));
                    }
                },
                Some(Err(error)) => {
                    state.stream = None;
                    state.record.finish(Ended::Failed).await;
                    state.ready.push_back(Err(RunFailure::Graph(error)));
                }
                None => {
                    let stopped = stream.interrupted().map(<[Interrupt]>::to_vec);
                    state.stream = None;
                    let snapshot = state.record.finish(Ended::Done).await;
                    if let Some(interrupts) = stopped {
                        let interrupts = interrupts.iter().map(interrupt_json).collect();
                        state
                            .ready
                            .push_back(interrupt_item(modes, snapshot, interrupts));
                    }
                }
            }
        }
    })
}

/// The events of a run that stopped: in values mode the state with `"__interrupt__"`, in
/// updates mode `{"__interrupt__": [...]}`, as LangGraph's server sends them.
fn interrupt_item(
    modes: Modes,
    values: Option<Value>,
    interrupts: Vec<Value>,
) -> Result<RunItem, RunFailure> {
    let values = match values {
        Some(Value::Object(mut state)) if modes.values && !interrupts.is_empty() => {
            state.insert("__interrupt__".into(), Value::Array(interrupts.clone()));
            Some(serde_json::to_string(&state)?)
        }
        _ => None,
    };
    let updates = if modes.updates {
        Some(serde_json::to_string(
            &json!({ "__interrupt__": interrupts }),
        )?)
    } else {
        None
    };
    Ok(RunItem::Interrupt { values, updates })
}
