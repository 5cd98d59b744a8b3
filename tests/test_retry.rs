//! A node's retry policy and timeout (`#[node(retry = .., timeout = ..)]`): a failed
//! attempt runs again after the policy's wait, every item of an attempt says which attempt
//! it is, tasks mode tells of each failed attempt so its partial tokens can be dropped, and
//! an attempt that takes too long fails with a typed `NodeTimedOut`. On tokio's paused
//! clock: the waits are counted, not slept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use stategraph::prelude::*;
use stategraph::{NodeTimedOut, RetryPolicy, TaskEventKind};

#[derive(Clone, Debug, Default, PartialEq, State)]
pub struct Story {
    pub text: String,
}

/// The model, and how many attempts each node made and how many of them fail.
pub struct Flaky {
    model: ScriptedModel,
    write_failures: usize,
    /// `write` fails with an error its policy does not retry.
    permanent: bool,
    slow_failures: usize,
    attempts: AtomicUsize,
    slow_attempts: AtomicUsize,
}

/// The error the flaky node fails with: one its policy retries.
#[derive(Debug)]
pub struct Transient;

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("503 from the model")
    }
}

impl std::error::Error for Transient {}

fn transient_only(error: &NodeError) -> bool {
    error.downcast_ref::<Transient>().is_some()
}

#[graph(
    state = Story,
    context = Flaky,
    edges = [START -> write -> END, START -> slow -> END]
)]
pub mod retried {
    use super::*;

    /// Streams a token, then fails until its last failure is used up.
    #[node(retry = RetryPolicy::new(3)
        .initial_interval(Duration::from_secs(1))
        .jitter(false)
        .retry_on(transient_only))]
    pub async fn write(_state: &Story, ctx: &Ctx) -> Result<StoryUpdate, NodeError> {
        let flaky = ctx.context();
        let attempt = flaky.attempts.fetch_add(1, Ordering::SeqCst);
        let reply = ctx
            .chat(&flaky.model)
            .invoke([Message::user("a story")])
            .await?;
        if flaky.permanent {
            return Err(NodeError::msg("not retried"));
        }
        if attempt < flaky.write_failures {
            return Err(Transient.into());
        }
        Ok(StoryUpdate::default().text(reply.content))
    }

    /// Takes a minute when its context says so; cut off after 30 s, twice at most.
    #[node(retry = 2, timeout = "30s")]
    pub async fn slow(_state: &Story, ctx: &Ctx) -> StoryUpdate {
        let attempt = ctx.context().slow_attempts.fetch_add(1, Ordering::SeqCst);
        if attempt < ctx.context().slow_failures {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        StoryUpdate::default()
    }
}

fn graph(write_failures: usize, permanent: bool, slow_failures: usize) -> retried::Graph {
    retried::Graph::new(Flaky {
        model: ScriptedModel::new(["once", " upon"]),
        write_failures,
        permanent,
        slow_failures,
        attempts: AtomicUsize::new(0),
        slow_attempts: AtomicUsize::new(0),
    })
}

