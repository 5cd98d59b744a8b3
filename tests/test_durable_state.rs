//! `#[derive(State)]` makes every state `Durable`: its fields as JSON and back, and an
//! update as the delta a checkpoint stores. Folding the delta into the stored state before
//! a step gives the stored state after it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use stategraph::checkpoint::{CheckpointError, Durable, StateDelta, fold};
use stategraph::{Message, State};

fn keep_larger(current: &mut u32, update: u32) {
    *current = (*current).max(update);
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Note {
    text: String,
}

/// Field names a generated local could shadow, every reducer, a raw identifier.
#[derive(Clone, Debug, Default, PartialEq, State)]
struct Agent {
    node: String,
    update: Option<u32>,
    step: i64,
    r#type: bool,
    #[reducer(append)]
    state: Vec<Note>,
    #[reducer(messages)]
    messages: Vec<Message>,
    #[reducer(keep_larger)]
    best: u32,
}

/// Not serializable: deriving `State` must still compile, since nothing stores it.
struct Opaque;

#[derive(Default, Clone, State)]
struct Ephemeral {
    #[allow(dead_code)]
    handle: Option<std::sync::Arc<OpaqueHolder>>,
}

#[derive(Default)]
struct OpaqueHolder(#[allow(dead_code)] Option<Opaque>);

fn with_id(message: Message, id: &str) -> Message {
    Message {
        id: Some(id.into()),
        ..message
    }
}

fn sample() -> Agent {
    Agent {
        node: "plan".into(),
        update: Some(3),
        step: 2,
        r#type: true,
        state: vec![Note { text: "a".into() }],
        messages: vec![with_id(Message::user("hi"), "m1")],
        best: 5,
    }
}

#[test]
fn a_state_round_trips_through_its_stored_fields() {
    let state = sample();
    let values = state.to_values().unwrap();
    assert_eq!(values["node"], json!("plan"));
    assert_eq!(
        values["type"],
        json!(true),
        "a raw identifier is stored by its name"
    );
    assert_eq!(values["state"], json!([{"text": "a"}]));
    assert_eq!(Agent::from_values(values).unwrap(), state);
}

#[test]
fn a_steps_updates_fold_into_the_stored_state_after_it() {
    let before = sample();
    let updates = vec![
        (
            "a",
            AgentUpdate::default()
                .node("act")
                .state(vec![Note { text: "b".into() }])
                .messages(vec![
                    with_id(Message::assistant("hello"), "m2"),
                    with_id(Message::user("hi again"), "m1"),
                ])
                .best(3u32),
        ),
        (
            "b",
            AgentUpdate::default()
                .state(vec![Note { text: "c".into() }])
                .best(9u32),
        ),
    ];
    let mut after = before.clone();
    after.merge(updates.clone()).unwrap();

    let mut delta = StateDelta::default();
    for (_, update) in &updates {
        delta.then(Agent::delta(update, &after).unwrap()).unwrap();
    }
    let stored = serde_json::to_value(&delta).unwrap();
    assert_eq!(stored["node"], json!({"set": "act"}));
    assert_eq!(
        stored["state"],
        json!({"append": [{"text": "b"}, {"text": "c"}]})
    );
    assert_eq!(
        stored["best"],
        json!({"set": 9}),
        "a user's reducer stores the merged value"
    );
    assert!(
        stored.get("step").is_none(),
        "an unchanged field is not stored"
    );

    let mut values = before.to_values().unwrap();
    fold(&mut values, &delta).unwrap();
    assert_eq!(Agent::from_values(values).unwrap(), after);
    assert_eq!(after.messages.len(), 2, "m1 was replaced, m2 added");
}

#[test]
fn another_shape_of_the_state_is_a_typed_error_naming_the_field() {
    let mut renamed = sample().to_values().unwrap();
    let value = renamed.remove("node").unwrap();
    renamed.insert("node_name".into(), value);
    match Agent::from_values(renamed) {
        Err(CheckpointError::StateShape { field, .. }) => assert_eq!(field, "node"),
        other => panic!("expected StateShape, got {other:?}"),
    }

    let mut retyped = sample().to_values().unwrap();
    retyped.insert("step".into(), json!("two"));
    match Agent::from_values(retyped) {
        Err(CheckpointError::StateShape { field, detail }) => {
            assert_eq!(field, "step");
            assert!(detail.contains("invalid type"), "{detail}");
        }
        other => panic!("expected StateShape, got {other:?}"),
    }

    let mut extra = sample().to_values().unwrap();
    extra.insert("removed_field".into(), json!(1));
    match Agent::from_values(extra) {
        Err(CheckpointError::StateShape { field, .. }) => assert_eq!(field, "removed_field"),
        other => panic!("expected StateShape, got {other:?}"),
    }
}

#[test]
fn a_state_that_is_never_stored_needs_no_serde() {
    let mut state = Ephemeral::default();
    state
        .merge(vec![("n", EphemeralUpdate::default())])
        .unwrap();
    assert!(state.handle.is_none());
}

#[test]
fn an_update_round_trips_with_only_the_fields_it_sets() {
    let update = AgentUpdate::default()
        .node("act")
        .state(vec![Note { text: "b".into() }]);
    let json = Agent::update_to_json(&update).unwrap();
    assert_eq!(
        serde_json::Value::Object(json.clone()),
        json!({"node": "act", "state": [{"text": "b"}]})
    );
    let back = Agent::update_from_json(json).unwrap();
    assert_eq!(back.node.as_deref(), Some("act"));
    assert!(back.step.is_none() && back.best.is_none());

    let mut wrong = serde_json::Map::new();
    wrong.insert("best".into(), json!("many"));
    match Agent::update_from_json(wrong) {
        Err(CheckpointError::StateShape { field, .. }) => assert_eq!(field, "best"),
        other => panic!("expected StateShape, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_line_of_checkpoints_reads_back_as_the_states_it_stored() {
    use stategraph::checkpoint::{
        CheckpointLine, Checkpointer, Due, SnapshotPolicy, Source, step_delta,
    };
    let store = stategraph_checkpoint::MemoryCheckpointer::new();
    let mut line = CheckpointLine::new("t", "", None).policy(SnapshotPolicy { max_rows: 4 });
    let mut state = sample();
    store
        .put(
            line.next(
                &state,
                StateDelta::default(),
                -1,
                Source::Input,
                Due {
                    nodes: vec!["a".into()],
                    frontier: serde_json::Value::Null,
                },
            )
            .unwrap(),
        )
        .await
        .unwrap();
    for step in 0..10 {
        let updates = vec![(
            "a",
            AgentUpdate::default()
                .step(step)
                .state(vec![Note {
                    text: format!("n{step}"),
                }])
                .best(step as u32),
        )];
        state.merge(updates.clone()).unwrap();
        let delta = step_delta(&updates, &state).unwrap();
        let checkpoint = line
            .next(
                &state,
                delta,
                step,
                Source::Loop,
                Due {
                    nodes: vec!["a".into()],
                    frontier: serde_json::Value::Null,
                },
            )
            .unwrap();
        assert_eq!(
            checkpoint.meta.versions["step"],
            step as u64 + 2,
            "input + each step"
        );
        assert_eq!(
            checkpoint.meta.versions["node"], 1,
            "set once, by the input"
        );
        store.put(checkpoint).await.unwrap();
        let read = store.get("t", "", None).await.unwrap().unwrap();
        assert_eq!(
            Agent::from_values(read.values).unwrap(),
            state,
            "after step {step}"
        );
    }
}
