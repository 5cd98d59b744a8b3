//! Through the Agent Server: an in-process `stategraph-server` streams runs over HTTP on
//! 127.0.0.1 to a Rust SSE client (reqwest), the model scripted in-process with no delay.
//!
//! 1. One run's tokens/s: a one-node graph whose model streams 100,000 tokens, read in
//!    `messages-tuple` mode (each token one `messages` event with LangChain's chunk and the
//!    run's metadata, as LangGraph's server sends it). Median of 15 rounds after 3 of
//!    warm-up. LangGraph's server (`langgraph dev`, langgraph-api 0.16.7) streams about 880
//!    tokens/s on the guide's graph.
//! 2. 100 concurrent clients each running the guide's graph (two model calls of the
//!    guide's recorded tokens) in `messages-tuple` mode: runs/s for the wave, and the median
//!    over all clients of the time from sending the request to the first `messages` event.
//!    Median of 10 waves after 1 of warm-up. LangGraph's server: 1.3 runs/s, 5.2 s median to
//!    the first token.
//!
//! Server and clients share the same two-worker runtime on the same machine, so the
//! figures include the client's own work.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use stategraph::prelude::*;
use stategraph::{AnyChatModel, ScriptedModel};
use stategraph_server::Server;
use stategraph_test_support::guide::{progress_joke_poem, scripted_models};

const TOKENS: usize = 100_000;
const ROUNDS: usize = 15;
const WARMUP_ROUNDS: usize = 3;
const CLIENTS: usize = 100;
const WAVES: usize = 10;

/// The one-call graph's state.
#[derive(Clone, Debug, Default, State, Serialize, Deserialize)]
#[state(derive(Serialize))]
pub struct Answer {
    /// The model's answer.
    pub text: String,
}

/// `START -> call -> END`: one model call.
#[graph(state = Answer, context = AnyChatModel, edges = [START -> call -> END])]
pub mod one_call {
    use super::*;

    /// Calls the model once.
    #[node]
    pub async fn call(_state: &Answer, ctx: &Ctx) -> Result<AnswerUpdate, NodeError> {
        let answer = ctx
            .chat(ctx.context())
            .invoke([Message::user("go")])
            .await?;
        Ok(AnswerUpdate::default().text(answer.content))
    }
}

/// What one streamed run gave the client.
struct Read {
    messages: usize,
    first_message: Option<Duration>,
}

/// Streams one run and counts its `messages` events, noting when the first arrived. The
/// events are counted across chunk boundaries by keeping the tail of the last chunk.
async fn stream_run(http: &reqwest::Client, url: &str, assistant: &str) -> Read {
    const NEEDLE: &[u8] = b"event: messages\r\n";
    let start = Instant::now();
    let body =
        format!(r#"{{"assistant_id":"{assistant}","input":{{}},"stream_mode":"messages-tuple"}}"#);
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "the run starts");
    let finder = memchr::memmem::Finder::new(NEEDLE);
    let mut read = Read {
        messages: 0,
        first_message: None,
    };
    let mut carry: Vec<u8> = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("the body");
        carry.extend_from_slice(&chunk);
        let found = finder.find_iter(&carry).count();
        if found > 0 && read.first_message.is_none() {
            read.first_message = Some(start.elapsed());
        }
        read.messages += found;
        // Keep only what could begin an event name split across chunks.
        let keep = carry.len().min(NEEDLE.len() - 1);
        carry.drain(..carry.len() - keep);
    }
    read
}

fn median<T: Copy + PartialOrd>(mut samples: Vec<T>) -> T {
    samples.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    samples[samples.len() / 2]
}

fn main() {
    if stategraph_benches::listing_only("server") {
        return;
    }
    let runtime = stategraph_benches::two_worker_runtime();
    let tokens: Vec<String> = (0..TOKENS).map(|i| format!("t{i} ")).collect();
    let server = Server::new()
        .graph(
            "one_call",
            one_call::Graph::new(AnyChatModel::new(ScriptedModel::new(tokens))),
        )
        .graph("agent", progress_joke_poem::Graph::new(scripted_models()));
    let base = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(server.serve_on(listener));
        format!("http://{address}")
    });
    let url = format!("{base}/runs/stream");
    let http = reqwest::Client::new();

    let mut rates = Vec::new();
    for round in 0..WARMUP_ROUNDS + ROUNDS {
        let start = Instant::now();
        let read = runtime.block_on(stream_run(&http, &url, "one_call"));
        let elapsed = start.elapsed();
        assert_eq!(read.messages, TOKENS, "every token");
        if round >= WARMUP_ROUNDS {
            rates.push(TOKENS as f64 / elapsed.as_secs_f64());
        }
    }
    let (slowest, fastest) = (
        rates.iter().copied().fold(f64::INFINITY, f64::min),
        rates.iter().copied().fold(0.0, f64::max),
    );
    let rate = median(rates);

    let mut runs_per_second = Vec::new();
    let mut first_tokens = Vec::new();
    for wave in 0..1 + WAVES {
        let start = Instant::now();
        let reads = runtime.block_on(futures::future::join_all(
            (0..CLIENTS).map(|_| stream_run(&http, &url, "agent")),
        ));
        let elapsed = start.elapsed();
        if wave == 0 {
            continue;
        }
        runs_per_second.push(CLIENTS as f64 / elapsed.as_secs_f64());
        for read in reads {
            assert!(read.messages > 0, "the run streamed tokens");
            first_tokens.push(read.first_message.expect("a first token"));
        }
    }
    let runs = median(runs_per_second);
    let first = median(first_tokens);

    println!("Through the Agent Server (in-process, 127.0.0.1, messages-tuple mode):");
    println!(
        "  one run, {TOKENS} tokens: {rate:>10.0} tokens/s median of {ROUNDS} (range {slowest:.0}..{fastest:.0}); LangGraph's server ~880"
    );
    println!(
        "  {CLIENTS} concurrent guide runs: {runs:>7.0} runs/s, first token after {:.2} ms median of {} clients; LangGraph's server 1.3 runs/s, 5.2 s",
        first.as_secs_f64() * 1e3,
        WAVES * CLIENTS
    );
    println!(
        "BENCH server tokens_per_s={rate:.0} runs_per_s={runs:.0} first_token_ms={:.2}",
        first.as_secs_f64() * 1e3
    );
}
