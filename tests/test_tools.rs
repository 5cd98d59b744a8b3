//! Tools end to end: `#[tool]` fns, the tool node (concurrent calls, answers in call order,
//! errors answered instead of crashing the run), tools merged by name on a model call, and
//! the prebuilt ReAct agent streamed and run as a subgraph, all on the fake model.

use std::time::Duration;

use futures::TryStreamExt;
use stategraph::prebuilt::{
    FakeChatModel, FakeToolCall, HandleToolErrors, MessagesState, MessagesStateUpdate, Reply,
    ToolNode, ToolNodeError, create_react_agent, react_agent,
};
use stategraph::prelude::*;
use stategraph::{Role, StreamItem, Tool, ToolCall, ToolChoice, ToolError, ToolStatus};

/// Gets the current weather in a city.
///
/// # Arguments
/// * `city` - The city's name
/// * `unit` - The unit of the temperature
#[stategraph::tool]
async fn get_weather(city: String, unit: Option<Unit>) -> String {
    let degrees = match unit {
        Some(Unit::Fahrenheit) => "64°F",
        _ => "18°C",
    };
    format!("Sunny, {degrees} in {city}")
}

/// A temperature unit.
#[derive(Clone, Copy, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

/// Where to look.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Place {
    /// The city's name.
    city: String,
    /// The country, when the city's name is ambiguous.
    country: Option<String>,
}

/// What a forecast asks.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct ForecastArgs {
    /// Where.
    place: Place,
    /// How many days ahead.
    days: u8,
    /// The unit of temperatures.
    unit: Option<Unit>,
}

/// Forecasts the weather some days ahead.
#[stategraph::tool]
async fn forecast(#[args] args: ForecastArgs) -> Result<String, std::io::Error> {
    if args.days > 10 {
        return Err(std::io::Error::other("no forecast beyond 10 days"));
    }
    let country = args
        .place
        .country
        .map(|c| format!(", {c}"))
        .unwrap_or_default();
    let unit = match args.unit {
        Some(Unit::Fahrenheit) => " (°F)",
        Some(Unit::Celsius) | None => "",
    };
    Ok(format!(
        "Rain in {}{country} in {} days{unit}",
        args.place.city, args.days
    ))
}

/// Waits 100 ms, then answers.
#[stategraph::tool]
async fn slow(n: u32) -> String {
    tokio::time::sleep(Duration::from_millis(100)).await;
    format!("done {n}")
}

/// Always panics.
#[stategraph::tool]
async fn explode() -> String {
    panic!("the tool blew up")
}

fn calls(calls: impl IntoIterator<Item = (&'static str, &'static str, &'static str)>) -> Message {
    Message::assistant_tool_calls(calls.into_iter().map(|(id, name, arguments)| ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }))
}

