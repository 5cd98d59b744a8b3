//! Structured output: `ctx.chat(&model).structured::<T>()` reads the model's answer as a
//! typed value, asking by `response_format` or by a tool the model is made to call; an
//! answer that is not a `T` is a typed error holding it as it came, and the answer's tokens
//! still stream in messages mode.

use std::sync::Arc;

use futures::TryStreamExt;
use serde::Deserialize;
use stategraph::prebuilt::{FakeChatModel, Reply};
use stategraph::prelude::*;
use stategraph::{ChatCallError, StructuredMethod, ToolChoice};

/// What the node asks the model for.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
struct Weather {
    /// The city.
    city: String,
    /// Degrees Celsius.
    celsius: i32,
}

#[derive(Clone, Debug, Default, State)]
struct Ask {
    method_is_tool_call: bool,
    answer: Option<Weather>,
    /// The model's answer as it came, when it was not a `Weather`.
    raw: Option<String>,
}

#[graph(state = Ask, context = Arc<FakeChatModel>, edges = [START -> ask -> END])]
mod asking {
    use super::*;

    #[node]
    async fn ask(state: &Ask, ctx: &Ctx) -> Result<AskUpdate, NodeError> {
        let method = if state.method_is_tool_call {
            StructuredMethod::ToolCall
        } else {
            StructuredMethod::JsonSchema
        };
        let answer = ctx
            .chat(ctx.context())
            .structured::<Weather>()
            .method(method)
            .invoke([Message::user("Weather in Paris?")])
            .await;
        match answer {
            Ok(weather) => Ok(AskUpdate::default().answer(Some(weather))),
            Err(ChatCallError::Structured(error)) => Ok(AskUpdate::default().raw(Some(error.raw))),
            Err(other) => Err(NodeError::from(other)),
        }
    }
}

fn paris() -> Weather {
    Weather {
        city: "Paris".into(),
        celsius: 18,
    }
}

#[tokio::test]
async fn an_answer_by_response_format_is_read_as_the_type_and_its_tokens_stream() {
    let model = Arc::new(FakeChatModel::new([Reply::text_in([
        "{\"city\": ",
        "\"Paris\", ",
        "\"celsius\": 18}",
    ])]));
    let graph = asking::Graph::new(Arc::clone(&model));
    let mut stream = graph.stream(Ask::default(), Messages);
    let mut tokens = String::new();
    while let Some(chunk) = stream.try_next().await.unwrap() {
        tokens.push_str(&chunk.chunk().content);
    }
    assert_eq!(tokens, "{\"city\": \"Paris\", \"celsius\": 18}");
    assert_eq!(stream.into_state().answer, Some(paris()));

    let request = &model.requests()[0];
    let format = request.response_format.as_ref().expect("a response format");
    assert_eq!(format.name, "Weather");
    assert_eq!(
        format.schema["required"],
        serde_json::json!(["city", "celsius"])
    );
    assert!(request.tools.is_empty(), "no tool is offered");
}

#[tokio::test]
async fn an_answer_by_a_forced_tool_call_is_read_from_its_arguments() {
    let model = Arc::new(FakeChatModel::new([Reply::tool_call(
        "Weather",
        serde_json::json!({"city": "Paris", "celsius": 18}),
    )]));
    let graph = asking::Graph::new(Arc::clone(&model));
    let state = graph
        .invoke(Ask {
            method_is_tool_call: true,
            ..Ask::default()
        })
        .await
        .unwrap();
    assert_eq!(state.answer, Some(paris()));

    let request = &model.requests()[0];
    assert_eq!(request.tools.len(), 1);
    assert_eq!(request.tools[0].name, "Weather");
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Tool("Weather".into()))
    );
    assert_eq!(request.response_format, None);
}

#[tokio::test]
async fn an_answer_that_is_not_the_type_is_an_error_holding_it() {
    let model = Arc::new(FakeChatModel::new([
        Reply::text("It is sunny in Paris."),
        Reply::text("Sunny."),
    ]));
    let graph = asking::Graph::new(Arc::clone(&model));
    let state = graph.invoke(Ask::default()).await.unwrap();
    assert_eq!(state.answer, None);
    assert_eq!(state.raw.as_deref(), Some("It is sunny in Paris."));

    let state = graph
        .invoke(Ask {
            method_is_tool_call: true,
            ..Ask::default()
        })
        .await
        .unwrap();
    assert_eq!(
        state.raw.as_deref(),
        Some("Sunny."),
        "no call: the text is kept"
    );
}
