//! Every store against the same checks: memory and SQLite always, Postgres when the test
//! script has started one (`STATEGRAPH_TEST_POSTGRES_URL`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use stategraph_checkpoint::{MemoryCheckpointer, SqlCheckpointer, SqlOptions};
use stategraph_core::checkpoint::{
    CheckpointError, CheckpointId, Checkpointer, FieldChange, ListOptions, NewCheckpoint,
    PendingWrite, RunQuery, RunRecord, RunStatus, SnapshotCounters, SnapshotPolicy, Source,
    StateDelta, ThreadChange, ThreadQuery, ThreadRecord, ThreadSort, ThreadSortBy, ThreadStatus,
    fold,
};

/// Writes checkpoints of one thread as the runtime will: a delta per step, a snapshot when
/// the policy asks, and keeps the expected whole state beside them.
struct Writer {
    thread: String,
    policy: SnapshotPolicy,
    parent: Option<(CheckpointId, SnapshotCounters)>,
    state: Map<String, Value>,
    step: i64,
}

impl Writer {
    fn new(thread: &str, policy: SnapshotPolicy) -> Self {
        Self {
            thread: thread.to_owned(),
            policy,
            parent: None,
            state: Map::new(),
            step: -1,
        }
    }

    fn next(&mut self, delta: StateDelta) -> NewCheckpoint {
        fold(&mut self.state, &delta).expect("a fitting delta");
        let delta_bytes = serde_json::to_string(&delta).unwrap().len() as u64;
        let parent_counters = self.parent.as_ref().map(|(_, counters)| counters);
        let snapshot = self
            .policy
            .due(parent_counters, delta_bytes)
            .then(|| self.state.clone());
        let snapshot_bytes = snapshot
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap().len() as u64);
        let counters = self
            .policy
            .next(parent_counters, delta_bytes, snapshot_bytes);
        let id = CheckpointId::new();
        let checkpoint = NewCheckpoint {
            meta: stategraph_core::checkpoint::CheckpointMeta {
                thread_id: self.thread.clone(),
                checkpoint_ns: String::new(),
                id,
                parent_id: self.parent.as_ref().map(|(id, _)| *id),
                run_id: Some("run-1".into()),
                step: self.step,
                source: if self.step < 0 {
                    Source::Input
                } else {
                    Source::Loop
                },
                created_at: SystemTime::now(),
                next: vec!["work".into()],
                versions: BTreeMap::from([("count".to_owned(), (self.step + 1) as u64)]),
                // Every other checkpoint carries a frontier, so both a stored one and NULL
                // are read back.
                frontier: if self.step % 2 == 0 {
                    json!({"tasks": [{"node": "work", "triggers": ["branch:to:work"]}]})
                } else {
                    serde_json::Value::Null
                },
            },
            delta,
            snapshot,
            counters,
        };
        self.parent = Some((id, counters));
        self.step += 1;
        checkpoint
    }
}

fn step_delta(step: i64) -> StateDelta {
    let mut delta = StateDelta::default();
    delta
        .0
        .insert("count".into(), FieldChange::Set(json!(step)));
    delta.0.insert(
        "log".into(),
        FieldChange::Append(vec![json!(format!("entry {step:>5}"))]),
    );
    delta
}

async fn folds_the_state_of_every_checkpoint(store: &dyn Checkpointer) {
    let mut writer = Writer::new("fold", SnapshotPolicy { max_rows: 16 });
    let mut expected = Vec::new();
    for step in 0..100 {
        let checkpoint = writer.next(step_delta(step));
        let id = checkpoint.meta.id;
        store.put(checkpoint).await.unwrap();
        expected.push((id, writer.state.clone()));
    }
    let latest = store
        .get("fold", "", None)
        .await
        .unwrap()
        .expect("a checkpoint");
    assert_eq!(latest.meta.id, expected.last().unwrap().0);
    assert_eq!(latest.values, expected.last().unwrap().1);
    assert_eq!(latest.values["log"].as_array().unwrap().len(), 100);
    assert!(latest.counters.rows_since < 16, "{:?}", latest.counters);
    for (id, state) in expected.iter().step_by(7) {
        let at = store.get("fold", "", Some(*id)).await.unwrap().unwrap();
        assert_eq!(&at.values, state, "checkpoint {id}");
        let frontier = if at.meta.step % 2 == 0 {
            json!({"tasks": [{"node": "work", "triggers": ["branch:to:work"]}]})
        } else {
            serde_json::Value::Null
        };
        assert_eq!(at.meta.frontier, frontier, "checkpoint {id}");
    }
    assert!(store.get("fold", "other-ns", None).await.unwrap().is_none());
    assert!(store.get("nobody", "", None).await.unwrap().is_none());
    assert!(
        store
            .get("fold", "", Some(CheckpointId::new()))
            .await
            .unwrap()
            .is_none()
    );
}

