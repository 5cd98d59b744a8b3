//! Structured output: a model's answer read as a typed value. The type's JSON Schema goes
//! to the model either as the request's `response_format` (OpenAI's `json_schema`, which
//! llama.cpp's server and vLLM turn into a grammar) or as the one tool it must call; the
//! answer is then read back from the message's text or from that call's arguments.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::message::{Message, ToolDefinition};
use super::tool::tool_arguments_schema;

/// How the schema reaches the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StructuredMethod {
    /// As `response_format: {"type": "json_schema", ..}`: the answer is the message's text.
    #[default]
    JsonSchema,
    /// As a tool the model is made to call: the answer is that call's arguments. For
    /// servers without `response_format`.
    ToolCall,
}

/// A JSON Schema the answer must follow, named for the model (OpenAI's `json_schema`).
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseFormat {
    /// The schema's name: the type's, as `schemars` names it.
    pub name: String,
    /// The JSON Schema.
    pub schema: Value,
}

impl ResponseFormat {
    /// The format of `T`'s JSON.
    pub fn of<T: schemars::JsonSchema>() -> Self {
        Self {
            name: schema_name::<T>(),
            schema: tool_arguments_schema::<T>(&[]),
        }
    }

    /// The same schema as a tool's definition, for [`StructuredMethod::ToolCall`].
    pub fn as_tool(&self) -> ToolDefinition {
        ToolDefinition::new(
            self.name.clone(),
            "Answer with these fields.".to_owned(),
            self.schema.clone(),
        )
    }
}

/// The name a schema goes by on the wire: OpenAI allows `[a-zA-Z0-9_-]`, at most 64.
fn schema_name<T: schemars::JsonSchema>() -> String {
    let name: String = T::schema_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "answer".to_owned()
    } else {
        name
    }
}

/// A model's answer that is not the type asked for: what was wrong, and the answer as it
/// came, so nothing the model said is lost.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the model's answer is not a `{type_name}`: {detail} (answer: {raw:?})")]
pub struct StructuredOutputError {
    /// The type asked for.
    pub type_name: String,
    /// What did not match.
    pub detail: String,
    /// The model's text, or the arguments of its call, as it sent them.
    pub raw: String,
}

/// Reads `T` from `message`, the answer to a request made by `method` with `format`.
///
/// # Errors
/// [`StructuredOutputError`] when the answer is not `T`'s JSON, or the model did not call
/// the tool it was made to call.
pub fn read_structured<T: DeserializeOwned>(
    message: &Message,
    method: StructuredMethod,
    format: &ResponseFormat,
) -> Result<T, StructuredOutputError> {
    let error = |detail: String, raw: &str| StructuredOutputError {
        type_name: std::any::type_name::<T>().to_owned(),
        detail,
        raw: raw.to_owned(),
    };
    let raw = match method {
        StructuredMethod::JsonSchema => message.content.as_str(),
        StructuredMethod::ToolCall => {
            match message
                .tool_calls
                .iter()
                .find(|call| call.name == format.name)
            {
                Some(call) => call.arguments.as_str(),
                None => {
                    return Err(error(
                        format!("the model did not call `{}`", format.name),
                        &message.content,
                    ));
                }
            }
        }
    };
    serde_json::from_str(raw.trim()).map_err(|detail| error(detail.to_string(), raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::message::ToolCall;

    #[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
    struct Weather {
        city: String,
        celsius: i32,
    }

    #[test]
    fn the_format_names_the_type_and_holds_its_schema() {
        let format = ResponseFormat::of::<Weather>();
        assert_eq!(format.name, "Weather");
        assert_eq!(
            format.schema["required"],
            serde_json::json!(["city", "celsius"])
        );
        assert_eq!(format.as_tool().name, "Weather");
    }

    #[test]
    fn an_answer_reads_from_the_text_or_from_the_call() {
        let format = ResponseFormat::of::<Weather>();
        let text = Message::assistant(" {\"city\": \"Paris\", \"celsius\": 18}\n");
        let weather: Weather =
            read_structured(&text, StructuredMethod::JsonSchema, &format).unwrap();
        assert_eq!(
            weather,
            Weather {
                city: "Paris".into(),
                celsius: 18
            }
        );

        let mut call = Message::assistant("");
        call.tool_calls.push(ToolCall {
            id: "call_1".into(),
            name: "Weather".into(),
            arguments: "{\"city\": \"Oslo\", \"celsius\": -3}".into(),
        });
        let weather: Weather = read_structured(&call, StructuredMethod::ToolCall, &format).unwrap();
        assert_eq!(weather.city, "Oslo");
    }

    #[test]
    fn an_answer_that_does_not_match_keeps_its_text() {
        let format = ResponseFormat::of::<Weather>();
        let text = Message::assistant("It is sunny.");
        let error =
            read_structured::<Weather>(&text, StructuredMethod::JsonSchema, &format).unwrap_err();
        assert_eq!(error.raw, "It is sunny.");
        assert!(error.type_name.ends_with("Weather"), "{error}");

        let error =
            read_structured::<Weather>(&text, StructuredMethod::ToolCall, &format).unwrap_err();
        assert_eq!(error.detail, "the model did not call `Weather`");
        assert_eq!(error.raw, "It is sunny.");
    }
}
