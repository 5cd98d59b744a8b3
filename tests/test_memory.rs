//! Live memory does not grow with the number of chunks streamed. A binary of its own, so
//! its counting allocator sees only this run.

// A global allocator is the one place a test needs `unsafe`: it forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{StreamExt, TryStreamExt};
use stategraph::prelude::*;
use stategraph::{ChatChunk, ChatChunkStream, ChatRequest, ModelIdentity};

/// Counts live heap bytes and remembers the peak.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; it only counts sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` came from `System.alloc` with this layout, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A model that makes its chunks as they are asked for, so the script itself takes no
/// memory that grows with its length.
struct Counter {
    chunks: usize,
    identity: ModelIdentity,
}

impl ChatModel for Counter {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        futures::stream::iter(0..self.chunks)
            .map(|_| Ok(ChatChunk::text("token")))
            .boxed()
    }
}

#[derive(Clone, Debug, Default, State)]
struct Empty {
    chunks: usize,
}

#[graph(state = Empty, context = Counter, edges = [START -> talk -> END])]
mod talker {
    use super::*;

    /// Streams the model's chunks and keeps none of them.
    #[node]
    async fn talk(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        let mut chunks = std::pin::pin!(ctx.chat(ctx.context()).stream([Message::user("go")]));
        let mut count = 0usize;
        while chunks.try_next().await?.is_some() {
            count += 1;
        }
        Ok(EmptyUpdate::default().chunks(count))
    }
}

/// Peak live bytes above the baseline while streaming `chunks` chunks to a consumer that
/// drops each one.
fn peak_bytes_streaming(chunks: usize) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let graph = talker::Graph::new(Counter {
        chunks,
        identity: ModelIdentity::new("test", "counter"),
    });
    let baseline = LIVE.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);
    let received = runtime.block_on(async {
        let mut stream = graph.stream(Empty::default(), Messages);
        let mut received = 0;
        while let Some(chunk) = stream.try_next().await.unwrap() {
            received += chunk.content().len() / 5;
        }
        received
    });
    assert_eq!(received, chunks, "every chunk arrives");
    PEAK.load(Ordering::SeqCst) - baseline
}

#[test]
fn live_memory_does_not_grow_with_the_number_of_chunks() {
    peak_bytes_streaming(100); // warm up lazily initialised statics
    let small = peak_bytes_streaming(1_000);
    let large = peak_bytes_streaming(100_000);
    eprintln!("peak live bytes above baseline: {small} for 1,000 chunks, {large} for 100,000");
    assert!(
        large <= small + 4_096,
        "peak live memory grew from {small} bytes for 1,000 chunks to {large} bytes for 100,000"
    );
    assert!(
        small < 64 * 1024,
        "a run should need far less than 64 KiB, took {small}"
    );
}
