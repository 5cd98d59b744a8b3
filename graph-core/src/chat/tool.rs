//! Tools a model may call: the object-safe [`Tool`] trait that `#[tool]` implements, and
//! the pieces its expansion calls (argument schemas, argument parsing, outputs), so that the
//! expansion only wires them together.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;

use super::ToolDefinition;

/// The future a [`Tool`] call returns.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<String, ToolError>> + Send + 'a>>;

/// A function a model may call: its definition for the model, and the call itself, which
/// takes the arguments as the model wrote them (JSON text) and returns the tool message's
/// text.
///
/// `#[tool]` implements it for an async fn; implement it by hand for a tool whose schema
/// is known only at run time. It is object-safe: tool sets hold `Arc<dyn Tool>`.
///
/// ```
/// use stategraph_core::{Tool, ToolDefinition, ToolError, ToolFuture};
///
/// struct Echo(ToolDefinition);
///
/// impl Tool for Echo {
///     fn definition(&self) -> &ToolDefinition {
///         &self.0
///     }
///     fn call<'a>(&'a self, arguments: &'a str) -> ToolFuture<'a> {
///         Box::pin(async move { Ok(arguments.to_owned()) })
///     }
/// }
///
/// let echo = Echo(ToolDefinition::new("echo", "Repeats its arguments", serde_json::json!({"type": "object"})));
/// assert_eq!(echo.name(), "echo");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tool",
    note = "put `#[tool]` on an async fn to make a tool of it, or implement `stategraph::Tool`"
)]
pub trait Tool: Send + Sync {
    /// The tool's name, description and JSON Schema of its arguments, as the model sees
    /// them.
    fn definition(&self) -> &ToolDefinition;

    /// Calls the tool with `arguments`, the JSON text the model wrote.
    ///
    /// # Errors
    /// [`ToolError::InvalidArguments`] when the arguments do not fit the tool's, or
    /// [`ToolError::Failed`] with the tool's own error.
    fn call<'a>(&'a self, arguments: &'a str) -> ToolFuture<'a>;

    /// The tool's name.
    fn name(&self) -> &str {
        &self.definition().name
    }
}

impl<T: Tool + ?Sized> Tool for std::sync::Arc<T> {
    fn definition(&self) -> &ToolDefinition {
        (**self).definition()
    }

    fn call<'a>(&'a self, arguments: &'a str) -> ToolFuture<'a> {
        (**self).call(arguments)
    }
}

impl<T: Tool + ?Sized> From<&T> for ToolDefinition {
    fn from(tool: &T) -> Self {
        tool.definition().clone()
    }
}

/// Why a tool call gave no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The model's arguments do not fit the tool's: not JSON, a missing or mistyped field.
    #[error("invalid arguments for tool `{tool}`: {source}")]
    InvalidArguments {
        /// The tool's name.
        tool: String,
        /// What does not fit, with its place in the arguments.
        #[source]
        source: serde_json::Error,
    },
    /// The tool ran and returned an error.
    #[error("tool `{tool}` failed: {source}")]
    Failed {
        /// The tool's name.
        tool: String,
        /// The tool's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
}

impl ToolError {
    /// The tool's name.
    pub fn tool(&self) -> &str {
        match self {
            Self::InvalidArguments { tool, .. } | Self::Failed { tool, .. } => tool,
        }
    }
}

/// Parses a tool's arguments as the model wrote them into `T`. An empty text counts as
/// `{}`, as models write no arguments for a tool that takes none.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Args { city: String }
/// let args: Args = stategraph_core::parse_tool_arguments("get_weather", r#"{"city": "Paris"}"#).unwrap();
/// assert_eq!(args.city, "Paris");
/// let error = stategraph_core::parse_tool_arguments::<Args>("get_weather", "{}").unwrap_err();
/// assert_eq!(error.to_string(), "invalid arguments for tool `get_weather`: missing field `city` at line 1 column 2");
/// ```
///
/// # Errors
/// [`ToolError::InvalidArguments`] naming the tool and what does not fit.
pub fn parse_tool_arguments<T: DeserializeOwned>(
    tool: &str,
    arguments: &str,
) -> Result<T, ToolError> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    serde_json::from_str(arguments).map_err(|source| ToolError::InvalidArguments {
        tool: tool.to_owned(),
        source,
    })
}

/// The JSON Schema of a tool's arguments `T`, as models are given it: an object schema
/// with nested types inlined (small models follow a flat schema better than `$ref`s), no
/// `$schema` or `title`, and `properties` even when there are none (as OpenAI asks).
/// `descriptions` set the description of top-level properties, over their type's docs
/// (`#[tool]` passes the fn's `# Arguments` docs this way).
///
/// ```
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Args {
///     /// The city.
///     city: String,
///     days: Option<u8>,
/// }
/// let schema = stategraph_core::tool_arguments_schema::<Args>(&[("days", "How many days")]);
/// assert_eq!(schema["properties"]["city"]["description"], "The city.");
/// assert_eq!(schema["properties"]["days"]["description"], "How many days");
/// assert_eq!(schema["required"], serde_json::json!(["city"]));
/// ```
pub fn tool_arguments_schema<T: schemars::JsonSchema>(
    descriptions: &[(&str, &str)],
) -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
        object.remove("$schema");
        if object.get("type").and_then(serde_json::Value::as_str) == Some("object") {
            object
                .entry("properties")
                .or_insert_with(|| serde_json::json!({}));
        }
        if let Some(properties) = object
            .get_mut("properties")
            .and_then(serde_json::Value::as_object_mut)
        {
            for (name, description) in descriptions {
                if let Some(property) = properties
                    .get_mut(*name)
                    .and_then(serde_json::Value::as_object_mut)
                {
                    property.insert("description".into(), (*description).into());
                }
            }
        }
    }
    schema
}

