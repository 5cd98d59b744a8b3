use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Jobs {
    pub items: Vec<String>,
}

#[graph(state = Jobs, edges = [START -> plan -> fan_out ? [work, END], work -> END])]
pub mod jobs {
    use super::*;

    #[node]
    pub async fn plan(_state: &Jobs) -> JobsUpdate {
        JobsUpdate::default()
    }

    #[router]
    pub fn fan_out(state: &Jobs) -> Vec<FanOut> {
        state.items.iter().map(|_| FanOut::Work(state.clone())).collect()
    }

    #[node]
    pub async fn work(_state: &Jobs) -> JobsUpdate {
        JobsUpdate::default()
    }
}

fn main() {}
