//! The SQL store: SQLite (embedded, a file) or Postgres, through sqlx's `Any` driver so that
//! one set of queries serves both (the SQL below is the dialect both engines share; only
//! the migrations differ). On SQLite a run's writes run on the calling thread through
//! rusqlite instead (`local`), the same statements bound the same way (`statement`).

mod columns;
mod decode;
mod errors;
#[cfg(feature = "sqlite")]
mod local;
mod records;
mod runs;
mod schema;
mod snapshots;
mod statement;
#[cfg(test)]
mod tests;
mod wal;
mod writer;

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor, Row};
use stategraph_core::checkpoint::{
    Checkpoint, CheckpointError, CheckpointId, CheckpointMeta, Checkpointer, ListOptions,
    NewCheckpoint, PendingWrite, RunQuery, RunRecord, StoreFuture, ThreadChange, ThreadQuery,
    ThreadRecord,
};

use columns::Columns;
use decode::{META_COLUMNS, TARGET_COLUMNS, chain_of, meta_of, target_of, writes_of};
pub(crate) use errors::from_sqlx;
use snapshots::SnapshotCache;
use statement::Statement;
use wal::WalCheckpoints;
use writer::{WriteConnection, Writer};

/// The database engine behind a [`SqlCheckpointer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// SQLite: a file, in WAL mode.
    Sqlite,
    /// Postgres.
    Postgres,
}

/// How a SQL store connects.
#[derive(Clone, Debug)]
pub struct SqlOptions {
    /// Connections in the pool.
    pub max_connections: u32,
    /// SQLite: how long a write waits for another process's lock before failing with
    /// [`CheckpointError::Locked`].
    pub busy_timeout: Duration,
    /// SQLite: `synchronous=FULL` (each commit reaches the disk) instead of `NORMAL` (in WAL
    /// mode, a commit survives a crash of the process but not of the machine).
    pub synchronous_full: bool,
    /// How long connecting may take before failing with [`CheckpointError::Unavailable`].
    pub connect_timeout: Duration,
    /// The most bytes of JSON the store keeps in memory as the newest snapshot of each
    /// thread it wrote or read, so that reading a thread again fetches only the deltas
    /// after it (0 keeps none: every read fetches its snapshot).
    pub snapshot_cache_bytes: u64,
}

impl Default for SqlOptions {
    fn default() -> Self {
        Self {
            max_connections: 4,
            busy_timeout: Duration::from_secs(5),
            synchronous_full: false,
            connect_timeout: Duration::from_secs(10),
            snapshot_cache_bytes: 64 << 20,
        }
    }
}

/// Checkpoints in SQLite or Postgres. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqlCheckpointer {
    pool: AnyPool,
    engine: Engine,
    /// SQLite: its one writer, and the checkpoints of its log.
    sqlite: Option<SqliteWrites>,
    /// The newest snapshot of each thread line, shared by the clones.
    snapshots: Arc<SnapshotCache>,
}

/// How a SQLite store writes.
#[derive(Clone, Debug)]
struct SqliteWrites {
    writer: Arc<Writer>,
    wal: Arc<WalCheckpoints>,
}

impl SqlCheckpointer {
    /// Connects to `url` (`sqlite://path`, creating a missing file, or
    /// `postgres://user:password@host:port/db`) and brings its schema up to date.
    ///
    /// # Errors
    /// [`CheckpointError::BadUrl`] for a URL of another engine or one this build was made
    /// without; [`CheckpointError::Unavailable`] when the database cannot be reached;
    /// [`CheckpointError::UnknownSchema`] when a newer stategraph wrote it.
    pub async fn connect(url: &str) -> Result<Self, CheckpointError> {
        Self::connect_with(url, SqlOptions::default()).await
    }

