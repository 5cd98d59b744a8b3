use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> draft -> review -> draft])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn draft(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub async fn review(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
