//! The set of tags a model call or custom write carries (the `GraphTag` trait is in `traits.rs`).

use std::fmt;
use std::marker::PhantomData;

use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::GraphTag;

/// A set of tags of one graph, stored as a bit set: copying and testing it costs nothing.
///
/// It serializes as the list of tag names, as LangGraph's `tags` field.
///
/// ```
/// # use stategraph_core::{GraphTag, TagSet};
/// # fn demo<T: GraphTag>(joke: T, poem: T) {
/// let tags = TagSet::from_iter([joke]);
/// assert!(tags.contains(joke));
/// assert!(!tags.contains(poem));
/// # }
/// ```
pub struct TagSet<T> {
    bits: u64,
    tags: PhantomData<fn() -> T>,
}

impl<T: GraphTag> TagSet<T> {
    /// No tags.
    pub const fn empty() -> Self {
        Self {
            bits: 0,
            tags: PhantomData,
        }
    }

    /// Adds a tag.
    pub fn insert(&mut self, tag: T) {
        self.bits |= 1 << tag.bit();
    }

    /// This set with `tag` added.
    #[must_use]
    pub fn with(mut self, tag: T) -> Self {
        self.insert(tag);
        self
    }

    /// Both sets together.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self {
            bits: self.bits | other.bits,
            tags: PhantomData,
        }
    }

    /// Whether `tag` is in the set.
    pub fn contains(self, tag: T) -> bool {
        self.bits & (1 << tag.bit()) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The tags, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = T> {
        T::ALL
            .iter()
            .copied()
            .filter(move |tag| self.contains(*tag))
    }
}

impl<T: GraphTag> FromIterator<T> for TagSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = Self::empty();
        for tag in iter {
            set.insert(tag);
        }
        set
    }
}

impl<T: GraphTag> Extend<T> for TagSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for tag in iter {
            self.insert(tag);
        }
    }
}

// Derives would demand `T: Clone` etc. of the marker; the set is plain bits whatever `T` is.
impl<T> Clone for TagSet<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TagSet<T> {}
impl<T> PartialEq for TagSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}
impl<T> Eq for TagSet<T> {}
impl<T: GraphTag> Default for TagSet<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T: GraphTag> fmt::Debug for TagSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: GraphTag> Serialize for TagSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.bits.count_ones() as usize))?;
        for tag in self.iter() {
            seq.serialize_element(tag.name())?;
        }
        seq.end()
    }
}
