// The facade under another name: `#[graph(crate = g)]` and `#[state(crate = g)]` start
// every generated path at `g`.
extern crate stategraph as g;

use futures::TryStreamExt as _;

/// The state.
#[derive(Clone, Default, g::State)]
#[state(crate = g)]
pub struct Topic {
    pub joke: String,
}

#[g::graph(crate = g, state = Topic, context = g::ScriptedModel, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::Topic;
    use super::TopicUpdate;

    /// The tags.
    #[tags]
    pub enum Tag {
        Joke,
    }

    #[node]
    pub async fn call_model(_state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, g::NodeError> {
        let joke = ctx
            .chat(ctx.context())
            .tag(Tag::Joke)
            .invoke([g::Message::user("a joke")])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content))
    }
}

#[tokio::main]
async fn main() {
    let graph = jokes::Graph::new(g::ScriptedModel::new(["Why", "?"]));
    let chunks: Vec<_> = graph
        .stream(Topic::default(), g::mode::Messages)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 2);
    assert!(chunks.iter().all(|chunk| chunk.has_tag(jokes::Tag::Joke)));
}
