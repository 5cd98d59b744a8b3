//! The run's loop: LangGraph's supersteps, driven by whoever polls the stream.
//!
//! Nothing runs unless the consumer polls. Each poll hands out a waiting item if there is
//! one; otherwise it polls the current step's node futures, which put items into a bounded
//! channel as they produce them. When every node of the step has finished, their updates
//! merge in declaration order, the frontier picks the next step's nodes, and those start.
//! A slow consumer therefore slows the graph instead of growing memory.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use futures::FutureExt;
use futures::future::BoxFuture;
use tracing::{Instrument, Span};
use uuid::Uuid;

use super::attempts::run_attempts;
use super::frontier::{Frontier, NextTask};
use super::interrupts::InterruptBook;
use super::merge::merge_step;
use super::persist::{DueTasks, RunThread, SaveFuture, StepSink, ThreadRef, ThreadStart};
use super::shared::{AbortSpawnedOnDrop, RunShared, SpawnedTasks, StartNode};
use super::step_futures::StepFutures;
use crate::config::{Breakpoints, Durability, RunConfig};
use crate::error::{CheckpointError, GraphError, NodeError};
use crate::graph::goto::NodeOutput;
use crate::graph::sent::TaskInput;
use crate::graph::topology::Source;
use crate::graph::traits::{GraphDef, GraphNode, State};
use crate::interrupt::Interrupt;
use crate::stream::checkpoint_item::CheckpointEvent;
use crate::stream::metadata::{RunMetadata, TaskMetadata, task_id, task_key};
use crate::stream::mode::ModeSet;
use crate::stream::record::{Event, Recorder};
use crate::telemetry::spans::{
    TaskFields, checkpoint_span, in_conversation, mark_error, run_span, step_span, task_span,
};

type Update<G> = <<G as GraphDef>::State as State>::Update;
type Caught<T> = Result<T, Box<dyn Any + Send>>;
type Output<G> = NodeOutput<Update<G>, <G as GraphDef>::Node, <G as GraphDef>::Sent>;
type TaskFuture<G> = BoxFuture<'static, (usize, Caught<Result<Output<G>, NodeError>>)>;

/// One node of the current step and, once it has finished, its update.
pub(super) struct StepTask<G: GraphDef> {
    pub(super) node: G::Node,
    pub(super) metadata: Arc<TaskMetadata<G::Node>>,
    update: Option<Update<G>>,
    /// The nodes its `goto` named, run in the next step besides the edges' targets.
    goto: Vec<G::Node>,
    /// The `Send`s its `goto` named, started in the next step after the edges' `Send`s.
    sends: Vec<(G::Node, G::Sent)>,
    /// It returned, failed or panicked (as opposed to being cancelled by a sibling's failure).
    pub(super) ended: bool,
    /// It stopped on this interrupt: its update, if it returned one, is dropped.
    interrupted: Option<Box<Interrupt>>,
    /// Its span, marked if it fails.
    pub(super) span: Span,
}

/// The state of one run of a graph.
pub(crate) struct Run<G: GraphDef> {
    pub(super) shared: AbortSpawnedOnDrop<G>,
    start_node: StartNode<G>,
    run: Arc<RunMetadata>,
    state: Arc<G::State>,
    pub(super) step: u64,
    recursion_limit: u32,
    pub(super) step_tasks: Vec<StepTask<G>>,
    pub(super) running: StepFutures<TaskFuture<G>>,
    frontier: Frontier<G::Node, G::State, G::Sent>,
    /// Items taken from the buffer in one lock, handed out one per poll. When a node
    /// fails, everything the buffer still holds joins them, ahead of the error.
    pub(super) batch: VecDeque<Event<G>>,
    /// The error that ended the run, handed out after the last item. Boxed: most runs
    /// never fail, and every run carries this field.
    pub(super) error: Option<Box<GraphError>>,
    started: bool,
    pub(super) finished: bool,
    /// The run's thread, when it has one: where its steps are stored.
    pub(super) sink: SinkGuard<G>,
    /// Checkpoint writes under way, oldest first; each starts only after the one before.
    saves: VecDeque<SaveFuture>,
    /// The step the run started after: its first step is the one after it.
    start_step: u64,
    /// Durability `Sync`: the next step's tasks, started once its checkpoint is stored.
    deferred: Option<Vec<NextTask<G::Node, G::Sent>>>,
    /// The nodes to stop before or after, when the run was given any.
    breakpoints: Option<Box<Breakpoints>>,
    /// Set when the run stopped on interrupts (none for a breakpoint).
    pub(crate) interrupted: Option<Vec<Interrupt>>,
    /// The run's span: open until the run's last item is handed out.
    pub(super) span: Span,
    /// The current step's span, the parent of its tasks' spans.
    step_span: Span,
}

