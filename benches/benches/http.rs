//! End to end over HTTP: an in-process server writes 100,000 recorded OpenAI SSE chunks at
//! memory speed; `ChatOpenAI` streams them through a graph in messages mode. The baseline
//! reads the same bytes with reqwest and decodes them with graph-openai's decoder alone
//! (SSE events into whole `ChatCompletionChunk`s). A third measurement, `ChatOpenAI`
//! without a graph, splits the cost between the model layer and the graph.
//!
//! A plain binary rather than criterion, because the three must alternate: run one after
//! the other, each of them drifted by up to 5 % over the seconds it took on a shared
//! machine, which moved the ratio between 0.85 and 0.97 for the same code. Here every
//! round runs each measurement once, and the medians over the rounds are compared.
//!
//! `HTTP_BENCH_ONLY=baseline|alone|graph` runs one measurement alone for 40 rounds and
//! prints nothing: for `perf record`, to see what each layer costs.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use stategraph::mode::Messages;
use stategraph::{AnyChatModel, ChatModel, ChatRequest, Message};
use stategraph_benches::graphs::{Empty, one_call};
use stategraph_openai::wire::ChatCompletionChunk;
use stategraph_openai::{ChatOpenAI, OpenAiClient, SseDecoder};

const CHUNKS: usize = 100_000;
const WARMUP_ROUNDS: usize = 3;
const ROUNDS: usize = 40;

/// The same bytes, read with reqwest and decoded by the decoder alone.
async fn baseline(http: &reqwest::Client, url: &str) -> usize {
    let mut response = http
        .post(url)
        .body("{}")
        .send()
        .await
        .expect("the server answers");
    let mut decoder = SseDecoder::new(stategraph_openai::DEFAULT_MAX_EVENT_SIZE);
    let mut n = 0;
    while let Some(read) = response.chunk().await.expect("the body") {
        decoder.push(&read);
        while let Some(event) = decoder.next_event().expect("valid SSE") {
            if event.data != "[DONE]" {
                let chunk: ChatCompletionChunk =
                    serde_json::from_str(&event.data).expect("valid chunk");
                n += chunk.choices.len();
            }
        }
    }
    n
}

/// `ChatOpenAI` without a graph (no target: it shows what each layer costs).
async fn chat_openai_alone(model: &ChatOpenAI) -> usize {
    let mut chunks = model.stream(ChatRequest::new([Message::user("go")]));
    let mut n = 0;
    while let Some(chunk) = chunks.next().await {
        n += chunk.expect("no error").content.len();
    }
    n
}

/// `ChatOpenAI` in a one-node graph, messages mode.
async fn chat_openai_in_graph(graph: &one_call::Graph) -> usize {
    let mut stream = graph.stream(Empty::default(), Messages);
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        n += chunk.expect("no error").content().len();
    }
    n
}

fn time<F: Future<Output = usize>>(runtime: &tokio::runtime::Runtime, run: F) -> Duration {
    let start = Instant::now();
    let n = runtime.block_on(run);
    let elapsed = start.elapsed();
    assert!(n > 0, "the run read something");
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    if stategraph_benches::listing_only("http") {
        return;
    }
    let runtime = stategraph_benches::two_worker_runtime();
    let body = Arc::new(stategraph_benches::recorded_stream(CHUNKS));
    let base_url = runtime.block_on(stategraph_benches::sse_server::serve(Arc::clone(&body)));

    let http = reqwest::Client::new();
    let url = format!("{base_url}/chat/completions");
    let client = OpenAiClient::builder()
        .base_url(&base_url)
        .build()
        .expect("a client");
    let model = ChatOpenAI::new(client, "gpt-4o-mini");
    let graph = one_call::Graph::new(AnyChatModel::new(model.clone()));

    if let Ok(only) = std::env::var("HTTP_BENCH_ONLY") {
        for _ in 0..ROUNDS {
            match only.as_str() {
                "baseline" => time(&runtime, baseline(&http, &url)),
                "alone" => time(&runtime, chat_openai_alone(&model)),
                _ => time(&runtime, chat_openai_in_graph(&graph)),
            };
        }
        return;
    }
    let (mut baselines, mut alones, mut graphs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..WARMUP_ROUNDS + ROUNDS {
        let times = [
            time(&runtime, baseline(&http, &url)),
            time(&runtime, chat_openai_alone(&model)),
            time(&runtime, chat_openai_in_graph(&graph)),
        ];
        if round >= WARMUP_ROUNDS {
            baselines.push(times[0]);
            alones.push(times[1]);
            graphs.push(times[2]);
        }
    }
    // The ratio of every round, to show the spread the medians hide.
    let mut ratios: Vec<f64> = baselines
        .iter()
        .zip(&graphs)
        .map(|(baseline, graph)| baseline.as_secs_f64() / graph.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (baseline, alone, graph) = (median(baselines), median(alones), median(graphs));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    println!("{CHUNKS} SSE chunks over HTTP, medians of {ROUNDS} alternating rounds:");
    println!("  baseline_reqwest_and_decoder {:>8.2} ms", ms(baseline));
    println!("  chat_openai_alone            {:>8.2} ms", ms(alone));
    println!("  chat_openai_in_graph         {:>8.2} ms", ms(graph));
    println!(
        "BENCH http baseline_ms={:.2} alone_ms={:.2} graph_ms={:.2} ratio_min={:.2} ratio_max={:.2}",
        ms(baseline),
        ms(alone),
        ms(graph),
        ratios[0],
        ratios[ratios.len() - 1]
    );
}
