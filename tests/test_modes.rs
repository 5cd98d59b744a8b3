//! Values, updates and tasks modes, several modes at once, and LangGraph's v2 JSON.

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use stategraph::prelude::*;
use stategraph::{StreamItem, StreamItemRef, V2};

#[derive(Clone, Debug, Default, PartialEq, State, Serialize, Deserialize)]
#[state(derive(Debug, PartialEq, Serialize))]
pub struct Doc {
    pub topic: String,
    pub joke: String,
    #[reducer(append)]
    pub notes: Vec<String>,
}

#[graph(
    state = Doc,
    context = ScriptedModel,
    custom = String,
    edges = [START -> joke -> [left, right], [left, right] -> idle, idle -> END]
)]
pub mod modes {
    use super::*;

    /// The model call's tag.
    #[tags]
    pub enum Tag {
        /// The joke.
        Joke,
    }

    /// Writes a progress note, then asks for a joke.
    #[node]
    pub async fn joke(state: &Doc, ctx: &Ctx) -> Result<DocUpdate, NodeError> {
        ctx.write(format!("joking about {}", state.topic)).await;
        let joke = ctx
            .chat(ctx.context())
            .tag(Tag::Joke)
            .invoke([Message::user("joke")])
            .await?;
        Ok(DocUpdate::default().joke(joke.content))
    }

    /// Notes "left".
    #[node]
    pub async fn left(_state: &Doc, _ctx: &Ctx) -> DocUpdate {
        DocUpdate::default().notes(vec!["left".to_owned()])
    }

    /// Notes "right".
    #[node]
    pub async fn right(_state: &Doc, _ctx: &Ctx) -> DocUpdate {
        DocUpdate::default().notes(vec!["right".to_owned()])
    }

    /// Changes nothing.
    #[node]
    pub async fn idle(_state: &Doc, _ctx: &Ctx) -> DocUpdate {
        DocUpdate::default()
    }
}

use modes::{Graph, Node};

fn graph() -> Graph {
    Graph::new(ScriptedModel::new(["Why", " cats"]))
}

fn cats() -> Doc {
    Doc {
        topic: "cats".into(),
        ..Doc::default()
    }
}

fn doc(joke: &str, notes: &[&str]) -> Doc {
    Doc {
        topic: "cats".into(),
        joke: joke.into(),
        notes: notes.iter().map(|note| (*note).to_owned()).collect(),
    }
}

#[tokio::test]
async fn values_mode_gives_the_input_then_the_state_after_each_step_that_wrote() {
    let states: Vec<Doc> = graph().stream(cats(), Values).try_collect().await.unwrap();
    assert_eq!(
        states,
        [
            cats(),
            doc("Why cats", &[]),
            // Declaration order, whatever order the two finished in.
            doc("Why cats", &["left", "right"]),
            // `idle` wrote nothing: no fourth state.
        ]
    );
}

#[tokio::test]
async fn updates_mode_gives_every_node_and_its_update_even_an_empty_one() {
    let updates: Vec<_> = graph().stream(cats(), Updates).try_collect().await.unwrap();
    let seen: Vec<(u64, Node, DocUpdate)> = updates
        .iter()
        .map(|item| (item.step(), item.node(), item.update().clone()))
        .collect();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[0],
        (1, Node::Joke, DocUpdate::default().joke("Why cats"))
    );
    let mut step_two: Vec<_> = seen[1..3].to_vec();
    step_two.sort_by_key(|(_, node, _)| *node as usize);
    assert_eq!(
        step_two,
        [
            (
                2,
                Node::Left,
                DocUpdate::default().notes(vec!["left".to_owned()])
            ),
            (
                2,
                Node::Right,
                DocUpdate::default().notes(vec!["right".to_owned()])
            ),
        ]
    );
    assert_eq!(seen[3], (3, Node::Idle, DocUpdate::default()));
}