#[tokio::test(start_paused = true)]
async fn a_failed_attempt_runs_again_after_the_policys_wait_until_it_succeeds() {
    let graph = graph(2, false, 1);
    let started = tokio::time::Instant::now();
    let state = graph.invoke(Story::default()).await.unwrap();
    assert_eq!(state.text, "once upon");
    assert_eq!(graph.context().attempts.load(Ordering::SeqCst), 3);
    // `slow`'s first attempt was cut off at 30 s; its second ran after the default wait.
    assert_eq!(graph.context().slow_attempts.load(Ordering::SeqCst), 2);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(30_500) && elapsed < Duration::from_secs(31),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn tasks_mode_tells_of_each_failed_attempt_and_chunks_carry_their_attempt() {
    let graph = graph(2, false, 0);
    let items: Vec<_> = graph
        .stream(Story::default(), (Messages, Tasks))
        .try_collect()
        .await
        .unwrap();
    let mut seen = Vec::new();
    for item in &items {
        match item {
            StreamItem::Messages(chunk) if !chunk.content().is_empty() => {
                let attempt = chunk.metadata().task().attempt();
                seen.push(format!("{attempt}:{}", chunk.content()));
                let json = serde_json::to_value(chunk.metadata()).unwrap();
                assert_eq!(json["stategraph_attempt"], attempt);
            }
            StreamItem::Tasks(event) => {
                if let TaskEventKind::AttemptFailed {
                    error,
                    attempt,
                    retry_in,
                } = event.kind()
                {
                    assert_eq!(event.node(), retried::Node::Write);
                    assert_eq!(error, "503 from the model");
                    assert_eq!(event.metadata().attempt(), *attempt);
                    seen.push(format!(
                        "failed {attempt}, again in {}s",
                        retry_in.as_secs()
                    ));
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        [
            "1:once",
            "1: upon",
            "failed 1, again in 1s",
            "2:once",
            "2: upon",
            "failed 2, again in 2s",
            "3:once",
            "3: upon",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_last_attempts_error_ends_the_run() {
    let graph = graph(5, false, 0);
    let error = graph.invoke(Story::default()).await.unwrap_err();
    assert!(
        matches!(&error, GraphError::Node { node: "write", .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("503 from the model"), "{error}");
    assert_eq!(
        graph.context().attempts.load(Ordering::SeqCst),
        3,
        "3 attempts in all"
    );
}

#[tokio::test(start_paused = true)]
async fn an_error_retry_on_refuses_ends_the_run_at_once() {
    let graph = graph(0, true, 0);
    let error = graph.invoke(Story::default()).await.unwrap_err();
    assert!(error.to_string().contains("not retried"), "{error}");
    assert_eq!(graph.context().attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_past_its_timeout_fails_with_a_typed_error() {
    let graph = graph(0, false, 2);
    let error = graph.invoke(Story::default()).await.unwrap_err();
    let GraphError::Node { node, source, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*node, "slow");
    let timed_out = source
        .downcast_ref::<NodeTimedOut>()
        .expect("a NodeTimedOut");
    assert_eq!(
        *timed_out,
        NodeTimedOut {
            node: "slow",
            after: Duration::from_secs(30)
        }
    );
    assert!(error.to_string().contains("timed out after 30s"), "{error}");
    assert_eq!(graph.context().slow_attempts.load(Ordering::SeqCst), 2);
}

/// How many attempts each node of `defaults` made.
#[derive(Default)]
pub struct Counts {
    inherits: AtomicUsize,
    own: AtomicUsize,
    cut_off: AtomicUsize,
    own_timeout: AtomicUsize,
}

/// Counts an attempt of a node; whether it is one of its first `failing` attempts.
fn fails(count: &AtomicUsize, failing: usize) -> bool {
    count.fetch_add(1, Ordering::SeqCst) < failing
}

/// `retry` and `timeout` in the graph attribute: the default of every node without its own.
#[graph(
    state = Story,
    context = Counts,
    retry = RetryPolicy::new(3).jitter(false),
    timeout = "10s",
    edges = [
        START -> inherits -> END,
        START -> own -> END,
        START -> cut_off -> END,
        START -> own_timeout -> END,
    ]
)]
pub mod defaults {
    use super::*;

    /// No policy of its own: its two failures are retried under the graph's 3 attempts.
    #[node]
    pub async fn inherits(_state: &Story, ctx: &Ctx) -> Result<StoryUpdate, NodeError> {
        if fails(&ctx.context().inherits, 2) {
            return Err(NodeError::msg("flaky"));
        }
        Ok(StoryUpdate::default())
    }

    /// Its own `retry` overrides the graph's: 4 failures would exhaust the graph's 3.
    #[node(retry = 5)]
    pub async fn own(_state: &Story, ctx: &Ctx) -> Result<StoryUpdate, NodeError> {
        if fails(&ctx.context().own, 4) {
            return Err(NodeError::msg("flaky"));
        }
        Ok(StoryUpdate::default())
    }

    /// No timeout of its own: the graph's 10 s cuts its first, 20 s attempt off.
    #[node]
    pub async fn cut_off(_state: &Story, ctx: &Ctx) -> StoryUpdate {
        if fails(&ctx.context().cut_off, 1) {
            tokio::time::sleep(Duration::from_secs(20)).await;
        }
        StoryUpdate::default()
    }

    /// Its own `timeout` overrides the graph's: its 20 s attempt is not cut off at 10 s.
    #[node(timeout = "1m")]
    pub async fn own_timeout(_state: &Story, ctx: &Ctx) -> StoryUpdate {
        ctx.context().own_timeout.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(20)).await;
        StoryUpdate::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_node_without_its_own_policy_runs_under_the_graphs_and_one_with_its_own_uses_it() {
    let graph = defaults::Graph::new(Counts::default());
    graph.invoke(Story::default()).await.unwrap();
    let counts = graph.context();
    assert_eq!(counts.inherits.load(Ordering::SeqCst), 3);
    assert_eq!(counts.own.load(Ordering::SeqCst), 5);
    assert_eq!(counts.cut_off.load(Ordering::SeqCst), 2);
    assert_eq!(counts.own_timeout.load(Ordering::SeqCst), 1);
}
