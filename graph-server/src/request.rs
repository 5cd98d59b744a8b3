//! The body of a run (`POST /runs/stream`, `/runs/wait` and their thread forms), checked
//! field by field: an unknown field is ignored, an invalid value is an error naming the
//! field.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use stategraph_core::Durability as RunDurability;
use stategraph_core::checkpoint::CheckpointId;

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
    Checkpoints,
}

impl ModeName {
    const SERVED: &str = "`values`, `updates`, `messages-tuple`, `messages`, `custom`, `debug`, `tasks`, `checkpoints`";

    fn parse(name: &str) -> Result<Self, ApiError> {
        Ok(match name {
            "values" => Self::Values,
            "updates" => Self::Updates,
            "messages-tuple" => Self::MessagesTuple,
            "messages" => Self::Messages,
            "custom" => Self::Custom,
            "debug" => Self::Debug,
            "tasks" => Self::Tasks,
            "checkpoints" => Self::Checkpoints,
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
    pub(crate) checkpoints: bool,
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
            ModeName::Checkpoints => self.checkpoints = true,
        }
        self
    }

    /// Values alone: LangGraph's default, and what `/runs/wait` needs.
    pub(crate) fn values() -> Self {
        Self::default().with(ModeName::Values)
    }

    /// The modes named in a join's `stream_mode` query parameters; `None` when none are
    /// named (every event the run logged). An empty one names none: the Python SDK sends
    /// `stream_mode=` when it is not given.
    pub(crate) fn from_query_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Self>, ApiError> {
        let mut modes: Option<Self> = None;
        for name in names.into_iter().filter(|name| !name.is_empty()) {
            modes = Some(modes.unwrap_or_default().with(ModeName::parse(name)?));
        }
        Ok(modes)
    }

    /// Whether an event named `event` (without its namespace) belongs to these modes. The
    /// run's own events (`metadata`, `error`, `end`) belong to every set.
    pub(crate) fn has_event(self, event: &str) -> bool {
        match event {
            "values" => self.values,
            "updates" => self.updates,
            "messages" => self.messages_tuple,
            "custom" => self.custom,
            "debug" => self.debug,
            "tasks" => self.tasks,
            "checkpoints" => self.checkpoints,
            partial if partial.starts_with("messages/") => self.messages,
            _ => true,
        }
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

/// `multitask_strategy`: what a run does when another run holds its thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MultitaskStrategy {
    /// A 409: the thread is busy.
    Reject,
    /// Stop the running run, keeping what it stored, and start.
    Interrupt,
    /// Stop the running run, delete it and what it stored, and start.
    Rollback,
    /// Start when the runs before it on the thread have ended, in order: LangGraph's
    /// server's default, which a chat front-end's double-texting relies on.
    #[default]
    Enqueue,
}

impl MultitaskStrategy {
    /// LangGraph's name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Interrupt => "interrupt",
            Self::Rollback => "rollback",
            Self::Enqueue => "enqueue",
        }
    }
}

/// `action` of a cancel: what happens to the run stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CancelAction {
    /// Stop it and keep what it stored; its status becomes `interrupted`.
    #[default]
    Interrupt,
    /// Stop it and delete its record and the checkpoints it wrote.
    Rollback,
}

#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
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

#[derive(Clone, Copy, Deserialize)]
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
    command: Option<CommandJson>,
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
    interrupt_before: Option<BreakpointsJson>,
    #[serde(default)]
    interrupt_after: Option<BreakpointsJson>,
    #[serde(default)]
    checkpoint: Option<CheckpointJson>,
    #[serde(default)]
    checkpoint_id: Option<String>,
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

/// How a thread run begins.
pub(crate) enum Begin {
    /// An input, applied to the thread's state through its reducers.
    Input(Value),
    /// A command, in place of an input.
    Command(CommandBody),
}

/// A `command` as the SDKs send it, checked for its shape but not yet against the graph.
#[derive(Debug, Default)]
pub(crate) struct CommandBody {
    pub(crate) resume: Option<Value>,
    /// A JSON object of the fields the update sets.
    pub(crate) update: Option<Map<String, Value>>,
    pub(crate) goto: Vec<GotoTarget>,
}

