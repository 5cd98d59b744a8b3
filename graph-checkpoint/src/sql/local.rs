//! SQLite's writes on the calling thread, through a connection of the store's own
//! (rusqlite's), not on the thread sqlx runs each SQLite connection on.
//!
//! Through sqlx, every statement is a round trip to the connection's thread, and a thread
//! that slept (through a model's answer, between two steps) is slow to wake: slower, on a
//! virtual machine, than a run's statements themselves. A run's writes (its lease and the
//! read that starts it, its checkpoints and pending writes) run in line instead: in WAL mode
//! with `synchronous=NORMAL` a commit appends to the log without syncing the disk.
//!
//! Nothing in line may wait. The connection's `busy_timeout` is 0, and a write runs on a
//! blocking thread, with the store's `busy_timeout`, when it would wait: when it finds the
//! file locked by another process (`SQLITE_BUSY`, before anything is written), when every
//! commit syncs the disk (`synchronous=FULL`), when it starts the log over (that commit
//! syncs the log's new header: the writer knows when a checkpoint of the log has just
//! run), and when it carries more than [`IN_LINE_BYTES`]. The writer's queue stays held
//! until such a write ends, even when its caller gives up on it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{Null, Value};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use sqlx::{AnyPool, Row};
use stategraph_core::checkpoint::CheckpointError;

use super::columns::Columns;
use super::errors::{from_rusqlite, from_sqlx};
use super::statement::{Param, Statement};

/// Prepared statements kept: a run's few, and the `INSERT`s of pending writes by row count.
const CACHED_STATEMENTS: usize = 64;

/// The most bytes of values a write carries in line: copying more into the log is long
/// enough to hold up the runtime's other tasks.
pub(super) const IN_LINE_BYTES: usize = 1 << 20;

/// The database file the in-line connection opens, and how.
#[derive(Debug)]
pub(super) struct LocalFile {
    path: PathBuf,
    /// `synchronous=FULL`: every commit syncs the disk, so no write runs in line.
    pub(super) syncs: bool,
    /// How long a write waits for another process's lock, on a blocking thread.
    busy_timeout: Duration,
}

/// SQLite's in-line connection.
#[derive(Debug)]
pub(super) struct Local {
    /// Shared with a blocking thread while a write waits there.
    connection: Arc<Mutex<Connection>>,
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

/// The file of the database the pool opened, as SQLite names it, for the in-line
/// connection. None for a database in memory, and none when `url` opens the file another
/// way than for writing (read-only or immutable, or through another VFS): sqlx's
/// connection, opened as `url` says, writes then.
///
/// # Errors
/// The pool's.
pub(super) async fn file_of(
    pool: &AnyPool,
    url: &str,
    syncs: bool,
    busy_timeout: Duration,
) -> Result<Option<LocalFile>, CheckpointError> {
    // Read as sqlx reads it: percent-decoded.
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let opened_otherwise =
        form_urlencoded::parse(query.as_bytes()).any(|(key, value)| match &*key {
            "mode" => value != "rw" && value != "rwc",
            "immutable" => value == "true" || value == "1",
            "vfs" => true,
            _ => false,
        });
    if opened_otherwise {
        return Ok(None);
    }
    let databases = sqlx::query("PRAGMA database_list")
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    for database in &databases {
        if database.try_get::<String, _>("name").map_err(from_sqlx)? == "main" {
            let path: Option<String> = database.try_get("file").map_err(from_sqlx)?;
            return Ok(path.filter(|path| !path.is_empty()).map(|path| LocalFile {
                path: path.into(),
                syncs,
                busy_timeout,
            }));
        }
    }
    Ok(None)
}

impl Local {
    /// Opens `file` (which the pool created and migrated) for writing, on a blocking
    /// thread: its settings may wait for another process's lock.
    ///
    /// # Errors
    /// SQLite's, typed.
    pub(super) async fn open(file: &LocalFile) -> Result<Self, CheckpointError> {
        let (path, syncs, busy_timeout) = (file.path.clone(), file.syncs, file.busy_timeout);
        let open = move || -> rusqlite::Result<Connection> {
            let connection = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            connection.busy_timeout(busy_timeout)?;
            let synchronous = if syncs { "FULL" } else { "NORMAL" };
            // The store checkpoints the log itself, off the commits' path (wal.rs).
            connection.execute_batch(&format!(
                "PRAGMA synchronous = {synchronous}; PRAGMA wal_autocheckpoint = 0;"
            ))?;
            connection.busy_timeout(Duration::ZERO)?;
            connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
            Ok(connection)
        };
        let connection = blocking(move || open().map_err(from_rusqlite)).await?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `statements` in line, in one transaction when there are more than one; `None`
    /// when the file is locked and the write has to wait (nothing was written).
    pub(super) fn run_now(
        &self,
        statements: &[Statement<'_>],
    ) -> Option<Result<Vec<Outcome>, CheckpointError>> {
        let Ok(connection) = self.connection.lock() else {
            return Some(Err(poisoned()));
        };
        match run(&connection, statements) {
            Ran::Busy(_) => None,
            Ran::Done(done) => Some(done),
        }
    }

    /// Runs `statements` on a blocking thread, waiting for another process's lock up to
    /// the busy timeout. `queue`, the writer's hold on its queue, is kept until the write
    /// ends, and given back with its result; if the caller gives up before, it is let go
    /// when the write ends.
    ///
    /// # Errors
    /// [`CheckpointError::Unavailable`] when the blocking thread could not run the write.
    pub(super) async fn run_waiting<Q: Send + 'static>(
        &self,
        queue: Q,
        statements: Vec<Statement<'_>>,
        file: &LocalFile,
    ) -> Result<(Q, Result<Vec<Outcome>, CheckpointError>), CheckpointError> {
        let statements: Vec<Statement<'static>> =
            statements.into_iter().map(Statement::into_owned).collect();
        let connection = Arc::clone(&self.connection);
        let busy_timeout = file.busy_timeout;
        blocking(move || {
            let done = wait_and_run(&connection, &statements, busy_timeout);
            Ok((queue, done))
        })
        .await
    }
}

/// The bytes of values `statements` carry.
pub(super) fn carried(statements: &[Statement<'_>]) -> usize {
    statements
        .iter()
        .flat_map(|statement| &statement.params)
        .map(|param| match param {
            Param::Text(Some(text)) => text.len(),
            Param::Text(None) | Param::Int(_) => 8,
        })
        .sum()
}

fn wait_and_run(
    connection: &Mutex<Connection>,
    statements: &[Statement<'_>],
    busy_timeout: Duration,
) -> Result<Vec<Outcome>, CheckpointError> {
    let connection = connection.lock().map_err(|_| poisoned())?;
    connection
        .busy_timeout(busy_timeout)
        .map_err(from_rusqlite)?;
    let done = match run(&connection, statements) {
        Ran::Done(done) => done,
        Ran::Busy(error) => Err(from_rusqlite(error)),
    };
    connection
        .busy_timeout(Duration::ZERO)
        .map_err(from_rusqlite)?;
    done
}

/// Runs `work` on a blocking thread (in line when no Tokio runtime is there).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CheckpointError> + Send + 'static,
) -> Result<T, CheckpointError> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime
                .spawn_blocking(work)
                .await
                .map_err(|error| CheckpointError::Unavailable {
                    source: Box::new(error),
                })?
        }
        Err(_) => work(),
    }
}

