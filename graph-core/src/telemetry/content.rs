//! Whether model calls record what was said: off unless the user turns it on, since
//! prompts and answers may hold personal data.

use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::{Value, json};

use crate::chat::{Message, Role};

/// The variable OpenTelemetry's GenAI instrumentations read for the same choice.
pub const CAPTURE_CONTENT_VAR: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

const UNREAD: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static SETTING: AtomicU8 = AtomicU8::new(UNREAD);

/// Whether model-call spans record the messages sent and the answer
/// (`gen_ai.input.messages`, `gen_ai.output.messages`).
///
/// Off by default. On when [`set_record_content`] turned it on, or else when the
/// environment variable `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is `true`
/// (or `1`) the first time a model call asks. API keys are never recorded either way: a
/// model's key is not part of its request.
///
/// ```
/// stategraph_core::telemetry::set_record_content(false);
/// assert!(!stategraph_core::telemetry::record_content());
/// ```
pub fn record_content() -> bool {
    match SETTING.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => {
            let on = std::env::var(CAPTURE_CONTENT_VAR)
                .is_ok_and(|value| value.eq_ignore_ascii_case("true") || value == "1");
            // A concurrent `set_record_content` wins over the environment.
            let _ = SETTING.compare_exchange(
                UNREAD,
                if on { ON } else { OFF },
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            SETTING.load(Ordering::Relaxed) == ON
        }
    }
}

/// Turns recording of prompts and answers on model-call spans on or off for the whole
/// process, over the environment variable [`record_content`] reads.
pub fn set_record_content(on: bool) {
    SETTING.store(if on { ON } else { OFF }, Ordering::Relaxed);
}

/// `messages` as OpenTelemetry's GenAI JSON: `[{"role", "parts": [{"type", ...}]}]`.
pub(crate) fn messages_json<'a>(messages: impl IntoIterator<Item = &'a Message>) -> String {
    let messages: Vec<Value> = messages.into_iter().map(message_json).collect();
    Value::Array(messages).to_string()
}

fn message_json(message: &Message) -> Value {
    let mut parts = Vec::new();
    if message.role == Role::Tool {
        parts.push(json!({
            "type": "tool_call_response",
            "id": message.tool_call_id,
            "response": message.content,
        }));
    } else if !message.content.is_empty() {
        parts.push(json!({"type": "text", "content": message.content}));
    }
    for call in &message.tool_calls {
        parts.push(json!({
            "type": "tool_call",
            "id": call.id,
            "name": call.name,
            "arguments": call.arguments,
        }));
    }
    let mut value = json!({"role": message.role.to_string(), "parts": parts});
    if let Some(reason) = &message.finish_reason {
        value["finish_reason"] = Value::from(reason.as_str());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ToolCall;

    #[test]
    fn messages_are_written_as_roles_and_parts() {
        let call = ToolCall {
            id: "call_1".into(),
            name: "add".into(),
            arguments: "{}".into(),
        };
        let json = messages_json(&[Message::user("hi"), Message::assistant_tool_calls([call])]);
        assert_eq!(
            json,
            r#"[{"parts":[{"content":"hi","type":"text"}],"role":"user"},{"parts":[{"arguments":"{}","id":"call_1","name":"add","type":"tool_call"}],"role":"assistant"}]"#
        );
    }
}
