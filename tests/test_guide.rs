//! The guide's graph on the scripted model: its exact tokens, metadata, tags and custom
//! payloads.

use futures::TryStreamExt;
use stategraph::mode::{Custom, Messages};
use stategraph::{RunConfig, Uuid};
use stategraph_test_support::guide::{self, Topic, custom_joke_poem, joke_poem, scripted_models};

fn cats() -> Topic {
    Topic {
        topic: "cats".into(),
        ..Topic::default()
    }
}

#[tokio::test]
async fn messages_mode_yields_the_guides_exact_tokens_in_order() {
    let graph = joke_poem::Graph::new(scripted_models());
    let chunks: Vec<_> = graph.stream(cats(), Messages).try_collect().await.unwrap();
    let (joke, poem) = guide::guide_tokens();
    let contents: Vec<&str> = chunks.iter().map(|chunk| chunk.content()).collect();
    let expected: Vec<&str> = joke.iter().chain(&poem).map(String::as_str).collect();
    assert_eq!(contents, expected);
}

#[tokio::test]
async fn every_chunk_carries_the_guides_metadata() {
    let graph = joke_poem::Graph::new(scripted_models());
    let run_id = Uuid::from_u128(7);
    let chunks: Vec<_> = graph
        .stream_with(cats(), Messages, RunConfig::default().run_id(run_id))
        .try_collect()
        .await
        .unwrap();
    let last = chunks.last().unwrap();
    assert_eq!(last.node(), joke_poem::Node::CallModel);
    assert_eq!(last.step(), 1);
    let json = serde_json::to_value(last.metadata()).unwrap();
    let task_id = last.metadata().task().task_id();
    assert_eq!(
        json,
        serde_json::json!({
            "langgraph_step": 1,
            "langgraph_node": "call_model",
            "langgraph_triggers": ["branch:to:call_model"],
            "langgraph_path": ["__pregel_pull", "call_model"],
            "langgraph_checkpoint_ns": format!("call_model:{task_id}"),
            "checkpoint_ns": format!("call_model:{task_id}"),
            "ls_provider": "scripted",
            "ls_model_name": "gpt-4o-mini",
            "ls_model_type": "chat",
            "ls_temperature": 0.7,
            "tags": ["poem"],
        })
    );
}

#[tokio::test]
async fn filtering_by_tag_keeps_only_the_jokes_tokens() {
    let graph = joke_poem::Graph::new(scripted_models());
    let joke: Vec<String> = graph
        .stream(cats(), Messages)
        .try_filter(|chunk| futures::future::ready(chunk.has_tag(joke_poem::Tag::Joke)))
        .map_ok(|chunk| chunk.content().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(joke, guide::guide_tokens().0);
}

#[tokio::test]
async fn the_final_state_holds_both_answers() {
    let graph = joke_poem::Graph::new(scripted_models());
    let state = graph.invoke(cats()).await.unwrap();
    let (joke, poem) = guide::guide_tokens();
    assert_eq!(state.joke, joke.concat());
    assert_eq!(state.poem, poem.concat());
    assert_eq!(state.topic, "cats");
}

#[tokio::test]
async fn custom_mode_yields_every_delta_in_order_with_its_tag() {
    let graph = custom_joke_poem::Graph::new(scripted_models());
    let items: Vec<_> = graph.stream(cats(), Custom).try_collect().await.unwrap();
    let (joke, poem) = guide::guide_tokens();
    assert_eq!(items.len(), joke.len() + poem.len());
    for (item, token) in items.iter().zip(&joke) {
        assert_eq!(item.payload().content, *token);
        assert!(
            item.has_tag(custom_joke_poem::Tag::Joke) && !item.has_tag(custom_joke_poem::Tag::Poem)
        );
    }
    for (item, token) in items[joke.len()..].iter().zip(&poem) {
        assert_eq!(item.payload().content, *token);
        assert!(item.has_tag(custom_joke_poem::Tag::Poem));
    }
    assert_eq!(
        serde_json::to_value(&items[0]).unwrap(),
        serde_json::json!({"role": "assistant", "content": "Why"})
    );
}

#[tokio::test]
async fn a_chunk_serializes_as_langgraphs_message_and_metadata_pair() {
    let graph = joke_poem::Graph::new(scripted_models());
    let first = graph
        .stream(cats(), Messages)
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let json = serde_json::to_value(&first).unwrap();
    assert_eq!(json[0]["type"], "AIMessageChunk");
    assert_eq!(json[0]["content"], "Why");
    assert_eq!(json[0]["id"], first.id());
    assert_eq!(json[1]["langgraph_node"], "call_model");
    assert_eq!(json[1]["tags"], serde_json::json!(["joke"]));
}