/// Where a run on a thread is stored and starts.
pub(crate) struct OnThread<G: GraphDef> {
    /// The thread.
    pub(crate) thread: ThreadRef,
    /// What stores its steps.
    pub(crate) sink: Box<dyn StepSink<G>>,
    /// Where it starts.
    pub(crate) start: ThreadStart<G>,
}

/// The run's [`StepSink`], given up (the thread's lease released) if the run goes away
/// before its end.
pub(super) struct SinkGuard<G: GraphDef>(pub(super) Option<Box<dyn StepSink<G>>>);

impl<G: GraphDef> Drop for SinkGuard<G> {
    fn drop(&mut self) {
        if let Some(sink) = &mut self.0 {
            sink.abandon();
        }
    }
}

impl<G: GraphDef> Run<G> {
    /// A run of `G` on `input` that records what `modes` ask for and starts each node
    /// task with `start_node`.
    pub(crate) fn new(
        context: Arc<G::Context>,
        input: G::State,
        modes: ModeSet,
        config: RunConfig<G::Tag>,
        start_node: StartNode<G>,
    ) -> Self {
        Self::build(context, input, modes, config, start_node, None)
    }

    fn build(
        context: Arc<G::Context>,
        input: G::State,
        modes: ModeSet,
        config: RunConfig<G::Tag>,
        start_node: StartNode<G>,
        thread: Option<Box<RunThread>>,
    ) -> Self {
        let breakpoints =
            (!config.breakpoints.is_empty()).then(|| Box::new(config.breakpoints.clone()));
        let run_id = config.run_id.unwrap_or_else(Uuid::new_v4);
        let span = run_span(
            graph_path::<G>(),
            run_id,
            thread.as_ref().map(|t| t.thread.thread_id.as_str()),
        );
        let shared = Arc::new(RunShared {
            context,
            record: Recorder::new(modes, config.buffer, &input),
            subgraphs: config.subgraphs,
            tags: config.tags,
            spawned: Mutex::new(SpawnedTasks::default()),
            interrupts: Mutex::new(None),
            thread,
            ended: tokio_util::sync::CancellationToken::new(),
        });
        Self {
            shared: AbortSpawnedOnDrop(shared),
            start_node,
            run: Arc::new(RunMetadata {
                run_id,
                extra: config.metadata,
                namespace: config.namespace,
            }),
            state: Arc::new(input),
            step: 0,
            recursion_limit: config.recursion_limit,
            step_tasks: Vec::new(),
            running: StepFutures::new(),
            frontier: Frontier::new(G::topology()),
            batch: VecDeque::new(),
            error: None,
            started: false,
            finished: false,
            sink: SinkGuard(None),
            saves: VecDeque::new(),
            start_step: 0,
            deferred: None,
            breakpoints,
            interrupted: None,
            span,
            step_span: Span::none(),
        }
    }

