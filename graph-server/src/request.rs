//! The body of `POST /runs/stream` and `POST /runs/wait`, checked field by field: an unknown
//! field is ignored, an invalid value is an error naming the field.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Parses a JSON body: not JSON is a 400, JSON of the wrong shape a 422 naming the field.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("the body is not JSON: {error}")))?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." {
            ApiError::Unprocessable(format!("body: {inner}"))
        } else {
            ApiError::Unprocessable(format!("{path}: {inner}"))
        }
    })
}

/// A stream mode as a client names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModeName {
    Values,
    Updates,
    MessagesTuple,
    Messages,
    Custom,
    Debug,
    Tasks,
}

impl ModeName {
    const SERVED: &str =
        "`values`, `updates`, `messages-tuple`, `messages`, `custom`, `debug`, `tasks`";

    fn parse(name: &str) -> Result<Self, ApiError> {
        Ok(match name {
            "values" => Self::Values,
            "updates" => Self::Updates,
            "messages-tuple" => Self::MessagesTuple,
            "messages" => Self::Messages,
            "custom" => Self::Custom,
            "debug" => Self::Debug,
            "tasks" => Self::Tasks,
            "checkpoints" => {
                return Err(ApiError::NotImplemented(
                    "stream_mode: `checkpoints` needs threads, which this server does not serve yet"
                        .into(),
                ));
            }
            "events" => {
                return Err(ApiError::NotImplemented(
                    "stream_mode: `events` (LangChain's astream_events) is not served".into(),
                ));
            }
            other => {
                return Err(ApiError::Unprocessable(format!(
                    "stream_mode: unknown mode `{other}`; the modes are {}",
                    Self::SERVED
                )));
            }
        })
    }
}

/// Which modes a run streams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Modes {
    pub(crate) values: bool,
    pub(crate) updates: bool,
    pub(crate) messages_tuple: bool,
    pub(crate) messages: bool,
    pub(crate) custom: bool,
    pub(crate) debug: bool,
    pub(crate) tasks: bool,
}

impl Modes {
    fn with(mut self, mode: ModeName) -> Self {
        match mode {
            ModeName::Values => self.values = true,
            ModeName::Updates => self.updates = true,
            ModeName::MessagesTuple => self.messages_tuple = true,
            ModeName::Messages => self.messages = true,
            ModeName::Custom => self.custom = true,
            ModeName::Debug => self.debug = true,
            ModeName::Tasks => self.tasks = true,
        }
        self
    }

    /// Values alone: LangGraph's default, and what `/runs/wait` needs.
    pub(crate) fn values() -> Self {
        Self::default().with(ModeName::Values)
    }

    /// Whether model chunks are wanted, in either messages shape.
    pub(crate) fn any_messages(self) -> bool {
        self.messages || self.messages_tuple
    }
}

/// `on_disconnect`: what happens to a run whose client goes away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OnDisconnect {
    /// Stop the run, closing its model requests.
    Cancel,
    /// Let it finish; LangGraph's server's default.
    #[default]
    Continue,
}

