use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Chat {
    pub turns: u32,
}

#[graph(state = Chat, edges = [START -> agent -> tools -> END])]
pub mod agents {
    use super::*;

    // Two mistakes, both reported: an unknown option and a list without brackets.
    #[node(gotoo = [tools])]
    pub async fn agent(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default()
    }

    #[node(goto = tools)]
    pub async fn tools(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default()
    }
}

fn main() {}
