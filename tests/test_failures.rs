//! Failures end the stream with one error item, after everything produced before it.

use std::time::Duration;

use futures::TryStreamExt;
use stategraph::prelude::*;
use stategraph::{
    AnyChatModel, ChatChunk, ChatChunkStream, ChatRequest, GraphError, ModelIdentity, ScriptedError,
};

#[derive(Clone, Debug, Default, State)]
struct Note {
    text: String,
}

struct Models {
    failing: AnyChatModel,
    healthy: AnyChatModel,
}

#[graph(state = Note, context = Models, edges = [START -> [writer, breaker], [writer, breaker] -> END])]
mod failing {
    use super::*;

    /// Streams a long answer.
    #[node]
    async fn writer(_state: &Note, ctx: &Ctx) -> Result<NoteUpdate, NodeError> {
        ctx.chat(&ctx.context().healthy)
            .invoke([Message::user("go")])
            .await?;
        Ok(NoteUpdate::default())
    }

    /// Streams three tokens, then its model fails.
    #[node]
    async fn breaker(_state: &Note, ctx: &Ctx) -> Result<NoteUpdate, NodeError> {
        let answer = ctx
            .chat(&ctx.context().failing)
            .invoke([Message::user("go")])
            .await?;
        Ok(NoteUpdate::default().text(answer.content))
    }
}

