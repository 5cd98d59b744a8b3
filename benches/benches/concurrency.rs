//! Many concurrent graph runs of 100 tokens each: wall time and peak heap per run, against
//! one run of 100 tokens measured in the same process.
//!
//! Every run starts, reads its first chunk, then waits at a barrier until all runs are
//! under way, so the peak counts them all alive at once; then they finish. Each size runs
//! three times: the median wall time and the largest peak are reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use stategraph::mode::Messages;
use stategraph::{AnyChatModel, ScriptedModel};
use stategraph_benches::alloc::{self, CountingAllocator};
use stategraph_benches::graphs::{Empty, one_call};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const TOKENS: usize = 100;
const REPETITIONS: usize = 3;

async fn one_run(graph: &one_call::Graph, barrier: Option<&tokio::sync::Barrier>) -> usize {
    let mut stream = graph.stream(Empty::default(), Messages);
    let mut n = 0;
    if let Some(barrier) = barrier {
        n += usize::from(stream.next().await.is_some());
        barrier.wait().await;
    }
    while let Some(chunk) = stream.next().await {
        chunk.expect("no error");
        n += 1;
    }
    n
}

/// Runs `runs` graph runs at once; returns the wall time and the peak heap above what was
/// live before.
fn concurrent_runs(
    runtime: &tokio::runtime::Runtime,
    graph: &Arc<one_call::Graph>,
    runs: usize,
) -> (Duration, usize) {
    let before = alloc::reset_peak();
    let barrier = Arc::new(tokio::sync::Barrier::new(runs));
    let start = Instant::now();
    let total: usize = runtime.block_on(async {
        let tasks: Vec<_> = (0..runs)
            .map(|_| {
                let graph = Arc::clone(graph);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move { one_run(&graph, Some(&barrier)).await })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("no panic");
        }
        total
    });
    let wall = start.elapsed();
    assert_eq!(total, runs * TOKENS, "every token of every run arrived");
    (wall, alloc::peak() - before)
}

fn main() {
    if stategraph_benches::listing_only("concurrency") {
        return;
    }
    let runtime = stategraph_benches::two_worker_runtime();
    let tokens: Vec<String> = (0..TOKENS).map(|i| format!(" t{i}")).collect();
    let graph = Arc::new(one_call::Graph::new(AnyChatModel::new(ScriptedModel::new(
        tokens,
    ))));

    // Baseline: one run, the median of 201.
    let mut singles: Vec<Duration> = (0..201)
        .map(|_| {
            let start = Instant::now();
            assert_eq!(runtime.block_on(one_run(&graph, None)), TOKENS);
            start.elapsed()
        })
        .collect();
    singles.sort();
    let single = singles[singles.len() / 2];
    println!("one run x {TOKENS} tokens: median {single:?}");

    for runs in [1_000usize, 100_000] {
        // The median wall time of three repetitions (a shared machine stalls now and then
        // for a whole repetition), and the largest peak of the three.
        let mut walls = Vec::new();
        let mut peak = 0;
        for _ in 0..REPETITIONS {
            let (wall, bytes) = concurrent_runs(&runtime, &graph, runs);
            walls.push(wall);
            peak = peak.max(bytes);
        }
        walls.sort();
        let wall = walls[REPETITIONS / 2];
        let per_run = peak / runs;
        let linear = wall.as_secs_f64() / (runs as f64 * single.as_secs_f64());
        println!(
            "{runs} concurrent runs x {TOKENS} tokens: wall {wall:?}, peak heap {per_run} B per run, wall / ({runs} x one run) = {linear:.2}"
        );
        println!(
            "BENCH concurrency runs={runs} wall_ms={:.1} peak_bytes_per_run={per_run} single_us={:.1} ratio_to_linear={linear:.2}",
            wall.as_secs_f64() * 1e3,
            single.as_secs_f64() * 1e6
        );
    }
}
