//! What storing a thread costs per step, at the store: 1,000 checkpoints of a state that
//! adds 1 to a counter and appends 100 bytes to a list each step, written one after the
//! other (each committed before the next, as durability `sync` does), then reading the
//! newest state back. Stores: in memory, SQLite in WAL mode with `synchronous=NORMAL` and
//! with `FULL`, and Postgres on 127.0.0.1 when `STATEGRAPH_TEST_POSTGRES_URL` names one.
//! Baseline: the same steps building their delta and snapshot with no store.
//!
//! Size on disk is SQLite's file plus its WAL after `wal_checkpoint(TRUNCATE)`.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use serde_json::{Map, Value, json};
use stategraph_checkpoint::{MemoryCheckpointer, SqlCheckpointer, SqlOptions};
use stategraph_core::checkpoint::{
    CheckpointId, CheckpointMeta, Checkpointer, FieldChange, NewCheckpoint, SnapshotCounters,
    SnapshotPolicy, Source, StateDelta, fold,
};

const STEPS: usize = 1_000;
const READS: usize = 200;

/// The checkpoint of step `step` after `parent`, with the state kept in `state`.
fn next_checkpoint(
    state: &mut Map<String, Value>,
    parent: Option<(CheckpointId, SnapshotCounters)>,
    step: i64,
    policy: SnapshotPolicy,
) -> NewCheckpoint {
    let mut delta = StateDelta::default();
    delta
        .0
        .insert("count".into(), FieldChange::Set(json!(step + 1)));
    delta.0.insert(
        "log".into(),
        FieldChange::Append(vec![json!(format!("{step:0>100}"))]),
    );
    fold(state, &delta).expect("fits");
    let delta_bytes = serde_json::to_vec(&delta).expect("json").len() as u64;
    let parent_counters = parent.as_ref().map(|(_, counters)| counters);
    let snapshot = policy
        .due(parent_counters, delta_bytes)
        .then(|| state.clone());
    let snapshot_bytes = snapshot
        .as_ref()
        .map(|s| serde_json::to_vec(s).expect("json").len() as u64);
    NewCheckpoint {
        meta: CheckpointMeta {
            thread_id: "bench".into(),
            checkpoint_ns: String::new(),
            id: CheckpointId::new(),
            parent_id: parent.map(|(id, _)| id),
            run_id: None,
            step,
            source: Source::Loop,
            created_at: SystemTime::now(),
            next: vec!["work".into()],
            versions: BTreeMap::from([("count".into(), step as u64), ("log".into(), step as u64)]),
            frontier: Value::Null,
        },
        delta,
        snapshot,
        counters: policy.next(parent_counters, delta_bytes, snapshot_bytes),
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

struct Figures {
    put_us: f64,
    read_us: f64,
}

async fn run(store: Option<&dyn Checkpointer>) -> Figures {
    let policy = SnapshotPolicy::default();
    let mut state = Map::new();
    let mut parent = None;
    let mut puts = Vec::with_capacity(STEPS);
    for step in 0..STEPS as i64 {
        let started = Instant::now();
        let checkpoint = next_checkpoint(&mut state, parent, step, policy);
        parent = Some((checkpoint.meta.id, checkpoint.counters));
        if let Some(store) = store {
            store.put(checkpoint).await.expect("stored");
        }
        puts.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let mut reads = Vec::with_capacity(READS);
    if let Some(store) = store {
        for _ in 0..READS {
            let started = Instant::now();
            let latest = store
                .get("bench", "", None)
                .await
                .expect("read")
                .expect("stored");
            reads.push(started.elapsed().as_secs_f64() * 1e6);
            assert_eq!(latest.values["count"], json!(STEPS));
        }
    } else {
        reads.push(0.0);
    }
    Figures {
        put_us: median(puts),
        read_us: median(reads),
    }
}

fn size_on_disk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if stategraph_benches::listing_only("checkpoint_store") {
        return;
    }
    let baseline = run(None).await;
    println!("{STEPS} steps x (+1, 100 B appended), medians");
    println!(
        "{:<24} {:>12} {:>12} {:>14}",
        "store", "put µs", "read µs", "on disk"
    );
    println!(
        "{:<24} {:>12.1} {:>12} {:>14}",
        "none (baseline)", baseline.put_us, "-", "-"
    );
    let memory = MemoryCheckpointer::new();
    let figures = run(Some(&memory)).await;
    println!(
        "{:<24} {:>12.1} {:>12.1} {:>14}",
        "memory", figures.put_us, figures.read_us, "-"
    );
    println!(
        "BENCH checkpoint_store store=memory put_us={:.1} read_us={:.1} baseline_us={:.1}",
        figures.put_us, figures.read_us, baseline.put_us
    );
    for full in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let options = SqlOptions {
            synchronous_full: full,
            ..SqlOptions::default()
        };
        let store = SqlCheckpointer::connect_with(&url, options)
            .await
            .expect("sqlite");
        let figures = run(Some(&store)).await;
        store.checkpoint_wal().await.expect("wal checkpoint");
        let bytes = size_on_disk(dir.path());
        let name = if full { "sqlite FULL" } else { "sqlite NORMAL" };
        println!(
            "{name:<24} {:>12.1} {:>12.1} {:>12} B",
            figures.put_us, figures.read_us, bytes
        );
        println!(
            "BENCH checkpoint_store store={} put_us={:.1} read_us={:.1} baseline_us={:.1} disk_bytes={bytes}",
            name.replace(' ', "_"),
            figures.put_us,
            figures.read_us,
            baseline.put_us
        );
        store.close().await;
    }
    if let Ok(url) = std::env::var("STATEGRAPH_TEST_POSTGRES_URL") {
        let store = SqlCheckpointer::connect(&url).await.expect("postgres");
        store.delete_thread("bench").await.expect("clean");
        let figures = run(Some(&store)).await;
        println!(
            "{:<24} {:>12.1} {:>12.1} {:>14}",
            "postgres (loopback)", figures.put_us, figures.read_us, "-"
        );
        println!(
            "BENCH checkpoint_store store=postgres put_us={:.1} read_us={:.1} baseline_us={:.1}",
            figures.put_us, figures.read_us, baseline.put_us
        );
        store.delete_thread("bench").await.expect("clean");
    } else {
        println!(
            "postgres: skipped (STATEGRAPH_TEST_POSTGRES_URL not set; scripts/postgres-start.sh prints one)"
        );
    }
}
