//! The `append` reducer, and the state `#[graph]` stubs in when none is given. The
//! `State` trait itself is in `traits.rs`.

use super::traits::State;
use crate::chat::Message;
use crate::error::UpdateConflict;

/// The reducer `#[reducer(append)]` names: later writes extend the list.
pub fn append<T>(current: &mut Vec<T>, update: Vec<T>) {
    current.extend(update);
}

/// The reducer `#[reducer(messages)]` names, as LangGraph's `add_messages`: a message whose
/// id is already in the list replaces it; any other is appended.
///
/// A field with this reducer is also the state's conversation: messages a node returns in
/// it are emitted in messages mode (once each, and not when already streamed as chunks).
pub fn add_messages(current: &mut Vec<Message>, update: Vec<Message>) {
    for message in update {
        let existing = message
            .id
            .as_ref()
            .and_then(|id| current.iter().position(|m| m.id.as_ref() == Some(id)));
        match existing {
            Some(at) => current[at] = message,
            None => current.push(message),
        }
    }
}

/// The state `#[graph]` stubs in when the attribute names none, so that the missing
/// `state` is reported once instead of as a cascade of unresolved types.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct MissingState;

impl State for MissingState {
    type Update = ();

    const MERGES_IN_PLACE: bool = true;

    fn merge(&mut self, _: Vec<(&'static str, ())>) -> Result<(), UpdateConflict> {
        Ok(())
    }
}
