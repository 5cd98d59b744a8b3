use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> write, write -> review ? [write]])]
pub mod drafts {
    use super::*;

    #[node]
    pub async fn write(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("draft")
    }

    #[router]
    pub async fn review(state: &Draft) -> Vec<Review> {
        vec![Review::Write(state.clone())]
    }
}

fn main() {}