async fn lists_newest_first(store: &dyn Checkpointer) {
    let mut writer = Writer::new("list", SnapshotPolicy::default());
    let mut ids = Vec::new();
    for step in 0..10 {
        let checkpoint = writer.next(step_delta(step));
        ids.push(checkpoint.meta.id);
        store.put(checkpoint).await.unwrap();
    }
    let all = store
        .list("list", "", ListOptions::default())
        .await
        .unwrap();
    let listed: Vec<_> = all.iter().map(|meta| meta.id).collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    assert_eq!(all[0].step, 8);
    assert_eq!(all[9].source, Source::Input);
    assert_eq!(all[0].next, ["work"]);
    let page = store
        .list(
            "list",
            "",
            ListOptions {
                limit: Some(3),
                before: Some(ids[5]),
            },
        )
        .await
        .unwrap();
    let page: Vec<_> = page.iter().map(|meta| meta.id).collect();
    assert_eq!(page, [ids[4], ids[3], ids[2]]);
}

async fn keeps_pending_writes_in_order(store: &dyn Checkpointer) {
    let mut writer = Writer::new("writes", SnapshotPolicy::default());
    let checkpoint = writer.next(step_delta(0));
    let id = checkpoint.meta.id;
    store.put(checkpoint).await.unwrap();
    let write = |task: &str, value: Value| PendingWrite {
        task_id: task.into(),
        node: "work".into(),
        channel: "update".into(),
        value,
    };
    store
        .put_writes(
            "writes",
            "",
            id,
            vec![write("b", json!(1)), write("a", json!(2))],
        )
        .await
        .unwrap();
    store
        .put_writes("writes", "", id, vec![write("b", json!(3))])
        .await
        .unwrap();
    let read = store.get("writes", "", None).await.unwrap().unwrap();
    let seen: Vec<_> = read
        .pending_writes
        .iter()
        .map(|w| (w.task_id.as_str(), w.value.clone()))
        .collect();
    assert_eq!(seen, [("b", json!(3)), ("a", json!(2))]);
}

/// One call's writes: a task writing a channel twice keeps its last value in its first
/// place, and thousands of writes (more than one statement takes) all land, in order.
async fn keeps_a_calls_last_write_per_channel_and_many_writes(store: &dyn Checkpointer) {
    let mut writer = Writer::new("many-writes", SnapshotPolicy::default());
    let checkpoint = writer.next(step_delta(0));
    let id = checkpoint.meta.id;
    store.put(checkpoint).await.unwrap();
    let write = |task: String, channel: &str, value: Value| PendingWrite {
        task_id: task,
        node: "work".into(),
        channel: channel.into(),
        value,
    };
    store
        .put_writes(
            "many-writes",
            "",
            id,
            vec![
                write("b".into(), "update", json!(1)),
                write("a".into(), "update", json!(2)),
                write("b".into(), "__error__", json!("boom")),
                write("b".into(), "update", json!(5)),
            ],
        )
        .await
        .unwrap();
    let read = store.get("many-writes", "", None).await.unwrap().unwrap();
    let seen: Vec<_> = read
        .pending_writes
        .iter()
        .map(|w| (w.task_id.as_str(), w.channel.as_str(), w.value.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("b", "update", json!(5)),
            ("a", "update", json!(2)),
            ("b", "__error__", json!("boom")),
        ]
    );
    let many: Vec<_> = (0..2_500)
        .map(|n| write(format!("task-{n:04}"), "update", json!(n)))
        .collect();
    store.put_writes("many-writes", "", id, many).await.unwrap();
    let read = store.get("many-writes", "", None).await.unwrap().unwrap();
    assert_eq!(read.pending_writes.len(), 2_503);
    let tail: Vec<_> = read.pending_writes[3..]
        .iter()
        .map(|w| w.value.as_i64().unwrap())
        .collect();
    assert_eq!(tail, (0..2_500).collect::<Vec<i64>>());
}

