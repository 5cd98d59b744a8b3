//! Typed stream modes: the mode value passed to `stream` decides the item type, and which
//! kinds of item the run records at all. A kind no mode asks for is never built.

use std::sync::Arc;

use crate::{CustomChunk, GraphDef, MessageChunk, NodeUpdate, StreamMode, TaskEvent};

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
}

/// Which kinds of item a run records.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModeSet {
    pub messages: bool,
    pub custom: bool,
    pub values: bool,
    pub updates: bool,
    pub debug: bool,
}

impl ModeSet {
    /// Every kind either set records.
    pub const fn union(self, other: Self) -> Self {
        Self {
            messages: self.messages || other.messages,
            custom: self.custom || other.custom,
            values: self.values || other.values,
            updates: self.updates || other.updates,
            debug: self.debug || other.debug,
        }
    }

    const NONE: Self = Self {
        messages: false,
        custom: false,
        values: false,
        updates: false,
        debug: false,
    };
}

/// Every chunk of every model call made through `ctx.chat(..)`, as it arrives
/// (LangGraph's `stream_mode="messages"`). Items: [`MessageChunk`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Messages;

/// Every payload nodes write through their context's writer, in order
/// (LangGraph's `stream_mode="custom"`). Items: [`CustomChunk`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Custom;

/// The whole state: the input first, then after every step that wrote to it
/// (LangGraph's `stream_mode="values"`). Items: the graph's state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Values;

/// One item per finished node, as it finishes, with its typed update
/// (LangGraph's `stream_mode="updates"`). Items: [`NodeUpdate`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Updates;

/// A task-start and a task-result item for every node task, with step and timestamp
/// (LangGraph's `stream_mode="debug"` / `"tasks"`). Items: [`TaskEvent`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Debug;

impl<G: GraphDef> StreamMode<G> for Messages {
    type Item = MessageChunk<G::Tag>;
    const MODES: ModeSet = ModeSet {
        messages: true,
        ..ModeSet::NONE
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Message(chunk) => Some(chunk),
            _ => None,
        }
    }
}

impl<G: GraphDef> StreamMode<G> for Custom {
    type Item = CustomChunk<G::Custom, G::Tag>;
    const MODES: ModeSet = ModeSet {
        custom: true,
        ..ModeSet::NONE
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Custom(chunk) => Some(chunk),
            _ => None,
        }
    }
}

impl<G: GraphDef> StreamMode<G> for Values {
    type Item = G::State;
    const MODES: ModeSet = ModeSet {
        values: true,
        ..ModeSet::NONE
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Values(state) => Some(Arc::unwrap_or_clone(state)),
            _ => None,
        }
    }
}

impl<G: GraphDef> StreamMode<G> for Updates {
    type Item = NodeUpdate<G>;
    const MODES: ModeSet = ModeSet {
        updates: true,
        ..ModeSet::NONE
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Update(update) => Some(*update),
            _ => None,
        }
    }
}

impl<G: GraphDef> StreamMode<G> for Debug {
    type Item = TaskEvent<G>;
    const MODES: ModeSet = ModeSet {
        debug: true,
        ..ModeSet::NONE
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Task(task) => Some(*task),
            _ => None,
        }
    }
}
