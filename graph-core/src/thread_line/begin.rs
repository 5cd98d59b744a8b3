//! Where a run on a thread begins: the thread taken, its checkpoint read, and the run set
//! up from an input (a new turn) or a command (going on inside the step it stopped in).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::frontier;
use super::pending::Pending;
use super::sink::{Lease, ThreadSink, Unsaved};
use crate::checkpoint::{
    Checkpoint, CheckpointLine, CheckpointMeta, Due, Durable, NewCheckpoint, PendingWrite, Source,
    StateDelta,
};
use crate::config::{Durability, RunConfig};
use crate::error::{CheckpointError, GraphError};
use crate::graph::command::{Command, Resume};
use crate::graph::goto::NodeOutput;
use crate::graph::traits::{GraphDef, GraphNode, SentInput, State};
use crate::interrupt::Interrupt;
use crate::run::frontier::NextTask;
use crate::run::persist::{ResumePoint, ThreadRef, ThreadStart};

type Update<G> = <<G as GraphDef>::State as State>::Update;

/// What a run on a thread is given.
pub(crate) enum Begin<G: GraphDef> {
    /// A new turn's input, applied to the thread's state.
    Input(Update<G>),
    /// A command, going on from where the thread stopped.
    Command(Command<G>),
    /// A new line of checkpoints from this state (a subgraph's run, in its namespace).
    Fresh(G::State),
}

/// What a thread's run starts with: the state, the sink its steps go to, where it starts.
pub(crate) type Started<G> = (<G as GraphDef>::State, ThreadSink<G>, ThreadStart<G>);

/// A run set up but for its lease: the state, the line its checkpoints follow, what it
/// changed before its first step, where it starts, the checkpoints made for checkpoints
/// mode, and the input checkpoint when it is stored beside the first step.
type Prepared<G> = (
    <G as GraphDef>::State,
    CheckpointLine,
    Option<StateDelta>,
    ThreadStart<G>,
    Vec<Reported<G>>,
    Option<NewCheckpoint>,
);

/// A checkpoint made for checkpoints mode, with the state it holds when that is not the
/// run's.
type Reported<G> = (CheckpointMeta, Option<<G as GraphDef>::State>);

/// A new turn's input stored: the state with it applied, the line, what it changed, the
/// step it is applied at, the input checkpoint when reported, and the input checkpoint
/// when it is left to be stored beside the first step.
type StoredInput<G> = (
    <G as GraphDef>::State,
    CheckpointLine,
    StateDelta,
    u64,
    Option<Reported<G>>,
    Option<NewCheckpoint>,
);

