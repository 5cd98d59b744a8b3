//! Several modes at once: `stream(input, (Messages, Updates))` yields one [`StreamItem`]
//! enum whose variants for the modes not asked for hold the uninhabited [`Off`], so a
//! `match` on an item may leave those arms out and the compiler still checks it is
//! exhaustive. Behind a reference Rust does not count `Off` as empty, so a borrowed item is
//! matched through [`StreamItem::as_ref`], a [`StreamItemRef`] holding `&T` or `Off`.
//!
//! Which variants are live is computed at the type level: each mode marker says which of
//! the five kinds it turns on ([`ModeFlags`]), and a tuple ORs its members' flags.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::mode::{Custom, Debug, Event, Messages, ModeSet, Updates, Values};
use crate::{CustomChunk, GraphDef, MessageChunk, NodeUpdate, StreamMode, TaskEvent};

/// The value of a mode that was not asked for: it has no values, so its variant of
/// [`StreamItem`] can never occur and needs no `match` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Off {}

impl Serialize for Off {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

/// Whether a kind of item is on: [`Yes`] carries the item, [`No`] turns it into [`Off`].
pub trait Flag {
    /// `T` when on, [`Off`] when off.
    type Out<T: Send + 'static>: Send + 'static;
    /// `&'a T` when on, [`Off`] when off: what a [`StreamItemRef`] holds.
    type Ref<'a, T: 'a>: Copy;
    #[doc(hidden)]
    fn pick<T: Send + 'static>(item: T) -> Option<Self::Out<T>>;
    #[doc(hidden)]
    fn borrow<T: Send + 'static>(item: &Self::Out<T>) -> Self::Ref<'_, T>;
}

/// The kind is on.
#[derive(Debug)]
pub enum Yes {}

/// The kind is off.
#[derive(Debug)]
pub enum No {}

impl Flag for Yes {
    type Out<T: Send + 'static> = T;
    type Ref<'a, T: 'a> = &'a T;
    fn pick<T: Send + 'static>(item: T) -> Option<T> {
        Some(item)
    }
    fn borrow<T: Send + 'static>(item: &T) -> &T {
        item
    }
}

impl Flag for No {
    type Out<T: Send + 'static> = Off;
    type Ref<'a, T: 'a> = Off;
    fn pick<T: Send + 'static>(_: T) -> Option<Off> {
        None
    }
    fn borrow<T: Send + 'static>(item: &Off) -> Off {
        *item
    }
}

/// Either flag: how a tuple combines its modes. `Yes | Yes` is not implemented, so a mode
/// named twice does not compile.
#[diagnostic::on_unimplemented(
    message = "a stream mode appears twice in the tuple",
    label = "each of `Values`, `Updates`, `Messages`, `Custom`, `Debug` may appear once"
)]
pub trait Or<B: Flag>: Flag {
    /// The combined flag.
    type Output: Flag;
}

impl Or<No> for No {
    type Output = No;
}
impl Or<Yes> for No {
    type Output = Yes;
}
impl Or<No> for Yes {
    type Output = Yes;
}

/// Which kinds of item a mode (or a tuple of modes) turns on.
pub trait ModeFlags {
    /// Values mode.
    type Values: Flag;
    /// Updates mode.
    type Updates: Flag;
    /// Messages mode.
    type Messages: Flag;
    /// Custom mode.
    type Custom: Flag;
    /// Debug mode.
    type Debug: Flag;
}

macro_rules! single_mode_flags {
    ($($mode:ident: $v:ident $u:ident $m:ident $c:ident $d:ident;)*) => {$(
        impl ModeFlags for $mode {
            type Values = $v;
            type Updates = $u;
            type Messages = $m;
            type Custom = $c;
            type Debug = $d;
        }
    )*};
}

single_mode_flags! {
    Values: Yes No No No No;
    Updates: No Yes No No No;
    Messages: No No Yes No No;
    Custom: No No No Yes No;
    Debug: No No No No Yes;
}

/// A one-mode tuple streams like a longer one: items come as [`StreamItem`].
impl<G: GraphDef, A: StreamMode<G> + ModeFlags> StreamMode<G> for (A,) {
    type Item = StreamItem<G, (A,)>;
    const MODES: ModeSet = A::MODES;

    fn select(event: Event<G>) -> Option<Self::Item> {
        StreamItem::from_event(event)
    }
}

