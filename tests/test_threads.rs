//! Runs on a thread: each starts from where the thread's last run ended, stores a
//! checkpoint for its input and after every step (as the durability asks), continues the
//! thread's step numbers as LangGraph does, and holds the thread against a second run.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use stategraph::checkpoint::{CheckpointError, Checkpointer, ListOptions, Source};
use stategraph::mode::{Messages, Values};
use stategraph::prelude::*;
use stategraph::{Durability, GraphError, Message, RunConfig, ScriptedModel};
use stategraph_checkpoint::{MemoryCheckpointer, SqlCheckpointer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
struct Counter {
    /// How many steps the loop runs this time.
    target: i64,
    count: i64,
    #[reducer(append)]
    log: Vec<String>,
}

/// `bump` until `count` reaches `target`.
#[graph(state = Counter, edges = [START -> bump, bump -> again ? [bump, END]])]
mod counter {
    use super::*;

    #[node]
    async fn bump(state: &Counter) -> CounterUpdate {
        CounterUpdate::default()
            .count(state.count + 1)
            .log(vec![format!("bump {}", state.count + 1)])
    }

    #[router]
    fn again(state: &Counter) -> Again {
        if state.count < state.target {
            Again::Bump
        } else {
            Again::End
        }
    }
}

fn memory() -> Arc<dyn Checkpointer> {
    Arc::new(MemoryCheckpointer::new())
}

async fn run_to(
    graph: &counter::Graph,
    store: &Arc<dyn Checkpointer>,
    target: i64,
    durability: Durability,
) -> Counter {
    graph
        .thread(store, "t")
        .invoke_with(
            CounterUpdate::default().target(target),
            RunConfig::default().durability(durability),
        )
        .await
        .unwrap()
}

async fn thread_continues_from_its_last_run(store: Arc<dyn Checkpointer>, durability: Durability) {
    let graph = counter::Graph::new();
    let first = run_to(&graph, &store, 3, durability).await;
    assert_eq!(first.count, 3);
    let second = run_to(&graph, &store, 5, durability).await;
    assert_eq!(second.count, 5, "the second run started from count 3");
    assert_eq!(
        second.log,
        ["bump 1", "bump 2", "bump 3", "bump 4", "bump 5"]
    );

    let thread = graph.thread(&store, "t");
    let snapshot = thread.state().await.unwrap().expect("stored");
    assert_eq!(snapshot.values, second);
    assert!(snapshot.next.is_empty(), "the run ended");
    let history = thread.history(ListOptions::default()).await.unwrap();
    let steps: Vec<(i64, Source)> = history
        .iter()
        .map(|meta| (meta.step, meta.source))
        .collect();
    match durability {
        // Run 1: input at -1, input applied at 0, steps 1-3. Run 2: input at 4, applied
        // at 5, steps 6-7.
        Durability::Sync | Durability::Async => assert_eq!(
            steps,
            [
                (7, Source::Loop),
                (6, Source::Loop),
                (5, Source::Loop),
                (4, Source::Input),
                (3, Source::Loop),
                (2, Source::Loop),
                (1, Source::Loop),
                (0, Source::Loop),
                (-1, Source::Input)
            ]
        ),
        Durability::Exit => assert_eq!(
            steps,
            [
                (7, Source::Loop),
                (4, Source::Input),
                (3, Source::Loop),
                (-1, Source::Input)
            ]
        ),
    }
    // Every checkpoint reads back as the state it stored.
    for meta in &history {
        let at = store.get("t", "", Some(meta.id)).await.unwrap().unwrap();
        let values: Counter =
            <Counter as stategraph::checkpoint::Durable>::from_values(at.values).unwrap();
        assert!(values.count <= 5);
    }
}

#[tokio::test]
async fn a_thread_remembers_across_runs_in_every_durability() {
    for durability in [Durability::Sync, Durability::Async, Durability::Exit] {
        thread_continues_from_its_last_run(memory(), durability).await;
    }
}

#[tokio::test]
async fn a_thread_in_sqlite_outlives_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("threads.db").display());
    let store: Arc<dyn Checkpointer> = Arc::new(SqlCheckpointer::connect(&url).await.unwrap());
    thread_continues_from_its_last_run(store, Durability::Async).await;
    // A new process (here: a new pool) sees the thread and continues it.
    let reopened: Arc<dyn Checkpointer> = Arc::new(SqlCheckpointer::connect(&url).await.unwrap());
    let third = run_to(&counter::Graph::new(), &reopened, 6, Durability::Sync).await;
    assert_eq!(third.count, 6);
    let history = reopened
        .list(
            "t",
            "",
            ListOptions {
                limit: Some(1),
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        history[0].step, 10,
        "run 3: input at 8, applied at 9, step 10"
    );
}