#[tokio::test]
async fn a_tool_fn_has_its_name_description_schema_and_parses_its_arguments() {
    let definition = GetWeather.definition();
    assert_eq!(definition.name, "get_weather");
    assert_eq!(
        definition.description.as_deref(),
        Some("Gets the current weather in a city.")
    );
    assert_eq!(
        definition.parameters,
        serde_json::json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city's name"},
                "unit": {
                    "anyOf": [
                        {"description": "A temperature unit.", "oneOf": [
                            {"type": "string", "const": "celsius", "description": "Degrees Celsius."},
                            {"type": "string", "const": "fahrenheit", "description": "Degrees Fahrenheit."},
                        ]},
                        {"type": "null"},
                    ],
                    "description": "The unit of the temperature",
                },
            },
            "required": ["city"],
        })
    );
    assert_eq!(
        GetWeather
            .call(r#"{"city": "Paris", "unit": "fahrenheit"}"#)
            .await
            .unwrap(),
        "Sunny, 64°F in Paris"
    );
    assert_eq!(
        GetWeather.call(r#"{"city": "Paris"}"#).await.unwrap(),
        "Sunny, 18°C in Paris",
        "an `Option` argument may be left out"
    );
    let error = GetWeather.call(r#"{"town": "Paris"}"#).await.unwrap_err();
    assert!(matches!(error, ToolError::InvalidArguments { .. }));
    assert_eq!(
        error.to_string(),
        "invalid arguments for tool `get_weather`: missing field `city` at line 1 column 17"
    );
    assert_eq!(
        get_weather("Rome".into(), None).await,
        "Sunny, 18°C in Rome",
        "the fn stays callable"
    );
    assert_eq!(
        Explode.definition().parameters["properties"],
        serde_json::json!({})
    );
}

#[tokio::test]
async fn an_args_struct_gives_a_nested_schema_with_optional_fields_and_enums() {
    let schema = &Forecast.definition().parameters;
    assert_eq!(
        schema,
        &serde_json::json!({
            "type": "object",
            "description": "What a forecast asks.",
            "properties": {
                "place": {
                    "type": "object",
                    "description": "Where.",
                    "properties": {
                        "city": {"type": "string", "description": "The city's name."},
                        "country": {"type": ["string", "null"], "description": "The country, when the city's name is ambiguous."},
                    },
                    "required": ["city"],
                },
                "days": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255, "description": "How many days ahead."},
                "unit": {
                    "anyOf": [
                        {"description": "A temperature unit.", "oneOf": [
                            {"type": "string", "const": "celsius", "description": "Degrees Celsius."},
                            {"type": "string", "const": "fahrenheit", "description": "Degrees Fahrenheit."},
                        ]},
                        {"type": "null"},
                    ],
                    "description": "The unit of temperatures.",
                },
            },
            "required": ["place", "days"],
        })
    );
    let answer = Forecast
        .call(r#"{"place": {"city": "Oslo"}, "days": 2}"#)
        .await
        .unwrap();
    assert_eq!(answer, "Rain in Oslo in 2 days");
    let error = Forecast
        .call(r#"{"place": {"city": "Oslo"}, "days": 12}"#)
        .await
        .unwrap_err();
    assert!(matches!(error, ToolError::Failed { .. }));
    assert_eq!(
        error.to_string(),
        "tool `forecast` failed: no forecast beyond 10 days"
    );
}

#[tokio::test(start_paused = true)]
async fn ten_tool_calls_of_100_ms_each_finish_in_100_ms_in_call_order() {
    let tools = ToolNode::new().tool(Slow);
    let arguments: Vec<String> = (0..10).map(|n| format!("{{\"n\": {n}}}")).collect();
    let message = Message::assistant_tool_calls((0..10).map(|n| ToolCall {
        id: format!("call_{n}"),
        name: "slow".into(),
        arguments: arguments[n].clone(),
    }));
    let started = tokio::time::Instant::now();
    let answers = tools.run(&[message]).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert_eq!(answers.len(), 10);
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer.role, Role::Tool);
        assert_eq!(answer.content, format!("done {n}"));
        assert_eq!(answer.tool_call_id.as_deref(), Some(&*format!("call_{n}")));
        assert_eq!(answer.name.as_deref(), Some("slow"));
        assert_eq!(answer.status, Some(ToolStatus::Success));
    }
}

#[tokio::test]
async fn unknown_tools_bad_arguments_failures_and_panics_are_answered_as_errors() {
    let tools = ToolNode::new()
        .tool(GetWeather)
        .tool(Forecast)
        .tool(Explode);
    let message = calls([
        ("c1", "get_weather", r#"{"city": "Paris"}"#),
        ("c2", "get_wether", r#"{"city": "Paris"}"#),
        ("c3", "get_weather", r#"{"city": 7}"#),
        (
            "c4",
            "forecast",
            r#"{"place": {"city": "Oslo"}, "days": 30}"#,
        ),
        ("c5", "explode", ""),
    ]);
    let answers = tools.run(&[Message::user("go"), message]).await.unwrap();
    let seen: Vec<_> = answers
        .iter()
        .map(|a| {
            (
                a.tool_call_id.as_deref().unwrap(),
                a.name.as_deref().unwrap(),
                a.status.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("c1", "get_weather", ToolStatus::Success),
            ("c2", "get_wether", ToolStatus::Error),
            ("c3", "get_weather", ToolStatus::Error),
            ("c4", "forecast", ToolStatus::Error),
            ("c5", "explode", ToolStatus::Error),
        ]
    );
    assert_eq!(
        answers[1].content,
        "Error: `get_wether` is not a valid tool, try one of [get_weather, forecast, explode]."
    );
    assert!(
        answers[2].content.starts_with(
            "Error: invalid arguments for tool `get_weather`: invalid type: integer `7`"
        ),
        "{}",
        answers[2].content
    );
    assert!(answers[2].content.ends_with("Please fix your mistakes."));
    assert_eq!(
        answers[3].content,
        "Error: tool `forecast` failed: no forecast beyond 10 days\n Please fix your mistakes."
    );
    assert_eq!(
        answers[4].content,
        "Error: tool `explode` panicked: the tool blew up"
    );
}

#[tokio::test]
async fn with_handle_tool_errors_fail_bad_arguments_fail_the_node() {
    let tools = ToolNode::new()
        .tool(GetWeather)
        .handle_tool_errors(HandleToolErrors::Fail);
    let error = tools
        .run(&[calls([("c1", "get_weather", "{}")])])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ToolNodeError::Tool(ToolError::InvalidArguments { tool, .. }) if tool == "get_weather"),
        "{error:?}"
    );
    let error = tools.run(&[Message::user("hi")]).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the last message is not the model's (it is a `user` message): no tool calls to run"
    );
}

fn weather_model() -> FakeChatModel {
    FakeChatModel::new([
        Reply::tool_calls([
            FakeToolCall::new("get_weather", serde_json::json!({"city": "Paris"}))
                .with_id("call_1"),
            FakeToolCall::new("explode", serde_json::json!({})).with_id("call_2"),
        ]),
        Reply::text("It is sunny in Paris."),
    ])
}

fn weather_tools() -> ToolNode {
    ToolNode::new().tool(GetWeather).tool(Explode)
}

#[tokio::test]
async fn the_react_agent_calls_the_tools_and_answers_with_their_results_in_its_history() {
    let model = weather_model();
    let agent = create_react_agent(model.clone(), weather_tools());
    let done = agent
        .invoke(MessagesState::new([Message::user("Weather in Paris?")]))
        .await
        .unwrap();
    let roles: Vec<Role> = done.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::Tool,
            Role::Assistant
        ]
    );
    assert_eq!(done.messages[2].content, "Sunny, 18°C in Paris");
    assert_eq!(
        done.messages[3].status,
        Some(ToolStatus::Error),
        "the panic was answered"
    );
    assert_eq!(done.messages[4].content, "It is sunny in Paris.");
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    let offered: Vec<&str> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(offered, ["get_weather", "explode"]);
    assert_eq!(
        requests[1].messages[2].tool_call_id.as_deref(),
        Some("call_1"),
        "the second call sees the tool's answer"
    );
}

