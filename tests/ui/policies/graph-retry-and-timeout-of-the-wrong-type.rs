use std::time::Duration;

use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Story {
    pub text: String,
}

// Reported once each, on the value, though two nodes inherit them.
#[graph(
    state = Story,
    retry = Duration::from_secs(3),
    timeout = Duration::from_secs(30).as_secs(),
    edges = [START -> write -> edit -> END]
)]
pub mod stories {
    use super::*;

    #[node]
    pub async fn write(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }

    #[node]
    pub async fn edit(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }
}

fn main() {}
