// One mistake, one error: the misspelt node is reported once (not again as a node with no
// path to `END`), and the code that uses the graph's API still type-checks against stubs.
use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub topic: String,
    pub joke: String,
}

#[graph(state = Topic, context = ScriptedModel, edges = [START -> call_model, call_modle -> END])]
pub mod jokes {
    use super::*;

    /// The graph's model calls.
    #[tags]
    pub enum Tag {
        Joke,
    }

    #[node]
    pub async fn call_model(state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let joke = ctx
            .chat(ctx.context())
            .tag(Tag::Joke)
            .invoke([Message::user(format!("Write a joke about {}", state.topic))])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content))
    }
}

pub async fn run() -> Result<Topic, GraphError> {
    let graph = jokes::Graph::new(ScriptedModel::new(["Why"]));
    let mut stream = graph.stream(Topic::default(), Messages);
    while let Some(chunk) = stream.try_next().await? {
        if chunk.has_tag(jokes::Tag::Joke) && chunk.node() == jokes::Node::CallModel {
            print!("{}", chunk.content());
        }
    }
    println!("{}", jokes::Graph::mermaid());
    graph.invoke(Topic::default()).await
}

fn main() {}
