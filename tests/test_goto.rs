//! A node that picks where the run goes (LangGraph's `Command(update=.., goto=..)` returned
//! from a node): `#[node(goto = [..])]` generates the node's goto enum, the node returns a
//! `Goto` of its update and targets, the targets run in the next step, the docs draw the
//! edges, and a thread keeps a finished task's goto across an interrupt of its step.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use stategraph::checkpoint::Checkpointer;
use stategraph::mode::Updates;
use stategraph::prelude::*;
use stategraph::{Command, EdgeKind, Vertex};
use stategraph_checkpoint::MemoryCheckpointer;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, State)]
pub struct Chat {
    pub turns: u32,
    #[reducer(append)]
    pub log: Vec<String>,
}

#[graph(state = Chat, edges = [START -> agent, tools -> agent])]
pub mod agent_loop {
    use super::*;

    /// Calls the tools until it has taken two turns, then ends.
    #[node(goto = [tools, END])]
    pub async fn agent(state: &Chat) -> Goto<ChatUpdate, AgentGoto> {
        let update = ChatUpdate::default()
            .turns(state.turns + 1)
            .log(vec![format!("agent {}", state.turns)]);
        if state.turns < 2 {
            Goto::new(update, AgentGoto::Tools)
        } else {
            Goto::new(update, AgentGoto::End)
        }
    }

    /// Runs the tools.
    #[node]
    pub async fn tools(_state: &Chat) -> ChatUpdate {
        ChatUpdate::default().log(vec!["tools".to_owned()])
    }
}

#[tokio::test]
async fn a_node_goes_where_its_goto_says_until_it_goes_to_end() {
    let graph = agent_loop::Graph::new();
    let mut stream = graph.stream(Chat::default(), Updates);
    let mut nodes = Vec::new();
    while let Some(update) = stream.try_next().await.unwrap() {
        nodes.push(update.node());
    }
    use agent_loop::Node::{Agent, Tools};
    assert_eq!(nodes, [Agent, Tools, Agent, Tools, Agent]);
    let state = stream.into_state();
    assert_eq!(
        state.log,
        ["agent 0", "tools", "agent 1", "tools", "agent 2"]
    );
}

#[test]
fn the_description_and_the_diagram_draw_the_goto_edges() {
    let description = agent_loop::Graph::description();
    let gotos: Vec<(Vertex, Vertex)> = description
        .edges
        .iter()
        .filter(|edge| edge.kind == EdgeKind::Goto)
        .map(|edge| (edge.source, edge.target))
        .collect();
    assert_eq!(
        gotos,
        [
            (Vertex::Node("agent"), Vertex::Node("tools")),
            (Vertex::Node("agent"), Vertex::End),
        ]
    );
    assert!(
        description
            .edges
            .iter()
            .all(|edge| edge.kind != EdgeKind::Goto || edge.is_conditional())
    );
    let mermaid = agent_loop::Graph::mermaid();
    assert!(mermaid.contains("agent -. goto .-> tools"), "{mermaid}");
    assert_eq!(
        mermaid,
        description.mermaid(),
        "the docs and the description agree"
    );
}

/// Counts each node's runs.
#[derive(Debug, Default)]
pub struct Runs {
    agent: AtomicUsize,
    tools: AtomicUsize,
}

#[graph(
    state = Chat,
    context = Arc<Runs>,
    edges = [START -> [agent, ask], ask -> END, tools -> END]
)]
pub mod asking {
    use super::*;

    /// Finishes first, sending the run to `tools`.
    #[node(goto = [tools])]
    pub async fn agent(_state: &Chat, ctx: &Ctx) -> Goto<ChatUpdate, AgentGoto> {
        ctx.context().agent.fetch_add(1, Ordering::SeqCst);
        Goto::new(
            ChatUpdate::default().log(vec!["agent".to_owned()]),
            AgentGoto::Tools,
        )
    }

    /// Stops the step on a question.
    #[node]
    pub async fn ask(_state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let answer: String = ctx.interrupt("go on?").await?;
        Ok(ChatUpdate::default().log(vec![format!("ask {answer}")]))
    }

    /// Runs only because `agent`'s goto said so.
    #[node]
    pub async fn tools(_state: &Chat, ctx: &Ctx) -> ChatUpdate {
        ctx.context().tools.fetch_add(1, Ordering::SeqCst);
        ChatUpdate::default().log(vec!["tools".to_owned()])
    }
}

#[tokio::test]
async fn a_resumed_step_still_goes_where_its_finished_task_said() {
    let store: Arc<dyn Checkpointer> = Arc::new(MemoryCheckpointer::new());
    let runs = Arc::new(Runs::default());
    let graph = asking::Graph::new(Arc::clone(&runs));
    let thread = graph.thread(&store, "t");
    let mut stream = thread.stream(ChatUpdate::default(), Updates).await.unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    assert_eq!(stream.interrupted().map(<[_]>::len), Some(1));
    assert_eq!(runs.agent.load(Ordering::SeqCst), 1);
    assert_eq!(runs.tools.load(Ordering::SeqCst), 0);

    // A new graph on the same store: only what the thread stored carries the goto.
    let graph = asking::Graph::new(Arc::clone(&runs));
    let thread = graph.thread(&store, "t");
    let mut stream = thread
        .command(Command::resume("yes"), Updates)
        .await
        .unwrap();
    let mut nodes = Vec::new();
    while let Some(update) = stream.try_next().await.unwrap() {
        nodes.push(update.node());
    }
    use asking::Node::{Agent, Ask, Tools};
    assert_eq!(nodes, [Agent, Ask, Tools]);
    assert_eq!(
        runs.agent.load(Ordering::SeqCst),
        1,
        "agent did not run again"
    );
    assert_eq!(runs.tools.load(Ordering::SeqCst), 1);
    assert_eq!(stream.into_state().log, ["agent", "ask yes", "tools"]);
}
