//! A store in this process's memory: for tests and for runs that need threads but not
//! durability.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stategraph_core::checkpoint::{
    Checkpoint, CheckpointError, CheckpointId, CheckpointMeta, Checkpointer, ListOptions,
    NewCheckpoint, PendingWrite, RunQuery, RunRecord, StoreFuture, ThreadChange, ThreadQuery,
    ThreadRecord,
};

use crate::row::{StoredRow, fold_chain};

/// Checkpoints kept in memory, gone with the process. Cloning the `Arc` shares them.
#[derive(Debug, Default)]
pub struct MemoryCheckpointer {
    threads: Mutex<HashMap<String, Thread>>,
}

#[derive(Clone, Debug, Default)]
struct Thread {
    /// By namespace, then by id (so in creation order).
    checkpoints: BTreeMap<String, BTreeMap<CheckpointId, StoredRow>>,
    /// By namespace and checkpoint: the writes in the order stored.
    writes: HashMap<(String, CheckpointId), Vec<PendingWrite>>,
    lock: Option<(String, Instant)>,
    record: Option<ThreadRecord>,
    /// The runs' records, by run id.
    runs: HashMap<String, RunRecord>,
}

impl MemoryCheckpointer {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Thread>) -> T) -> T {
        // A panic while the lock was held left nothing half-done that matters here: every
        // change below is made whole before the lock is released.
        let mut threads = self
            .threads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut threads)
    }
}

