//! SQLite's writes, one at a time: a queue in front of the connections that write.
//!
//! SQLite lets one connection write at a time; a second waits on the file's lock in
//! `busy_timeout`, which sleeps in steps of milliseconds. Queued on an async mutex in
//! front of the store's writing connections instead, a write starts the moment the one
//! before it ends. A run's writes go through the in-line connection (`local`); the rest
//! (threads' and runs' records, copies, deletes, the log's checkpoints) through a
//! connection of sqlx's held out of the pool, which skips the pool's check-in, a round
//! trip to the connection's thread after every statement. Reads still come from the pool:
//! in WAL mode they never wait for the writer.

use std::ops::{Deref, DerefMut};
#[cfg(feature = "sqlite")]
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "sqlite")]
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
#[cfg(feature = "sqlite")]
use stategraph_core::checkpoint::CheckpointError;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

#[cfg(feature = "sqlite")]
use super::local::{Local, Outcome};
#[cfg(feature = "sqlite")]
use super::statement::Statement;

/// The writer of one SQLite store.
#[derive(Debug)]
pub(super) struct Writer {
    pool: AnyPool,
    held: Mutex<Held>,
    /// A write through sqlx failed in a way that leaves its connection unusable (its
    /// thread is gone): the next write takes a new one from the pool.
    lost: AtomicBool,
    /// What the in-line connection opens; `None` for a database in memory, which only the
    /// pool's connections see.
    #[cfg(feature = "sqlite")]
    in_line: Option<InLine>,
}

/// The in-line connection's file and settings.
#[cfg(feature = "sqlite")]
#[derive(Debug)]
pub(super) struct InLine {
    pub(super) file: PathBuf,
    pub(super) syncs: bool,
    pub(super) busy_timeout: Duration,
}

/// The writing connections, each opened on the first write that needs it.
#[derive(Debug, Default)]
struct Held {
    connection: Option<AnyConnection>,
    #[cfg(feature = "sqlite")]
    local: Option<Local>,
    /// [`Writer::close`] ran: writes fail as the closed pool's reads do.
    closed: bool,
}

impl Writer {
    /// A writer whose sqlx connection comes from `pool` (with the settings the pool gives
    /// its connections).
    pub(super) fn new(pool: AnyPool, #[cfg(feature = "sqlite")] in_line: Option<InLine>) -> Self {
        Self {
            pool,
            held: Mutex::new(Held::default()),
            lost: AtomicBool::new(false),
            #[cfg(feature = "sqlite")]
            in_line,
        }
    }

    /// sqlx's connection, for one write; waits for the write under way.
    ///
    /// # Errors
    /// The pool's, when a connection is to be taken from it; `PoolClosed` once closed.
    pub(super) async fn lock(&self) -> Result<WriteConnection<'_>, sqlx::Error> {
        let mut held = self.held.lock().await;
        if self.lost.swap(false, Ordering::AcqRel) {
            held.connection = None;
        }
        if held.closed {
            return Err(sqlx::Error::PoolClosed);
        }
        if held.connection.is_none() {
            held.connection = Some(self.pool.acquire().await?.detach());
        }
        MutexGuard::try_map(held, |held| held.connection.as_mut())
            .map(WriteConnection::Held)
            .map_err(|_| sqlx::Error::PoolClosed)
    }

    /// Notes `error` from a write through sqlx: an error that leaves the connection
    /// unusable has the next write take a new one.
    pub(super) fn check(&self, error: &sqlx::Error) {
        if matches!(error, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_)) {
            self.lost.store(true, Ordering::Release);
        }
    }

    /// Whether writes can run on the in-line connection (the database is a file).
    #[cfg(feature = "sqlite")]
    pub(super) fn in_line(&self) -> bool {
        self.in_line.is_some()
    }

    /// Runs `statements` on the in-line connection, after the write under way; an error
    /// that leaves the database unreachable has the next write open it again.
    ///
    /// # Errors
    /// [`Local::run`]'s; [`CheckpointError::Unavailable`] once closed, or for a database
    /// in memory.
    #[cfg(feature = "sqlite")]
    pub(super) async fn run_in_line(
        &self,
        statements: Vec<Statement<'_>>,
    ) -> Result<Vec<Outcome>, CheckpointError> {
        let mut held = self.held.lock().await;
        let in_line = match &self.in_line {
            Some(in_line) if !held.closed => in_line,
            _ => return Err(super::from_sqlx(sqlx::Error::PoolClosed)),
        };
        let local = match &mut held.local {
            Some(local) => local,
            empty => empty.insert(Local::open(
                &in_line.file,
                in_line.syncs,
                in_line.busy_timeout,
            )?),
        };
        let done = local.run(statements).await;
        if matches!(done, Err(CheckpointError::Unavailable { .. })) {
            held.local = None;
        }
        done
    }

    /// Closes the connections; later writes fail with `PoolClosed`.
    pub(super) async fn close(&self) {
        let mut held = self.held.lock().await;
        held.closed = true;
        #[cfg(feature = "sqlite")]
        drop(held.local.take());
        if let Some(connection) = held.connection.take() {
            // Closing finishes the connection's queued statements first; an error here
            // has nothing left to report to.
            let _ = sqlx::Connection::close(connection).await;
        }
    }
}

/// A connection to write on through sqlx: SQLite's held one, or one of Postgres's pool.
pub(super) enum WriteConnection<'a> {
    /// SQLite's writer, held while this lives.
    Held(MappedMutexGuard<'a, AnyConnection>),
    /// A connection of the pool.
    Pooled(PoolConnection<Any>),
}

impl Deref for WriteConnection<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Held(connection) => connection,
            Self::Pooled(connection) => connection,
        }
    }
}

impl DerefMut for WriteConnection<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Held(connection) => connection,
            Self::Pooled(connection) => connection,
        }
    }
}
