//! Supersteps: fan-out, fan-in, routing, cycles and the recursion limit, step numbers,
//! reducers and conflicting writes.

use std::time::Duration;

use futures::TryStreamExt;
use stategraph::prelude::*;
use stategraph::{AnyChatModel, GraphError};

/// Adds a count, for the `#[reducer(path)]` case.
fn add(current: &mut u32, update: u32) {
    *current += update;
}

#[derive(Clone, Debug, Default, State)]
struct Doc {
    topic: String,
    /// Every node appends its name, so the merge order is visible.
    #[reducer(append)]
    log: Vec<String>,
    #[reducer(add)]
    count: u32,
    summary: String,
}

struct Models {
    left: AnyChatModel,
    right: AnyChatModel,
}

#[graph(
    state = Doc,
    context = Models,
    edges = [START -> plan -> [left, right], [left, right] -> merge -> END]
)]
mod fan {
    use super::*;

    #[node]
    async fn plan(_state: &Doc) -> DocUpdate {
        DocUpdate::default()
            .log(vec!["plan".to_owned()])
            .count(1u32)
    }

    #[node]
    async fn left(_state: &Doc, ctx: &Ctx) -> Result<DocUpdate, NodeError> {
        let answer = ctx
            .chat(&ctx.context().left)
            .invoke([Message::user("left")])
            .await?;
        Ok(DocUpdate::default()
            .log(vec![format!("left:{}", answer.content)])
            .count(1u32))
    }

    #[node]
    async fn right(_state: &Doc, ctx: &Ctx) -> Result<DocUpdate, NodeError> {
        let answer = ctx
            .chat(&ctx.context().right)
            .invoke([Message::user("right")])
            .await?;
        Ok(DocUpdate::default()
            .log(vec![format!("right:{}", answer.content)])
            .count(1u32))
    }

    #[node]
    async fn merge(state: &Doc) -> DocUpdate {
        DocUpdate::default()
            .summary(state.log.join(","))
            .count(1u32)
    }
}

fn models(left_delay_ms: u64, right_delay_ms: u64) -> Models {
    Models {
        left: AnyChatModel::new(
            ScriptedModel::new(["L1", "L2", "L3"]).with_delay(Duration::from_millis(left_delay_ms)),
        ),
        right: AnyChatModel::new(
            ScriptedModel::new(["R1", "R2", "R3", "R4"])
                .with_delay(Duration::from_millis(right_delay_ms)),
        ),
    }
}

#[tokio::test(start_paused = true)]
async fn tokens_of_parallel_nodes_interleave_as_produced_and_keep_their_node_and_step() {
    // Left yields at 10, 20, 30 ms; right at 7, 14, 21, 28 ms.
    let graph = fan::Graph::new(models(10, 7));
    let chunks: Vec<_> = graph
        .stream(Doc::default(), Messages)
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<(String, fan::Node, u64)> = chunks
        .iter()
        .map(|chunk| (chunk.content().to_owned(), chunk.node(), chunk.step()))
        .collect();
    use fan::Node::{Left, Right};
    let expected = [
        ("R1", Right),
        ("L1", Left),
        ("R2", Right),
        ("L2", Left),
        ("R3", Right),
        ("R4", Right),
        ("L3", Left),
    ];
    let expected: Vec<(String, fan::Node, u64)> = expected
        .iter()
        .map(|(text, node)| ((*text).to_owned(), *node, 2))
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test(start_paused = true)]
async fn fan_in_waits_for_both_branches_and_updates_merge_in_declaration_order() {
    // Right finishes first, yet left's write is merged first: declaration order, not timing.
    let graph = fan::Graph::new(models(50, 1));
    let state = graph.invoke(Doc::default()).await.unwrap();
    assert_eq!(state.log, ["plan", "left:L1L2L3", "right:R1R2R3R4"]);
    assert_eq!(state.summary, "plan,left:L1L2L3,right:R1R2R3R4");
    assert_eq!(state.count, 4, "the user reducer adds every node's count");
}

#[derive(Clone, Debug, Default, State)]
struct Loop {
    count: u32,
    limit: u32,
    #[reducer(append)]
    steps: Vec<u64>,
    route: String,
}