/// One item of a command's `goto`, with the field it was given in (`command.goto` or
/// `command.goto[i]`), which an error about it names.
#[derive(Debug)]
pub(crate) struct GotoTarget {
    pub(crate) field: String,
    pub(crate) to: Goto,
}

/// Where a command's `goto` sends the run.
#[derive(Debug)]
pub(crate) enum Goto {
    /// The node, in the next step.
    Node(String),
    /// A task of the node on this input (LangGraph's `Send(node, arg)`).
    Send { node: String, input: Value },
}

/// Breakpoints as a request names them: `"*"` or node names.
#[derive(Debug, Clone)]
pub(crate) enum Breakpoints {
    All,
    Nodes(Vec<String>),
}

/// A `command`: `resume`, `update` (an object, or a list of `[key, value]` pairs) and
/// `goto` (a node or a Send, or a list of them).
#[derive(Deserialize)]
struct CommandJson {
    #[serde(default)]
    resume: Option<Value>,
    #[serde(default)]
    update: Option<Value>,
    #[serde(default)]
    goto: Option<Value>,
}

/// `interrupt_before` / `interrupt_after`: `"*"` or a list of nodes.
#[derive(Deserialize)]
#[serde(untagged)]
enum BreakpointsJson {
    All(String),
    Nodes(Vec<String>),
}

/// `checkpoint`: where to fork from.
#[derive(Deserialize)]
struct CheckpointJson {
    #[serde(default)]
    checkpoint_id: Option<String>,
    #[serde(default)]
    checkpoint_ns: Option<String>,
}

/// What only a run on a thread takes.
pub(crate) struct ThreadFields {
    pub(crate) begin: Begin,
    pub(crate) interrupt_before: Option<Breakpoints>,
    pub(crate) interrupt_after: Option<Breakpoints>,
    pub(crate) checkpoint_id: Option<CheckpointId>,
    pub(crate) durability: Option<RunDurability>,
    /// `if_not_exists=create`: a missing thread is created rather than a 404.
    pub(crate) create: bool,
}

impl std::fmt::Debug for ThreadFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadFields")
            .field("checkpoint_id", &self.checkpoint_id)
            .field("create", &self.create)
            .finish_non_exhaustive()
    }
}

/// A checked run request.
#[derive(Debug)]
pub(crate) struct RunRequest {
    pub(crate) assistant_id: String,
    pub(crate) input: Value,
    pub(crate) modes: Modes,
    pub(crate) subgraphs: bool,
    pub(crate) config: ConfigBody,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) on_disconnect: OnDisconnect,
    /// Present for a run on a thread.
    pub(crate) thread: Option<ThreadFields>,
    /// What the run does on a busy thread (a thread run's only).
    pub(crate) multitask: MultitaskStrategy,
    /// `stream_resumable`: its events carry ids a reconnecting client names.
    pub(crate) resumable: bool,
}

