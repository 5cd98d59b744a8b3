//! Messages a node returns in the state's conversation (`#[reducer(messages)]`) reach
//! messages mode once each; a message already streamed as chunks, one from a `nostream`
//! call, and the input's messages never do.

use futures::{StreamExt, TryStreamExt};
use stategraph::MessageBuilder;
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Chat {
    #[reducer(messages)]
    pub messages: Vec<Message>,
}

fn with_id(mut message: Message, id: &str) -> Message {
    message.id = Some(id.to_owned());
    message
}

#[graph(
    state = Chat,
    context = ScriptedModel,
    edges = [START -> answer -> hidden -> canned -> echo -> END]
)]
pub mod chat {
    use super::*;

    /// No tags: the test tells items apart by node.
    #[tags]
    pub enum Tag {}

    /// A streamed model call, returned into the conversation.
    #[node]
    pub async fn answer(_state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let message = ctx
            .chat(ctx.context())
            .invoke([Message::user("hi")])
            .await?;
        Ok(ChatUpdate::default().messages(vec![message]))
    }

    /// A `nostream` call, returned into the conversation.
    #[node]
    pub async fn hidden(_state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let message = ctx
            .chat(ctx.context())
            .nostream()
            .invoke([Message::user("think")])
            .await?;
        Ok(ChatUpdate::default().messages(vec![message]))
    }

    /// A message made by hand: never streamed, so emitted whole.
    #[node]
    pub async fn canned(_state: &Chat, _ctx: &Ctx) -> ChatUpdate {
        ChatUpdate::default().messages(vec![with_id(Message::assistant("canned"), "canned-1")])
    }

    /// Returns the input's message and the canned one again.
    #[node]
    pub async fn echo(state: &Chat, _ctx: &Ctx) -> ChatUpdate {
        let again = vec![state.messages[0].clone(), state.messages[3].clone()];
        ChatUpdate::default().messages(again)
    }
}

#[tokio::test]
async fn each_new_message_is_emitted_once_and_streamed_ones_not_again() {
    let graph = chat::Graph::new(ScriptedModel::new(["Hel", "lo"]));
    let input = Chat {
        messages: vec![with_id(Message::user("hi"), "input-1")],
    };
    let mut stream = graph.stream(input, Messages);
    let mut items = Vec::new();
    while let Some(item) = stream.try_next().await.unwrap() {
        items.push(item);
    }
    let seen: Vec<(chat::Node, &str, bool)> = items
        .iter()
        .map(|item| {
            (
                item.node(),
                item.content(),
                item.metadata().model().is_some(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (chat::Node::Answer, "Hel", true),
            (chat::Node::Answer, "lo", true),
            // The whole returned message, labelled with its node, with no model.
            (chat::Node::Canned, "canned", false),
        ]
    );
    // Chunks of one call share one id, and the message the call assembled carries it.
    assert_eq!(items[0].id(), items[1].id());
    let state = stream.into_state();
    assert_eq!(state.messages[1].id.as_deref(), Some(items[0].id()));
    assert_eq!(items[2].id(), "canned-1");
    assert_eq!(items[2].chunk().role, Some(stategraph::Role::Assistant));
    // The conversation: input, answer, hidden, canned; the echo replaced by id, not added.
    let texts: Vec<&str> = state.messages.iter().map(Message::text).collect();
    assert_eq!(texts, ["hi", "Hello", "Hello", "canned"]);
    let json = serde_json::to_value(&items[2]).unwrap();
    assert_eq!(json[0]["content"], "canned");
    assert_eq!(json[1]["langgraph_node"], "canned");
    assert!(json[1].get("ls_provider").is_none(), "no model: {json}");
}

#[tokio::test]
async fn a_returned_whole_message_is_its_own_last_chunk() {
    let graph = chat::Graph::new(ScriptedModel::new(["Hel", "lo"]));
    let input = Chat {
        messages: vec![with_id(Message::user("hi"), "input-1")],
    };
    let items: Vec<_> = graph.stream(input, Messages).try_collect().await.unwrap();
    let canned = items
        .iter()
        .find(|item| item.node() == chat::Node::Canned)
        .expect("the canned message is emitted");
    assert!(canned.chunk().finish_reason().is_none(), "made by hand");
    assert!(canned.is_last(), "the only item of its message is its last");
    assert!(!items[0].is_last(), "a call's first token is not");
}

#[test]
fn add_messages_replaces_by_id_and_appends_the_rest() {
    let mut conversation = vec![with_id(Message::user("a"), "1")];
    stategraph::reducer::add_messages(
        &mut conversation,
        vec![with_id(Message::user("a2"), "1"), Message::user("b")],
    );
    let texts: Vec<&str> = conversation.iter().map(Message::text).collect();
    assert_eq!(texts, ["a2", "b"]);
}

#[graph(state = Chat, context = ScriptedModel, edges = [START -> assemble -> END])]
pub mod assembling {
    use super::*;

    /// Reads its call's chunks itself and builds the message with a plain builder.
    #[node]
    pub async fn assemble(_state: &Chat, ctx: &Ctx) -> Result<ChatUpdate, NodeError> {
        let mut chunks = ctx.chat(ctx.context()).stream([Message::user("hi")]);
        let call_id = chunks.id().to_owned();
        let mut builder = MessageBuilder::default();
        while let Some(chunk) = chunks.next().await {
            builder.push(&chunk?);
        }
        let message = builder.finish();
        assert_eq!(message.id.as_deref(), Some(call_id.as_str()));
        Ok(ChatUpdate::default().messages(vec![message]))
    }
}

#[tokio::test]
async fn a_message_built_from_a_calls_chunks_carries_its_id_and_is_not_emitted_again() {
    let graph = assembling::Graph::new(ScriptedModel::new(["Hel", "lo"]));
    let mut stream = graph.stream(Chat::default(), Messages);
    let mut items = Vec::new();
    while let Some(item) = stream.try_next().await.unwrap() {
        items.push(item);
    }
    let contents: Vec<&str> = items.iter().map(|item| item.content()).collect();
    assert_eq!(
        contents,
        ["Hel", "lo"],
        "the streamed chunks only, not the whole again"
    );
    let state = stream.into_state();
    assert_eq!(state.messages.len(), 1);
    assert_eq!(state.messages[0].id.as_deref(), Some(items[0].id()));
    assert_eq!(state.messages[0].text(), "Hello");
    // The chunk in messages mode keeps LangChain's shape: its id comes from the metadata.
    let json = serde_json::to_value(&items[0]).unwrap();
    assert_eq!(json[0]["id"], items[0].id());
}
