use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

// Each malformed edge is reported on its own; the well-formed ones still count.
#[graph(state = Topic, edges = [
    START -> plan,
    plan -> -> answer,
    plan => answer,
    answer END,
    answer -> END,
])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn plan(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub async fn answer(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
