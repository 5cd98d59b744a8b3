use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> call_model], edges = [call_model -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn call_model(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

fn main() {}
