use stategraph::prelude::*;

#[derive(Clone, Default, State)]
pub struct Chat {
    pub turns: u32,
}

#[graph(state = Chat, edges = [START -> agent, tools -> answer -> END])]
pub mod agents {
    use super::*;

    #[node(goto = [tools, END])]
    pub async fn agent(_state: &Chat) -> Goto<ChatUpdate, AgentGoto> {
        // `answer` is a node of the graph, but not one `agent` declares it may go to.
        Goto::new(ChatUpdate::default(), AgentGoto::Answer)
    }

    #[node]
    pub async fn tools(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default()
    }

    #[node]
    pub async fn answer(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default()
    }
}

fn main() {}
