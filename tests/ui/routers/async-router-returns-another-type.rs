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
    pub async fn review(state: &Draft, _ctx: &Ctx) -> Result<bool, NodeError> {
        Ok(state.text.is_empty())
    }
}

fn main() {}