impl ThreadRef {
    /// Takes the thread, reads where it stands, and sets the run up.
    pub(crate) async fn begin<G>(
        &self,
        begin: Begin<G>,
        config: &RunConfig<G::Tag>,
        report: bool,
        lease: Option<Duration>,
    ) -> Result<Started<G>, GraphError>
    where
        G: GraphDef,
        G::State: Durable + Default,
    {
        let owner = config
            .run_id
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |id| id.to_string());
        let (mut lease, checkpoint) = match lease {
            Some(length) => {
                let (lease, checkpoint) = Lease::take_and_read(
                    &self.store,
                    &self.thread_id,
                    &self.namespace,
                    config.checkpoint_id,
                    owner.clone(),
                    length,
                )
                .await?;
                (Some(lease), checkpoint)
            }
            None => (
                None,
                self.store
                    .get(&self.thread_id, &self.namespace, config.checkpoint_id)
                    .await?,
            ),
        };
        match self.prepare(begin, config, owner, report, checkpoint).await {
            Ok((state, line, input_delta, start, reported, input)) => {
                let sink = ThreadSink {
                    store: std::sync::Arc::clone(&self.store),
                    line,
                    durability: config.durability,
                    input,
                    input_delta,
                    unsaved: Unsaved::default(),
                    lease,
                    report,
                    reported,
                };
                Ok((state, sink, start))
            }
            Err(error) => {
                // Given up before the error is returned, so that a retry finds it free; the
                // error that stopped the run matters more than one giving it up.
                if let Some(lease) = &mut lease {
                    let _ = lease.release().await;
                }
                Err(error)
            }
        }
    }

    /// Sets the run up from `begin` and `checkpoint`, where the thread stands (the one
    /// `config` forks from, or its newest).
    async fn prepare<G>(
        &self,
        begin: Begin<G>,
        config: &RunConfig<G::Tag>,
        owner: String,
        report: bool,
        checkpoint: Option<Checkpoint>,
    ) -> Result<Prepared<G>, GraphError>
    where
        G: GraphDef,
        G::State: Durable + Default,
    {
        if let (Some(id), None) = (config.checkpoint_id, &checkpoint) {
            return Err(CheckpointError::NotFound {
                thread: self.thread_id.clone(),
                at: Some(id.to_string()),
            }
            .into());
        }
        match begin {
            Begin::Input(input) => {
                // `Async` stores the input beside the run's first step, as it does every
                // step: the run's first tokens do not wait for it.
                let defer = config.durability == Durability::Async;
                let (state, line, input_delta, step, input_checkpoint, deferred) = self
                    .store_input::<G>(checkpoint, input, &owner, report, defer)
                    .await?;
                let reported = input_checkpoint.into_iter().collect();
                Ok((
                    state,
                    line,
                    Some(input_delta),
                    ThreadStart::Input { step },
                    reported,
                    deferred,
                ))
            }
            Begin::Fresh(state) => {
                let mut line = CheckpointLine::new(&self.thread_id, &self.namespace, Some(owner));
                let due = Due {
                    nodes: vec!["__start__".into()],
                    frontier: Value::Null,
                };
                let input = line.next(&state, StateDelta::default(), -1, Source::Input, due)?;
                let reported = report
                    .then(|| (input.meta.clone(), None))
                    .into_iter()
                    .collect();
                self.store.put(input).await?;
                Ok((
                    state,
                    line,
                    None,
                    ThreadStart::Input { step: 0 },
                    reported,
                    None,
                ))
            }
            Begin::Command(command) => {
                let Some(checkpoint) = checkpoint else {
                    return Err(CheckpointError::NotFound {
                        thread: self.thread_id.clone(),
                        at: None,
                    }
                    .into());
                };
                let line = CheckpointLine::after(&checkpoint, Some(owner));
                let (state, input_delta, point) = self.resume_point(checkpoint, command).await?;
                Ok((
                    state,
                    line,
                    input_delta,
                    ThreadStart::Resume(point),
                    Vec::new(),
                    None,
                ))
            }
        }
    }

    /// A new turn: stores the input checkpoint after `latest` (or as the thread's first),
    /// or with `defer` returns it to be stored beside the first step, and applies the
    /// input. Returns the state, the line, what the input changed, the step the input is
    /// applied at, when `report` the input checkpoint with the state it holds, and the
    /// deferred input checkpoint.
    async fn store_input<G>(
        &self,
        latest: Option<Checkpoint>,
        input: Update<G>,
        owner: &str,
        report: bool,
        defer: bool,
    ) -> Result<StoredInput<G>, GraphError>
    where
        G: GraphDef,
        G::State: Durable + Default,
    {
        let (state, mut line, last_step) = match &latest {
            Some(checkpoint) => (
                G::State::from_values(checkpoint.values.clone())?,
                CheckpointLine::after(checkpoint, Some(owner.to_owned())),
                checkpoint.meta.step,
            ),
            None => (
                G::State::default(),
                CheckpointLine::new(&self.thread_id, &self.namespace, Some(owner.to_owned())),
                -2,
            ),
        };
        // LangGraph's numbering: the input at the step after the thread's last, the input
        // applied at the one after that, the run's first step next.
        let input_step = last_step + 1;
        let due = Due {
            nodes: vec!["__start__".into()],
            frontier: Value::Null,
        };
        let checkpoint = line.next(
            &state,
            StateDelta::default(),
            input_step,
            Source::Input,
            due,
        )?;
        let reported = report.then(|| (checkpoint.meta.clone(), Some(state.clone())));
        let deferred = if defer {
            Some(checkpoint)
        } else {
            self.store.put(checkpoint).await?;
            None
        };
        let (state, delta) = apply("__start__", state, input)?;
        let step = u64::try_from(input_step + 1).map_err(|_| {
            GraphError::Checkpoint(CheckpointError::Corrupt {
                thread: self.thread_id.clone(),
                checkpoint: String::new(),
                detail: format!("its last step is {last_step}"),
            })
        })?;
        Ok((state, line, delta, step, reported, deferred))
    }

    /// Going on inside the step after `checkpoint`, as `command` says: its tasks, those
    /// that had finished, and the answers their interrupts get (stored first, so that a
    /// crash keeps them).
    async fn resume_point<G>(
        &self,
        checkpoint: Checkpoint,
        command: Command<G>,
    ) -> Result<(G::State, Option<StateDelta>, ResumePoint<G>), GraphError>
    where
        G: GraphDef,
        G::State: Durable + Default,
    {
        let cannot = |reason: String| GraphError::CannotResume {
            thread: self.thread_id.clone(),
            reason,
        };
        if checkpoint.meta.source == Source::Input {
            return Err(cannot(
                "its last run stopped before applying its input: run it again with the input"
                    .into(),
            ));
        }
        let after_step = u64::try_from(checkpoint.meta.step).map_err(|_| {
            cannot(format!(
                "its checkpoint is at step {}",
                checkpoint.meta.step
            ))
        })?;
        let (mut tasks, joins) = frontier::decode::<G>(&checkpoint.meta)?;
        for node in &command.goto {
            let due = tasks
                .iter()
                .any(|task| matches!(task, NextTask::Pull(pulled, _) if pulled == node));
            if !due {
                tasks.push(NextTask::Pull(*node, vec![node.branch_trigger()]));
            }
        }
        for sent in command.sends {
            let sent = match Arc::try_unwrap(sent) {
                Ok(sent) => sent,
                // A cloned command still shares it: copied through the JSON a thread
                // stores a `Send` as anyway.
                Err(shared) => {
                    let stored = frontier::encode_send::<G>(shared.node(), &shared)?;
                    frontier::decode_send::<G>(&stored, |detail| CheckpointError::Encode {
                        detail: format!("the command's `Send`: {detail}"),
                    })?
                    .1
                }
            };
            tasks.push(NextTask::Push(sent.node(), sent));
        }
        if tasks.is_empty() {
            return Err(cannot(
                "nothing is due: its last run ran to its end (start a new turn with an input)"
                    .into(),
            ));
        }
        let Pending {
            finished,
            mut goto,
            mut sends,
            mut answers,
            questions,
            reanswerable,
        } = Pending::read::<G>(&checkpoint)?;
        let questions = if questions.is_empty() {
            reanswerable
        } else {
            questions
        };
        let answered = match command.resume {
            None => Vec::new(),
            Some(Resume::Value(value)) => match questions.as_slice() {
                [question] => vec![(question, value)],
                [] => return Err(cannot("no interrupt is pending".into())),
                several => {
                    return Err(cannot(format!(
                        "{} interrupts are pending: answer each by its id ({})",
                        several.len(),
                        several
                            .iter()
                            .map(Interrupt::id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            },
            Some(Resume::ById(by_id)) => {
                let mut answered = Vec::new();
                for (id, value) in by_id {
                    let question = questions
                        .iter()
                        .find(|question| question.id() == id)
                        .ok_or_else(|| cannot(format!("no pending interrupt has id `{id}`")))?;
                    answered.push((question, value));
                }
                answered
            }
        };
        let mut writes = Vec::new();
        for (question, value) in answered {
            let list = answers.entry(question.task().to_owned()).or_default();
            list.truncate(question.index());
            list.push(value);
            writes.push(PendingWrite {
                task_id: question.task().to_owned(),
                node: question.node().to_owned(),
                channel: PendingWrite::RESUME.to_owned(),
                value: Value::Array(list.clone()),
            });
        }
        if !writes.is_empty() {
            self.store
                .put_writes(&self.thread_id, &self.namespace, checkpoint.meta.id, writes)
                .await?;
        }
        let state = G::State::from_values(checkpoint.values)?;
        let (state, delta) = match command.update {
            None => (state, None),
            Some(update) => {
                let (state, delta) = apply("__update__", state, update)?;
                (state, Some(delta))
            }
        };
        let finished = finished
            .into_iter()
            .map(|(task, update)| {
                let goto = goto
                    .remove(&task)
                    .unwrap_or_default()
                    .iter()
                    .map(|name| frontier::node_named::<G::Node>(name))
                    .collect::<Result<_, _>>()?;
                let sends = sends
                    .remove(&task)
                    .unwrap_or_default()
                    .iter()
                    .map(|send| {
                        frontier::decode_send::<G>(send, |detail| CheckpointError::Corrupt {
                            thread: self.thread_id.clone(),
                            checkpoint: checkpoint.meta.id.to_string(),
                            detail: format!("a `Send` task `{task}` named: {detail}"),
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok((
                    task,
                    NodeOutput {
                        update,
                        goto,
                        sends,
                    },
                ))
            })
            .collect::<Result<_, CheckpointError>>()?;
        let point = ResumePoint {
            after_step,
            tasks,
            joins,
            finished,
            answers,
        };
        Ok((state, delta, point))
    }
}

/// `state` with `update` applied as node `writer`'s write, and what it changed.
fn apply<S: Durable>(
    writer: &'static str,
    state: S,
    update: S::Update,
) -> Result<(S, StateDelta), GraphError> {
    let mut merged = state;
    merged
        .merge(vec![(writer, update.clone())])
        .map_err(|conflict| GraphError::ConflictingUpdate { step: 0, conflict })?;
    let delta = S::delta(&update, &merged)?;
    Ok((merged, delta))
}
