//! HTTP as real OpenAI-compatible servers send it: one `Transfer-Encoding: chunked` chunk
//! per SSE event (about 270 bytes), each its own write, 100,000 events at memory speed
//! from a server on its own thread. Each reader runs three ways, because where the reader
//! runs decides whether every body frame crosses threads:
//!
//! - `block_on`: in `Runtime::block_on` of a two-worker runtime, as the main future of a
//!   plain `#[tokio::main]` does;
//! - `spawned`: in a task spawned on that runtime, as an axum handler does;
//! - `current`: on a current-thread runtime.
//!
//! The readers: reqwest alone, counting events (the floor of an HTTP client), and
//! `ChatOpenAI` in a one-node graph, messages mode. Every round runs each variant once, in
//! the same order, and the medians over the rounds are compared, as in `http.rs`.
//!
//! Then what a connection costs: the time from starting a call to its first chunk, on a
//! fresh client (a new connection) and on a warm one (a pooled connection).
//!
//! `HTTP_CHUNKED_ROUNDS=n` sets the number of measured rounds (default 15).
//! `HTTP_CHUNKED_ONLY=<reader>_<way>` (e.g. `graph_block_on`) runs one variant alone for
//! the rounds and prints nothing: for `perf record`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use stategraph::AnyChatModel;
use stategraph::mode::Messages;
use stategraph_benches::graphs::{Empty, one_call};
use stategraph_benches::sse_server::{ChunkedServer, serve_chunked};
use stategraph_openai::{ChatOpenAI, OpenAiClient};
use tokio::runtime::Runtime;

const EVENTS: usize = 100_000;
const WARMUP_ROUNDS: usize = 2;
const CONNECT_SAMPLES: usize = 101;

/// Reads the body with reqwest alone and counts its events (blank lines).
async fn reqwest_count(http: reqwest::Client, url: String) -> usize {
    let mut response = http
        .post(url)
        .body("{}")
        .send()
        .await
        .expect("the server answers");
    let mut events = 0;
    let mut ended_in_newline = false;
    while let Some(read) = response.chunk().await.expect("the body") {
        if ended_in_newline && read.first() == Some(&b'\n') {
            events += 1;
        }
        events += memchr::memmem::find_iter(&read, b"\n\n").count();
        ended_in_newline = read.last() == Some(&b'\n');
    }
    events
}

/// `ChatOpenAI` in a one-node graph, messages mode: the number of chunks.
async fn graph_count(graph: Arc<one_call::Graph>) -> usize {
    let mut stream = graph.stream(Empty::default(), Messages);
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        chunk.expect("no error");
        chunks += 1;
    }
    chunks
}

/// One reader's clients, one set per runtime: a connection belongs to the runtime that
/// opened it.
struct Readers {
    http: reqwest::Client,
    graph: Arc<one_call::Graph>,
}

