//! What a run records for its stream: the one place that decides, for each kind of item,
//! whether the run's modes ask for it. A kind no mode asks for is never built.
//!
//! The executor, a node's context and a subgraph call report what happened (a task
//! started, a payload was written); the [`Recorder`] decides what becomes an item and puts
//! it in the run's buffer.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use super::checkpoint_item::CheckpointEvent;
use super::items::{CustomChunk, MessageChunk};
use super::metadata::{MessageMetadata, TaskMetadata};
use super::mode::ModeSet;
use super::task_items::{NodeUpdate, TaskEvent, TaskEventKind};
use crate::buffer::Buffer;
use crate::chat::{ChatChunk, Message};
use crate::error::NodeError;
use crate::graph::sent::TaskInput;
use crate::graph::tags::TagSet;
use crate::graph::traits::{GraphDef, State};
use crate::interrupt::Interrupt;

type Update<G> = <<G as GraphDef>::State as State>::Update;

/// Something a run produced, before the mode turns it into the stream's item.
#[doc(hidden)]
pub enum Event<G: GraphDef> {
    Message(MessageChunk<G::Tag>),
    Custom(CustomChunk<G::Custom, G::Tag>),
    /// Shared with the run: cloned out only when the consumer takes it.
    Values(Arc<G::State>),
    /// Boxed, as the task events: rare items should not make every buffered chunk larger.
    Update(Box<NodeUpdate<G>>),
    Task(Box<TaskEvent<G>>),
    Checkpoint(Box<CheckpointEvent<G>>),
}

/// The modes of one run and the buffer its items wait in.
pub(crate) struct Recorder<G: GraphDef> {
    modes: ModeSet,
    buffer: Buffer<Event<G>>,
    /// Ids of messages that must not be emitted whole in messages mode: those already
    /// streamed as chunks, those of `nostream` calls, and the input's. Kept only when
    /// messages mode is on and the state has a conversation: most graphs never need it.
    known_messages: Option<Box<Mutex<HashSet<String>>>>,
}

impl<G: GraphDef> Recorder<G> {
    /// A recorder for `modes`, with room for `capacity` items nodes write.
    pub(crate) fn new(modes: ModeSet, capacity: usize, input: &G::State) -> Self {
        Self {
            modes,
            buffer: Buffer::new(capacity),
            // The input's messages are never emitted.
            known_messages: (modes.messages && G::State::HAS_MESSAGES).then(|| {
                let ids = input.messages().iter().filter_map(|m| m.id.clone());
                Box::new(Mutex::new(ids.collect()))
            }),
        }
    }

    /// The buffer the run's items wait in.
    pub(crate) fn buffer(&self) -> &Buffer<Event<G>> {
        &self.buffer
    }

    /// Whether custom payloads are recorded.
    pub(crate) fn records_custom(&self) -> bool {
        self.modes.custom
    }

    /// The modes a subgraph run by one of this run's nodes records: only what is forwarded
    /// into this run's stream (its messages, and its custom payloads when the call maps
    /// them), and nothing unless subgraph streaming is on.
    pub(crate) fn child_modes(&self, forwards: bool, maps_custom: bool) -> ModeSet {
        ModeSet {
            messages: forwards && self.modes.messages,
            custom: forwards && self.modes.custom && maps_custom,
            ..ModeSet::default()
        }
    }

    /// Notes a model call about to start: the message it assembles is not emitted again
    /// when a node returns it (streamed or hidden, it was accounted for). Returns the
    /// metadata to label its chunks with, when they are recorded.
    pub(crate) fn model_call(
        &self,
        streams: bool,
        call_id: &str,
        metadata: impl FnOnce() -> MessageMetadata<G::Tag>,
    ) -> Option<Arc<MessageMetadata<G::Tag>>> {
        if let Some(known) = &self.known_messages {
            known
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(call_id.to_owned());
        }
        (streams && self.modes.messages).then(|| Arc::new(metadata()))
    }

    /// Records a custom payload, waiting while the buffer is full; builds nothing when no
    /// one streams custom mode.
    pub(crate) async fn custom(
        &self,
        payload: G::Custom,
        task: &Arc<TaskMetadata<G::Node>>,
        tags: TagSet<G::Tag>,
    ) {
        if self.modes.custom {
            let chunk = CustomChunk::new(payload, Arc::clone(task), tags);
            self.send(Event::Custom(chunk)).await;
        }
    }

