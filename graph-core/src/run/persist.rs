//! What a run on a thread stores as it goes, and where a resumed run starts: the executor
//! hands each finished step and task to a [`StepSink`], which turns it into checkpoint
//! writes, and polls the writes it gets back in order, before or beside the next step as
//! the durability asks.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::frontier::NextTask;
use crate::checkpoint::{CheckpointId, CheckpointMeta, Checkpointer};
use crate::config::Durability;
use crate::error::CheckpointError;
use crate::graph::goto::NodeOutput;
use crate::graph::traits::{GraphDef, State};
use crate::interrupt::Interrupt;

/// A checkpoint write under way.
pub(crate) type SaveFuture = BoxFuture<'static, Result<(), CheckpointError>>;

type Update<G> = <<G as GraphDef>::State as State>::Update;

/// The update of each node of a step, in merge order.
pub(crate) type StepUpdates<G> = [(&'static str, Update<G>)];

/// The tasks due after a step, and each fan-in's progress: what a resumed run needs.
pub(crate) struct DueTasks<'a, G: GraphDef> {
    pub(crate) tasks: &'a [NextTask<G::Node, G::Sent>],
    pub(crate) joins: &'a [Vec<bool>],
}

/// A task's update and the nodes its `goto` named.
pub(crate) type Output<G> = NodeOutput<Update<G>, <G as GraphDef>::Node, <G as GraphDef>::Sent>;

/// A task of a stopped step that finished: its key, node, update and `goto`.
pub(crate) type FinishedTask<G> = (String, &'static str, Output<G>);

/// Turns a run's steps into checkpoint writes. Made by the thread that starts the run,
/// where the state is known to be storable; the executor sees only this.
pub(crate) trait StepSink<G: GraphDef>: Send {
    /// When the run's checkpoints are written.
    fn durability(&self) -> Durability;

    /// The checkpoint after step `step` merged `updates` into `state`, with `due` next;
    /// `None` when the durability writes nothing now (`Exit` keeps what it needs).
    fn step_done(
        &mut self,
        step: u64,
        updates: &StepUpdates<G>,
        state: &G::State,
        due: DueTasks<'_, G>,
    ) -> Result<Option<SaveFuture>, CheckpointError>;

    /// Task `task` (of node `node`) finished a step it shares with other tasks: its update
    /// and the nodes and `Send`s its `goto` named, stored at once so that a resume after a
    /// crash does not run it again and still goes where it said.
    fn task_done(
        &mut self,
        task: &str,
        node: &'static str,
        update: &Update<G>,
        goto: &[G::Node],
        sends: &[(G::Node, G::Sent)],
    ) -> Result<Option<SaveFuture>, CheckpointError>;

    /// The run stopped in step `step` on `interrupts` (none for a breakpoint), with
    /// `finished` the step's tasks that ended: stores what a resume needs, then gives the
    /// thread up. `state` is the state before the step.
    fn interrupted(
        &mut self,
        step: u64,
        state: &G::State,
        finished: &[FinishedTask<G>],
        interrupts: &[Interrupt],
    ) -> Result<SaveFuture, CheckpointError>;

    /// The run ended at `step` (`Exit` writes its one checkpoint now); then the thread is
    /// given up.
    fn run_done(
        &mut self,
        step: u64,
        state: &G::State,
    ) -> Result<Option<SaveFuture>, CheckpointError>;

    /// The checkpoints made since last asked, for checkpoints mode (none unless the sink
    /// was made to report them), each with the state it holds when that is not the run's
    /// current state.
    fn take_reported(&mut self) -> Vec<(CheckpointMeta, Option<G::State>)>;

    /// The newest checkpoint of the run's line: the one the next step follows.
    fn parent(&self) -> Option<CheckpointId>;

    /// Gives the thread up after the run failed, once what it stored is stored.
    fn release(&mut self) -> SaveFuture;

    /// Gives the thread up in the background when the run goes away early (its stream
    /// dropped).
    fn abandon(&mut self);
}

/// Where a run's checkpoints go: a thread of a store, in a namespace (empty for a root
/// graph, `node:<id>` segments joined by `|` for a subgraph's).
#[derive(Clone)]
pub(crate) struct ThreadRef {
    pub(crate) store: Arc<dyn Checkpointer>,
    pub(crate) thread_id: String,
    pub(crate) namespace: String,
}

/// The thread a run writes to, as its tasks see it: a subgraph run from one of them keeps
/// its own checkpoints there, in a namespace of its own.
pub(crate) struct RunThread {
    pub(crate) thread: ThreadRef,
    pub(crate) durability: Durability,
    /// The checkpoint the current step follows: part of the namespace of a subgraph a task
    /// runs, so that a resume of the step finds the subgraph's checkpoints again and a fork
    /// of the thread does not.
    pub(crate) step_checkpoint: std::sync::Mutex<Option<CheckpointId>>,
}

/// Where a run on a thread starts.
pub(crate) enum ThreadStart<G: GraphDef> {
    /// From its input, after step `step` (the checkpoint that applied the input).
    Input {
        /// The step the input was applied at.
        step: u64,
    },
    /// Inside a stopped step: its tasks run again but for those that had finished.
    Resume(ResumePoint<G>),
}

/// A step a thread stopped in (an interrupt, a breakpoint, a failure, a crash), to run
/// again.
pub(crate) struct ResumePoint<G: GraphDef> {
    /// The step of the checkpoint before it.
    pub(crate) after_step: u64,
    /// Its tasks.
    pub(crate) tasks: Vec<NextTask<G::Node, G::Sent>>,
    /// Each fan-in's progress before it.
    pub(crate) joins: Vec<Vec<bool>>,
    /// The updates (and `goto`s) of its tasks that had finished, by task key.
    pub(crate) finished: HashMap<String, Output<G>>,
    /// The answers to its tasks' interrupts, by task key.
    pub(crate) answers: HashMap<String, Vec<Value>>,
}
