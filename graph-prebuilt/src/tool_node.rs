//! `ToolNode`: runs the tool calls of the model's last answer.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use stategraph_core::telemetry;
use stategraph_core::{Message, Role, Tool, ToolCall, ToolDefinition, ToolError, ToolStatus};
use tracing::Instrument;

/// Runs every tool call of the last AI message concurrently and answers each with one tool
/// message, in call order, carrying the call's id and the tool's name: LangGraph's
/// `ToolNode`.
///
/// A call of an unknown tool, or a tool that panics, is answered with an error tool message
/// (status `error`) so the model can correct itself, and the run goes on. Arguments that do
/// not fit the tool, and a tool's own error, are answered the same way unless
/// [`HandleToolErrors::Fail`] is set, which makes them the node's error.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use stategraph_core::{Message, Tool, ToolCall, ToolDefinition, ToolFuture};
/// use stategraph_prebuilt::ToolNode;
///
/// struct Upper(ToolDefinition);
/// impl Tool for Upper {
///     fn definition(&self) -> &ToolDefinition { &self.0 }
///     fn call<'a>(&'a self, arguments: &'a str) -> ToolFuture<'a> {
///         Box::pin(async move { Ok(arguments.to_uppercase()) })
///     }
/// }
///
/// let tools = ToolNode::new().tool(Upper(ToolDefinition::new("upper", "Upper-cases", serde_json::json!({"type": "object"}))));
/// let call = ToolCall { id: "call_1".into(), name: "upper".into(), arguments: "{\"a\": 1}".into() };
/// let answers = tools.run(&[Message::assistant_tool_calls([call])]).await.unwrap();
/// assert_eq!(answers[0].content, "{\"A\": 1}");
/// assert_eq!(answers[0].tool_call_id.as_deref(), Some("call_1"));
/// # });
/// ```
#[derive(Clone, Default)]
pub struct ToolNode {
    tools: Vec<Arc<dyn Tool>>,
    errors: HandleToolErrors,
}

/// What a [`ToolNode`] does with arguments that do not fit and with a tool's own error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HandleToolErrors {
    /// Answers the call with an error tool message, for the model to correct itself
    /// (LangGraph's `handle_tool_errors=True`).
    #[default]
    Reply,
    /// Fails the node with the error.
    Fail,
}

/// Why a [`ToolNode`] run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolNodeError {
    /// The conversation does not end with an AI message, so there are no calls to answer.
    #[error("the last message is not the model's (it is a `{role}` message): no tool calls to run")]
    NoAiMessage {
        /// The last message's role; `None` for an empty conversation.
        role: String,
    },
    /// A tool call failed and [`HandleToolErrors::Fail`] is set.
    #[error(transparent)]
    Tool(#[from] ToolError),
}

impl std::fmt::Debug for ToolNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolNode")
            .field(
                "tools",
                &self.tools.iter().map(|t| t.name()).collect::<Vec<_>>(),
            )
            .field("errors", &self.errors)
            .finish()
    }
}

impl ToolNode {
    /// A tool node with no tools yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tool`; one of the same name replaces the earlier.
    #[must_use]
    pub fn tool(self, tool: impl Tool + 'static) -> Self {
        self.shared_tool(Arc::new(tool))
    }

    /// Adds a shared `tool`; one of the same name replaces the earlier.
    #[must_use]
    pub fn shared_tool(mut self, tool: Arc<dyn Tool>) -> Self {
        match self.tools.iter_mut().find(|old| old.name() == tool.name()) {
            Some(old) => *old = tool,
            None => self.tools.push(tool),
        }
        self
    }

    /// Sets what happens to arguments that do not fit and to a tool's own error.
    #[must_use]
    pub fn handle_tool_errors(mut self, errors: HandleToolErrors) -> Self {
        self.errors = errors;
        self
    }

    /// The tools' definitions, to offer the model (`ctx.chat(&model).tools(..)`).
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools
            .iter()
            .map(|tool| tool.definition().clone())
            .collect()
    }

    /// The tools.
    pub fn tools(&self) -> &[Arc<dyn Tool>] {
        &self.tools
    }

    /// Runs every tool call of the last message, which must be the model's, concurrently;
    /// returns one tool message per call, in call order (none when it calls no tools).
    ///
    /// # Errors
    /// [`ToolNodeError::NoAiMessage`] when the last message is not the model's;
    /// [`ToolNodeError::Tool`] when a call failed and [`HandleToolErrors::Fail`] is set.
    pub async fn run(&self, messages: &[Message]) -> Result<Vec<Message>, ToolNodeError> {
        let last = match messages.last() {
            Some(last) if last.role == Role::Assistant => last,
            other => {
                return Err(ToolNodeError::NoAiMessage {
                    role: other.map_or_else(|| "none".to_owned(), |m| m.role.to_string()),
                });
            }
        };
        let answers =
            futures::future::join_all(last.tool_calls.iter().map(|call| self.answer(call))).await;
        answers.into_iter().collect()
    }

    /// One call's tool message, in the call's span.
    async fn answer(&self, call: &ToolCall) -> Result<Message, ToolNodeError> {
        let span = telemetry::tool_span(&call.name, &call.id);
        let answer = self.answer_in(call).instrument(span.clone()).await;
        if !span.is_disabled() {
            match &answer {
                Ok(message) if message.status == Some(ToolStatus::Error) => {
                    telemetry::mark_error(&span, "tool_error", &message.content);
                }
                Ok(_) => {}
                Err(error) => telemetry::mark_error(&span, "tool_error", error),
            }
        }
        answer
    }

    async fn answer_in(&self, call: &ToolCall) -> Result<Message, ToolNodeError> {
        let reply = |content: String, status| {
            Message::tool_result(call.id.clone(), call.name.clone(), content, status)
        };
        let Some(tool) = self.tools.iter().find(|tool| tool.name() == call.name) else {
            let names: Vec<&str> = self.tools.iter().map(|tool| tool.name()).collect();
            return Ok(reply(
                format!(
                    "Error: `{}` is not a valid tool, try one of [{}].",
                    call.name,
                    names.join(", ")
                ),
                ToolStatus::Error,
            ));
        };
        match AssertUnwindSafe(tool.call(&call.arguments))
            .catch_unwind()
            .await
        {
            Ok(Ok(content)) => Ok(reply(content, ToolStatus::Success)),
            Ok(Err(error)) => match self.errors {
                HandleToolErrors::Reply => Ok(reply(
                    format!("Error: {error}\n Please fix your mistakes."),
                    ToolStatus::Error,
                )),
                HandleToolErrors::Fail => Err(ToolNodeError::Tool(error)),
            },
            Err(panic) => Ok(reply(
                format!(
                    "Error: tool `{}` panicked: {}",
                    call.name,
                    panic_message(&*panic)
                ),
                ToolStatus::Error,
            )),
        }
    }
}

/// A panic's message, when it was a string.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic that is not a string")
}
