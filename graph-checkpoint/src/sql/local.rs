//! SQLite's writes on the calling thread, through a connection of the store's own
//! (rusqlite's), not on the thread sqlx runs each SQLite connection on.
//!
//! Through sqlx, every statement is a round trip to the connection's thread, and a thread
//! that slept (through a model's answer, between two steps) is slow to wake on a virtual
//! machine: hundreds of microseconds, several times what a run's statements take. A run's
//! writes (its lease and the read that starts it, its checkpoints and pending writes) run in
//! line instead: in WAL mode with `synchronous=NORMAL` a commit appends to the log without
//! syncing the disk, microseconds.
//!
//! Nothing in line may wait. The connection's `busy_timeout` is 0: a write that finds the
//! file locked by another process (`SQLITE_BUSY`, before anything is written) runs again on
//! a blocking thread with the store's `busy_timeout`. With `synchronous=FULL` every commit
//! syncs the disk, so every write runs there.

use std::path::Path;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Duration;

use rusqlite::types::{Null, Value};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use stategraph_core::checkpoint::CheckpointError;

use super::columns::Columns;
use super::errors::from_rusqlite;
use super::statement::{Param, Statement};

/// Prepared statements kept: a run's few, and the `INSERT`s of pending writes by row count.
const CACHED_STATEMENTS: usize = 64;

/// SQLite's in-line connection.
#[derive(Debug)]
pub(super) struct Local {
    /// Shared with a blocking thread while a write waits there.
    connection: Arc<Mutex<Connection>>,
    /// `synchronous=FULL`: every commit syncs the disk, so no write runs in line.
    syncs: bool,
    /// How long a write waits for another process's lock, on a blocking thread.
    busy_timeout: Duration,
}

/// What a statement did.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Rows changed, by a statement that returns none.
    Changed(u64),
    /// The rows it returned.
    Rows(Vec<LocalRow>),
}

/// A row read in line, its values owned.
#[derive(Debug)]
pub(super) struct LocalRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Local {
    /// Opens `file` (which the pool created and migrated) for writing.
    ///
    /// # Errors
    /// SQLite's, typed.
    pub(super) fn open(
        file: &Path,
        syncs: bool,
        busy_timeout: Duration,
    ) -> Result<Self, CheckpointError> {
        let connection = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(from_rusqlite)?;
        connection
            .busy_timeout(Duration::ZERO)
            .map_err(from_rusqlite)?;
        let synchronous = if syncs { "FULL" } else { "NORMAL" };
        // The store checkpoints the log itself, off the commits' path (wal.rs).
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = {synchronous}; PRAGMA wal_autocheckpoint = 0;"
            ))
            .map_err(from_rusqlite)?;
        connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            syncs,
            busy_timeout,
        })
    }

    /// Runs `statements`, in one transaction when there are more than one: in line unless
    /// the write has to wait.
    ///
    /// # Errors
    /// SQLite's, typed; [`CheckpointError::Locked`] when another process held the file past
    /// the busy timeout. A failed transaction is rolled back.
    pub(super) async fn run(
        &self,
        statements: Vec<Statement<'_>>,
    ) -> Result<Vec<Outcome>, CheckpointError> {
        if !self.syncs {
            // Busy only while a write whose caller gave up on it still runs on a blocking
            // thread: this one queues behind it there instead of blocking here.
            let in_line = match self.connection.try_lock() {
                Ok(connection) => Some(execute(&connection, &statements)),
                Err(TryLockError::WouldBlock) => None,
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
            };
            match in_line {
                Some(Err(error)) if is_busy(&error) => {}
                Some(done) => return done.map_err(from_rusqlite),
                None => {}
            }
        }
        let statements: Vec<Statement<'static>> =
            statements.into_iter().map(Statement::into_owned).collect();
        let connection = Arc::clone(&self.connection);
        let busy_timeout = self.busy_timeout;
        let waiting = move || {
            let connection = connection.lock().map_err(|_| poisoned())?;
            connection
                .busy_timeout(busy_timeout)
                .map_err(from_rusqlite)?;
            let done = execute(&connection, &statements);
            let reset = connection.busy_timeout(Duration::ZERO);
            let outcomes = done.map_err(from_rusqlite)?;
            reset.map_err(from_rusqlite)?;
            Ok(outcomes)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(waiting).await.map_err(|error| {
                CheckpointError::Unavailable {
                    source: Box::new(error),
                }
            })?,
            Err(_) => waiting(),
        }
    }
}

