// The README's two matches on a `(Messages, Updates)` stream, as written there: one on an
// owned item, one on a borrowed item through `as_ref()`. Neither has an arm for the modes
// not asked for, nor a `_` arm.
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Topic {
    pub topic: String,
    pub joke: String,
}

#[graph(state = Topic, context = ScriptedModel, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::*;

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

#[tokio::main]
async fn main() -> Result<(), GraphError> {
    let graph = jokes::Graph::new(ScriptedModel::new(["Why", "?"]));

    let mut stream = graph.stream(Topic::default(), (Messages, Updates));
    while let Some(item) = stream.try_next().await? {
        match item {
            StreamItem::Messages(chunk) => print!("{}", chunk.content()),
            StreamItem::Updates(update) => println!("\n{:?} finished", update.node()),
        }
    }

    let items: Vec<_> = graph
        .stream(Topic::default(), (Messages, Updates))
        .try_collect()
        .await?;
    for item in &items {
        match item.as_ref() {
            StreamItemRef::Messages(chunk) => print!("{}", chunk.content()),
            StreamItemRef::Updates(update) => println!("\n{:?} finished", update.node()),
        }
    }
    assert_eq!(items.len(), 3, "two tokens and one update");
    Ok(())
}
