//! Typed stream modes: the mode value passed to `stream` decides the item type, and which
//! kinds of item the run records at all.
//!
//! Which kinds a mode turns on is written once, at the type level ([`ModeFlags`]): each
//! marker says which of the five kinds it turns on, and a tuple ORs its members' flags. The
//! run's [`ModeSet`] is derived from those types ([`ModeSet::of`]), so the kinds a run
//! records and the variants a [`StreamItem`] can hold cannot disagree.

use super::checkpoint_item::CheckpointEvent;
use super::items::{CustomChunk, MessageChunk};
use super::record::Event;
use super::stream_item::StreamItem;
use super::task_items::{NodeUpdate, TaskEvent};
use crate::graph::traits::GraphDef;

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
/// (LangGraph's `stream_mode="tasks"`; its JSON is the `"debug"` mode's, which wraps the
/// same events with their step and timestamp). Items: [`TaskEvent`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Tasks;

/// A checkpoint item each time a run on a thread writes a checkpoint: for its input and
/// after each step (LangGraph's `stream_mode="checkpoints"`). Items: [`CheckpointEvent`].
/// A run without a thread writes none; with durability `Exit`, only the input's and the
/// last.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checkpoints;

/// A stream mode: [`Messages`], [`Custom`], [`Values`], [`Updates`], [`Tasks`],
/// [`Checkpoints`], or a tuple of two to six of them.
///
/// `graph.stream(input, Messages)` yields `MessageChunk<Tag>`; `graph.stream(input, Custom)`
/// yields `CustomChunk<Payload, Tag>`; a tuple yields [`StreamItem`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a stream mode of this graph",
    label = "pass a stream mode here",
    note = "the modes are `Messages`, `Custom`, `Values`, `Updates`, `Tasks`, `Checkpoints`, and tuples of them"
)]
pub trait StreamMode<G: GraphDef>: ModeFlags + Send + 'static {
    /// What the stream yields in this mode.
    type Item: Send + 'static;

    #[doc(hidden)]
    fn select(event: Event<G>) -> Option<Self::Item>;
}

/// The value of a mode that was not asked for: it has no values, so its variant of
/// [`StreamItem`] can never occur and needs no `match` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Off {}

/// Whether a kind of item is on: [`Yes`] carries the item, [`No`] turns it into [`Off`].
pub trait Flag {
    /// Whether the kind is on: what the run's [`ModeSet`] is built from.
    const ON: bool;
    /// `T` when on, [`Off`] when off.
    type Out<T: Send + 'static>: Send + 'static;
    /// `&'a T` when on, [`Off`] when off: what a `StreamItemRef` holds.
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
    const ON: bool = true;
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
    const ON: bool = false;
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
    label = "each of `Values`, `Updates`, `Messages`, `Custom`, `Tasks`, `Checkpoints` may appear once"
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
    /// Tasks mode.
    type Tasks: Flag;
    /// Checkpoints mode.
    type Checkpoints: Flag;
}

macro_rules! single_mode_flags {
    ($($mode:ident: $v:ident $u:ident $m:ident $c:ident $t:ident $k:ident;)*) => {$(
        impl ModeFlags for $mode {
            type Values = $v;
            type Updates = $u;
            type Messages = $m;
            type Custom = $c;
            type Tasks = $t;
            type Checkpoints = $k;
        }
    )*};
}

single_mode_flags! {
    Values: Yes No No No No No;
    Updates: No Yes No No No No;
    Messages: No No Yes No No No;
    Custom: No No No Yes No No;
    Tasks: No No No No Yes No;
    Checkpoints: No No No No No Yes;
}

impl<A: ModeFlags> ModeFlags for (A,) {
    type Values = A::Values;
    type Updates = A::Updates;
    type Messages = A::Messages;
    type Custom = A::Custom;
    type Tasks = A::Tasks;
    type Checkpoints = A::Checkpoints;
}

macro_rules! tuple_mode_flags {
    ($first:ident $(, $rest:ident)+) => {
        impl<$first: ModeFlags $(, $rest: ModeFlags)+> ModeFlags for ($first, $($rest),+)
        where
            ($($rest,)+): ModeFlags,
            $first::Values: Or<<($($rest,)+) as ModeFlags>::Values>,
            $first::Updates: Or<<($($rest,)+) as ModeFlags>::Updates>,
            $first::Messages: Or<<($($rest,)+) as ModeFlags>::Messages>,
            $first::Custom: Or<<($($rest,)+) as ModeFlags>::Custom>,
            $first::Tasks: Or<<($($rest,)+) as ModeFlags>::Tasks>,
            $first::Checkpoints: Or<<($($rest,)+) as ModeFlags>::Checkpoints>,
        {
            type Values = <$first::Values as Or<<($($rest,)+) as ModeFlags>::Values>>::Output;
            type Updates = <$first::Updates as Or<<($($rest,)+) as ModeFlags>::Updates>>::Output;
            type Messages = <$first::Messages as Or<<($($rest,)+) as ModeFlags>::Messages>>::Output;
            type Custom = <$first::Custom as Or<<($($rest,)+) as ModeFlags>::Custom>>::Output;
            type Tasks = <$first::Tasks as Or<<($($rest,)+) as ModeFlags>::Tasks>>::Output;
            type Checkpoints =
                <$first::Checkpoints as Or<<($($rest,)+) as ModeFlags>::Checkpoints>>::Output;
        }
    };
}

