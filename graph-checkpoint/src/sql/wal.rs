//! SQLite's write-ahead log moved into the database file in the background, off the path
//! of the commits.
//!
//! By default the connection whose commit takes the log past 1,000 pages copies the log into
//! the database file before its commit returns: two `fsync`s and every page the log
//! changed, some milliseconds that a step writing its checkpoint once in every few hundred
//! would wait for. The store's connections turn that off (`wal_autocheckpoint = 0`) and
//! the store checkpoints on another connection of its pool after every
//! [`CHECKPOINT_EVERY`] writes instead. A commit is as durable either way: it is safe once
//! in the log, and reads find pages in the log until they are copied.
//!
//! The checkpoint is `PASSIVE`, which never holds a writer back, but copies only the log as
//! it stood when it began; and a log starts over from its beginning only once all of it is
//! copied. So a second `PASSIVE` checkpoint follows on the writer's own connection, writes
//! held back for that short while: it copies what was committed during the first (few
//! pages), so that the next commit starts the log over and the log stays as small as
//! SQLite's own checkpoints keep it. Neither waits for readers: pages a reader still needs
//! stay in the log until the next checkpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AnyConnection, AnyPool, Executor, Row};
use tokio::sync::Mutex;

use super::writer::Writer;

/// Writes between two checkpoints: a checkpoint row and its indexes take about four pages
/// of the log, so about the 1,000 pages after which SQLite would checkpoint on its own.
pub(super) const CHECKPOINT_EVERY: u32 = 256;

/// The checkpoints of one SQLite store.
#[derive(Debug, Default)]
pub(super) struct WalCheckpoints {
    /// Writes since the last checkpoint began.
    writes: AtomicU32,
    /// Held by the checkpoint under way: one at a time, so that one asked for does not find
    /// the log busy with one of the background's.
    running: Arc<Mutex<()>>,
}

impl WalCheckpoints {
    /// Counts a committed write; every [`CHECKPOINT_EVERY`] writes, starts a checkpoint
    /// in the background (in line when no Tokio runtime is there to run it) unless one is
    /// under way.
    pub(super) async fn wrote(&self, pool: &AnyPool, writer: &Arc<Writer>) {
        if self.writes.fetch_add(1, Ordering::Relaxed) + 1 < CHECKPOINT_EVERY {
            return;
        }
        let Ok(running) = Arc::clone(&self.running).try_lock_owned() else {
            return;
        };
        self.writes.store(0, Ordering::Relaxed);
        let (pool, writer) = (pool.clone(), Arc::clone(writer));
        let checkpoint = async move {
            checkpoint(&pool, &writer).await;
            drop(running);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(checkpoint)),
            Err(_) => checkpoint.await,
        }
    }

    /// Copies the whole log into the database file and empties it, writes held back
    /// meanwhile; `Ok(false)` when a reader, or another process's checkpoint, kept it
    /// from finishing.
    ///
    /// # Errors
    /// The database's.
    pub(super) async fn truncate(&self, writer: &Writer) -> Result<bool, sqlx::Error> {
        let _running = self.running.lock().await;
        let mut connection = writer.lock().await?;
        let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *connection)
            .await;
        writer.log_checkpointed();
        let row = row?;
        // The row is (busy, frames in the log, frames copied).
        Ok(row.try_get::<i64, _>(0)? == 0)
    }
}

#[cfg(test)]
impl WalCheckpoints {
    /// Whether a checkpoint is under way.
    pub(super) fn running(&self) -> bool {
        self.running.try_lock().is_err()
    }
}

/// Copies the log into the database file: most of it beside the writes, then the rest
/// with writes held back.
///
/// An error (a closed pool, a full disk) leaves the pages in the log, where reads still
/// find them and the next checkpoint copies them: it is not the error of the write that
/// started this one.
async fn checkpoint(pool: &AnyPool, writer: &Writer) {
    let Ok(mut connection) = pool.acquire().await else {
        return;
    };
    let copied = passive(&mut connection).await;
    writer.log_checkpointed();
    if copied.is_err() {
        return;
    }
    drop(connection);
    if let Ok(mut connection) = writer.lock().await {
        let _ = passive(&mut connection).await;
        writer.log_checkpointed();
    }
}

async fn passive(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    connection
        .execute("PRAGMA wal_checkpoint(PASSIVE)")
        .await
        .map(drop)
}