/// What running statements came to.
enum Ran {
    Done(Result<Vec<Outcome>, CheckpointError>),
    /// Another connection holds the file's write lock: nothing was written.
    Busy(rusqlite::Error),
}

/// Runs `statements` on a connection outside any transaction, and leaves it so: a
/// connection left inside one (a rollback that failed) is reported unusable, so that the
/// writer opens another.
fn run(connection: &Connection, statements: &[Statement<'_>]) -> Ran {
    if !connection.is_autocommit() {
        return Ran::Done(Err(stranded("before a write")));
    }
    match execute(connection, statements) {
        Ok(outcomes) => Ran::Done(Ok(outcomes)),
        Err(_) if !connection.is_autocommit() => Ran::Done(Err(stranded("after a failed write"))),
        Err(error) if is_busy(&error) => Ran::Busy(error),
        Err(error) => Ran::Done(Err(from_rusqlite(error))),
    }
}

fn stranded(when: &str) -> CheckpointError {
    CheckpointError::Unavailable {
        source: format!("SQLite's writing connection was inside a transaction {when}").into(),
    }
}

/// A panic while the connection was held: its state is unknown.
fn poisoned() -> CheckpointError {
    CheckpointError::Unavailable {
        source: "SQLite's writing connection was left in an unknown state by a panic".into(),
    }
}

/// Another connection holds the file's write lock (`SQLITE_BUSY`, and its extended codes
/// such as `SQLITE_BUSY_SNAPSHOT`): the statement did nothing.
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
        // The error to report is the statement's; a rollback that fails leaves the
        // connection inside the transaction, which `run` reports.
        let _ = connection.execute_batch("ROLLBACK");
    }
    done
}

fn run_one(connection: &Connection, statement: &Statement<'_>) -> rusqlite::Result<Outcome> {
    let mut prepared = connection.prepare_cached(&statement.sql)?;
    if prepared.parameter_count() != statement.params.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            statement.params.len(),
            prepared.parameter_count(),
        ));
    }
    // `$N` is a named parameter to SQLite, numbered in the order the names first appear:
    // each is bound to the value its name numbers.
    for index in 1..=prepared.parameter_count() {
        let name = prepared.parameter_name(index).unwrap_or_default();
        let param = name
            .strip_prefix('$')
            .and_then(|number| number.parse::<usize>().ok())
            .and_then(|number| statement.params.get(number.checked_sub(1)?));
        let Some(param) = param else {
            return Err(rusqlite::Error::InvalidParameterName(name.to_owned()));
        };
        match param {
            Param::Text(Some(text)) => prepared.raw_bind_parameter(index, text.as_ref())?,
            Param::Text(None) => prepared.raw_bind_parameter(index, Null)?,
            Param::Int(number) => prepared.raw_bind_parameter(index, number)?,
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
