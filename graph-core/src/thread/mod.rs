//! A graph's thread: runs that start from where the thread's last run ended (or stopped),
//! each step stored in a [`Checkpointer`] as it finishes; its state and history; updates
//! from outside a run.

mod snapshot;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::checkpoint::{CheckpointId, CheckpointMeta, Checkpointer, Durable, ListOptions};
use crate::config::RunConfig;
use crate::error::GraphError;
use crate::graph::command::Command;
use crate::graph::traits::{GraphDef, State};
use crate::graph_stream::GraphStream;
use crate::node::{RunNode, start_node};
use crate::run::executor::{OnThread, Run};
use crate::run::persist::ThreadRef;
use crate::stream::mode::{ModeSet, StreamMode};
use crate::thread_line::begin::Begin;
pub use snapshot::StateSnapshot;

/// How long a run holds its thread without renewing: a process that dies lets go of its
/// threads within this time.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// One thread of graph `G` in a checkpoint store. Made by the generated
/// `Graph::thread(store, id)`.
pub struct Thread<G: GraphDef> {
    context: Arc<G::Context>,
    thread: ThreadRef,
    lease: Duration,
    graph: PhantomData<fn() -> G>,
}

impl<G: GraphDef> Clone for Thread<G> {
    fn clone(&self) -> Self {
        Self {
            context: Arc::clone(&self.context),
            thread: self.thread.clone(),
            lease: self.lease,
            graph: PhantomData,
        }
    }
}

