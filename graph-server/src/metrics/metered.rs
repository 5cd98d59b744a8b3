//! A served graph whose runs are counted: started, finished by status, in flight, and the
//! model chunks they stream. Both ways a run starts (stateless, on a thread) pass here.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{FutureExt as _, Stream, StreamExt as _};
use serde_json::{Map, Value};
use stategraph_core::GraphDescription;
use stategraph_core::checkpoint::{CheckpointId, Checkpointer, ListOptions};

use super::{Inner, StatusLabels};
use crate::error::ApiError;
use crate::request::Begin;
use crate::served::{RunFailure, RunItem, RunItems, RunSettings, ServedGraph, ThreadSettings};

/// `graph`, its runs counted into `metrics`.
pub(crate) struct Metered {
    graph: Arc<dyn ServedGraph>,
    metrics: Arc<Inner>,
}

impl Metered {
    pub(crate) fn new(graph: Arc<dyn ServedGraph>, metrics: Arc<Inner>) -> Self {
        Self { graph, metrics }
    }

    fn count(&self, items: RunItems) -> RunItems {
        self.metrics.runs_started.inc();
        self.metrics.runs_in_flight.inc();
        RunMeter {
            items,
            metrics: Arc::clone(&self.metrics),
            interrupted: false,
            finished: false,
        }
        .boxed()
    }
}

impl ServedGraph for Metered {
    fn description(&self) -> &'static GraphDescription {
        self.graph.description()
    }

    fn state_schema(&self) -> Value {
        self.graph.state_schema()
    }

    fn start(&self, input: Value, run: RunSettings) -> Result<RunItems, ApiError> {
        Ok(self.count(self.graph.start(input, run)?))
    }

    fn start_on_thread(
        &self,
        begin: Begin,
        run: RunSettings,
        thread: ThreadSettings,
    ) -> BoxFuture<'_, Result<RunItems, ApiError>> {
        self.graph
            .start_on_thread(begin, run, thread)
            .map(|items| Ok(self.count(items?)))
            .boxed()
    }

    fn thread_state(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        at: Option<CheckpointId>,
    ) -> BoxFuture<'_, Result<Option<Value>, ApiError>> {
        self.graph.thread_state(store, thread_id, at)
    }

    fn thread_history(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        options: ListOptions,
        metadata: Map<String, Value>,
    ) -> BoxFuture<'_, Result<Vec<Value>, ApiError>> {
        self.graph
            .thread_history(store, thread_id, options, metadata)
    }

    fn update_state(
        &self,
        store: Arc<dyn Checkpointer>,
        thread_id: String,
        values: Value,
        as_node: Option<String>,
        at: Option<CheckpointId>,
    ) -> BoxFuture<'_, Result<Value, ApiError>> {
        self.graph
            .update_state(store, thread_id, values, as_node, at)
    }
}

/// A run's items, counted as they go; the run is finished when they end (or are dropped
/// before their end: `cancelled`).
struct RunMeter {
    items: RunItems,
    metrics: Arc<Inner>,
    interrupted: bool,
    finished: bool,
}

impl RunMeter {
    fn finish(&mut self, status: &'static str) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.metrics.runs_in_flight.dec();
        self.metrics
            .runs_finished
            .get_or_create(&StatusLabels { status })
            .inc();
    }
}

impl Stream for RunMeter {
    type Item = Result<RunItem, RunFailure>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.items.poll_next_unpin(cx);
        match &polled {
            Poll::Ready(Some(Ok(RunItem::Message(_)))) => {
                self.metrics.tokens_streamed.inc();
            }
            Poll::Ready(Some(Ok(RunItem::Interrupt { .. }))) => self.interrupted = true,
            Poll::Ready(Some(Err(_))) => self.finish("error"),
            Poll::Ready(None) => {
                let status = if self.interrupted {
                    "interrupted"
                } else {
                    "success"
                };
                self.finish(status);
            }
            Poll::Ready(Some(Ok(_))) | Poll::Pending => {}
        }
        polled
    }
}

impl Drop for RunMeter {
    fn drop(&mut self) {
        self.finish("cancelled");
    }
}
