//! The set of tags a model call or custom write carries (the `GraphTag` trait is in
//! `traits.rs`).

use std::fmt;
use std::marker::PhantomData;

use super::traits::GraphTag;

/// A set of tags of one graph, stored as a bit set: copying and testing it costs nothing.
///
/// It serializes as the list of tag names, as LangGraph's `tags` field. The list puts the
/// run's tags (those of [`RunConfig::tag`](crate::RunConfig::tag)) first and the call's or
/// writer's own after them, as LangGraph lists a run config's tags before a call's; each
/// group is in declaration order, and a tag in both is listed once, with the run's.
/// [`iter`](Self::iter) and `Debug` use the same order; equality ignores it.
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
    /// The tags listed before the others: a subset of `bits`.
    first: u64,
    tags: PhantomData<fn() -> T>,
}

impl<T: GraphTag> TagSet<T> {
    /// No tags.
    pub const fn empty() -> Self {
        Self {
            bits: 0,
            first: 0,
            tags: PhantomData,
        }
    }

    /// Adds a tag, listed after the tags listed first (unless it already is one of them).
    pub fn insert(&mut self, tag: T) {
        self.bits |= 1 << tag.bit();
    }

    /// This set with all its tags listed before any tag added to it later: what a run's
    /// tags are to the tags of each call and writer of the run.
    ///
    /// ```
    /// # use stategraph_core::{GraphTag, TagSet};
    /// # fn demo<T: GraphTag>(joke: T, poem: T) {
    /// // Whatever the declaration order, the run's `poem` comes before the call's `joke`.
    /// let call = TagSet::from_iter([poem]).listed_first().with(joke);
    /// assert!(call.iter().eq([poem, joke]));
    /// # }
    /// ```
    #[must_use]
    pub fn listed_first(self) -> Self {
        Self {
            first: self.bits,
            ..self
        }
    }

    /// This set with `tag` added.
    #[must_use]
    pub fn with(mut self, tag: T) -> Self {
        self.insert(tag);
        self
    }

    /// Both sets together; a tag listed first in either is listed first.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self {
            bits: self.bits | other.bits,
            first: self.first | other.first,
            tags: PhantomData,
        }
    }

    /// Whether `tag` is in the set.
    pub fn contains(self, tag: T) -> bool {
        self.bits & (1 << tag.bit()) != 0
    }

    /// Whether the set is empty.
    pub(crate) fn len(self) -> usize {
        self.bits.count_ones() as usize
    }

    /// Whether the set has no tags.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The tags: those [listed first](Self::listed_first) (the run's), then the others, each
    /// group in declaration order.
    pub fn iter(self) -> impl Iterator<Item = T> {
        let in_group = move |group: u64| {
            T::ALL
                .iter()
                .copied()
                .filter(move |tag| group & (1 << tag.bit()) != 0)
        };
        in_group(self.first).chain(in_group(self.bits & !self.first))
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
/// Equal when they hold the same tags, whichever are listed first.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::traits::GraphNode;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    enum Node {
        Only,
    }

    impl GraphNode for Node {
        const ALL: &'static [Self] = &[Self::Only];
        fn name(self) -> &'static str {
            "only"
        }
        fn index(self) -> usize {
            0
        }
        fn branch_trigger(self) -> &'static str {
            "branch:to:only"
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Tag {
        Joke,
        Poem,
        Story,
    }

    impl GraphTag for Tag {
        type Node = Node;
        const ALL: &'static [Self] = &[Self::Joke, Self::Poem, Self::Story];
        fn name(self) -> &'static str {
            match self {
                Self::Joke => "joke",
                Self::Poem => "poem",
                Self::Story => "story",
            }
        }
        fn bit(self) -> u32 {
            self as u32
        }
    }

    #[test]
    fn the_tags_listed_first_come_before_the_others_each_group_in_declaration_order() {
        let run = TagSet::from_iter([Tag::Story, Tag::Poem]).listed_first();
        let call = run.with(Tag::Joke);
        assert_eq!(
            call.iter().collect::<Vec<_>>(),
            [Tag::Poem, Tag::Story, Tag::Joke]
        );
        assert_eq!(
            serde_json::to_value(call).unwrap(),
            serde_json::json!(["poem", "story", "joke"])
        );
        assert_eq!(format!("{call:?}"), "{Poem, Story, Joke}");
    }

    #[test]
    fn a_tag_both_listed_first_and_inserted_again_is_listed_once_with_the_first() {
        let call = TagSet::from_iter([Tag::Story])
            .listed_first()
            .with(Tag::Story)
            .with(Tag::Joke);
        assert_eq!(call.iter().collect::<Vec<_>>(), [Tag::Story, Tag::Joke]);
        let union = TagSet::from_iter([Tag::Joke]).union(call);
        assert_eq!(union.iter().collect::<Vec<_>>(), [Tag::Story, Tag::Joke]);
    }

    #[test]
    fn equality_is_about_the_tags_not_their_listing_order() {
        let plain = TagSet::from_iter([Tag::Joke, Tag::Story]);
        let ordered = TagSet::from_iter([Tag::Story])
            .listed_first()
            .with(Tag::Joke);
        assert_eq!(plain, ordered);
        assert_ne!(plain, ordered.with(Tag::Poem));
    }
}
