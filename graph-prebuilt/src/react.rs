//! The prebuilt ReAct agent: a model that calls tools until it can answer.

use stategraph_core::{AnyChatModel, ChatModel, Message};
use stategraph_macros::graph;

use crate::messages_state::MessagesState;
use crate::tool_node::ToolNode;

/// What the ReAct graph runs with: the model, the tools, and an optional system prompt put
/// before the conversation on every model call.
#[derive(Clone, Debug)]
pub struct ReactAgent {
    /// The model, which is offered the tools on every call.
    pub model: AnyChatModel,
    /// The tools, and how their errors are answered.
    pub tools: ToolNode,
    /// Sent first on every call, not kept in the state.
    pub system_prompt: Option<String>,
}

impl ReactAgent {
    /// An agent of `model` with `tools`.
    pub fn new(model: impl ChatModel + 'static, tools: ToolNode) -> Self {
        Self {
            model: AnyChatModel::new(model),
            tools,
            system_prompt: None,
        }
    }

    /// Sends `prompt` first on every model call.
    #[must_use]
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(prompt.into());
        self
    }
}

/// A ReAct agent as a graph, LangGraph's `create_react_agent`: `agent` calls the model
/// with the tools; while its answer calls tools, `tools` runs them and the model is called
/// again with their results.
///
/// Build it with [`create_react_agent`] or `react_agent::Graph::new(ReactAgent::new(..))`;
/// stream it with any mode, or run it from a node as a subgraph.
#[graph(
    state = MessagesState,
    context = ReactAgent,
    edges = [START -> agent -> route ? [tools, END], tools -> agent],
    crate = crate::runtime,
)]
pub mod react_agent {
    use super::*;
    use crate::condition::tools_condition;
    use crate::messages_state::MessagesStateUpdate;
    use stategraph_core::NodeError;

    /// Calls the model with the conversation and the tools.
    #[node]
    pub async fn agent(state: &MessagesState, ctx: &Ctx) -> Result<MessagesStateUpdate, NodeError> {
        let agent = ctx.context();
        let system = agent.system_prompt.iter().map(Message::system);
        let messages: Vec<Message> = system.chain(state.messages.iter().cloned()).collect();
        let answer = ctx
            .chat(&agent.model)
            .tools(agent.tools.definitions())
            .invoke(messages)
            .await?;
        Ok(MessagesStateUpdate::default().messages(vec![answer]))
    }

    /// Runs the tool calls of the model's answer.
    #[node]
    pub async fn tools(state: &MessagesState, ctx: &Ctx) -> Result<MessagesStateUpdate, NodeError> {
        let answers = ctx.context().tools.run(&state.messages).await?;
        Ok(MessagesStateUpdate::default().messages(answers))
    }

    /// To the tools while the model calls them, else to `END`.
    #[router]
    pub fn route(state: &MessagesState) -> Route {
        tools_condition(&state.messages, Route::Tools, Route::End)
    }
}

/// A ReAct agent of `model` with `tools`, in one expression:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use stategraph_core::Message;
/// use stategraph_prebuilt::{FakeChatModel, MessagesState, Reply, ToolNode, create_react_agent};
///
/// let model = FakeChatModel::new([Reply::text("Hello!")]);
/// let agent = create_react_agent(model, ToolNode::new());
/// let done = agent.invoke(MessagesState::new([Message::user("Hi")])).await.unwrap();
/// assert_eq!(done.messages[1].content, "Hello!");
/// # });
/// ```
pub fn create_react_agent(model: impl ChatModel + 'static, tools: ToolNode) -> react_agent::Graph {
    react_agent::Graph::new(ReactAgent::new(model, tools))
}
