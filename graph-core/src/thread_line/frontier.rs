//! The tasks due after a checkpoint, as a thread stores them and a resumed run reads them
//! back (the JSON of `CheckpointMeta::frontier`).

use serde_json::{Value, json};

use crate::checkpoint::{CheckpointMeta, Due, Durable};
use crate::error::CheckpointError;
use crate::graph::topology::Edge;
use crate::graph::traits::{GraphDef, GraphNode, SentInput};
use crate::run::frontier::NextTask;
use crate::run::persist::DueTasks;
use crate::stream::metadata::PREGEL_PUSH;

/// `due` as stored: the nodes' names, and each task's triggers or a `Send`'s input with the
/// fan-ins' progress.
pub(crate) fn encode<G: GraphDef>(due: &DueTasks<'_, G>) -> Result<Due, CheckpointError>
where
    G::State: Durable,
{
    if due.tasks.is_empty() {
        return Ok(Due::default());
    }
    let nodes = due
        .tasks
        .iter()
        .map(|task| task.node().name().to_owned())
        .collect();
    // The common step (each task pulled by a plain edge, no fan-in half seen) is what
    // `next` alone says, and `decode` reads it back from there: nothing more is stored.
    let plain = due.tasks.iter().all(|task| {
        matches!(task, NextTask::Pull(node, triggers) if triggers[..] == [node.branch_trigger()])
    });
    let joins_started = due.joins.iter().flatten().any(|seen| *seen);
    if plain && !joins_started {
        return Ok(Due {
            nodes,
            frontier: Value::Null,
        });
    }
    let mut tasks = Vec::with_capacity(due.tasks.len());
    for task in due.tasks {
        tasks.push(match task {
            NextTask::Pull(node, triggers) => json!({"node": node.name(), "triggers": triggers}),
            NextTask::Push(node, input) => encode_send::<G>(*node, input)?,
        });
    }
    let joins = if joins_started {
        json!(due.joins)
    } else {
        Value::Null
    };
    Ok(Due {
        nodes,
        frontier: json!({"tasks": tasks, "joins": joins}),
    })
}

/// The tasks due after a checkpoint, typed, and the fan-ins' progress.
pub(crate) type DecodedDue<G> = (
    Vec<NextTask<<G as GraphDef>::Node, <G as GraphDef>::Sent>>,
    Vec<Vec<bool>>,
);

/// The tasks due after the checkpoint of `meta` and the fan-ins' progress, typed. A
/// checkpoint with no stored frontier gives one task per name in `next`, pulled by an edge.
pub(crate) fn decode<G: GraphDef>(meta: &CheckpointMeta) -> Result<DecodedDue<G>, CheckpointError>
where
    G::State: Durable,
{
    let corrupt = |detail: String| CheckpointError::Corrupt {
        thread: meta.thread_id.clone(),
        checkpoint: meta.id.to_string(),
        detail: format!("its tasks due: {detail}"),
    };
    let Some(frontier) = meta.frontier.as_object() else {
        let tasks = meta
            .next
            .iter()
            .map(|name| {
                let node = node_named::<G::Node>(name)?;
                Ok(NextTask::Pull(node, vec![node.branch_trigger()]))
            })
            .collect::<Result<_, CheckpointError>>()?;
        return Ok((tasks, Vec::new()));
    };
    let mut tasks = Vec::new();
    for task in frontier
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or_else(|| corrupt("no list of tasks".into()))?
    {
        let name = task
            .get("node")
            .and_then(Value::as_str)
            .ok_or_else(|| corrupt(format!("a task without a node: {task}")))?;
        let node = node_named::<G::Node>(name)?;
        if task.get("push").is_some() || task.get("send").is_some() {
            let (node, input) = decode_send::<G>(task, &corrupt)?;
            tasks.push(NextTask::Push(node, input));
        } else {
            let triggers = task
                .get("triggers")
                .and_then(Value::as_array)
                .ok_or_else(|| corrupt(format!("the task of `{name}` has no triggers")))?
                .iter()
                .map(|trigger| trigger_named::<G>(node, trigger.as_str().unwrap_or_default()))
                .collect::<Result<_, _>>()?;
            tasks.push(NextTask::Pull(node, triggers));
        }
    }
    let joins = match frontier.get("joins") {
        None | Some(Value::Null) => Vec::new(),
        Some(joins) => serde_json::from_value(joins.clone())
            .map_err(|error| corrupt(format!("the fan-ins' progress: {error}")))?,
    };
    Ok((tasks, joins))
}

/// The graph's node named `name`.
pub(crate) fn node_named<N: GraphNode>(name: &str) -> Result<N, CheckpointError> {
    N::ALL
        .iter()
        .copied()
        .find(|node| node.name() == name)
        .ok_or_else(|| CheckpointError::StateShape {
            field: "next".into(),
            detail: format!("the graph has no node `{name}`"),
        })
}

/// The trigger `name` of a task of `node`, as the graph's own `'static` name.
fn trigger_named<G: GraphDef>(node: G::Node, name: &str) -> Result<&'static str, CheckpointError> {
    if name == node.branch_trigger() {
        return Ok(node.branch_trigger());
    }
    if name == PREGEL_PUSH {
        return Ok(PREGEL_PUSH);
    }
    G::topology()
        .edges()
        .iter()
        .find_map(|edge| match edge {
            Edge::Join { trigger, .. } if *trigger == name => Some(*trigger),
            _ => None,
        })
        .ok_or_else(|| CheckpointError::StateShape {
            field: "next".into(),
            detail: format!(
                "the graph has no edge that triggers `{name}` for `{}`",
                node.name()
            ),
        })
}