#[tokio::test]
#[ignore = "needs Postgres: run scripts/test"]
async fn a_thread_in_postgres_remembers_across_runs() {
    let url = std::env::var("STATEGRAPH_TEST_POSTGRES_URL").expect("set by scripts/test");
    let store = SqlCheckpointer::connect(&url).await.unwrap();
    store.delete_thread("t").await.unwrap();
    thread_continues_from_its_last_run(Arc::new(store), Durability::Sync).await;
}

#[tokio::test]
async fn the_values_stream_starts_from_the_threads_state_with_the_input_applied() {
    let store = memory();
    let graph = counter::Graph::new();
    run_to(&graph, &store, 2, Durability::Async).await;
    let values: Vec<Counter> = graph
        .thread(&store, "t")
        .stream(CounterUpdate::default().target(3), Values)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let counts: Vec<(i64, i64)> = values.iter().map(|v| (v.target, v.count)).collect();
    assert_eq!(counts, [(3, 2), (3, 3)]);
}

#[tokio::test]
async fn a_second_run_on_a_busy_thread_is_rejected() {
    let store = memory();
    let graph = counter::Graph::new();
    let thread = graph.thread(&store, "t").lease(Duration::from_secs(60));
    // The first run holds the thread from its start until its stream ends.
    let first = thread
        .stream(CounterUpdate::default().target(2), Values)
        .await
        .unwrap();
    match thread.invoke(CounterUpdate::default().target(1)).await {
        Err(GraphError::Checkpoint(CheckpointError::ThreadBusy { thread })) => {
            assert_eq!(thread, "t")
        }
        other => panic!("expected ThreadBusy, got {other:?}"),
    }
    let values: Vec<Counter> = first.try_collect().await.unwrap();
    assert_eq!(values.last().unwrap().count, 2);
    // Ended: the thread is free.
    assert_eq!(
        thread
            .invoke(CounterUpdate::default().target(3))
            .await
            .unwrap()
            .count,
        3
    );
}

