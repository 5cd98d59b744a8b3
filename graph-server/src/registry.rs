//! The registered graphs and their assistants: one system assistant per graph, found by its
//! id or by the graph id.

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use crate::served::ServedGraph;

/// The namespace LangGraph derives system assistant ids in (`uuid.NAMESPACE_URL`).
const ASSISTANT_NAMESPACE: Uuid = Uuid::from_u128(0x6ba7b821_9dad_11d1_80b4_00c04fd430c8);

/// The id of the assistant LangGraph creates for `graph_id`: the UUID v5 of the graph id in
/// the URL namespace, so a client that stored an assistant id from LangGraph's server finds
/// the same assistant here.
///
/// ```
/// let id = stategraph_server::assistant_id("agent");
/// assert_eq!(id.to_string(), "fe096781-5601-53d2-b2f6-0d3403f7e9ca");
/// ```
pub fn assistant_id(graph_id: &str) -> Uuid {
    Uuid::new_v5(&ASSISTANT_NAMESPACE, graph_id.as_bytes())
}

/// One registered graph, served as an assistant.
pub(crate) struct Assistant {
    pub(crate) graph_id: String,
    pub(crate) assistant_id: Uuid,
    pub(crate) graph: Arc<dyn ServedGraph>,
    /// When the server was built: the system assistants exist from then on.
    pub(crate) created_at: String,
}

/// The assistant resource, as LangGraph's `Assistant` schema.
#[derive(Serialize)]
pub(crate) struct AssistantJson<'a> {
    assistant_id: Uuid,
    graph_id: &'a str,
    config: serde_json::Value,
    context: serde_json::Value,
    metadata: serde_json::Value,
    name: &'a str,
    description: Option<&'a str>,
    created_at: &'a str,
    updated_at: &'a str,
    version: u32,
}

impl Assistant {
    /// The metadata of a system assistant, which `POST /assistants/search` filters on.
    pub(crate) fn metadata() -> serde_json::Value {
        serde_json::json!({ "created_by": "system" })
    }

    pub(crate) fn json(&self) -> AssistantJson<'_> {
        AssistantJson {
            assistant_id: self.assistant_id,
            graph_id: &self.graph_id,
            config: serde_json::json!({}),
            context: serde_json::json!({}),
            metadata: Self::metadata(),
            name: &self.graph_id,
            description: None,
            created_at: &self.created_at,
            updated_at: &self.created_at,
            version: 1,
        }
    }
}

/// Every assistant, in registration order.
pub(crate) struct Registry {
    assistants: Vec<Assistant>,
}

impl Registry {
    pub(crate) fn new(assistants: Vec<Assistant>) -> Self {
        Self { assistants }
    }

    /// The assistant `id` names: an assistant id or a graph id, as LangGraph accepts both.
    pub(crate) fn find(&self, id: &str) -> Option<&Assistant> {
        let uuid = Uuid::parse_str(id).ok();
        self.assistants
            .iter()
            .find(|assistant| Some(assistant.assistant_id) == uuid || assistant.graph_id == id)
    }

    pub(crate) fn all(&self) -> &[Assistant] {
        &self.assistants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_assistant_has_langgraphs_id() {
        assert_eq!(
            assistant_id("agent").to_string(),
            "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
        );
    }
}
