use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Story {
    pub text: String,
}

// Four mistakes, each reported on its value.
#[graph(state = Story, edges = [START -> [draft, write, edit, check], [draft, write, edit, check] -> END])]
pub mod stories {
    use super::*;

    #[node(retry = 0)]
    pub async fn draft(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }

    #[node(retry = "3")]
    pub async fn write(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }

    #[node(timeout = "30 parsecs")]
    pub async fn edit(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }

    #[node(timeout = 30)]
    pub async fn check(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }
}

fn main() {}
