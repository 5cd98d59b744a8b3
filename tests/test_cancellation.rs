//! Dropping the stream cancels running nodes and their spawned work; spawned work that
//! writes or calls models reaches the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use stategraph::prelude::*;
use stategraph::{
    ChatCallError, ChatChunk, ChatChunkStream, ChatRequest, MessageBuilder, ModelIdentity,
};

/// Sets its flag when dropped: proves a future was cancelled rather than left running.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Probes {
    node_dropped: Arc<AtomicBool>,
    task_dropped: Arc<AtomicBool>,
    task_ticks: Arc<AtomicUsize>,
}

#[derive(Clone, Debug, Default, State)]
struct Empty {
    done: bool,
}

#[graph(state = Empty, context = Probes, custom = &'static str, edges = [START -> forever -> END])]
mod endless {
    use super::*;

    /// Spawns a ticking task, writes once, then waits forever.
    #[node]
    async fn forever(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        let _flag = DropFlag(Arc::clone(&ctx.context().node_dropped));
        let task_flag = DropFlag(Arc::clone(&ctx.context().task_dropped));
        let ticks = Arc::clone(&ctx.context().task_ticks);
        ctx.spawn(async move {
            let _flag = task_flag;
            loop {
                ticks.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        ctx.write("started").await;
        std::future::pending::<()>().await;
        EmptyUpdate::default().done(true)
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_cancels_a_node_that_would_run_forever_and_its_spawned_work() {
    let graph = endless::Graph::new(Probes::default());
    let probes = graph.context();
    let mut stream = graph.stream(Empty::default(), Custom);
    assert_eq!(
        *stream.try_next().await.unwrap().unwrap().payload(),
        "started"
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        probes.task_ticks.load(Ordering::SeqCst) > 0,
        "the spawned task runs"
    );
    assert!(!probes.node_dropped.load(Ordering::SeqCst));

    drop(stream);
    assert!(
        probes.node_dropped.load(Ordering::SeqCst),
        "the node future is dropped with the stream"
    );
    for _ in 0..10 {
        if probes.task_dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        probes.task_dropped.load(Ordering::SeqCst),
        "the spawned task is aborted"
    );
    let ticks = probes.task_ticks.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        probes.task_ticks.load(Ordering::SeqCst),
        ticks,
        "and no longer runs"
    );
}

#[derive(Clone, Debug, Default, State)]
struct Story {
    text: String,
}

#[graph(state = Story, context = ScriptedModel, custom = String, edges = [START -> delegate -> END])]
mod spawning {
    use super::*;

    /// Hands the model call and the progress notes to a spawned task.
    #[node]
    async fn delegate(_state: &Story, ctx: &Ctx) -> Result<StoryUpdate, NodeError> {
        let task_ctx = ctx.clone();
        let handle = ctx.spawn(async move {
            let writer = task_ctx.writer();
            writer.write("from the task".to_owned()).await;
            let answer = task_ctx
                .chat(task_ctx.context())
                .invoke([Message::user("hi")])
                .await?;
            writer.write(format!("done: {}", answer.content)).await;
            Ok::<_, stategraph::ChatCallError<stategraph::ScriptedError>>(answer.content)
        });
        let text = handle.await.map_err(NodeError::msg)??;
        Ok(StoryUpdate::default().text(text))
    }
}

#[tokio::test]
async fn writes_and_model_chunks_from_spawned_tasks_reach_the_stream() {
    let graph = spawning::Graph::new(ScriptedModel::new(["once", " upon"]));
    let writes: Vec<String> = graph
        .stream(Story::default(), Custom)
        .map_ok(|item| item.payload().clone())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(writes, ["from the task", "done: once upon"]);

    let chunks: Vec<_> = graph
        .stream(Story::default(), Messages)
        .try_collect()
        .await
        .unwrap();
    let tokens: Vec<&str> = chunks.iter().map(|chunk| chunk.content()).collect();
    assert_eq!(tokens, ["once", " upon"]);
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk.node() == spawning::Node::Delegate && chunk.step() == 1)
    );
}

/// A model that hands over one chunk every millisecond, forever, and counts each chunk it
/// produces and whether its stream was dropped (its "connection" closed).
struct EndlessModel {
    identity: ModelIdentity,
    produced: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
}

impl ChatModel for EndlessModel {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        let produced = Arc::clone(&self.produced);
        let flag = DropFlag(Arc::clone(&self.closed));
        futures::stream::unfold((produced, flag), |(produced, flag)| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            produced.fetch_add(1, Ordering::SeqCst);
            Some((Ok(ChatChunk::text("token")), (produced, flag)))
        })
        .boxed()
    }
}

