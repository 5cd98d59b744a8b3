//! A subgraph's run in its parent's thread: its own checkpoints, in a namespace of its
//! own, so that resuming the parent resumes the subgraph where it stopped.
//!
//! Whether a subgraph can store its state is a fact about its state type
//! (`Durable + Default`), which generic code cannot ask. `#[graph]` asks it where the
//! type is known, in the generated `RunNode::child_on_thread`, by method resolution
//! ([`Probe`]): a durable graph gets the two fns of [`ChildOnThread`], any other `None`,
//! and runs as a subgraph without checkpoints, as before.

use std::marker::PhantomData;

use futures::future::BoxFuture;

use super::begin::Begin;
use super::pending::Pending;
use crate::checkpoint::{Durable, Source};
use crate::config::RunConfig;
use crate::error::GraphError;
use crate::graph::traits::GraphDef;
use crate::interrupt::Interrupt;
use crate::run::persist::{StepSink, ThreadRef, ThreadStart};

/// Where a subgraph's line of checkpoints stands when its parent's task runs it.
pub(crate) enum ChildLine {
    /// No run of it stopped in this namespace: it starts anew from its input.
    Fresh,
    /// A run of it stopped here (on this open question, or on a failure, a crash or a
    /// breakpoint when there is none): it goes on from there.
    Stopped(Option<Interrupt>),
}

type ReadLine = for<'a> fn(&'a ThreadRef) -> BoxFuture<'a, Result<ChildLine, GraphError>>;
type BeginChild<C> = fn(
    ThreadRef,
    Begin<C>,
    RunConfig<<C as GraphDef>::Tag>,
) -> BoxFuture<'static, Result<StartedChild<C>, GraphError>>;

/// A subgraph's run set up: its state, the sink its steps go to, where it starts.
pub(crate) type StartedChild<C> = (<C as GraphDef>::State, Box<dyn StepSink<C>>, ThreadStart<C>);

/// How a durable graph `C` runs as a subgraph on its parent's thread. Made only for a
/// graph whose state is `Durable + Default`.
pub struct ChildOnThread<C: GraphDef> {
    pub(crate) read_line: ReadLine,
    pub(crate) begin: BeginChild<C>,
}

impl<C: GraphDef> Clone for ChildOnThread<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: GraphDef> Copy for ChildOnThread<C> {}

impl<C: GraphDef> std::fmt::Debug for ChildOnThread<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChildOnThread")
    }
}

fn read_line<C>(thread: &ThreadRef) -> BoxFuture<'_, Result<ChildLine, GraphError>>
where
    C: GraphDef,
    C::State: Durable + Default,
{
    Box::pin(async move {
        let latest = thread
            .store
            .get(&thread.thread_id, &thread.namespace, None)
            .await?;
        let Some(checkpoint) = latest else {
            return Ok(ChildLine::Fresh);
        };
        if checkpoint.meta.next.is_empty() || checkpoint.meta.source == Source::Input {
            return Ok(ChildLine::Fresh);
        }
        let pending = Pending::read::<C>(&checkpoint)?;
        Ok(ChildLine::Stopped(pending.questions.into_iter().next()))
    })
}

fn begin<C>(
    thread: ThreadRef,
    begin: Begin<C>,
    config: RunConfig<C::Tag>,
) -> BoxFuture<'static, Result<StartedChild<C>, GraphError>>
where
    C: GraphDef,
    C::State: Durable + Default,
{
    Box::pin(async move {
        let (state, sink, start) = thread.begin(begin, &config, false, None).await?;
        let sink: Box<dyn StepSink<C>> = Box::new(sink);
        Ok((state, sink, start))
    })
}

/// Asks, by method resolution, whether graph `G` can store its state: generated code
/// calls `(&Probe::<Graph>::new()).child_on_thread()` with both traits in scope.
pub struct Probe<G>(PhantomData<fn() -> G>);

impl<G> Probe<G> {
    /// The probe.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<G> Default for Probe<G> {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer for a graph whose state is `Durable + Default`, found first.
pub trait ChildOnThreadIfDurable<G: GraphDef> {
    /// How the graph runs on its parent's thread.
    fn child_on_thread(&self) -> Option<ChildOnThread<G>>;
}

impl<G: GraphDef> ChildOnThreadIfDurable<G> for Probe<G>
where
    G::State: Durable + Default,
{
    fn child_on_thread(&self) -> Option<ChildOnThread<G>> {
        Some(ChildOnThread {
            read_line: read_line::<G>,
            begin: begin::<G>,
        })
    }
}

/// The answer for any other graph, found after one more reference.
pub trait ChildOnThreadNever<G: GraphDef> {
    /// `None`: the graph runs as a subgraph without checkpoints.
    fn child_on_thread(&self) -> Option<ChildOnThread<G>>;
}

impl<G: GraphDef> ChildOnThreadNever<G> for &Probe<G> {
    fn child_on_thread(&self) -> Option<ChildOnThread<G>> {
        None
    }
}