async fn collect<T>(
    mut stream: impl futures::Stream<Item = Result<T, GraphError>> + Unpin,
) -> (Vec<T>, Option<GraphError>, bool) {
    let mut items = Vec::new();
    let mut error = None;
    while let Some(item) = stream.try_next().await.transpose() {
        match item {
            Ok(item) => items.push(item),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let ended = stream
        .try_next()
        .await
        .map(|next| next.is_none())
        .unwrap_or(false);
    (items, error, ended)
}

#[tokio::test(start_paused = true)]
async fn a_model_error_comes_after_every_chunk_before_it_and_cancels_the_parallel_node() {
    let models = Models {
        failing: AnyChatModel::new(
            ScriptedModel::new(["a", "b", "c", "d"])
                .with_delay(Duration::from_millis(10))
                .fail_after(3, "connection reset"),
        ),
        // 100 tokens at 4 ms: still running when the breaker fails at 40 ms.
        healthy: AnyChatModel::new(
            ScriptedModel::new((0..100).map(|i| format!("w{i}")))
                .with_delay(Duration::from_millis(4)),
        ),
    };
    let graph = failing::Graph::new(models);
    let (chunks, error, ended) = collect(graph.stream(Note::default(), Messages)).await;

    let from_breaker: Vec<&str> = chunks
        .iter()
        .filter(|chunk| chunk.node() == failing::Node::Breaker)
        .map(|chunk| chunk.content())
        .collect();
    assert_eq!(
        from_breaker,
        ["a", "b", "c"],
        "every chunk before the failure arrives"
    );
    let from_writer = chunks
        .iter()
        .filter(|chunk| chunk.node() == failing::Node::Writer)
        .count();
    // The failure is noticed at 40 ms; the writer had produced its 4, 8, .., 40 ms tokens.
    assert!(
        (9..=10).contains(&from_writer),
        "the writer was cancelled, not run to the end: {from_writer}"
    );

    let error = error.expect("an error item");
    match &error {
        GraphError::Node {
            node,
            instance,
            step,
            source,
        } => {
            assert_eq!((*node, *instance, *step), ("breaker", None, 1));
            assert!(
                source
                    .downcast_ref::<stategraph::ChatCallError<stategraph::AnyChatError>>()
                    .is_some(),
                "the call's error: {source:?}"
            );
            let scripted = error
                .model_error::<ScriptedError>()
                .expect("a scripted error behind the call's and `AnyChatModel`'s wrapping");
            assert_eq!(scripted.after, 3);
        }
        other => panic!("expected a node error, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "node `breaker` failed in step 1: scripted failure after 3 chunks: connection reset"
    );
    assert!(ended, "the stream ends after the error");
}

#[derive(Clone, Debug, Default, State)]
struct Count {
    n: u32,
}

#[graph(state = Count, custom = u32, edges = [START -> count -> explode -> END])]
mod panicking {
    use super::*;

    #[node]
    async fn count(_state: &Count, ctx: &Ctx) -> CountUpdate {
        for i in 0..3 {
            ctx.write(i).await;
        }
        CountUpdate::default().n(3u32)
    }

    #[node]
    async fn explode(state: &Count, ctx: &Ctx) -> CountUpdate {
        ctx.write(state.n).await;
        let divisor = state.n - 3;
        CountUpdate::default().n(state.n / divisor)
    }
}

#[tokio::test]
async fn a_panicking_node_becomes_an_error_item_after_its_writes() {
    let graph = panicking::Graph::new();
    let (items, error, ended) = collect(graph.stream(Count::default(), Custom)).await;
    let payloads: Vec<u32> = items.iter().map(|item| *item.payload()).collect();
    assert_eq!(payloads, [0, 1, 2, 3]);
    match error.expect("an error item") {
        GraphError::NodePanicked {
            node,
            instance,
            step,
            message,
        } => {
            assert_eq!((node, instance, step), ("explode", None, 2));
            assert!(message.contains("divide by zero"), "{message}");
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert!(ended);
}

/// Hands over `ready` chunks at once, then panics inside the stream.
struct PanicsMidAnswer {
    identity: ModelIdentity,
    ready: usize,
}

impl ChatModel for PanicsMidAnswer {
    type Error = std::convert::Infallible;

    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    fn stream(&self, _: ChatRequest) -> ChatChunkStream<Self::Error> {
        use futures::StreamExt;
        let tokens = (0..self.ready).map(|i| Ok(ChatChunk::text(i.to_string())));
        futures::stream::iter(tokens)
            .chain(futures::stream::poll_fn(|_| panic!("the model broke")))
            .boxed()
    }
}

#[graph(state = Note, context = PanicsMidAnswer, edges = [START -> call -> END])]
mod panicking_model {
    use super::*;

    #[node]
    async fn call(_state: &Note, ctx: &Ctx) -> Result<NoteUpdate, NodeError> {
        ctx.chat(ctx.context())
            .invoke([Message::user("go")])
            .await?;
        Ok(NoteUpdate::default())
    }
}

#[tokio::test]
async fn a_model_that_panics_mid_answer_loses_none_of_the_chunks_it_handed_over() {
    // The chunks come out of the model together, so they are written in one go: the
    // panic must not take the ones already read with it, whether they fill the buffer
    // or not.
    for ready in [0, 3, 8, 20] {
        let model = PanicsMidAnswer {
            identity: ModelIdentity::new("test", "panics"),
            ready,
        };
        let graph = panicking_model::Graph::new(model);
        let (items, error, ended) = collect(graph.stream(Note::default(), Messages)).await;
        let texts: Vec<&str> = items.iter().map(MessageChunk::content).collect();
        let expected: Vec<String> = (0..ready).map(|i| i.to_string()).collect();
        assert_eq!(texts, expected, "{ready} chunks before the panic");
        match error.expect("an error item") {
            GraphError::NodePanicked { node, message, .. } => {
                assert_eq!(node, "call");
                assert!(message.contains("the model broke"), "{message}");
            }
            other => panic!("expected a panic error, got {other:?}"),
        }
        assert!(ended);
    }
}

#[tokio::test]
async fn invoke_returns_the_first_error() {
    let error = panicking::Graph::new()
        .invoke(Count::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            GraphError::NodePanicked {
                node: "explode",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn debug_mode_closes_the_failing_task_and_its_cancelled_sibling() {
    use stategraph::TaskEventKind;
    let models = Models {
        failing: AnyChatModel::new(
            ScriptedModel::new(["a", "b"])
                .with_delay(Duration::from_millis(10))
                .fail_after(1, "connection reset"),
        ),
        healthy: AnyChatModel::new(
            ScriptedModel::new((0..100).map(|i| format!("w{i}")))
                .with_delay(Duration::from_millis(4)),
        ),
    };
    let graph = failing::Graph::new(models);
    let (events, error, ended) =
        collect(graph.stream(Note::default(), stategraph::mode::Tasks)).await;
    assert!(error.is_some() && ended);
    let summary: Vec<(failing::Node, String)> = events
        .iter()
        .map(|event| {
            let kind = match event.kind() {
                TaskEventKind::Started { .. } => "start".to_owned(),
                TaskEventKind::Finished { .. } => "result".to_owned(),
                TaskEventKind::Failed { error } => format!("failed: {error}"),
                TaskEventKind::AttemptFailed { error, .. } => format!("attempt failed: {error}"),
                TaskEventKind::Interrupted { interrupt } => format!("interrupted: {interrupt:?}"),
            };
            (event.node(), kind)
        })
        .collect();
    use failing::Node;
    assert_eq!(summary.len(), 4, "{summary:?}");
    assert_eq!(summary[0], (Node::Writer, "start".to_owned()));
    assert_eq!(summary[1], (Node::Breaker, "start".to_owned()));
    assert_eq!(summary[2].0, Node::Breaker);
    assert!(summary[2].1.contains("connection reset"), "{summary:?}");
    assert_eq!(
        summary[3],
        (
            Node::Writer,
            "failed: cancelled: another task of the step failed".to_owned()
        )
    );
}
