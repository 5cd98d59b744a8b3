//! The run's bounded item buffer: many writers (the step's nodes and their spawned work),
//! one reader (the stream).
//!
//! tokio's `mpsc` would do, but it is built for readers and writers on different threads:
//! a semaphore, a block list allocated 32 slots at a time, and a wake of the reader on every
//! send. Here the reader usually runs the writers itself, inside its own poll, so most of
//! that is pure cost (it was about 40 % of the time per token in the messages benchmark).
//! This buffer is a `VecDeque` behind an uncontended mutex that grows only as far as it is
//! filled, wakes the reader only when the reader is actually waiting, and wakes waiting
//! writers only when room appears. The reader takes everything waiting in one lock, by
//! swapping deques, and hands the batch out without locking again. A model call's
//! forwarder takes a [`Lease`]: the room left, in one lock, filled with every chunk the
//! model has ready and put back in one, so chunks that arrive together cost two locks in
//! all rather than one each (the lock's two atomic operations were most of a write's cost).

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
    /// How many items the reader took in its last batch. They count against the capacity
    /// until the reader comes back for more, which it does only once it has handed them
    /// all out: so the capacity bounds everything written and not yet handed out.
    taken: usize,
    /// Room lent to writers' [`Lease`]s and not yet put back: it counts against the
    /// capacity like the items it will hold.
    leased: usize,
    /// The reader is gone: writes are dropped at once, so writers never wait forever.
    closed: bool,
}

impl<T> Inner<T> {
    fn room(&self) -> usize {
        self.capacity
            .saturating_sub(self.items.len() + self.taken + self.leased)
    }
}

