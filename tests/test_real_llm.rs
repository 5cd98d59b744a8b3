//! The guide's graph on a real OpenAI-compatible server with a real model (llama.cpp's
//! `llama-server` with SmolLM2-135M-Instruct, which `scripts/test` builds, starts and
//! names in `REAL_LLM_BASE_URL`).

use futures::StreamExt;
use stategraph::mode::{Custom, Messages};
use stategraph::prebuilt::{MessagesState, MessagesStateUpdate, ToolNode};
use stategraph::prelude::*;
use stategraph::{FinishReason, Role, ToolCall, ToolChoice, ToolStatus};
use stategraph_openai::{ChatOpenAI, OpenAiClient};
use stategraph_test_support::guide::{Topic, custom_joke_poem, joke_poem, openai_models};

fn server_model() -> ChatOpenAI {
    let base_url = std::env::var("REAL_LLM_BASE_URL").expect(
        "REAL_LLM_BASE_URL is unset: run scripts/test, which starts the local model server",
    );
    let client = OpenAiClient::builder().base_url(base_url).build().unwrap();
    ChatOpenAI::new(client, "smollm2-135m")
}

fn cats() -> Topic {
    Topic {
        topic: "cats".into(),
        ..Topic::default()
    }
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn the_guides_graph_streams_both_tagged_calls_from_a_real_model() {
    let graph = joke_poem::Graph::new(openai_models(server_model()));
    let mut stream = graph.stream(cats(), Messages);
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.expect("no error from a healthy server"));
    }
    let state = stream.into_state();

    use joke_poem::Tag;
    let (joke, poem): (Vec<_>, Vec<_>) = chunks.iter().partition(|c| c.has_tag(Tag::Joke));
    assert!(
        joke.len() > 3 && poem.len() > 3,
        "{} joke and {} poem chunks",
        joke.len(),
        poem.len()
    );
    // The node makes the joke call, then the poem call: no chunk of one inside the other.
    let first_poem = chunks.iter().position(|c| c.has_tag(Tag::Poem)).unwrap();
    assert!(
        chunks[first_poem..]
            .iter()
            .all(|c| c.has_tag(Tag::Poem) && !c.has_tag(Tag::Joke))
    );
    for chunk in &chunks {
        assert_eq!(chunk.node(), joke_poem::Node::CallModel);
        assert_eq!(chunk.step(), 1);
        let model = chunk.metadata().model().expect("a model call's chunk");
        assert_eq!(model.provider, "openai");
        assert_eq!(model.model_name, "smollm2-135m");
        assert_eq!(model.model_type, "chat");
        assert_eq!(model.temperature, Some(0.7));
    }
    // Each call's chunks share its id, and the joined chunks are the final answer.
    for (call, answer) in [(&joke, &state.joke), (&poem, &state.poem)] {
        assert!(call.iter().all(|c| c.id() == call[0].id()));
        let joined: String = call.iter().map(|c| c.content()).collect();
        assert_eq!(&joined, answer);
        assert!(!answer.trim().is_empty());
        let usage = call
            .last()
            .unwrap()
            .chunk()
            .usage()
            .expect("the last chunk carries the usage");
        assert!(usage.completion_tokens > 0);
        assert!(call.last().unwrap().is_last());
    }
    let json = serde_json::to_value(chunks.last().unwrap().metadata()).unwrap();
    assert_eq!(json["ls_provider"], "openai");
    assert_eq!(json["tags"], serde_json::json!(["poem"]));
}

#[tokio::test]
#[ignore = "needs the local model server: run scripts/test"]
async fn custom_mode_forwards_the_raw_clients_deltas_through_the_writer() {
    let graph = custom_joke_poem::Graph::new(openai_models(server_model()));
    let mut stream = graph.stream(cats(), Custom);
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item.expect("no error from a healthy server"));
    }
    let state = stream.into_state();

    use custom_joke_poem::Tag;
    let joke: String = items
        .iter()
        .filter(|i| i.has_tag(Tag::Joke))
        .map(|i| i.payload().content.as_str())
        .collect();
    let poem: String = items
        .iter()
        .filter(|i| i.has_tag(Tag::Poem))
        .map(|i| i.payload().content.as_str())
        .collect();
    assert!(items.len() > 6, "{} deltas", items.len());
    assert!(
        items
            .iter()
            .all(|i| i.payload().role == "assistant" && !i.payload().content.is_empty())
    );
    assert!(
        items
            .iter()
            .all(|i| i.node() == custom_joke_poem::Node::CallModel && i.step() == 1)
    );
    assert_eq!(joke, state.joke);
    assert_eq!(poem, state.poem);
    let first_poem = items.iter().position(|i| i.has_tag(Tag::Poem)).unwrap();
    assert!(items[..first_poem].iter().all(|i| i.has_tag(Tag::Joke)));
}

/// Gets the current weather in a city.
///
/// # Arguments
/// * `city` - The city's name
#[stategraph::tool]
async fn get_weather(city: String) -> String {
    format!("Sunny, 18 degrees Celsius in {city}")
}