    /// As [`connect`](Self::connect), with `options`.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, options: SqlOptions) -> Result<Self, CheckpointError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let (engine, url) = engine_of(url)?;
        // SQLite takes the timeout in milliseconds as a C `int`.
        let busy_timeout = options
            .busy_timeout
            .min(Duration::from_millis(i32::MAX.unsigned_abs().into()));
        let busy_ms = busy_timeout.as_millis();
        let synchronous = if options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.connect_timeout)
            // A ping before each use finds a Postgres connection the server closed; an
            // SQLite connection is a thread of this process holding a file, which nothing
            // outside closes, and the ping would be a round trip to that thread per read.
            .test_before_acquire(engine != Engine::Sqlite)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection
                            .execute(format!("PRAGMA synchronous = {synchronous}").as_str())
                            .await?;
                        connection
                            .execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                            .await?;
                        // The store checkpoints the log itself, off the commits' path
                        // (wal.rs).
                        connection.execute("PRAGMA wal_autocheckpoint = 0").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(from_sqlx)?;
        let migrator = schema::migrator(engine)
            .await
            .map_err(errors::from_migrate)?;
        migrator.run(&pool).await.map_err(errors::from_migrate)?;
        let sqlite = match engine {
            Engine::Sqlite => Some(SqliteWrites {
                writer: Arc::new(Writer::new(
                    pool.clone(),
                    #[cfg(feature = "sqlite")]
                    local::file_of(&pool, &url, options.synchronous_full, busy_timeout).await?,
                )),
                wal: Arc::default(),
            }),
            Engine::Postgres => None,
        };
        Ok(Self {
            pool,
            engine,
            sqlite,
            snapshots: Arc::new(SnapshotCache::new(options.snapshot_cache_bytes)),
        })
    }

    /// The engine behind the store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Closes every connection; later calls fail with [`CheckpointError::Unavailable`].
    pub async fn close(&self) {
        if let Some(sqlite) = &self.sqlite {
            sqlite.writer.close().await;
        }
        self.pool.close().await;
    }

    /// SQLite: moves the write-ahead log into the database file and empties it (what a
    /// size on disk should be measured after). Writes wait meanwhile.
    ///
    /// # Errors
    /// [`CheckpointError::Locked`] when a reader or another process kept the log from
    /// being emptied; the database's.
    pub async fn checkpoint_wal(&self) -> Result<(), CheckpointError> {
        let Some(sqlite) = &self.sqlite else {
            return Ok(());
        };
        let emptied = sqlite
            .wal
            .truncate(&sqlite.writer)
            .await
            .map_err(|error| self.write_failed(error))?;
        if !emptied {
            return Err(CheckpointError::Locked {
                source: "a reader or another process kept the log from being emptied".into(),
            });
        }
        Ok(())
    }

    /// A connection for a write: SQLite's writer (one write at a time), or one of
    /// Postgres's pool.
    async fn write_connection(&self) -> Result<WriteConnection<'_>, CheckpointError> {
        match &self.sqlite {
            Some(sqlite) => sqlite.writer.lock().await,
            None => self.pool.acquire().await.map(WriteConnection::Pooled),
        }
        .map_err(|error| self.write_failed(error))
    }

    /// The typed error of a failed write; a writer connection the error leaves unusable
    /// is replaced before the next write.
    fn write_failed(&self, error: sqlx::Error) -> CheckpointError {
        if let Some(sqlite) = &self.sqlite {
            sqlite.writer.check(&error);
        }
        from_sqlx(error)
    }

    /// Counts a committed write towards the next checkpoint of SQLite's log.
    async fn wrote(&self) {
        if let Some(sqlite) = &self.sqlite {
            sqlite.wal.wrote(&self.pool, &sqlite.writer).await;
        }
    }

    /// Runs `statements` as one write (one transaction when there are more than one): on
    /// SQLite's in-line connection when there is one, else through sqlx. The rows each
    /// changed.
    async fn write(&self, statements: Vec<Statement<'_>>) -> Result<Vec<u64>, CheckpointError> {
        #[cfg(feature = "sqlite")]
        if let Some(sqlite) = &self.sqlite
            && sqlite.writer.has_local()
        {
            let outcomes = sqlite.writer.run_local(statements).await?;
            self.wrote().await;
            return Ok(outcomes
                .into_iter()
                .map(|outcome| match outcome {
                    local::Outcome::Changed(rows) => rows,
                    local::Outcome::Rows(_) => 0,
                })
                .collect());
        }
        self.write_through_sqlx(statements).await
    }

    /// [`write`](Self::write) through sqlx's connection: SQLite's held one, or one of
    /// Postgres's pool.
    async fn write_through_sqlx(
        &self,
        statements: Vec<Statement<'_>>,
    ) -> Result<Vec<u64>, CheckpointError> {
        let mut connection = self.write_connection().await?;
        let mut changed = Vec::with_capacity(statements.len());
        if let [statement] = statements.as_slice() {
            let done = statement
                .query()
                .execute(&mut *connection)
                .await
                .map_err(|error| self.write_failed(error))?;
            changed.push(done.rows_affected());
        } else {
            let mut transaction = connection
                .begin()
                .await
                .map_err(|error| self.write_failed(error))?;
            for statement in &statements {
                let done = statement
                    .query()
                    .execute(&mut *transaction)
                    .await
                    .map_err(|error| self.write_failed(error))?;
                changed.push(done.rows_affected());
            }
            transaction
                .commit()
                .await
                .map_err(|error| self.write_failed(error))?;
        }
        drop(connection);
        self.wrote().await;
        Ok(changed)
    }

    async fn put(&self, checkpoint: NewCheckpoint) -> Result<(), CheckpointError> {
        let encoded = decode::encode(&checkpoint)?;
        let meta = &checkpoint.meta;
        let snapshot_bytes = encoded.snapshot.as_ref().map(|text| text.len() as u64);
        // `writes` held LangGraph's `metadata.writes`, which LangGraph 0.5 dropped as a copy
        // of the tasks' writes: rows from before keep theirs, new rows hold `null`.
        let insert = Statement::new(
            "INSERT INTO stategraph_checkpoints (thread_id, checkpoint_ns, checkpoint_id, \
             parent_id, run_id, step, source, created_at, next_nodes, writes, versions, delta, \
             snapshot, rows_since, bytes_since, base_bytes, frontier, base_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'null', $10, $11, $12, $13, $14, $15, \
               $16, CASE WHEN $12 IS NULL THEN COALESCE((SELECT p.base_id \
                 FROM stategraph_checkpoints p WHERE p.thread_id = $1 \
                 AND p.checkpoint_ns = $2 AND p.checkpoint_id = $4), $3) ELSE $3 END)",
        )
        .bind(meta.thread_id.as_str())
        .bind(meta.checkpoint_ns.as_str())
        .bind(meta.id.to_string())
        .bind(meta.parent_id.map(|id| id.to_string()))
        .bind(meta.run_id.as_deref())
        .bind(meta.step)
        .bind(meta.source.as_str())
        .bind(encoded.created_at)
        .bind(encoded.next)
        .bind(encoded.versions)
        .bind(encoded.delta)
        .bind(encoded.snapshot)
        .bind(counter(checkpoint.counters.rows_since))
        .bind(counter(checkpoint.counters.bytes_since))
        .bind(counter(checkpoint.counters.base_bytes))
        .bind(encoded.frontier);
        self.write(vec![insert]).await?;
        if let (Some(snapshot), Some(bytes)) = (checkpoint.snapshot, snapshot_bytes) {
            self.snapshots.put(
                &meta.thread_id,
                &meta.checkpoint_ns,
                meta.id.to_string(),
                Arc::new(snapshot),
                bytes,
            );
        }
        Ok(())
    }

    async fn put_writes(
        &self,
        thread_id: &str,
        checkpoint_ns: &str,
        id: CheckpointId,
        writes: Vec<PendingWrite>,
    ) -> Result<(), CheckpointError> {
        let id = id.to_string();
        let writes = writes
            .into_iter()
            .map(|write| {
                serde_json::to_string(&write.value)
                    .map(|value| (write, value))
                    .map_err(|error| CheckpointError::Encode {
                        detail: error.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // A task writing one channel twice keeps its last value, as row by row upserts
        // would; one statement cannot upsert a row twice (Postgres refuses it).
        if writes.is_empty() {
            return Ok(());
        }
        let mut last: Vec<(PendingWrite, String)> = Vec::with_capacity(writes.len());
        for (write, value) in writes {
            match last
                .iter_mut()
                .find(|(kept, _)| kept.task_id == write.task_id && kept.channel == write.channel)
            {
                Some(kept) => *kept = (write, value),
                None => last.push((write, value)),
            }
        }
        // One statement is atomic on both engines: a step's writes (almost always within
        // one chunk) are one statement, not a transaction's three or more.
        let inserts = last
            .chunks(WRITES_PER_STATEMENT)
            .map(|chunk| insert_writes(thread_id, checkpoint_ns, &id, chunk))
            .collect();
        self.write(inserts).await?;
        Ok(())
    }

    async fn get(
        &self,
        thread_id: &str,
        checkpoint_ns: &str,
        id: Option<CheckpointId>,
    ) -> Result<Option<Checkpoint>, CheckpointError> {
        self.get_on(&self.pool, thread_id, checkpoint_ns, id).await
    }

    /// [`get`](Self::get) through `executor`: the pool, or a connection already in hand.
    async fn get_on<'c, E>(
        &self,
        executor: E,
        thread_id: &str,
        checkpoint_ns: &str,
        id: Option<CheckpointId>,
    ) -> Result<Option<Checkpoint>, CheckpointError>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        let kept = self.snapshots.get(thread_id, checkpoint_ns);
        let read = self.get_statement(thread_id, checkpoint_ns, id, kept.as_ref());
        let Some(row) = read
            .query()
            .fetch_optional(executor)
            .await
            .map_err(from_sqlx)?
        else {
            return Ok(None);
        };
        self.checkpoint_of(&row, thread_id, checkpoint_ns, kept)
            .map(Some)
    }

    /// The read of [`get`](Self::get): one statement, `kept` the snapshot held in memory
    /// for the line.
    fn get_statement<'a>(
        &self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: Option<CheckpointId>,
        kept: Option<&'a snapshots::Kept>,
    ) -> Statement<'a> {
        // The checkpoint asked for (or the newest), its base's snapshot, the deltas since
        // the base and its pending writes, in one statement: one round trip, and one
        // consistent view of the rows on both engines without a transaction around it.
        //
        // The chain: every delta since the checkpoint's base that shares the base, as one
        // JSON list of `[id, parent, delta]`, so that it can be followed by parent ids (a
        // fork shares the base with its sibling branch, whose deltas are skipped). Ids
        // sort by creation, so the chain lies between the base and the checkpoint in the
        // primary key: a range of it is read, and no index on `base_id` is kept.
        //
        // The base's snapshot is left out when it is the one this store keeps for the
        // line ($3; snapshots.rs): the whole state, most of what a read would carry.
        //
        // The writes: a JSON list of `[task_id, channel, node, value]`, the value as the
        // stored text, so a value that is not JSON is reported as corrupt, not as an SQL
        // error. The engines spell JSON aggregates differently.
        let target = match id {
            Some(_) => "AND c.checkpoint_id = $4",
            None => "ORDER BY c.checkpoint_id DESC LIMIT 1",
        };
        let writes = match self.engine() {
            Engine::Sqlite => {
                "json_group_array(json_array(w.task_id, w.channel, w.node, w.value) \
                 ORDER BY w.seq)"
            }
            Engine::Postgres => {
                "CAST(json_agg(json_build_array(w.task_id, w.channel, w.node, w.value) \
                 ORDER BY w.seq) AS TEXT)"
            }
        };
        let sql = format!(
            "WITH t AS (SELECT {TARGET_COLUMNS} FROM stategraph_checkpoints c \
               WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 {target}) \
             SELECT t.*, \
               (SELECT b.snapshot FROM stategraph_checkpoints b \
                 WHERE b.thread_id = $1 AND b.checkpoint_ns = $2 \
                   AND b.checkpoint_id = t.base_id AND t.base_id <> $3) AS snapshot, \
               (SELECT string_agg('[\"' || d.checkpoint_id || '\",\"' \
                   || COALESCE(d.parent_id, '') || '\",' || d.delta || ']', ',' \
                   ORDER BY d.checkpoint_id) \
                 FROM stategraph_checkpoints d \
                 WHERE d.thread_id = $1 AND d.checkpoint_ns = $2 \
                   AND d.checkpoint_id > t.base_id AND d.checkpoint_id <= t.checkpoint_id \
                   AND d.base_id = t.base_id AND d.snapshot IS NULL) AS links, \
               (SELECT {writes} FROM stategraph_writes w \
                 WHERE w.thread_id = $1 AND w.checkpoint_ns = $2 \
                   AND w.checkpoint_id = t.checkpoint_id) AS writes \
             FROM t"
        );
        let kept_id = kept.map_or("", |kept| kept.checkpoint_id.as_str());
        let read = Statement::new(sql)
            .bind(thread_id)
            .bind(checkpoint_ns)
            .bind(kept_id);
        match id {
            Some(id) => read.bind(id.to_string()),
            None => read,
        }
    }

    /// The checkpoint in `row`, read by [`get_statement`](Self::get_statement); the
    /// snapshot it read is kept for the line.
    fn checkpoint_of(
        &self,
        row: &impl Columns,
        thread_id: &str,
        checkpoint_ns: &str,
        kept: Option<snapshots::Kept>,
    ) -> Result<Checkpoint, CheckpointError> {
        let (meta, counters, base_id) = target_of(row, thread_id)?;
        let kept = kept.filter(|kept| kept.checkpoint_id == base_id);
        let (values, read) = chain_of(row, &meta, &base_id, kept.map(|kept| kept.values))?;
        if let Some((snapshot, bytes)) = read {
            self.snapshots
                .put(thread_id, checkpoint_ns, base_id, snapshot, bytes);
        }
        let pending_writes = writes_of(row, &meta)?;
        Ok(Checkpoint {
            meta,
            values,
            counters,
            pending_writes,
        })
    }

    async fn list(
        &self,
        thread_id: &str,
        checkpoint_ns: &str,
        options: ListOptions,
    ) -> Result<Vec<CheckpointMeta>, CheckpointError> {
        // '~' sorts after every hyphenated UUID: no bound.
        let before = options
            .before
            .map_or_else(|| "~".to_owned(), |id| id.to_string());
        let limit = options
            .limit
            .map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let rows: Vec<AnyRow> = sqlx::query(&format!(
            "SELECT {META_COLUMNS} FROM stategraph_checkpoints c \
             WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id < $3 \
             ORDER BY checkpoint_id DESC LIMIT $4"
        ))
        .bind(thread_id)
        .bind(checkpoint_ns)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter().map(|row| meta_of(row, thread_id)).collect()
    }

    async fn copy_thread(&self, from: &str, to: &str) -> Result<(), CheckpointError> {
        let mut connection = self.write_connection().await?;
        let mut transaction = connection
            .begin()
            .await
            .map_err(|error| self.write_failed(error))?;
        let existing: i64 =
            sqlx::query("SELECT COUNT(*) FROM stategraph_checkpoints WHERE thread_id = $1")
                .bind(to)
                .fetch_one(&mut *transaction)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|error| self.write_failed(error))?;
        if existing > 0 {
            return Err(CheckpointError::Database {
                source: format!("thread `{to}` already has checkpoints").into(),
            });
        }
        let copied = sqlx::query(
            "INSERT INTO stategraph_checkpoints (thread_id, checkpoint_ns, checkpoint_id, \
             parent_id, run_id, step, source, created_at, next_nodes, writes, versions, delta, \
             snapshot, rows_since, bytes_since, base_bytes, frontier, base_id) \
             SELECT $1, checkpoint_ns, checkpoint_id, parent_id, run_id, step, source, \
             created_at, next_nodes, writes, versions, delta, snapshot, rows_since, \
             bytes_since, base_bytes, frontier, base_id FROM stategraph_checkpoints WHERE thread_id = $2",
        )
        .bind(to)
        .bind(from)
        .execute(&mut *transaction)
        .await
        .map_err(|error| self.write_failed(error))?;
        if copied.rows_affected() == 0 {
            return Err(CheckpointError::NotFound {
                thread: from.to_owned(),
                at: None,
            });
        }
        sqlx::query(
            "INSERT INTO stategraph_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, \
             channel, node, value) SELECT $1, checkpoint_ns, checkpoint_id, task_id, channel, \
             node, value FROM stategraph_writes WHERE thread_id = $2 ORDER BY seq",
        )
        .bind(to)
        .bind(from)
        .execute(&mut *transaction)
        .await
        .map_err(|error| self.write_failed(error))?;
        transaction
            .commit()
            .await
            .map_err(|error| self.write_failed(error))?;
        drop(connection);
        self.wrote().await;
        Ok(())
    }

    async fn delete_thread(&self, thread_id: &str) -> Result<(), CheckpointError> {
        let deletes = [
            "stategraph_checkpoints",
            "stategraph_writes",
            "stategraph_thread_locks",
            "stategraph_threads",
            "stategraph_runs",
        ]
        .into_iter()
        .map(|table| {
            Statement::new(format!("DELETE FROM {table} WHERE thread_id = $1")).bind(thread_id)
        })
        .collect();
        // Deleting a long thread is long: not in line.
        self.write_through_sqlx(deletes).await?;
        self.snapshots.forget_thread(thread_id);
        Ok(())
    }

    async fn lock_thread(
        &self,
        thread_id: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<(), CheckpointError> {
        let changed = self
            .write(vec![lock_statement(thread_id, owner, lease)])
            .await?;
        taken(&changed, thread_id)
    }

    /// The lock and the read on one connection: SQLite's in-line one, in one transaction;
    /// one connection of Postgres's pool taken once.
    async fn lock_and_get(
        &self,
        thread_id: &str,
        checkpoint_ns: &str,
        id: Option<CheckpointId>,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<Checkpoint>, CheckpointError> {
        #[cfg(feature = "sqlite")]
        if let Some(sqlite) = &self.sqlite
            && sqlite.writer.has_local()
        {
            let kept = self.snapshots.get(thread_id, checkpoint_ns);
            let read = self.get_statement(thread_id, checkpoint_ns, id, kept.as_ref());
            let outcomes = sqlite
                .writer
                .run_local(vec![lock_statement(thread_id, owner, lease), read])
                .await?;
            self.wrote().await;
            let (changed, rows) = match outcomes.as_slice() {
                [local::Outcome::Changed(changed), local::Outcome::Rows(rows)] => (*changed, rows),
                _ => {
                    return Err(CheckpointError::Database {
                        source: "the lock and the read gave no count and rows".into(),
                    });
                }
            };
            taken(&[changed], thread_id)?;
            return rows
                .first()
                .map(|row| self.checkpoint_of(row, thread_id, checkpoint_ns, kept))
                .transpose();
        }
        let mut connection = self.write_connection().await?;
        let locked = lock_statement(thread_id, owner, lease)
            .query()
            .execute(&mut *connection)
            .await
            .map_err(|error| self.write_failed(error));
        let read = match locked {
            Ok(done) => match taken(&[done.rows_affected()], thread_id) {
                Ok(()) => {
                    self.get_on(&mut *connection, thread_id, checkpoint_ns, id)
                        .await
                }
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        drop(connection);
        self.wrote().await;
        read
    }

    async fn unlock_thread(&self, thread_id: &str, owner: &str) -> Result<(), CheckpointError> {
        let unlock = Statement::new(
            "DELETE FROM stategraph_thread_locks WHERE thread_id = $1 AND owner = $2",
        )
        .bind(thread_id)
        .bind(owner);
        self.write(vec![unlock]).await?;
        Ok(())
    }

    async fn create_thread(&self, record: ThreadRecord) -> Result<bool, CheckpointError> {
        let row = records::encode(&record)?;
        let inserted = sqlx::query(
            "INSERT INTO stategraph_threads (thread_id, created_at, updated_at, metadata, \
             status, state_values, interrupts) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (thread_id) DO NOTHING",
        )
        .bind(record.thread_id.as_str())
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(row.metadata)
        .bind(record.status.as_str())
        .bind(row.values)
        .bind(row.interrupts)
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn get_thread(&self, thread_id: &str) -> Result<Option<ThreadRecord>, CheckpointError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM stategraph_threads WHERE thread_id = $1",
            records::COLUMNS
        ))
        .bind(thread_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.as_ref().map(records::decode).transpose()
    }

    async fn update_thread(
        &self,
        thread_id: &str,
        change: ThreadChange,
    ) -> Result<Option<ThreadRecord>, CheckpointError> {
        // Read, change, write in one transaction: metadata keys merge into what is stored.
        // On the writing connection: a pooled SQLite connection's read transaction cannot
        // become a write once the writer has committed since it read (SQLITE_BUSY_SNAPSHOT,
        // at once, whatever the busy timeout), and a record update would be lost. Postgres
        // locks the row it read, so no merge is lost between the read and the write.
        let lock = match self.engine() {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE",
        };
        let mut connection = self.write_connection().await?;
        let mut transaction = connection
            .begin()
            .await
            .map_err(|error| self.write_failed(error))?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM stategraph_threads WHERE thread_id = $1{lock}",
            records::COLUMNS
        ))
        .bind(thread_id)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(|error| self.write_failed(error))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record = records::decode(&row)?;
        record.apply(change, SystemTime::now());
        let encoded = records::encode(&record)?;
        sqlx::query(
            "UPDATE stategraph_threads SET updated_at = $2, metadata = $3, status = $4, \
             state_values = $5, interrupts = $6 WHERE thread_id = $1",
        )
        .bind(thread_id)
        .bind(encoded.updated_at)
        .bind(encoded.metadata)
        .bind(record.status.as_str())
        .bind(encoded.values)
        .bind(encoded.interrupts)
        .execute(&mut *transaction)
        .await
        .map_err(|error| self.write_failed(error))?;
        transaction
            .commit()
            .await
            .map_err(|error| self.write_failed(error))?;
        drop(connection);
        self.wrote().await;
        Ok(Some(record))
    }

    async fn search_threads(
        &self,
        query: ThreadQuery,
    ) -> Result<Vec<ThreadRecord>, CheckpointError> {
        // The status filters in SQL; metadata, stored as JSON text that the two engines
        // query differently, filters here, so order and paging do too: the search is the
        // one the memory store runs (`ThreadQuery::select`). A search reads every record
        // of the status asked for.
        let status = query.status.map(|status| status.as_str());
        let rows: Vec<AnyRow> = sqlx::query(&format!(
            "SELECT {} FROM stategraph_threads WHERE ($1 IS NULL OR status = $1)",
            records::COLUMNS
        ))
        .bind(status)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let records = rows
            .iter()
            .map(records::decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(query.select(&records))
    }
    async fn put_run(&self, run: RunRecord) -> Result<(), CheckpointError> {
        let row = runs::encode(&run)?;
        sqlx::query(
            "INSERT INTO stategraph_runs (run_id, thread_id, assistant_id, created_at, \
             updated_at, status, metadata, kwargs, multitask_strategy) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (run_id) DO UPDATE SET thread_id = excluded.thread_id, \
             assistant_id = excluded.assistant_id, updated_at = excluded.updated_at, \
             status = excluded.status, metadata = excluded.metadata, kwargs = excluded.kwargs, \
             multitask_strategy = excluded.multitask_strategy",
        )
        .bind(run.run_id.as_str())
        .bind(run.thread_id.as_str())
        .bind(run.assistant_id.as_str())
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(run.status.as_str())
        .bind(row.metadata)
        .bind(row.kwargs)
        .bind(run.multitask_strategy.as_str())
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    async fn get_run(
        &self,
        thread_id: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, CheckpointError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM stategraph_runs WHERE thread_id = $1 AND run_id = $2",
            runs::COLUMNS
        ))
        .bind(thread_id)
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.as_ref().map(runs::decode).transpose()
    }

    async fn list_runs(
        &self,
        thread_id: &str,
        query: RunQuery,
    ) -> Result<Vec<RunRecord>, CheckpointError> {
        let status = query.status.map(|status| status.as_str());
        let rows: Vec<AnyRow> = sqlx::query(&format!(
            "SELECT {} FROM stategraph_runs WHERE thread_id = $1 AND ($2 IS NULL OR status = $2) \
             ORDER BY created_at DESC, run_id DESC LIMIT $3 OFFSET $4",
            runs::COLUMNS
        ))
        .bind(thread_id)
        .bind(status)
        .bind(counter(query.limit as u64))
        .bind(counter(query.offset as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter().map(runs::decode).collect()
    }

    async fn delete_run(&self, thread_id: &str, run_id: &str) -> Result<bool, CheckpointError> {
        let deleted =
            sqlx::query("DELETE FROM stategraph_runs WHERE thread_id = $1 AND run_id = $2")
                .bind(thread_id)
                .bind(run_id)
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn delete_run_checkpoints(
        &self,
        thread_id: &str,
        run_id: &str,
    ) -> Result<(), CheckpointError> {
        // The writes first: they are found through the checkpoints they follow.
        let deletes = vec![
            Statement::new(
                "DELETE FROM stategraph_writes WHERE thread_id = $1 AND EXISTS (\
                 SELECT 1 FROM stategraph_checkpoints AS c WHERE c.thread_id = $1 \
                 AND c.run_id = $2 AND c.checkpoint_ns = stategraph_writes.checkpoint_ns \
                 AND c.checkpoint_id = stategraph_writes.checkpoint_id)",
            )
            .bind(thread_id)
            .bind(run_id),
            Statement::new(
                "DELETE FROM stategraph_checkpoints WHERE thread_id = $1 AND run_id = $2",
            )
            .bind(thread_id)
            .bind(run_id),
        ];
        self.write_through_sqlx(deletes).await?;
        // What is kept must be what the database holds: a snapshot of a deleted
        // checkpoint would mend a chain the database no longer has.
        self.snapshots.forget_thread(thread_id);
        Ok(())
    }
}

impl Checkpointer for SqlCheckpointer {
    fn put(&self, checkpoint: NewCheckpoint) -> StoreFuture<'_, ()> {
        Box::pin(self.put(checkpoint))
    }

    fn put_writes<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: CheckpointId,
        writes: Vec<PendingWrite>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.put_writes(thread_id, checkpoint_ns, id, writes))
    }

    fn get<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: Option<CheckpointId>,
    ) -> StoreFuture<'a, Option<Checkpoint>> {
        Box::pin(self.get(thread_id, checkpoint_ns, id))
    }

    fn list<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        options: ListOptions,
    ) -> StoreFuture<'a, Vec<CheckpointMeta>> {
        Box::pin(self.list(thread_id, checkpoint_ns, options))
    }

    fn copy_thread<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.copy_thread(from, to))
    }

    fn delete_thread<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.delete_thread(thread_id))
    }

    fn lock_thread<'a>(
        &'a self,
        thread_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.lock_thread(thread_id, owner, lease))
    }

    fn lock_and_get<'a>(
        &'a self,
        thread_id: &'a str,
        checkpoint_ns: &'a str,
        id: Option<CheckpointId>,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Option<Checkpoint>> {
        Box::pin(self.lock_and_get(thread_id, checkpoint_ns, id, owner, lease))
    }

    fn unlock_thread<'a>(&'a self, thread_id: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.unlock_thread(thread_id, owner))
    }

    fn create_thread(&self, record: ThreadRecord) -> StoreFuture<'_, bool> {
        Box::pin(self.create_thread(record))
    }

    fn get_thread<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, Option<ThreadRecord>> {
        Box::pin(self.get_thread(thread_id))
    }

    fn update_thread<'a>(
        &'a self,
        thread_id: &'a str,
        change: ThreadChange,
    ) -> StoreFuture<'a, Option<ThreadRecord>> {
        Box::pin(self.update_thread(thread_id, change))
    }

    fn search_threads(&self, query: ThreadQuery) -> StoreFuture<'_, Vec<ThreadRecord>> {
        Box::pin(self.search_threads(query))
    }
    fn put_run(&self, run: RunRecord) -> StoreFuture<'_, ()> {
        Box::pin(self.put_run(run))
    }

    fn get_run<'a>(
        &'a self,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>> {
        Box::pin(self.get_run(thread_id, run_id))
    }

    fn list_runs<'a>(
        &'a self,
        thread_id: &'a str,
        query: RunQuery,
    ) -> StoreFuture<'a, Vec<RunRecord>> {
        Box::pin(self.list_runs(thread_id, query))
    }

    fn delete_run<'a>(&'a self, thread_id: &'a str, run_id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(self.delete_run(thread_id, run_id))
    }

    fn delete_run_checkpoints<'a>(
        &'a self,
        thread_id: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.delete_run_checkpoints(thread_id, run_id))
    }
}

