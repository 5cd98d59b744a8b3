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
    #[error("node `{node}`{} failed in step {step}: {source}", instance_text(*.instance))]
    Node {
        /// The node that failed.
        node: &'static str,
        /// Which of the step's `Send`s started it (LangGraph's push index), when one did.
        instance: Option<usize>,
        /// The step it ran in.
        step: u64,
        /// Its error; downcast it to the model's or your own error type.
        #[source]
        source: BoxError,
    },
    /// A node panicked; the panic was caught and the run stopped.
    #[error("node `{node}`{} panicked in step {step}: {message}", instance_text(*.instance))]
    NodePanicked {
        /// The node that panicked.
        node: &'static str,
        /// Which of the step's `Send`s started it (LangGraph's push index), when one did.
        instance: Option<usize>,
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
    /// An `async` router failed: its model call, or any error it returned. It ran in the
    /// task of the node it routes from, in that node's step.
    #[error("router `{router}` after node `{node}` failed in step {step}: {source}")]
    Router {
        /// The router fn.
        router: &'static str,
        /// The node it routes from, whose task it ran in.
        node: &'static str,
        /// The step that task ran in.
        step: u64,
        /// Its error; downcast it to the model's or your own error type.
        #[source]
        source: BoxError,
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
    /// A reducer, or the state's `Clone`, panicked while the step's updates were merged.
    /// The state is as it was before the step: a merge is all or nothing.
    #[error("merging the updates of step {step} panicked: {message}")]
    MergePanicked {
        /// The step whose updates were being merged.
        step: u64,
        /// The panic's message, when it was a string.
        message: String,
    },
    /// Two nodes of one step wrote the same field, and the field has no reducer.
    #[error("step {step}: {conflict}")]
    ConflictingUpdate {
        /// The step.
        step: u64,
        /// The field and the two nodes.
        conflict: UpdateConflict,
    },
    /// Storing or reading the run's thread failed: the checkpoint store's error. What the
    /// run produced before it was handed out first.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A subgraph run by `ctx.subgraph(..)` stopped on an interrupt: return this error from
    /// the node with `?`, and the parent's run stops on the same question (see
    /// [`NodeContext::interrupt`](crate::NodeContext::interrupt)); resuming the parent
    /// resumes the subgraph.
    #[error("a subgraph stopped on {} interrupt(s) (return this error with `?`)", interrupts.len())]
    SubgraphInterrupted {
        /// The questions it asked.
        interrupts: Vec<crate::interrupt::Interrupt>,
    },
    /// A [`Command`](crate::Command) that does not fit where the thread stands: nothing is
    /// due, no interrupt is pending for a resume value, or an answer names no pending
    /// interrupt.
    #[error("cannot resume thread `{thread}`: {reason}")]
    CannotResume {
        /// The thread.
        thread: String,
        /// What does not fit.
        reason: String,
    },
}

/// ` (instance 2)` for the task of a step's third `Send`; nothing for a task edges started.
fn instance_text(instance: Option<usize>) -> String {
    instance.map_or_else(String::new, |index| format!(" (instance {index})"))
}

impl GraphError {
    /// What kind of failure this is, as a short stable name: the `error.type` a run's span
    /// carries (`node`, `node_panicked`, `checkpoint`, ...).
    ///
    /// ```
    /// let error = stategraph_core::GraphError::RecursionLimit { limit: 3 };
    /// assert_eq!(error.kind(), "recursion_limit");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Node { .. } => "node",
            Self::NodePanicked { .. } => "node_panicked",
            Self::RouterPanicked { .. } => "router_panicked",
            Self::Router { .. } => "router",
            Self::RecursionLimit { .. } => "recursion_limit",
            Self::MergePanicked { .. } => "merge_panicked",
            Self::ConflictingUpdate { .. } => "conflicting_update",
            Self::Checkpoint(_) => "checkpoint",
            Self::SubgraphInterrupted { .. } => "subgraph_interrupted",
            Self::CannotResume { .. } => "cannot_resume",
        }
    }
}