async fn copies_and_deletes_threads(store: &dyn Checkpointer) {
    let mut writer = Writer::new("original", SnapshotPolicy::default());
    for step in 0..3 {
        store.put(writer.next(step_delta(step))).await.unwrap();
    }
    store.copy_thread("original", "copy").await.unwrap();
    let copy = store.get("copy", "", None).await.unwrap().unwrap();
    let original = store.get("original", "", None).await.unwrap().unwrap();
    assert_eq!(copy.values, original.values);
    assert_eq!(copy.meta.thread_id, "copy");
    assert!(matches!(
        store.copy_thread("original", "copy").await,
        Err(CheckpointError::Database { .. })
    ));
    assert!(matches!(
        store.copy_thread("missing", "elsewhere").await,
        Err(CheckpointError::NotFound { .. })
    ));
    store.delete_thread("original").await.unwrap();
    assert!(store.get("original", "", None).await.unwrap().is_none());
    assert!(store.get("copy", "", None).await.unwrap().is_some());
}

async fn never_overwrites_a_checkpoint(store: &dyn Checkpointer) {
    let mut writer = Writer::new("twice", SnapshotPolicy::default());
    let checkpoint = writer.next(step_delta(0));
    store.put(checkpoint.clone()).await.unwrap();
    let mut again = checkpoint;
    again.delta = step_delta(42);
    again.snapshot = None;
    assert!(store.put(again).await.is_err());
    let read = store.get("twice", "", None).await.unwrap().unwrap();
    assert_eq!(read.values["count"], json!(0));
}

async fn leases_a_thread_to_one_owner(store: &dyn Checkpointer) {
    let long = Duration::from_secs(60);
    store.lock_thread("leased", "a", long).await.unwrap();
    assert!(matches!(
        store.lock_thread("leased", "b", long).await,
        Err(CheckpointError::ThreadBusy { thread }) if thread == "leased"
    ));
    store.lock_thread("leased", "a", long).await.unwrap();
    store.unlock_thread("leased", "b").await.unwrap();
    assert!(
        store.lock_thread("leased", "b", long).await.is_err(),
        "b held nothing to give up"
    );
    store.unlock_thread("leased", "a").await.unwrap();
    store
        .lock_thread("leased", "b", Duration::from_millis(50))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    store
        .lock_thread("leased", "a", long)
        .await
        .expect("b's lease expired");
}

/// `lock_and_get` takes the lease and reads in one call: the newest checkpoint or the one
/// asked for, nothing for a new thread; while another owner holds the thread it fails
/// without taking it.
async fn locks_and_reads_in_one_call(store: &dyn Checkpointer) {
    let long = Duration::from_secs(60);
    let mut writer = Writer::new("lock-read", SnapshotPolicy { max_rows: 4 });
    let mut ids = Vec::new();
    for step in 0..6 {
        let checkpoint = writer.next(step_delta(step));
        ids.push(checkpoint.meta.id);
        store.put(checkpoint).await.unwrap();
    }
    let newest = store
        .lock_and_get("lock-read", "", None, "a", long)
        .await
        .unwrap()
        .expect("the newest checkpoint");
    assert_eq!(newest.meta.id, ids[5]);
    assert_eq!(newest.values, writer.state);
    assert!(
        matches!(
            store.lock_thread("lock-read", "b", long).await,
            Err(CheckpointError::ThreadBusy { .. })
        ),
        "a holds the thread"
    );
    assert!(matches!(
        store.lock_and_get("lock-read", "", None, "b", long).await,
        Err(CheckpointError::ThreadBusy { thread }) if thread == "lock-read"
    ));
    // Renewed by its owner, at an older checkpoint.
    let older = store
        .lock_and_get("lock-read", "", Some(ids[2]), "a", long)
        .await
        .unwrap()
        .expect("checkpoint 2");
    assert_eq!(older.meta.id, ids[2]);
    assert_eq!(older.values["log"].as_array().unwrap().len(), 3);
    store.unlock_thread("lock-read", "a").await.unwrap();
    assert!(
        store
            .lock_and_get("a-new-thread", "", None, "b", long)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store.lock_thread("a-new-thread", "a", long).await.is_err(),
        "b took the new thread"
    );
    store.unlock_thread("a-new-thread", "b").await.unwrap();
}

/// A record created `second` seconds after a fixed time (whole microseconds, as stored).
fn record(thread_id: &str, second: u64, metadata: Value) -> ThreadRecord {
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + second);
    let Value::Object(metadata) = metadata else {
        panic!("metadata is an object")
    };
    ThreadRecord {
        created_at: at,
        updated_at: at,
        ..ThreadRecord::new(thread_id, metadata)
    }
}

