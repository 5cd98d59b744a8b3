// A node `end` and `END` would both be the variant `Review::End` of the router's enum.
use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> write -> review ? [end, END], end -> END])]
pub mod drafts {
    use super::*;

    #[node]
    pub async fn write(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("draft")
    }

    #[node]
    pub async fn end(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default()
    }

    #[router]
    pub fn review(_state: &Draft) -> Review {
        Review::End
    }
}

fn main() {
    let _ = drafts::Graph::new();
}
