//! Latency from a model yielding a chunk to the consumer receiving it, median and p99,
//! against a `futures` channel between the same two threads.
//!
//! A producer thread sends chunks at least 20 µs apart (so nothing queues), each carrying
//! its send time. Baseline: the consumer reads the channel directly. Measured: the channel is
//! a model's stream, and the consumer reads the graph's messages stream. Most of either
//! latency is the OS waking the consumer's thread, which drifts over seconds on a shared
//! machine; so the two alternate, 1,000 chunks at a time, for 100,000 chunks each, and
//! the producer and the consumer are pinned to a core each (when there are two), so the
//! scheduler moving one onto the other's core does not add its own microseconds. The added
//! latency reported is the median, over the rounds, of the graph's round median minus the
//! channel's round median just before it: a drift that lasts seconds moves both alike.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::mpsc;
use hdrhistogram::Histogram;
use stategraph::mode::Messages;
use stategraph::{AnyChatModel, ChatChunk};
use stategraph_benches::graphs::{Empty, one_call};
use stategraph_benches::models::FromChannel;

const ROUNDS: usize = 100;
const SAMPLES: usize = 1_000;
const WARMUP: usize = 100;
const PACE: Duration = Duration::from_micros(20);

/// Starts the producer thread: `WARMUP + SAMPLES` chunks, each with its send time (in ns
/// since `base`) as content.
fn produce(base: Instant) -> mpsc::UnboundedReceiver<ChatChunk> {
    let (sender, receiver) = mpsc::unbounded();
    std::thread::spawn(move || {
        pin_to_core(0);
        for _ in 0..WARMUP + SAMPLES {
            let next = Instant::now() + PACE;
            let sent = base.elapsed().as_nanos() as u64;
            if sender
                .unbounded_send(ChatChunk::text(sent.to_string()))
                .is_err()
            {
                return;
            }
            // Sleeping, not spinning: a spinning producer would push every other thread
            // of the machine onto the consumer's core.
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    });
    receiver
}

fn record(histogram: &mut Histogram<u64>, base: Instant, index: usize, content: &str) {
    let received = base.elapsed().as_nanos() as u64;
    let sent: u64 = content.parse().expect("a send time");
    if index >= WARMUP {
        histogram
            .record(received.saturating_sub(sent).max(1))
            .expect("in range");
    }
}

/// Pins the calling thread to core `index`, if the machine has more than one.
fn pin_to_core(index: usize) {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    if cores.len() > 1 {
        core_affinity::set_for_current(cores[index % cores.len()]);
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("valid bounds")
}

fn main() {
    if stategraph_benches::listing_only("latency") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    // The consumer: this thread, which runs the current-thread runtime.
    pin_to_core(1);
    let base = Instant::now();
    let mut baseline = new_histogram();
    let mut graph_latency = new_histogram();
    let mut round_differences = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut baseline_round = new_histogram();
        let mut graph_round = new_histogram();
        runtime.block_on(async {
            let mut chunks = produce(base);
            let mut index = 0;
            while let Some(chunk) = chunks.next().await {
                record(&mut baseline_round, base, index, &chunk.content);
                index += 1;
            }
        });
        runtime.block_on(async {
            let model = AnyChatModel::new(FromChannel::new(produce(base)));
            let graph = one_call::Graph::new(model);
            let mut stream = graph.stream(Empty::default(), Messages);
            let mut index = 0;
            while let Some(chunk) = stream.next().await {
                let content = chunk.expect("no error");
                record(&mut graph_round, base, index, content.content());
                index += 1;
            }
        });
        round_differences.push(
            graph_round.value_at_quantile(0.5) as i64
                - baseline_round.value_at_quantile(0.5) as i64,
        );
        baseline.add(&baseline_round).expect("same bounds");
        graph_latency.add(&graph_round).expect("same bounds");
    }
    round_differences.sort_unstable();

    println!(
        "latency model -> consumer, {} chunks each, at least {PACE:?} apart",
        ROUNDS * SAMPLES
    );
    println!("{:<28} {:>10} {:>10} {:>10}", "", "median", "p99", "p99.9");
    for (name, histogram) in [
        ("baseline_futures_channel", &baseline),
        ("graph_messages_mode", &graph_latency),
    ] {
        println!(
            "{name:<28} {:>8}ns {:>8}ns {:>8}ns",
            histogram.value_at_quantile(0.5),
            histogram.value_at_quantile(0.99),
            histogram.value_at_quantile(0.999)
        );
    }
    let added = round_differences[round_differences.len() / 2];
    println!(
        "BENCH latency median_graph_ns={} median_baseline_ns={} median_added_ns={added} p99_graph_ns={} p99_baseline_ns={}",
        graph_latency.value_at_quantile(0.5),
        baseline.value_at_quantile(0.5),
        graph_latency.value_at_quantile(0.99),
        baseline.value_at_quantile(0.99)
    );
}
