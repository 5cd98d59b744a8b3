//! A private graph module whose tag enum is `pub`, as people write it by habit.

use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
struct Topic {
    joke: String,
}

#[graph(state = Topic, context = ScriptedModel, edges = [START -> tell -> END])]
mod jokes {
    use super::*;

    #[tags]
    pub enum Tag {
        Joke,
    }

    #[node]
    pub async fn tell(_state: &Topic, ctx: &Ctx) -> Result<TopicUpdate, NodeError> {
        let joke = ctx
            .chat(ctx.context())
            .tag(Tag::Joke)
            .invoke([Message::user("joke")])
            .await?;
        Ok(TopicUpdate::default().joke(joke.content))
    }
}

fn main() {
    let graph = jokes::Graph::new(ScriptedModel::new(["ha"]));
    let _stream = graph.stream(Topic::default(), Messages);
    let _ = jokes::Tag::Joke;
}