    /// A run on a thread: `state` is the thread's state (with the run's input applied),
    /// and `on` where it is stored and starts.
    ///
    /// # Errors
    /// [`CheckpointError::StateShape`] when a resumed step's fan-in progress does not fit
    /// the graph's edges.
    pub(crate) fn on_thread(
        context: Arc<G::Context>,
        state: G::State,
        modes: ModeSet,
        config: RunConfig<G::Tag>,
        start_node: StartNode<G>,
        on: OnThread<G>,
    ) -> Result<Self, GraphError> {
        let OnThread {
            thread,
            sink,
            start,
        } = on;
        let thread = Box::new(RunThread {
            thread,
            durability: config.durability,
            step_checkpoint: Mutex::new(None),
        });
        let mut run = Self::build(context, state, modes, config, start_node, Some(thread));
        run.sink = SinkGuard(Some(sink));
        match start {
            ThreadStart::Input { step } => {
                run.start_step = step;
                run.step = step;
                run.report_checkpoints(None);
            }
            ThreadStart::Resume(point) => {
                run.frontier.restore(point.joins).map_err(|detail| {
                    CheckpointError::StateShape {
                        field: "frontier".into(),
                        detail,
                    }
                })?;
                run.start_step = point.after_step;
                run.step = point.after_step;
                run.started = true;
                if !point.answers.is_empty() {
                    *run.shared
                        .0
                        .interrupts
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) =
                        Some(Box::new(InterruptBook::with_answers(point.answers)));
                }
                run.record().values(&run.state);
                run.start_resumed_tasks(point.tasks, point.finished);
            }
        }
        Ok(run)
    }

    pub(super) fn record(&self) -> &Recorder<G> {
        &self.shared.0.record
    }

    /// Items produced and not yet handed out: the rest of the batch and what the buffer
    /// holds.
    pub(crate) fn waiting(&self) -> usize {
        self.batch.len() + self.record().buffer().waiting()
    }

    /// The state as of the last finished step.
    pub(crate) fn state(&self) -> &G::State {
        &self.state
    }

    /// Takes the final state out.
    pub(crate) fn into_state(self) -> G::State {
        let Self { state, sink, .. } = self;
        drop(sink);
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
            if let Err(error) = self.poll_saves(cx) {
                self.saves.clear();
                self.deferred = None;
                if let Some(sink) = &mut self.sink.0 {
                    sink.abandon();
                }
                if self.finished {
                    // The run had ended; its last checkpoint did not make it.
                    self.error.get_or_insert(Box::new(error));
                } else {
                    self.fail(error);
                }
                continue;
            }
            if self.finished || self.deferred.is_some() {
                if self.saves.is_empty()
                    && self.finished
                    && let Some(mut sink) = self.sink.0.take()
                {
                    // The run failed and what it stored is stored: the thread is given up
                    // before the error is handed out, so a resume right after finds it free.
                    let release = sink.release();
                    self.push_save("release", release);
                    continue;
                }
                if !self.saves.is_empty() {
                    // A checkpoint is still being stored (its future will wake the task);
                    // meanwhile what spawned work writes still goes out.
                    ready!(
                        self.shared
                            .0
                            .record
                            .buffer()
                            .poll_batch(cx, &mut self.batch)
                    );
                    continue;
                }
                if let Some(next) = self.deferred.take() {
                    self.start_step_tasks(next);
                    continue;
                }
                // The run is over: its spans close now, not when its stream is dropped.
                self.step_span = Span::none();
                self.span = Span::none();
                return Poll::Ready(self.error.take().map(|error| Err(*error)));
            }
            // No waker yet: if a node below produces an item, it is returned in this
            // same poll, and registering now would only make the task poll itself again.
            if self.shared.0.record.buffer().take_batch(&mut self.batch) {
                continue;
            }
            if self.running.is_empty() {
                if let Err(error) = self.advance() {
                    self.fail(error);
                }
                continue;
            }
            match self.running.poll_next(cx) {
                Poll::Ready(Some((index, Ok(Ok(output))))) => self.task_returned(index, output),
                Poll::Ready(Some((index, Ok(Err(error))))) => self.task_errored(index, error),
                Poll::Ready(Some((index, Err(panic)))) => self.task_panicked(index, &*panic),
                Poll::Ready(None) => {}
                Poll::Pending => {
                    // A node may have produced an item in this very poll before it waited.
                    // Registers the reader so that spawned work writing from elsewhere wakes
                    // the stream.
                    ready!(
                        self.shared
                            .0
                            .record
                            .buffer()
                            .poll_batch(cx, &mut self.batch)
                    );
                }
            }
        }
    }

    /// Records a task's update, after everything it wrote, and keeps it for the merge.
    fn task_returned(&mut self, index: usize, output: Output<G>) {
        let NodeOutput {
            update,
            goto,
            sends,
        } = output;
        if self.stopped_on_interrupt(index) {
            return;
        }
        let task = &mut self.step_tasks[index];
        task.ended = true;
        // Recording the update clones it: the user's `Clone` of a field may panic.
        let record = &self.shared.0.record;
        let metadata = &task.metadata;
        let recorded = std::panic::catch_unwind(AssertUnwindSafe(|| {
            record.task_finished(metadata, &update);
        }));
        match recorded {
            Ok(()) => {
                if let Err(error) = self.store_finished_task(index, &update, &goto, &sends) {
                    self.fail(error);
                    return;
                }
                let task = &mut self.step_tasks[index];
                task.update = Some(update);
                task.goto = goto;
                task.sends = sends;
            }
            Err(panic) => self.update_clone_panicked(index, &*panic),
        }
    }

    /// Whether task `index` stopped on an interrupt; if so, records it so.
    pub(super) fn stopped_on_interrupt(&mut self, index: usize) -> bool {
        let task = &mut self.step_tasks[index];
        let Some(interrupt) = self.shared.0.take_interrupt(&task.metadata) else {
            return false;
        };
        task.ended = true;
        self.shared
            .0
            .record
            .task_interrupted(&task.metadata, &interrupt);
        task.interrupted = Some(Box::new(interrupt));
        true
    }

    /// On a thread, stores the update of a task that shares its step with others, so
    /// that a resume after a crash does not run it again.
    fn store_finished_task(
        &mut self,
        index: usize,
        update: &Update<G>,
        goto: &[G::Node],
        sends: &[(G::Node, G::Sent)],
    ) -> Result<(), GraphError> {
        let Some(sink) = &mut self.sink.0 else {
            return Ok(());
        };
        if self.step_tasks.len() < 2 {
            // The step's own checkpoint follows at once.
            return Ok(());
        }
        let task = &self.step_tasks[index];
        let key = task.metadata.key();
        if let Some(save) = sink.task_done(&key, task.node.name(), update, goto, sends)? {
            self.push_save("task", save);
        }
        Ok(())
    }

    /// Polls the checkpoint writes under way, oldest first, until one waits or none is
    /// left.
    fn poll_saves(&mut self, cx: &mut Context<'_>) -> Result<(), GraphError> {
        while let Some(save) = self.saves.front_mut() {
            match save.poll_unpin(cx) {
                Poll::Ready(Ok(())) => {
                    self.saves.pop_front();
                }
                Poll::Ready(Err(error)) => return Err(GraphError::Checkpoint(error)),
                Poll::Pending => break,
            }
        }
        Ok(())
    }

    /// Ends the step that just finished and starts the next one, or finishes the run.
    fn advance(&mut self) -> Result<(), GraphError> {
        if self
            .step_tasks
            .iter()
            .any(|task| task.interrupted.is_some())
        {
            return self.stop_on_interrupts();
        }
        let mut stored_updates = Vec::new();
        let mut goto = Vec::new();
        let mut sends = Vec::new();
        let sources: Vec<Source<G::Node>> = if self.started {
            let step_tasks = std::mem::take(&mut self.step_tasks);
            let mut ran = Vec::with_capacity(step_tasks.len());
            let mut updates = Vec::with_capacity(step_tasks.len());
            for task in step_tasks {
                ran.push(Source::Node(task.node));
                goto.extend(task.goto);
                sends.extend(task.sends);
                if let Some(update) = task.update {
                    updates.push((task.node.name(), update));
                }
            }
            let wrote = updates
                .iter()
                .any(|(_, update)| !G::State::is_empty_update(update));
            if self.sink.0.is_some() {
                stored_updates.clone_from(&updates);
            }
            merge_step(&mut self.state, updates, self.step)?;
            if wrote {
                self.record().values(&self.state);
            }
            ran
        } else {
            self.started = true;
            self.record().values(&self.state);
            vec![Source::Start]
        };

        let next = self
            .frontier
            .next_tasks(&sources, &goto, sends, &*self.state, self.step)?;
        let mut sync_save = false;
        if let Some(sink) = &mut self.sink.0 {
            let due = DueTasks {
                tasks: &next,
                joins: self.frontier.joins(),
            };
            let step_save = sink.step_done(self.step, &stored_updates, &self.state, due)?;
            sync_save = step_save.is_some() && sink.durability() == Durability::Sync;
            let end_save = if next.is_empty() {
                sink.run_done(self.step, &self.state)?
            } else {
                None
            };
            if let Some(save) = step_save {
                self.push_save("step", save);
            }
            if let Some(save) = end_save {
                self.push_save("end", save);
            }
            self.report_checkpoints(Some(&next));
        }
        if next.is_empty() {
            // The thread's end is stored: nothing is left to give up.
            self.sink.0 = None;
            self.finished = true;
            // Items sent by spawned work before the end still go out; nothing is dropped.
            self.shared.0.abort_spawned();
            self.drain_and_close();
            return Ok(());
        }
        if self.at_breakpoint(&sources, &next) {
            return self.stop(Vec::new());
        }
        if self.step - self.start_step >= u64::from(self.recursion_limit) {
            return Err(GraphError::RecursionLimit {
                limit: self.recursion_limit,
            });
        }
        if sync_save {
            self.deferred = Some(next);
        } else {
            self.start_step_tasks(next);
        }
        Ok(())
    }

    /// Whether the run stops here, before starting `next`, at a breakpoint: after a step
    /// that ran a node to stop after, or before one that would run a node to stop before.
    /// (A resume starts its step's tasks at once, so it does not stop before them again.)
    fn at_breakpoint(&self, ran: &[Source<G::Node>], next: &[NextTask<G::Node, G::Sent>]) -> bool {
        let Some(breakpoints) = &self.breakpoints else {
            return false;
        };
        let after = ran.iter().any(|source| {
            matches!(source, Source::Node(node) if breakpoints.after.contains(&node.name()))
        });
        let before = next
            .iter()
            .any(|task| breakpoints.before.contains(&task.node().name()));
        after || before
    }

    /// The step's tasks stopped on interrupts: nothing merges; the thread keeps the
    /// updates of the tasks that finished and the questions, and the run ends.
    fn stop_on_interrupts(&mut self) -> Result<(), GraphError> {
        let mut finished = Vec::new();
        let mut interrupts = Vec::new();
        for task in std::mem::take(&mut self.step_tasks) {
            if let Some(interrupt) = task.interrupted {
                interrupts.push(*interrupt);
            } else if let Some(update) = task.update {
                let output = NodeOutput {
                    update,
                    goto: task.goto,
                    sends: task.sends,
                };
                finished.push((task.metadata.key(), task.node.name(), output));
            }
        }
        // The step did not happen: the thread stays at the step before it.
        self.step -= 1;
        if let Some(sink) = &mut self.sink.0 {
            let save = sink.interrupted(self.step, &self.state, &finished, &interrupts)?;
            self.push_save("interrupt", save);
            self.report_checkpoints(None);
            self.sink.0 = None;
        }
        self.stop(interrupts)
    }

    /// Ends the run, stopped on `interrupts` or at a breakpoint, without error.
    fn stop(&mut self, interrupts: Vec<Interrupt>) -> Result<(), GraphError> {
        if let Some(sink) = &mut self.sink.0 {
            // A breakpoint: the checkpoint with the tasks due is stored (or, for `Exit`,
            // stored now).
            let save = sink.interrupted(self.step, &self.state, &[], &[])?;
            self.push_save("interrupt", save);
            self.report_checkpoints(None);
            self.sink.0 = None;
        }
        self.interrupted = Some(interrupts);
        self.finished = true;
        self.shared.0.abort_spawned();
        self.drain_and_close();
        Ok(())
    }

    /// Records the checkpoints the sink made (checkpoints mode), with the tasks due after
    /// each: `due`, when it is the step's, else those its `next` names.
    fn report_checkpoints(&mut self, due: Option<&[NextTask<G::Node, G::Sent>]>) {
        let Some(sink) = &mut self.sink.0 else {
            return;
        };
        let reported = sink.take_reported();
        let run_id = self.run.run_id;
        for (meta, values) in reported {
            let values = values.map_or_else(|| Arc::clone(&self.state), Arc::new);
            let step = u64::try_from(meta.step + 1).unwrap_or_default();
            let tasks = match due {
                Some(due) if !meta.next.is_empty() => {
                    let mut pushed = 0;
                    due.iter()
                        .map(|task| {
                            let name = task.node().name();
                            let push = matches!(task, NextTask::Push(..)).then(|| {
                                pushed += 1;
                                pushed - 1
                            });
                            (task_id(run_id, &task_key(step, name, push)), name)
                        })
                        .collect()
                }
                _ => meta
                    .next
                    .iter()
                    .filter_map(|name| G::Node::ALL.iter().find(|node| node.name() == name))
                    .map(|node| {
                        let key = task_key(step, node.name(), None);
                        (task_id(run_id, &key), node.name())
                    })
                    .collect(),
            };
            self.shared
                .0
                .record
                .checkpoint(|| CheckpointEvent::new(meta, values, tasks));
        }
    }

    /// Starts the tasks of the next step.
    fn start_step_tasks(&mut self, next: Vec<NextTask<G::Node, G::Sent>>) {
        self.start_resumed_tasks(next, HashMap::new());
    }

    /// Starts the tasks of the next step but those in `finished`, which ended in an
    /// earlier run of the step: their updates join the merge as they were.
    fn start_resumed_tasks(
        &mut self,
        next: Vec<NextTask<G::Node, G::Sent>>,
        mut finished: HashMap<String, Output<G>>,
    ) {
        self.step += 1;
        self.step_span = step_span(&self.span, self.step);
        if let (Some(sink), Some(thread)) = (&self.sink.0, &self.shared.0.thread) {
            *thread
                .step_checkpoint
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = sink.parent();
        }
        let mut pushed = 0;
        for task in next {
            let (node, metadata, input) = match task {
                NextTask::Pull(node, triggers) => {
                    let metadata =
                        TaskMetadata::new(self.step, node, triggers, Arc::clone(&self.run));
                    (node, metadata, TaskInput::State(Arc::clone(&self.state)))
                }
                NextTask::Push(node, input) => {
                    let metadata =
                        TaskMetadata::pushed(self.step, node, pushed, Arc::clone(&self.run));
                    pushed += 1;
                    (node, metadata, TaskInput::Sent(Arc::new(input)))
                }
            };
            // A fresh step has nothing finished: no key is built for it.
            let done = if finished.is_empty() {
                None
            } else {
                finished.remove(&metadata.key())
            };
            match done {
                None => self.start(node, metadata, input),
                Some(output) => self.take_finished(node, metadata, &input, output),
            }
        }
    }

    fn start(&mut self, node: G::Node, task: TaskMetadata<G::Node>, input: TaskInput<G>) {
        let policy = G::topology().policy(node);
        let task = match policy {
            Some(policy) if policy.retry.is_some() => Arc::new(task.attempt_of(1)),
            _ => Arc::new(task),
        };
        self.record().task_started(&task, &input);
        let span = self.task_span(&task);
        let shared = Arc::clone(&self.shared.0);
        let future = match policy {
            None => (self.start_node)(node, input, shared, Arc::clone(&task)),
            Some(policy) => run_attempts(
                self.start_node,
                node,
                input,
                shared,
                Arc::clone(&task),
                policy,
            ),
        };
        let index = self.step_tasks.len();
        self.step_tasks.push(StepTask {
            node,
            metadata: task,
            update: None,
            goto: Vec::new(),
            sends: Vec::new(),
            ended: false,
            interrupted: None,
            span: span.clone(),
        });
        let future = AssertUnwindSafe(future).catch_unwind();
        let future = in_conversation(self.thread_id(), future);
        if span.is_disabled() {
            self.running
                .push(Box::pin(future.map(move |outcome| (index, outcome))));
        } else {
            // Polled in its span: the model calls it makes are its children.
            self.running.push(Box::pin(
                future.instrument(span).map(move |outcome| (index, outcome)),
            ));
        }
    }

    /// The span of task `task`, in the current step's.
    fn task_span(&self, task: &TaskMetadata<G::Node>) -> Span {
        task_span(
            &self.step_span,
            &TaskFields {
                node: task.name(),
                task_id: task.task_id(),
                step: task.step(),
                attempt: task.attempt(),
                triggers: task.triggers(),
                checkpoint_ns: task.checkpoint_ns(),
                thread_id: self.thread_id(),
            },
        )
    }

    /// The id of the run's thread, if it runs on one.
    fn thread_id(&self) -> Option<&str> {
        self.shared
            .0
            .thread
            .as_ref()
            .map(|thread| thread.thread.thread_id.as_str())
    }

    /// Queues checkpoint write `save` (`what` names it for its span) behind those under way.
    fn push_save(&mut self, what: &'static str, save: SaveFuture) {
        if self.span.is_disabled() {
            self.saves.push_back(save);
            return;
        }
        let run = self.span.clone();
        let step = self.step;
        let thread_id = self.thread_id().map(str::to_owned);
        self.saves.push_back(Box::pin(async move {
            // Made on the first poll: a write waits for the ones before it, and its span
            // measures the write alone.
            let span = checkpoint_span(&run, what, step, thread_id.as_deref());
            let written = save.instrument(span.clone()).await;
            if let Err(error) = &written {
                mark_error(&span, "checkpoint", error);
            }
            written
        }));
    }

    /// A task of a resumed step that had finished before: recorded as it was, not run.
    fn take_finished(
        &mut self,
        node: G::Node,
        task: TaskMetadata<G::Node>,
        input: &TaskInput<G>,
        output: Output<G>,
    ) {
        let task = Arc::new(task);
        self.record().task_started(&task, input);
        self.record().task_finished(&task, &output.update);
        self.step_tasks.push(StepTask {
            node,
            metadata: task,
            update: Some(output.update),
            goto: output.goto,
            sends: output.sends,
            ended: true,
            interrupted: None,
            span: Span::none(),
        });
    }
}

/// The graph's path for its run's span: the module `#[graph]` was written in (the path of
/// `G` without its `::Graph`).
fn graph_path<G>() -> &'static str {
    let name = std::any::type_name::<G>();
    name.strip_suffix("::Graph").unwrap_or(name)
}
