//! A run's items as the events of each requested stream mode.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use stategraph_core::{ChatChunk, GraphError, LangChainJson};
use uuid::Uuid;

use crate::error::INTERNAL_ERROR;
use crate::request::Modes;
use crate::served::{MessageItem, RunFailure, RunItem};
use crate::wire::sse;

/// Writes a run's events: the `metadata` event, each item in the shapes its modes ask for,
/// and the `error` event of a failed run.
pub(crate) struct EventEncoder {
    modes: Modes,
    /// `messages` mode's messages so far, by id; a message leaves when complete.
    messages: HashMap<Arc<str>, ChatChunk>,
}

impl EventEncoder {
    pub(crate) fn new(modes: Modes) -> Self {
        Self {
            modes,
            messages: HashMap::new(),
        }
    }

    /// `event: metadata` with the run id: always the first event of a run.
    pub(crate) fn metadata(out: &mut BytesMut, run_id: Uuid) {
        let json = serde_json::json!({ "run_id": run_id, "attempt": 1 }).to_string();
        sse::frame(out, "metadata", &[], json.as_bytes());
    }

    /// Appends the events of one item.
    pub(crate) fn item(
        &mut self,
        item: RunItem,
        out: &mut BytesMut,
    ) -> Result<(), serde_json::Error> {
        match item {
            RunItem::Values(json) => sse::frame(out, "values", &[], json.as_bytes()),
            RunItem::Updates { ns, json } => sse::frame(out, "updates", &ns, json.as_bytes()),
            RunItem::Custom { ns, json } => sse::frame(out, "custom", &ns, json.as_bytes()),
            RunItem::Task { ns, debug, task } => {
                if let Some(json) = debug {
                    sse::frame(out, "debug", &ns, json.as_bytes());
                }
                if let Some(json) = task {
                    sse::frame(out, "tasks", &ns, json.as_bytes());
                }
            }
            RunItem::Checkpoint { checkpoint, debug } => {
                if let Some(json) = debug {
                    sse::frame(out, "debug", &[], json.as_bytes());
                }
                if let Some(json) = checkpoint {
                    sse::frame(out, "checkpoints", &[], json.as_bytes());
                }
            }
            RunItem::Interrupt { values, updates } => {
                if let Some(json) = values {
                    sse::frame(out, "values", &[], json.as_bytes());
                }
                if let Some(json) = updates {
                    sse::frame(out, "updates", &[], json.as_bytes());
                }
            }
            RunItem::Message(message) => {
                if self.modes.messages_tuple {
                    Self::message_tuple(&message, out)?;
                }
                if self.modes.messages {
                    self.message(&message, out)?;
                }
            }
        }
        Ok(())
    }

    /// `messages-tuple` mode: `event: messages`, `[<AIMessageChunk>, <metadata>]`.
    fn message_tuple(message: &MessageItem, out: &mut BytesMut) -> Result<(), serde_json::Error> {
        sse::start(out, "messages", &message.ns);
        let mut writer = out.writer();
        writer.write_all(b"[").map_err(serde_json::Error::io)?;
        let json = if message.returned {
            LangChainJson::whole_chunk(&message.chunk, &message.id)
        } else {
            LangChainJson::chunk(&message.chunk, &message.id, message.last)
                .with_model(message.model.as_ref())
        };
        serde_json::to_writer(&mut writer, &json)?;
        writer.write_all(b",").map_err(serde_json::Error::io)?;
        writer
            .write_all(message.metadata.as_bytes())
            .map_err(serde_json::Error::io)?;
        writer.write_all(b"]").map_err(serde_json::Error::io)?;
        sse::finish(writer.into_inner());
        Ok(())
    }

    /// `messages` mode: `messages/metadata` when a message starts, then the whole message
    /// so far with each chunk, as `messages/partial` and, with its last chunk,
    /// `messages/complete`.
    fn message(
        &mut self,
        message: &MessageItem,
        out: &mut BytesMut,
    ) -> Result<(), serde_json::Error> {
        let accumulated = match self.messages.get_mut(&message.id) {
            Some(accumulated) => accumulated,
            None => {
                sse::start(out, "messages/metadata", &message.ns);
                let mut writer = out.writer();
                write!(
                    writer,
                    "{{{}:{{\"metadata\":",
                    serde_json::to_string(&*message.id)?
                )
                .map_err(serde_json::Error::io)?;
                writer
                    .write_all(message.metadata.as_bytes())
                    .map_err(serde_json::Error::io)?;
                writer.write_all(b"}}").map_err(serde_json::Error::io)?;
                sse::finish(writer.into_inner());
                self.messages.entry(message.id.clone()).or_default()
            }
        };
        *accumulated += &message.chunk;
        let event = if message.last {
            "messages/complete"
        } else {
            "messages/partial"
        };
        sse::start(out, event, &message.ns);
        let mut writer = out.writer();
        writer.write_all(b"[").map_err(serde_json::Error::io)?;
        serde_json::to_writer(
            &mut writer,
            &LangChainJson::whole_chunk(accumulated, &message.id)
                .with_model(message.model.as_ref()),
        )?;
        writer.write_all(b"]").map_err(serde_json::Error::io)?;
        sse::finish(writer.into_inner());
        if message.last {
            self.messages.remove(&message.id);
        }
        Ok(())
    }

    /// `event: error` with `{"error", "message"}`. What a client may see of a failure: the
    /// failing node and step, the limit reached, the conflicting field; never a node's own
    /// error text, which may hold anything (it goes to the server's log).
    pub(crate) fn error(out: &mut BytesMut, failure: &RunFailure) {
        let json = client_error(failure).to_string();
        sse::frame(out, "error", &[], json.as_bytes());
    }
}

/// `{"error", "message"}` for a failed run, logging the whole failure.
pub(crate) fn client_error(failure: &RunFailure) -> serde_json::Value {
    tracing::error!(error = %failure, "run failed");
    let (error, message) = match failure {
        RunFailure::Graph(GraphError::Node { node, step, .. }) => {
            ("NodeError", format!("node `{node}` failed in step {step}"))
        }
        RunFailure::Graph(GraphError::NodePanicked { node, step, .. }) => (
            "NodePanicked",
            format!("node `{node}` panicked in step {step}"),
        ),
        RunFailure::Graph(error @ GraphError::RecursionLimit { .. }) => {
            ("GraphRecursionError", error.to_string())
        }
        RunFailure::Graph(error @ GraphError::ConflictingUpdate { .. }) => {
            ("InvalidUpdateError", error.to_string())
        }
        _ => ("InternalError", INTERNAL_ERROR.to_owned()),
    };
    serde_json::json!({ "error": error, "message": message })
}
