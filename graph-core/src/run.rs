//! The executor: LangGraph's supersteps, driven by whoever polls the stream.
//!
//! Nothing runs unless the consumer polls. Each poll hands out a waiting item if there is
//! one; otherwise it polls the current step's node futures, which put items into a bounded
//! channel as they produce them. When every node of the step has finished, their updates
//! merge in declaration order, the edges and routers pick the next step's nodes, and those
//! start. A slow consumer therefore slows the graph instead of growing memory.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use futures::FutureExt;
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::context::{RunShared, SpawnedTasks};
use crate::error::panic_message;
use crate::metadata::RunMetadata;
use crate::mode::{Event, ModeSet};
use crate::step_futures::StepFutures;
use crate::task_items::TaskEventKind;
use crate::topology::{Edge, Source, Target};
use crate::{
    ChatChunk, GraphDef, GraphError, GraphNode, Message, MessageChunk, MessageMetadata,
    NodeContext, NodeError, NodeUpdate, RunConfig, State, TaskEvent, TaskMetadata,
};

type Update<G> = <<G as GraphDef>::State as State>::Update;
type Caught<T> = Result<T, Box<dyn Any + Send>>;
type NextTaskOf<G> = NextTask<<G as GraphDef>::Node, <G as GraphDef>::State>;

/// A task of the next step.
enum NextTask<N, S> {
    /// Started by edges, with the triggers that started it; it reads the graph's state.
    Pull(N, Vec<&'static str>),
    /// Started by a router's `Send`, with its own input.
    Push(N, S),
}
type TaskFuture<G> = BoxFuture<'static, (usize, Caught<Result<Update<G>, NodeError>>)>;

/// One node of the current step and, once it has finished, its update.
struct StepTask<G: GraphDef> {
    node: G::Node,
    metadata: Arc<TaskMetadata<G::Node>>,
    update: Option<Update<G>>,
    /// It returned, failed or panicked (as opposed to being cancelled by a sibling's failure).
    ended: bool,
}

/// Aborts the run's spawned work when the run goes away, however it goes.
struct AbortSpawnedOnDrop<G: GraphDef>(Arc<RunShared<G>>);

impl<G: GraphDef> Drop for AbortSpawnedOnDrop<G> {
    fn drop(&mut self) {
        // Writers still holding the run (spawned work being aborted) must not wait, and
        // model calls outside it stop reading their model.
        self.0.ended.cancel();
        drop(self.0.buffer.close());
        self.0
            .spawned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }
}

/// The state of one run of a graph.
pub(crate) struct Run<G: GraphDef> {
    shared: AbortSpawnedOnDrop<G>,
    run: Arc<RunMetadata>,
    state: Arc<G::State>,
    step: u64,
    recursion_limit: u32,
    step_tasks: Vec<StepTask<G>>,
    running: StepFutures<TaskFuture<G>>,
    /// For each edge, which of a fan-in's sources have run since it last fired.
    join_seen: Vec<Vec<bool>>,
    /// Items taken from the buffer in one lock, handed out one per poll. When a node
    /// fails, everything the buffer still holds joins them, ahead of the error.
    batch: VecDeque<Event<G>>,
    /// The error that ended the run, handed out after the last item. Boxed: most runs
    /// never fail, and every run carries this field.
    error: Option<Box<GraphError>>,
    started: bool,
    finished: bool,
}

impl<G: GraphDef> Run<G> {
    pub(crate) fn new(
        context: Arc<G::Context>,
        input: G::State,
        modes: ModeSet,
        config: RunConfig<G::Tag>,
    ) -> Self {
        let shared = Arc::new(RunShared {
            context,
            modes,
            buffer: crate::buffer::Buffer::new(config.buffer),
            subgraphs: config.subgraphs,
            // The input's messages are never emitted.
            known_messages: (modes.messages && G::State::HAS_MESSAGES).then(|| {
                let ids = input.messages().iter().filter_map(|m| m.id.clone());
                Box::new(Mutex::new(ids.collect()))
            }),
            tags: config.tags,
            spawned: Mutex::new(SpawnedTasks::default()),
            ended: tokio_util::sync::CancellationToken::new(),
        });
        let join_seen = G::topology()
            .edges()
            .iter()
            .map(|edge| match edge {
                Edge::Join { from, .. } => vec![false; from.len()],
                _ => Vec::new(),
            })
            .collect();
        Self {
            shared: AbortSpawnedOnDrop(shared),
            run: Arc::new(RunMetadata {
                run_id: config.run_id.unwrap_or_else(Uuid::new_v4),
                extra: config.metadata,
                namespace: config.namespace,
            }),
            state: Arc::new(input),
            step: 0,
            recursion_limit: config.recursion_limit,
            step_tasks: Vec::new(),
            running: StepFutures::new(),
            join_seen,
            batch: VecDeque::new(),
            error: None,
            started: false,
            finished: false,
        }
    }

