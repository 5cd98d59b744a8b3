//! The cost a graph adds to each token: 100,000 tokens through a one-node graph against
//! the same tokens without the graph.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use stategraph::mode::{Custom, Messages};
use stategraph::{AnyChatModel, ChatModel, ChatRequest, Message, ScriptedModel};
use stategraph_benches::graphs::{Empty, Writes, one_call, writer};

const TOKENS: usize = 100_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn messages_mode(c: &mut Criterion) {
    let runtime = runtime();
    let tokens: Vec<String> = (0..TOKENS).map(|i| format!(" t{}", i % 10)).collect();
    let model = AnyChatModel::new(ScriptedModel::new(tokens));
    let mut group = c.benchmark_group("messages_100k_tokens");
    group.throughput(Throughput::Elements(TOKENS as u64));
    group.sample_size(20);
    group.bench_function("baseline_model_alone", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut chunks = model.stream(ChatRequest::new([Message::user("go")]));
            let mut n = 0;
            while let Some(chunk) = chunks.next().await {
                n += chunk.expect("scripted").content.len();
            }
            n
        });
    });
    let graph = one_call::Graph::new(model.clone());
    group.bench_function("graph_messages_mode", |b| {
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

fn custom_mode(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("custom_100k_writes");
    group.throughput(Throughput::Elements(TOKENS as u64));
    group.sample_size(20);
    group.bench_function("baseline_vec_push", |b| {
        b.iter(|| {
            let mut payloads = Vec::new();
            for i in 0..TOKENS as u64 {
                payloads.push(std::hint::black_box(i));
            }
            payloads.iter().sum::<u64>()
        });
    });
    let graph = writer::Graph::new(Writes(TOKENS as u64));
    group.bench_function("graph_custom_mode", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut stream = graph.stream(Empty::default(), Custom);
            let mut sum = 0;
            while let Some(item) = stream.next().await {
                sum += *item.expect("no error").payload();
            }
            sum
        });
    });
    group.finish();
}

criterion_group!(benches, messages_mode, custom_mode);
criterion_main!(benches);
