use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub topic: String,
    pub joke: String,
}

#[graph(state = Topic, context = ScriptedModel, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::*;

    /// The graph's model calls.
    #[tags]
    pub enum Tag {
        Joke,
        Poem,
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

pub async fn jokes_only(graph: &jokes::Graph) -> Result<Vec<String>, GraphError> {
    let mut stream = graph.stream(Topic::default(), Messages);
    let mut tokens = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        if chunk.has_tag(jokes::Tag::Jokee) {
            tokens.push(chunk.content().to_owned());
        }
    }
    Ok(tokens)
}

fn main() {}
