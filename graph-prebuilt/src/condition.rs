//! `tools_condition`: where a ReAct loop goes after the model answered.

use stategraph_core::{Message, Role};

/// `tools` when the last message is the model's and calls tools, else `end`: LangGraph's
/// `tools_condition`, typed by the router's own enum.
///
/// ```
/// use stategraph_core::{Message, ToolCall};
/// use stategraph_prebuilt::tools_condition;
///
/// #[derive(Debug, PartialEq)]
/// enum Route { Tools, End }
///
/// let call = ToolCall { id: "call_1".into(), name: "get_weather".into(), arguments: "{}".into() };
/// let calling = [Message::user("Weather?"), Message::assistant_tool_calls([call])];
/// assert_eq!(tools_condition(&calling, Route::Tools, Route::End), Route::Tools);
/// let answered = [Message::user("Weather?"), Message::assistant("Sunny")];
/// assert_eq!(tools_condition(&answered, Route::Tools, Route::End), Route::End);
/// ```
pub fn tools_condition<R>(messages: &[Message], tools: R, end: R) -> R {
    match messages.last() {
        Some(last) if last.role == Role::Assistant && !last.tool_calls.is_empty() => tools,
        _ => end,
    }
}
