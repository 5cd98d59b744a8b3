//! What a durable thread costs per step of a whole graph run: a one-node loop that adds 1 to
//! a counter and appends 100 bytes to a list each step, routed back to itself for N steps
//! (200 and 1,000), run on a thread with durability `Sync` (each step's checkpoint stored
//! before the next step starts) against the same graph run without a thread.
//!
//! Stores: in memory, SQLite in WAL mode with `synchronous=NORMAL` and with `FULL`, and
//! Postgres on 127.0.0.1 when `STATEGRAPH_TEST_POSTGRES_URL` names one. Each round runs the
//! plain graph and then the thread, so a drift of the shared machine that lasts seconds
//! moves both alike; the cost reported is the median over the rounds of (thread - plain)
//! / N. A thread run's fixed work (taking the thread's lease, reading where it stands,
//! storing the input, giving the lease up) is part of it, spread over the N steps.
//!
//! Then, on a fresh store, one 1,000-step run: the size on disk (SQLite's file plus its
//! WAL after `wal_checkpoint(TRUNCATE)`) and the time `Thread::state` takes to read the
//! newest state back (median of many reads): through the store that wrote the thread,
//! which keeps its newest snapshot, and through a second store of the same database that
//! keeps none (`cold`: every read fetches the snapshot, as a read by another process the
//! first time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use stategraph::checkpoint::Checkpointer;
use stategraph::prelude::*;
use stategraph::{Durability, RunConfig};
use stategraph_checkpoint::{MemoryCheckpointer, SqlCheckpointer, SqlOptions};

/// The loop's state.
#[derive(Clone, Debug, Default, Serialize, Deserialize, State)]
struct Steps {
    /// How many steps the loop runs.
    limit: u64,
    count: u64,
    #[reducer(append)]
    log: Vec<String>,
}

/// `step` until `count` reaches `limit`.
#[graph(state = Steps, edges = [START -> step, step -> again ? [step, END]])]
mod looped {
    use super::*;

    #[node]
    async fn step(state: &Steps) -> StepsUpdate {
        let count = state.count + 1;
        StepsUpdate::default()
            .count(count)
            .log(vec![format!("{count:0>100}")])
    }

    #[router]
    fn again(state: &Steps) -> Again {
        if state.count < state.limit {
            Again::Step
        } else {
            Again::End
        }
    }
}

/// (steps, rounds): enough rounds that the median settles, few enough that `FULL`, whose
/// step waits for the disk, stays within seconds.
const RUNS: [(u64, usize); 2] = [(200, 21), (1_000, 11)];
/// Reads of the newest state after 1,000 steps.
const READS: usize = 200;

fn config(steps: u64) -> RunConfig<looped::Tag> {
    // The loop takes one step per count, plus the slack LangGraph's limit counts.
    RunConfig::default().recursion_limit(u32::try_from(steps).expect("small") + 10)
}

async fn plain_run(graph: &looped::Graph, steps: u64) -> Duration {
    let started = Instant::now();
    let state = graph
        .invoke_with(
            Steps {
                limit: steps,
                ..Steps::default()
            },
            config(steps),
        )
        .await
        .expect("plain run");
    let elapsed = started.elapsed();
    assert_eq!(state.count, steps);
    elapsed
}

async fn thread_run(
    graph: &looped::Graph,
    store: &Arc<dyn Checkpointer>,
    thread: &str,
    steps: u64,
) -> Duration {
    let started = Instant::now();
    let state = graph
        .thread(store, thread)
        .invoke_with(
            StepsUpdate::default().limit(steps),
            config(steps).durability(Durability::Sync),
        )
        .await
        .expect("thread run");
    let elapsed = started.elapsed();
    assert_eq!(state.count, steps);
    assert_eq!(state.log.len() as u64, steps);
    elapsed
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A store to measure, and what it takes to make a fresh one.
enum Backend {
    Memory,
    Sqlite { full: bool },
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite { full: false } => "sqlite_NORMAL",
            Self::Sqlite { full: true } => "sqlite_FULL",
            Self::Postgres(_) => "postgres",
        }
    }

    /// A second store of the database of `dir` (SQLite) or of the URL, keeping no
    /// snapshots; `None` in memory.
    async fn open_cold(&self, dir: Option<&tempfile::TempDir>) -> Option<SqlCheckpointer> {
        let url = match (self, dir) {
            (Self::Sqlite { .. }, Some(dir)) => {
                format!("sqlite://{}", dir.path().join("bench.db").display())
            }
            (Self::Postgres(url), _) => url.clone(),
            _ => return None,
        };
        let options = SqlOptions {
            snapshot_cache_bytes: 0,
            ..SqlOptions::default()
        };
        Some(
            SqlCheckpointer::connect_with(&url, options)
                .await
                .expect("a second store"),
        )
    }

    /// A store with no threads, and the directory of its files (SQLite).
    async fn open(
        &self,
    ) -> (
        Arc<dyn Checkpointer>,
        Option<SqlCheckpointer>,
        Option<tempfile::TempDir>,
    ) {
        match self {
            Self::Memory => (Arc::new(MemoryCheckpointer::new()), None, None),
            Self::Sqlite { full } => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                let options = SqlOptions {
                    synchronous_full: *full,
                    ..SqlOptions::default()
                };
                let store = SqlCheckpointer::connect_with(&url, options)
                    .await
                    .expect("sqlite");
                (Arc::new(store.clone()), Some(store), Some(dir))
            }
            Self::Postgres(url) => {
                let store = SqlCheckpointer::connect(url).await.expect("postgres");
                (Arc::new(store.clone()), Some(store), None)
            }
        }
    }
}