#[tokio::test]
async fn debug_mode_gives_a_start_and_a_result_for_every_task() {
    use stategraph::TaskEventKind;
    let events: Vec<_> = graph()
        .stream(cats(), stategraph::mode::Tasks)
        .try_collect()
        .await
        .unwrap();
    let summary: Vec<(u64, Node, &str)> = events
        .iter()
        .map(|event| {
            let kind = match event.kind() {
                TaskEventKind::Started { .. } => "start",
                TaskEventKind::Finished { .. } => "result",
                TaskEventKind::Failed { .. } => "failed",
                TaskEventKind::AttemptFailed { .. } => "attempt failed",
                TaskEventKind::Interrupted { .. } => "interrupted",
            };
            (event.step(), event.node(), kind)
        })
        .collect();
    assert_eq!(summary.len(), 8, "{summary:?}");
    assert_eq!(summary[0], (1, Node::Joke, "start"));
    assert_eq!(summary[1], (1, Node::Joke, "result"));
    // Both of step 2 start before either finishes; then the join.
    assert_eq!(
        &summary[2..4],
        [(2, Node::Left, "start"), (2, Node::Right, "start")]
    );
    assert_eq!(summary[6], (3, Node::Idle, "start"));
    assert_eq!(summary[7], (3, Node::Idle, "result"));
    // A task's input is the state after the previous step.
    let TaskEventKind::Started { input } = events[2].kind() else {
        panic!("a start");
    };
    assert_eq!(input.state(), Some(&doc("Why cats", &[])));
    assert!(
        events
            .windows(2)
            .all(|w| w[0].timestamp() <= w[1].timestamp())
    );
}

#[tokio::test]
async fn several_modes_keep_the_order_things_happened_in() {
    let items: Vec<_> = graph()
        .stream(cats(), (Messages, Updates, Custom))
        .try_collect()
        .await
        .unwrap();
    // Values and Debug were not asked for: their arms can be left out, and the match is
    // still exhaustive.
    let seen: Vec<String> = items
        .into_iter()
        .map(|item| match item {
            StreamItem::Custom(note) => format!("custom {}", note.payload()),
            StreamItem::Messages(chunk) => format!("token {}", chunk.content()),
            StreamItem::Updates(update) => format!("update {:?}", update.node()),
        })
        .collect();
    assert_eq!(
        &seen[..4],
        [
            "custom joking about cats",
            "token Why",
            "token  cats",
            "update Joke",
        ]
    );
    let mut step_two = seen[4..6].to_vec();
    step_two.sort();
    assert_eq!(step_two, ["update Left", "update Right"]);
    assert_eq!(seen[6], "update Idle");
    assert_eq!(seen.len(), 7);
}

#[tokio::test]
async fn every_item_serializes_as_langgraphs_v2_stream_part() {
    let items: Vec<_> = graph()
        .stream(cats(), (Values, Updates, Messages, Custom))
        .try_collect()
        .await
        .unwrap();
    let json: Vec<serde_json::Value> = items
        .iter()
        .map(|item| serde_json::to_value(item).unwrap())
        .collect();
    assert_eq!(
        json[0],
        serde_json::json!({"type": "values", "ns": [], "data": {"topic": "cats", "joke": "", "notes": []}})
    );
    assert_eq!(
        json[1],
        serde_json::json!({"type": "custom", "ns": [], "data": "joking about cats"})
    );
    assert_eq!(json[2]["type"], "messages");
    assert_eq!(json[2]["ns"], serde_json::json!([]));
    assert_eq!(json[2]["data"][0]["content"], "Why");
    assert_eq!(json[2]["data"][0]["type"], "AIMessageChunk");
    assert_eq!(json[2]["data"][1]["langgraph_node"], "joke");
    assert_eq!(json[2]["data"][1]["tags"], serde_json::json!(["joke"]));
    // Unset fields of an update are left out, as LangGraph's updates carry only what was
    // written.
    assert_eq!(
        json[4],
        serde_json::json!({"type": "updates", "ns": [], "data": {"joke": {"joke": "Why cats"}}})
    );
    assert_eq!(
        json[5],
        serde_json::json!({"type": "values", "ns": [], "data": {"topic": "cats", "joke": "Why cats", "notes": []}})
    );
    assert_eq!(
        json.last().unwrap(),
        &serde_json::json!({"type": "updates", "ns": [], "data": {"idle": {}}})
    );
}

