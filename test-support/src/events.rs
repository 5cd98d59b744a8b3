//! The server-sent events of an OpenAI-compatible streamed answer, for scripted replies.

/// The first event of an answer: the role, and no content.
pub fn role_event() -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}],
        })
    )
}

/// One `data:` event with a content delta.
pub fn content_event(text: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
        })
    )
}

/// The event that ends a choice with `reason`.
pub fn finish_event(reason: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": reason}],
        })
    )
}

/// The event that ends an OpenAI stream.
pub const DONE: &str = "data: [DONE]\n\n";