impl RunRequest {
    /// Parses and checks the body of a stateless run.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ApiError> {
        Self::parse_as(body, false)
    }

    /// Parses and checks the body of a run on a thread.
    pub(crate) fn parse_stateful(body: &[u8]) -> Result<Self, ApiError> {
        Self::parse_as(body, true)
    }

    fn parse_as(body: &[u8], stateful: bool) -> Result<Self, ApiError> {
        let body: RunCreateBody = parse_body(body)?;
        // Checked for its value only: a run's thread is its own here.
        let _ = body.on_completion;
        let has_command = body.command.as_ref().is_some_and(|command| {
            command.resume.is_some() || command.update.is_some() || command.goto.is_some()
        });
        let needs_threads = [
            ("command", has_command),
            ("checkpoint", body.checkpoint.is_some()),
            (
                "checkpoint_id",
                body.checkpoint_id.as_ref().is_some_and(|id| !id.is_empty()),
            ),
            (
                "interrupt_before",
                body.interrupt_before
                    .as_ref()
                    .is_some_and(BreakpointsJson::asks),
            ),
            (
                "interrupt_after",
                body.interrupt_after
                    .as_ref()
                    .is_some_and(BreakpointsJson::asks),
            ),
        ];
        if !stateful && let Some((field, _)) = needs_threads.iter().find(|(_, given)| *given) {
            return Err(ApiError::NotImplemented(format!(
                "{field}: needs a thread; run on one with POST /threads/{{thread_id}}/runs/stream"
            )));
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
        if modes.checkpoints && !stateful {
            return Err(ApiError::NotImplemented(
                "stream_mode: `checkpoints` needs a thread; run on one with POST /threads/{thread_id}/runs/stream"
                    .into(),
            ));
        }
        let config = body.config.unwrap_or_default();
        if config.recursion_limit == Some(0) {
            return Err(ApiError::Unprocessable(
                "config.recursion_limit: must be at least 1".into(),
            ));
        }
        let input = body.input.unwrap_or(Value::Null);
        let thread = if stateful {
            let begin = match body.command {
                Some(command) if has_command => {
                    if !is_empty(&input) {
                        return Err(ApiError::Unprocessable(
                            "input: give an input or a command, not both".into(),
                        ));
                    }
                    Begin::Command(command_body(command)?)
                }
                _ => Begin::Input(input.clone()),
            };
            let fork = body
                .checkpoint
                .and_then(|checkpoint| {
                    if checkpoint.checkpoint_ns.as_deref().is_some_and(|ns| !ns.is_empty()) {
                        Some(Err(ApiError::NotImplemented(
                            "checkpoint.checkpoint_ns: forking a subgraph's checkpoint is not served".into(),
                        )))
                    } else {
                        checkpoint.checkpoint_id.map(|id| Ok(("checkpoint.checkpoint_id", id)))
                    }
                })
                .transpose()?
                .or_else(|| body.checkpoint_id.map(|id| ("checkpoint_id", id)))
                .or_else(|| {
                    config
                        .configurable
                        .as_ref()
                        .and_then(|configurable| configurable.get("checkpoint_id"))
                        .and_then(Value::as_str)
                        .map(|id| ("config.configurable.checkpoint_id", id.to_owned()))
                })
                .filter(|(_, id)| !id.is_empty())
                .map(|(field, id)| {
                    id.parse::<CheckpointId>().map_err(|error| {
                        ApiError::Unprocessable(format!("{field}: `{id}` is not a checkpoint id: {error}"))
                    })
                })
                .transpose()?;
            Some(ThreadFields {
                begin,
                interrupt_before: body
                    .interrupt_before
                    .and_then(BreakpointsJson::into_breakpoints),
                interrupt_after: body
                    .interrupt_after
                    .and_then(BreakpointsJson::into_breakpoints),
                checkpoint_id: fork,
                durability: body.durability.map(|durability| match durability {
                    Durability::Sync => RunDurability::Sync,
                    Durability::Async => RunDurability::Async,
                    Durability::Exit => RunDurability::Exit,
                }),
                create: body.if_not_exists == Some(IfNotExists::Create),
            })
        } else {
            let _ = (body.if_not_exists, body.durability);
            None
        };
        Ok(Self {
            assistant_id: body.assistant_id,
            input,
            modes,
            subgraphs: body.stream_subgraphs.unwrap_or(false),
            config,
            metadata: body.metadata.unwrap_or_default(),
            on_disconnect: body.on_disconnect.unwrap_or_default(),
            thread,
            multitask: body.multitask_strategy.unwrap_or_default(),
            resumable: body.stream_resumable.unwrap_or(false),
        })
    }
}

impl BreakpointsJson {
    /// Whether any node is asked for.
    fn asks(&self) -> bool {
        match self {
            Self::All(text) => !text.is_empty(),
            Self::Nodes(nodes) => !nodes.is_empty(),
        }
    }

    fn into_breakpoints(self) -> Option<Breakpoints> {
        match self {
            Self::All(text) if text == "*" => Some(Breakpoints::All),
            Self::All(text) if text.is_empty() => None,
            // One node named alone.
            Self::All(node) => Some(Breakpoints::Nodes(vec![node])),
            Self::Nodes(nodes) if nodes.is_empty() => None,
            Self::Nodes(nodes) => Some(Breakpoints::Nodes(nodes)),
        }
    }
}

