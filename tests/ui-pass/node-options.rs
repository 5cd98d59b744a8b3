//! Every `#[node]` option at once: `goto`, `retry` as a count and as a policy, `timeout` as
//! a string and as a `Duration`.

use std::time::Duration;

use stategraph::prelude::*;
use stategraph::RetryPolicy;

#[derive(Clone, Default, State)]
pub struct Story {
    pub text: String,
}

#[graph(state = Story, edges = [START -> write, edit -> END])]
pub mod stories {
    use super::*;

    #[node(goto = [edit, END], retry = 3, timeout = "1m 30s")]
    pub async fn write(_state: &Story) -> Result<Goto<StoryUpdate, WriteGoto>, NodeError> {
        Ok(Goto::new(StoryUpdate::default(), WriteGoto::Edit))
    }

    #[node(retry = RetryPolicy::new(2).jitter(false), timeout = Duration::from_millis(500))]
    pub async fn edit(_state: &Story) -> StoryUpdate {
        StoryUpdate::default()
    }
}

fn main() {}
