//! What a node gets besides the state: the graph's dependencies, model calls that stream
//! into the graph, the custom writer, and spawning tied to the run.

use std::future::Future;
use std::sync::{Arc, PoisonError};

use tokio::task::JoinHandle;

use super::chat_call::ChatCall;
use super::writer::Writer;
use crate::chat::ChatModel;
use crate::error::{NodeError, StoppedByInterrupt};
use crate::graph::traits::GraphDef;
use crate::interrupt::Interrupt;
use crate::run::interrupts::Asked;
use crate::run::shared::RunShared;
use crate::stream::metadata::TaskMetadata;

/// The context of one node task: `ctx` in a `#[node]` fn.
///
/// `#[graph]` names it `Ctx` in the graph's module. It is cheap to clone, `Send` and
/// `'static`, so a clone can move into work spawned with [`spawn`](Self::spawn).
///
/// Nodes of one step run concurrently on the task that polls the stream. Work that computes
/// for long without awaiting stalls the other nodes: run it with
/// `tokio::task::spawn_blocking` (or `ctx.spawn` for async work).
pub struct NodeContext<G: GraphDef> {
    pub(super) run: Arc<RunShared<G>>,
    pub(super) task: Arc<TaskMetadata<G::Node>>,
}

impl<G: GraphDef> Clone for NodeContext<G> {
    fn clone(&self) -> Self {
        Self {
            run: Arc::clone(&self.run),
            task: Arc::clone(&self.task),
        }
    }
}

impl<G: GraphDef> NodeContext<G> {
    pub(super) fn new(run: Arc<RunShared<G>>, task: Arc<TaskMetadata<G::Node>>) -> Self {
        Self { run, task }
    }

    /// The dependencies given to `Graph::new`.
    pub fn context(&self) -> &G::Context {
        &self.run.context
    }

    /// The node this task runs.
    pub fn node(&self) -> G::Node {
        self.task.node()
    }

    /// The step this task runs in.
    pub fn step(&self) -> u64 {
        self.task.step()
    }

    /// Everything known about this task.
    pub fn metadata(&self) -> &TaskMetadata<G::Node> {
        &self.task
    }

    /// A call to `model` that streams into the graph: in messages mode every chunk becomes
    /// a [`MessageChunk`](crate::MessageChunk) labelled with this task and the call's tags.
    pub fn chat<'a, M: ChatModel + ?Sized>(&'a self, model: &'a M) -> ChatCall<'a, G, M> {
        ChatCall::new(self, model)
    }

    /// A writer for custom-mode payloads, owned, for tasks and closures.
    pub fn writer(&self) -> Writer<G> {
        Writer::new(Arc::clone(&self.run), Arc::clone(&self.task))
    }

    /// Writes a custom-mode payload. Waits while the stream's buffer is full; returns at
    /// once, allocating nothing, when no one streams custom mode.
    ///
    /// Returns whether the run still listens: `false` once the run has ended or its stream
    /// was dropped (the payload then went nowhere), so a producer knows to stop. While the
    /// run goes on it is `true`, whether or not anyone streams custom mode.
    pub async fn write(&self, payload: G::Custom) -> bool {
        self.run
            .record
            .custom(payload, &self.task, self.run.tags)
            .await;
        !self.run.ended.is_cancelled()
    }

    /// Whether someone streams custom mode, for payloads that are costly to build.
    pub fn is_custom_streamed(&self) -> bool {
        self.run.record.records_custom()
    }

    /// Stops the run to ask the outside for a value, as LangGraph's `interrupt(payload)`.
    ///
    /// The first time, it returns an error: return it with `?`. The step's other tasks
    /// finish, their updates are kept for the resume, and the run ends without error; the
    /// stream's [`interrupted`](crate::GraphStream::interrupted) and the thread's
    /// [`state`](crate::Thread::state) hold the [`Interrupt`](crate::Interrupt) with
    /// `payload`. Resuming the thread with [`Command::resume`](crate::Command::resume) runs
    /// this node again from its start, and this time `interrupt` returns the value given,
    /// as `R`. A node that asks several questions gets the answers in the order it asks.
    ///
    /// A node that ignores the error and returns an update anyway is still stopped: its
    /// update is dropped.
    ///
    /// ```no_run
    /// # use stategraph_core::{GraphDef, NodeContext, NodeError};
    /// # async fn demo<G: GraphDef>(ctx: NodeContext<G>) -> Result<(), NodeError> {
    /// let approved: bool = ctx
    ///     .interrupt(serde_json::json!({"question": "send the email?"}))
    ///     .await?;
    /// # let _ = approved; Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// The interrupt itself, until answered; when `payload` cannot be written as JSON or
    /// the answer does not fit `R`, an error naming the node and the type.
    pub async fn interrupt<P, R>(&self, payload: P) -> Result<R, NodeError>
    where
        P: serde::Serialize,
        R: serde::de::DeserializeOwned,
    {
        let node = self.task.name();
        let value = serde_json::to_value(payload).map_err(|error| {
            NodeError::msg(format!(
                "node `{node}`: the interrupt's payload cannot be written as JSON: {error}"
            ))
        })?;
        let task = self.task.key();
        // Where the run's checkpoints are: the same in every run that resumes the step, and
        // another thread's differ.
        let (thread_id, namespace) = match &self.run.thread {
            Some(thread) => (
                thread.thread.thread_id.as_str(),
                thread.thread.namespace.clone(),
            ),
            None => ("", self.task.run_namespace()),
        };
        let asked = self.run.with_interrupts(|book| {
            book.ask(&task, |index| {
                let id = uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_OID,
                    format!("{thread_id}|{namespace}|{task}|{index}").as_bytes(),
                );
                Interrupt::new(id.simple().to_string(), value, node, task.clone(), index)
                    .in_namespace(namespace.clone())
            })
        });
        match asked {
            Asked::Answered(answer) => serde_json::from_value(answer).map_err(|error| {
                NodeError::msg(format!(
                    "node `{node}`: the resume value does not fit `{}`: {error}",
                    std::any::type_name::<R>()
                ))
            }),
            Asked::Raised => Err(NodeError::from(StoppedByInterrupt { node })),
        }
    }

    /// Runs `future` on the Tokio runtime, tied to the run: when the run ends or its stream
    /// is dropped, the task is aborted. Model chunks and writes it makes through a clone of
    /// this context reach the stream like the node's own; await the handle in the node to
    /// be sure they all do before the node returns.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as `tokio::spawn`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(future);
        self.run
            .spawned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .track(handle.abort_handle());
        handle
    }
}
