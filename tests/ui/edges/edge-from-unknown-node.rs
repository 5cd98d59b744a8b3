use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> plan -> END, reserch -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn plan(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }

    #[node]
    pub async fn research(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
