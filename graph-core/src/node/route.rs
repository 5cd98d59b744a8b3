//! Async routers, run inside the task of the node they route from (as LangGraph runs a
//! conditional edge's function among the node's writers): their model calls stream with that
//! task's metadata, a retry policy or timeout of the node covers them, and the target they
//! pick is stored with the task's update, so a resumed step does not ask them again.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::context::NodeContext;
use crate::error::{NodeError, RouterFailure, panic_message};
use crate::graph::topology::Target;
use crate::graph::traits::{GraphDef, GraphNode, State};
use crate::run::persist::Output;

/// What `#[graph]` generates for an `async` `#[router]` fn: calls it on the state its node
/// left and maps its enum to a target.
pub type AsyncRoute<G> =
    for<'a> fn(
        &'a <G as GraphDef>::State,
        &'a NodeContext<G>,
    ) -> BoxFuture<'a, Result<Target<<G as GraphDef>::Node>, NodeError>>;

/// What an `async` `#[router]` fn may return: its generated enum, or a `Result` of it (the
/// error of a model call it makes, with `?`).
#[diagnostic::on_unimplemented(
    message = "an async `#[router]` fn must return its enum `{R}` or `Result<{R}, E>`, not `{Self}`",
    label = "this is not the router's enum",
    note = "`#[graph]` generates the enum `{R}` from the router's targets in the edge list"
)]
pub trait IntoRoute<R> {
    /// Converts the router's return value.
    ///
    /// # Errors
    /// The router's own error, boxed.
    fn into_route(self) -> Result<R, NodeError>;
}

impl<R> IntoRoute<R> for R {
    fn into_route(self) -> Result<R, NodeError> {
        Ok(self)
    }
}

impl<R, E: Into<NodeError>> IntoRoute<R> for Result<R, E> {
    fn into_route(self) -> Result<R, NodeError> {
        self.map_err(Into::into)
    }
}

/// Runs the async routers of the node a task ran, after it returned `output`: each reads
/// `input` with the node's update applied (what the node left, not what its siblings in the
/// step wrote) and adds its target to the task's `goto`.
///
/// # Errors
/// The node's own error, untouched; a router's error or panic as a failure naming
/// it (the run reports it as [`GraphError::Router`](crate::GraphError::Router)). An
/// interrupt asked by a router stays an interrupt.
pub async fn route_in_task<G: GraphDef>(
    output: Result<Output<G>, NodeError>,
    input: &G::State,
    ctx: &NodeContext<G>,
    routers: &'static [(&'static str, AsyncRoute<G>)],
) -> Result<Output<G>, NodeError> {
    let mut output = output?;
    let node = ctx.node().name();
    let left = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut left = input.clone();
        left.merge(vec![(node, output.update.clone())])
            .map(|()| left)
    }));
    // A failure before any router runs is put on the first.
    let first = routers.first().map_or("router", |(router, _)| *router);
    let left = match left {
        Ok(Ok(left)) => left,
        // One update alone cannot conflict; a reducer that says so anyway fails the router.
        Ok(Err(conflict)) => return Err(RouterFailure::failed(first, conflict.into()).into()),
        Err(panic) => return Err(RouterFailure::panicked(first, panic_message(&*panic)).into()),
    };
    for (router, route) in routers {
        let target = AssertUnwindSafe(route(&left, ctx)).catch_unwind().await;
        match target {
            Ok(Ok(Target::Node(next))) => {
                if !output.goto.contains(&next) {
                    output.goto.push(next);
                }
            }
            Ok(Ok(Target::End)) => {}
            Ok(Err(error)) if error.is_interrupt() => return Err(error),
            Ok(Err(error)) => return Err(RouterFailure::failed(router, error).into()),
            Err(panic) => {
                return Err(RouterFailure::panicked(router, panic_message(&*panic)).into());
            }
        }
    }
    Ok(output)
}