/// Why a model call made with `ctx.chat(..)` failed: the model's own error, or the run it
/// streams into has ended.
///
/// A node's own calls never see [`RunEnded`](Self::RunEnded): when the run ends, the node
/// is dropped with them. Work that outlives the run (a clone of the context moved into a
/// thread or a task not started with `ctx.spawn`) does: its call stops reading the model,
/// and closes the model's connection, as soon as the run's stream is dropped, instead of
/// paying for an answer nobody reads.
///
/// It converts into [`NodeError`] with `?`; to reach the model's error behind a
/// [`GraphError::Node`], downcast its source to `ChatCallError<YourModelError>`.
///
/// ```
/// use stategraph_core::{ChatCallError, ScriptedError};
/// let error: ChatCallError<ScriptedError> = ChatCallError::RunEnded;
/// assert!(error.to_string().contains("has ended"));
/// assert!(error.model().is_none());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatCallError<E> {
    /// The model failed.
    #[error(transparent)]
    Model(E),
    /// The run ended (its stream was dropped, or it finished or failed) while the call was
    /// under way; the model's answer was no longer read.
    #[error("the model call was stopped: the run it streams into has ended")]
    RunEnded,
    /// The model answered, but not with the type asked for (`structured::<T>()`); the
    /// error holds its answer as it came.
    #[error(transparent)]
    Structured(crate::chat::StructuredOutputError),
}

impl<E> ChatCallError<E> {
    /// The model's error, if that is what this is.
    pub fn model(&self) -> Option<&E> {
        match self {
            Self::Model(error) => Some(error),
            Self::RunEnded | Self::Structured(_) => None,
        }
    }

    /// Takes the model's error out, if that is what this is.
    pub fn into_model(self) -> Option<E> {
        match self {
            Self::Model(error) => Some(error),
            Self::RunEnded | Self::Structured(_) => None,
        }
    }
}

impl<E> From<E> for ChatCallError<E> {
    fn from(error: E) -> Self {
        Self::Model(error)
    }
}

impl GraphError {
    /// The model's own error of type `E` behind this one, when a node failed because a
    /// model call did: it looks through the node's error chain, [`ChatCallError`] and
    /// [`AnyChatModel`](crate::AnyChatModel)'s boxing, so a consumer need not know how the
    /// node wrapped it.
    ///
    /// ```
    /// use stategraph_core::{ChatCallError, GraphError, ScriptedError};
    /// let model = ScriptedError { after: 3, message: "down".into() };
    /// let error = GraphError::Node {
    ///     node: "call_model",
    ///     instance: None,
    ///     step: 1,
    ///     source: Box::new(ChatCallError::Model(model.clone())),
    /// };
    /// assert_eq!(error.model_error::<ScriptedError>(), Some(&model));
    /// ```
    pub fn model_error<E: StdError + 'static>(&self) -> Option<&E> {
        let mut next: Option<&(dyn StdError + 'static)> = Some(self);
        while let Some(error) = next {
            if let Some(found) = model_error_in(error) {
                return Some(found);
            }
            next = error.source();
        }
        None
    }
}

/// `error` itself, or the model's error it wraps, as `E`.
fn model_error_in<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let unboxed = |any: &'a crate::chat::AnyChatError| -> Option<&'a E> {
        let inner: &(dyn StdError + 'static) = any.get_ref();
        inner.downcast_ref::<E>()
    };
    if let Some(found) = error.downcast_ref::<E>() {
        Some(found)
    } else if let Some(call) = error.downcast_ref::<ChatCallError<E>>() {
        call.model()
    } else if let Some(call) = error.downcast_ref::<ChatCallError<crate::chat::AnyChatError>>() {
        call.model().and_then(unboxed)
    } else {
        error
            .downcast_ref::<crate::chat::AnyChatError>()
            .and_then(unboxed)
    }
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

    /// The error inside as an `E`, when it is one: for a retry policy's `retry_on`. The
    /// error of an `async` router is looked for inside its failure, so a policy that
    /// retries a model's error retries it whether the node or its router made the call.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        match self.0.downcast_ref::<RouterFailure>() {
            Some(RouterFailure {
                error: RouterError::Failed(error),
                ..
            }) => error.downcast_ref::<E>(),
            _ => self.0.downcast_ref::<E>(),
        }
    }

    /// The router failure inside, when an `async` router failed rather than the node.
    pub(crate) fn into_router_failure(self) -> Result<RouterFailure, Self> {
        self.0
            .downcast::<RouterFailure>()
            .map(|failure| *failure)
            .map_err(Self)
    }

    /// Whether this is the error an interrupt stops a node with: never retried.
    pub(crate) fn is_interrupt(&self) -> bool {
        self.downcast_ref::<StoppedByInterrupt>().is_some()
    }
}

