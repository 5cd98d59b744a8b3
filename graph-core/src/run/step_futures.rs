//! The node futures of one step, polled by the run.
//!
//! Most steps run one node. `FuturesUnordered` gives each future a waker of its own and a
//! ready queue, which a step of one node does not need: every time the node waits for room
//! in the buffer, waking it through that queue cost more than the item it then wrote. So
//! a lone future is polled directly, with the stream's own waker, and `FuturesUnordered`
//! takes over only when a step has several.

use std::future::Future;
use std::task::{Context, Poll, ready};

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};

pub(crate) enum StepFutures<F> {
    /// No future, or the step's only one.
    One(Option<F>),
    /// Two or more, each with its own waker.
    Many(FuturesUnordered<F>),
}

impl<F: Future + Unpin> StepFutures<F> {
    pub(crate) fn new() -> Self {
        Self::One(None)
    }

    pub(crate) fn push(&mut self, future: F) {
        match self {
            Self::One(slot) => match slot.take() {
                None => *slot = Some(future),
                Some(first) => *self = Self::Many([first, future].into_iter().collect()),
            },
            Self::Many(many) if many.is_empty() => *self = Self::One(Some(future)),
            Self::Many(many) => many.push(future),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::One(slot) => slot.is_none(),
            Self::Many(many) => many.is_empty(),
        }
    }

    /// Drops every future: cancels the step's nodes.
    pub(crate) fn clear(&mut self) {
        *self = Self::new();
    }

    /// The output of the next future to finish; `None` when there are none.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        match self {
            Self::One(None) => Poll::Ready(None),
            Self::One(Some(future)) => {
                let output = ready!(future.poll_unpin(cx));
                *self = Self::One(None);
                Poll::Ready(Some(output))
            }
            Self::Many(many) => many.poll_next_unpin(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::{BoxFuture, pending, ready};
    use futures::task::noop_waker;

    fn poll(futures: &mut StepFutures<BoxFuture<'static, u32>>) -> Poll<Option<u32>> {
        let waker = noop_waker();
        futures.poll_next(&mut Context::from_waker(&waker))
    }

    #[test]
    fn one_future_is_polled_directly_and_several_all_finish() {
        let mut futures = StepFutures::new();
        assert!(futures.is_empty());
        assert_eq!(poll(&mut futures), Poll::Ready(None));

        futures.push(ready(1).boxed());
        assert!(matches!(futures, StepFutures::One(Some(_))));
        assert_eq!(poll(&mut futures), Poll::Ready(Some(1)));
        assert!(futures.is_empty());

        futures.push(ready(2).boxed());
        futures.push(pending().boxed());
        futures.push(ready(3).boxed());
        assert!(matches!(futures, StepFutures::Many(_)));
        let mut outputs = vec![];
        while let Poll::Ready(Some(output)) = poll(&mut futures) {
            outputs.push(output);
        }
        outputs.sort_unstable();
        assert_eq!(outputs, [2, 3]);
        assert!(!futures.is_empty(), "the pending one is still there");

        futures.clear();
        assert!(futures.is_empty());
        futures.push(ready(4).boxed());
        assert!(matches!(futures, StepFutures::One(Some(_))));
    }
}
