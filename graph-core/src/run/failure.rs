//! What happens when a task fails: the error that ends the run, the tasks-mode results of
//! the task and of the siblings its failure cancels, and the items delivered before it.

use std::any::Any;

use super::executor::Run;
use crate::error::{GraphError, NodeError, RouterError, RouterFailure, panic_message};
use crate::graph::traits::{GraphDef, GraphNode};
use crate::stream::metadata::TaskPath;
use crate::telemetry::spans::mark_error;

impl<G: GraphDef> Run<G> {
    /// A task returned an error.
    pub(super) fn task_errored(&mut self, index: usize, error: NodeError) {
        if self.stopped_on_interrupt(index) {
            return;
        }
        let node = self.step_tasks[index].node.name();
        let step = self.step;
        // Failures are rare: the message is taken before the error is moved.
        let message = error.to_string();
        let error = match error.into_router_failure() {
            Ok(RouterFailure { router, error }) => match error {
                RouterError::Failed(error) => GraphError::Router {
                    router,
                    node,
                    step,
                    source: error.into_inner(),
                },
                RouterError::Panicked(message) => GraphError::RouterPanicked {
                    router,
                    step,
                    message,
                },
            },
            Err(error) => GraphError::Node {
                node,
                instance: self.instance(index),
                step,
                source: error.into_inner(),
            },
        };
        self.task_failed(index, error.kind(), || message);
        self.fail(error);
    }

    /// A task panicked.
    pub(super) fn task_panicked(&mut self, index: usize, panic: &(dyn Any + Send)) {
        let node = self.step_tasks[index].node.name();
        let step = self.step;
        let message = panic_message(panic);
        self.task_failed(index, "node_panicked", || format!("panicked: {message}"));
        self.fail(GraphError::NodePanicked {
            node,
            instance: self.instance(index),
            step,
            message,
        });
    }

    /// A task returned, but cloning its update for the stream panicked.
    pub(super) fn update_clone_panicked(&mut self, index: usize, panic: &(dyn Any + Send)) {
        let node = self.step_tasks[index].node.name();
        let step = self.step;
        let message = format!("cloning its update panicked: {}", panic_message(panic));
        self.fail(GraphError::NodePanicked {
            node,
            instance: self.instance(index),
            step,
            message,
        });
    }

    /// Which `Send` of the step started task `index`, if one did.
    fn instance(&self, index: usize) -> Option<usize> {
        match self.step_tasks[index].metadata.path() {
            TaskPath::Push(instance) => Some(instance),
            TaskPath::Pull(_) => None,
        }
    }

    /// Task `index` ended without an update: `kind` is its span's `error.type`.
    fn task_failed(&mut self, index: usize, kind: &'static str, error: impl FnOnce() -> String) {
        let task = &mut self.step_tasks[index];
        task.ended = true;
        if task.span.is_disabled() {
            self.shared.0.record.task_failed(&task.metadata, error);
            return;
        }
        let message = error();
        mark_error(&task.span, kind, &message);
        self.shared.0.record.task_failed(&task.metadata, || message);
    }

    /// Ends the run with `error`, after everything produced before it.
    pub(super) fn fail(&mut self, error: GraphError) {
        // Dropping the other nodes cancels their model calls; aborting spawned work stops
        // it from producing more. What they produced already is still delivered.
        self.running.clear();
        self.shared.0.abort_spawned();
        // Every task opened in tasks mode is closed: the siblings that were cancelled too.
        for index in 0..self.step_tasks.len() {
            if !self.step_tasks[index].ended {
                self.task_failed(index, "cancelled", || {
                    "cancelled: another task of the step failed".to_owned()
                });
            }
        }
        self.drain_and_close();
        mark_error(&self.span, error.kind(), &error);
        self.error = Some(Box::new(error));
        self.finished = true;
    }

    /// Moves what the buffer holds to the items handed out next, then closes it, so that a
    /// writer outside the run (a `Writer` clone on another thread) never waits on a run
    /// that has ended.
    pub(super) fn drain_and_close(&mut self) {
        self.shared.0.ended.cancel();
        let mut rest = self.shared.0.record.buffer().close();
        self.batch.append(&mut rest);
    }
}
