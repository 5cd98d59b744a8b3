//! The run's bounded item buffer: many writers (the step's nodes and their spawned work),
//! one reader (the stream).
//!
//! tokio's `mpsc` would do, but it is built for readers and writers on different threads:
//! a semaphore, a block list allocated 32 slots at a time, and a wake of the reader on every
//! send. Here the reader usually runs the writers itself, inside its own poll, so most of
//! that is pure cost (it was about 40 % of the time per token in the messages benchmark).
//! This buffer is a `VecDeque` behind an uncontended mutex that grows only as far as it is
//! filled, wakes the reader only when the reader is actually waiting, and wakes waiting
//! writers only when room appears.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

pub(crate) struct Buffer<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// The reader, registered only when it found the buffer empty and is about to wait.
    reader: Option<Waker>,
    /// Writers waiting for room.
    writers: Vec<Waker>,
    /// The reader is gone: writes are dropped at once, so writers never wait forever.
    closed: bool,
}

impl<T> Buffer<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                reader: None,
                writers: Vec::new(),
                closed: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // No code panics while holding the lock, but a poisoned lock must not abort a run.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `item`, waiting while the buffer is full.
    pub(crate) fn send(&self, item: T) -> SendItem<'_, T> {
        SendItem {
            buffer: self,
            item: Some(item),
        }
    }

    /// Writes `item` now, even past the capacity (so a pop may wake waiting writers while
    /// the buffer is still full: they look, find no room, and wait again). For the run's own items (a node's update,
    /// a task event, the state after a step): at most a few per node per step, and they
    /// must follow what the node wrote before them, not wait behind a full buffer.
    pub(crate) fn push_now(&self, item: T) {
        let mut inner = self.lock();
        if inner.closed {
            return;
        }
        inner.items.push_back(item);
        let reader = inner.reader.take();
        drop(inner);
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// The next item, without registering to be woken.
    pub(crate) fn try_recv(&self) -> Option<T> {
        let mut inner = self.lock();
        // The reader is running, not waiting: writes in its own poll need not wake it.
        inner.reader = None;
        let item = inner.items.pop_front()?;
        let writers = std::mem::take(&mut inner.writers);
        drop(inner);
        writers.into_iter().for_each(Waker::wake);
        Some(item)
    }

    /// The next item, or `Pending` with the reader registered to be woken by the next write.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<T> {
        let mut inner = self.lock();
        match inner.items.pop_front() {
            Some(item) => {
                let writers = std::mem::take(&mut inner.writers);
                drop(inner);
                writers.into_iter().for_each(Waker::wake);
                Poll::Ready(item)
            }
            None => {
                match &mut inner.reader {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    reader => *reader = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// Drops every waiting item and makes later writes return at once.
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        let items = std::mem::take(&mut inner.items);
        let writers = std::mem::take(&mut inner.writers);
        drop(inner);
        // Items are dropped outside the lock: their destructors are the user's code.
        drop(items);
        writers.into_iter().for_each(Waker::wake);
    }
}

/// The future of [`Buffer::send`].
#[must_use = "a write does nothing until awaited"]
pub(crate) struct SendItem<'a, T> {
    buffer: &'a Buffer<T>,
    item: Option<T>,
}

// The item is only moved out, never pinned.
impl<T> Unpin for SendItem<'_, T> {}

impl<T> Future for SendItem<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(item) = self.item.take() else {
            return Poll::Ready(());
        };
        let mut inner = self.buffer.lock();
        if inner.closed {
            return Poll::Ready(());
        }
        if inner.items.len() >= inner.capacity {
            if !inner.writers.iter().any(|w| w.will_wake(cx.waker())) {
                inner.writers.push(cx.waker().clone());
            }
            drop(inner);
            self.item = Some(item);
            return Poll::Pending;
        }
        inner.items.push_back(item);
        let reader = inner.reader.take();
        drop(inner);
        if let Some(reader) = reader {
            reader.wake();
        }
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn a_full_buffer_makes_writers_wait_until_the_reader_takes_one() {
        let buffer = Buffer::new(2);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        for i in 0..2 {
            assert!(Pin::new(&mut buffer.send(i)).poll(&mut cx).is_ready());
        }
        let mut third = buffer.send(2);
        assert!(Pin::new(&mut third).poll(&mut cx).is_pending());
        assert_eq!(buffer.try_recv(), Some(0));
        assert!(Pin::new(&mut third).poll(&mut cx).is_ready());
        assert_eq!(buffer.poll_recv(&mut cx), Poll::Ready(1));
        assert_eq!(buffer.poll_recv(&mut cx), Poll::Ready(2));
        assert_eq!(buffer.poll_recv(&mut cx), Poll::Pending);
    }

    #[test]
    fn after_close_writes_return_at_once_and_are_dropped() {
        let buffer = Buffer::new(1);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut buffer.send(1)).poll(&mut cx).is_ready());
        let mut blocked = buffer.send(2);
        assert!(Pin::new(&mut blocked).poll(&mut cx).is_pending());
        buffer.close();
        assert!(Pin::new(&mut blocked).poll(&mut cx).is_ready());
        assert_eq!(buffer.try_recv(), None);
    }
}