/// The real model and the tool node.
pub struct Agent {
    model: ChatOpenAI,
    tools: ToolNode,
}

/// The model calls the tool, the tool node runs it, and the model answers with the tool's
/// message in its history (not offered a second call, so the tiny model cannot loop).
#[graph(
    state = MessagesState,
    context = Agent,
    edges = [START -> call_tool -> tools -> answer -> END],
)]
pub mod weather_agent {
    use super::*;

    /// Asks the model, offering the tool.
    #[node]
    pub async fn call_tool(
        state: &MessagesState,
        ctx: &Ctx,
    ) -> Result<MessagesStateUpdate, NodeError> {
        let agent = ctx.context();
        let answer = ctx
            .chat(&agent.model)
            .tools(agent.tools.definitions())
            .tool_choice(ToolChoice::Auto)
            .invoke(state.messages.clone())
            .await?;
        Ok(MessagesStateUpdate::default().messages(vec![answer]))
    }

    /// Runs the tool calls.
    #[node]
    pub async fn tools(state: &MessagesState, ctx: &Ctx) -> Result<MessagesStateUpdate, NodeError> {
        let answers = ctx.context().tools.run(&state.messages).await?;
        Ok(MessagesStateUpdate::default().messages(answers))
    }

    /// Asks the model again, with the tool's answer in the history.
    #[node]
    pub async fn answer(
        state: &MessagesState,
        ctx: &Ctx,
    ) -> Result<MessagesStateUpdate, NodeError> {
        let agent = ctx.context();
        let answer = ctx
            .chat(&agent.model)
            .tools(agent.tools.definitions())
            .tool_choice(ToolChoice::None)
            .invoke(state.messages.clone())
            .await?;
        Ok(MessagesStateUpdate::default().messages(vec![answer]))
    }
}

#[tokio::test]
#[ignore = "needs llama-server: run scripts/test"]
async fn a_real_model_calls_a_tool_the_tool_node_runs_it_and_the_model_answers() {
    let model = server_model().temperature(0.0).seed(42).max_tokens(64);
    let graph = weather_agent::Graph::new(Agent {
        model,
        tools: ToolNode::new().tool(GetWeather),
    });
    // The 135M model calls tools reliably only after one example call in the history.
    let history = [
        Message::system("You are a helpful assistant with tools."),
        Message::user("What is the weather in London?"),
        Message::assistant_tool_calls([ToolCall {
            id: "call_example".into(),
            name: "get_weather".into(),
            arguments: r#"{"city": "London"}"#.into(),
        }]),
        Message::user("What is the weather in Paris?"),
    ];
    let done = graph
        .invoke(MessagesState::new(history))
        .await
        .expect("no error from a healthy server");
    let new = &done.messages[4..];
    let roles: Vec<Role> = new.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::Assistant, Role::Tool, Role::Assistant],
        "{new:?}"
    );
    let [call] = new[0].tool_calls.as_slice() else {
        panic!("one call: {:?}", new[0]);
    };
    assert_eq!(call.name, "get_weather");
    assert_eq!(new[0].finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(new[1].tool_call_id.as_deref(), Some(call.id.as_str()));
    assert_eq!(new[1].status, Some(ToolStatus::Success), "{:?}", new[1]);
    assert!(new[1].content.starts_with("Sunny"), "{:?}", new[1]);
    assert_eq!(
        new[2].finish_reason,
        Some(FinishReason::Stop),
        "{:?}",
        new[2]
    );
    assert!(!new[2].content.trim().is_empty());
}

/// What the structured-output test asks the model for.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, schemars::JsonSchema)]
pub struct CityWeather {
    pub city: String,
    pub celsius: i32,
}

#[derive(Clone, Debug, Default, State)]
pub struct Asked {
    pub answer: Option<CityWeather>,
}

#[graph(state = Asked, context = ChatOpenAI, edges = [START -> ask -> END])]
pub mod structured_ask {
    use super::*;

    /// Asks for a typed answer, by the request's `response_format`.
    #[node]
    pub async fn ask(_state: &Asked, ctx: &Ctx) -> Result<AskedUpdate, NodeError> {
        let weather = ctx
            .chat(ctx.context())
            .structured::<CityWeather>()
            .invoke([Message::user(
                "It is 21 degrees Celsius in Paris. Answer as JSON with the city and the degrees.",
            )])
            .await?;
        Ok(AskedUpdate::default().answer(Some(weather)))
    }
}

#[tokio::test]
#[ignore = "needs llama-server: run scripts/test"]
async fn a_real_model_answers_with_a_typed_value_through_response_format() {
    // The server turns the schema into a grammar: whatever the tiny model says, it is a
    // `CityWeather`'s JSON (its values are not asserted).
    let model = server_model().temperature(0.0).seed(42).max_tokens(64);
    let done = structured_ask::Graph::new(model)
        .invoke(Asked::default())
        .await
        .expect("a CityWeather from a healthy server");
    assert!(done.answer.is_some());
}
