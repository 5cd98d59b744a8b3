//! The trait a checkpoint store implements.

use std::time::Duration;

use futures::future::BoxFuture;

use super::record::{
    Checkpoint, CheckpointId, CheckpointMeta, ListOptions, NewCheckpoint, PendingWrite,
};
use super::run_record::{RunQuery, RunRecord};
use super::thread_record::{ThreadChange, ThreadQuery, ThreadRecord};
use crate::error::CheckpointError;

/// What a store's methods return: a boxed future, so that the trait can be used as
/// `Arc<dyn Checkpointer>`.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, CheckpointError>>;

/// Stores the checkpoints of threads: what the runtime writes after each step and reads to
/// resume, and what a server lists, copies and deletes.
///
/// Each method is one transaction: a failed write leaves nothing half-written. A thread's
/// checkpoints are keyed by thread id, namespace and checkpoint id; namespaces keep a
/// subgraph's checkpoints apart from its parent's.
pub trait Checkpointer: Send + Sync + 'static {
    /// Writes a checkpoint. Writing one whose id is already stored is an error
    /// ([`CheckpointError::Database`]): checkpoints are never overwritten.
    fn put(&self, checkpoint: NewCheckpoint) -> StoreFuture<'_, ()>;

    /// Stores what tasks that finished after checkpoint `id` wrote, before the step's own
    /// checkpoint: a resumed run applies them and runs only the other tasks. Writing the
    /// same task and channel again replaces the earlier write.
    fn put_writes<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: CheckpointId,
        writes: Vec<PendingWrite>,
    ) -> StoreFuture<'a, ()>;

    /// The checkpoint `id` of the thread, or its newest when `id` is `None`, with its whole
    /// state and the pending writes after it; `None` when there is no such checkpoint.
    fn get<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: Option<CheckpointId>,
    ) -> StoreFuture<'a, Option<Checkpoint>>;

    /// The thread's checkpoints in one namespace, newest first.
    fn list<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        options: ListOptions,
    ) -> StoreFuture<'a, Vec<CheckpointMeta>>;

    /// Copies every checkpoint and pending write of thread `from` (all namespaces) to
    /// thread `to`, which must have none. Records are not copied: `to`'s stays as it is.
    fn copy_thread<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()>;

    /// Deletes every checkpoint, pending write and lock of the thread, its record and its runs' records.
    fn delete_thread<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()>;

    /// Takes, or renews, the thread for `owner` for `lease`: fails with
    /// [`CheckpointError::ThreadBusy`] while another owner's lease runs. The lease lives in
    /// the database, so it holds across processes; a process that dies stops renewing it,
    /// and it expires `lease` after the last renewal.
    fn lock_thread<'a>(
        &'a self,
        thread_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, ()>;

    /// [`lock_thread`](Self::lock_thread), then [`get`](Self::get) of the thread's newest
    /// checkpoint or checkpoint `id`: what a run does first. One call, so that a store can
    /// do both on one connection (the SQL store: in one transaction on SQLite, one pooled
    /// connection taken once on Postgres). On an error the lease may be held: the caller
    /// gives it up with
    /// [`unlock_thread`](Self::unlock_thread), which leaves another owner's alone.
    fn lock_and_get<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: Option<CheckpointId>,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Option<Checkpoint>> {
        Box::pin(async move {
            self.lock_thread(thread_id, owner, lease).await?;
            self.get(thread_id, checkpoint_ns, id).await
        })
    }

    /// Gives the thread up, if `owner` holds it.
    fn unlock_thread<'a>(&'a self, thread_id: &'a str, owner: &'a str) -> StoreFuture<'a, ()>;

    /// Stores `record` unless the thread already has one: returns whether it was stored (an
    /// existing record is left as it is).
    fn create_thread(&self, record: ThreadRecord) -> StoreFuture<'_, bool>;

    /// The thread's record, `None` when it has none.
    fn get_thread<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, Option<ThreadRecord>>;

    /// Applies `change` to the thread's record ([`ThreadRecord::apply`], `updated_at` now)
    /// and returns the new record; `None`, changing nothing, when the thread has none.
    fn update_thread<'a>(
        &'a self,
        thread_id: &'a str,
        change: ThreadChange,
    ) -> StoreFuture<'a, Option<ThreadRecord>>;

    /// The records `query` selects ([`ThreadQuery`]), newest created first.
    fn search_threads(&self, query: ThreadQuery) -> StoreFuture<'_, Vec<ThreadRecord>>;

    /// Stores `run`, replacing the record of the same run id if there is one.
    fn put_run(&self, run: RunRecord) -> StoreFuture<'_, ()>;

    /// The record of run `run_id` on thread `thread_id`, `None` when there is none.
    fn get_run<'a>(
        &'a self,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>>;

    /// The thread's run records `query` selects, newest created first.
    fn list_runs<'a>(
        &'a self,
        thread_id: &'a str,
        query: RunQuery,
    ) -> StoreFuture<'a, Vec<RunRecord>>;

    /// Deletes the run's record; returns whether there was one.
    fn delete_run<'a>(&'a self, thread_id: &'a str, run_id: &'a str) -> StoreFuture<'a, bool>;

    /// Deletes the thread's checkpoints that run `run_id` wrote (every namespace) and the
    /// pending writes stored after them: what rolling a run back removes. Checkpoints
    /// written after them by other runs would lose their parents, so call it only for a
    /// thread's last run.
    fn delete_run_checkpoints<'a>(
        &'a self,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, ()>;
}
