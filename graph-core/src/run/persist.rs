//! What a run on a thread stores as it goes: the executor hands each finished step to a
//! [`StepSink`], which turns it into a checkpoint write, and polls the writes it gets back
//! in order, before or beside the next step as the durability asks.

use futures::future::BoxFuture;

use crate::config::Durability;
use crate::error::CheckpointError;
use crate::graph::traits::{GraphDef, State};

/// A checkpoint write under way.
pub(crate) type SaveFuture = BoxFuture<'static, Result<(), CheckpointError>>;

/// The update of each node of a step, in merge order.
pub(crate) type StepUpdates<G> = [(&'static str, <<G as GraphDef>::State as State>::Update)];

/// Turns a run's steps into checkpoint writes. Made by the thread that starts the run,
/// where the state is known to be storable; the executor sees only this.
pub(crate) trait StepSink<G: GraphDef>: Send {
    /// When the run's checkpoints are written.
    fn durability(&self) -> Durability;

    /// The step that starts the run: the run's first step is the one after it.
    fn first_step(&self) -> u64;

    /// The checkpoint after step `step` merged `updates` into `state`, with `next` due;
    /// `None` when the durability writes nothing now (`Exit` keeps what it needs).
    fn step_done(
        &mut self,
        step: u64,
        updates: &StepUpdates<G>,
        state: &G::State,
        next: Vec<String>,
    ) -> Result<Option<SaveFuture>, CheckpointError>;

    /// The run ended at `step` (`Exit` writes its one checkpoint now); then the thread is
    /// given up.
    fn run_done(
        &mut self,
        step: u64,
        state: &G::State,
    ) -> Result<Option<SaveFuture>, CheckpointError>;

    /// Gives the thread up when the run stops early (its stream dropped, or failed).
    fn abandon(&mut self);
}