#[tokio::test]
async fn a_dropped_stream_gives_the_thread_up() {
    let store = memory();
    let graph = counter::Graph::new();
    let thread = graph.thread(&store, "t").lease(Duration::from_secs(60));
    let stream = thread
        .stream(CounterUpdate::default().target(50), Values)
        .await
        .unwrap();
    drop(stream);
    // The release runs in the background.
    let mut again = None;
    for _ in 0..100 {
        match thread.invoke(CounterUpdate::default().target(1)).await {
            Err(GraphError::Checkpoint(CheckpointError::ThreadBusy { .. })) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => {
                again = Some(other);
                break;
            }
        }
    }
    assert_eq!(again.expect("the thread was given up").unwrap().count, 1);
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
struct Chat {
    #[reducer(messages)]
    messages: Vec<Message>,
}

/// The guide's shape: one node, one model call.
#[graph(state = Chat, context = ScriptedModel, edges = [START -> reply, reply -> END])]
mod chat {
    use super::*;

    #[node]
    async fn reply(state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let answer = ctx
            .chat(ctx.context())
            .invoke(state.messages.clone())
            .await?;
        Ok(ChatUpdate::default().messages(vec![answer]))
    }
}

#[tokio::test]
async fn a_second_run_streams_its_tokens_at_step_4_as_langgraph_numbers_them() {
    let store = memory();
    let graph = chat::Graph::new(ScriptedModel::new(["Hi", " there"]));
    let thread = graph.thread(&store, "chat");
    for (turn, expected_step) in [(1, 1), (2, 4)] {
        let chunks: Vec<_> = thread
            .stream(
                ChatUpdate::default().messages(vec![Message::user(format!("turn {turn}"))]),
                Messages,
            )
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert!(!chunks.is_empty());
        for chunk in &chunks {
            assert_eq!(chunk.metadata().task().step(), expected_step, "turn {turn}");
        }
    }
    let snapshot = thread.state().await.unwrap().unwrap();
    assert_eq!(
        snapshot.values.messages.len(),
        4,
        "two questions, two answers"
    );
}

/// A store in memory whose writes fail after the first `ok` of them, as a database lost
/// mid-run, and whose input checkpoints wait for `input_gate` to open when it is given.
struct FaultyStore {
    inner: MemoryCheckpointer,
    ok: std::sync::atomic::AtomicUsize,
    input_gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl Checkpointer for FaultyStore {
    fn put(
        &self,
        checkpoint: stategraph::checkpoint::NewCheckpoint,
    ) -> stategraph::checkpoint::StoreFuture<'_, ()> {
        let left = self.ok.load(std::sync::atomic::Ordering::SeqCst);
        if left == 0 {
            return Box::pin(async {
                Err(CheckpointError::Unavailable {
                    source: "the database went away".into(),
                })
            });
        }
        self.ok.store(left - 1, std::sync::atomic::Ordering::SeqCst);
        match &self.input_gate {
            Some(gate) if checkpoint.meta.source == Source::Input => {
                let gate = Arc::clone(gate);
                Box::pin(async move {
                    let _open = gate.acquire().await;
                    self.inner.put(checkpoint).await
                })
            }
            _ => self.inner.put(checkpoint),
        }
    }
    fn put_writes<'a>(
        &'a self,
        t: &'a str,
        ns: &'a str,
        id: stategraph::checkpoint::CheckpointId,
        w: Vec<stategraph::checkpoint::PendingWrite>,
    ) -> stategraph::checkpoint::StoreFuture<'a, ()> {
        self.inner.put_writes(t, ns, id, w)
    }
    fn get<'a>(
        &'a self,
        t: &'a str,
        ns: &'a str,
        id: Option<stategraph::checkpoint::CheckpointId>,
    ) -> stategraph::checkpoint::StoreFuture<'a, Option<stategraph::checkpoint::Checkpoint>> {
        self.inner.get(t, ns, id)
    }
    fn list<'a>(
        &'a self,
        t: &'a str,
        ns: &'a str,
        o: ListOptions,
    ) -> stategraph::checkpoint::StoreFuture<'a, Vec<stategraph::checkpoint::CheckpointMeta>> {
        self.inner.list(t, ns, o)
    }
    fn copy_thread<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
    ) -> stategraph::checkpoint::StoreFuture<'a, ()> {
        self.inner.copy_thread(from, to)
    }
    fn delete_thread<'a>(&'a self, t: &'a str) -> stategraph::checkpoint::StoreFuture<'a, ()> {
        self.inner.delete_thread(t)
    }
    fn lock_thread<'a>(
        &'a self,
        t: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> stategraph::checkpoint::StoreFuture<'a, ()> {
        self.inner.lock_thread(t, owner, lease)
    }
    fn unlock_thread<'a>(
        &'a self,
        t: &'a str,
        owner: &'a str,
    ) -> stategraph::checkpoint::StoreFuture<'a, ()> {
        self.inner.unlock_thread(t, owner)
    }
    fn create_thread(
        &self,
        record: stategraph::checkpoint::ThreadRecord,
    ) -> stategraph::checkpoint::StoreFuture<'_, bool> {
        self.inner.create_thread(record)
    }
    fn get_thread<'a>(
        &'a self,
        t: &'a str,
    ) -> stategraph::checkpoint::StoreFuture<'a, Option<stategraph::checkpoint::ThreadRecord>> {
        self.inner.get_thread(t)
    }
    fn update_thread<'a>(
        &'a self,
        t: &'a str,
        change: stategraph::checkpoint::ThreadChange,
    ) -> stategraph::checkpoint::StoreFuture<'a, Option<stategraph::checkpoint::ThreadRecord>> {
        self.inner.update_thread(t, change)
    }
    fn put_run(
        &self,
        run: stategraph::checkpoint::RunRecord,
    ) -> stategraph::checkpoint::StoreFuture<'_, ()> {
        self.inner.put_run(run)
    }
    fn get_run<'a>(
        &'a self,
        t: &'a str,
        run: &'a str,
    ) -> stategraph::checkpoint::StoreFuture<'a, Option<stategraph::checkpoint::RunRecord>> {
        self.inner.get_run(t, run)
    }
    fn list_runs<'a>(
        &'a self,
        t: &'a str,
        query: stategraph::checkpoint::RunQuery,
    ) -> stategraph::checkpoint::StoreFuture<'a, Vec<stategraph::checkpoint::RunRecord>> {
        self.inner.list_runs(t, query)
    }
    fn delete_run<'a>(
        &'a self,
        t: &'a str,
        run: &'a str,
    ) -> stategraph::checkpoint::StoreFuture<'a, bool> {
        self.inner.delete_run(t, run)
    }
    fn delete_run_checkpoints<'a>(
        &'a self,
        t: &'a str,
        run: &'a str,
    ) -> stategraph::checkpoint::StoreFuture<'a, ()> {
        self.inner.delete_run_checkpoints(t, run)
    }
    fn search_threads(
        &self,
        query: stategraph::checkpoint::ThreadQuery,
    ) -> stategraph::checkpoint::StoreFuture<'_, Vec<stategraph::checkpoint::ThreadRecord>> {
        self.inner.search_threads(query)
    }
}

