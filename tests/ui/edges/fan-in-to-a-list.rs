use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> [a, b], [a, b] -> [c, END], c -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn a(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub async fn b(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub async fn c(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