fn ids(records: &[ThreadRecord]) -> Vec<&str> {
    records.iter().map(|r| r.thread_id.as_str()).collect()
}

async fn keeps_thread_records(store: &dyn Checkpointer) {
    let first = record("rec-1", 1, json!({"team": "red", "n": 1}));
    assert!(store.create_thread(first.clone()).await.unwrap());
    let again = record("rec-1", 9, json!({"team": "blue"}));
    assert!(
        !store.create_thread(again).await.unwrap(),
        "a record is never replaced"
    );
    assert_eq!(
        store.get_thread("rec-1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_thread("rec-none").await.unwrap(), None);

    let interrupts = json!({"task-1": [{"value": "ok?", "id": "i-1"}]});
    let changed = store
        .update_thread(
            "rec-1",
            ThreadChange {
                metadata: json!({"n": 2, "extra": true}).as_object().unwrap().clone(),
                status: Some(ThreadStatus::Interrupted),
                values: Some(json!({"count": 3})),
                interrupts: interrupts.as_object().cloned(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Value::Object(changed.metadata.clone()),
        json!({"team": "red", "n": 2, "extra": true}),
        "metadata keys merge"
    );
    assert_eq!(changed.status, ThreadStatus::Interrupted);
    assert_eq!(changed.values, json!({"count": 3}));
    assert_eq!(Value::Object(changed.interrupts.clone()), interrupts);
    assert!(changed.updated_at > first.updated_at);
    assert_eq!(changed.created_at, first.created_at);
    // What the store gives back is what it returned (to the microsecond it keeps).
    let read = store.get_thread("rec-1").await.unwrap().unwrap();
    assert_eq!(read.metadata, changed.metadata);
    assert_eq!(read.status, changed.status);
    assert_eq!(read.interrupts, changed.interrupts);
    assert!(
        store
            .update_thread("rec-none", ThreadChange::default())
            .await
            .unwrap()
            .is_none()
    );

    for (second, id, team) in [
        (2, "rec-2", "red"),
        (3, "rec-3", "blue"),
        (4, "rec-4", "red"),
    ] {
        let created = store
            .create_thread(record(id, second, json!({ "team": team })))
            .await
            .unwrap();
        assert!(created);
    }
    let query = |metadata: Value, status, limit, offset| ThreadQuery {
        metadata: metadata.as_object().unwrap().clone(),
        status,
        limit,
        offset,
        ..ThreadQuery::default()
    };
    let red = store
        .search_threads(query(json!({"team": "red"}), None, 10, 0))
        .await
        .unwrap();
    assert_eq!(
        ids(&red),
        ["rec-4", "rec-2", "rec-1"],
        "newest created first"
    );
    let page = store
        .search_threads(query(json!({"team": "red"}), None, 1, 1))
        .await
        .unwrap();
    assert_eq!(ids(&page), ["rec-2"]);
    let interrupted = store
        .search_threads(query(json!({}), Some(ThreadStatus::Interrupted), 10, 0))
        .await
        .unwrap();
    assert_eq!(ids(&interrupted), ["rec-1"]);
    let none = store
        .search_threads(query(json!({"team": "red", "n": 7}), None, 10, 0))
        .await
        .unwrap();
    assert!(none.is_empty());

    // By ids, in each order (ids filter so that other threads of a shared database do
    // not count). rec-1 changed last and is the one interrupted.
    let ordered = |ids: &[&str], by, ascending, limit, offset| ThreadQuery {
        ids: ids.iter().map(|id| (*id).to_owned()).collect(),
        sort: ThreadSort { by, ascending },
        limit,
        offset,
        ..ThreadQuery::default()
    };
    let all = ["rec-1", "rec-2", "rec-3", "rec-4"];
    for (query, expected) in [
        (
            ordered(
                &["rec-3", "rec-1", "nobody"],
                ThreadSortBy::CreatedAt,
                false,
                10,
                0,
            ),
            vec!["rec-3", "rec-1"],
        ),
        (
            ordered(&all, ThreadSortBy::CreatedAt, true, 10, 0),
            vec!["rec-1", "rec-2", "rec-3", "rec-4"],
        ),
        (
            ordered(&all, ThreadSortBy::UpdatedAt, false, 2, 0),
            vec!["rec-1", "rec-4"],
        ),
        (
            ordered(&all, ThreadSortBy::ThreadId, true, 2, 1),
            vec!["rec-2", "rec-3"],
        ),
        (
            ordered(&all, ThreadSortBy::Status, true, 10, 0),
            vec!["rec-2", "rec-3", "rec-4", "rec-1"],
        ),
    ] {
        let found = store.search_threads(query.clone()).await.unwrap();
        assert_eq!(ids(&found), expected, "{:?}", query.sort);
    }

    // Copying checkpoints leaves records alone; deleting a thread deletes its record.
    let mut writer = Writer::new("rec-2", SnapshotPolicy::default());
    store.put(writer.next(step_delta(0))).await.unwrap();
    store.copy_thread("rec-2", "rec-3").await.unwrap();
    let copy = store.get_thread("rec-3").await.unwrap().unwrap();
    assert_eq!(Value::Object(copy.metadata), json!({"team": "blue"}));
    store.delete_thread("rec-2").await.unwrap();
    assert_eq!(store.get_thread("rec-2").await.unwrap(), None);
    assert!(store.get("rec-2", "", None).await.unwrap().is_none());
}

async fn keeps_run_records(store: &dyn Checkpointer) {
    let run = |id: &str, status: RunStatus, at: u64| {
        let mut run = RunRecord::new(id, "runs-1", "agent");
        run.status = status;
        run.created_at = UNIX_EPOCH + Duration::from_secs(at);
        run.updated_at = run.created_at;
        run.metadata = json!({"n": at}).as_object().cloned().unwrap();
        run.kwargs = json!({"input": {"topic": "cats"}})
            .as_object()
            .cloned()
            .unwrap();
        run.multitask_strategy = "enqueue".into();
        run
    };
    store
        .put_run(run("r1", RunStatus::Success, 1))
        .await
        .unwrap();
    store.put_run(run("r2", RunStatus::Error, 2)).await.unwrap();
    store
        .put_run(run("r3", RunStatus::Running, 3))
        .await
        .unwrap();
    let ids = |runs: &[RunRecord]| runs.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>();
    let all = |status, limit, offset| RunQuery {
        status,
        limit,
        offset,
    };
    let listed = store.list_runs("runs-1", all(None, 10, 0)).await.unwrap();
    assert_eq!(ids(&listed), ["r3", "r2", "r1"], "newest created first");
    assert_eq!(
        listed[2],
        run("r1", RunStatus::Success, 1),
        "read back whole"
    );
    let page = store.list_runs("runs-1", all(None, 1, 1)).await.unwrap();
    assert_eq!(ids(&page), ["r2"]);
    let errors = store
        .list_runs("runs-1", all(Some(RunStatus::Error), 10, 0))
        .await
        .unwrap();
    assert_eq!(ids(&errors), ["r2"]);
    assert!(
        store
            .list_runs("runs-2", all(None, 10, 0))
            .await
            .unwrap()
            .is_empty()
    );

    // A second put replaces the record.
    store
        .put_run(run("r3", RunStatus::Interrupted, 3))
        .await
        .unwrap();
    let r3 = store.get_run("runs-1", "r3").await.unwrap().unwrap();
    assert_eq!(r3.status, RunStatus::Interrupted);
    assert_eq!(
        store.get_run("runs-2", "r3").await.unwrap(),
        None,
        "another thread's"
    );
    assert!(store.delete_run("runs-1", "r3").await.unwrap());
    assert!(!store.delete_run("runs-1", "r3").await.unwrap());
    assert_eq!(store.get_run("runs-1", "r3").await.unwrap(), None);

    // Rolling a run back deletes its checkpoints and their writes, not the others'.
    let mut writer = Writer::new("runs-1", SnapshotPolicy::default());
    let kept = writer.next(step_delta(0));
    let kept_id = kept.meta.id;
    store.put(kept).await.unwrap();
    let mut dropped = writer.next(step_delta(1));
    dropped.meta.run_id = Some("r9".into());
    let dropped_id = dropped.meta.id;
    store.put(dropped).await.unwrap();
    let write = PendingWrite {
        task_id: "t".into(),
        channel: "count".into(),
        node: "work".into(),
        value: json!(1),
    };
    store
        .put_writes("runs-1", "", dropped_id, vec![write])
        .await
        .unwrap();
    store.delete_run_checkpoints("runs-1", "r9").await.unwrap();
    let newest = store.get("runs-1", "", None).await.unwrap().unwrap();
    assert_eq!(newest.meta.id, kept_id);
    assert!(
        store
            .get("runs-1", "", Some(dropped_id))
            .await
            .unwrap()
            .is_none()
    );

    // Deleting the thread deletes its runs' records.
    store.delete_thread("runs-1").await.unwrap();
    assert!(
        store
            .list_runs("runs-1", all(None, 10, 0))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn conformance(store: &dyn Checkpointer) {
    folds_the_state_of_every_checkpoint(store).await;
    lists_newest_first(store).await;
    keeps_pending_writes_in_order(store).await;
    keeps_a_calls_last_write_per_channel_and_many_writes(store).await;
    copies_and_deletes_threads(store).await;
    never_overwrites_a_checkpoint(store).await;
    leases_a_thread_to_one_owner(store).await;
    locks_and_reads_in_one_call(store).await;
    keeps_thread_records(store).await;
    keeps_run_records(store).await;
}

#[tokio::test]
async fn memory_store() {
    conformance(&MemoryCheckpointer::new()).await;
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    conformance(&store).await;
    store.close().await;
    // A second process (here: a second pool) sees everything and migrates nothing anew.
    let reopened = SqlCheckpointer::connect(&url).await.unwrap();
    let latest = reopened.get("fold", "", None).await.unwrap().unwrap();
    assert_eq!(latest.values["log"].as_array().unwrap().len(), 100);
}

#[tokio::test]
#[ignore = "needs Postgres: run scripts/test"]
async fn postgres_store() {
    let url = std::env::var("STATEGRAPH_TEST_POSTGRES_URL")
        .expect("STATEGRAPH_TEST_POSTGRES_URL, set by scripts/test");
    let store = SqlCheckpointer::connect_with(&url, SqlOptions::default())
        .await
        .unwrap();
    // Threads of earlier runs of this test would clash.
    for thread in [
        "fold",
        "list",
        "writes",
        "many-writes",
        "original",
        "copy",
        "twice",
        "leased",
        "rec-1",
        "rec-2",
        "rec-3",
        "rec-4",
        "runs-1",
    ] {
        store.delete_thread(thread).await.unwrap();
    }
    conformance(&store).await;
}

#[tokio::test]
async fn sqlite_store_keeping_no_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    let options = SqlOptions {
        snapshot_cache_bytes: 0,
        ..SqlOptions::default()
    };
    let store = SqlCheckpointer::connect_with(&url, options).await.unwrap();
    folds_the_state_of_every_checkpoint(&store).await;
    copies_and_deletes_threads(&store).await;
    store.close().await;
}

/// Spoils the snapshots stored for `thread` behind the store's back.
async fn spoil_snapshots(url: &str, thread: &str) {
    use sqlx::Connection;
    let mut raw = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query(
        "UPDATE stategraph_checkpoints SET snapshot = '{not json' \
         WHERE thread_id = $1 AND snapshot IS NOT NULL",
    )
    .bind(thread)
    .execute(&mut raw)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_snapshot_the_store_wrote_or_read_is_not_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    let mut writer = Writer::new("kept", SnapshotPolicy { max_rows: 1_000 });
    for step in 0..10 {
        store.put(writer.next(step_delta(step))).await.unwrap();
    }
    let expected = writer.state.clone();

    // A store that reads it fresh keeps what it read.
    let reader = SqlCheckpointer::connect(&url).await.unwrap();
    let first = reader.get("kept", "", None).await.unwrap().unwrap();
    assert_eq!(first.values, expected);

    // From now on a snapshot from the database does not parse: whoever fetches it fails.
    spoil_snapshots(&url, "kept").await;
    let cold = SqlCheckpointer::connect_with(
        &url,
        SqlOptions {
            snapshot_cache_bytes: 0,
            ..SqlOptions::default()
        },
    )
    .await
    .unwrap();
    match cold.get("kept", "", None).await {
        Err(CheckpointError::Corrupt { detail, .. }) => {
            assert!(detail.contains("snapshot"), "{detail}");
        }
        other => panic!("a fetched snapshot is read: expected Corrupt, got {other:?}"),
    }
    // The writer and the reader fetch only the deltas after the snapshot they keep.
    for store in [&store, &reader] {
        let latest = store.get("kept", "", None).await.unwrap().unwrap();
        assert_eq!(latest.values, expected);
    }
    // A deleted thread's snapshot is forgotten with it: written anew, the thread reads
    // its new state.
    store.delete_thread("kept").await.unwrap();
    let mut again = Writer::new("kept", SnapshotPolicy { max_rows: 1_000 });
    store.put(again.next(step_delta(100))).await.unwrap();
    let latest = store.get("kept", "", None).await.unwrap().unwrap();
    assert_eq!(latest.values, again.state);
    store.close().await;
    reader.close().await;
    cold.close().await;
}