/// Takes, renews or takes over an expired lease of `thread_id` for `owner`, in one
/// statement: no row changes while another owner's lease runs.
fn lock_statement<'a>(thread_id: &'a str, owner: &'a str, lease: Duration) -> Statement<'a> {
    let now = unix_millis();
    let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
    Statement::new(
        "INSERT INTO stategraph_thread_locks (thread_id, owner, expires_at) \
         VALUES ($1, $2, $3) ON CONFLICT (thread_id) DO UPDATE \
         SET owner = excluded.owner, expires_at = excluded.expires_at \
         WHERE stategraph_thread_locks.owner = excluded.owner \
            OR stategraph_thread_locks.expires_at < $4",
    )
    .bind(thread_id)
    .bind(owner)
    .bind(until)
    .bind(now)
}

/// The lease was taken when [`lock_statement`] changed a row.
fn taken(changed: &[u64], thread_id: &str) -> Result<(), CheckpointError> {
    match changed {
        [0] => Err(CheckpointError::ThreadBusy {
            thread: thread_id.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The engine a URL names, and the URL as the driver takes it.
fn engine_of(url: &str) -> Result<(Engine, String), CheckpointError> {
    let bad = |reason: &str| CheckpointError::BadUrl {
        url: crate::redact::redact(url),
        reason: reason.to_owned(),
    };
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if !cfg!(feature = "sqlite") {
            return Err(bad("this build has no SQLite (the `sqlite` feature)"));
        }
        // A missing file is created.
        let url = if rest.contains("mode=") || rest.contains(":memory:") {
            url.to_owned()
        } else if rest.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        return Ok((Engine::Sqlite, url));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        if !cfg!(feature = "postgres") {
            return Err(bad("this build has no Postgres (the `postgres` feature)"));
        }
        return Ok((Engine::Postgres, url.to_owned()));
    }
    Err(bad("expected a sqlite:// or postgres:// URL"))
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

fn counter(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The most pending writes one statement inserts: 7 parameters a row stays far below
/// SQLite's 32,766 and Postgres's 65,535 parameters.
const WRITES_PER_STATEMENT: usize = 1_000;

/// One `INSERT` of `writes` (each task and channel at most once), replacing what a task
/// wrote before under the same channel. Placeholders are numbered (`$1`), which both
/// engines read; sqlx's query builder writes `?` for `Any`, which Postgres does not.
fn insert_writes_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO stategraph_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, \
         channel, node, value) VALUES ",
    );
    for row in 0..rows {
        let first = row * 7 + 1;
        if row > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (first..first + 7).map(|n| format!("${n}")).collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql.push_str(
        " ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, channel) \
         DO UPDATE SET node = excluded.node, value = excluded.value",
    );
    sql
}

/// [`insert_writes_sql`] with `writes` bound.
fn insert_writes<'a>(
    thread_id: &'a str,
    checkpoint_ns: &'a str,
    checkpoint_id: &'a str,
    writes: &'a [(PendingWrite, String)],
) -> Statement<'a> {
    let mut insert = Statement::new(insert_writes_sql(writes.len()));
    for (write, value) in writes {
        insert = insert
            .bind(thread_id)
            .bind(checkpoint_ns)
            .bind(checkpoint_id)
            .bind(write.task_id.as_str())
            .bind(write.channel.as_str())
            .bind(write.node.as_str())
            .bind(value.as_str());
    }
    insert
}