    /// Puts an item a node produced in the buffer, waiting for room. After the run has
    /// ended the buffer is closed and this returns at once.
    pub(crate) async fn send(&self, event: Event<G>) {
        if let Err(event) = self.buffer.try_send(event) {
            self.buffer.send(event).await;
        }
    }

    /// The state, after the input or a step that wrote to it (values mode).
    pub(crate) fn values(&self, state: &Arc<G::State>) {
        if self.modes.values {
            self.buffer.push_now(Event::Values(Arc::clone(state)));
        }
    }

    /// A task starting on `input` (tasks mode).
    pub(crate) fn task_started(&self, task: &Arc<TaskMetadata<G::Node>>, input: &TaskInput<G>) {
        if self.modes.tasks {
            let kind = TaskEventKind::Started {
                input: input.clone(),
            };
            let item = TaskEvent::new(Arc::clone(task), kind);
            self.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// A task that returned `update`, after everything it wrote: first the new messages
    /// it returns (messages mode), then its update (updates mode), then its result (tasks
    /// mode).
    pub(crate) fn task_finished(&self, task: &Arc<TaskMetadata<G::Node>>, update: &Update<G>) {
        if self.modes.messages && G::State::HAS_MESSAGES {
            self.returned_messages(task, G::State::update_messages(update));
        }
        if self.modes.updates {
            let item = NodeUpdate::new(update.clone(), Arc::clone(task));
            self.buffer.push_now(Event::Update(Box::new(item)));
        }
        if self.modes.tasks {
            let kind = TaskEventKind::Finished {
                update: update.clone(),
            };
            let item = TaskEvent::new(Arc::clone(task), kind);
            self.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// A task that failed, or was cancelled with its step, with why (tasks mode).
    pub(crate) fn task_failed(
        &self,
        task: &Arc<TaskMetadata<G::Node>>,
        error: impl FnOnce() -> String,
    ) {
        if self.modes.tasks {
            let kind = TaskEventKind::Failed { error: error() };
            let item = TaskEvent::new(Arc::clone(task), kind);
            self.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// Attempt `attempt` of a task failed with `error` and runs again after `retry_in`
    /// (tasks mode).
    pub(crate) fn attempt_failed(
        &self,
        task: &Arc<TaskMetadata<G::Node>>,
        error: &NodeError,
        retry_in: std::time::Duration,
    ) {
        if self.modes.tasks {
            let kind = TaskEventKind::AttemptFailed {
                error: error.to_string(),
                attempt: task.attempt(),
                retry_in,
            };
            let item = TaskEvent::new(Arc::clone(task), kind);
            self.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// A checkpoint written (checkpoints mode).
    pub(crate) fn checkpoint(&self, checkpoint: impl FnOnce() -> CheckpointEvent<G>) {
        if self.modes.checkpoints {
            self.buffer
                .push_now(Event::Checkpoint(Box::new(checkpoint())));
        }
    }

    /// A task that stopped on `interrupt` (tasks mode).
    pub(crate) fn task_interrupted(
        &self,
        task: &Arc<TaskMetadata<G::Node>>,
        interrupt: &Interrupt,
    ) {
        if self.modes.tasks {
            let kind = TaskEventKind::Interrupted {
                interrupt: interrupt.clone(),
            };
            let item = TaskEvent::new(Arc::clone(task), kind);
            self.buffer.push_now(Event::Task(Box::new(item)));
        }
    }

    /// Each message a node returned that was not streamed, hidden, or in the input, once,
    /// as one item holding the whole message, labelled with the node's task.
    fn returned_messages(&self, task: &Arc<TaskMetadata<G::Node>>, messages: &[Message]) {
        let Some(known) = &self.known_messages else {
            return;
        };
        let mut known = known.lock().unwrap_or_else(PoisonError::into_inner);
        for message in messages {
            let id = match &message.id {
                Some(id) if !known.insert(id.clone()) => continue,
                Some(id) => id.clone(),
                None => format!("run-{}", Uuid::new_v4()),
            };
            let metadata = Arc::new(MessageMetadata::returned(Arc::clone(task), id));
            let chunk = MessageChunk::new(ChatChunk::whole(message), metadata);
            self.buffer.push_now(Event::Message(chunk));
        }
    }
}