impl<T> Buffer<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                reader: None,
                writers: Vec::new(),
                taken: 0,
                leased: 0,
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

    /// Writes `item` if there is room (or drops it if the reader is gone), without a
    /// future: the common case of a write, which then costs one lock and one move.
    /// Hands the item back when the buffer is full.
    pub(crate) fn try_send(&self, item: T) -> Result<(), T> {
        let mut inner = self.lock();
        if inner.closed {
            return Ok(());
        }
        if inner.room() == 0 {
            return Err(item);
        }
        inner.items.push_back(item);
        let reader = inner.reader.take();
        drop(inner);
        if let Some(reader) = reader {
            reader.wake();
        }
        Ok(())
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

    /// Lends a writer all the room left, to fill without locking: `Ready(Some(lease))`
    /// when there is room, `Ready(None)` when the reader is gone (the write is to be
    /// dropped), `Pending` with the writer registered when the buffer is full.
    ///
    /// When nothing is waiting, the lease holds the buffer's own (empty) deque, so that
    /// the usual lease allocates nothing; otherwise it starts a deque of its own, which
    /// joins the waiting items when put back.
    pub(crate) fn poll_lease(&self, cx: &mut Context<'_>) -> Poll<Option<Lease<'_, T>>> {
        let mut inner = self.lock();
        if inner.closed {
            return Poll::Ready(None);
        }
        let room = inner.room();
        if room == 0 {
            if !inner.writers.iter().any(|w| w.will_wake(cx.waker())) {
                inner.writers.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        inner.leased += room;
        let items = if inner.items.is_empty() {
            std::mem::take(&mut inner.items)
        } else {
            VecDeque::new()
        };
        Poll::Ready(Some(Lease {
            buffer: self,
            items,
            room,
        }))
    }

    /// Puts a lease's items after those waiting and frees the room it did not use.
    fn put_back(&self, room: usize, mut items: VecDeque<T>) {
        let mut inner = self.lock();
        inner.leased -= room;
        if inner.closed {
            drop(inner);
            // The reader is gone, or the run failed and took what was waiting: a lease
            // out then belongs to work spawned on another thread, which the failure
            // aborts with everything it has not written. Dropped outside the lock: their
            // destructors are the user's code.
            drop(items);
            return;
        }
        let written = items.len();
        if inner.items.is_empty() {
            // The usual case: the deque goes back with its allocation, and the empty one
            // left in its place (which holds none) is dropped.
            std::mem::swap(&mut inner.items, &mut items);
        } else {
            // Items arrived while the lease was out: the reader had not taken the earlier
            // ones yet, or the run wrote its own past the capacity. The lease's items
            // follow them: no one could have seen the lease's items yet, so nothing
            // written meanwhile can depend on them.
            inner.items.append(&mut items);
        }
        let reader = if written > 0 {
            inner.reader.take()
        } else {
            None
        };
        // Room the lease did not use is free again for writers that found none.
        let writers = if written < room {
            std::mem::take(&mut inner.writers)
        } else {
            Vec::new()
        };
        drop(inner);
        drop(items);
        if let Some(reader) = reader {
            reader.wake();
        }
        writers.into_iter().for_each(Waker::wake);
    }

    /// Moves every waiting item into `batch`, which the reader has emptied, without
    /// registering to be woken. Returns whether it took any.
    pub(crate) fn take_batch(&self, batch: &mut VecDeque<T>) -> bool {
        let mut inner = self.lock();
        // The reader is running, not waiting: writes in its own poll need not wake it.
        inner.reader = None;
        Self::swap_out(inner, batch)
    }

    /// As [`take_batch`](Self::take_batch), or `Pending` with the reader registered to be
    /// woken by the next write when nothing is waiting.
    pub(crate) fn poll_batch(&self, cx: &mut Context<'_>, batch: &mut VecDeque<T>) -> Poll<()> {
        let mut inner = self.lock();
        if inner.items.is_empty() {
            match &mut inner.reader {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                reader => *reader = Some(cx.waker().clone()),
            }
        }
        if Self::swap_out(inner, batch) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Swaps the waiting items into the reader's (empty) `batch`: the previous batch has
    /// been handed out, so its room is free again and waiting writers may go on.
    fn swap_out(mut inner: MutexGuard<'_, Inner<T>>, batch: &mut VecDeque<T>) -> bool {
        debug_assert!(
            batch.is_empty(),
            "the reader takes a batch once the last is out"
        );
        let room_appeared = inner.taken > 0 || !inner.items.is_empty();
        std::mem::swap(&mut inner.items, batch);
        inner.taken = batch.len();
        let writers = if room_appeared {
            std::mem::take(&mut inner.writers)
        } else {
            Vec::new()
        };
        drop(inner);
        writers.into_iter().for_each(Waker::wake);
        !batch.is_empty()
    }

    /// Makes later writes return at once (dropping what they write), and returns the
    /// items still waiting. They leave the lock with it: their destructors are the user's
    /// code.
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut inner = self.lock();
        inner.closed = true;
        let items = std::mem::take(&mut inner.items);
        let writers = std::mem::take(&mut inner.writers);
        drop(inner);
        writers.into_iter().for_each(Waker::wake);
        items
    }
}

/// Room lent to one writer by [`Buffer::poll_lease`], filled without locking and put back
/// into the buffer, in one lock, when dropped: so a panic while it is out loses nothing
/// written to it.
pub(crate) struct Lease<'a, T> {
    buffer: &'a Buffer<T>,
    items: VecDeque<T>,
    room: usize,
}

impl<T> Lease<'_, T> {
    /// Whether the lease can take another item.
    pub(crate) fn has_room(&self) -> bool {
        self.items.len() < self.room
    }

    /// Writes `item`, or hands it back when the lease has no room left: the room is the
    /// bound.
    pub(crate) fn push(&mut self, item: T) -> Result<(), T> {
        if !self.has_room() {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }
}

impl<T> Drop for Lease<'_, T> {
    fn drop(&mut self) {
        self.buffer
            .put_back(self.room, std::mem::take(&mut self.items));
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
        if inner.room() == 0 {
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
        assert_eq!(buffer.try_send(9), Err(9), "full: the item comes back");
        let mut third = buffer.send(2);
        assert!(Pin::new(&mut third).poll(&mut cx).is_pending());

        let mut batch = VecDeque::new();
        assert!(buffer.take_batch(&mut batch));
        assert_eq!(batch, [0, 1]);
        // The batch still counts until the reader comes back for more.
        assert!(Pin::new(&mut third).poll(&mut cx).is_pending());
        batch.clear();
        assert!(!buffer.take_batch(&mut batch));
        assert!(Pin::new(&mut third).poll(&mut cx).is_ready());
        assert_eq!(buffer.poll_batch(&mut cx, &mut batch), Poll::Ready(()));
        assert_eq!(batch, [2]);
        batch.clear();
        assert_eq!(buffer.poll_batch(&mut cx, &mut batch), Poll::Pending);
    }

    #[test]
    fn after_close_writes_return_at_once_and_are_dropped() {
        let buffer = Buffer::new(1);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut buffer.send(1)).poll(&mut cx).is_ready());
        let mut blocked = buffer.send(2);
        assert!(Pin::new(&mut blocked).poll(&mut cx).is_pending());
        assert_eq!(buffer.close(), [1]);
        assert!(Pin::new(&mut blocked).poll(&mut cx).is_ready());
        assert_eq!(buffer.try_send(3), Ok(()), "closed: dropped at once");
        let mut batch = VecDeque::new();
        assert!(!buffer.take_batch(&mut batch));
    }

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Wakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Wakes {
        fn get(&self) -> usize {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    fn new_count_waker() -> (Waker, std::sync::Arc<Wakes>) {
        let wakes = std::sync::Arc::new(Wakes::default());
        (Waker::from(std::sync::Arc::clone(&wakes)), wakes)
    }

    fn lease(buffer: &Buffer<i32>) -> Option<Lease<'_, i32>> {
        let waker = noop_waker();
        match buffer.poll_lease(&mut Context::from_waker(&waker)) {
            Poll::Ready(lease) => lease,
            Poll::Pending => panic!("no room"),
        }
    }

    #[test]
    fn a_lease_holds_the_room_left_and_counts_against_the_capacity_while_out() {
        let buffer = Buffer::new(4);
        assert_eq!(buffer.try_send(0), Ok(()));
        let mut lease = lease(&buffer).expect("open");
        for i in 1..4 {
            assert!(lease.has_room());
            assert_eq!(lease.push(i), Ok(()));
        }
        assert!(!lease.has_room(), "three slots were left");
        assert_eq!(lease.push(9), Err(9), "a full lease hands the item back");
        assert_eq!(buffer.try_send(9), Err(9), "the lent room is taken");
        drop(lease);
        assert_eq!(buffer.try_send(9), Err(9), "now its items fill the buffer");
        let mut batch = VecDeque::new();
        assert!(buffer.take_batch(&mut batch));
        assert_eq!(
            batch,
            [0, 1, 2, 3],
            "the lease's items follow the earlier one"
        );
    }

    #[test]
    fn a_full_buffer_lends_nothing_and_wakes_the_writer_when_room_appears() {
        let buffer = Buffer::new(1);
        assert_eq!(buffer.try_send(0), Ok(()));
        let (waker, wakes) = new_count_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(buffer.poll_lease(&mut cx).is_pending());
        let mut batch = VecDeque::new();
        assert!(buffer.take_batch(&mut batch));
        batch.clear();
        assert!(!buffer.take_batch(&mut batch));
        assert_eq!(wakes.get(), 1, "woken when the reader took the item");
        assert!(matches!(buffer.poll_lease(&mut cx), Poll::Ready(Some(_))));
    }

    #[test]
    fn unused_room_is_free_again_and_waiting_writers_hear_of_it() {
        let buffer = Buffer::new(2);
        let mut lease = lease(&buffer).expect("open");
        assert_eq!(lease.push(1), Ok(()));
        let (waker, wakes) = new_count_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut buffer.send(2)).poll(&mut cx).is_pending());
        drop(lease);
        assert_eq!(wakes.get(), 1, "the slot the lease left unused is free");
        assert_eq!(buffer.try_send(2), Ok(()));
    }

    #[test]
    fn items_written_while_a_lease_is_out_go_before_the_lease_s() {
        let buffer = Buffer::new(8);
        let mut lease = lease(&buffer).expect("open");
        assert_eq!(lease.push(1), Ok(()));
        // The lease holds all the room, so other writers wait for it; only the run's
        // own items (written past the capacity) can arrive meanwhile.
        assert_eq!(buffer.try_send(9), Err(9));
        buffer.push_now(0);
        assert_eq!(lease.push(2), Ok(()));
        drop(lease);
        let mut batch = VecDeque::new();
        assert!(buffer.take_batch(&mut batch));
        assert_eq!(batch, [0, 1, 2]);
    }

    #[test]
    fn a_reader_waiting_on_an_empty_buffer_is_woken_by_a_lease_put_back() {
        let buffer = Buffer::new(4);
        let (waker, wakes) = new_count_waker();
        let mut batch = VecDeque::new();
        assert_eq!(
            buffer.poll_batch(&mut Context::from_waker(&waker), &mut batch),
            Poll::Pending
        );
        let mut lease = lease(&buffer).expect("open");
        assert_eq!(lease.push(7), Ok(()));
        assert_eq!(wakes.get(), 0, "nothing is visible while the lease is out");
        drop(lease);
        assert_eq!(wakes.get(), 1);
        assert!(buffer.take_batch(&mut batch));
        assert_eq!(batch, [7]);
    }

    #[test]
    fn after_close_there_is_no_lease_and_one_out_drops_its_items() {
        let buffer = Buffer::new(4);
        let mut out = lease(&buffer).expect("open");
        assert_eq!(out.push(1), Ok(()));
        assert!(buffer.close().is_empty());
        drop(out);
        let mut batch = VecDeque::new();
        assert!(!buffer.take_batch(&mut batch));
        assert!(lease(&buffer).is_none(), "closed");
    }
}
