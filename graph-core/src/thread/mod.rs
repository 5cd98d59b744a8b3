//! A graph's thread: runs that start from where the thread's last run ended, each step
//! stored in a [`Checkpointer`] as it finishes.

mod sink;
mod snapshot;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::checkpoint::{CheckpointLine, Checkpointer, Durable, ListOptions, Source, StateDelta};
use crate::config::RunConfig;
use crate::error::{CheckpointError, GraphError};
use crate::graph::traits::{GraphDef, State};
use crate::graph_stream::GraphStream;
use crate::node::{RunNode, start_node};
use crate::run::executor::Run;
use crate::stream::mode::{ModeSet, StreamMode};
use sink::{Lease, ThreadSink};
pub use snapshot::StateSnapshot;

/// How long a run holds its thread without renewing: a process that dies lets go of its
/// threads within this time.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// One thread of graph `G` in a checkpoint store. Made by the generated
/// `Graph::thread(store, id)`.
pub struct Thread<G: GraphDef> {
    context: Arc<G::Context>,
    store: Arc<dyn Checkpointer>,
    id: String,
    lease: Duration,
    graph: PhantomData<fn() -> G>,
}

impl<G: GraphDef> Clone for Thread<G> {
    fn clone(&self) -> Self {
        Self {
            context: Arc::clone(&self.context),
            store: Arc::clone(&self.store),
            id: self.id.clone(),
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
            store,
            id: id.into(),
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
        &self.id
    }

    /// Runs the graph from the thread's state with `input` applied through the state's
    /// reducers (a new thread starts from the state's `Default`), streaming `mode`. Each
    /// step is stored as it finishes; step numbers continue from the thread's last run.
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`] before anything runs: another run holds the thread
    /// ([`CheckpointError::ThreadBusy`]), the store is unavailable, or the stored state
    /// does not fit the state type ([`CheckpointError::StateShape`]).
    pub async fn stream<M: StreamMode<G>>(
        &self,
        input: <G::State as State>::Update,
        mode: M,
    ) -> Result<GraphStream<G, M>, GraphError> {
        self.stream_with(input, mode, RunConfig::default()).await
    }

    /// [`Thread::stream`] with per-run settings, [`durability`](RunConfig::durability)
    /// among them.
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
        let (state, sink) = self.start(input, &config).await?;
        let run = Run::on_thread(
            Arc::clone(&self.context),
            state,
            ModeSet::of::<M>(),
            config,
            start_node::<G>,
            Box::new(sink),
        );
        Ok(GraphStream::from_run(run))
    }

    /// Runs the graph as [`Thread::stream`] does, to the end, and returns the final state.
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
        let (state, sink) = self.start(input, &config).await?;
        let run = Run::on_thread(
            Arc::clone(&self.context),
            state,
            ModeSet::default(),
            config,
            start_node::<G>,
            Box::new(sink),
        );
        crate::graph_stream::run_to_end(run).await
    }

    /// The thread's newest checkpoint as a typed snapshot, `None` for a thread with none.
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`]: the store's error, or a stored state that does not fit.
    pub async fn state(&self) -> Result<Option<StateSnapshot<G>>, GraphError> {
        let Some(checkpoint) = self.store.get(&self.id, "", None).await? else {
            return Ok(None);
        };
        Ok(Some(StateSnapshot::read(checkpoint)?))
    }

    /// The thread's checkpoints, newest first: at most `limit`, and older than `before`
    /// when given (to page through a long history).
    ///
    /// # Errors
    /// [`GraphError::Checkpoint`]: the store's error.
    pub async fn history(
        &self,
        options: ListOptions,
    ) -> Result<Vec<crate::checkpoint::CheckpointMeta>, GraphError> {
        Ok(self.store.list(&self.id, "", options).await?)
    }

    /// Takes the thread, reads where it stands, stores the run's input, and applies it.
    async fn start(
        &self,
        input: <G::State as State>::Update,
        config: &RunConfig<G::Tag>,
    ) -> Result<(G::State, ThreadSink<G>), GraphError> {
        let owner = config
            .run_id
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |id| id.to_string());
        self.store.lock_thread(&self.id, &owner, self.lease).await?;
        let mut lease = Lease {
            store: Arc::clone(&self.store),
            thread_id: self.id.clone(),
            owner: owner.clone(),
            renewal: None,
        };
        lease.keep(self.lease);
        // From here, an error drops the lease, which gives the thread up.
        let latest = self.store.get(&self.id, "", None).await?;
        let (mut state, mut line, last_step) = match &latest {
            Some(checkpoint) => (
                G::State::from_values(checkpoint.values.clone())?,
                CheckpointLine::after(checkpoint, Some(owner.clone())),
                checkpoint.meta.step,
            ),
            None => (
                G::State::default(),
                CheckpointLine::new(&self.id, "", Some(owner.clone())),
                -2,
            ),
        };
        // LangGraph's numbering: the input at the step after the thread's last, the input
        // applied at the one after that, the run's first step next.
        let input_step = last_step + 1;
        let mut writes = Map::new();
        writes.insert(
            "__start__".into(),
            Value::Object(G::State::update_to_json(&input)?),
        );
        let checkpoint = line.next(
            &state,
            StateDelta::default(),
            input_step,
            Source::Input,
            Value::Object(writes),
            vec!["__start__".into()],
        )?;
        self.store.put(checkpoint).await?;
        let mut merged = state.clone();
        merged
            .merge(vec![("__start__", input.clone())])
            .map_err(|conflict| GraphError::ConflictingUpdate { step: 0, conflict })?;
        let input_delta = G::State::delta(&input, &merged)?;
        state = merged;
        let first_step = u64::try_from(input_step + 1).map_err(|_| {
            GraphError::Checkpoint(CheckpointError::Corrupt {
                thread: self.id.clone(),
                checkpoint: String::new(),
                detail: format!("its last step is {last_step}"),
            })
        })?;
        let sink = ThreadSink {
            store: Arc::clone(&self.store),
            line,
            durability: config.durability,
            first_step,
            input_delta: Some(input_delta),
            unsaved: StateDelta::default(),
            unsaved_writes: Map::new(),
            lease,
            _graph: PhantomData,
        };
        Ok((state, sink))
    }
}
