//! `MessagesState`: a state that is one conversation.

use stategraph_core::Message;
use stategraph_macros::State;

/// A state holding one conversation, as LangGraph's `MessagesState`: messages a node
/// returns are merged by id (a message whose id is already there replaces it; any other is
/// appended), and messages mode emits each new one once.
///
/// `#[derive(State)]` generates its update, [`MessagesStateUpdate`]:
///
/// ```
/// use stategraph_core::Message;
/// use stategraph_prebuilt::MessagesStateUpdate;
/// let update = MessagesStateUpdate::default().messages(vec![Message::assistant("Hi")]);
/// # let _ = update;
/// ```
#[derive(Clone, Debug, Default, PartialEq, State, serde::Serialize, serde::Deserialize)]
#[state(crate = crate::runtime, derive(Serialize))]
pub struct MessagesState {
    /// The conversation.
    #[reducer(messages)]
    pub messages: Vec<Message>,
}

impl MessagesState {
    /// A conversation starting with `messages`.
    pub fn new(messages: impl IntoIterator<Item = Message>) -> Self {
        Self {
            messages: messages.into_iter().collect(),
        }
    }
}
