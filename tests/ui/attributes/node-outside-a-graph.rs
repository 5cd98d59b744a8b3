use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub joke: String,
}

#[stategraph::node]
pub async fn call_model(_state: &Topic) -> TopicUpdate {
    TopicUpdate::default()
}

fn main() {}
