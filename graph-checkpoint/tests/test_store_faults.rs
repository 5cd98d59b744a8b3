//! Faults of the database behind a store: each gives a typed error that names what is
//! wrong, never a panic, and leaves nothing half-written.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use sqlx::{Connection, Executor};
use stategraph_checkpoint::{SqlCheckpointer, SqlOptions};
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, CheckpointMeta, Checkpointer, NewCheckpoint, SnapshotCounters,
    Source, StateDelta,
};

fn checkpoint(thread: &str, parent: Option<CheckpointId>, step: i64) -> NewCheckpoint {
    let values = json!({"count": step});
    let values = values.as_object().unwrap().clone();
    NewCheckpoint {
        meta: CheckpointMeta {
            thread_id: thread.into(),
            checkpoint_ns: String::new(),
            id: CheckpointId::new(),
            parent_id: parent,
            run_id: None,
            step,
            source: Source::Loop,
            created_at: SystemTime::now(),
            next: Vec::new(),
            versions: BTreeMap::new(),
            frontier: serde_json::Value::Null,
        },
        delta: StateDelta::set_all(&values),
        snapshot: Some(values),
        counters: SnapshotCounters::default(),
    }
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("threads.db").display())
}

async fn raw_sqlite(url: &str) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(url).await.unwrap()
}

/// A store on a new file whose writes wait `busy_timeout` for another process's lock, and
/// its URL.
async fn store_waiting(
    dir: &tempfile::TempDir,
    busy_timeout: Duration,
) -> (SqlCheckpointer, String) {
    let url = sqlite_url(dir);
    let options = SqlOptions {
        busy_timeout,
        ..SqlOptions::default()
    };
    let store = SqlCheckpointer::connect_with(&url, options).await.unwrap();
    (store, url)
}

/// A connection, as of another process, holding the file's write lock.
async fn lock_the_file(url: &str) -> sqlx::SqliteConnection {
    let mut other = raw_sqlite(url).await;
    other.execute("BEGIN EXCLUSIVE").await.unwrap();
    other
}