/// A command's shape checked: `update` an object or `[key, value]` pairs, `goto` node names
/// and Sends (`{"node", "input"}`).
fn command_body(command: CommandJson) -> Result<CommandBody, ApiError> {
    let update = match command.update {
        None | Some(Value::Null) => None,
        Some(Value::Object(fields)) => Some(fields),
        Some(Value::Array(pairs)) => Some(
            pairs
                .into_iter()
                .enumerate()
                .map(|(at, pair)| match pair {
                    Value::Array(mut pair) if pair.len() == 2 && pair[0].is_string() => {
                        let value = pair.pop().unwrap_or(Value::Null);
                        match pair.pop() {
                            Some(Value::String(key)) => Ok((key, value)),
                            _ => Err(at),
                        }
                    }
                    _ => Err(at),
                })
                .collect::<Result<Map<String, Value>, usize>>()
                .map_err(|at| {
                    ApiError::Unprocessable(format!(
                        "command.update[{at}]: expected a [key, value] pair"
                    ))
                })?,
        ),
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "command.update: expected an object of the state's fields or [key, value] pairs, got {}",
                json_kind(&other)
            )));
        }
    };
    let goto_one = |field: String, value: Value| {
        let to = match value {
            Value::String(node) => Goto::Node(node),
            Value::Object(mut send) => {
                let node = match send.remove("node") {
                    Some(Value::String(node)) => node,
                    Some(other) => {
                        return Err(ApiError::Unprocessable(format!(
                            "{field}.node: expected a node name, got {}",
                            json_kind(&other)
                        )));
                    }
                    None => {
                        return Err(ApiError::Unprocessable(format!(
                            "{field}: expected a node name or a Send (`{{\"node\", \"input\"}}`), got an object without `node`"
                        )));
                    }
                };
                let input = send.remove("input").unwrap_or(Value::Null);
                Goto::Send { node, input }
            }
            other => {
                return Err(ApiError::Unprocessable(format!(
                    "{field}: expected a node name or a Send (`{{\"node\", \"input\"}}`), got {}",
                    json_kind(&other)
                )));
            }
        };
        Ok(GotoTarget { field, to })
    };
    let goto = match command.goto {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(at, item)| goto_one(format!("command.goto[{at}]"), item))
            .collect::<Result<_, _>>()?,
        Some(one) => vec![goto_one("command.goto".to_owned(), one)?],
    };
    Ok(CommandBody {
        resume: command.resume,
        update,
        goto,
    })
}

/// What kind of JSON `value` is, for error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
        assert!(error.to_string().starts_with("command: needs a thread"));
        // Empty values ask for nothing, as the SDKs may send them.
        assert!(
            parse(r#"{"assistant_id":"agent","interrupt_before":[],"stream_resumable":false}"#)
                .is_ok()
        );
        // A stateless run's events are kept to be joined without a thread.
        let resumable = parse(r#"{"assistant_id":"agent","stream_resumable":true}"#).unwrap();
        assert!(resumable.resumable);
    }

    fn command(json: &str) -> Result<CommandBody, ApiError> {
        let body = format!(r#"{{"assistant_id":"agent","command":{json}}}"#);
        let request = RunRequest::parse_stateful(body.as_bytes())?;
        match request.thread.map(|thread| thread.begin) {
            Some(Begin::Command(command)) => Ok(command),
            _ => panic!("not a command: {json}"),
        }
    }

    #[test]
    fn a_goto_is_node_names_and_sends_each_named_by_its_place() {
        let goto = command(r#"{"goto":["plan",{"node":"fetch","input":{"url":"a"}}]}"#)
            .unwrap()
            .goto;
        assert_eq!(goto.len(), 2);
        assert_eq!(goto[0].field, "command.goto[0]");
        assert!(matches!(&goto[0].to, Goto::Node(node) if node == "plan"));
        assert_eq!(goto[1].field, "command.goto[1]");
        assert!(matches!(
            &goto[1].to,
            Goto::Send { node, input } if node == "fetch" && *input == serde_json::json!({"url": "a"})
        ));
        let one = command(r#"{"goto":{"node":"fetch"}}"#).unwrap().goto;
        assert_eq!(one[0].field, "command.goto");
        assert!(matches!(
            &one[0].to,
            Goto::Send {
                input: Value::Null,
                ..
            }
        ));
        let text = command(r#"{"goto":["plan",{"node":3}]}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            "command.goto[1].node: expected a node name, got a number"
        );
        let text = command(r#"{"goto":[true]}"#).unwrap_err().to_string();
        assert!(
            text.starts_with("command.goto[0]: expected a node name or a Send"),
            "{text}"
        );
    }
}