type CallOutcome = Result<Message, ChatCallError<std::convert::Infallible>>;

/// What the detached call saw, sent back to the test.
type Outcome = tokio::sync::oneshot::Sender<CallOutcome>;

#[derive(Clone, Debug, Default, State)]
struct Started {
    started: bool,
}

#[graph(
    state = Started,
    context = (EndlessModel, std::sync::Mutex<Option<Outcome>>, bool),
    edges = [START -> detach -> END]
)]
mod detached {
    use super::*;

    /// Moves a clone of its context into a plain `tokio::spawn` (not `ctx.spawn`, so
    /// nothing aborts it when the run ends), calls the model there, and waits forever.
    #[node]
    async fn detach(_state: &Started, ctx: &Ctx) -> StartedUpdate {
        let call = ctx.clone();
        tokio::spawn(async move {
            let (model, outcome, stream_it) = call.context();
            let result = if *stream_it {
                let mut chunks = call.chat(model).stream([Message::user("go")]);
                let mut builder = MessageBuilder::default();
                loop {
                    match chunks.next().await {
                        Some(Ok(chunk)) => builder.push(&chunk),
                        Some(Err(error)) => break Err(error),
                        None => break Ok(builder.finish()),
                    }
                }
            } else {
                call.chat(model).invoke([Message::user("go")]).await
            };
            let sender = outcome.lock().unwrap().take().unwrap();
            let _ = sender.send(result);
        });
        std::future::pending::<()>().await;
        StartedUpdate::default().started(true)
    }
}

async fn a_detached_call_stops_when_the_stream_is_dropped(stream_it: bool) {
    let produced = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let model = EndlessModel {
        identity: ModelIdentity::new("test", "endless"),
        produced: Arc::clone(&produced),
        closed: Arc::clone(&closed),
    };
    let graph = detached::Graph::new((model, std::sync::Mutex::new(Some(sender)), stream_it));
    let mut stream = graph.stream(Started::default(), Messages);
    for _ in 0..3 {
        assert_eq!(stream.try_next().await.unwrap().unwrap().content(), "token");
    }
    drop(stream);

    let outcome = tokio::time::timeout(Duration::from_secs(10), receiver)
        .await
        .expect("the detached call returns once the run is gone")
        .unwrap();
    assert!(
        matches!(outcome, Err(ChatCallError::RunEnded)),
        "the call reports that its run ended: {outcome:?}"
    );
    assert!(
        closed.load(Ordering::SeqCst),
        "the model's stream is dropped: its connection closed"
    );
    let after_end = produced.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        produced.load(Ordering::SeqCst),
        after_end,
        "nothing is read from the model after the call stopped"
    );
}

#[tokio::test(start_paused = true)]
async fn a_model_call_outside_the_run_stops_reading_when_the_stream_is_dropped() {
    a_detached_call_stops_when_the_stream_is_dropped(false).await;
}

#[tokio::test(start_paused = true)]
async fn a_streamed_model_call_outside_the_run_stops_reading_when_the_stream_is_dropped() {
    a_detached_call_stops_when_the_stream_is_dropped(true).await;
}