/// One value or a list of them, as `stream_mode` is sent.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `config`: the fields a run honours; others are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConfigBody {
    #[serde(default)]
    pub(crate) tags: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) recursion_limit: Option<u32>,
    #[serde(default)]
    pub(crate) configurable: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum MultitaskStrategy {
    Reject,
    Interrupt,
    Rollback,
    Enqueue,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum IfNotExists {
    Create,
    Reject,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum OnCompletion {
    Delete,
    Keep,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Durability {
    Sync,
    Async,
    Exit,
}

/// The body of a stateless run, as the SDKs send it (`RunCreateStateless`). Fields whose
/// values are only checked are kept as `Option<_>` so a wrong value is still a 422.
#[derive(Deserialize)]
struct RunCreateBody {
    assistant_id: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    command: Option<Value>,
    #[serde(default)]
    stream_mode: Option<OneOrMany>,
    #[serde(default)]
    stream_subgraphs: Option<bool>,
    #[serde(default)]
    stream_resumable: Option<bool>,
    #[serde(default)]
    config: Option<ConfigBody>,
    #[serde(default)]
    context: Option<Value>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    on_disconnect: Option<OnDisconnect>,
    #[serde(default)]
    interrupt_before: Option<Value>,
    #[serde(default)]
    interrupt_after: Option<Value>,
    #[serde(default)]
    checkpoint: Option<Value>,
    #[serde(default)]
    checkpoint_id: Option<Value>,
    #[serde(default)]
    after_seconds: Option<f64>,
    #[serde(default)]
    multitask_strategy: Option<MultitaskStrategy>,
    #[serde(default)]
    if_not_exists: Option<IfNotExists>,
    #[serde(default)]
    on_completion: Option<OnCompletion>,
    #[serde(default)]
    durability: Option<Durability>,
}

/// A checked stateless run request.
#[derive(Debug)]
pub(crate) struct RunRequest {
    pub(crate) assistant_id: String,
    pub(crate) input: Value,
    pub(crate) modes: Modes,
    pub(crate) subgraphs: bool,
    pub(crate) config: ConfigBody,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) on_disconnect: OnDisconnect,
}

impl RunRequest {
    /// Parses and checks a run body.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body: RunCreateBody = parse_body(body)?;
        // Checked for their values only: meaningful once runs have threads.
        let _ = (
            body.multitask_strategy,
            body.if_not_exists,
            body.on_completion,
            body.durability,
        );
        let needs_threads = [
            ("command", body.command.as_ref()),
            ("checkpoint", body.checkpoint.as_ref()),
            ("checkpoint_id", body.checkpoint_id.as_ref()),
            ("interrupt_before", body.interrupt_before.as_ref()),
            ("interrupt_after", body.interrupt_after.as_ref()),
        ];
        if let Some((field, _)) = needs_threads
            .iter()
            .find(|(_, value)| value.is_some_and(|value| !is_empty(value)))
        {
            return Err(ApiError::NotImplemented(format!(
                "{field}: needs threads (checkpoints, interrupts, resume), which this server does not serve yet"
            )));
        }
        if body.stream_resumable == Some(true) {
            return Err(ApiError::NotImplemented(
                "stream_resumable: resumable streams need the run event log, which this server does not keep yet"
                    .into(),
            ));
        }
        if body
            .context
            .as_ref()
            .is_some_and(|context| !is_empty(context))
        {
            return Err(ApiError::NotImplemented(
                "context: a served graph's context is the one it was registered with; per-run context is not supported"
                    .into(),
            ));
        }
        if body.after_seconds.is_some_and(|seconds| seconds > 0.0) {
            return Err(ApiError::NotImplemented(
                "after_seconds: delayed runs are not served yet".into(),
            ));
        }
        let names = match body.stream_mode {
            None => vec!["values".to_owned()],
            Some(OneOrMany::One(name)) => vec![name],
            Some(OneOrMany::Many(names)) if names.is_empty() => vec!["values".to_owned()],
            Some(OneOrMany::Many(names)) => names,
        };
        let modes = names.iter().try_fold(Modes::default(), |modes, name| {
            Ok(modes.with(ModeName::parse(name)?))
        })?;
        let config = body.config.unwrap_or_default();
        if config.recursion_limit == Some(0) {
            return Err(ApiError::Unprocessable(
                "config.recursion_limit: must be at least 1".into(),
            ));
        }
        Ok(Self {
            assistant_id: body.assistant_id,
            input: body.input.unwrap_or(Value::Null),
            modes,
            subgraphs: body.stream_subgraphs.unwrap_or(false),
            config,
            metadata: body.metadata.unwrap_or_default(),
            on_disconnect: body.on_disconnect.unwrap_or_default(),
        })
    }
}

/// `null`, `{}`, `[]` and `""` ask for nothing.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<RunRequest, ApiError> {
        RunRequest::parse(body.as_bytes())
    }

    fn message(result: Result<RunRequest, ApiError>) -> String {
        match result {
            Err(error) => error.to_string(),
            Ok(request) => panic!("accepted: {request:?}"),
        }
    }

    #[test]
    fn stream_mode_is_one_name_or_a_list_and_defaults_to_values() {
        let one = parse(r#"{"assistant_id":"agent","stream_mode":"updates"}"#).unwrap();
        assert!(one.modes.updates && !one.modes.values);
        let many =
            parse(r#"{"assistant_id":"agent","stream_mode":["messages-tuple","custom"]}"#).unwrap();
        assert!(many.modes.messages_tuple && many.modes.custom && !many.modes.messages);
        let none = parse(r#"{"assistant_id":"agent"}"#).unwrap();
        assert_eq!(none.modes, Modes::values());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let request =
            parse(r#"{"assistant_id":"agent","webhook":"x","feedback_keys":["a"],"new_field":1}"#);
        assert!(request.is_ok());
    }

    #[test]
    fn an_invalid_value_names_its_field() {
        let text = message(parse(
            r#"{"assistant_id":"agent","config":{"recursion_limit":"ten"}}"#,
        ));
        assert!(
            text.starts_with("config.recursion_limit: invalid type"),
            "{text}"
        );
        let text = message(parse(r#"{"assistant_id":"agent","on_disconnect":"later"}"#));
        assert!(
            text.starts_with("on_disconnect: unknown variant `later`"),
            "{text}"
        );
        let text = message(parse(
            r#"{"assistant_id":"agent","stream_mode":["values","vals"]}"#,
        ));
        assert!(
            text.starts_with("stream_mode: unknown mode `vals`"),
            "{text}"
        );
        let text = message(parse(
            r#"{"assistant_id":"agent","multitask_strategy":"queue"}"#,
        ));
        assert!(
            text.starts_with("multitask_strategy: unknown variant"),
            "{text}"
        );
        let text = message(parse(r#"{"input":{}}"#));
        assert!(text.contains("missing field `assistant_id`"), "{text}");
    }

    #[test]
    fn what_needs_threads_is_not_implemented() {
        let error = parse(r#"{"assistant_id":"agent","command":{"resume":"yes"}}"#).unwrap_err();
        assert!(matches!(error, ApiError::NotImplemented(_)), "{error}");
        assert!(error.to_string().starts_with("command: needs threads"));
        // Empty values ask for nothing, as the SDKs may send them.
        assert!(
            parse(r#"{"assistant_id":"agent","interrupt_before":[],"stream_resumable":false}"#)
                .is_ok()
        );
    }
}
