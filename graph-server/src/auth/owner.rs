//! Threads belong to the identity that created them: its id is the thread's `owner`
//! metadata (as LangGraph's auth recipe records it), every read checks it, and a search
//! filters by it. Another identity is told the thread does not exist, never that it is
//! someone else's.

use serde_json::{Map, Value};
use stategraph_core::checkpoint::ThreadRecord;

use super::layer::Caller;

/// The metadata key naming a thread's owner.
pub(crate) const OWNER: &str = "owner";

impl Caller {
    /// Whether the caller may see the thread: any thread without authentication, else only
    /// its own.
    pub(crate) fn sees(&self, thread: &ThreadRecord) -> bool {
        match self.identity() {
            None => true,
            Some(identity) => {
                thread.metadata.get(OWNER).and_then(Value::as_str) == Some(identity.id())
            }
        }
    }

    /// A search's metadata filter as the caller may ask it: `None` when it asks for
    /// another identity's threads (it finds none), else the filter with the caller as
    /// the owner.
    pub(crate) fn search_filter(
        &self,
        mut metadata: Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        let Some(identity) = self.identity() else {
            return Some(metadata);
        };
        let asked = metadata.get(OWNER);
        if asked.is_some_and(|owner| owner.as_str() != Some(identity.id())) {
            return None;
        }
        self.own(&mut metadata);
        Some(metadata)
    }

    /// `metadata` as the caller may write it or search by it: its `owner` is the caller,
    /// whatever the client sent, so a thread can be neither created for nor handed to
    /// someone else, and a search finds only the caller's threads.
    pub(crate) fn own(&self, metadata: &mut Map<String, Value>) {
        if let Some(identity) = self.identity() {
            metadata.insert(OWNER.into(), Value::String(identity.id().to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::auth::Identity;

    fn caller(id: &str) -> Caller {
        Caller::from_identity(Arc::new(Identity::new(id)))
    }

    #[test]
    fn a_thread_is_seen_by_its_owner_only_and_by_all_without_auth() {
        let mut metadata = Map::new();
        caller("alice").own(&mut metadata);
        let thread = ThreadRecord::new("t".to_owned(), metadata);
        assert!(caller("alice").sees(&thread));
        assert!(!caller("bob").sees(&thread));
        assert!(Caller::default().sees(&thread));
        let unowned = ThreadRecord::new("u".to_owned(), Map::new());
        assert!(!caller("alice").sees(&unowned));
    }

    #[test]
    fn a_search_for_another_owners_threads_asks_for_none() {
        let mut asked = Map::new();
        asked.insert(OWNER.into(), json!("alice"));
        assert_eq!(caller("mallory").search_filter(asked.clone()), None);
        assert_eq!(
            caller("alice").search_filter(asked.clone()),
            Some(asked.clone())
        );
        assert_eq!(Caller::default().search_filter(asked.clone()), Some(asked));
        let mut mine = Map::new();
        mine.insert(OWNER.into(), json!("bob"));
        assert_eq!(caller("bob").search_filter(Map::new()), Some(mine));
    }

    #[test]
    fn the_owner_a_client_sends_is_replaced_by_the_caller() {
        let mut metadata = Map::new();
        metadata.insert(OWNER.into(), json!("alice"));
        metadata.insert("topic".into(), json!("cats"));
        caller("mallory").own(&mut metadata);
        assert_eq!(metadata[OWNER], json!("mallory"));
        assert_eq!(metadata["topic"], json!("cats"));
        let mut untouched = metadata.clone();
        Caller::default().own(&mut untouched);
        assert_eq!(untouched, metadata);
    }
}
