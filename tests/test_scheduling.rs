//! Scheduling: writers that find the buffer full take turns, so one node writing as fast as
//! it can neither holds back a sibling's model answer nor starves a sibling writer; and the
//! stream spends tokio's cooperative budget, so a run that is always ready still lets
//! the runtime's other tasks run.
//!
//! Everything here is counted in items, never timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::{StreamExt, TryStreamExt};
use stategraph::prelude::*;
use stategraph::{ChatChunkStream, ChatRequest, ModelIdentity};

/// How many items a flood offers: far more than any bound below, so that a writer that is
/// not made to take turns visibly wins every race.
const WRITES: usize = 100_000;

#[derive(Clone, Debug, Default, State)]
struct Empty {
    done: bool,
}

fn answer_model() -> ScriptedModel {
    ScriptedModel::new((0..100).map(|i| format!(" t{i}")))
}

#[graph(
    state = Empty,
    context = ScriptedModel,
    custom = usize,
    edges = [START -> [flood, answer], [flood, answer] -> END]
)]
mod flood_and_answer {
    use super::*;

    /// Writes as fast as it can, on the stream's task.
    #[node]
    async fn flood(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        for i in 0..WRITES {
            ctx.write(i).await;
        }
        EmptyUpdate::default().done(true)
    }

    /// Streams a model answer whose chunks are always ready.
    #[node]
    async fn answer(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        ctx.chat(ctx.context())
            .invoke([Message::user("go")])
            .await?;
        Ok(EmptyUpdate::default())
    }
}

/// How many custom items the stream yields before the answer's first token, and before
/// its last.
async fn custom_items_before_the_answer() -> (usize, usize) {
    let graph = flood_and_answer::Graph::new(answer_model());
    let mut stream = graph.stream(Empty::default(), (Custom, Messages));
    let (mut custom, mut first, mut tokens) = (0, None, 0);
    while let Some(item) = stream.try_next().await.unwrap() {
        match item {
            StreamItem::Custom(_) => custom += 1,
            StreamItem::Messages(_) => {
                first.get_or_insert(custom);
                tokens += 1;
                if tokens == 100 {
                    return (first.unwrap_or(custom), custom);
                }
            }
        }
    }
    panic!("the answer never finished: {tokens} tokens after {custom} custom items");
}

/// The buffer holds 8 (the default): the flood fills it before the answer first asks for
/// room, then they alternate.
fn assert_answer_not_held_back((first, last): (usize, usize)) {
    assert!(
        first <= 2 * stategraph::DEFAULT_BUFFER,
        "the first token came after {first} custom items"
    );
    // Then the flood writes at most one item in each of the answer's turns, and the
    // answer at least one chunk.
    assert!(
        last <= first + 100,
        "the last token came after {last} custom items"
    );
}

#[tokio::test]
async fn a_node_writing_as_fast_as_it_can_does_not_hold_back_a_model_answer() {
    assert_answer_not_held_back(custom_items_before_the_answer().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_writing_as_fast_as_it_can_does_not_hold_back_a_model_answer_on_two_workers() {
    assert_answer_not_held_back(custom_items_before_the_answer().await);
}

#[graph(
    state = Empty,
    custom = usize,
    edges = [START -> [even, odd], [even, odd] -> END]
)]
mod two_floods {
    use super::*;

    /// Writes the even numbers.
    #[node]
    async fn even(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        for i in 0..WRITES {
            ctx.write(2 * i).await;
        }
        EmptyUpdate::default()
    }

    /// Writes the odd numbers.
    #[node]
    async fn odd(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        for i in 0..WRITES {
            ctx.write(2 * i + 1).await;
        }
        EmptyUpdate::default()
    }
}

/// The largest lead one flood had over the other in the first `read` items.
async fn largest_lead_of_one_flood(read: usize) -> usize {
    let graph = two_floods::Graph::new();
    let mut stream = graph.stream(Empty::default(), Custom);
    let (mut even, mut odd, mut lead) = (0usize, 0usize, 0);
    for _ in 0..read {
        let item = stream.try_next().await.unwrap().expect("both still write");
        if item.payload() % 2 == 0 {
            even += 1;
        } else {
            odd += 1;
        }
        lead = lead.max(even.abs_diff(odd));
    }
    assert_eq!(even + odd, read);
    lead
}

