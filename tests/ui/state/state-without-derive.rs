use stategraph::prelude::*;

#[derive(Clone, Default)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn call_model(_state: &Topic) -> Result<(), NodeError> {
        Ok(())
    }
}

fn main() {}