#[tokio::test]
async fn a_database_lost_mid_run_ends_the_stream_with_a_typed_error_after_what_came_before() {
    for durability in [Durability::Sync, Durability::Async] {
        // The input, the input applied and step 1 are stored; step 2's write fails.
        let store: Arc<dyn Checkpointer> = Arc::new(FaultyStore {
            inner: MemoryCheckpointer::new(),
            ok: 3.into(),
            input_gate: None,
        });
        let graph = counter::Graph::new();
        let mut stream = graph
            .thread(&store, "t")
            .stream_with(
                CounterUpdate::default().target(5),
                Values,
                RunConfig::default().durability(durability),
            )
            .await
            .unwrap();
        let mut counts = Vec::new();
        let error = loop {
            match stream.try_next().await {
                Ok(Some(values)) => counts.push(values.count),
                Ok(None) => panic!("expected the store's error ({durability:?})"),
                Err(error) => break error,
            }
        };
        assert!(
            matches!(
                error,
                GraphError::Checkpoint(CheckpointError::Unavailable { .. })
            ),
            "{error:?}"
        );
        assert!(counts.starts_with(&[0, 1, 2]), "{durability:?}: {counts:?}");
        if durability == Durability::Sync {
            assert_eq!(
                counts,
                [0, 1, 2],
                "no step starts before the one before is stored"
            );
        }
        let stored = store.get("t", "", None).await.unwrap().unwrap();
        assert_eq!(stored.meta.step, 1, "the last checkpoint that made it");
    }
}

