use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Story {
    pub text: String,
}

// The graph's defaults are checked as a node's are: each mistake on its value.
#[graph(state = Story, retry = 0, timeout = "30 parsecs", edges = [START -> write -> END])]
pub mod stories {
    use super::*;

    #[node]
    pub async fn write(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }
}

fn main() {}
