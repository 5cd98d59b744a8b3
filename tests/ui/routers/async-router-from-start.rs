use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Draft {
    pub text: String,
}

#[graph(state = Draft, edges = [START -> review ? [write, END], write -> END])]
pub mod drafts {
    use super::*;

    #[node]
    pub async fn write(_state: &Draft) -> DraftUpdate {
        DraftUpdate::default().text("draft")
    }

    #[router]
    pub async fn review(_state: &Draft, _ctx: &Ctx) -> Review {
        Review::Write
    }
}

fn main() {}
