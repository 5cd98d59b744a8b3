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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
#[cfg(feature = "sqlite")]
use stategraph_core::checkpoint::CheckpointError;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

#[cfg(feature = "sqlite")]
use super::local::{IN_LINE_BYTES, Local, LocalFile, Outcome, carried};
#[cfg(feature = "sqlite")]
use super::statement::Statement;

/// The writer of one SQLite store.
#[derive(Debug)]
pub(super) struct Writer {
    pool: AnyPool,
    /// The queue; shared with a blocking thread while a write waits there.
    held: Arc<Mutex<Held>>,
    /// A write through sqlx failed in a way that leaves its connection unusable (its
    /// thread is gone): the next write takes a new one from the pool.
    lost: AtomicBool,
    /// What the in-line connection opens; `None` when it has none (`local::file_of`).
    #[cfg(feature = "sqlite")]
    local_file: Option<LocalFile>,
    /// A checkpoint of the log may have copied all of it: the next commit starts the log
    /// over, which syncs the disk, so it does not run in line. Set to begin with, since
    /// the first commit to a new file writes the log's header too.
    #[cfg(feature = "sqlite")]
    log_restarts: AtomicBool,
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
    pub(super) fn new(
        pool: AnyPool,
        #[cfg(feature = "sqlite")] local_file: Option<LocalFile>,
    ) -> Self {
        Self {
            pool,
            held: Arc::default(),
            lost: AtomicBool::new(false),
            #[cfg(feature = "sqlite")]
            local_file,
            #[cfg(feature = "sqlite")]
            log_restarts: AtomicBool::new(true),
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

    /// Notes that a checkpoint of the log ran (`log_restarts`).
    pub(super) fn log_checkpointed(&self) {
        #[cfg(feature = "sqlite")]
        self.log_restarts.store(true, Ordering::Release);
    }

    /// Whether writes run on the in-line connection.
    #[cfg(feature = "sqlite")]
    pub(super) fn has_local(&self) -> bool {
        self.local_file.is_some()
    }

    /// Runs `statements` on the in-line connection, after the write under way: in line
    /// unless it has to wait. An error that leaves the connection unusable has the next
    /// write open another.
    ///
    /// # Errors
    /// [`Local::run_now`]'s and [`Local::run_waiting`]'s; [`CheckpointError::Unavailable`]
    /// once closed.
    #[cfg(feature = "sqlite")]
    pub(super) async fn run_local(
        &self,
        statements: Vec<Statement<'_>>,
    ) -> Result<Vec<Outcome>, CheckpointError> {
        let mut held = Arc::clone(&self.held).lock_owned().await;
        let file = match &self.local_file {
            Some(file) if !held.closed => file,
            _ => return Err(super::from_sqlx(sqlx::Error::PoolClosed)),
        };
        let local = match held.local.take() {
            Some(local) => local,
            None => Local::open(file).await?,
        };
        let waits = file.syncs
            || self.log_restarts.swap(false, Ordering::AcqRel)
            || carried(&statements) > IN_LINE_BYTES;
        let now = if waits {
            None
        } else {
            local.run_now(&statements)
        };
        let (mut held, done) = match now {
            Some(done) => (held, done),
            None => local.run_waiting(held, statements, file).await?,
        };
        if !matches!(done, Err(CheckpointError::Unavailable { .. })) {
            held.local = Some(local);
        }
        done
    }

    /// Closes the connections, after the write under way; later writes fail with
    /// `PoolClosed`.
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
