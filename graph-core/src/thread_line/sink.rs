//! A run's steps as checkpoints of its thread, and the thread's lease while it runs.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::frontier;
use crate::checkpoint::{
    Checkpoint, CheckpointId, CheckpointLine, CheckpointMeta, Checkpointer, Due, Durable,
    NewCheckpoint, PendingWrite, Source, StateDelta, step_delta,
};
use crate::config::Durability;
use crate::error::CheckpointError;
use crate::graph::traits::{GraphDef, GraphNode, State};
use crate::interrupt::Interrupt;
use crate::run::persist::{DueTasks, FinishedTask, SaveFuture, StepSink, StepUpdates};

/// Stores a run's steps in its thread.
pub(crate) struct ThreadSink<G: GraphDef> {
    pub(crate) store: Arc<dyn Checkpointer>,
    pub(crate) line: CheckpointLine,
    pub(crate) durability: Durability,
    /// Durability `Async`: the input checkpoint, stored ahead of the run's first write
    /// (every write the sink hands out takes it first while it is here), so that the
    /// run starts without waiting for it.
    pub(crate) input: Option<NewCheckpoint>,
    /// What the run changed before its first step (its input, or a command's update):
    /// the start of the first checkpoint's delta.
    pub(crate) input_delta: Option<StateDelta>,
    /// Durability `Exit`: what is not stored yet (the changes and the tasks due after the
    /// last step).
    pub(crate) unsaved: Unsaved,
    /// The thread held for the run; `None` for a subgraph's run, whose parent holds it.
    pub(crate) lease: Option<Lease>,
    /// Checkpoints mode is on: the checkpoints made are kept for the stream.
    pub(crate) report: bool,
    pub(crate) reported: Vec<(CheckpointMeta, Option<G::State>)>,
}

/// Durability `Exit`: the steps since the last stored checkpoint.
#[derive(Default)]
pub(crate) struct Unsaved {
    delta: StateDelta,
    due: Due,
}

/// The thread held for one run: renewed in the background until given up.
pub(crate) struct Lease {
    pub(crate) store: Arc<dyn Checkpointer>,
    pub(crate) thread_id: String,
    pub(crate) owner: String,
    pub(crate) renewal: Option<JoinHandle<()>>,
}