#[tokio::test]
async fn checkpoints_mode_yields_each_stored_checkpoint_in_langgraphs_shape() {
    use stategraph::mode::{Checkpoints, Tasks};
    use stategraph::{DebugCheckpoint, StreamItem, TaskEventKind};

    let store = memory();
    let graph = counter::Graph::new();
    let thread = graph.thread(&store, "t");
    let run_id = stategraph::Uuid::from_u128(7);
    let items: Vec<_> = thread
        .stream_with(
            CounterUpdate::default().target(2),
            (Checkpoints, Tasks),
            RunConfig::default().run_id(run_id),
        )
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut checkpoints = Vec::new();
    let mut started_tasks = Vec::new();
    for item in items {
        match item {
            StreamItem::Checkpoints(checkpoint) => checkpoints.push(checkpoint),
            StreamItem::Tasks(event) => {
                if let TaskEventKind::Started { .. } = event.kind() {
                    started_tasks.push(event.metadata().task_id());
                }
            }
        }
    }
    // The input, the input applied, then a checkpoint per step: what the history holds.
    let steps: Vec<(i64, Source)> = checkpoints.iter().map(|c| (c.step(), c.source())).collect();
    assert_eq!(
        steps,
        [
            (-1, Source::Input),
            (0, Source::Loop),
            (1, Source::Loop),
            (2, Source::Loop)
        ]
    );
    let history = thread.history(ListOptions::default()).await.unwrap();
    let stored: Vec<_> = history.iter().rev().map(|meta| meta.id).collect();
    let streamed: Vec<_> = checkpoints.iter().map(|c| c.checkpoint_id()).collect();
    assert_eq!(streamed, stored);
    assert_eq!(
        checkpoints[0].values().count,
        0,
        "the input checkpoint: before the input"
    );
    assert_eq!(checkpoints[2].values().count, 1);
    assert_eq!(checkpoints[1].next(), [counter::Node::Bump]);
    assert!(checkpoints[3].next().is_empty());
    // The tasks due after a checkpoint are the tasks the next step starts, by id.
    let due: Vec<_> = checkpoints[1..3].iter().map(|c| c.tasks()[0].0).collect();
    assert_eq!(due, started_tasks);

    let json = serde_json::to_value(&checkpoints[2]).unwrap();
    assert_eq!(
        json["config"]["configurable"],
        serde_json::json!({
            "thread_id": "t",
            "checkpoint_ns": "",
            "checkpoint_id": checkpoints[2].checkpoint_id().to_string(),
        })
    );
    assert_eq!(
        json["parent_config"]["configurable"]["checkpoint_id"],
        checkpoints[1].checkpoint_id().to_string()
    );
    assert_eq!(json["values"]["count"], 1);
    assert_eq!(json["metadata"]["source"], "loop");
    assert_eq!(json["metadata"]["step"], 1);
    // LangGraph 0.5 dropped `metadata.writes`, a copy of the tasks' writes.
    assert_eq!(json["metadata"].get("writes"), None);
    assert_eq!(json["next"], serde_json::json!(["bump"]));
    assert_eq!(json["tasks"][0]["name"], "bump");
    assert_eq!(json["tasks"][0]["id"], started_tasks[1].to_string());
    let debug = serde_json::to_value(DebugCheckpoint(&checkpoints[2])).unwrap();
    assert_eq!(debug["type"], "checkpoint");
    assert_eq!(debug["step"], 1);
    assert_eq!(debug["payload"], json);
}

#[tokio::test(start_paused = true)]
async fn with_async_durability_the_first_step_runs_while_the_input_is_being_stored() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let store: Arc<dyn Checkpointer> = Arc::new(FaultyStore {
        inner: MemoryCheckpointer::new(),
        ok: usize::MAX.into(),
        input_gate: Some(Arc::clone(&gate)),
    });
    let graph = counter::Graph::new();
    let thread = graph.thread(&store, "t");
    // The paused clock moves on only when nothing else can: a run that waited for the
    // input's write would reach the timeout, never the items.
    let first_steps = async {
        let mut stream = thread
            .stream_with(
                CounterUpdate::default().target(3),
                Values,
                RunConfig::default().durability(Durability::Async),
            )
            .await
            .unwrap();
        let mut counts = Vec::new();
        for _ in 0..3 {
            counts.push(stream.try_next().await.unwrap().expect("a step").count);
        }
        (stream, counts)
    };
    let (stream, counts) = tokio::time::timeout(Duration::from_secs(60), first_steps)
        .await
        .expect("the steps ran without waiting for the input checkpoint");
    assert_eq!(counts, [0, 1, 2]);

    gate.add_permits(1);
    let rest: Vec<Counter> = stream.try_collect().await.unwrap();
    assert_eq!(rest.last().map(|state| state.count), Some(3));
    // Stored in order all the same: the input first, then each step after it.
    let history = thread.history(ListOptions::default()).await.unwrap();
    let steps: Vec<(i64, Source)> = history
        .iter()
        .rev()
        .map(|meta| (meta.step, meta.source))
        .collect();
    assert_eq!(
        steps,
        [
            (-1, Source::Input),
            (0, Source::Loop),
            (1, Source::Loop),
            (2, Source::Loop),
            (3, Source::Loop)
        ]
    );
    let parents: Vec<_> = history.iter().map(|meta| meta.parent_id).collect();
    let ids: Vec<_> = history.iter().map(|meta| Some(meta.id)).collect();
    assert_eq!(
        parents[..parents.len() - 1],
        ids[1..],
        "each follows the one before"
    );
}
