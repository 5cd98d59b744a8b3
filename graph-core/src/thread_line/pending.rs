//! What the tasks of a stopped step left after its checkpoint: the pending writes read
//! back, typed.

use std::collections::HashMap;

use serde_json::Value;

use crate::checkpoint::{Checkpoint, CheckpointError, Durable, PendingWrite};
use crate::graph::traits::GraphDef;
use crate::interrupt::Interrupt;

/// What the tasks of a stopped step left: the updates of those that finished, the answers
/// their interrupts have, and the questions still open.
pub(crate) struct Pending<U> {
    pub(crate) finished: HashMap<String, U>,
    /// The nodes each finished task's `goto` named, as stored: `branch:to:<node>`'s node.
    pub(crate) goto: HashMap<String, Vec<String>>,
    /// The `Send`s each finished task's `goto` named, as stored (`__pregel_tasks`).
    pub(crate) sends: HashMap<String, Vec<Value>>,
    pub(crate) answers: HashMap<String, Vec<Value>>,
    pub(crate) questions: Vec<Interrupt>,
    /// Answered questions whose task did not finish, answered last: a new answer replaces
    /// the old when no question is open.
    pub(crate) reanswerable: Vec<Interrupt>,
}

impl<U> Pending<U> {
    /// Reads the pending writes of `checkpoint`.
    pub(crate) fn read<G>(checkpoint: &Checkpoint) -> Result<Self, CheckpointError>
    where
        G: GraphDef<State: Durable<Update = U>>,
    {
        let corrupt = |detail: String| CheckpointError::Corrupt {
            thread: checkpoint.meta.thread_id.clone(),
            checkpoint: checkpoint.meta.id.to_string(),
            detail,
        };
        let mut pending = Pending {
            finished: HashMap::new(),
            goto: HashMap::new(),
            sends: HashMap::new(),
            answers: HashMap::new(),
            questions: Vec::new(),
            reanswerable: Vec::new(),
        };
        for write in &checkpoint.pending_writes {
            match write.channel.as_str() {
                PendingWrite::UPDATE => {
                    let Value::Object(update) = write.value.clone() else {
                        return Err(corrupt(format!(
                            "the pending update of task `{}` is not an object",
                            write.task_id
                        )));
                    };
                    pending
                        .finished
                        .insert(write.task_id.clone(), G::State::update_from_json(update)?);
                }
                PendingWrite::RESUME => {
                    let Value::Array(answers) = write.value.clone() else {
                        return Err(corrupt(format!(
                            "the answers of task `{}` are not a list",
                            write.task_id
                        )));
                    };
                    pending.answers.insert(write.task_id.clone(), answers);
                }
                PendingWrite::INTERRUPT => {
                    let question =
                        Interrupt::from_stored(&write.task_id, &write.node, &write.value)
                            .ok_or_else(|| {
                                corrupt(format!(
                                    "the interrupt of task `{}` does not decode: {}",
                                    write.task_id, write.value
                                ))
                            })?;
                    pending.questions.push(question);
                }
                PendingWrite::TASKS => {
                    let Value::Array(sends) = write.value.clone() else {
                        return Err(corrupt(format!(
                            "the `Send`s of task `{}` are not a list",
                            write.task_id
                        )));
                    };
                    pending.sends.insert(write.task_id.clone(), sends);
                }
                channel => {
                    if let Some(node) = channel.strip_prefix(PendingWrite::GOTO_PREFIX) {
                        pending
                            .goto
                            .entry(write.task_id.clone())
                            .or_default()
                            .push(node.to_owned());
                    }
                }
            }
        }
        let (answers, finished) = (&pending.answers, &pending.finished);
        let (open, answered): (Vec<_>, Vec<_>) = std::mem::take(&mut pending.questions)
            .into_iter()
            .partition(|question| {
                answers.get(question.task()).map_or(0, Vec::len) <= question.index()
            });
        pending.questions = open;
        // A task that failed on its last answer (an answer of the wrong type, say) may be
        // answered again.
        pending.reanswerable = answered
            .into_iter()
            .filter(|question| {
                !finished.contains_key(question.task())
                    && answers.get(question.task()).map(Vec::len) == Some(question.index() + 1)
            })
            .collect();
        Ok(pending)
    }
}