impl Lease {
    /// Takes thread `thread_id` for `owner`, reads its checkpoint `at` (its newest when
    /// `None`) in namespace `checkpoint_ns`, and renews the lease every third of `length`
    /// until given up.
    ///
    /// # Errors
    /// [`CheckpointError::ThreadBusy`] while another run holds it; the store's errors, the
    /// thread given up again when this call may have taken it.
    pub(crate) async fn take_and_read(
        store: &Arc<dyn Checkpointer>,
        thread_id: &str,
        checkpoint_ns: &str,
        at: Option<CheckpointId>,
        owner: String,
        length: Duration,
    ) -> Result<(Self, Option<Checkpoint>), CheckpointError> {
        let checkpoint = match store
            .lock_and_get(thread_id, checkpoint_ns, at, &owner, length)
            .await
        {
            Ok(checkpoint) => checkpoint,
            Err(error) => {
                // The read may have failed after the lease was taken. Unlocking touches
                // only this owner's lease, so a thread busy with another run stays so;
                // the error that stopped the run matters more than one giving it up.
                let _ = store.unlock_thread(thread_id, &owner).await;
                return Err(error);
            }
        };
        let mut lease = Self {
            store: Arc::clone(store),
            thread_id: thread_id.to_owned(),
            owner,
            renewal: None,
        };
        let store = Arc::clone(store);
        let (thread_id, owner) = (lease.thread_id.clone(), lease.owner.clone());
        lease.renewal = Some(tokio::spawn(async move {
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
        Ok((lease, checkpoint))
    }

    /// Stops renewing; the future gives the thread up.
    pub(crate) fn release(&mut self) -> SaveFuture {
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
    fn put(&mut self, checkpoint: NewCheckpoint) -> SaveFuture {
        if self.report {
            self.reported.push((checkpoint.meta.clone(), None));
        }
        let store = Arc::clone(&self.store);
        let input = self.input.take();
        Box::pin(async move {
            if let Some(input) = input {
                store.put(input).await?;
            }
            store.put(checkpoint).await
        })
    }

    /// Stores `writes` as pending after the line's newest checkpoint.
    fn put_writes(&mut self, writes: Vec<PendingWrite>) -> SaveFuture {
        let store = Arc::clone(&self.store);
        let (thread_id, namespace) = (
            self.line.thread_id().to_owned(),
            self.line.namespace().to_owned(),
        );
        let parent = self.line.parent();
        let input = self.input.take();
        Box::pin(async move {
            if let Some(input) = input {
                store.put(input).await?;
            }
            match parent {
                Some(parent) if !writes.is_empty() => {
                    store
                        .put_writes(&thread_id, &namespace, parent, writes)
                        .await
                }
                _ => Ok(()),
            }
        })
    }

    /// Gives the thread up, if this run holds it, once a deferred input is stored.
    fn release_lease(&mut self) -> SaveFuture {
        let release = match &mut self.lease {
            Some(lease) => lease.release(),
            None => Box::pin(async { Ok(()) }),
        };
        match self.input.take() {
            None => release,
            Some(input) => {
                let store = Arc::clone(&self.store);
                Box::pin(async move {
                    store.put(input).await?;
                    release.await
                })
            }
        }
    }

    /// Durability `Exit`: the checkpoint of the steps not stored yet.
    fn put_unsaved(&mut self, step: u64, state: &G::State) -> Result<SaveFuture, CheckpointError> {
        let Unsaved { delta, due } = std::mem::take(&mut self.unsaved);
        let checkpoint = self
            .line
            .next(state, delta, stored_step(step), Source::Loop, due)?;
        Ok(self.put(checkpoint))
    }
}

impl<G: GraphDef> StepSink<G> for ThreadSink<G>
where
    G::State: Durable,
{
    fn durability(&self) -> Durability {
        self.durability
    }

    fn step_done(
        &mut self,
        step: u64,
        updates: &StepUpdates<G>,
        state: &G::State,
        due: DueTasks<'_, G>,
    ) -> Result<Option<SaveFuture>, CheckpointError> {
        let mut delta = self.input_delta.take().unwrap_or_default();
        if !updates.is_empty() {
            delta
                .then(step_delta(updates, state)?)
                .map_err(|detail| CheckpointError::Encode { detail })?;
        }
        let due = frontier::encode(&due)?;
        if self.durability == Durability::Exit {
            self.unsaved
                .delta
                .then(delta)
                .map_err(|detail| CheckpointError::Encode { detail })?;
            self.unsaved.due = due;
            return Ok(None);
        }
        let checkpoint = self
            .line
            .next(state, delta, stored_step(step), Source::Loop, due)?;
        Ok(Some(self.put(checkpoint)))
    }

    fn task_done(
        &mut self,
        task: &str,
        node: &'static str,
        update: &<G::State as State>::Update,
        goto: &[G::Node],
        sends: &[(G::Node, G::Sent)],
    ) -> Result<Option<SaveFuture>, CheckpointError> {
        if self.durability == Durability::Exit {
            return Ok(None);
        }
        let mut writes = Vec::with_capacity(1 + goto.len() + sends.len());
        task_writes::<G>(&mut writes, task, node, update, goto, sends)?;
        Ok(Some(self.put_writes(writes)))
    }

    fn interrupted(
        &mut self,
        step: u64,
        state: &G::State,
        finished: &[FinishedTask<G>],
        interrupts: &[Interrupt],
    ) -> Result<SaveFuture, CheckpointError> {
        let checkpoint = if self.durability == Durability::Exit {
            Some(self.put_unsaved(step, state)?)
        } else {
            None
        };
        let mut writes = Vec::with_capacity(finished.len() + interrupts.len());
        for (task, node, output) in finished {
            task_writes::<G>(
                &mut writes,
                task,
                node,
                &output.update,
                &output.goto,
                &output.sends,
            )?;
        }
        for interrupt in interrupts {
            writes.push(PendingWrite {
                task_id: interrupt.task().to_owned(),
                node: interrupt.node().to_owned(),
                channel: PendingWrite::INTERRUPT.to_owned(),
                value: interrupt.to_stored(),
            });
        }
        let writes = self.put_writes(writes);
        let release = self.release_lease();
        Ok(Box::pin(async move {
            if let Some(checkpoint) = checkpoint {
                checkpoint.await?;
            }
            writes.await?;
            release.await
        }))
    }

    fn run_done(
        &mut self,
        step: u64,
        state: &G::State,
    ) -> Result<Option<SaveFuture>, CheckpointError> {
        let release = self.release_lease();
        if self.durability != Durability::Exit {
            return Ok(Some(release));
        }
        let save = self.put_unsaved(step, state)?;
        Ok(Some(Box::pin(async move {
            save.await?;
            release.await
        })))
    }

    fn take_reported(&mut self) -> Vec<(CheckpointMeta, Option<G::State>)> {
        std::mem::take(&mut self.reported)
    }

    fn parent(&self) -> Option<CheckpointId> {
        self.line.parent()
    }

    fn release(&mut self) -> SaveFuture {
        self.release_lease()
    }

    fn abandon(&mut self) {
        if let Some(lease) = &mut self.lease
            && let Some(renewal) = lease.renewal.take()
        {
            renewal.abort();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(lease.release());
            }
        }
    }
}

/// A step as stored: they are counted from -1, and never come near `i64::MAX`.
fn stored_step(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// The pending writes of a finished task: its update, then one `branch:to:<node>` per node
/// its `goto` named (LangGraph's channels for a `Command`'s goto), then the `Send`s it named
/// as one `__pregel_tasks` list (LangGraph's channel for them; one write, since a store keeps
/// one write per task and channel), so that a resume of the step still goes there.
fn task_writes<G: GraphDef>(
    writes: &mut Vec<PendingWrite>,
    task: &str,
    node: &str,
    update: &<G::State as State>::Update,
    goto: &[G::Node],
    sends: &[(G::Node, G::Sent)],
) -> Result<(), CheckpointError>
where
    G::State: Durable,
{
    writes.push(PendingWrite {
        task_id: task.to_owned(),
        node: node.to_owned(),
        channel: PendingWrite::UPDATE.to_owned(),
        value: Value::Object(G::State::update_to_json(update)?),
    });
    writes.extend(goto.iter().map(|target| PendingWrite {
        task_id: task.to_owned(),
        node: node.to_owned(),
        channel: target.branch_trigger().to_owned(),
        value: Value::Null,
    }));
    if !sends.is_empty() {
        let sends = sends
            .iter()
            .map(|(target, input)| frontier::encode_send::<G>(*target, input))
            .collect::<Result<_, _>>()?;
        writes.push(PendingWrite {
            task_id: task.to_owned(),
            node: node.to_owned(),
            channel: PendingWrite::TASKS.to_owned(),
            value: Value::Array(sends),
        });
    }
    Ok(())
}