#[graph(state = Loop, custom = u64, edges = [START -> classify ? [short, long], short -> END, long -> bump, bump -> again ? [bump, END]])]
mod routed {
    use super::*;

    #[node]
    async fn short(_state: &Loop, ctx: &Ctx) -> LoopUpdate {
        ctx.write(ctx.step()).await;
        LoopUpdate::default().route("short").steps(vec![ctx.step()])
    }

    #[node]
    async fn long(_state: &Loop, ctx: &Ctx) -> LoopUpdate {
        ctx.write(ctx.step()).await;
        LoopUpdate::default().route("long").steps(vec![ctx.step()])
    }

    #[node]
    async fn bump(state: &Loop, ctx: &Ctx) -> LoopUpdate {
        ctx.write(ctx.step()).await;
        LoopUpdate::default()
            .count(state.count + 1)
            .steps(vec![ctx.step()])
    }

    #[router]
    fn classify(state: &Loop) -> Classify {
        if state.limit < 3 {
            Classify::Short
        } else {
            Classify::Long
        }
    }

    #[router]
    fn again(state: &Loop) -> Again {
        if state.count < state.limit {
            Again::Bump
        } else {
            Again::End
        }
    }
}

#[tokio::test]
async fn a_router_from_start_picks_the_first_node() {
    let state = routed::Graph::new()
        .invoke(Loop {
            limit: 1,
            ..Loop::default()
        })
        .await
        .unwrap();
    assert_eq!(state.route, "short");
    assert_eq!(state.steps, [1]);
}

#[tokio::test]
async fn a_routed_cycle_runs_until_its_router_says_end_with_steps_numbered_from_one() {
    let graph = routed::Graph::new();
    let steps: Vec<u64> = graph
        .stream(
            Loop {
                limit: 4,
                ..Loop::default()
            },
            Custom,
        )
        .map_ok(|item| *item.payload())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(steps, [1, 2, 3, 4, 5]);
    let state = graph
        .invoke(Loop {
            limit: 4,
            ..Loop::default()
        })
        .await
        .unwrap();
    assert_eq!((state.route.as_str(), state.count), ("long", 4));
}

#[tokio::test]
async fn a_cycle_past_the_recursion_limit_stops_with_a_clear_error() {
    let graph = routed::Graph::new();
    let mut stream = graph.stream_with(
        Loop {
            limit: 100,
            ..Loop::default()
        },
        Custom,
        RunConfig::default().recursion_limit(6),
    );
    let mut steps = Vec::new();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(item)) => steps.push(*item.payload()),
            Ok(None) => panic!("the run ended without hitting the limit"),
            Err(error) => break error,
        }
    };
    assert_eq!(steps, [1, 2, 3, 4, 5, 6], "every step within the limit ran");
    assert!(
        matches!(error, GraphError::RecursionLimit { limit: 6 }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("recursion limit of 6 steps reached without reaching `END`")
    );
    assert!(
        stream.try_next().await.unwrap().is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn the_default_recursion_limit_is_25() {
    let error = routed::Graph::new()
        .invoke(Loop {
            limit: 1000,
            ..Loop::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, GraphError::RecursionLimit { limit: 25 }),
        "{error:?}"
    );
}

#[derive(Clone, Debug, Default, State)]
struct Clash {
    summary: String,
}

#[graph(state = Clash, edges = [START -> [first, second], [first, second] -> END])]
mod clash {
    use super::*;

    #[node]
    async fn first(_state: &Clash) -> ClashUpdate {
        ClashUpdate::default().summary("one")
    }

    #[node]
    async fn second(_state: &Clash) -> ClashUpdate {
        ClashUpdate::default().summary("two")
    }
}

#[tokio::test]
async fn two_writes_to_a_plain_field_in_one_step_is_an_error_naming_both_nodes() {
    let error = clash::Graph::new()
        .invoke(Clash::default())
        .await
        .unwrap_err();
    match &error {
        GraphError::ConflictingUpdate { step, conflict } => {
            assert_eq!(*step, 1);
            assert_eq!(
                (conflict.field, conflict.first, conflict.second),
                ("summary", "first", "second")
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "step 1: nodes `first` and `second` both wrote `summary`; give the field a reducer \
         (`#[reducer(append)]` or `#[reducer(path::to::fn)]`) to combine writes"
    );
}
