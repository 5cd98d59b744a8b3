//! A task of a node with a retry policy or a timeout: its attempts, one after the other,
//! each with metadata saying which attempt it is. Nodes without either never come here, so
//! their tasks pay nothing for it.

use std::sync::Arc;

use super::shared::{RunShared, StartNode};
use crate::error::{NodeError, NodeTimedOut};
use crate::graph::goto::NodeOutput;
use crate::graph::policy::NodePolicy;
use crate::graph::sent::TaskInput;
use crate::graph::traits::{GraphDef, GraphNode, NodeFuture, State};
use crate::stream::metadata::TaskMetadata;

type Output<G> = NodeOutput<
    <<G as GraphDef>::State as State>::Update,
    <G as GraphDef>::Node,
    <G as GraphDef>::Sent,
>;

/// Runs `node` on `input` until an attempt succeeds, fails with an error the policy does
/// not retry (an interrupt never is), or uses the last attempt. `first` is the first
/// attempt's metadata; each later attempt gets its own, and tasks mode records each failed
/// attempt before the wait, so a consumer can drop what the attempt streamed.
pub(crate) fn run_attempts<G: GraphDef>(
    start: StartNode<G>,
    node: G::Node,
    input: TaskInput<G>,
    shared: Arc<RunShared<G>>,
    first: Arc<TaskMetadata<G::Node>>,
    policy: NodePolicy,
) -> NodeFuture<G> {
    Box::pin(async move {
        let mut task = first;
        loop {
            let attempt = start(node, input.clone(), Arc::clone(&shared), Arc::clone(&task));
            let error = match within::<G>(node, policy, attempt).await {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            let Some(retry) = policy.retry else {
                return Err(error);
            };
            let number = task.attempt();
            if number >= retry.max_attempts_value()
                || error.is_interrupt()
                || !retry.retries(&error)
            {
                return Err(error);
            }
            let wait = retry.delay(number);
            shared.record.attempt_failed(&task, &error, wait);
            // The failed attempt is dropped before the wait: its model calls stop.
            tokio::time::sleep(wait).await;
            task = Arc::new(task.attempt_of(number + 1));
            // The task's span (polling this) shows the attempt under way.
            tracing::Span::current().record("attempt", i64::from(number + 1));
        }
    })
}

/// One attempt, cut off after the policy's timeout if it has one.
async fn within<G: GraphDef>(
    node: G::Node,
    policy: NodePolicy,
    attempt: NodeFuture<G>,
) -> Result<Output<G>, NodeError> {
    let Some(after) = policy.timeout else {
        return attempt.await;
    };
    tokio::time::timeout(after, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(NodeError::from(NodeTimedOut {
                node: node.name(),
                after,
            }))
        })
}