impl Checkpointer for MemoryCheckpointer {
    fn put(&self, checkpoint: NewCheckpoint) -> StoreFuture<'_, ()> {
        let result = self.with(|threads| {
            let meta = &checkpoint.meta;
            let thread = threads.entry(meta.thread_id.clone()).or_default();
            let line = thread
                .checkpoints
                .entry(meta.checkpoint_ns.clone())
                .or_default();
            if line.contains_key(&meta.id) {
                return Err(CheckpointError::Database {
                    source: format!(
                        "checkpoint `{}` of thread `{}` is already stored",
                        meta.id, meta.thread_id
                    )
                    .into(),
                });
            }
            line.insert(meta.id, StoredRow::from(checkpoint));
            Ok(())
        });
        Box::pin(async move { result })
    }

    fn put_writes<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: CheckpointId,
        writes: Vec<PendingWrite>,
    ) -> StoreFuture<'a, ()> {
        self.with(|threads| {
            let stored = threads
                .entry(thread_id.to_owned())
                .or_default()
                .writes
                .entry((checkpoint_ns.to_owned(), id))
                .or_default();
            for write in writes {
                let same = stored
                    .iter()
                    .position(|w| w.task_id == write.task_id && w.channel == write.channel);
                match same {
                    Some(at) => stored[at] = write,
                    None => stored.push(write),
                }
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn get<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: Option<CheckpointId>,
    ) -> StoreFuture<'a, Option<Checkpoint>> {
        let result = self.with(|threads| {
            let Some(line) = threads
                .get(thread_id)
                .and_then(|thread| thread.checkpoints.get(checkpoint_ns))
            else {
                return Ok(None);
            };
            let target = match id {
                Some(id) => line.get(&id),
                None => line.values().next_back(),
            };
            let Some(target) = target else {
                return Ok(None);
            };
            // Up the parents to the nearest snapshot, then folded oldest first.
            let mut chain = vec![target];
            while let Some(last) = chain.last()
                && last.snapshot.is_none()
                && let Some(parent) = last.meta.parent_id.and_then(|id| line.get(&id))
            {
                chain.push(parent);
            }
            let oldest_parent = chain.last().and_then(|row| row.meta.parent_id);
            let links = chain
                .iter()
                .rev()
                .map(|row| (Some(&row.delta), row.snapshot.as_ref()));
            let values = fold_chain(&target.meta, oldest_parent, links)?;
            let pending_writes = threads
                .get(thread_id)
                .and_then(|thread| {
                    thread
                        .writes
                        .get(&(checkpoint_ns.to_owned(), target.meta.id))
                })
                .cloned()
                .unwrap_or_default();
            Ok(Some(Checkpoint {
                meta: target.meta.clone(),
                values,
                counters: target.counters,
                pending_writes,
            }))
        });
        Box::pin(async move { result })
    }

    fn list<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        options: ListOptions,
    ) -> StoreFuture<'a, Vec<CheckpointMeta>> {
        let listed = self.with(|threads| {
            let Some(line) = threads
                .get(thread_id)
                .and_then(|thread| thread.checkpoints.get(checkpoint_ns))
            else {
                return Vec::new();
            };
            line.values()
                .rev()
                .filter(|row| options.before.is_none_or(|before| row.meta.id < before))
                .take(options.limit.unwrap_or(usize::MAX))
                .map(|row| row.meta.clone())
                .collect()
        });
        Box::pin(async move { Ok(listed) })
    }

    fn copy_thread<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        let result = self.with(|threads| {
            if threads.get(to).is_some_and(|t| !t.checkpoints.is_empty()) {
                return Err(CheckpointError::Database {
                    source: format!("thread `{to}` already has checkpoints").into(),
                });
            }
            let Some(source) = threads.get(from) else {
                return Err(CheckpointError::NotFound {
                    thread: from.to_owned(),
                    at: None,
                });
            };
            let mut copy = source.clone();
            copy.lock = None;
            // Records are not copied: the destination keeps its own.
            copy.record = threads.get(to).and_then(|thread| thread.record.clone());
            copy.runs = threads
                .get(to)
                .map(|thread| thread.runs.clone())
                .unwrap_or_default();
            for row in copy.checkpoints.values_mut().flat_map(BTreeMap::values_mut) {
                row.meta.thread_id = to.to_owned();
            }
            threads.insert(to.to_owned(), copy);
            Ok(())
        });
        Box::pin(async move { result })
    }

    fn delete_thread<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()> {
        self.with(|threads| threads.remove(thread_id));
        Box::pin(async { Ok(()) })
    }

    fn lock_thread<'a>(
        &'a self,
        thread_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, ()> {
        let result = self.with(|threads| {
            let thread = threads.entry(thread_id.to_owned()).or_default();
            let now = Instant::now();
            match &thread.lock {
                Some((holder, until)) if holder != owner && *until > now => {
                    Err(CheckpointError::ThreadBusy {
                        thread: thread_id.to_owned(),
                    })
                }
                _ => {
                    thread.lock = Some((owner.to_owned(), now + lease));
                    Ok(())
                }
            }
        });
        Box::pin(async move { result })
    }

    fn unlock_thread<'a>(&'a self, thread_id: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        self.with(|threads| {
            if let Some(thread) = threads.get_mut(thread_id)
                && thread
                    .lock
                    .as_ref()
                    .is_some_and(|(holder, _)| holder == owner)
            {
                thread.lock = None;
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn create_thread(&self, record: ThreadRecord) -> StoreFuture<'_, bool> {
        let created = self.with(|threads| {
            let thread = threads.entry(record.thread_id.clone()).or_default();
            if thread.record.is_some() {
                return false;
            }
            thread.record = Some(record);
            true
        });
        Box::pin(async move { Ok(created) })
    }

    fn get_thread<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, Option<ThreadRecord>> {
        let record = self.with(|threads| threads.get(thread_id).and_then(|t| t.record.clone()));
        Box::pin(async move { Ok(record) })
    }

    fn update_thread<'a>(
        &'a self,
        thread_id: &'a str,
        change: ThreadChange,
    ) -> StoreFuture<'a, Option<ThreadRecord>> {
        let record = self.with(|threads| {
            let record = threads.get_mut(thread_id)?.record.as_mut()?;
            record.apply(change, std::time::SystemTime::now());
            Some(record.clone())
        });
        Box::pin(async move { Ok(record) })
    }

    fn search_threads(&self, query: ThreadQuery) -> StoreFuture<'_, Vec<ThreadRecord>> {
        let found = self.with(|threads| {
            query.select(threads.values().filter_map(|thread| thread.record.as_ref()))
        });
        Box::pin(async move { Ok(found) })
    }

    fn put_run(&self, run: RunRecord) -> StoreFuture<'_, ()> {
        self.with(|threads| {
            let thread = threads.entry(run.thread_id.clone()).or_default();
            thread.runs.insert(run.run_id.clone(), run);
        });
        Box::pin(async { Ok(()) })
    }

    fn get_run<'a>(
        &'a self,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>> {
        let run = self.with(|threads| threads.get(thread_id)?.runs.get(run_id).cloned());
        Box::pin(async move { Ok(run) })
    }

    fn list_runs<'a>(
        &'a self,
        thread_id: &'a str,
        query: RunQuery,
    ) -> StoreFuture<'a, Vec<RunRecord>> {
        let found = self.with(|threads| {
            let Some(thread) = threads.get(thread_id) else {
                return Vec::new();
            };
            let mut found: Vec<&RunRecord> = thread
                .runs
                .values()
                .filter(|run| query.status.is_none_or(|status| status == run.status))
                .collect();
            // Newest first; ids break ties so that pages do not overlap.
            found.sort_by(|a, b| (b.created_at, &b.run_id).cmp(&(a.created_at, &a.run_id)));
            found
                .into_iter()
                .skip(query.offset)
                .take(query.limit)
                .cloned()
                .collect()
        });
        Box::pin(async move { Ok(found) })
    }

    fn delete_run<'a>(&'a self, thread_id: &'a str, run_id: &'a str) -> StoreFuture<'a, bool> {
        let deleted = self.with(|threads| {
            threads
                .get_mut(thread_id)
                .is_some_and(|thread| thread.runs.remove(run_id).is_some())
        });
        Box::pin(async move { Ok(deleted) })
    }

    fn delete_run_checkpoints<'a>(
        &'a self,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, ()> {
        self.with(|threads| {
            let Some(thread) = threads.get_mut(thread_id) else {
                return;
            };
            let mut removed = Vec::new();
            for (ns, line) in &mut thread.checkpoints {
                line.retain(|id, row| {
                    let by_run = row.meta.run_id.as_deref() == Some(run_id);
                    if by_run {
                        removed.push((ns.clone(), *id));
                    }
                    !by_run
                });
            }
            for key in removed {
                thread.writes.remove(&key);
            }
        });
        Box::pin(async { Ok(()) })
    }
}