impl<A: ModeFlags> ModeFlags for (A,) {
    type Values = A::Values;
    type Updates = A::Updates;
    type Messages = A::Messages;
    type Custom = A::Custom;
    type Debug = A::Debug;
}

macro_rules! tuple_modes {
    ($first:ident $(, $rest:ident)+) => {
        impl<$first: ModeFlags $(, $rest: ModeFlags)+> ModeFlags for ($first, $($rest),+)
        where
            ($($rest,)+): ModeFlags,
            $first::Values: Or<<($($rest,)+) as ModeFlags>::Values>,
            $first::Updates: Or<<($($rest,)+) as ModeFlags>::Updates>,
            $first::Messages: Or<<($($rest,)+) as ModeFlags>::Messages>,
            $first::Custom: Or<<($($rest,)+) as ModeFlags>::Custom>,
            $first::Debug: Or<<($($rest,)+) as ModeFlags>::Debug>,
        {
            type Values = <$first::Values as Or<<($($rest,)+) as ModeFlags>::Values>>::Output;
            type Updates = <$first::Updates as Or<<($($rest,)+) as ModeFlags>::Updates>>::Output;
            type Messages = <$first::Messages as Or<<($($rest,)+) as ModeFlags>::Messages>>::Output;
            type Custom = <$first::Custom as Or<<($($rest,)+) as ModeFlags>::Custom>>::Output;
            type Debug = <$first::Debug as Or<<($($rest,)+) as ModeFlags>::Debug>>::Output;
        }

        impl<G: GraphDef, $first: StreamMode<G> $(, $rest: StreamMode<G>)+> StreamMode<G>
            for ($first, $($rest),+)
        where
            ($first, $($rest),+): ModeFlags,
        {
            type Item = StreamItem<G, ($first, $($rest),+)>;
            const MODES: ModeSet = $first::MODES $(.union($rest::MODES))+;

            fn select(event: Event<G>) -> Option<Self::Item> {
                StreamItem::from_event(event)
            }
        }
    };
}

tuple_modes!(A, B);
tuple_modes!(A, B, C);
tuple_modes!(A, B, C, D);
tuple_modes!(A, B, C, D, E);

/// One item of a stream of several modes, tagged with its mode, in the order the run
/// produced them. The variants of modes not asked for hold [`Off`] and cannot occur.
///
/// A `match` on an item needs no arm for them. On a borrowed item (`match &item`, or an
/// item in a `for item in &items` loop) it would: Rust counts an uninhabited type as empty
/// only when it is matched by value, not behind a reference. Match
/// [`item.as_ref()`](Self::as_ref) instead, which holds references by value:
///
/// ```
/// # use stategraph_core::{GraphDef, Messages, StreamItem, Updates};
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
    /// A task starting or finishing (debug mode).
    Debug(<M::Debug as Flag>::Out<TaskEvent<G>>),
}

impl<G: GraphDef, M: ModeFlags> StreamItem<G, M> {
    fn from_event(event: Event<G>) -> Option<Self> {
        match event {
            // Cloned out of the run only when values mode is on.
            Event::Values(state) => M::Values::pick(())
                .and_then(|_| M::Values::pick(Arc::unwrap_or_clone(state)))
                .map(Self::Values),
            Event::Update(update) => M::Updates::pick(*update).map(Self::Updates),
            Event::Message(chunk) => M::Messages::pick(chunk).map(Self::Messages),
            Event::Custom(chunk) => M::Custom::pick(chunk).map(Self::Custom),
            Event::Task(task) => M::Debug::pick(*task).map(Self::Debug),
        }
    }

    /// The mode's name as LangGraph writes it: `values`, `updates`, `messages`, `custom`,
    /// `debug`.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Values(_) => "values",
            Self::Updates(_) => "updates",
            Self::Messages(_) => "messages",
            Self::Custom(_) => "custom",
            Self::Debug(_) => "debug",
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
            Self::Debug(item) => StreamItemRef::Debug(M::Debug::borrow(item)),
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
    /// A task starting or finishing (debug mode).
    Debug(<M::Debug as Flag>::Ref<'a, TaskEvent<G>>),
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
            Self::Debug(_) => "debug",
        }
    }
}

