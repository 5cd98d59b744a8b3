//! The SQLite store's writer and its log's checkpoints, seen from inside.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::json;
use sqlx::{Connection, Row};
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, CheckpointMeta, NewCheckpoint, SnapshotCounters, Source,
    StateDelta,
};

use super::wal::CHECKPOINT_EVERY;
use super::{SqlCheckpointer, SqlOptions};

fn checkpoint(thread: &str, step: i64) -> NewCheckpoint {
    let values = json!({"count": step, "log": [format!("{step:0>100}")]});
    let values = values.as_object().cloned().unwrap_or_default();
    NewCheckpoint {
        meta: CheckpointMeta {
            thread_id: thread.into(),
            checkpoint_ns: String::new(),
            id: CheckpointId::new(),
            parent_id: None,
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

async fn sqlite(dir: &tempfile::TempDir, options: SqlOptions) -> (SqlCheckpointer, String) {
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    let store = SqlCheckpointer::connect_with(&url, options).await.unwrap();
    (store, url)
}

/// Frames in the log now, as SQLite reports them (copying any it can first).
async fn frames_in_log(url: &str) -> i64 {
    let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    row.get(1)
}

#[tokio::test]
async fn the_log_is_copied_in_the_background_and_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = sqlite(&dir, SqlOptions::default()).await;
    // Two checkpoints of the log, the second while writes go on.
    for step in 0..i64::from(2 * CHECKPOINT_EVERY + 16) {
        store.put(checkpoint("t", step)).await.unwrap();
    }
    let wal = &store.sqlite.as_ref().unwrap().wal;
    while wal.running() {
        tokio::task::yield_now().await;
    }
    // The whole log was copied: this write starts it over.
    store.put(checkpoint("t", -1)).await.unwrap();
    let frames = frames_in_log(&url).await;
    assert!(
        frames < 64,
        "{frames} frames in the log after {} writes",
        2 * CHECKPOINT_EVERY + 17
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_from_many_tasks_queue_instead_of_finding_the_file_locked() {
    let dir = tempfile::tempdir().unwrap();
    // No wait on SQLite's lock: a second connection writing at the same time would fail.
    let options = SqlOptions {
        busy_timeout: Duration::ZERO,
        ..SqlOptions::default()
    };
    let (store, _) = sqlite(&dir, options).await;
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                for step in 0..50 {
                    store.put(checkpoint(&format!("t{task}"), step)).await?;
                }
                Ok::<_, CheckpointError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for task in 0..8 {
        let thread = format!("t{task}");
        let list = store.list(&thread, "", Default::default()).await.unwrap();
        assert_eq!(list.len(), 50, "thread {thread}");
    }
    store.close().await;
}

/// With `synchronous=FULL` every write syncs the disk, so all of them run on a blocking
/// thread: a run's lease, read, checkpoints and pending writes still land and read back.
#[tokio::test(flavor = "current_thread")]
async fn with_full_sync_writes_run_off_the_runtime_and_land() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqlOptions {
        synchronous_full: true,
        ..SqlOptions::default()
    };
    let (store, _) = sqlite(&dir, options).await;
    let lease = Duration::from_secs(10);
    let nothing = store.lock_and_get("t", "", None, "run", lease).await;
    assert!(nothing.unwrap().is_none());
    let first = checkpoint("t", 0);
    let id = first.meta.id;
    store.put(first).await.unwrap();
    let write = stategraph_core::checkpoint::PendingWrite {
        task_id: "task".into(),
        node: "step".into(),
        channel: "count".into(),
        value: json!(1),
    };
    store.put_writes("t", "", id, vec![write]).await.unwrap();
    store.unlock_thread("t", "run").await.unwrap();
    let read = store.lock_and_get("t", "", None, "run-2", lease).await;
    let read = read.unwrap().unwrap();
    assert_eq!(read.meta.id, id);
    assert_eq!(read.values["count"], json!(0));
    assert_eq!(read.pending_writes.len(), 1);
    assert_eq!(read.pending_writes[0].value, json!(1));
    store.close().await;
}

/// A write carrying more than `IN_LINE_BYTES` runs on a blocking thread, and lands whole.
#[tokio::test(flavor = "current_thread")]
async fn a_large_write_runs_off_the_runtime_and_lands() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite(&dir, SqlOptions::default()).await;
    let mut large = checkpoint("t", 0);
    let text = "x".repeat(super::local::IN_LINE_BYTES + 1);
    let values = json!({"count": 0, "log": [text]});
    let values = values.as_object().cloned().unwrap_or_default();
    large.delta = StateDelta::set_all(&values);
    large.snapshot = Some(values);
    let id = large.meta.id;
    store.put(large).await.unwrap();
    let read = store.get("t", "", None).await.unwrap().unwrap();
    assert_eq!(read.meta.id, id);
    assert_eq!(
        read.values["log"][0].as_str().map(str::len),
        Some(text.len())
    );
    store.close().await;
}

#[tokio::test]
async fn a_closed_store_refuses_writes_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite(&dir, SqlOptions::default()).await;
    store.put(checkpoint("t", 0)).await.unwrap();
    store.close().await;
    match store.put(checkpoint("t", 1)).await {
        Err(CheckpointError::Unavailable { .. }) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    match store.get("t", "", None).await {
        Err(CheckpointError::Unavailable { .. }) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn an_asked_for_checkpoint_waits_for_the_background_one_and_empties_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite(&dir, SqlOptions::default()).await;
    // Whether the asked-for checkpoint meets the background one in SQLite depends on
    // timing; over ten rounds it does in several.
    for round in 0..10 {
        // The last of these writes starts a checkpoint in the background.
        for step in 0..i64::from(CHECKPOINT_EVERY) {
            store.put(checkpoint("t", step)).await.unwrap();
        }
        store.checkpoint_wal().await.unwrap();
        let log = std::fs::metadata(dir.path().join("threads.db-wal")).unwrap();
        assert_eq!(log.len(), 0, "round {round}: the log is empty");
    }
    store.close().await;
}
