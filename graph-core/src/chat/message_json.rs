//! Reading a [`Message`] back from JSON: LangChain's shape (which `Message` writes) and the
//! OpenAI shape clients send (`{"role": "user", "content": "hi"}`).

use serde::Deserialize;

use super::{FinishReason, Message, Role, ToolCall, ToolStatus, Usage};

/// Every field either shape may have.
#[derive(Deserialize)]
pub(super) struct MessageIn {
    #[serde(rename = "type")]
    kind: Option<String>,
    role: Option<String>,
    #[serde(default)]
    content: serde_json::Value,
    #[serde(default)]
    tool_calls: Vec<CallIn>,
    #[serde(default)]
    invalid_tool_calls: Vec<CallIn>,
    #[serde(default)]
    additional_kwargs: Option<AdditionalIn>,
    tool_call_id: Option<String>,
    name: Option<String>,
    status: Option<ToolStatus>,
    id: Option<String>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    response_metadata: Option<ResponseIn>,
    usage_metadata: Option<UsageIn>,
}

#[derive(Deserialize)]
struct CallIn {
    id: Option<String>,
    name: Option<String>,
    /// LangChain's parsed arguments (the raw text, for an invalid call).
    args: Option<serde_json::Value>,
    /// The OpenAI shape, flat or under `function`.
    arguments: Option<String>,
    function: Option<FunctionIn>,
}

#[derive(Deserialize)]
struct FunctionIn {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct AdditionalIn {
    #[serde(default)]
    tool_calls: Vec<CallIn>,
}

#[derive(Deserialize)]
struct ResponseIn {
    finish_reason: Option<FinishReason>,
}

#[derive(Deserialize)]
struct UsageIn {
    input_tokens: u64,
    output_tokens: u64,
    total_tokens: u64,
}

impl CallIn {
    fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or_else(|| self.function.as_ref()?.name.as_deref())
    }

    /// The arguments' text as the model wrote it, when this shape keeps it.
    fn raw_arguments(&self) -> Option<&str> {
        self.arguments
            .as_deref()
            .or_else(|| self.function.as_ref()?.arguments.as_deref())
    }
}

impl MessageIn {
    pub(super) fn into_message(self) -> Result<Message, String> {
        let role = match (self.kind.as_deref(), self.role.as_deref()) {
            (Some(kind), _) => role_of(kind)?,
            (None, Some(role)) => role_of(role)?,
            (None, None) => {
                return Err(
                    "a message needs a `type` (`human`, `ai`, `system`, `tool`) \
                            or a `role` (`user`, `assistant`, `system`, `tool`)"
                        .to_owned(),
                );
            }
        };
        let mut message = Message::new(role, text_of(self.content)?);
        let raw: Vec<CallIn> = self
            .additional_kwargs
            .map(|kwargs| kwargs.tool_calls)
            .unwrap_or_default();
        message.tool_calls = self
            .tool_calls
            .into_iter()
            .chain(self.invalid_tool_calls)
            .map(|call| {
                let id = call.id.clone().unwrap_or_default();
                // The exact text, from where the OpenAI shape keeps it; else the parsed
                // arguments written back.
                let arguments = call
                    .raw_arguments()
                    .map(str::to_owned)
                    .or_else(|| {
                        raw.iter()
                            .find(|raw| raw.id.as_deref() == Some(id.as_str()))
                            .and_then(|raw| raw.raw_arguments().map(str::to_owned))
                    })
                    .or_else(|| match &call.args {
                        Some(serde_json::Value::String(text)) => Some(text.clone()),
                        Some(args) => Some(args.to_string()),
                        None => None,
                    })
                    .unwrap_or_default();
                ToolCall {
                    name: call.name().unwrap_or_default().to_owned(),
                    id,
                    arguments,
                }
            })
            .collect();
        message.tool_call_id = self.tool_call_id;
        message.name = self.name;
        message.status = self.status;
        message.id = self.id;
        message.finish_reason = self
            .finish_reason
            .or_else(|| self.response_metadata?.finish_reason);
        message.usage = self.usage.or_else(|| {
            self.usage_metadata.map(|usage| Usage {
                prompt_tokens: usage.input_tokens,
                completion_tokens: usage.output_tokens,
                total_tokens: usage.total_tokens,
            })
        });
        Ok(message)
    }
}

fn role_of(kind: &str) -> Result<Role, String> {
    Ok(match kind {
        "human" | "user" | "HumanMessage" | "HumanMessageChunk" => Role::User,
        "ai" | "assistant" | "AIMessage" | "AIMessageChunk" => Role::Assistant,
        "system" | "developer" | "SystemMessage" => Role::System,
        "tool" | "ToolMessage" | "ToolMessageChunk" => Role::Tool,
        other => {
            return Err(format!(
                "unknown message type `{other}`; the types are `human`, `ai`, `system`, `tool`"
            ));
        }
    })
}

/// A string, `null`, or LangChain's content blocks (`[{"type": "text", "text"}]` or
/// strings), whose texts are joined.
fn text_of(content: serde_json::Value) -> Result<String, String> {
    match content {
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Array(blocks) => Ok(blocks
            .iter()
            .filter_map(|block| match block {
                serde_json::Value::String(text) => Some(text.as_str()),
                block => block.get("text")?.as_str(),
            })
            .collect()),
        other => Err(format!(
            "a message's `content` is text or a list of content blocks, not {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_message_reads_back_what_it_writes() {
        let mut answer = Message::assistant_tool_calls([ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":  "Paris"}"#.into(),
        }]);
        answer.id = Some("run-1".into());
        answer.finish_reason = Some(FinishReason::ToolCalls);
        answer.usage = Some(Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
            total_tokens: 3,
        });
        let messages = [
            Message::system("Be brief.").with_id("s"),
            Message::user("Weather?"),
            answer,
            Message::tool_result("call_1", "get_weather", "Sunny", ToolStatus::Error),
        ];
        for message in messages {
            let json = serde_json::to_value(&message).unwrap();
            assert_eq!(serde_json::from_value::<Message>(json).unwrap(), message);
        }
    }

    #[test]
    fn the_openai_shape_and_content_blocks_read_too() {
        let message: Message =
            serde_json::from_value(json!({"role": "user", "content": "hi"})).unwrap();
        assert_eq!(message, Message::user("hi"));
        let message: Message = serde_json::from_value(json!({
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        }))
        .unwrap();
        assert_eq!(message.tool_calls[0].name, "f");
        let message: Message = serde_json::from_value(
            json!({"type": "human", "content": [{"type": "text", "text": "a"}, "b"]}),
        )
        .unwrap();
        assert_eq!(message.content, "ab");
        let error = serde_json::from_value::<Message>(json!({"content": "x"})).unwrap_err();
        assert!(
            error.to_string().starts_with("a message needs a `type`"),
            "{error}"
        );
        let error = serde_json::from_value::<Message>(json!({"type": "robot"})).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("unknown message type `robot`"),
            "{error}"
        );
    }
}