#[tokio::test]
async fn a_corrupted_row_is_named_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    let first = checkpoint("t", None, 0);
    let first_id = first.meta.id;
    store.put(first).await.unwrap();
    let mut second = checkpoint("t", Some(first_id), 1);
    second.snapshot = None;
    store.put(second).await.unwrap();

    let mut raw = raw_sqlite(&url).await;
    raw.execute("UPDATE stategraph_checkpoints SET delta = '{not json' WHERE step = 1")
        .await
        .unwrap();
    match store.get("t", "", None).await {
        Err(CheckpointError::Corrupt { thread, detail, .. }) => {
            assert_eq!(thread, "t");
            assert!(detail.contains("column `delta`"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    raw.execute("UPDATE stategraph_checkpoints SET source = 'teleport' WHERE step = 0")
        .await
        .unwrap();
    match store.get("t", "", Some(first_id)).await {
        Err(CheckpointError::Corrupt {
            detail, checkpoint, ..
        }) => {
            assert_eq!(checkpoint, first_id.to_string());
            assert!(detail.contains("unknown source `teleport`"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_parent_is_a_broken_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    let mut orphan = checkpoint("t", Some(CheckpointId::new()), 3);
    orphan.snapshot = None;
    store.put(orphan).await.unwrap();
    match store.get("t", "", None).await {
        Err(CheckpointError::Corrupt { detail, .. }) => {
            assert!(detail.contains("chain breaks"), "{detail}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    SqlCheckpointer::connect(&url).await.unwrap().close().await;
    let mut raw = raw_sqlite(&url).await;
    raw.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'from the future', 1, x'00', 0)",
    )
    .await
    .unwrap();
    match SqlCheckpointer::connect(&url).await {
        Err(CheckpointError::UnknownSchema { found, known }) => {
            assert_eq!((found, known), (99, 5));
        }
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_locked_by_another_process_is_a_typed_error_after_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = store_waiting(&dir, Duration::from_millis(100)).await;
    let mut other = lock_the_file(&url).await;
    match store.put(checkpoint("t", None, 0)).await {
        Err(CheckpointError::Locked { .. }) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
    other.execute("ROLLBACK").await.unwrap();
    assert!(
        store.get("t", "", None).await.unwrap().is_none(),
        "nothing was written"
    );
    store.put(checkpoint("t", None, 0)).await.unwrap();
}

/// A write runs on the runtime's thread only while it cannot wait: one that finds the file
/// locked waits for it elsewhere. On a one-thread runtime the task holding the other
/// connection's lock still runs and lets go after 200 ms, and the write goes through. Had
/// the write waited in line, that task could not have run until the write gave up, at the
/// 10 s busy timeout.
#[tokio::test(flavor = "current_thread")]
async fn a_write_waiting_for_another_process_leaves_the_runtime_free() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = store_waiting(&dir, Duration::from_secs(10)).await;
    // How long after the write started the other connection let go.
    let let_go_after_200_ms = |mut other: sqlx::SqliteConnection, started: Instant| async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        other.execute("ROLLBACK").await.unwrap();
        started.elapsed()
    };
    let other = lock_the_file(&url).await;
    let first = checkpoint("t", None, 0);
    let id = first.meta.id;
    let started = Instant::now();
    let (written, held) = tokio::join!(store.put(first), let_go_after_200_ms(other, started));
    written.unwrap();
    assert!(
        held < Duration::from_secs(5),
        "the runtime was blocked: {held:?}"
    );
    assert_eq!(store.get("t", "", None).await.unwrap().unwrap().meta.id, id);
    // The lease and the read that start a run take the same way.
    let other = lock_the_file(&url).await;
    let started = Instant::now();
    let (read, held) = tokio::join!(
        store.lock_and_get("t", "", None, "run-1", Duration::from_secs(10)),
        let_go_after_200_ms(other, started)
    );
    assert!(
        held < Duration::from_secs(5),
        "the runtime was blocked: {held:?}"
    );
    assert_eq!(read.unwrap().unwrap().meta.id, id);
    match store
        .lock_thread("t", "run-2", Duration::from_secs(10))
        .await
    {
        Err(CheckpointError::ThreadBusy { thread }) => assert_eq!(thread, "t"),
        other => panic!("expected ThreadBusy, got {other:?}"),
    }
}

/// A write whose caller gave up while it waited for the file still holds the store's
/// queue until it ends: writes queued after it run after it, and `close` returns once it
/// has landed (it commits whole, as a statement sent to a connection does).
#[tokio::test]
async fn a_write_given_up_while_waiting_holds_the_queue_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = store_waiting(&dir, Duration::from_secs(10)).await;
    store.put(checkpoint("t", None, 0)).await.unwrap();
    let mut other = lock_the_file(&url).await;
    let given_up = tokio::time::timeout(
        Duration::from_millis(100),
        store.put(checkpoint("t", None, 1)),
    )
    .await;
    assert!(given_up.is_err(), "the write waited for the lock");
    let let_go = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        other.execute("ROLLBACK").await.unwrap();
    });
    store.close().await;
    let mut reader = raw_sqlite(&url).await;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM stategraph_checkpoints WHERE thread_id = 't'")
            .fetch_one(&mut reader)
            .await
            .unwrap();
    assert_eq!(stored, 2, "close returned before the given-up write ended");
    let_go.await.unwrap();
}

#[tokio::test]
async fn a_read_only_database_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    SqlCheckpointer::connect(&url).await.unwrap().close().await;
    let result = match SqlCheckpointer::connect(&format!("{url}?mode=ro")).await {
        Ok(store) => store.put(checkpoint("t", None, 0)).await,
        Err(error) => Err(error),
    };
    match result {
        Err(CheckpointError::ReadOnly { .. }) => {}
        other => panic!("expected ReadOnly, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unopenable_file_and_a_bad_url_are_typed_errors() {
    match SqlCheckpointer::connect("sqlite:///no/such/directory/threads.db").await {
        Err(CheckpointError::Unavailable { .. }) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    match SqlCheckpointer::connect("mysql://app:s3cret@host/db").await {
        Err(CheckpointError::BadUrl { url, reason }) => {
            assert_eq!(url, "mysql://app:***@host/db");
            assert!(reason.contains("sqlite:// or postgres://"), "{reason}");
        }
        other => panic!("expected BadUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_and_hides_the_password() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let options = SqlOptions {
        connect_timeout: Duration::from_secs(2),
        ..SqlOptions::default()
    };
    let url = format!("postgres://app:s3cret@127.0.0.1:{port}/db");
    match SqlCheckpointer::connect_with(&url, options).await {
        Err(error @ CheckpointError::Unavailable { .. }) => {
            assert!(
                !format!("{error} {error:?}").contains("s3cret"),
                "{error:?}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs Postgres: run scripts/test"]
async fn a_postgres_connection_killed_between_writes_is_replaced() {
    let url = std::env::var("STATEGRAPH_TEST_POSTGRES_URL")
        .expect("STATEGRAPH_TEST_POSTGRES_URL, set by scripts/test");
    let options = SqlOptions {
        max_connections: 1,
        ..SqlOptions::default()
    };
    let store = SqlCheckpointer::connect_with(&url, options).await.unwrap();
    store.delete_thread("lost").await.unwrap();
    store.put(checkpoint("lost", None, 0)).await.unwrap();

    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND datname = current_database() \
         AND application_name NOT LIKE 'pg_%') AS terminated",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(killed >= 1, "the store's connection was killed");
    // The pool checks a connection before lending it and opens a new one.
    store.put(checkpoint("lost", None, 1)).await.unwrap();
    let written = store.list("lost", "", Default::default()).await.unwrap();
    assert_eq!(written.len(), 2);
}