/// What a tool's argument must be: readable from the model's JSON, with a JSON Schema to
/// show the model. `#[tool]` checks each argument's type against it.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's argument: it needs a JSON Schema and to be read from JSON",
    label = "no JSON Schema or `Deserialize` for this type",
    note = "derive `schemars::JsonSchema` and `serde::Deserialize` on it"
)]
pub trait ToolArgument: schemars::JsonSchema + DeserializeOwned {}

impl<T: schemars::JsonSchema + DeserializeOwned> ToolArgument for T {}

/// What a tool fn may return: the tool message's text, or an error that becomes an error
/// tool message.
#[diagnostic::on_unimplemented(
    message = "a `#[tool]` fn must return text, JSON or a `Result` of them, not `{Self}`",
    label = "this cannot be a tool's result",
    note = "return `String`, `&'static str`, `serde_json::Value`, or `Result<_, E>` of one of them"
)]
pub trait IntoToolOutput {
    /// The tool message's text.
    ///
    /// # Errors
    /// The tool's own error.
    fn into_tool_output(self) -> Result<String, Box<dyn StdError + Send + Sync + 'static>>;
}

impl IntoToolOutput for String {
    fn into_tool_output(self) -> Result<String, Box<dyn StdError + Send + Sync + 'static>> {
        Ok(self)
    }
}

impl IntoToolOutput for &'static str {
    fn into_tool_output(self) -> Result<String, Box<dyn StdError + Send + Sync + 'static>> {
        Ok(self.to_owned())
    }
}

impl IntoToolOutput for serde_json::Value {
    fn into_tool_output(self) -> Result<String, Box<dyn StdError + Send + Sync + 'static>> {
        Ok(self.to_string())
    }
}

impl<T: IntoToolOutput, E: Into<Box<dyn StdError + Send + Sync + 'static>>> IntoToolOutput
    for Result<T, E>
{
    fn into_tool_output(self) -> Result<String, Box<dyn StdError + Send + Sync + 'static>> {
        self.map_err(Into::into)?.into_tool_output()
    }
}

/// Turns a tool fn's result into the tool call's result: what `#[tool]`'s expansion calls.
#[doc(hidden)]
pub fn tool_output(tool: &str, output: impl IntoToolOutput) -> Result<String, ToolError> {
    output
        .into_tool_output()
        .map_err(|source| ToolError::Failed {
            tool: tool.to_owned(),
            source,
        })
}

/// How a tool call is answered: the status a tool message carries, as LangChain's
/// `ToolMessage.status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ToolStatus {
    /// The tool ran and this is its result.
    #[default]
    Success,
    /// The call failed: the message says why, for the model to correct itself.
    Error,
}

impl ToolStatus {
    /// `success` or `error`, as LangChain writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for ToolStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl serde::Serialize for ToolStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ToolStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let status = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        match &*status {
            "success" => Ok(Self::Success),
            "error" => Ok(Self::Error),
            other => Err(serde::de::Error::unknown_variant(
                other,
                &["success", "error"],
            )),
        }
    }
}

/// Whether and which tool the model must call in a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call some tool.
    Required,
    /// The model must call the tool of this name.
    Tool(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How hot it is.
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Unit {
        Celsius,
        Fahrenheit,
    }

    /// Where to look.
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Place {
        /// The city's name.
        city: String,
        /// Its country, when the city's name is ambiguous.
        country: Option<String>,
    }

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Forecast {
        /// Where.
        place: Place,
        unit: Option<Unit>,
        /// How many days ahead.
        days: u8,
    }

    #[test]
    fn a_nested_struct_with_an_option_and_an_enum_has_a_flat_schema() {
        let schema = tool_arguments_schema::<Forecast>(&[("unit", "The unit of temperatures")]);
        assert_eq!(
            schema,
            serde_json::json!({
                "type": "object",
                "properties": {
                    "place": {
                        "description": "Where.",
                        "type": "object",
                        "properties": {
                            "city": {"description": "The city's name.", "type": "string"},
                            "country": {
                                "description": "Its country, when the city's name is ambiguous.",
                                "type": ["string", "null"],
                            },
                        },
                        "required": ["city"],
                    },
                    "unit": {
                        "description": "The unit of temperatures",
                        "type": ["string", "null"],
                        "enum": ["celsius", "fahrenheit", null],
                    },
                    "days": {
                        "description": "How many days ahead.",
                        "type": "integer",
                        "format": "uint8",
                        "minimum": 0,
                        "maximum": 255,
                    },
                },
                "required": ["place", "days"],
            })
        );
    }

    #[test]
    fn arguments_that_do_not_fit_name_the_tool_and_the_field() {
        let error =
            parse_tool_arguments::<Forecast>("forecast", r#"{"place": {"city": 3}, "days": 1}"#)
                .unwrap_err();
        assert!(matches!(error, ToolError::InvalidArguments { .. }));
        assert_eq!(error.tool(), "forecast");
        assert!(
            error
                .to_string()
                .starts_with("invalid arguments for tool `forecast`: invalid type: integer `3`"),
            "{error}"
        );
        let error = parse_tool_arguments::<Forecast>("forecast", "{\"days\": ").unwrap_err();
        assert!(error.to_string().contains("EOF"), "{error}");
    }

    #[test]
    fn no_arguments_count_as_an_empty_object() {
        #[derive(Debug, serde::Deserialize)]
        struct None {}
        assert!(parse_tool_arguments::<None>("now", "").is_ok());
        assert!(parse_tool_arguments::<None>("now", "  ").is_ok());
    }
}