/// A `Send` as stored: `{"node", "push"}` with the state's fields, as a checkpoint stores a
/// state, for a node that takes the state; `{"node", "send"}` with the input's JSON for a node
/// that takes a type of its own.
pub(crate) fn encode_send<G: GraphDef>(
    node: G::Node,
    input: &G::Sent,
) -> Result<Value, CheckpointError>
where
    G::State: Durable,
{
    match (input.state(), input.payload_json()) {
        (Some(state), _) => {
            Ok(json!({"node": node.name(), "push": Value::Object(state.to_values()?)}))
        }
        (None, Some(payload)) => {
            let payload = payload.map_err(|detail| CheckpointError::Encode {
                detail: format!("the `Send` to `{}`: {detail}", node.name()),
            })?;
            Ok(json!({"node": node.name(), "send": payload}))
        }
        (None, None) => Err(CheckpointError::Encode {
            detail: format!("the `Send` to `{}` has no input", node.name()),
        }),
    }
}

/// A `Send` read back from what [`encode_send`] wrote; `corrupt` makes the error for what
/// is malformed.
///
/// # Errors
/// A state of another shape, as [`Durable::from_values`] names it; anything malformed.
pub(crate) fn decode_send<G: GraphDef>(
    stored: &Value,
    corrupt: impl Fn(String) -> CheckpointError,
) -> Result<(G::Node, G::Sent), CheckpointError>
where
    G::State: Durable,
{
    let name = stored
        .get("node")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt(format!("a `Send` without a node: {stored}")))?;
    let node = node_named::<G::Node>(name)?;
    if let Some(input) = stored.get("push") {
        let input = input.as_object().cloned().ok_or_else(|| {
            corrupt(format!(
                "the input of a `Send` to `{name}` is not an object"
            ))
        })?;
        let input = G::Sent::from_state(node, G::State::from_values(input)?).ok_or_else(|| {
            corrupt(format!(
                "a `Send` of the state to `{name}`, which takes an input of its own"
            ))
        })?;
        return Ok((node, input));
    }
    let input = stored
        .get("send")
        .ok_or_else(|| corrupt(format!("a `Send` to `{name}` without its input")))?;
    let input = G::Sent::payload_from_json(node, input.clone())
        .map_err(|detail| corrupt(format!("the input of a `Send` to `{name}`: {detail}")))?;
    Ok((node, input))
}
