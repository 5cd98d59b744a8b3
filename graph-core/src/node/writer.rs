//! The custom-mode writer a node hands to its own tasks and closures.

use std::sync::Arc;

use crate::graph::tags::TagSet;
use crate::graph::traits::GraphDef;
use crate::run::shared::RunShared;
use crate::stream::metadata::TaskMetadata;

/// Writes custom-mode payloads for one task. Clone it into spawned work freely.
pub struct Writer<G: GraphDef> {
    run: Arc<RunShared<G>>,
    task: Arc<TaskMetadata<G::Node>>,
    tags: TagSet<G::Tag>,
}

impl<G: GraphDef> Clone for Writer<G> {
    fn clone(&self) -> Self {
        Self {
            run: Arc::clone(&self.run),
            task: Arc::clone(&self.task),
            tags: self.tags,
        }
    }
}

impl<G: GraphDef> Writer<G> {
    pub(super) fn new(run: Arc<RunShared<G>>, task: Arc<TaskMetadata<G::Node>>) -> Self {
        let tags = run.tags;
        Self { run, task, tags }
    }

    /// This writer with `tag` on every payload it writes.
    #[must_use]
    pub fn tag(mut self, tag: G::Tag) -> Self {
        self.tags.insert(tag);
        self
    }

    /// Whether someone streams custom mode.
    pub fn is_streamed(&self) -> bool {
        self.run.record.records_custom()
    }

    /// Writes a payload. Waits while the stream's buffer is full; returns at once,
    /// allocating nothing, when no one streams custom mode.
    ///
    /// Returns whether the run still listens: `false` once the run has ended or its stream
    /// was dropped (the payload then went nowhere), so work that outlives its node knows to
    /// stop. While the run goes on it is `true`, whether or not anyone streams custom mode.
    pub async fn write(&self, payload: G::Custom) -> bool {
        self.run.record.custom(payload, &self.task, self.tags).await;
        !self.run.ended.is_cancelled()
    }
}
