//! An interrupt: a node that stopped its run to ask for a value from outside.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A node's question to the outside, from
/// [`NodeContext::interrupt`](crate::NodeContext::interrupt): the run stopped on it, and
/// [`Command::resume`](crate::Command::resume) answers it. LangGraph's `Interrupt`: it
/// serializes as `{"value": .., "id": ..}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Interrupt {
    id: String,
    value: Value,
    node: String,
    /// The task that asked, as its pending writes are keyed (see `TaskMetadata::key`).
    task: String,
    /// Which of the task's interrupts this is, counted from 0 in the order it called them.
    index: usize,
    /// The checkpoint namespace of the graph whose node asked: empty for the root graph.
    namespace: String,
}

impl Interrupt {
    pub(crate) fn new(id: String, value: Value, node: &str, task: String, index: usize) -> Self {
        Self {
            id,
            value,
            node: node.to_owned(),
            task,
            index,
            namespace: String::new(),
        }
    }

    /// The same question, asked in the graph whose checkpoints are in `namespace`.
    #[must_use]
    pub(crate) fn in_namespace(mut self, namespace: String) -> Self {
        self.namespace = namespace;
        self
    }

    /// The checkpoint namespace of the graph whose node asked: empty when a node of the
    /// thread's own graph asked, `node:<id>` segments joined by `|` when a subgraph's did
    /// (its checkpoints are stored under it).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Its id: the same each time the same task asks the same question, so a client can
    /// answer it by id ([`Command::resume_by_id`](crate::Command::resume_by_id)).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the node gave `interrupt`, as JSON.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The payload as the type the node gave.
    ///
    /// # Errors
    /// When the payload does not fit `T`.
    pub fn value_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.value)
    }

    /// The name of the node that asked.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn task(&self) -> &str {
        &self.task
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// As a thread stores it among the step's pending writes.
    pub(crate) fn to_stored(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "value": self.value,
            "index": self.index,
            "namespace": self.namespace,
        })
    }

    /// Read back from a pending write of `task` on `node`; `None` when it does not decode.
    pub(crate) fn from_stored(task: &str, node: &str, stored: &Value) -> Option<Self> {
        Some(Self {
            id: stored.get("id")?.as_str()?.to_owned(),
            value: stored.get("value")?.clone(),
            node: node.to_owned(),
            task: task.to_owned(),
            index: usize::try_from(stored.get("index")?.as_u64()?).ok()?,
            namespace: stored
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

impl serde::Serialize for Interrupt {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Interrupt", 2)?;
        out.serialize_field("value", &self.value)?;
        out.serialize_field("id", &self.id)?;
        out.end()
    }
}