/// The thread ids this benchmark writes, so that a shared Postgres is left as found.
fn thread_id(steps: u64, round: usize) -> String {
    format!("thread-steps-{steps}-{round}")
}

fn size_on_disk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}

async fn measure(graph: &looped::Graph, backend: &Backend) {
    let name = backend.name();
    for (steps, rounds) in RUNS {
        let (store, sql, _dir) = backend.open().await;
        let mut added = Vec::with_capacity(rounds);
        let mut plain = Vec::with_capacity(rounds);
        // Round 0 warms the caches and the connections up and is not counted.
        for round in 0..=rounds {
            let id = thread_id(steps, round);
            if let Some(sql) = &sql {
                sql.delete_thread(&id).await.expect("clean");
            }
            let base = plain_run(graph, steps).await;
            let on_thread = thread_run(graph, &store, &id, steps).await;
            if round > 0 {
                let per_step = |time: Duration| time.as_secs_f64() * 1e6 / steps as f64;
                plain.push(per_step(base));
                added.push(per_step(on_thread) - per_step(base));
            }
        }
        if let Some(sql) = &sql {
            for round in 0..=rounds {
                sql.delete_thread(&thread_id(steps, round))
                    .await
                    .expect("clean");
            }
            sql.close().await;
        }
        let (plain, added) = (median(plain), median(added));
        println!(
            "{name:<16} {steps:>6} steps {plain:>10.2} µs/step plain {added:>10.1} µs/step added"
        );
        println!(
            "BENCH thread_steps backend={name} steps={steps} rounds={rounds} plain_us_per_step={plain:.2} added_us_per_step={added:.1}"
        );
    }

    // The store after one 1,000-step run: its size, and reading the newest state.
    let (store, sql, dir) = backend.open().await;
    let id = thread_id(1_000, usize::MAX);
    if let Some(sql) = &sql {
        sql.delete_thread(&id).await.expect("clean");
    }
    thread_run(graph, &store, &id, 1_000).await;
    let read_us = read_state(graph, &store, &id).await;
    let cold = backend.open_cold(dir.as_ref()).await;
    let cold_us = match &cold {
        Some(cold) => {
            let cold_store: Arc<dyn Checkpointer> = Arc::new(cold.clone());
            let read_us = read_state(graph, &cold_store, &id).await;
            cold.close().await;
            format!("{read_us:.1}")
        }
        None => "-".to_owned(),
    };
    let disk = match (&sql, &dir) {
        (Some(sql), Some(dir)) => {
            sql.checkpoint_wal().await.expect("wal checkpoint");
            size_on_disk(dir.path()).to_string()
        }
        _ => "-".to_owned(),
    };
    if let Some(sql) = &sql {
        sql.delete_thread(&id).await.expect("clean");
        sql.close().await;
    }
    println!(
        "{name:<16} after 1,000 steps: state() {read_us:.1} µs (cold {cold_us} µs), {disk} B on disk"
    );
    println!(
        "BENCH thread_steps backend={name} steps=1000 read_us={read_us:.1} cold_read_us={cold_us} disk_bytes={disk}"
    );
}

/// The median time `Thread::state` takes to read thread `id` of `store`, in µs.
async fn read_state(graph: &looped::Graph, store: &Arc<dyn Checkpointer>, id: &str) -> f64 {
    let thread = graph.thread(store, id);
    let mut reads = Vec::with_capacity(READS);
    for _ in 0..READS {
        let started = Instant::now();
        let snapshot = thread.state().await.expect("read").expect("stored");
        reads.push(started.elapsed().as_secs_f64() * 1e6);
        assert_eq!(snapshot.values.count, 1_000);
    }
    median(reads)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if stategraph_benches::listing_only("thread_steps") {
        return;
    }
    let graph = looped::Graph::new();
    println!(
        "a loop of N steps (+1, 100 B appended each), durability Sync, against the same loop without a thread"
    );
    let mut backends = vec![
        Backend::Memory,
        Backend::Sqlite { full: false },
        Backend::Sqlite { full: true },
    ];
    match std::env::var("STATEGRAPH_TEST_POSTGRES_URL") {
        Ok(url) => backends.push(Backend::Postgres(url)),
        Err(_) => println!(
            "postgres: skipped: no Postgres (set STATEGRAPH_TEST_POSTGRES_URL; scripts/postgres-start.sh prints one)"
        ),
    }
    for backend in &backends {
        measure(&graph, backend).await;
    }
}
