//! A consumer that stops reading holds the producer back: it is never more than the
//! buffer's capacity ahead, and nothing is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use stategraph::mode::Tasks;
use stategraph::prelude::*;
use stategraph::{ChatChunk, ChatChunkStream, ChatRequest, ModelIdentity, TaskEventKind};

const WRITES: usize = 1_000;
const BUFFER: usize = 8;

#[derive(Clone, Debug, Default, State)]
struct Empty {
    done: bool,
}

#[graph(state = Empty, context = Arc<AtomicUsize>, custom = usize, edges = [START -> spawned -> END])]
mod producer {
    use super::*;

    /// Writes from a spawned task on another thread, which runs whether or not the consumer
    /// polls: only the bounded buffer holds it back.
    #[node]
    async fn spawned(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        let writer = ctx.writer();
        let accepted = Arc::clone(ctx.context());
        let task = ctx.spawn(async move {
            for i in 0..WRITES {
                writer.write(i).await;
                accepted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let _ = task.await;
        EmptyUpdate::default().done(true)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_consumer_holds_a_concurrent_producer_to_the_buffer_capacity() {
    let accepted = Arc::new(AtomicUsize::new(0));
    let graph = producer::Graph::new(Arc::clone(&accepted));
    let mut stream = graph.stream_with(
        Empty::default(),
        Custom,
        RunConfig::default().buffer(BUFFER),
    );

    let mut received = Vec::new();
    for _ in 0..5 {
        received.push(*stream.try_next().await.unwrap().unwrap().payload());
    }
    // The consumer stops reading; give the producer every chance to run ahead.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ahead = accepted
        .load(Ordering::SeqCst)
        .saturating_sub(received.len());
    assert!(
        ahead <= BUFFER,
        "the producer got {ahead} writes ahead with a buffer of {BUFFER}"
    );

    while let Some(item) = stream.try_next().await.unwrap() {
        received.push(*item.payload());
        let ahead = accepted
            .load(Ordering::SeqCst)
            .saturating_sub(received.len());
        assert!(
            ahead <= BUFFER,
            "the producer got {ahead} writes ahead with a buffer of {BUFFER}"
        );
    }
    assert_eq!(
        received,
        (0..WRITES).collect::<Vec<_>>(),
        "nothing dropped, nothing reordered"
    );
}

/// Hands over `CHUNKS` chunks, all ready at once, counting each as it is read.
struct CountingModel {
    identity: ModelIdentity,
    read: Arc<AtomicUsize>,
}

const CHUNKS: usize = 1_000;

impl ChatModel for CountingModel {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        use futures::StreamExt;
        let read = Arc::clone(&self.read);
        futures::stream::iter(0..CHUNKS)
            .map(move |i| {
                read.fetch_add(1, Ordering::SeqCst);
                Ok(ChatChunk::text(i.to_string()))
            })
            .boxed()
    }
}

#[graph(state = Empty, context = Arc<CountingModel>, edges = [START -> spawned_call -> END])]
mod model_producer {
    use super::*;

    /// Calls the model from a spawned task on another thread: its chunks go through
    /// leases of the buffer's room taken from there.
    #[node]
    async fn spawned_call(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        let call = ctx.clone();
        let task = ctx.spawn(async move {
            let model = Arc::clone(call.context());
            call.chat(&model).invoke([Message::user("go")]).await
        });
        task.await.expect("not aborted")?;
        Ok(EmptyUpdate::default().done(true))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_consumer_holds_a_model_call_on_another_thread_to_the_buffer_capacity() {
    let read = Arc::new(AtomicUsize::new(0));
    let model = CountingModel {
        identity: ModelIdentity::new("test", "counting"),
        read: Arc::clone(&read),
    };
    let graph = model_producer::Graph::new(Arc::new(model));
    let mut stream = graph.stream_with(
        Empty::default(),
        Messages,
        RunConfig::default().buffer(BUFFER),
    );
    // Besides what the buffer holds, the call reads one chunk ahead and holds it until
    // there is room.
    let bound = BUFFER + 1;
    let mut received = Vec::new();
    for _ in 0..5 {
        received.push(
            stream
                .try_next()
                .await
                .unwrap()
                .unwrap()
                .content()
                .to_owned(),
        );
    }
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ahead = read.load(Ordering::SeqCst).saturating_sub(received.len());
    assert!(ahead <= bound, "the model was read {ahead} chunks ahead");

    while let Some(item) = stream.try_next().await.unwrap() {
        received.push(item.content().to_owned());
        let ahead = read.load(Ordering::SeqCst).saturating_sub(received.len());
        assert!(ahead <= bound, "the model was read {ahead} chunks ahead");
    }
    let expected: Vec<String> = (0..CHUNKS).map(|i| i.to_string()).collect();
    assert_eq!(received, expected, "nothing dropped, nothing reordered");
}

/// How many `Send` instances the fan-out starts.
const INSTANCES: usize = 50;

#[derive(Clone, Debug, Default, State)]
struct Fan {
    at: usize,
    #[reducer(append)]
    done: Vec<usize>,
}

#[graph(
    state = Fan,
    custom = usize,
    edges = [START -> plan -> fan_out ? [instance], instance -> END]
)]
mod fan {
    use super::*;

    /// Leaves work on another thread writing through the next step, so that the buffer
    /// may be full of writes when the instances start.
    #[node]
    async fn plan(_state: &Fan, ctx: &Ctx) -> FanUpdate {
        let writer = ctx.writer();
        drop(ctx.spawn(async move {
            for i in 0..WRITES {
                writer.write(i).await;
            }
        }));
        FanUpdate::default().at(1_usize)
    }

    /// One instance per slot: the worst case of the run's own items, a `Started` event
    /// for each, all at once when the step starts.
    #[router]
    fn fan_out(_state: &Fan) -> Vec<FanOut> {
        (0..INSTANCES)
            .map(|at| {
                FanOut::Instance(Fan {
                    at,
                    ..Fan::default()
                })
            })
            .collect()
    }

    /// Writes one item and returns its slot.
    #[node]
    async fn instance(state: &Fan, ctx: &Ctx) -> FanUpdate {
        ctx.write(WRITES + state.at).await;
        FanUpdate::default().done(vec![state.at])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_s_own_items_go_past_the_buffer_by_at_most_one_moment_s_worth() {
    let graph = fan::Graph::new();
    let mut stream = graph.stream_with(
        Fan::default(),
        (Values, Updates, Custom, Tasks),
        RunConfig::default().buffer(BUFFER),
    );
    let (mut peak, mut started) = (0, 0);
    while let Some(item) = stream.try_next().await.unwrap() {
        if let StreamItem::Tasks(event) = &item
            && matches!(event.kind(), TaskEventKind::Started { .. })
        {
            started += 1;
        }
        peak = peak.max(stream.waiting());
    }
    assert_eq!(started, INSTANCES + 1, "plan and every instance started");
    // The documented worst case: when the instances' step starts, the writes waiting, the
    // state after `plan`, and a `Started` event per instance. The first of them is handed
    // out by the time the stream is asked.
    assert!(
        peak <= BUFFER + INSTANCES + 1,
        "{peak} items waited with a buffer of {BUFFER} and {INSTANCES} instances"
    );
    assert!(
        peak >= INSTANCES,
        "the instances' `Started` events wait all at once, past the buffer: {peak} waited"
    );
}
