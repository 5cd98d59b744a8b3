//! The stream a graph run returns, and the two ways generated code starts a run.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::Stream;

use crate::config::RunConfig;
use crate::error::GraphError;
use crate::graph::traits::GraphDef;
use crate::node::{RunNode, start_node};
use crate::run::executor::Run;
use crate::stream::mode::{ModeSet, StreamMode};
use crate::stream::record::Event;

/// A running graph, as a stream of the items of mode `M`.
///
/// The stream owns the run: nothing runs unless it is polled, at most the configured
/// buffer of the items nodes write waits for a slow consumer (the run's own items come on
/// top, as [`RunConfig::buffer`] details), and dropping it cancels every running node,
/// their model calls and the work they spawned. When a node fails, the stream yields
/// everything produced before the failure, then one [`GraphError`], then ends.
///
/// It is `Send + 'static`, so a web handler can return it. Like a tokio channel, it spends
/// one unit of tokio's cooperative budget per item: when the graph always has an item
/// ready, the stream still returns `Pending` every so often (after 128 items, as tokio is
/// set today), so the runtime's other tasks and timers run.
#[must_use = "streams do nothing unless polled"]
pub struct GraphStream<G: GraphDef, M> {
    run: Run<G>,
    mode: PhantomData<fn() -> M>,
}

/// Starts a run of `G` on `input`, streaming the items of mode `M`. Generated
/// `Graph::stream` calls this.
pub fn stream<G: RunNode, M: StreamMode<G>>(
    context: Arc<G::Context>,
    input: G::State,
    config: RunConfig<G::Tag>,
) -> GraphStream<G, M> {
    GraphStream {
        run: Run::new(context, input, ModeSet::of::<M>(), config, start_node::<G>),
        mode: PhantomData,
    }
}

impl<G: GraphDef, M> GraphStream<G, M> {
    /// The stream of `run`.
    pub(crate) fn from_run(run: Run<G>) -> Self {
        Self {
            run,
            mode: PhantomData,
        }
    }
}

impl<G: GraphDef, M: StreamMode<G>> GraphStream<G, M> {
    /// How many items the run has produced that the stream has not handed out yet: at most
    /// the [buffer](RunConfig::buffer) for what nodes write, plus the run's own items of one
    /// moment (a step starting, a task finishing), as `RunConfig::buffer` details. Chunks a
    /// model call holds in a lease of the buffer's room are not counted until put back.
    ///
    /// ```
    /// # use stategraph_core::mode::StreamMode;
    /// # use stategraph_core::{GraphDef, GraphStream};
    /// # fn demo<G: GraphDef, M: StreamMode<G>>(stream: &GraphStream<G, M>) {
    /// let waiting = stream.waiting();
    /// # let _ = waiting;
    /// # }
    /// ```
    pub fn waiting(&self) -> usize {
        self.run.waiting()
    }

    /// The state as of the last finished step; after the stream has ended, the final state.
    pub fn state(&self) -> &G::State {
        self.run.state()
    }

    /// Whether the run stopped rather than finished, once the stream has ended: the
    /// questions its nodes asked with [`interrupt`](crate::NodeContext::interrupt), or an
    /// empty list when it stopped at a breakpoint
    /// ([`RunConfig::interrupt_before`] / [`interrupt_after`](RunConfig::interrupt_after)).
    /// `None` while it runs and when it ran to its end. A run on a thread resumes with a
    /// [`Command`](crate::Command).
    pub fn interrupted(&self) -> Option<&[crate::Interrupt]> {
        self.run.interrupted.as_deref()
    }

    /// The final state, once the stream has ended (the state so far before that).
    pub fn into_state(self) -> G::State {
        self.run.into_state()
    }
}

// The run holds only boxed futures and owned values, so the stream never needs pinning.
impl<G: GraphDef, M> Unpin for GraphStream<G, M> {}

impl<G: GraphDef, M: StreamMode<G>> Stream for GraphStream<G, M> {
    type Item = Result<M::Item, GraphError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match poll_cooperatively(&mut self.run, cx) {
                Poll::Ready(Some(Ok(event))) => match M::select(event) {
                    Some(item) => Poll::Ready(Some(Ok(item))),
                    None => continue,
                },
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

/// The run's next event, within the task's budget of tokio's cooperative scheduling: when
/// a model or a writer is always ready, the run never waits on its own, and without the
/// budget it would keep the task (and, on a current-thread runtime, every other task and
/// timer) to itself until the end. Each event spends one unit, as an item of a tokio
/// channel does; once the budget is spent, this returns `Pending` and wakes the task at
/// once, so the scheduler runs others first. Outside a tokio runtime there is no budget.
fn poll_cooperatively<G: GraphDef>(
    run: &mut Run<G>,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Event<G>, GraphError>>> {
    let coop = ready!(tokio::task::coop::poll_proceed(cx));
    let event = ready!(run.poll_event(cx));
    coop.made_progress();
    Poll::Ready(event)
}

/// Runs `G` on `input` to the end and returns the final state. Generated `Graph::invoke`
/// calls this.
///
/// # Errors
/// The first error of the run.
pub async fn invoke<G: RunNode>(
    context: Arc<G::Context>,
    input: G::State,
    config: RunConfig<G::Tag>,
) -> Result<G::State, GraphError> {
    run_to_end(Run::<G>::new(
        context,
        input,
        ModeSet::default(),
        config,
        start_node::<G>,
    ))
    .await
}

/// Polls `run` to its end and returns the final state, or its first error.
pub(crate) async fn run_to_end<G: GraphDef>(mut run: Run<G>) -> Result<G::State, GraphError> {
    while let Some(event) = futures::future::poll_fn(|cx| poll_cooperatively(&mut run, cx)).await {
        event?;
    }
    Ok(run.into_state())
}
