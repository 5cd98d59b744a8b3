// A router's enum is its name in PascalCase: a router `graph` would declare a second
// `Graph` next to the generated graph struct.
use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> write -> graph ? [write, END]])]
pub mod drafts {
    use super::*;

    #[node]
    pub async fn write(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("draft")
    }

    #[router]
    pub fn graph(state: &Draft) -> Graph {
        if state.text.is_empty() {
            Graph::Write
        } else {
            Graph::End
        }
    }
}

fn main() {
    let _ = drafts::Graph::new();
}
