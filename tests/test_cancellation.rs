//! Dropping the stream cancels running nodes and their spawned work; spawned work that
//! writes or calls models reaches the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use stategraph::prelude::*;

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
            Ok::<_, stategraph::ScriptedError>(answer.content)
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
