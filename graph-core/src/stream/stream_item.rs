//! Several modes at once: `stream(input, (Messages, Updates))` yields one [`StreamItem`]
//! enum whose variants for the modes not asked for hold the uninhabited [`Off`], so a
//! `match` on an item may leave those arms out and the compiler still checks it is
//! exhaustive. Behind a reference Rust does not count `Off` as empty, so a borrowed item is
//! matched through [`StreamItem::as_ref`], a [`StreamItemRef`] holding `&T` or `Off`.

use std::sync::Arc;

use super::checkpoint_item::CheckpointEvent;
use super::items::{CustomChunk, MessageChunk};
#[cfg(doc)]
use super::mode::Off;
use super::mode::{Flag, ModeFlags};
use super::record::Event;
use super::task_items::{NodeUpdate, TaskEvent};
use crate::graph::traits::GraphDef;

/// One item of a stream of several modes, tagged with its mode, in the order the run
/// produced them. The variants of modes not asked for hold [`Off`] and cannot occur.
///
/// A `match` on an item needs no arm for them. On a borrowed item (`match &item`, or an
/// item in a `for item in &items` loop) it would: Rust counts an uninhabited type as empty
/// only when it is matched by value, not behind a reference. Match
/// [`item.as_ref()`](Self::as_ref) instead, which holds references by value:
///
/// ```
/// # use stategraph_core::mode::{Messages, Updates};
/// # use stategraph_core::{GraphDef, StreamItem};
/// fn describe<G: GraphDef>(item: &StreamItem<G, (Messages, Updates)>) -> String {
///     match item.as_ref() {
///         stategraph_core::StreamItemRef::Messages(chunk) => chunk.content().to_owned(),
///         stategraph_core::StreamItemRef::Updates(update) => format!("{:?}", update.node()),
///     }
/// }
/// ```
///
/// It serializes as LangGraph's typed v2 stream part: `{"type": "<mode>", "ns": [...],
/// "data": ...}`.
pub enum StreamItem<G: GraphDef, M: ModeFlags> {
    /// The whole state (values mode).
    Values(<M::Values as Flag>::Out<G::State>),
    /// A finished node's update (updates mode).
    Updates(<M::Updates as Flag>::Out<NodeUpdate<G>>),
    /// A model chunk (messages mode).
    Messages(<M::Messages as Flag>::Out<MessageChunk<G::Tag>>),
    /// A custom payload (custom mode).
    Custom(<M::Custom as Flag>::Out<CustomChunk<G::Custom, G::Tag>>),
    /// A task starting or finishing (tasks mode).
    Tasks(<M::Tasks as Flag>::Out<TaskEvent<G>>),
    /// A checkpoint written (checkpoints mode).
    Checkpoints(<M::Checkpoints as Flag>::Out<CheckpointEvent<G>>),
}

impl<G: GraphDef, M: ModeFlags> StreamItem<G, M> {
    pub(super) fn from_event(event: Event<G>) -> Option<Self> {
        match event {
            // Cloned out of the run only when values mode is on.
            Event::Values(state) => M::Values::pick(())
                .and_then(|_| M::Values::pick(Arc::unwrap_or_clone(state)))
                .map(Self::Values),
            Event::Update(update) => M::Updates::pick(*update).map(Self::Updates),
            Event::Message(chunk) => M::Messages::pick(chunk).map(Self::Messages),
            Event::Custom(chunk) => M::Custom::pick(chunk).map(Self::Custom),
            Event::Task(task) => M::Tasks::pick(*task).map(Self::Tasks),
            Event::Checkpoint(checkpoint) => {
                M::Checkpoints::pick(*checkpoint).map(Self::Checkpoints)
            }
        }
    }