/// A panic while the connection was held (none of this module's code panics).
fn poisoned() -> CheckpointError {
    CheckpointError::Unavailable {
        source: "SQLite's connection was left in an unknown state by a panic".into(),
    }
}

/// Another connection holds the file's write lock: nothing was written.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.code == ErrorCode::DatabaseBusy)
}

fn execute(
    connection: &Connection,
    statements: &[Statement<'_>],
) -> rusqlite::Result<Vec<Outcome>> {
    if let [statement] = statements {
        return Ok(vec![run_one(connection, statement)?]);
    }
    // `IMMEDIATE` takes the write lock at once, so a busy file fails here, before any
    // statement ran.
    connection
        .prepare_cached("BEGIN IMMEDIATE")?
        .raw_execute()?;
    let done = statements
        .iter()
        .map(|statement| run_one(connection, statement))
        .collect::<rusqlite::Result<Vec<_>>>()
        .and_then(|outcomes| {
            connection.prepare_cached("COMMIT")?.raw_execute()?;
            Ok(outcomes)
        });
    if done.is_err() && !connection.is_autocommit() {
        // The error to report is the statement's; a rollback that fails leaves nothing
        // committed either.
        let _ = connection.execute_batch("ROLLBACK");
    }
    done
}

fn run_one(connection: &Connection, statement: &Statement<'_>) -> rusqlite::Result<Outcome> {
    // `?N` is SQLite's spelling of a parameter bound by its number, as `$N` is Postgres's.
    let sql = statement.sql.replace('$', "?");
    let mut prepared = connection.prepare_cached(&sql)?;
    if prepared.parameter_count() != statement.params.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            statement.params.len(),
            prepared.parameter_count(),
        ));
    }
    for (index, param) in statement.params.iter().enumerate() {
        match param {
            Param::Text(Some(text)) => prepared.raw_bind_parameter(index + 1, text.as_ref())?,
            Param::Text(None) => prepared.raw_bind_parameter(index + 1, Null)?,
            Param::Int(number) => prepared.raw_bind_parameter(index + 1, number)?,
        }
    }
    if prepared.column_count() == 0 {
        let changed = prepared.raw_execute()?;
        return Ok(Outcome::Changed(changed as u64));
    }
    let names: Arc<[String]> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = prepared.raw_query();
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..names.len())
            .map(|index| row.get::<_, Value>(index))
            .collect::<rusqlite::Result<_>>()?;
        read.push(LocalRow {
            names: Arc::clone(&names),
            values,
        });
    }
    Ok(Outcome::Rows(read))
}

impl LocalRow {
    fn value(&self, column: &str) -> Result<&Value, CheckpointError> {
        self.names
            .iter()
            .position(|name| name == column)
            .and_then(|index| self.values.get(index))
            .ok_or_else(|| CheckpointError::Database {
                source: format!("no column `{column}` in the row read").into(),
            })
    }
}

impl Columns for LocalRow {
    fn text(&self, column: &str) -> Result<Option<&str>, CheckpointError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text)),
            other => Err(mistyped(column, "text", other)),
        }
    }

    fn int(&self, column: &str) -> Result<Option<i64>, CheckpointError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Integer(number) => Ok(Some(*number)),
            other => Err(mistyped(column, "an integer", other)),
        }
    }
}

fn mistyped(column: &str, expected: &str, found: &Value) -> CheckpointError {
    CheckpointError::Database {
        source: format!(
            "column `{column}` holds {:?}, not {expected}",
            found.data_type()
        )
        .into(),
    }
}
