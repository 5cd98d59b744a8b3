//! What a durable thread costs a streamed answer: the tokens benchmark's shape (100,000
//! tokens from a scripted model through a one-node graph, read in messages mode) run
//! without a thread and on a SQLite thread (WAL, `synchronous=NORMAL`) with the default
//! durability, `Async`, which stores each step's checkpoint beside the next step and ends
//! the stream once all are stored.
//!
//! The two alternate, round by round (each thread run on a new thread: a new
//! conversation), so that a drift of the shared machine moves both alike; the ratio
//! reported is the median over the rounds of the thread's tokens/s over the plain run's
//! just before it, and the time the thread adds to a run the median of their differences.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use stategraph::checkpoint::Checkpointer;
use stategraph::mode::Messages;
use stategraph::{AnyChatModel, ScriptedModel};
use stategraph_benches::graphs::{Empty, EmptyUpdate, one_call};
use stategraph_checkpoint::SqlCheckpointer;

const TOKENS: usize = 100_000;
const ROUNDS: usize = 51;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if stategraph_benches::listing_only("thread_tokens") {
        return;
    }
    let tokens: Vec<String> = (0..TOKENS).map(|i| format!(" t{}", i % 10)).collect();
    let graph = one_call::Graph::new(AnyChatModel::new(ScriptedModel::new(tokens)));
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sql = SqlCheckpointer::connect(&url).await.expect("sqlite");
    let store: Arc<dyn Checkpointer> = Arc::new(sql.clone());

    let (mut plain, mut threaded, mut ratios, mut added) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Round 0 warms up and is not counted.
    for round in 0..=ROUNDS {
        let started = Instant::now();
        let mut stream = graph.stream(Empty::default(), Messages);
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            chunk.expect("no error");
            read += 1;
        }
        let plain_time = started.elapsed().as_secs_f64();
        let plain_rate = read as f64 / plain_time;
        assert_eq!(read, TOKENS);

        let started = Instant::now();
        let mut stream = graph
            .thread(&store, format!("tokens-{round}"))
            .stream(EmptyUpdate::default(), Messages)
            .await
            .expect("thread taken");
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            chunk.expect("no error");
            read += 1;
        }
        let thread_time = started.elapsed().as_secs_f64();
        let thread_rate = read as f64 / thread_time;
        assert_eq!(read, TOKENS);

        if round > 0 {
            plain.push(plain_rate);
            threaded.push(thread_rate);
            ratios.push(thread_rate / plain_rate);
            added.push((thread_time - plain_time) * 1e6);
        }
    }
    sql.close().await;
    let (plain, threaded, ratio, added) = (
        median(plain),
        median(threaded),
        median(ratios),
        median(added),
    );
    println!("{TOKENS} tokens in messages mode, medians of {ROUNDS} rounds");
    println!("without a thread       {plain:>14.0} tokens/s");
    println!(
        "on a SQLite thread     {threaded:>14.0} tokens/s ({ratio:.3} of without; {added:.0} µs added to a run)"
    );
    println!(
        "BENCH thread_tokens tokens={TOKENS} rounds={ROUNDS} plain_tokens_per_s={plain:.0} thread_tokens_per_s={threaded:.0} ratio={ratio:.3} added_us={added:.0}"
    );
}
