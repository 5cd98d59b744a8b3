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

    pub struct NotAnError;

    #[router]
    pub async fn review(_state: &Draft, _ctx: &Ctx) -> Result<Review, NotAnError> {
        Ok(Review::End)
    }
}

fn main() {}
