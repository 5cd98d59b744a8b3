//! Running a graph inside a node: `ctx.subgraph(&child).invoke(input)`.
//!
//! The child runs inside the node's future, so it is pulled by the parent's consumer like
//! everything else: bounded, and cancelled with the parent's stream. With subgraph
//! streaming on (`RunConfig::subgraphs(true)`), the child's messages and custom items are
//! forwarded into the parent's stream as they come. Because the parent's item types cannot
//! name the child's nodes and tags, a forwarded item is typed by the parent's node that runs
//! the child (`item.node()`), names the child's node in its metadata (`task().name()`,
//! `langgraph_node`), carries the child's namespace (`["<parent node>:<task id>"]`, one
//! segment more per level), and has its tags mapped by the `tags(..)` the node declares
//! (dropped without one). Custom payloads are forwarded only through a declared `custom(..)`
//! mapping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use super::context::NodeContext;
use super::{RunNode, start_node};
use crate::checkpoint::CheckpointId;
use crate::config::RunConfig;
use crate::error::GraphError;
use crate::graph::command::Command;
use crate::graph::tags::TagSet;
use crate::graph::traits::{GraphDef, GraphTag};
use crate::interrupt::Interrupt;
use crate::run::executor::{OnThread, Run};
use crate::run::interrupts::Asked;
use crate::run::persist::ThreadRef;
use crate::stream::items::{CustomChunk, MessageChunk};
use crate::stream::metadata::{MessageMetadata, TaskMetadata};
use crate::stream::record::Event;
use crate::thread_line::begin::Begin;
use crate::thread_line::child::ChildLine;

type TagMap<'a, C, G> =
    Box<dyn Fn(<C as GraphDef>::Tag) -> <G as GraphDef>::Tag + Send + Sync + 'a>;
type CustomMap<'a, C, G> =
    Box<dyn Fn(<C as GraphDef>::Custom) -> <G as GraphDef>::Custom + Send + Sync + 'a>;

/// A subgraph run being set up: `ctx.subgraph(&child).tags(..).invoke(input)`.
#[must_use = "a subgraph does nothing until `.invoke(..)`"]
pub struct SubgraphCall<'a, G: GraphDef, C: GraphDef> {
    ctx: &'a NodeContext<G>,
    child: &'a C,
    tags: Option<TagMap<'a, C, G>>,
    custom: Option<CustomMap<'a, C, G>>,
}

impl<G: GraphDef> NodeContext<G> {
    /// Runs `child` from inside this node; see [`SubgraphCall`].
    pub fn subgraph<'a, C: RunNode>(&'a self, child: &'a C) -> SubgraphCall<'a, G, C> {
        SubgraphCall {
            ctx: self,
            child,
            tags: None,
            custom: None,
        }
    }
}

impl<'a, G: GraphDef, C: RunNode> SubgraphCall<'a, G, C> {
    /// Maps the child's tags into this graph's, so the parent's consumers can filter the
    /// child's tokens with their own typed tags.
    pub fn tags(mut self, map: impl Fn(C::Tag) -> G::Tag + Send + Sync + 'a) -> Self {
        self.tags = Some(Box::new(map));
        self
    }

    /// Maps the child's custom payloads into this graph's, so they are forwarded too.
    pub fn custom(mut self, map: impl Fn(C::Custom) -> G::Custom + Send + Sync + 'a) -> Self {
        self.custom = Some(Box::new(map));
        self
    }

    /// Runs the child on `input` to its end and returns its final state, forwarding its
    /// items when subgraph streaming is on.
    ///
    /// When this graph runs on a thread and the child's state can be stored, the child
    /// keeps checkpoints of its own in the thread, under a namespace of this task's. A child
    /// that stops on an interrupt stops this task on the same question (return the error
    /// with `?`): resuming the thread runs this node again, and this call then resumes the
    /// child where it stopped, with the answer, instead of starting it anew.
    ///
    /// # Errors
    /// The child's first error, every item forwarded before it having reached the stream;
    /// [`GraphError::SubgraphInterrupted`] when it stopped on an interrupt.
    pub async fn invoke(self, input: C::State) -> Result<C::State, GraphError> {
        let run = &self.ctx.run;
        let task = &self.ctx.task;
        let (call, run_id) = task.child_call();
        let mut config = RunConfig::<C::Tag>::default()
            .run_id(run_id)
            .subgraphs(run.subgraphs);
        config.namespace = task.child_namespace();
        let modes = run.record.child_modes(run.subgraphs, self.custom.is_some());
        let mut child = match (&run.thread, C::child_on_thread()) {
            (Some(parent), Some(durable)) => {
                config.durability = parent.durability;
                let thread = self.child_thread(&parent.thread, &parent.step_checkpoint, call);
                let begin = match (durable.read_line)(&thread).await? {
                    ChildLine::Fresh => Begin::Fresh(input),
                    ChildLine::Stopped(None) => Begin::Command(Command::proceed()),
                    ChildLine::Stopped(Some(question)) => match self.ask(&question) {
                        Some(answer) => Begin::Command(Command::resume_by_id([(
                            question.id().to_owned(),
                            answer,
                        )])),
                        None => {
                            return Err(GraphError::SubgraphInterrupted {
                                interrupts: vec![question],
                            });
                        }
                    },
                };
                let (state, sink, start) =
                    (durable.begin)(thread.clone(), begin, config.clone()).await?;
                Run::on_thread(
                    Arc::clone(self.child.shared_context()),
                    state,
                    modes,
                    config,
                    start_node::<C>,
                    OnThread {
                        thread,
                        sink,
                        start,
                    },
                )?
            }
            _ => Run::<C>::new(
                Arc::clone(self.child.shared_context()),
                input,
                modes,
                config,
                start_node::<C>,
            ),
        };
        let mut forward = Forward::<G, C> {
            call: &self,
            tasks: HashMap::new(),
            calls: HashMap::new(),
        };
        while let Some(event) = futures::future::poll_fn(|cx| child.poll_event(cx)).await {
            if let Some(event) = forward.convert(event?) {
                run.record.send(event).await;
            }
        }
        if let Some(interrupts) = child.interrupted.take()
            && let Some(question) = interrupts.first()
        {
            // Asked again in the parent, so that the parent's run stops on it too.
            let _ = self.ask(question);
            return Err(GraphError::SubgraphInterrupted { interrupts });
        }
        Ok(child.into_state())
    }

