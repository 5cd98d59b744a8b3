//! What can go wrong in a run, and how a node reports its own failures.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error, as nodes and routers raise them.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a run stopped. The stream yields it as its last item, after every item produced
/// before the failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A node returned an error.
    #[error("node `{node}` failed in step {step}: {source}")]
    Node {
        /// The node that failed.
        node: &'static str,
        /// The step it ran in.
        step: u64,
        /// Its error; downcast it to the model's or your own error type.
        #[source]
        source: BoxError,
    },
    /// A node panicked; the panic was caught and the run stopped.
    #[error("node `{node}` panicked in step {step}: {message}")]
    NodePanicked {
        /// The node that panicked.
        node: &'static str,
        /// The step it ran in.
        step: u64,
        /// The panic's message, when it was a string.
        message: String,
    },
    /// A router panicked while choosing the next node.
    #[error("router `{router}` after step {step} panicked: {message}")]
    RouterPanicked {
        /// The router fn.
        router: &'static str,
        /// The step after which it ran.
        step: u64,
        /// The panic's message, when it was a string.
        message: String,
    },
    /// The graph ran more steps than the recursion limit without reaching `END`.
    #[error(
        "recursion limit of {limit} steps reached without reaching `END`; \
         raise it with `RunConfig::recursion_limit` if the graph is meant to loop that long"
    )]
    RecursionLimit {
        /// The limit in force.
        limit: u32,
    },
    /// Two nodes of one step wrote the same field, and the field has no reducer.
    #[error("step {step}: {conflict}")]
    ConflictingUpdate {
        /// The step.
        step: u64,
        /// The field and the two nodes.
        conflict: UpdateConflict,
    },
}

/// Two nodes of one step wrote the same plain field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "nodes `{first}` and `{second}` both wrote `{field}`; \
     give the field a reducer (`#[reducer(append)]` or `#[reducer(path::to::fn)]`) to combine writes"
)]
pub struct UpdateConflict {
    /// The field both wrote.
    pub field: &'static str,
    /// The first writer, in declaration order.
    pub first: &'static str,
    /// The second writer.
    pub second: &'static str,
}

/// The error a `#[node]` fn returns: any error, boxed, so `?` works on model calls, I/O and
/// your own error types alike.
///
/// It deliberately does not implement `std::error::Error` itself (as `anyhow::Error`), so
/// that `From<E: Error>` can cover every error type.
///
/// ```
/// use stategraph_core::NodeError;
/// fn parse(s: &str) -> Result<u32, NodeError> {
///     Ok(s.parse::<u32>()?)
/// }
/// assert!(parse("x").is_err());
/// assert_eq!(NodeError::msg("no topic").to_string(), "no topic");
/// ```
pub struct NodeError(BoxError);

impl NodeError {
    /// An error with just a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string().into())
    }

    /// The boxed error inside.
    pub fn into_inner(self) -> BoxError {
        self.0
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for NodeError {
    fn from(error: E) -> Self {
        Self(Box::new(error))
    }
}

impl fmt::Debug for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