#[tokio::test]
async fn two_nodes_writing_as_fast_as_they_can_take_turns() {
    let lead = largest_lead_of_one_flood(10_000).await;
    assert!(
        lead <= 2 * stategraph::DEFAULT_BUFFER,
        "one flood got {lead} items ahead"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_writing_as_fast_as_they_can_take_turns_on_two_workers() {
    let lead = largest_lead_of_one_flood(10_000).await;
    assert!(
        lead <= 2 * stategraph::DEFAULT_BUFFER,
        "one flood got {lead} items ahead"
    );
}

/// How many items the spawned flood has written so far, and how many it had written when
/// the answer's first chunk came out of the model.
#[derive(Default)]
struct FloodCounts {
    written: AtomicUsize,
    written_when_answer_ready: AtomicUsize,
}

/// The answer's model: marks how far the flood had got at the moment the first chunk is
/// ready to send, so the test counts from when the answer asks for room, not from when
/// the operating system got round to running its thread.
struct MarkingModel {
    model: ScriptedModel,
    counts: Arc<FloodCounts>,
}

impl ChatModel for MarkingModel {
    type Error = <ScriptedModel as ChatModel>::Error;

    fn identity(&self) -> &ModelIdentity {
        self.model.identity()
    }

    fn stream(&self, request: ChatRequest) -> ChatChunkStream<Self::Error> {
        let counts = Arc::clone(&self.counts);
        let mut first = true;
        self.model
            .stream(request)
            .inspect(move |_| {
                if std::mem::take(&mut first) {
                    let written = counts.written.load(Ordering::SeqCst);
                    counts
                        .written_when_answer_ready
                        .store(written, Ordering::SeqCst);
                }
            })
            .boxed()
    }
}

/// The model, and the counts the flood and the model keep.
struct FloodContext {
    model: MarkingModel,
    counts: Arc<FloodCounts>,
}

#[graph(
    state = Empty,
    context = FloodContext,
    custom = usize,
    edges = [START -> [spawned_flood, late_answer], [spawned_flood, late_answer] -> END]
)]
mod spawned_flood_and_answer {
    use super::*;

    /// Writes as fast as it can from work spawned onto the runtime, which runs on the
    /// other worker whether or not the stream polls.
    #[node]
    async fn spawned_flood(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        let writer = ctx.writer();
        let probe = ctx.clone();
        let flood = ctx.spawn(async move {
            for i in 0..WRITES {
                writer.write(i).await;
                probe
                    .context()
                    .counts
                    .written
                    .fetch_add(1, Ordering::SeqCst);
            }
        });
        let _ = flood.await;
        EmptyUpdate::default().done(true)
    }

    /// Streams a model answer whose chunks are always ready, once the flood has filled
    /// the buffer: the answer then has to win room from a writer that is already running.
    #[node]
    async fn late_answer(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        while ctx.context().counts.written.load(Ordering::SeqCst) < stategraph::DEFAULT_BUFFER {
            tokio::task::yield_now().await;
        }
        ctx.chat(&ctx.context().model)
            .invoke([Message::user("go")])
            .await?;
        Ok(EmptyUpdate::default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_on_another_thread_does_not_hold_back_a_model_answer() {
    let counts = Arc::new(FloodCounts::default());
    let graph = spawned_flood_and_answer::Graph::new(FloodContext {
        model: MarkingModel {
            model: answer_model(),
            counts: Arc::clone(&counts),
        },
        counts: Arc::clone(&counts),
    });
    let mut stream = graph.stream(Empty::default(), (Custom, Messages));
    let mut before_first_token = Vec::new();
    while let StreamItem::Custom(item) = stream.try_next().await.unwrap().expect("the answer comes")
    {
        before_first_token.push(*item.payload());
    }
    // The flood numbers its items in order, so those numbered at or past the count it had
    // written when the answer's first chunk was ready are the ones written after the
    // answer asked for room. Before its turn come what waits in the buffer, the one
    // item each of the flood's writes may have in hand, and the flood's one turn ahead.
    let ready_at = counts.written_when_answer_ready.load(Ordering::SeqCst);
    let after_ready = before_first_token
        .iter()
        .filter(|&&index| index >= ready_at)
        .count();
    assert!(
        after_ready <= 4 * stategraph::DEFAULT_BUFFER,
        "the first token came after {after_ready} custom items written once it was ready \
         ({} in all)",
        before_first_token.len()
    );
}

#[graph(state = Empty, context = ScriptedModel, edges = [START -> answer -> END])]
mod one_answer {
    use super::*;

    /// Streams a model answer whose chunks are always ready.
    #[node]
    async fn answer(_state: &Empty, ctx: &Ctx) -> Result<EmptyUpdate, NodeError> {
        ctx.chat(ctx.context())
            .invoke([Message::user("go")])
            .await?;
        Ok(EmptyUpdate::default())
    }
}

/// tokio's budget is 128 units a poll of the task; each item spends one.
const COOP_BUDGET: usize = 128;

#[tokio::test]
async fn a_stream_that_is_always_ready_lets_other_tasks_run() {
    let model = ScriptedModel::new((0..10_000).map(|i| format!(" t{i}")));
    let graph = one_answer::Graph::new(model);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    // On this current-thread runtime, the task runs only when the test's task yields.
    let other = tokio::spawn(async move { flag.store(true, Ordering::SeqCst) });

    let mut stream = graph.stream(Empty::default(), Messages);
    let mut read = 0;
    while !ran.load(Ordering::SeqCst) {
        assert!(
            stream.try_next().await.unwrap().is_some(),
            "the other task never ran while {read} items were read"
        );
        read += 1;
    }
    // `read` counts the item whose poll yielded to the other task, too.
    assert!(
        read <= COOP_BUDGET + 1,
        "{read} items were read before the other task ran"
    );
    other.await.unwrap();
}
