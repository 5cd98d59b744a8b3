//! What a task starts on: the state, or what a `Send` gave it (LangGraph's
//! `Send(node, arg)`); and the probe that writes a `Send`'s own input as JSON when its type
//! allows it.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::traits::{GraphDef, SentInput};

/// What a task starts on: the state (a task edges started), or what a `Send` gave it.
pub enum TaskInput<G: GraphDef> {
    /// The state of the step, shared by the step's tasks.
    State(Arc<G::State>),
    /// A `Send`'s input.
    Sent(Arc<G::Sent>),
}

impl<G: GraphDef> Clone for TaskInput<G> {
    fn clone(&self) -> Self {
        match self {
            Self::State(state) => Self::State(Arc::clone(state)),
            Self::Sent(sent) => Self::Sent(Arc::clone(sent)),
        }
    }
}

impl<G: GraphDef> TaskInput<G> {
    /// The state the task was given: `None` for a `Send` to a node with an input type of
    /// its own.
    pub fn state(&self) -> Option<&G::State> {
        match self {
            Self::State(state) => Some(state),
            Self::Sent(sent) => sent.state(),
        }
    }

    /// The `Send`'s input, when a `Send` started the task.
    pub fn sent(&self) -> Option<&G::Sent> {
        match self {
            Self::State(_) => None,
            Self::Sent(sent) => Some(sent),
        }
    }
}

/// The JSON a `Send`'s payload is written as: named here so generated code need not name
/// `serde_json`, a crate the user's may not depend on.
pub type SentJson = Value;

/// Asks, by method resolution, whether a `Send` payload type can be written as JSON:
/// generated code calls `(&PayloadProbe::<T>::new()).to_json(..)` with both traits in
/// scope, so a payload that is not `Serialize + DeserializeOwned` still compiles and only a
/// thread that must store it reports the missing derives.
pub struct PayloadProbe<T>(PhantomData<fn() -> T>);

impl<T> PayloadProbe<T> {
    /// The probe.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for PayloadProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer for a payload that serde reads and writes, found first.
pub trait PayloadJson<T> {
    /// The payload as JSON.
    ///
    /// # Errors
    /// When its `Serialize` fails.
    fn to_json(&self, payload: &T) -> Result<Value, String>;
    /// The payload read back.
    ///
    /// # Errors
    /// When the JSON is not a `T`.
    fn parse_json(&self, value: Value) -> Result<T, String>;
}

impl<T: Serialize + DeserializeOwned> PayloadJson<T> for PayloadProbe<T> {
    fn to_json(&self, payload: &T) -> Result<Value, String> {
        serde_json::to_value(payload).map_err(|error| error.to_string())
    }
    fn parse_json(&self, value: Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|error| error.to_string())
    }
}

/// The answer for any other payload, found after one more reference.
pub trait PayloadNoJson<T> {
    /// An error naming the type and the derives it lacks.
    ///
    /// # Errors
    /// Always.
    fn to_json(&self, payload: &T) -> Result<Value, String>;
    /// An error naming the type and the derives it lacks.
    ///
    /// # Errors
    /// Always.
    fn parse_json(&self, value: Value) -> Result<T, String>;
}

impl<T> PayloadNoJson<T> for &PayloadProbe<T> {
    fn to_json(&self, _: &T) -> Result<Value, String> {
        Err(not_serde::<T>())
    }
    fn parse_json(&self, _: Value) -> Result<T, String> {
        Err(not_serde::<T>())
    }
}

fn not_serde<T>() -> String {
    format!(
        "`{}` is not `Serialize + Deserialize`: add `#[derive(Serialize, Deserialize)]` to store or show a `Send` of it",
        std::any::type_name::<T>()
    )
}

#[cfg(test)]
mod tests {
    use super::{PayloadJson as _, PayloadNoJson as _, PayloadProbe};

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Task {
        question: String,
    }

    struct Opaque;

    // The borrow is the probe: method resolution tries the serde answer on the probe
    // before the fallback on a reference to it.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn a_serde_payload_round_trips_and_another_names_its_type() {
        let task = Task {
            question: "why".into(),
        };
        let json = (&PayloadProbe::<Task>::new()).to_json(&task).unwrap();
        assert_eq!(json, serde_json::json!({"question": "why"}));
        let back: Task = (&PayloadProbe::<Task>::new()).parse_json(json).unwrap();
        assert_eq!(back, task);

        let error = (&PayloadProbe::<Opaque>::new())
            .to_json(&Opaque)
            .unwrap_err();
        assert!(error.contains("Opaque"), "{error}");
        assert!(error.contains("Serialize"), "{error}");
    }
}
