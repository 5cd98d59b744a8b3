//! A run's steps as checkpoints of its thread, and the thread's lease while it runs.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use crate::checkpoint::{
    CheckpointLine, Checkpointer, Durable, Source, StateDelta, step_delta, step_writes,
};
use crate::config::Durability;
use crate::error::CheckpointError;
use crate::graph::traits::GraphDef;
use crate::run::persist::{SaveFuture, StepSink, StepUpdates};

/// Stores a run's steps in its thread.
pub(super) struct ThreadSink<G: GraphDef> {
    pub(super) store: Arc<dyn Checkpointer>,
    pub(super) line: CheckpointLine,
    pub(super) durability: Durability,
    pub(super) first_step: u64,
    /// What the run's input changed: the delta of the first checkpoint the run writes.
    pub(super) input_delta: Option<StateDelta>,
    /// Durability `Exit`: the changes since the last stored checkpoint.
    pub(super) unsaved: StateDelta,
    /// Durability `Exit`: what the steps since then wrote, by node.
    pub(super) unsaved_writes: Map<String, Value>,
    pub(super) lease: Lease,
    pub(super) _graph: std::marker::PhantomData<fn() -> G>,
}

/// The thread held for one run: renewed in the background until given up.
pub(super) struct Lease {
    pub(super) store: Arc<dyn Checkpointer>,
    pub(super) thread_id: String,
    pub(super) owner: String,
    pub(super) renewal: Option<JoinHandle<()>>,
}

impl Lease {
    /// Renews the lease every third of `length` until given up.
    pub(super) fn keep(&mut self, length: Duration) {
        let store = Arc::clone(&self.store);
        let (thread_id, owner) = (self.thread_id.clone(), self.owner.clone());
        self.renewal = Some(tokio::spawn(async move {
            let mut every = tokio::time::interval(length / 3);
            every.tick().await;
            loop {
                every.tick().await;
                // A renewal that fails leaves the lease to expire; the run's own writes
                // report a lost database.
                if store.lock_thread(&thread_id, &owner, length).await.is_err() {
                    return;
                }
            }
        }));
    }

    /// Stops renewing; the future gives the thread up.
    fn release(&mut self) -> SaveFuture {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        let store = Arc::clone(&self.store);
        let (thread_id, owner) = (self.thread_id.clone(), self.owner.clone());
        Box::pin(async move { store.unlock_thread(&thread_id, &owner).await })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
            // Given up without a run's end (its stream dropped): unlocked in the
            // background when a runtime is there, else the lease expires.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(self.release());
            }
        }
    }
}

impl<G: GraphDef> ThreadSink<G>
where
    G::State: Durable,
{
    fn put(&self, checkpoint: crate::checkpoint::NewCheckpoint) -> SaveFuture {
        let store = Arc::clone(&self.store);
        Box::pin(async move { store.put(checkpoint).await })
    }
}

impl<G: GraphDef> StepSink<G> for ThreadSink<G>
where
    G::State: Durable,
{
    fn durability(&self) -> Durability {
        self.durability
    }

    fn first_step(&self) -> u64 {
        self.first_step
    }

    fn step_done(
        &mut self,
        step: u64,
        updates: &StepUpdates<G>,
        state: &G::State,
        next: Vec<String>,
    ) -> Result<Option<SaveFuture>, CheckpointError> {
        let (delta, writes) = match self.input_delta.take() {
            Some(delta) => (delta, Value::Null),
            None => (
                step_delta(updates, state)?,
                step_writes::<G::State>(updates)?,
            ),
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if self.durability == Durability::Exit {
            self.unsaved
                .then(delta)
                .map_err(|detail| CheckpointError::Encode { detail })?;
            if let Value::Object(writes) = writes {
                self.unsaved_writes.extend(writes);
            }
            return Ok(None);
        }
        let checkpoint = self
            .line
            .next(state, delta, step, Source::Loop, writes, next)?;
        Ok(Some(self.put(checkpoint)))
    }

    fn run_done(
        &mut self,
        step: u64,
        state: &G::State,
    ) -> Result<Option<SaveFuture>, CheckpointError> {
        let release = self.lease.release();
        if self.durability != Durability::Exit {
            return Ok(Some(release));
        }
        let delta = std::mem::take(&mut self.unsaved);
        let writes = std::mem::take(&mut self.unsaved_writes);
        let writes = if writes.is_empty() {
            Value::Null
        } else {
            Value::Object(writes)
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let checkpoint = self
            .line
            .next(state, delta, step, Source::Loop, writes, Vec::new())?;
        let save = self.put(checkpoint);
        Ok(Some(Box::pin(async move {
            save.await?;
            release.await
        })))
    }

    fn abandon(&mut self) {
        if let Some(renewal) = self.lease.renewal.take() {
            renewal.abort();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(self.lease.release());
            }
        }
    }
}