impl<G: GraphDef, M: ModeFlags> std::fmt::Debug for StreamItem<G, M>
where
    <M::Values as Flag>::Out<G::State>: std::fmt::Debug,
    <M::Updates as Flag>::Out<NodeUpdate<G>>: std::fmt::Debug,
    <M::Messages as Flag>::Out<MessageChunk<G::Tag>>: std::fmt::Debug,
    <M::Custom as Flag>::Out<CustomChunk<G::Custom, G::Tag>>: std::fmt::Debug,
    <M::Debug as Flag>::Out<TaskEvent<G>>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Values(item) => f.debug_tuple("Values").field(item).finish(),
            Self::Updates(item) => f.debug_tuple("Updates").field(item).finish(),
            Self::Messages(item) => f.debug_tuple("Messages").field(item).finish(),
            Self::Custom(item) => f.debug_tuple("Custom").field(item).finish(),
            Self::Debug(item) => f.debug_tuple("Debug").field(item).finish(),
        }
    }
}

/// The v2 stream part: `{"type", "ns", "data"}`.
impl<G: GraphDef, M: ModeFlags> Serialize for StreamItem<G, M>
where
    <M::Values as Flag>::Out<G::State>: Serialize,
    <M::Updates as Flag>::Out<NodeUpdate<G>>: V2Data,
    <M::Messages as Flag>::Out<MessageChunk<G::Tag>>: V2Data,
    <M::Custom as Flag>::Out<CustomChunk<G::Custom, G::Tag>>: V2Data,
    <M::Debug as Flag>::Out<TaskEvent<G>>: V2Data,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const ROOT: &[String] = &[];
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", self.mode())?;
        match self {
            Self::Values(state) => {
                map.serialize_entry("ns", ROOT)?;
                map.serialize_entry("data", state)?;
            }
            Self::Updates(item) => item.serialize_v2(&mut map)?,
            Self::Messages(item) => item.serialize_v2(&mut map)?,
            Self::Custom(item) => item.serialize_v2(&mut map)?,
            Self::Debug(item) => item.serialize_v2(&mut map)?,
        }
        map.end()
    }
}

/// An item that knows its namespace and data for the v2 stream part. Use [`V2`] to
/// serialize a single-mode item in that shape.
pub trait V2Data {
    /// The mode's name.
    const MODE: &'static str;
    #[doc(hidden)]
    fn serialize_v2<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

impl V2Data for Off {
    const MODE: &'static str = "off";
    fn serialize_v2<M: SerializeMap>(&self, _: &mut M) -> Result<(), M::Error> {
        match *self {}
    }
}

/// A values-mode item is the state itself, at the root namespace.
impl<S: crate::State + Serialize> V2Data for S {
    const MODE: &'static str = "values";
    fn serialize_v2<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        const ROOT: &[String] = &[];
        map.serialize_entry("ns", ROOT)?;
        map.serialize_entry("data", self)
    }
}

impl<T: crate::GraphTag> V2Data for MessageChunk<T> {
    const MODE: &'static str = "messages";
    fn serialize_v2<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("ns", self.metadata().task().namespace())?;
        map.serialize_entry("data", self)
    }
}

impl<P: Serialize, T: crate::GraphTag> V2Data for CustomChunk<P, T> {
    const MODE: &'static str = "custom";
    fn serialize_v2<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("ns", self.metadata().namespace())?;
        map.serialize_entry("data", self)
    }
}

impl<G: GraphDef> V2Data for NodeUpdate<G>
where
    NodeUpdate<G>: Serialize,
{
    const MODE: &'static str = "updates";
    fn serialize_v2<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("ns", self.metadata().namespace())?;
        map.serialize_entry("data", self)
    }
}

impl<G: GraphDef> V2Data for TaskEvent<G>
where
    TaskEvent<G>: Serialize,
{
    const MODE: &'static str = "debug";
    fn serialize_v2<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("ns", self.metadata().namespace())?;
        map.serialize_entry("data", self)
    }
}

/// A single-mode item in LangGraph's v2 shape, `{"type", "ns", "data"}`:
/// `serde_json::to_string(&V2(&chunk))`.
#[derive(Debug)]
pub struct V2<'a, T>(pub &'a T);

impl<T: V2Data> Serialize for V2<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", T::MODE)?;
        self.0.serialize_v2(&mut map)?;
        map.end()
    }
}