impl Readers {
    fn new(base_url: &str) -> Self {
        let client = OpenAiClient::builder()
            .base_url(base_url)
            .build()
            .expect("a client");
        let model = ChatOpenAI::new(client, "gpt-4o-mini");
        Self {
            http: reqwest::Client::new(),
            graph: Arc::new(one_call::Graph::new(AnyChatModel::new(model))),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Reqwest,
    Graph,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    BlockOn,
    Spawned,
    Current,
}

const VARIANTS: [(Reader, Way); 6] = [
    (Reader::Reqwest, Way::BlockOn),
    (Reader::Reqwest, Way::Spawned),
    (Reader::Reqwest, Way::Current),
    (Reader::Graph, Way::BlockOn),
    (Reader::Graph, Way::Spawned),
    (Reader::Graph, Way::Current),
];

fn name(reader: Reader, way: Way) -> &'static str {
    match (reader, way) {
        (Reader::Reqwest, Way::BlockOn) => "reqwest_block_on",
        (Reader::Reqwest, Way::Spawned) => "reqwest_spawned",
        (Reader::Reqwest, Way::Current) => "reqwest_current",
        (Reader::Graph, Way::BlockOn) => "graph_block_on",
        (Reader::Graph, Way::Spawned) => "graph_spawned",
        (Reader::Graph, Way::Current) => "graph_current",
    }
}

struct Bench {
    multi: Runtime,
    current: Runtime,
    on_multi: Readers,
    on_current: Readers,
    url: String,
}

impl Bench {
    /// Runs one variant once and returns its time.
    fn run(&self, reader: Reader, way: Way) -> Duration {
        let (runtime, readers) = match way {
            Way::Current => (&self.current, &self.on_current),
            _ => (&self.multi, &self.on_multi),
        };
        let read: std::pin::Pin<Box<dyn Future<Output = usize> + Send>> = match reader {
            Reader::Reqwest => Box::pin(reqwest_count(readers.http.clone(), self.url.clone())),
            Reader::Graph => Box::pin(graph_count(Arc::clone(&readers.graph))),
        };
        let start = Instant::now();
        let n = match way {
            Way::Spawned => runtime.block_on(async { tokio::spawn(read).await.expect("no panic") }),
            _ => runtime.block_on(read),
        };
        let elapsed = start.elapsed();
        assert!(n >= EVENTS, "{}: read {n} events", name(reader, way));
        elapsed
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The time from starting a call to its first chunk, on a client made for the call (a
/// new connection) and on one warmed by a first call (a pooled connection): medians.
fn connection_cost(runtime: &Runtime, server: &ChunkedServer) -> (Duration, Duration) {
    async fn first_chunk(model: &ChatOpenAI) -> Duration {
        use stategraph::{ChatModel, ChatRequest, Message};
        let start = Instant::now();
        let mut chunks = model.stream(ChatRequest::new([Message::user("go")]));
        chunks.next().await.expect("a chunk").expect("no error");
        let elapsed = start.elapsed();
        while chunks.next().await.is_some() {}
        elapsed
    }
    let model = || {
        let client = OpenAiClient::builder()
            .base_url(&server.base_url)
            .build()
            .expect("a client");
        ChatOpenAI::new(client, "gpt-4o-mini")
    };
    let warm = model();
    let (mut fresh, mut pooled) = (Vec::new(), Vec::new());
    runtime.block_on(async {
        first_chunk(&warm).await;
        for _ in 0..CONNECT_SAMPLES {
            fresh.push(first_chunk(&model()).await);
            pooled.push(first_chunk(&warm).await);
        }
    });
    (median(fresh), median(pooled))
}

fn main() {
    if stategraph_benches::listing_only("http_chunked") {
        return;
    }
    let rounds: usize = std::env::var("HTTP_CHUNKED_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(15);
    let server = serve_chunked(stategraph_benches::recorded_events(EVENTS));
    let multi = stategraph_benches::two_worker_runtime();
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let bench = Bench {
        on_multi: multi.block_on(async { Readers::new(&server.base_url) }),
        on_current: current.block_on(async { Readers::new(&server.base_url) }),
        multi,
        current,
        url: format!("{}/chat/completions", server.base_url),
    };

    if let Ok(only) = std::env::var("HTTP_CHUNKED_ONLY") {
        let (reader, way) = VARIANTS
            .into_iter()
            .find(|&(reader, way)| name(reader, way) == only)
            .expect("HTTP_CHUNKED_ONLY names a variant");
        for _ in 0..rounds {
            bench.run(reader, way);
        }
        return;
    }

    let mut samples = vec![Vec::new(); VARIANTS.len()];
    let mut ratios = [Vec::new(), Vec::new()];
    for round in 0..WARMUP_ROUNDS + rounds {
        let times: Vec<Duration> = VARIANTS
            .iter()
            .map(|&(reader, way)| bench.run(reader, way))
            .collect();
        if round >= WARMUP_ROUNDS {
            for (samples, time) in samples.iter_mut().zip(&times) {
                samples.push(*time);
            }
            // The graph's multi-thread / current-thread ratio of this round.
            ratios[0].push(times[5].as_secs_f64() / times[3].as_secs_f64());
            ratios[1].push(times[5].as_secs_f64() / times[4].as_secs_f64());
        }
    }
    let requests = (WARMUP_ROUNDS + rounds) * VARIANTS.len();
    let connections = server.connections();
    let rate = |d: Duration| EVENTS as f64 / d.as_secs_f64();
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    println!(
        "{EVENTS} chunked SSE events over HTTP, one chunk per event, medians of {rounds} alternating rounds (events/s):"
    );
    for (&(reader, way), median) in VARIANTS.iter().zip(&medians) {
        println!("  {:<18} {:>10.0}", name(reader, way), rate(*median));
    }
    for ratios in &mut ratios {
        ratios.sort_by(f64::total_cmp);
    }
    let block_on_ratio = medians[5].as_secs_f64() / medians[3].as_secs_f64();
    let spawned_ratio = medians[5].as_secs_f64() / medians[4].as_secs_f64();
    println!(
        "  graph multi-thread / current-thread: block_on {block_on_ratio:.2} (rounds {:.2} to {:.2}), spawned {spawned_ratio:.2} (rounds {:.2} to {:.2})",
        ratios[0][0],
        ratios[0][ratios[0].len() - 1],
        ratios[1][0],
        ratios[1][ratios[1].len() - 1],
    );
    println!("  {requests} requests over {connections} connections");
    let mut line = format!("BENCH http_chunked rounds={rounds}");
    for (&(reader, way), median) in VARIANTS.iter().zip(&medians) {
        line.push_str(&format!(" {}={:.0}", name(reader, way), rate(*median)));
    }
    line.push_str(&format!(
        " block_on_ratio={block_on_ratio:.2} spawned_ratio={spawned_ratio:.2} requests={requests} connections={connections}"
    ));
    println!("{line}");

    // A short answer, so that the first chunk is most of the call.
    let short = serve_chunked(stategraph_benches::recorded_events(2));
    let (fresh, pooled) = connection_cost(&bench.multi, &short);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "time to the first chunk, medians of {CONNECT_SAMPLES}: new connection {:.0} us, pooled connection {:.0} us",
        us(fresh),
        us(pooled)
    );
    println!(
        "BENCH http_connect fresh_us={:.0} pooled_us={:.0}",
        us(fresh),
        us(pooled)
    );
}