    /// Items produced and not yet handed out: the rest of the batch and what the buffer
    /// holds.
    pub(crate) fn waiting(&self) -> usize {
        self.batch.len() + self.shared.0.buffer.waiting()
    }

    /// The state as of the last finished step.
    pub(crate) fn state(&self) -> &G::State {
        &self.state
    }

    /// Takes the final state out.
    pub(crate) fn into_state(self) -> G::State {
        let Self { state, .. } = self;
        Arc::unwrap_or_clone(state)
    }

    /// Drives the run until it has an item, finishes, or waits on its nodes.
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Event<G>, GraphError>>> {
        loop {
            if let Some(event) = self.batch.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if self.finished {
                return Poll::Ready(self.error.take().map(|error| Err(*error)));
            }
            // No waker yet: if a node below produces an item, it is returned in this
            // same poll, and registering now would only make the task poll itself again.
            if self.shared.0.buffer.take_batch(&mut self.batch) {
                continue;
            }
            if self.running.is_empty() {
                if let Err(error) = self.advance() {
                    self.fail(error);
                }
                continue;
            }
            match self.running.poll_next(cx) {
                Poll::Ready(Some((index, Ok(Ok(update))))) => {
                    self.step_tasks[index].ended = true;
                    // Recording the update clones it: the user's `Clone` of a field may panic.
                    let recorded = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        self.task_finished(index, &update);
                    }));
                    match recorded {
                        Ok(()) => self.step_tasks[index].update = Some(update),
                        Err(panic) => {
                            let node = self.step_tasks[index].node.name();
                            let step = self.step;
                            let message =
                                format!("cloning its update panicked: {}", panic_message(&*panic));
                            self.fail(GraphError::NodePanicked {
                                node,
                                step,
                                message,
                            });
                        }
                    }
                }
                Poll::Ready(Some((index, Ok(Err(error))))) => {
                    let node = self.step_tasks[index].node.name();
                    let step = self.step;
                    self.task_failed(index, error.to_string());
                    self.fail(GraphError::Node {
                        node,
                        step,
                        source: error.into_inner(),
                    });
                }
                Poll::Ready(Some((index, Err(panic)))) => {
                    let node = self.step_tasks[index].node.name();
                    let step = self.step;
                    let message = panic_message(&*panic);
                    self.task_failed(index, format!("panicked: {message}"));
                    self.fail(GraphError::NodePanicked {
                        node,
                        step,
                        message,
                    });
                }
                Poll::Ready(None) => {}
                Poll::Pending => {
                    // A node may have produced an item in this very poll before it waited.
                    // Registers the reader so that spawned work writing from elsewhere wakes
                    // the stream.
                    ready!(self.shared.0.buffer.poll_batch(cx, &mut self.batch));
                }
            }
        }
    }

    /// Records a finished task for messages, updates and debug mode, after everything it
    /// wrote: first the new messages it returns, then its update.
    fn task_finished(&self, index: usize, update: &Update<G>) {
        let shared = &self.shared.0;
        let metadata = &self.step_tasks[index].metadata;
        if shared.modes.messages && G::State::HAS_MESSAGES {
            self.emit_returned_messages(metadata, G::State::update_messages(update));
        }
        if shared.modes.updates {
            let item = NodeUpdate::new(update.clone(), Arc::clone(metadata));
            shared.buffer.push_now(Event::Update(Box::new(item)));
        }
        if shared.modes.debug {
            let kind = TaskEventKind::Finished {
                update: update.clone(),
            };
            let item = TaskEvent::new(Arc::clone(metadata), kind);
            shared.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// Emits each message a node returned that was not streamed, hidden, or in the input,
    /// once, as one item holding the whole message, labelled with the node's task.
    fn emit_returned_messages(&self, task: &Arc<TaskMetadata<G::Node>>, messages: &[Message]) {
        let shared = &self.shared.0;
        let Some(known) = &shared.known_messages else {
            return;
        };
        let mut known = known.lock().unwrap_or_else(PoisonError::into_inner);
        for message in messages {
            let id = match &message.id {
                Some(id) if !known.insert(id.clone()) => continue,
                Some(id) => id.clone(),
                None => format!("run-{}", Uuid::new_v4()),
            };
            let metadata = Arc::new(MessageMetadata::returned(Arc::clone(task), id));
            let chunk = MessageChunk::new(ChatChunk::whole(message), metadata);
            shared.buffer.push_now(Event::Message(chunk));
        }
    }

    fn task_failed(&mut self, index: usize, error: String) {
        self.step_tasks[index].ended = true;
        let shared = &self.shared.0;
        if shared.modes.debug {
            let metadata = Arc::clone(&self.step_tasks[index].metadata);
            let item = TaskEvent::new(metadata, TaskEventKind::Failed { error });
            shared.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// The state for values mode, after the input or a step that wrote to it.
    fn emit_values(&self) {
        if self.shared.0.modes.values {
            let state = Arc::clone(&self.state);
            self.shared.0.buffer.push_now(Event::Values(state));
        }
    }

    /// Ends the run with `error`, after everything produced before it.
    fn fail(&mut self, error: GraphError) {
        // Dropping the other nodes cancels their model calls; aborting spawned work stops
        // it from producing more. What they produced already is still delivered.
        self.running.clear();
        self.abort_spawned();
        if self.shared.0.modes.debug {
            // Debug mode closes every task it opened: the siblings that were cancelled too.
            let cancelled: Vec<usize> = (0..self.step_tasks.len())
                .filter(|index| !self.step_tasks[*index].ended)
                .collect();
            for index in cancelled {
                self.task_failed(index, "cancelled: another task of the step failed".into());
            }
        }
        self.drain_and_close();
        self.error = Some(Box::new(error));
        self.finished = true;
    }

    /// Moves what the buffer holds to the items handed out next, then closes it, so that a
    /// writer outside the run (a `Writer` clone on another thread) never waits on a run
    /// that has ended.
    fn drain_and_close(&mut self) {
        self.shared.0.ended.cancel();
        let mut rest = self.shared.0.buffer.close();
        self.batch.append(&mut rest);
    }

    fn abort_spawned(&self) {
        self.shared
            .0
            .spawned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }

    /// Ends the step that just finished and starts the next one, or finishes the run.
    fn advance(&mut self) -> Result<(), GraphError> {
        let sources: Vec<Source<G::Node>> = if self.started {
            let step_tasks = std::mem::take(&mut self.step_tasks);
            let mut ran = Vec::with_capacity(step_tasks.len());
            let mut updates = Vec::with_capacity(step_tasks.len());
            for task in step_tasks {
                ran.push(Source::Node(task.node));
                if let Some(update) = task.update {
                    updates.push((task.node.name(), update));
                }
            }
            let step = self.step;
            let wrote = updates
                .iter()
                .any(|(_, update)| !G::State::is_empty_update(update));
            merge_step(&mut self.state, updates, step)?;
            if wrote {
                self.emit_values();
            }
            ran
        } else {
            self.started = true;
            self.emit_values();
            vec![Source::Start]
        };

        let next = self.next_tasks(&sources)?;
        if next.is_empty() {
            self.finished = true;
            // Items sent by spawned work before the end still go out; nothing is dropped.
            self.abort_spawned();
            self.drain_and_close();
            return Ok(());
        }
        if self.step >= u64::from(self.recursion_limit) {
            return Err(GraphError::RecursionLimit {
                limit: self.recursion_limit,
            });
        }
        self.step += 1;
        let mut pushed = 0;
        for task in next {
            match task {
                NextTask::Pull(node, triggers) => {
                    let metadata =
                        TaskMetadata::new(self.step, node, triggers, Arc::clone(&self.run));
                    self.start(node, metadata, Arc::clone(&self.state));
                }
                NextTask::Push(node, input) => {
                    let metadata =
                        TaskMetadata::pushed(self.step, node, pushed, Arc::clone(&self.run));
                    pushed += 1;
                    self.start(node, metadata, Arc::new(input));
                }
            }
        }
        Ok(())
    }

    /// The nodes triggered by `sources` having run, in declaration order, with triggers.
    fn next_tasks(
        &mut self,
        sources: &[Source<G::Node>],
    ) -> Result<Vec<NextTaskOf<G>>, GraphError> {
        let mut triggered: Vec<Vec<&'static str>> = vec![Vec::new(); G::Node::ALL.len()];
        let mut pushes = Vec::new();
        let mut trigger = |target: Target<G::Node>, why: Option<&'static str>| {
            if let Target::Node(node) = target {
                let why = why.unwrap_or_else(|| node.branch_trigger());
                let slot = &mut triggered[node.index()];
                if !slot.contains(&why) {
                    slot.push(why);
                }
            }
        };
        for (edge, seen) in G::topology().edges().iter().zip(&mut self.join_seen) {
            match edge {
                Edge::Direct { from, to } => {
                    if sources.contains(from) {
                        trigger(*to, None);
                    }
                }
                Edge::Join {
                    from,
                    to,
                    trigger: why,
                } => {
                    for (waits_for, seen) in from.iter().zip(seen.iter_mut()) {
                        *seen |= sources.contains(&Source::Node(*waits_for));
                    }
                    if seen.iter().all(|seen| *seen) {
                        seen.iter_mut().for_each(|seen| *seen = false);
                        trigger(*to, Some(why));
                    }
                }
                Edge::Routed {
                    from,
                    router,
                    route,
                } => {
                    if sources.contains(from) {
                        let target = call_router(&*self.state, self.step, router, *route)?;
                        trigger(target, None);
                    }
                }
                Edge::Send { from, router, send } => {
                    if sources.contains(from) {
                        pushes.extend(call_router(&*self.state, self.step, router, *send)?);
                    }
                }
            }
        }
        let pulls = G::Node::ALL
            .iter()
            .zip(triggered)
            .filter(|(_, triggers)| !triggers.is_empty())
            .map(|(node, triggers)| NextTask::Pull(*node, triggers));
        let pushes = pushes
            .into_iter()
            .map(|(node, input)| NextTask::Push(node, input));
        Ok(pulls.chain(pushes).collect())
    }

    fn start(&mut self, node: G::Node, task: TaskMetadata<G::Node>, input: Arc<G::State>) {
        let task = Arc::new(task);
        if self.shared.0.modes.debug {
            let kind = TaskEventKind::Started {
                input: Arc::clone(&input),
            };
            let item = TaskEvent::new(Arc::clone(&task), kind);
            self.shared.0.buffer.push_now(Event::Task(Box::new(item)));
        }
        let ctx = NodeContext::new(Arc::clone(&self.shared.0), Arc::clone(&task));
        let index = self.step_tasks.len();
        self.step_tasks.push(StepTask {
            node,
            metadata: task,
            update: None,
            ended: false,
        });
        let future = AssertUnwindSafe(G::run_node(node, input, ctx)).catch_unwind();
        self.running
            .push(Box::pin(future.map(move |outcome| (index, outcome))));
    }
}

/// Merges a step's updates all or nothing: after a conflict, or a panic in a user's reducer
/// or in the state's `Clone`, the state is as it was before the step.
fn merge_step<S: State>(
    state: &mut Arc<S>,
    updates: Vec<(&'static str, S::Update)>,
    step: u64,
) -> Result<(), GraphError> {
    let merged = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if S::MERGES_IN_PLACE {
            // Nothing in the merge can stop halfway: a conflict is found before anything
            // is written, and a clone made here (the state is shared) is made first.
            Arc::make_mut(state).merge(updates)
        } else {
            let mut next = S::clone(state);
            next.merge(updates)?;
            *state = Arc::new(next);
            Ok(())
        }
    }));
    match merged {
        Ok(result) => result.map_err(|conflict| GraphError::ConflictingUpdate { step, conflict }),
        Err(panic) => Err(GraphError::MergePanicked {
            step,
            message: panic_message(&*panic),
        }),
    }
}

/// Calls a user's router on the state, turning a panic into an error.
fn call_router<S, T>(
    state: &S,
    step: u64,
    router: &'static str,
    route: fn(&S) -> T,
) -> Result<T, GraphError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| route(state))).map_err(|panic| {
        GraphError::RouterPanicked {
            router,
            step,
            message: panic_message(&*panic),
        }
    })
}
