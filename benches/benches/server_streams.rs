//! Stored runs through the Agent Server, in-process on 127.0.0.1:
//!
//! 1. Time to the first token: the guide's graph (scripted models, no delay) streamed in
//!    `messages-tuple` mode, from sending the request to the first `messages` event, for a
//!    run on a thread (stored: its record written, its events logged) and a stateless run;
//!    the baseline, measured in the same run of this binary, is the same graph streamed
//!    in-process with no HTTP, from the call to the first chunk. Medians of 200 after 20
//!    of warm-up.
//! 2. Memory per idle open stream: (RSS with 1,000 streams open on runs that wait at a
//!    gate − RSS with none) / 1,000. Client and server share the process, so the figure
//!    holds the client's side of each connection too. Target ≤ 64 KB.

use std::time::{Duration, Instant};

use futures::StreamExt;
use stategraph::mode::Messages;
use stategraph_server::Server;
use stategraph_test_support::guide::{Topic, progress_joke_poem, scripted_models};
use stategraph_test_support::threads::{Gate, gated};

const ROUNDS: usize = 200;
const WARMUP: usize = 20;
const STREAMS: usize = 1_000;

/// The resident set of this process in bytes, from `/proc/self/statm` (pages of 4 KiB).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux's /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field");
    pages * 4096
}

/// Sends a run and waits for its first `messages` event; returns that time, then reads the
/// rest.
async fn first_token_over_http(http: &reqwest::Client, url: &str) -> Duration {
    let start = Instant::now();
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"assistant_id":"agent","input":{"topic":"cats"},"stream_mode":"messages-tuple","if_not_exists":"create"}"#)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "the run starts");
    let finder = memchr::memmem::Finder::new(b"event: messages\r\n");
    let mut seen = Vec::new();
    let mut first = None;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        seen.extend_from_slice(&chunk.expect("the body"));
        if first.is_none() && finder.find(&seen).is_some() {
            first = Some(start.elapsed());
        }
    }
    first.expect("a first token")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    if stategraph_benches::listing_only("server_streams") {
        return;
    }
    let runtime = stategraph_benches::two_worker_runtime();
    let server = Server::new()
        .graph("agent", progress_joke_poem::Graph::new(scripted_models()))
        .graph("gated", gated::Graph::new(Gate::new()));
    let base = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(server.serve_on(listener));
        format!("http://{address}")
    });
    let http = reqwest::Client::new();
    let graph = progress_joke_poem::Graph::new(scripted_models());

    let (mut in_process, mut thread, mut stateless) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..WARMUP + ROUNDS {
        let (alone, on_thread, without) = runtime.block_on(async {
            let start = Instant::now();
            let mut stream = graph.stream(
                Topic {
                    topic: "cats".into(),
                    ..Topic::default()
                },
                Messages,
            );
            stream.next().await.expect("a chunk").expect("no error");
            let alone = start.elapsed();
            while stream.next().await.is_some() {}
            let thread_url = format!("{base}/threads/bench-{round}/runs/stream");
            let on_thread = first_token_over_http(&http, &thread_url).await;
            let without = first_token_over_http(&http, &format!("{base}/runs/stream")).await;
            (alone, on_thread, without)
        });
        if round >= WARMUP {
            in_process.push(alone);
            thread.push(on_thread);
            stateless.push(without);
        }
    }
    let (alone, on_thread, without) = (median(in_process), median(thread), median(stateless));

    let (before, after) = runtime.block_on(async {
        let before = rss_bytes();
        let mut open = Vec::with_capacity(STREAMS);
        for at in 0..STREAMS {
            let response = http
                .post(format!("{base}/threads/idle-{at}/runs/stream"))
                .header("content-type", "application/json")
                .body(
                    r#"{"assistant_id":"gated","if_not_exists":"create","on_disconnect":"cancel"}"#,
                )
                .send()
                .await
                .expect("the server answers");
            assert_eq!(response.status(), 200, "the run starts");
            let mut body = response.bytes_stream();
            // The metadata event: the run is started and waits at the gate.
            body.next().await.expect("an event").expect("the body");
            open.push(body);
        }
        let after = rss_bytes();
        drop(open);
        (before, after)
    });
    let per_stream = after.saturating_sub(before) / STREAMS as u64;

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("Stored runs through the Agent Server (in-process, 127.0.0.1):");
    println!(
        "  first token, guide's graph: in-process {:.3} ms; HTTP thread run {:.3} ms; HTTP stateless run {:.3} ms (medians of {ROUNDS})",
        ms(alone),
        ms(on_thread),
        ms(without)
    );
    println!(
        "  {STREAMS} idle open streams: RSS {} KiB -> {} KiB, {} bytes per stream (target <= 65536)",
        before / 1024,
        after / 1024,
        per_stream
    );
    println!(
        "BENCH server_streams first_token_in_process_ms={:.3} first_token_thread_ms={:.3} first_token_stateless_ms={:.3} idle_stream_bytes={per_stream}",
        ms(alone),
        ms(on_thread),
        ms(without)
    );
}
