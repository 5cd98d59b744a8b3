//! Dynamic fan-out (LangGraph's `Send`): a router returning a `Vec` starts one instance of a
//! node per item, each on its own input, in the next step; their updates merge through
//! the reducers, and their items carry LangGraph's push trigger and path.

use futures::TryStreamExt;
use stategraph::TaskPath;
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, State)]
pub struct Jokes {
    pub subjects: Vec<String>,
    pub subject: String,
    #[reducer(append)]
    pub jokes: Vec<String>,
}

#[graph(
    state = Jokes,
    context = ScriptedModel,
    edges = [START -> plan -> fan_out ? [joke], joke -> END]
)]
pub mod map_reduce {
    use super::*;

    /// The joke calls.
    #[tags]
    pub enum Tag {
        /// One instance's call.
        Joke,
    }

    /// Picks the subjects.
    #[node]
    pub async fn plan(_state: &Jokes, _ctx: &Ctx) -> JokesUpdate {
        JokesUpdate::default().subjects(vec![
            "cats".to_owned(),
            "dogs".to_owned(),
            "owls".to_owned(),
        ])
    }

    /// One instance per subject, each with its own input.
    #[router]
    pub fn fan_out(state: &Jokes) -> Vec<FanOut> {
        state
            .subjects
            .iter()
            .map(|subject| {
                FanOut::Joke(Jokes {
                    subject: subject.clone(),
                    ..Jokes::default()
                })
            })
            .collect()
    }

    /// Writes a joke about its own subject.
    #[node]
    pub async fn joke(state: &Jokes, ctx: &Ctx) -> Result<JokesUpdate, NodeError> {
        let answer = ctx
            .chat(ctx.context())
            .tag(Tag::Joke)
            .invoke([Message::user(format!("a joke about {}", state.subject))])
            .await?;
        Ok(JokesUpdate::default().jokes(vec![format!("{}: {}", state.subject, answer.content)]))
    }
}

fn graph() -> map_reduce::Graph {
    map_reduce::Graph::new(ScriptedModel::new(["ha", "!"]))
}

#[tokio::test]
async fn each_item_starts_an_instance_and_their_updates_merge_in_send_order() {
    let state = graph().invoke(Jokes::default()).await.unwrap();
    assert_eq!(state.jokes, ["cats: ha!", "dogs: ha!", "owls: ha!"]);
    // The instances' inputs were their own; the graph's state was not overwritten by them.
    assert_eq!(state.subject, "");
}

#[tokio::test]
async fn instances_items_carry_the_push_trigger_and_path() {
    let chunks: Vec<_> = graph()
        .stream(Jokes::default(), Messages)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 6, "two tokens from each of three instances");
    let mut paths = Vec::new();
    let mut task_ids = Vec::new();
    for chunk in &chunks {
        let task = chunk.metadata().task();
        assert_eq!(chunk.node(), map_reduce::Node::Joke);
        assert_eq!(chunk.step(), 2);
        assert_eq!(task.triggers(), ["__pregel_push"]);
        if !paths.contains(&task.path()) {
            paths.push(task.path());
            task_ids.push(task.task_id());
        }
    }
    assert_eq!(
        paths,
        [TaskPath::Push(0), TaskPath::Push(1), TaskPath::Push(2)]
    );
    task_ids.dedup();
    assert_eq!(task_ids.len(), 3, "each instance is its own task");
    let json = serde_json::to_value(chunks[0].metadata()).unwrap();
    assert_eq!(
        json["langgraph_path"],
        serde_json::json!(["__pregel_push", 0])
    );
    assert_eq!(
        json["langgraph_triggers"],
        serde_json::json!(["__pregel_push"])
    );
}

#[tokio::test]
async fn updates_mode_gives_one_update_per_instance() {
    let updates: Vec<_> = graph()
        .stream(Jokes::default(), Updates)
        .try_collect()
        .await
        .unwrap();
    let nodes: Vec<_> = updates.iter().map(|u| (u.step(), u.node())).collect();
    use map_reduce::Node;
    assert_eq!(
        nodes,
        [
            (1, Node::Plan),
            (2, Node::Joke),
            (2, Node::Joke),
            (2, Node::Joke)
        ]
    );
}
