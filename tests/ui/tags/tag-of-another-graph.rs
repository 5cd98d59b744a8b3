use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub topic: String,
}

#[graph(state = Topic, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::*;

    /// The graph's model calls.
    #[tags]
    pub enum Tag {
        Joke,
    }

    #[node]
    pub async fn call_model(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

#[graph(state = Topic, edges = [START -> call_model -> END])]
pub mod poems {
    use super::*;

    /// The graph's model calls.
    #[tags]
    pub enum Tag {
        Poem,
    }

    #[node]
    pub async fn call_model(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

pub async fn poems_tagged_joke(graph: &poems::Graph) -> Result<usize, GraphError> {
    let chunks: Vec<_> = graph
        .stream(Topic::default(), Messages)
        .try_collect()
        .await?;
    Ok(chunks
        .iter()
        .filter(|chunk| chunk.has_tag(jokes::Tag::Joke))
        .count())
}

fn main() {}