    /// Asks the child's `question` as this task's next interrupt: the answer a resume of
    /// this task brought, or `None` once raised in this task.
    fn ask(&self, question: &Interrupt) -> Option<serde_json::Value> {
        let task = &self.ctx.task;
        let key = task.key();
        let asked = self.ctx.run.with_interrupts(|book| {
            book.ask(&key, |index| {
                Interrupt::new(
                    question.id().to_owned(),
                    question.value().clone(),
                    task.name(),
                    key.clone(),
                    index,
                )
                .in_namespace(question.namespace().to_owned())
            })
        });
        match asked {
            Asked::Answered(answer) => Some(answer),
            Asked::Raised => None,
        }
    }

    /// Where the child's checkpoints go: the parent's thread, under this task's namespace
    /// and the `call`th child it runs. The namespace names the checkpoint the parent's step
    /// follows, so a resume of the step finds the child's checkpoints and a fork does not.
    fn child_thread(
        &self,
        parent: &ThreadRef,
        step_checkpoint: &Mutex<Option<CheckpointId>>,
        call: u64,
    ) -> ThreadRef {
        let task = &self.ctx.task;
        let after = step_checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|id| id.to_string())
            .unwrap_or_default();
        let id = Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!(
                "{}|{}|{after}|{}|{call}",
                parent.thread_id,
                parent.namespace,
                task.key()
            )
            .as_bytes(),
        );
        let segment = format!("{}:{id}", task.name());
        let namespace = if parent.namespace.is_empty() {
            segment
        } else {
            format!("{}|{segment}", parent.namespace)
        };
        ThreadRef {
            store: Arc::clone(&parent.store),
            thread_id: parent.thread_id.clone(),
            namespace,
        }
    }
}

/// Turns the child's items into the parent's, building each nested task's and call's
/// metadata once and sharing it, as the root does.
struct Forward<'c, 'a, G: GraphDef, C: GraphDef> {
    call: &'c SubgraphCall<'a, G, C>,
    tasks: HashMap<Uuid, Arc<TaskMetadata<G::Node>>>,
    calls: HashMap<String, Arc<MessageMetadata<G::Tag>>>,
}

impl<G: GraphDef, C: GraphDef> Forward<'_, '_, G, C> {
    fn convert(&mut self, event: Event<C>) -> Option<Event<G>> {
        match event {
            Event::Message(chunk) => Some(Event::Message(self.message(chunk))),
            Event::Custom(item) => {
                let map = self.call.custom.as_ref()?;
                let (payload, task, tags) = item.into_parts();
                let task = self.task(&task);
                let tags = self.map_tags(tags);
                Some(Event::Custom(CustomChunk::new(map(payload), task, tags)))
            }
            _ => None,
        }
    }

    fn message(&mut self, chunk: MessageChunk<C::Tag>) -> MessageChunk<G::Tag> {
        let child = chunk.metadata();
        let metadata = match self.calls.get(child.call_id()) {
            Some(metadata) => Arc::clone(metadata),
            None => {
                let metadata = Arc::new(MessageMetadata::nested(
                    self.task(child.task()),
                    child.model().cloned(),
                    self.map_tags(child.tags()),
                    child.call_id().to_owned(),
                ));
                self.calls
                    .insert(child.call_id().to_owned(), Arc::clone(&metadata));
                metadata
            }
        };
        MessageChunk::new(chunk.into_chunk(), metadata)
    }

    fn task(&mut self, child: &TaskMetadata<C::Node>) -> Arc<TaskMetadata<G::Node>> {
        let parent = &self.call.ctx.task;
        Arc::clone(
            self.tasks
                .entry(child.task_id())
                .or_insert_with(|| Arc::new(child.nested_in(parent))),
        )
    }

    /// The child's tags through the declared mapping, with the parent run's own tags.
    fn map_tags(&self, tags: TagSet<C::Tag>) -> TagSet<G::Tag> {
        let mut mapped = self.call.ctx.run.tags;
        if let Some(map) = &self.call.tags {
            for tag in C::Tag::ALL
                .iter()
                .copied()
                .filter(|tag| tags.contains(*tag))
            {
                mapped.insert(map(tag));
            }
        }
        mapped
    }
}