    /// The mode's name as LangGraph writes it: `values`, `updates`, `messages`, `custom`,
    /// `debug` (tasks mode's items are written in the shape of LangGraph's debug mode).
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Values(_) => "values",
            Self::Updates(_) => "updates",
            Self::Messages(_) => "messages",
            Self::Custom(_) => "custom",
            Self::Tasks(_) => "debug",
            Self::Checkpoints(_) => "checkpoints",
        }
    }

    /// The item borrowed, as an enum of references that a `match` takes by value, so the
    /// arms of the modes not asked for can still be left out (see [`StreamItem`]).
    pub fn as_ref(&self) -> StreamItemRef<'_, G, M> {
        match self {
            Self::Values(item) => StreamItemRef::Values(M::Values::borrow(item)),
            Self::Updates(item) => StreamItemRef::Updates(M::Updates::borrow(item)),
            Self::Messages(item) => StreamItemRef::Messages(M::Messages::borrow(item)),
            Self::Custom(item) => StreamItemRef::Custom(M::Custom::borrow(item)),
            Self::Tasks(item) => StreamItemRef::Tasks(M::Tasks::borrow(item)),
            Self::Checkpoints(item) => StreamItemRef::Checkpoints(M::Checkpoints::borrow(item)),
        }
    }
}

/// A borrowed [`StreamItem`], from [`StreamItem::as_ref`]: the same variants, each holding
/// a reference to the item, or [`Off`] for the modes not asked for, so that a `match` on it
/// may leave their arms out as on an owned item.
pub enum StreamItemRef<'a, G: GraphDef, M: ModeFlags> {
    /// The whole state (values mode).
    Values(<M::Values as Flag>::Ref<'a, G::State>),
    /// A finished node's update (updates mode).
    Updates(<M::Updates as Flag>::Ref<'a, NodeUpdate<G>>),
    /// A model chunk (messages mode).
    Messages(<M::Messages as Flag>::Ref<'a, MessageChunk<G::Tag>>),
    /// A custom payload (custom mode).
    Custom(<M::Custom as Flag>::Ref<'a, CustomChunk<G::Custom, G::Tag>>),
    /// A task starting or finishing (tasks mode).
    Tasks(<M::Tasks as Flag>::Ref<'a, TaskEvent<G>>),
    /// A checkpoint written (checkpoints mode).
    Checkpoints(<M::Checkpoints as Flag>::Ref<'a, CheckpointEvent<G>>),
}

// A derive would demand `G: Clone` and `M: Clone`; every variant holds a reference or `Off`.
impl<G: GraphDef, M: ModeFlags> Clone for StreamItemRef<'_, G, M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<G: GraphDef, M: ModeFlags> Copy for StreamItemRef<'_, G, M> {}

impl<G: GraphDef, M: ModeFlags> StreamItemRef<'_, G, M> {
    /// The mode's name as LangGraph writes it, as [`StreamItem::mode`].
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Values(_) => "values",
            Self::Updates(_) => "updates",
            Self::Messages(_) => "messages",
            Self::Custom(_) => "custom",
            Self::Tasks(_) => "debug",
            Self::Checkpoints(_) => "checkpoints",
        }
    }
}

impl<G: GraphDef, M: ModeFlags> std::fmt::Debug for StreamItem<G, M>
where
    <M::Values as Flag>::Out<G::State>: std::fmt::Debug,
    <M::Updates as Flag>::Out<NodeUpdate<G>>: std::fmt::Debug,
    <M::Messages as Flag>::Out<MessageChunk<G::Tag>>: std::fmt::Debug,
    <M::Custom as Flag>::Out<CustomChunk<G::Custom, G::Tag>>: std::fmt::Debug,
    <M::Tasks as Flag>::Out<TaskEvent<G>>: std::fmt::Debug,
    <M::Checkpoints as Flag>::Out<CheckpointEvent<G>>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Values(item) => f.debug_tuple("Values").field(item).finish(),
            Self::Updates(item) => f.debug_tuple("Updates").field(item).finish(),
            Self::Messages(item) => f.debug_tuple("Messages").field(item).finish(),
            Self::Custom(item) => f.debug_tuple("Custom").field(item).finish(),
            Self::Tasks(item) => f.debug_tuple("Tasks").field(item).finish(),
            Self::Checkpoints(item) => f.debug_tuple("Checkpoints").field(item).finish(),
        }
    }
}
