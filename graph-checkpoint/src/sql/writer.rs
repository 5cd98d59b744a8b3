//! SQLite's writes, one at a time, through one connection held out of the pool.
//!
//! SQLite lets one connection write at a time; a second waits on the file's lock in
//! `busy_timeout`, which sleeps in steps of milliseconds. Queued on an async mutex in
//! front of one connection instead, a write starts the moment the one before it ends. The
//! held connection also skips the pool's check-in, a round trip to the connection's
//! thread after every statement. Reads still come from the pool: in WAL mode they never
//! wait for the writer.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// The writer of one SQLite store.
#[derive(Debug)]
pub(super) struct Writer {
    pool: AnyPool,
    held: Mutex<Held>,
    /// A write failed in a way that leaves the connection unusable (its thread is gone):
    /// the next write takes a new one from the pool.
    lost: AtomicBool,
}

#[derive(Debug)]
enum Held {
    /// None taken yet, or the last one lost.
    Empty,
    Open(AnyConnection),
    /// [`Writer::close`] ran: writes fail as the closed pool's reads do.
    Closed,
}

impl Writer {
    /// A writer that takes its connection from `pool` on the first write (with the
    /// settings the pool gives its connections).
    pub(super) fn new(pool: AnyPool) -> Self {
        Self {
            pool,
            held: Mutex::new(Held::Empty),
            lost: AtomicBool::new(false),
        }
    }

    /// The connection, for one write; waits for the write under way.
    ///
    /// # Errors
    /// The pool's, when a connection is to be taken from it; `PoolClosed` once closed.
    pub(super) async fn lock(&self) -> Result<WriteConnection<'_>, sqlx::Error> {
        let mut held = self.held.lock().await;
        if self.lost.swap(false, Ordering::AcqRel) && matches!(*held, Held::Open(_)) {
            *held = Held::Empty;
        }
        match *held {
            Held::Closed => return Err(sqlx::Error::PoolClosed),
            Held::Empty => *held = Held::Open(self.pool.acquire().await?.detach()),
            Held::Open(_) => {}
        }
        MutexGuard::try_map(held, |held| match held {
            Held::Open(connection) => Some(connection),
            Held::Empty | Held::Closed => None,
        })
        .map(WriteConnection::Held)
        .map_err(|_| sqlx::Error::PoolClosed)
    }

    /// Notes `error` from a write: an error that leaves the connection unusable has the
    /// next write take a new one.
    pub(super) fn check(&self, error: &sqlx::Error) {
        if matches!(error, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_)) {
            self.lost.store(true, Ordering::Release);
        }
    }

    /// Closes the connection; later writes fail with `PoolClosed`.
    pub(super) async fn close(&self) {
        let held = std::mem::replace(&mut *self.held.lock().await, Held::Closed);
        if let Held::Open(connection) = held {
            // Closing finishes the connection's queued statements first; an error here
            // has nothing left to report to.
            let _ = sqlx::Connection::close(connection).await;
        }
    }
}

/// A connection to write on: SQLite's held one, or one of Postgres's pool.
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
