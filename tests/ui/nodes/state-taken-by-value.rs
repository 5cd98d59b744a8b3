use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn call_model(state: Topic) -> TopicUpdate {
        TopicUpdate::default().joke(state.joke)
    }
}

fn main() {}