tuple_mode_flags!(A, B);
tuple_mode_flags!(A, B, C);
tuple_mode_flags!(A, B, C, D);
tuple_mode_flags!(A, B, C, D, E);
tuple_mode_flags!(A, B, C, D, E, F);

/// Which kinds of item a run records: the value form of a mode's [`ModeFlags`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModeSet {
    /// Model chunks and returned messages.
    pub messages: bool,
    /// Custom payloads.
    pub custom: bool,
    /// The state after the input and after each step that wrote to it.
    pub values: bool,
    /// Each finished node's update.
    pub updates: bool,
    /// Each task's start and result.
    pub tasks: bool,
    /// Each checkpoint a run on a thread writes.
    pub checkpoints: bool,
}

impl ModeSet {
    /// The kinds mode `M` turns on, read from its flags: the only way a run learns them.
    pub const fn of<M: ModeFlags>() -> Self {
        Self {
            messages: <M::Messages as Flag>::ON,
            custom: <M::Custom as Flag>::ON,
            values: <M::Values as Flag>::ON,
            updates: <M::Updates as Flag>::ON,
            tasks: <M::Tasks as Flag>::ON,
            checkpoints: <M::Checkpoints as Flag>::ON,
        }
    }
}

macro_rules! single_stream_mode {
    ($($mode:ident => $item:ty, $variant:ident($bound:pat) => $out:expr;)*) => {$(
        impl<G: GraphDef> StreamMode<G> for $mode {
            type Item = $item;

            fn select(event: Event<G>) -> Option<Self::Item> {
                match event {
                    Event::$variant($bound) => Some($out),
                    _ => None,
                }
            }
        }
    )*};
}

single_stream_mode! {
    Messages => MessageChunk<G::Tag>, Message(chunk) => chunk;
    Custom => CustomChunk<G::Custom, G::Tag>, Custom(chunk) => chunk;
    Values => G::State, Values(state) => std::sync::Arc::unwrap_or_clone(state);
    Updates => NodeUpdate<G>, Update(update) => *update;
    Tasks => TaskEvent<G>, Task(task) => *task;
    Checkpoints => CheckpointEvent<G>, Checkpoint(checkpoint) => *checkpoint;
}

/// A one-mode tuple streams like a longer one: items come as [`StreamItem`].
impl<G: GraphDef, A: StreamMode<G>> StreamMode<G> for (A,) {
    type Item = StreamItem<G, (A,)>;

    fn select(event: Event<G>) -> Option<Self::Item> {
        StreamItem::from_event(event)
    }
}

macro_rules! tuple_stream_mode {
    ($first:ident $(, $rest:ident)+) => {
        impl<G: GraphDef, $first: StreamMode<G> $(, $rest: StreamMode<G>)+> StreamMode<G>
            for ($first, $($rest),+)
        where
            ($first, $($rest),+): ModeFlags,
        {
            type Item = StreamItem<G, ($first, $($rest),+)>;

            fn select(event: Event<G>) -> Option<Self::Item> {
                StreamItem::from_event(event)
            }
        }
    };
}

tuple_stream_mode!(A, B);
tuple_stream_mode!(A, B, C);
tuple_stream_mode!(A, B, C, D);
tuple_stream_mode!(A, B, C, D, E);
tuple_stream_mode!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tuple_records_every_kind_its_members_turn_on() {
        assert_eq!(
            ModeSet::of::<Messages>(),
            ModeSet {
                messages: true,
                ..ModeSet::default()
            }
        );
        assert_eq!(
            ModeSet::of::<(Values, Tasks, Custom)>(),
            ModeSet {
                values: true,
                tasks: true,
                custom: true,
                ..ModeSet::default()
            }
        );
        assert_eq!(
            ModeSet::of::<(Messages, Custom, Values, Updates, Tasks, Checkpoints)>(),
            ModeSet {
                messages: true,
                custom: true,
                values: true,
                updates: true,
                tasks: true,
                checkpoints: true,
            }
        );
    }
}