#[tokio::test]
async fn a_values_item_serializes_in_the_v2_shape_through_v2() {
    let states: Vec<Doc> = graph().stream(cats(), Values).try_collect().await.unwrap();
    assert_eq!(
        serde_json::to_value(V2(&states[0])).unwrap(),
        serde_json::json!({"type": "values", "ns": [], "data": {"topic": "cats", "joke": "", "notes": []}})
    );
}

#[tokio::test]
async fn a_single_mode_item_serializes_in_the_v2_shape_through_v2() {
    let events: Vec<_> = graph()
        .stream(cats(), stategraph::mode::Tasks)
        .try_collect()
        .await
        .unwrap();
    let start = serde_json::to_value(V2(&events[0])).unwrap();
    assert_eq!(start["type"], "debug");
    assert_eq!(start["ns"], serde_json::json!([]));
    let data = &start["data"];
    assert_eq!(data["type"], "task");
    assert_eq!(data["step"], 1);
    assert!(data["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data["payload"]["name"], "joke");
    assert_eq!(
        data["payload"]["triggers"],
        serde_json::json!(["branch:to:joke"])
    );
    assert_eq!(data["payload"]["input"]["topic"], "cats");
    assert_eq!(
        data["payload"]["id"],
        events[0].metadata().task_id().to_string()
    );
    let result = serde_json::to_value(V2(&events[1])).unwrap();
    assert_eq!(result["data"]["type"], "task_result");
    assert_eq!(result["data"]["payload"]["error"], serde_json::Value::Null);
    assert_eq!(
        result["data"]["payload"]["result"],
        serde_json::json!({"joke": "Why cats"})
    );
}

#[tokio::test]
async fn a_failing_task_has_a_result_with_its_error_before_the_stream_error() {
    let model = ScriptedModel::new(["Why", " cats"]).fail_after(1, "overloaded");
    let mut stream = Graph::new(model).stream(cats(), stategraph::mode::Tasks);
    let mut events = Vec::new();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(event)) => events.push(event),
            Ok(None) => panic!("the run must fail"),
            Err(error) => break error,
        }
    };
    assert_eq!(events.len(), 2);
    let stategraph::TaskEventKind::Failed { error: message } = events[1].kind() else {
        panic!("a failed result: {:?}", events[1]);
    };
    assert!(message.contains("overloaded"), "{message}");
    assert!(error.to_string().contains("`joke`"), "{error}");
}

#[tokio::test]
async fn a_borrowed_item_is_matched_through_as_ref_without_arms_for_the_modes_off() {
    let items: Vec<_> = graph()
        .stream(cats(), (Messages, Updates, Custom))
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<String> = items
        .iter()
        .map(|item| match item.as_ref() {
            StreamItemRef::Custom(note) => format!("custom {}", note.payload()),
            StreamItemRef::Messages(chunk) => format!("token {}", chunk.content()),
            StreamItemRef::Updates(update) => format!("update {:?}", update.node()),
        })
        .collect();
    assert_eq!(
        &seen[..4],
        [
            "custom joking about cats",
            "token Why",
            "token  cats",
            "update Joke",
        ]
    );
    assert!(items.iter().all(|item| item.as_ref().mode() == item.mode()));
}

#[tokio::test]
async fn a_one_mode_tuple_streams_stream_items_and_they_debug_print_their_payload() {
    let items: Vec<_> = graph()
        .stream(cats(), (Values,))
        .try_collect()
        .await
        .unwrap();
    let states: Vec<Doc> = items
        .into_iter()
        .map(|item| match item {
            StreamItem::Values(state) => state,
        })
        .collect();
    assert_eq!(states.len(), 3);
    let item: StreamItem<modes::Graph, (Values, Updates)> = StreamItem::Values(cats());
    assert!(format!("{item:?}").starts_with("Values(Doc { topic: \"cats\""));
}
