//! The idle connections of one client, kept for keep-alive.
//!
//! A client has one endpoint, so scheme, host and port are the same for every connection;
//! what still separates them is the runtime: a socket is registered with the I/O driver of
//! the runtime that opened it, and on another runtime (a current-thread one that is not
//! running, say) it would never become ready. Connections are therefore pooled per runtime.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::direct::Conn;

/// Idle connections kept per runtime; more than this many parallel calls that end together
/// close the surplus rather than hold sockets open.
const MAX_IDLE: usize = 32;
/// How long an idle connection is kept; servers close theirs sooner or later, and a
/// connection found dead is only replaced when it is taken, not watched.
const IDLE_FOR: Duration = Duration::from_secs(90);

/// Which runtime's I/O driver a connection's socket belongs to (`None`: outside any).
pub(super) type PoolKey = Option<tokio::runtime::Id>;

/// The key for connections opened or used from here.
pub(super) fn current_key() -> PoolKey {
    tokio::runtime::Handle::try_current()
        .ok()
        .map(|handle| handle.id())
}

#[derive(Default)]
pub(super) struct Pool {
    idle: Mutex<HashMap<PoolKey, Vec<Idle>>>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

impl Pool {
    /// The most recently used connection that is still open and ready for a request.
    pub(super) fn take(&self, key: PoolKey) -> Option<Conn> {
        let mut idle = self.lock();
        let conns = idle.get_mut(&key)?;
        // Dead connections found on the way are dropped here, under the lock: dropping one
        // only closes its socket.
        while let Some(Idle { mut conn, since }) = conns.pop() {
            if since.elapsed() < IDLE_FOR && conn.is_reusable() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn`, whose last response was read to its end, for the next request.
    pub(super) fn put(&self, key: PoolKey, conn: Conn) {
        let mut idle = self.lock();
        let conns = idle.entry(key).or_default();
        if conns.len() < MAX_IDLE {
            conns.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PoolKey, Vec<Idle>>> {
        // The map is consistent between any two statements: a panic elsewhere while it was
        // held leaves nothing half-done.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