/// A node's attempt took longer than its `#[node(timeout = ..)]`: the error inside
/// [`GraphError::Node`] (find it with `downcast_ref`), or given to a retry policy's
/// `retry_on`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node `{node}` timed out after {}", humantime::format_duration(*.after))]
pub struct NodeTimedOut {
    /// The node.
    pub node: &'static str,
    /// Its timeout.
    pub after: std::time::Duration,
}

/// An `async` router's failure, carried out of its node's task as that task's error, so
/// the run reports the router rather than the node.
#[derive(Debug, thiserror::Error)]
#[error("router `{router}` failed: {error}")]
pub(crate) struct RouterFailure {
    pub(crate) router: &'static str,
    pub(crate) error: RouterError,
}

/// How an `async` router failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RouterError {
    /// It returned an error.
    #[error("{0}")]
    Failed(NodeError),
    /// It panicked.
    #[error("panicked: {0}")]
    Panicked(String),
}

impl RouterFailure {
    pub(crate) fn failed(router: &'static str, error: NodeError) -> Self {
        Self {
            router,
            error: RouterError::Failed(error),
        }
    }

    pub(crate) fn panicked(router: &'static str, message: String) -> Self {
        Self {
            router,
            error: RouterError::Panicked(message),
        }
    }
}

/// What [`NodeContext::interrupt`](crate::NodeContext::interrupt) returns until answered:
/// the node is to return it, and the run stops on its interrupt (it is not a failure).
#[derive(Debug, thiserror::Error)]
#[error("node `{node}` stopped on an interrupt (return this error with `?`)")]
pub(crate) struct StoppedByInterrupt {
    pub(crate) node: &'static str,
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

/// Why a checkpointer could not store or read a thread. Every variant names what is wrong;
/// none leaves a partly written checkpoint behind (each write is one transaction).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The database could not be reached, or the connection was lost.
    #[error("the checkpoint database is unavailable: {source}")]
    Unavailable {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// Another run holds the thread (in this process or another), and its lease has not
    /// expired.
    #[error("thread `{thread}` is busy: another run holds it")]
    ThreadBusy {
        /// The thread.
        thread: String,
    },
    /// The thread has no checkpoint (resuming needs one).
    #[error("thread `{thread}` has no checkpoint{}", at.as_ref().map(|id| format!(" `{id}`")).unwrap_or_default())]
    NotFound {
        /// The thread.
        thread: String,
        /// The checkpoint asked for, if one was named.
        at: Option<String>,
    },
    /// The database is locked by another process beyond the wait allowed (SQLite).
    #[error("the checkpoint database is locked by another process: {source}")]
    Locked {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// The database cannot be written (a read-only file or a read-only role).
    #[error("the checkpoint database is read-only: {source}")]
    ReadOnly {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// A stored row cannot be read back: it names the thread, the checkpoint and the column.
    #[error("checkpoint `{checkpoint}` of thread `{thread}` is corrupt: {detail}")]
    Corrupt {
        /// The thread.
        thread: String,
        /// The checkpoint.
        checkpoint: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The database was written by a newer stategraph (a schema version this one does not
    /// know), or its applied migrations differ from this version's.
    #[error(
        "the checkpoint database has schema version {found}, which this stategraph does not know (it knows up to {known})"
    )]
    UnknownSchema {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The database ran a migration of the same version with other SQL: it was made by a
    /// build of stategraph whose schema differs from this one's.
    #[error(
        "the checkpoint database's migration {version} differs from this stategraph's; it was made by another build"
    )]
    SchemaMismatch {
        /// The migration's version.
        version: i64,
    },
    /// The stored state does not fit the graph's state type: a field was renamed or retyped.
    #[error("the stored state does not fit the state type at field `{field}`: {detail}")]
    StateShape {
        /// The field (or the path into it) that does not fit.
        field: String,
        /// The decoder's message.
        detail: String,
    },
    /// The state could not be written as JSON.
    #[error("the state cannot be stored as JSON: {detail}")]
    Encode {
        /// The encoder's message.
        detail: String,
    },
    /// A database URL this build cannot open.
    #[error("cannot open checkpoint database `{url}`: {reason}")]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other database error.
    #[error("checkpoint database error: {source}")]
    Database {
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}
