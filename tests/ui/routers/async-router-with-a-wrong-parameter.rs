use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> write, write -> review ? [write, END]])]
pub mod drafts {
    use super::*;

    #[node]
    pub async fn write(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("draft")
    }

    #[router]
    pub async fn review(state: &Draft, model: &String) -> Review {
        if state.text.len() > model.len() {
            Review::End
        } else {
            Review::Write
        }
    }
}

fn main() {}