#[tokio::test]
async fn the_react_agent_streams_tokens_tool_calls_and_tool_messages_by_node() {
    let agent = create_react_agent(weather_model(), weather_tools());
    let items: Vec<_> = agent
        .stream(
            MessagesState::new([Message::user("Weather in Paris?")]),
            (Messages, Updates),
        )
        .try_collect()
        .await
        .unwrap();
    let mut argument_pieces = 0;
    let mut tool_messages = Vec::new();
    let mut updates = Vec::new();
    for item in &items {
        match item {
            StreamItem::Messages(chunk) => {
                argument_pieces += chunk
                    .chunk()
                    .tool_call_chunks()
                    .iter()
                    .filter(|piece| !piece.arguments.is_empty())
                    .count();
                if chunk.node() == react_agent::Node::Tools {
                    let json = serde_json::to_value(chunk).unwrap();
                    tool_messages.push(json[0].clone());
                }
            }
            StreamItem::Updates(update) => updates.push(update.node()),
            _ => {}
        }
    }
    assert!(argument_pieces > 2, "tool call arguments stream in pieces");
    use react_agent::Node;
    assert_eq!(updates, [Node::Agent, Node::Tools, Node::Agent]);
    assert_eq!(tool_messages.len(), 2);
    assert_eq!(tool_messages[0]["type"], "tool");
    assert_eq!(tool_messages[0]["tool_call_id"], "call_1");
    assert_eq!(tool_messages[0]["name"], "get_weather");
    assert_eq!(tool_messages[0]["status"], "success");
    assert_eq!(tool_messages[0]["content"], "Sunny, 18°C in Paris");
    assert_eq!(tool_messages[1]["status"], "error");
}

/// A graph that runs the ReAct agent as a subgraph, and offers a tool on a call of its own.
#[graph(state = MessagesState, context = Parent, edges = [START -> ask -> delegate -> END])]
pub mod parent {
    use super::*;

    /// Asks the model with the weather tool given twice: on the call and again, replaced.
    #[node]
    pub async fn ask(state: &MessagesState, ctx: &Ctx) -> Result<MessagesStateUpdate, NodeError> {
        let mut replaced = GetWeather.definition().clone();
        replaced.description = Some("The weather, described again".into());
        let answer = ctx
            .chat(&ctx.context().model)
            .tools([&GetWeather as &dyn Tool])
            .tools([replaced])
            .tool_choice(ToolChoice::Required)
            .invoke(state.messages.clone())
            .await?;
        Ok(MessagesStateUpdate::default().messages(vec![answer]))
    }

    /// Runs the agent on the conversation.
    #[node]
    pub async fn delegate(
        state: &MessagesState,
        ctx: &Ctx,
    ) -> Result<MessagesStateUpdate, NodeError> {
        let mut question = state.messages.clone();
        question.push(Message::user("Weather in Paris?"));
        let done = ctx
            .subgraph(&ctx.context().agent)
            .invoke(MessagesState::new(question))
            .await?;
        let len = state.messages.len() + 1;
        Ok(MessagesStateUpdate::default().messages(done.messages[len..].to_vec()))
    }
}

/// The parent's model and agent.
pub struct Parent {
    model: FakeChatModel,
    agent: react_agent::Graph,
}

#[tokio::test]
async fn the_react_agent_runs_as_a_subgraph_and_a_calls_tools_merge_by_name() {
    let model = FakeChatModel::new([Reply::text("Let me ask.")]);
    let parent = parent::Graph::new(Parent {
        model: model.clone(),
        agent: create_react_agent(weather_model(), weather_tools()),
    });
    let done = parent
        .invoke(MessagesState::new([Message::user("Hello")]))
        .await
        .unwrap();
    let texts: Vec<&str> = done.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts[..2], ["Hello", "Let me ask."]);
    assert_eq!(texts.last(), Some(&"It is sunny in Paris."));
    assert_eq!(done.messages.len(), 6, "{texts:?}");
    let request = &model.requests()[0];
    assert_eq!(request.tools.len(), 1, "one tool of one name");
    assert_eq!(
        request.tools[0].description.as_deref(),
        Some("The weather, described again")
    );
    assert_eq!(request.tool_choice, Some(ToolChoice::Required));
}
