// `a_b` and `aB` are two fns, but both would be the variant `Node::AB`.
use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> a_b -> aB -> END])]
pub mod drafts {
    use super::*;

    #[node]
    pub async fn a_b(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("a")
    }

    #[node]
    #[allow(non_snake_case)]
    pub async fn aB(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("b")
    }
}

fn main() {
    let _ = drafts::Graph::new();
}
