//! A step's merge is all or nothing, and user code that runs while the run records or
//! merges updates (a reducer, a `Clone`) cannot panic through the stream: it becomes the
//! run's error, and the state is as it was before the step.

use std::sync::atomic::{AtomicBool, Ordering};

use futures::TryStreamExt;
use stategraph::GraphError;
use stategraph::mode::Updates;
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, State)]
struct Doc {
    title: String,
    summary: String,
    #[reducer(append)]
    log: Vec<String>,
}

/// `first` writes the title and the summary; `second` the log and the summary too, which
/// conflicts. `first` comes first in declaration order, so a merge applied node by node
/// would have written its fields before finding the conflict.
#[graph(state = Doc, edges = [START -> [first, second], [first, second] -> END])]
mod clash {
    use super::*;

    #[node]
    async fn first(_state: &Doc) -> DocUpdate {
        DocUpdate::default().title("new title").summary("one")
    }

    #[node]
    async fn second(_state: &Doc) -> DocUpdate {
        DocUpdate::default()
            .log(vec!["second ran".into()])
            .summary("two")
    }
}

fn original() -> Doc {
    Doc {
        title: "old title".into(),
        summary: "old".into(),
        log: vec!["input".into()],
    }
}

#[tokio::test]
async fn a_conflicting_step_writes_nothing_to_the_state() {
    let mut stream = clash::Graph::new().stream(original(), Updates);
    let error = loop {
        match stream.try_next().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("expected a conflict"),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(error, GraphError::ConflictingUpdate { step: 1, .. }),
        "{error:?}"
    );
    assert_eq!(
        stream.into_state(),
        original(),
        "no field of the step was written"
    );
}

static PANIC_IN_REDUCER: AtomicBool = AtomicBool::new(false);

/// A user reducer that panics when told to.
fn keep_longest(current: &mut String, update: String) {
    assert!(
        !PANIC_IN_REDUCER.load(Ordering::SeqCst),
        "the reducer refused `{update}`"
    );
    if update.len() > current.len() {
        *current = update;
    }
}

#[derive(Clone, Debug, Default, PartialEq, State)]
struct Notes {
    /// Written before the reducer field, so a merge in place would have written it.
    title: String,
    #[reducer(keep_longest)]
    longest: String,
}

#[graph(state = Notes, edges = [START -> write -> END])]
mod reducing {
    use super::*;

    #[node]
    async fn write(_state: &Notes) -> NotesUpdate {
        NotesUpdate::default()
            .title("written")
            .longest("a longer note")
    }
}

#[tokio::test]
async fn a_panicking_reducer_is_an_error_and_leaves_the_state_as_it_was() {
    PANIC_IN_REDUCER.store(true, Ordering::SeqCst);
    let input = Notes {
        title: "before".into(),
        longest: "short".into(),
    };
    let mut stream = reducing::Graph::new().stream(input.clone(), Updates);
    let mut error = None;
    while let Some(item) = stream.next().await {
        if let Err(failure) = item {
            error = Some(failure);
        }
    }
    PANIC_IN_REDUCER.store(false, Ordering::SeqCst);
    match error.expect("the panic became the run's error") {
        GraphError::MergePanicked { step, message } => {
            assert_eq!(step, 1);
            assert!(message.contains("the reducer refused"), "{message}");
        }
        other => panic!("expected MergePanicked, got {other:?}"),
    }
    assert_eq!(stream.into_state(), input);

    let state = reducing::Graph::new().invoke(input).await.unwrap();
    assert_eq!(state.title, "written", "without the panic the merge runs");
    assert_eq!(state.longest, "a longer note");
}

/// A field whose `Clone` panics once armed: updates mode clones each update it hands out.
#[derive(Debug, Default, PartialEq)]
struct Fragile(u32);

static PANIC_IN_CLONE: AtomicBool = AtomicBool::new(false);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(
            !PANIC_IN_CLONE.load(Ordering::SeqCst),
            "Fragile refused to clone"
        );
        Self(self.0)
    }
}

#[derive(Clone, Debug, Default, State)]
struct Holder {
    fragile: Fragile,
}

#[graph(state = Holder, edges = [START -> make -> END])]
mod cloning {
    use super::*;

    #[node]
    async fn make(_state: &Holder) -> HolderUpdate {
        PANIC_IN_CLONE.store(true, Ordering::SeqCst);
        HolderUpdate::default().fragile(Fragile(7))
    }
}

#[tokio::test]
async fn a_panicking_clone_of_an_update_is_the_nodes_error_not_a_panic_of_the_stream() {
    let mut stream = cloning::Graph::new().stream(Holder::default(), Updates);
    let outcome = stream.try_next().await;
    PANIC_IN_CLONE.store(false, Ordering::SeqCst);
    match outcome {
        Err(GraphError::NodePanicked {
            node,
            instance: None,
            step,
            message,
        }) => {
            assert_eq!((node, step), ("make", 1));
            assert!(message.contains("Fragile refused to clone"), "{message}");
        }
        Err(other) => panic!("expected the node's panic as an error, got {other:?}"),
        Ok(_) => panic!("expected the node's panic as an error, got an item"),
    }
    assert!(stream.try_next().await.unwrap().is_none(), "the run ended");
    assert_eq!(stream.into_state().fragile, Fragile(0));
}

/// Any Rust identifier is a field name, including the names the generated merge uses.
#[derive(Clone, Debug, Default, PartialEq, State)]
struct Awkward {
    node: u32,
    update: u32,
    updates: u32,
    step: u32,
    state: u32,
    first: u32,
    value: u32,
}

#[graph(state = Awkward, edges = [START -> set -> END])]
mod awkward {
    use super::*;

    #[node]
    async fn set(_state: &Awkward) -> AwkwardUpdate {
        AwkwardUpdate::default()
            .node(1u32)
            .update(2u32)
            .updates(3u32)
            .step(4u32)
            .state(5u32)
            .first(6u32)
            .value(7u32)
    }
}

#[tokio::test]
async fn fields_may_take_any_name() {
    let state = awkward::Graph::new()
        .invoke(Awkward::default())
        .await
        .unwrap();
    assert_eq!(
        state,
        Awkward {
            node: 1,
            update: 2,
            updates: 3,
            step: 4,
            state: 5,
            first: 6,
            value: 7,
        }
    );
}
