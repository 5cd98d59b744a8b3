use std::time::Duration;

use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Story {
    pub text: String,
}

#[graph(state = Story, edges = [START -> write -> edit -> END])]
pub mod stories {
    use super::*;

    #[node(retry = Duration::from_secs(3))]
    pub async fn write(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }

    #[node(timeout = Duration::from_secs(30).as_secs())]
    pub async fn edit(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }
}

fn main() {}
