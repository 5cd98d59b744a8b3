// The tag enum cannot take the name of the generated node enum.
use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> write -> END])]
pub mod drafts {
    use super::*;

    #[tags]
    pub enum Node {
        Joke,
    }

    #[node]
    pub async fn write(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("draft")
    }
}

fn main() {
    let _ = drafts::Graph::new();
}
