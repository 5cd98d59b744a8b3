//! Typed stream modes: the mode value passed to `stream` decides the item type, and which
//! kinds of item the run records at all.

use crate::{CustomChunk, GraphDef, MessageChunk, StreamMode};

/// Something a run produced, before the mode turns it into the stream's item.
#[doc(hidden)]
pub enum Event<G: GraphDef> {
    Message(MessageChunk<G::Tag>),
    Custom(CustomChunk<G::Custom, G::Tag>),
}

/// Which kinds of item a run records. A kind no mode asks for is never built.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModeSet {
    pub messages: bool,
    pub custom: bool,
}

/// Every chunk of every model call made through `ctx.chat(..)`, as it arrives
/// (LangGraph's `stream_mode="messages"`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Messages;

/// Every payload nodes write through their context's writer, in order
/// (LangGraph's `stream_mode="custom"`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Custom;

impl<G: GraphDef> StreamMode<G> for Messages {
    type Item = MessageChunk<G::Tag>;
    const MODES: ModeSet = ModeSet {
        messages: true,
        custom: false,
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Message(chunk) => Some(chunk),
            Event::Custom(_) => None,
        }
    }
}

impl<G: GraphDef> StreamMode<G> for Custom {
    type Item = CustomChunk<G::Custom, G::Tag>;
    const MODES: ModeSet = ModeSet {
        messages: false,
        custom: true,
    };

    fn select(event: Event<G>) -> Option<Self::Item> {
        match event {
            Event::Custom(chunk) => Some(chunk),
            Event::Message(_) => None,
        }
    }
}
