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

    /// More calls.
    #[tags]
    pub enum MoreTags {
        Poem,
    }

    #[node]
    pub async fn call_model(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
