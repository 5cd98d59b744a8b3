//! What all tasks of one run share, and the work they spawn.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::interrupts::InterruptBook;
use super::persist::RunThread;
use crate::graph::sent::TaskInput;
use crate::graph::tags::TagSet;
use crate::graph::traits::{GraphDef, NodeFuture};
use crate::stream::metadata::TaskMetadata;
use crate::stream::record::Recorder;

/// Starts a node task: `G`'s node fn, given a context built from the run's shared state
/// and the task. The executor is handed it rather than naming the node's context, which
/// lives a layer above it (a node's context reaches back into the run).
pub(crate) type StartNode<G> = fn(
    <G as GraphDef>::Node,
    TaskInput<G>,
    Arc<RunShared<G>>,
    Arc<TaskMetadata<<G as GraphDef>::Node>>,
) -> NodeFuture<G>;

/// What all tasks of one run share.
pub(crate) struct RunShared<G: GraphDef> {
    pub(crate) context: Arc<G::Context>,
    /// What the run's modes record, and the buffer it goes to.
    pub(crate) record: Recorder<G>,
    /// Forward the items of subgraphs a node runs (`RunConfig::subgraphs`).
    pub(crate) subgraphs: bool,
    pub(crate) tags: TagSet<G::Tag>,
    pub(crate) spawned: Mutex<SpawnedTasks>,
    /// The answers a resumed run starts with and the questions its tasks ask; `None`
    /// until a task asks one or a resume brings answers.
    pub(crate) interrupts: Mutex<Option<Box<InterruptBook>>>,
    /// The thread the run writes to, if it runs on one.
    pub(crate) thread: Option<Box<RunThread>>,
    /// Cancelled when the run ends however it ends (finished, failed, or its stream
    /// dropped), so that model calls still under way elsewhere stop reading their model.
    pub(crate) ended: CancellationToken,
}

impl<G: GraphDef> RunShared<G> {
    /// The run's interrupt book, made on first use.
    pub(crate) fn with_interrupts<T>(&self, f: impl FnOnce(&mut InterruptBook) -> T) -> T {
        let mut book = self
            .interrupts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(book.get_or_insert_with(Box::default))
    }

    /// The question task `task` stopped on, if any.
    ///
    /// The task's key is built only when some task asked a question: most runs ask none,
    /// and this is asked at the end of every task.
    pub(crate) fn take_interrupt(
        &self,
        task: &TaskMetadata<G::Node>,
    ) -> Option<crate::interrupt::Interrupt> {
        self.interrupts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .and_then(|book| book.take_raised(&task.key()))
    }

    /// Aborts the work the run's nodes spawned, and whatever they spawn from now on.
    pub(crate) fn abort_spawned(&self) {
        self.spawned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }
}

/// Work spawned by the run's nodes, aborted when the run ends or its stream is dropped.
#[derive(Default)]
pub(crate) struct SpawnedTasks {
    handles: Vec<AbortHandle>,
    closed: bool,
}

impl SpawnedTasks {
    pub(crate) fn track(&mut self, handle: AbortHandle) {
        if self.closed {
            // The run is over: nothing would read what this task produces.
            handle.abort();
            return;
        }
        self.handles.retain(|running| !running.is_finished());
        self.handles.push(handle);
    }

    fn abort_all(&mut self) {
        self.closed = true;
        for handle in self.handles.drain(..) {
            handle.abort();
        }
    }
}

/// Aborts the run's spawned work when the run goes away, however it goes.
pub(crate) struct AbortSpawnedOnDrop<G: GraphDef>(pub(crate) Arc<RunShared<G>>);

impl<G: GraphDef> Drop for AbortSpawnedOnDrop<G> {
    fn drop(&mut self) {
        // Writers still holding the run (spawned work being aborted) must not wait, and
        // model calls outside it stop reading their model.
        self.0.ended.cancel();
        drop(self.0.record.buffer().close());
        self.0.abort_spawned();
    }
}
