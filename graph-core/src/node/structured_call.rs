//! A model call whose answer is a typed value: `ctx.chat(&model).structured::<T>()`.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::chat_call::ChatCall;
use crate::chat::{
    ChatModel, Message, ResponseFormat, StructuredMethod, ToolChoice, read_structured,
};
use crate::error::ChatCallError;
use crate::graph::traits::GraphDef;

/// A model call that answers with a `T`: `ctx.chat(&model).structured::<T>().invoke(..)`.
/// Its chunks stream in messages mode like any call's.
#[must_use = "a chat call does nothing until `.invoke(..)`"]
pub struct StructuredCall<'a, G: GraphDef, M: ?Sized, T> {
    call: ChatCall<'a, G, M>,
    method: StructuredMethod,
    answer: PhantomData<fn() -> T>,
}

impl<'a, G, M, T> StructuredCall<'a, G, M, T>
where
    G: GraphDef,
    M: ChatModel + ?Sized,
    T: DeserializeOwned + schemars::JsonSchema,
{
    pub(super) fn new(call: ChatCall<'a, G, M>) -> Self {
        Self {
            call,
            method: StructuredMethod::default(),
            answer: PhantomData,
        }
    }

    /// How the schema reaches the model: `response_format` (the default) or a tool it is
    /// made to call.
    pub fn method(mut self, method: StructuredMethod) -> Self {
        self.method = method;
        self
    }

    /// Calls the model and reads its answer as a `T`.
    ///
    /// # Errors
    /// [`ChatCallError::Structured`] with the answer as it came when it is not a `T`; else
    /// as [`ChatCall::invoke`].
    pub async fn invoke(
        self,
        messages: impl IntoIterator<Item = Message>,
    ) -> Result<T, ChatCallError<M::Error>> {
        let format = ResponseFormat::of::<T>();
        let call = match self.method {
            StructuredMethod::JsonSchema => self.call.response_format(format.clone()),
            StructuredMethod::ToolCall => self
                .call
                .tools([format.as_tool()])
                .tool_choice(ToolChoice::Tool(format.name.clone())),
        };
        let message = call.invoke(messages).await?;
        read_structured(&message, self.method, &format).map_err(ChatCallError::Structured)
    }
}