impl<G> Thread<G>
where
    G: RunNode,
    G::State: Durable + Default,
{
    /// Thread `id` of the graph whose nodes get `context`, stored in `store`.
    pub fn new(
        context: Arc<G::Context>,
        store: Arc<dyn Checkpointer>,
        id: impl Into<String>,
    ) -> Self {
        Self {
            context,
            thread: ThreadRef {
                store,
                thread_id: id.into(),
                namespace: String::new(),
            },
            lease: DEFAULT_LEASE,
            graph: PhantomData,
        }
    }

    /// How long a run holds the thread between renewals ([`DEFAULT_LEASE`] unless set):
    /// after a crash, the thread is free again this long after the last renewal.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// The thread's id.
    pub fn id(&self) -> &str {
        &self.thread.thread_id
    }

    /// Runs the graph from the thread's state with `input` applied through the state's
    /// reducers (a new thread starts from the state's `Default`), streaming `mode`. Each
    /// step is stored as it finishes; step numbers continue from the thread's last run.
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`] before anything runs: another run holds the thread
    /// ([`CheckpointError::ThreadBusy`](crate::checkpoint::CheckpointError::ThreadBusy)),
    /// the store is unavailable, or the stored state does not fit the state type
    /// ([`CheckpointError::StateShape`](crate::checkpoint::CheckpointError::StateShape)).
    pub async fn stream<M: StreamMode<G>>(
        &self,
        input: <G::State as State>::Update,
        mode: M,
    ) -> Result<GraphStream<G, M>, GraphError> {
        self.stream_with(input, mode, RunConfig::default()).await
    }

    /// [`Thread::stream`] with per-run settings: [`durability`](RunConfig::durability),
    /// breakpoints, a checkpoint to fork from.
    ///
    /// # Errors
    /// As [`Thread::stream`].
    pub async fn stream_with<M: StreamMode<G>>(
        &self,
        input: <G::State as State>::Update,
        mode: M,
        config: RunConfig<G::Tag>,
    ) -> Result<GraphStream<G, M>, GraphError> {
        let _ = mode;
        let run = self
            .start(Begin::Input(input), ModeSet::of::<M>(), config)
            .await?;
        Ok(GraphStream::from_run(run))
    }

    /// Goes on from where the thread stopped, as `command` says: answers its pending
    /// interrupt ([`Command::resume`]), continues after a breakpoint, a failure or a crash
    /// ([`Command::proceed`]), with an update applied first or more nodes due. The step
    /// the thread stopped in runs again, but for its tasks that had finished.
    ///
    /// # Errors
    /// As [`Thread::stream`]; [`CheckpointError::NotFound`](crate::checkpoint::CheckpointError::NotFound)
    /// for a thread with no checkpoint; [`GraphError::CannotResume`] when the command does
    /// not fit where the thread stands.
    pub async fn command<M: StreamMode<G>>(
        &self,
        command: Command<G>,
        mode: M,
    ) -> Result<GraphStream<G, M>, GraphError> {
        self.command_with(command, mode, RunConfig::default()).await
    }

    /// [`Thread::command`] with per-run settings.
    ///
    /// # Errors
    /// As [`Thread::command`].
    pub async fn command_with<M: StreamMode<G>>(
        &self,
        command: Command<G>,
        mode: M,
        config: RunConfig<G::Tag>,
    ) -> Result<GraphStream<G, M>, GraphError> {
        let _ = mode;
        let run = self
            .start(Begin::Command(command), ModeSet::of::<M>(), config)
            .await?;
        Ok(GraphStream::from_run(run))
    }

    /// Runs the graph as [`Thread::stream`] does, to its end or until it stops, and
    /// returns the state then ([`Thread::state`] tells whether it stopped on an interrupt).
    ///
    /// # Errors
    /// As [`Thread::stream`], and the run's first error.
    pub async fn invoke(&self, input: <G::State as State>::Update) -> Result<G::State, GraphError> {
        self.invoke_with(input, RunConfig::default()).await
    }

    /// [`Thread::invoke`] with per-run settings.
    ///
    /// # Errors
    /// As [`Thread::invoke`].
    pub async fn invoke_with(
        &self,
        input: <G::State as State>::Update,
        config: RunConfig<G::Tag>,
    ) -> Result<G::State, GraphError> {
        let run = self
            .start(Begin::Input(input), ModeSet::default(), config)
            .await?;
        crate::graph_stream::run_to_end(run).await
    }

    /// Runs [`Thread::command`] to its end or until it stops, and returns the state then.
    ///
    /// # Errors
    /// As [`Thread::command`], and the run's first error.
    pub async fn invoke_command(&self, command: Command<G>) -> Result<G::State, GraphError> {
        let run = self
            .start(
                Begin::Command(command),
                ModeSet::default(),
                RunConfig::default(),
            )
            .await?;
        crate::graph_stream::run_to_end(run).await
    }

    /// The thread's newest checkpoint as a typed snapshot, `None` for a thread with none.
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`]: the store's error, or a stored state that does not fit.
    pub async fn state(&self) -> Result<Option<StateSnapshot<G>>, GraphError> {
        self.state_at_checkpoint(None).await
    }

    /// The thread's checkpoint `id` as a typed snapshot, `None` when there is no such
    /// checkpoint.
    ///
    /// # Errors
    /// As [`Thread::state`].
    pub async fn state_at(&self, id: CheckpointId) -> Result<Option<StateSnapshot<G>>, GraphError> {
        self.state_at_checkpoint(Some(id)).await
    }

    async fn state_at_checkpoint(
        &self,
        id: Option<CheckpointId>,
    ) -> Result<Option<StateSnapshot<G>>, GraphError> {
        let thread = &self.thread;
        let Some(checkpoint) = thread.store.get(&thread.thread_id, "", id).await? else {
            return Ok(None);
        };
        Ok(Some(StateSnapshot::read(checkpoint)?))
    }

    /// The thread's checkpoints, newest first: at most `limit`, and older than `before`
    /// when given (to page through a long history).
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`]: the store's error.
    pub async fn history(&self, options: ListOptions) -> Result<Vec<CheckpointMeta>, GraphError> {
        let thread = &self.thread;
        Ok(thread.store.list(&thread.thread_id, "", options).await?)
    }

    /// Writes a checkpoint with `update` applied to the thread's newest state through the
    /// reducers, as if node `as_node` had returned it (LangGraph's `update_state`): the
    /// nodes due next are those `as_node`'s edges lead to from the new state. With no
    /// `as_node`, the tasks due stay as they were. Returns the new checkpoint's id.
    ///
    /// The thread must be idle: it is taken for the write as a run takes it.
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`]: the thread is busy, the store's error, or a stored
    /// state that does not fit; [`GraphError::ConflictingUpdate`] when the update does not
    /// merge.
    pub async fn update_state(
        &self,
        update: <G::State as State>::Update,
        as_node: Option<G::Node>,
    ) -> Result<CheckpointId, GraphError> {
        self.thread
            .update_state::<G>(update, as_node, self.lease, None)
            .await
    }

    /// [`Thread::update_state`] applied to the state at checkpoint `at` instead of the
    /// newest: the new checkpoint's parent is `at`, so the thread forks there (LangGraph's
    /// `update_state` with a `checkpoint_id`), and a run without a checkpoint id goes on
    /// from the fork, the newest. Nothing after `at` is changed or removed: the history
    /// keeps both branches.
    ///
    /// # Errors
    /// As [`Thread::update_state`];
    /// [`CheckpointError::NotFound`](crate::checkpoint::CheckpointError::NotFound) when the
    /// thread has no checkpoint `at`.
    pub async fn update_state_at(
        &self,
        at: CheckpointId,
        update: <G::State as State>::Update,
        as_node: Option<G::Node>,
    ) -> Result<CheckpointId, GraphError> {
        self.thread
            .update_state::<G>(update, as_node, self.lease, Some(at))
            .await
    }

    /// Starts a run: takes the thread, reads where it stands, and sets the run up from an
    /// input or a command.
    async fn start(
        &self,
        begin: Begin<G>,
        modes: ModeSet,
        config: RunConfig<G::Tag>,
    ) -> Result<Run<G>, GraphError> {
        let (state, sink, start) = self
            .thread
            .begin(begin, &config, modes.checkpoints, Some(self.lease))
            .await?;
        Run::on_thread(
            Arc::clone(&self.context),
            state,
            modes,
            config,
            start_node::<G>,
            OnThread {
                thread: self.thread.clone(),
                sink: Box::new(sink),
                start,
            },
        )
    }
}
