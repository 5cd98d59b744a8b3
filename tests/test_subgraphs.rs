//! Subgraphs: a graph run from inside a node. With subgraph streaming on, the child's
//! tokens and custom payloads reach the parent's stream with their namespace; with it off,
//! none do; a node that streams a child itself still gets the child's tokens.

use futures::TryStreamExt;
use stategraph::prelude::*;
use stategraph::{StreamItem, V2};

#[derive(Clone, Debug, Default, State, serde::Serialize)]
#[state(derive(Serialize))]
pub struct Text {
    pub text: String,
}

/// The innermost graph: one model call, tagged, and a progress note.
#[graph(state = Text, context = ScriptedModel, custom = String, edges = [START -> tell -> END])]
pub mod inner {
    use super::*;

    /// The inner call.
    #[tags]
    pub enum Tag {
        /// The punchline.
        Punchline,
    }

    /// Writes a note, then asks the model.
    #[node]
    pub async fn tell(_state: &Text, ctx: &Ctx) -> Result<TextUpdate, NodeError> {
        ctx.write("thinking".to_owned()).await;
        let answer = ctx
            .chat(ctx.context())
            .tag(Tag::Punchline)
            .invoke([Message::user("go")])
            .await?;
        Ok(TextUpdate::default().text(answer.content))
    }
}

/// The middle graph: its node runs `inner` as a subgraph.
#[graph(state = Text, context = inner::Graph, custom = String, edges = [START -> relay -> END])]
pub mod middle {
    use super::*;

    /// The middle graph's tags.
    #[tags]
    pub enum Tag {
        /// The inner punchline, seen from here.
        Joke,
    }

    /// Runs the inner graph, mapping its tag and payloads.
    #[node]
    pub async fn relay(_state: &Text, ctx: &Ctx) -> Result<TextUpdate, NodeError> {
        let done = ctx
            .subgraph(ctx.context())
            .tags(|tag| match tag {
                inner::Tag::Punchline => Tag::Joke,
            })
            .custom(|note| format!("inner: {note}"))
            .invoke(Text::default())
            .await?;
        Ok(TextUpdate::default().text(done.text))
    }
}

/// The outer graph's child.
pub struct Children {
    middle: middle::Graph,
}

#[graph(state = Text, context = Children, custom = String, edges = [START -> delegate -> END])]
pub mod outer {
    use super::*;

    /// The outer graph's tags.
    #[tags]
    pub enum Tag {
        /// Any joke from below.
        Joke,
    }

    /// Runs the middle graph as a subgraph.
    #[node]
    pub async fn delegate(_state: &Text, ctx: &Ctx) -> Result<TextUpdate, NodeError> {
        let done = ctx
            .subgraph(&ctx.context().middle)
            .tags(|tag| match tag {
                middle::Tag::Joke => Tag::Joke,
            })
            .custom(|note| format!("middle: {note}"))
            .invoke(Text::default())
            .await?;
        Ok(TextUpdate::default().text(done.text))
    }
}

fn outer_graph() -> outer::Graph {
    let inner = inner::Graph::new(ScriptedModel::new(["Ha", "!"]));
    outer::Graph::new(Children {
        middle: middle::Graph::new(inner),
    })
}

#[tokio::test]
async fn with_subgraph_streaming_on_the_innermost_tokens_reach_the_root_with_two_namespace_segments()
 {
    let config = RunConfig::default().subgraphs(true);
    let mut stream = outer_graph().stream_with(Text::default(), Messages, config);
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.try_next().await.unwrap() {
        chunks.push(chunk);
    }
    assert_eq!(stream.into_state().text, "Ha!");
    let contents: Vec<&str> = chunks.iter().map(|c| c.content()).collect();
    assert_eq!(contents, ["Ha", "!"]);
    let chunk = &chunks[0];
    // Typed by the root's node that runs the subgraphs; named as the innermost node.
    assert_eq!(chunk.node(), outer::Node::Delegate);
    assert!(chunk.has_tag(outer::Tag::Joke), "the mapped tag");
    let task = chunk.metadata().task();
    assert_eq!(task.name(), "tell");
    assert!(task.is_nested());
    let namespace = task.namespace();
    assert_eq!(namespace.len(), 2, "{namespace:?}");
    assert!(namespace[0].starts_with("delegate:"), "{namespace:?}");
    assert!(namespace[1].starts_with("relay:"), "{namespace:?}");
    let json = serde_json::to_value(chunk.metadata()).unwrap();
    assert_eq!(json["langgraph_node"], "tell");
    assert_eq!(json["langgraph_step"], 1);
    assert_eq!(json["tags"], serde_json::json!(["joke"]));
    let checkpoint_ns = json["langgraph_checkpoint_ns"].as_str().unwrap();
    assert!(
        checkpoint_ns.starts_with(&format!("{}|{}|tell:", namespace[0], namespace[1])),
        "{checkpoint_ns}"
    );
    let v2 = serde_json::to_value(V2(chunk)).unwrap();
    assert_eq!(v2["ns"], serde_json::json!(namespace));
}

