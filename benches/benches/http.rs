//! End to end over HTTP: an in-process server writes 100,000 recorded OpenAI SSE chunks at
//! memory speed; `ChatOpenAI` streams them through a graph in messages mode. The baseline
//! reads the same bytes with reqwest and decodes them with graph-openai's decoder alone
//! (SSE events into whole `ChatCompletionChunk`s). A third measurement, `ChatOpenAI`
//! without a graph, splits the cost between the model layer and the graph.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use stategraph::{AnyChatModel, ChatModel, ChatRequest, Message, Messages};
use stategraph_benches::graphs::{Empty, one_call};
use stategraph_openai::wire::ChatCompletionChunk;
use stategraph_openai::{ChatOpenAI, OpenAiClient, SseDecoder};

const CHUNKS: usize = 100_000;

fn http(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let body = Arc::new(stategraph_benches::recorded_stream(CHUNKS));
    let base_url = runtime.block_on(stategraph_benches::sse_server::serve(Arc::clone(&body)));
    let mut group = c.benchmark_group("http_100k_chunks");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group.sample_size(20);

    let http = reqwest::Client::new();
    let url = format!("{base_url}/chat/completions");
    group.bench_function("baseline_reqwest_and_decoder", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut response = http
                .post(&url)
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
        });
    });

    let client = OpenAiClient::builder()
        .base_url(&base_url)
        .build()
        .expect("a client");
    // Not a target: the same call without the graph, to show what each layer costs.
    let model = ChatOpenAI::new(client.clone(), "gpt-4o-mini");
    group.bench_function("chat_openai_alone", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut chunks = model.stream(ChatRequest::new([Message::user("go")]));
            let mut n = 0;
            while let Some(chunk) = chunks.next().await {
                n += chunk.expect("no error").content.len();
            }
            n
        });
    });
    let graph = one_call::Graph::new(AnyChatModel::new(ChatOpenAI::new(client, "gpt-4o-mini")));
    group.bench_function("chat_openai_in_graph", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut stream = graph.stream(Empty::default(), Messages);
            let mut n = 0;
            while let Some(chunk) = stream.next().await {
                n += chunk.expect("no error").content().len();
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, http);
criterion_main!(benches);
