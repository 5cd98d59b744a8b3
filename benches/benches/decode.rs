//! SSE plus chunk-JSON decoding throughput: graph-openai's decoder against async-openai's
//! (eventsource-stream plus serde into `CreateChatCompletionStreamResponse`, exactly as
//! async-openai's client does it), on the same recorded bytes in the same 16 KiB reads.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use stategraph_openai::SseDecoder;
use stategraph_openai::wire::ChatCompletionChunk;

const CHUNKS: usize = 100_000;
const READ: usize = 16 * 1024;

fn decode(c: &mut Criterion) {
    let body = stategraph_benches::recorded_stream(CHUNKS);
    let reads: Vec<bytes::Bytes> = body
        .chunks(READ)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let mut group = c.benchmark_group("decode_100k_chunks");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(20);

    group.bench_function("baseline_async_openai", |b| {
        b.to_async(&runtime).iter(|| async {
            let reads = futures::stream::iter(reads.iter().cloned().map(Ok::<_, std::io::Error>));
            let mut events = std::pin::pin!(eventsource_stream::EventStream::new(reads));
            let mut n = 0;
            while let Some(event) = events.next().await {
                let event = event.expect("valid SSE");
                if event.data == "[DONE]" {
                    break;
                }
                let chunk: async_openai::types::chat::CreateChatCompletionStreamResponse =
                    serde_json::from_str(&event.data).expect("valid chunk");
                n += chunk.choices.len();
            }
            n
        });
    });

    group.bench_function("stategraph_openai", |b| {
        b.to_async(&runtime).iter(|| async {
            // The same async stream of reads as the baseline, so only decoding differs.
            let mut reads =
                futures::stream::iter(reads.iter().cloned().map(Ok::<_, std::io::Error>));
            let mut decoder = SseDecoder::new(stategraph_openai::DEFAULT_MAX_EVENT_SIZE);
            let mut n = 0;
            while let Some(read) = reads.next().await {
                decoder.push(&read.expect("in memory"));
                while let Some(event) = decoder.next_event().expect("valid SSE") {
                    if event.data == "[DONE]" {
                        break;
                    }
                    let chunk: ChatCompletionChunk =
                        serde_json::from_str(&event.data).expect("valid chunk");
                    n += chunk.choices.len();
                }
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