#[tokio::test]
async fn two_levels_down_checkpoint_ns_is_the_root_tasks_segment_and_langgraph_checkpoint_ns_the_whole_path()
 {
    let config = RunConfig::default().subgraphs(true);
    let items: Vec<_> = outer_graph()
        .stream_with(Text::default(), (Messages, Updates), config)
        .try_collect()
        .await
        .unwrap();
    let Some(StreamItem::Messages(chunk)) = items.first() else {
        panic!("the first item is the innermost call's first token");
    };
    let task = chunk.metadata().task();
    let [delegate, relay] = task.namespace() else {
        panic!("two levels down: {:?}", task.namespace());
    };
    let full = format!("{delegate}|{relay}|tell:{}", task.task_id());
    assert_eq!(task.checkpoint_ns(), full);
    assert_eq!(task.root_checkpoint_ns(), delegate);
    let json = serde_json::to_value(chunk.metadata()).unwrap();
    // LangGraph keeps the first `checkpoint_ns` a task's metadata gets: the root task's.
    assert_eq!(json["langgraph_checkpoint_ns"], full.as_str());
    assert_eq!(json["checkpoint_ns"], delegate.as_str(), "{json}");
    // At the root, both are the task's own namespace.
    let Some(StreamItem::Updates(update)) = items.last() else {
        panic!("the last item is the root's update");
    };
    let root = serde_json::to_value(update.metadata()).unwrap();
    assert_eq!(root["checkpoint_ns"], delegate.as_str());
    assert_eq!(root["langgraph_checkpoint_ns"], delegate.as_str());
    assert_eq!(update.metadata().root_checkpoint_ns(), delegate);
}

#[tokio::test]
async fn one_level_down_checkpoint_ns_is_the_parent_tasks_segment() {
    let graph = middle::Graph::new(inner::Graph::new(ScriptedModel::new(["Ha", "!"])));
    let config = RunConfig::default().subgraphs(true);
    let chunks: Vec<_> = graph
        .stream_with(Text::default(), Messages, config)
        .try_collect()
        .await
        .unwrap();
    let task = chunks[0].metadata().task();
    let [relay] = task.namespace() else {
        panic!("one level down: {:?}", task.namespace());
    };
    let json = serde_json::to_value(chunks[0].metadata()).unwrap();
    assert_eq!(json["checkpoint_ns"], relay.as_str(), "{json}");
    assert_eq!(
        json["langgraph_checkpoint_ns"],
        format!("{relay}|tell:{}", task.task_id())
    );
}

#[tokio::test]
async fn one_level_down_an_item_has_one_namespace_segment_and_the_root_has_none() {
    let graph = middle::Graph::new(inner::Graph::new(ScriptedModel::new(["Ha", "!"])));
    let config = RunConfig::default().subgraphs(true);
    let items: Vec<_> = graph
        .stream_with(Text::default(), (Messages, Updates), config)
        .try_collect()
        .await
        .unwrap();
    let namespaces: Vec<serde_json::Value> = items
        .iter()
        .map(|item| serde_json::to_value(item).unwrap()["ns"].clone())
        .collect();
    assert_eq!(namespaces.len(), 3, "two tokens, then the root's update");
    let child_ns = namespaces[0].as_array().unwrap();
    assert_eq!(child_ns.len(), 1);
    assert!(child_ns[0].as_str().unwrap().starts_with("relay:"));
    assert_eq!(
        namespaces[2],
        serde_json::json!([]),
        "the root's own update"
    );
}

#[tokio::test]
async fn with_subgraph_streaming_off_no_child_item_reaches_the_root() {
    let mut stream = outer_graph().stream(Text::default(), (Messages, Custom));
    let mut items = 0;
    while stream.try_next().await.unwrap().is_some() {
        items += 1;
    }
    assert_eq!(items, 0);
    assert_eq!(stream.into_state().text, "Ha!", "the subgraphs still ran");
}

#[tokio::test]
async fn custom_payloads_are_forwarded_through_each_levels_mapping() {
    let config = RunConfig::default().subgraphs(true);
    let items: Vec<_> = outer_graph()
        .stream_with(Text::default(), Custom, config)
        .try_collect()
        .await
        .unwrap();
    let payloads: Vec<&str> = items.iter().map(|item| item.payload().as_str()).collect();
    assert_eq!(payloads, ["middle: inner: thinking"]);
    assert_eq!(items[0].metadata().name(), "tell");
    assert_eq!(items[0].metadata().namespace().len(), 2);
}

/// A node that streams a child graph itself, instead of running it as a subgraph.
#[graph(state = Text, context = inner::Graph, edges = [START -> reader -> END])]
pub mod reading {
    use super::*;

    /// No tags of its own.
    #[tags]
    pub enum Tag {}

    /// Reads the child's tokens from the child's own stream.
    #[node]
    pub async fn reader(_state: &Text, ctx: &Ctx) -> Result<TextUpdate, NodeError> {
        let tokens: Vec<_> = ctx
            .context()
            .stream(Text::default(), Messages)
            .try_collect()
            .await?;
        let text: Vec<&str> = tokens.iter().map(|chunk| chunk.content()).collect();
        Ok(TextUpdate::default().text(text.join("|")))
    }
}

#[tokio::test]
async fn a_node_that_streams_a_child_itself_still_gets_its_tokens() {
    let graph = reading::Graph::new(inner::Graph::new(ScriptedModel::new(["Ha", "!"])));
    let config = RunConfig::default().subgraphs(true);
    let mut stream = graph.stream_with(Text::default(), Messages, config);
    while stream.try_next().await.unwrap().is_some() {}
    assert_eq!(stream.into_state().text, "Ha|!");
}
