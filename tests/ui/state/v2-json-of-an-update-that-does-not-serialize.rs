use futures::TryStreamExt;
use serde::Serialize;
use stategraph::V2;
use stategraph::prelude::*;

// The state serializes, but its update was not asked to: `#[state(derive(Serialize))]` is
// missing.
#[derive(Clone, Default, Serialize, State)]
pub struct Topic {
    pub joke: String,
}

#[graph(state = Topic, edges = [START -> write -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn write(_state: &Topic) -> TopicUpdate {
        TopicUpdate::default()
    }
}

async fn print_updates() {
    let mut stream = jokes::Graph::new().stream(Topic::default(), Updates);
    while let Some(update) = stream.try_next().await.unwrap() {
        println!("{}", serde_json::to_string(&V2(&update)).unwrap());
    }
}

async fn print_parts() {
    let mut stream = jokes::Graph::new().stream(Topic::default(), (Updates, Messages));
    while let Some(item) = stream.try_next().await.unwrap() {
        println!("{}", serde_json::to_string(&item).unwrap());
    }
}

fn main() {
    let _ = (print_updates(), print_parts());
}
