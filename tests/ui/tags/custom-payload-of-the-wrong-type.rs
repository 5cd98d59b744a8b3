use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Topic {
    pub topic: String,
}

/// The custom-mode payload.
pub struct Progress {
    pub percent: u8,
}

#[graph(state = Topic, custom = Progress, edges = [START -> call_model -> END])]
pub mod jokes {
    use super::*;

    #[node]
    pub async fn call_model(_state: &Topic, ctx: &Ctx) -> TopicUpdate {
        ctx.writer().write("half way").await;
        TopicUpdate::default()
    }
}

fn main() {}
