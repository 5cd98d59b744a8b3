//! `write` tells a producer whether the run still listens, and the crate's names leave
//! `std`'s alone under glob imports.

use std::sync::Mutex;

use futures::TryStreamExt;
use stategraph::Writer;
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
struct Empty {
    done: bool,
}

/// What the node saw, and the writer it hands out to outlive it.
#[derive(Default)]
struct Outbox {
    listening_in_node: Mutex<Option<bool>>,
    writer: Mutex<Option<Writer<hand_out::Graph>>>,
}

#[graph(state = Empty, context = Outbox, custom = u32, edges = [START -> give -> END])]
mod hand_out {
    use super::*;

    /// Writes once, then hands a writer to the outside world.
    #[node]
    async fn give(_state: &Empty, ctx: &Ctx) -> EmptyUpdate {
        let listening = ctx.write(1).await;
        *ctx.context().listening_in_node.lock().unwrap() = Some(listening);
        *ctx.context().writer.lock().unwrap() = Some(ctx.writer());
        EmptyUpdate::default().done(true)
    }
}

fn handed_out_writer(graph: &hand_out::Graph) -> Writer<hand_out::Graph> {
    graph.context().writer.lock().unwrap().take().unwrap()
}

#[tokio::test]
async fn write_returns_true_while_the_run_goes_on_and_false_once_its_stream_is_dropped() {
    let graph = hand_out::Graph::new(Outbox::default());
    let mut stream = graph.stream(Empty::default(), Custom);
    assert_eq!(*stream.try_next().await.unwrap().unwrap().payload(), 1);
    assert_eq!(
        *graph.context().listening_in_node.lock().unwrap(),
        Some(true)
    );

    let writer = handed_out_writer(&graph);
    drop(stream);
    assert!(
        !writer.write(2).await,
        "the stream was dropped: nothing listens"
    );
}

#[tokio::test]
async fn write_returns_false_once_the_run_has_finished() {
    let graph = hand_out::Graph::new(Outbox::default());
    let stream = graph.stream(Empty::default(), Custom);
    let payloads: Vec<u32> = stream
        .map_ok(|chunk| *chunk.payload())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(payloads, [1]);
    assert!(!handed_out_writer(&graph).write(2).await);
}

#[tokio::test]
async fn write_returns_true_while_the_run_goes_on_even_when_custom_mode_is_not_streamed() {
    let graph = hand_out::Graph::new(Outbox::default());
    let state = graph.invoke(Empty::default()).await.unwrap();
    assert!(state.done);
    assert_eq!(
        *graph.context().listening_in_node.lock().unwrap(),
        Some(true)
    );
    assert!(!handed_out_writer(&graph).write(2).await, "the run is over");
}

/// `use stategraph::*; use std::fmt::*;` leaves `Debug` unambiguous: the crate exports no
/// `Debug` of its own (the tasks mode is `stategraph::mode::Tasks`). This module does not
/// compile if it did.
#[allow(unused_imports)]
mod glob_imports_leave_std_names_alone {
    use stategraph::*;
    use std::fmt::*;

    #[derive(Debug)]
    struct Shown;

    fn shown(value: &dyn Debug) -> String {
        format!("{value:?}")
    }

    #[test]
    fn debug_is_std_fmt_debug() {
        assert_eq!(shown(&Shown), "Shown");
        let _tasks = mode::Tasks;
    }
}
