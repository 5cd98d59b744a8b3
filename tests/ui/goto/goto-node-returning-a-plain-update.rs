use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Chat {
    pub turns: u32,
}

#[graph(state = Chat, edges = [START -> agent, tools -> agent])]
pub mod agents {
    use super::*;

    #[node(goto = [tools, END])]
    pub async fn agent(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default()
    }

    #[node]
    pub async fn tools(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default()
    }
}

fn main() {}
