//! The run's bounded item buffer: many writers (the step's nodes and their spawned work),
//! one reader (the stream).
//!
//! tokio's `mpsc` would do, but it is built for readers and writers on different threads:
//! a semaphore, a block list allocated 32 slots at a time, and a wake of the reader on every
//! send. Here the reader usually runs the writers itself, inside its own poll, so most of
//! that is pure cost (`benches/benches/buffer.rs` measures both in the same run). This
//! buffer is a `VecDeque` behind an uncontended mutex that grows only as far as it is
//! filled, wakes the reader only when the reader is actually waiting, and wakes a waiting
//! writer only when there is room for it. The reader takes everything waiting in one lock,
//! by swapping deques, and hands the batch out without locking again. A model call's
//! forwarder takes a [`Lease`]: room, in one lock, filled with every chunk the model has
//! ready and put back in one, so chunks that arrive together cost two locks in all rather
//! than one each.
//!
//! # The bound
//!
//! Room counts the items waiting, the reader's batch until the reader has handed all of it
//! out and comes back for more, and the room lent to leases. Writers ([`Buffer::send`],
//! [`Buffer::try_send`], leases) never go past the capacity. Only [`Buffer::push_now`]
//! does: the run's own items, which must follow what a node wrote and cannot wait (see
//! `RunConfig::buffer` for exactly which, and how many).
//!
//! # Turns
//!
//! Writers that find no room queue, in the order they came, and room that appears goes to
//! the first of them only: a writer that is not first, or not queued while others are,
//! waits its turn even when there is room. A writer that is always ready therefore goes
//! to the back after each write it had to wait for, instead of winning every race for the
//! room. A lease taken while others wait holds an even share of the room, not all of it.
//! The first writer is woken whenever there is room for it and it has not been woken since
//! it last looked, so a wake is never lost: `graph-core/src/buffer/loom_models.rs` checks
//! this, the bound, each writer's order, closing, and leases put back on unwind, under
//! every interleaving loom explores.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

mod sync;

use self::sync::{Mutex, MutexGuard};

/// A bounded buffer of `T`: many writers, one reader.
pub struct Buffer<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// The reader, registered only when it found the buffer empty and is about to wait.
    reader: Option<Waker>,
    /// Writers waiting for room, first come first.
    queue: VecDeque<Waiter>,
    /// The ticket the next writer to queue gets.
    next_ticket: u64,
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

/// A writer waiting for room.
struct Waiter {
    ticket: u64,
    /// Taken when the writer is woken: it is woken at most once between two of its looks.
    waker: Option<Waker>,
}

impl<T> Inner<T> {
    fn room(&self) -> usize {
        self.capacity
            .saturating_sub(self.items.len() + self.taken + self.leased)
    }

    /// Whether the writer holding `ticket` (`None`: a writer not queued) may take room
    /// now: there is some, and no one is queued ahead of it.
    fn is_turn_of(&self, ticket: Option<u64>) -> bool {
        self.room() > 0
            && self
                .queue
                .front()
                .is_none_or(|first| Some(first.ticket) == ticket)
    }

    /// Queues the writer holding `ticket`, giving it one if it has none, or refreshes the
    /// waker of a queued one.
    fn wait(&mut self, ticket: &mut Option<u64>, waker: &Waker) {
        if let Some(ticket) = *ticket
            && let Some(waiter) = self.queue.iter_mut().find(|w| w.ticket == ticket)
        {
            match &mut waiter.waker {
                Some(known) if known.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
            return;
        }
        let new = self.next_ticket;
        self.next_ticket = self.next_ticket.wrapping_add(1);
        self.queue.push_back(Waiter {
            ticket: new,
            waker: Some(waker.clone()),
        });
        *ticket = Some(new);
    }

    /// Takes the writer holding `ticket` out of the queue, if it is in it.
    fn leave(&mut self, ticket: &mut Option<u64>) {
        let Some(ticket) = ticket.take() else { return };
        if self
            .queue
            .front()
            .is_some_and(|first| first.ticket == ticket)
        {
            self.queue.pop_front();
        } else {
            self.queue.retain(|waiter| waiter.ticket != ticket);
        }
    }

    /// The waker of the first queued writer when there is room for it and it has not been
    /// woken since it last looked. Every change that can give the first writer room (room
    /// freed, or a new first writer) calls this, so no writer waits on room it could take.
    fn first_writer_to_wake(&mut self) -> Option<Waker> {
        if self.room() == 0 {
            return None;
        }
        self.queue.front_mut()?.waker.take()
    }
}

/// Wakes `wakers` once the lock is released: a waker may run arbitrary code.
fn wake(wakers: impl IntoIterator<Item = Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

impl<T> Buffer<T> {
    /// A buffer of `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                reader: None,
                queue: VecDeque::new(),
                next_ticket: 0,
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

    /// A writer's place in the queue, for [`Turn::poll_lease`].
    pub fn turn(&self) -> Turn<'_, T> {
        Turn {
            buffer: self,
            ticket: None,
        }
    }

    /// A writer's place taken back from [`Turn::into_ticket`], for a writer that owns the
    /// buffer's holder and so cannot keep a `Turn` borrowing it across polls.
    pub fn resume_turn(&self, ticket: Option<u64>) -> Turn<'_, T> {
        Turn {
            buffer: self,
            ticket,
        }
    }

    /// Writes `item`, waiting its turn while the buffer is full.
    pub fn send(&self, item: T) -> SendItem<'_, T> {
        SendItem {
            turn: self.turn(),
            item: Some(item),
        }
    }

    /// Writes `item` if there is room and no writer is waiting for it (or drops it if the
    /// reader is gone), without a future: the common case of a write, which then costs one
    /// lock and one move. Hands the item back otherwise, to be sent with [`send`](Self::send).
    pub fn try_send(&self, item: T) -> Result<(), T> {
        let mut inner = self.lock();
        if inner.closed {
            drop(inner);
            drop(item);
            return Ok(());
        }
        if !inner.is_turn_of(None) {
            return Err(item);
        }
        inner.items.push_back(item);
        let reader = inner.reader.take();
        drop(inner);
        wake(reader);
        Ok(())
    }

    /// Writes `item` now, even past the capacity. For the run's own items (a node's
    /// update, a task event, the state after a step), which must follow what the node
    /// wrote before them, not wait behind a full buffer: see `RunConfig::buffer` for how
    /// far past.
    pub fn push_now(&self, item: T) {
        let mut inner = self.lock();
        if inner.closed {
            drop(inner);
            drop(item);
            return;
        }
        inner.items.push_back(item);
        let reader = inner.reader.take();
        drop(inner);
        wake(reader);
    }

    /// How many items wait for the reader to take them (a lease's are not visible yet).
    pub fn waiting(&self) -> usize {
        self.lock().items.len()
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
            // Items arrived while the lease was out: another writer's, in its turn, or the
            // run's own. The lease's follow them: no one could have seen the lease's items
            // yet, so nothing written meanwhile can depend on them.
            inner.items.append(&mut items);
        }
        let reader = if written > 0 {
            inner.reader.take()
        } else {
            None
        };
        // Room the lease did not use is free again.
        let writer = inner.first_writer_to_wake();
        drop(inner);
        drop(items);
        wake(reader.into_iter().chain(writer));
    }

    /// Moves every waiting item into `batch`, which the reader has emptied, without
    /// registering to be woken. Returns whether it took any.
    pub fn take_batch(&self, batch: &mut VecDeque<T>) -> bool {
        let mut inner = self.lock();
        // The reader is running, not waiting: writes in its own poll need not wake it.
        inner.reader = None;
        Self::swap_out(inner, batch)
    }

    /// As [`take_batch`](Self::take_batch), or `Pending` with the reader registered to be
    /// woken by the next write when nothing is waiting.
    pub fn poll_batch(&self, cx: &mut Context<'_>, batch: &mut VecDeque<T>) -> Poll<()> {
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
    /// been handed out, so its room is free again and the first waiting writer may go on.
    fn swap_out(mut inner: MutexGuard<'_, Inner<T>>, batch: &mut VecDeque<T>) -> bool {
        debug_assert!(
            batch.is_empty(),
            "the reader takes a batch once the last is out"
        );
        std::mem::swap(&mut inner.items, batch);
        inner.taken = batch.len();
        let writer = inner.first_writer_to_wake();
        drop(inner);
        wake(writer);
        !batch.is_empty()
    }

    /// Makes later writes return at once (dropping what they write), wakes every waiting
    /// writer to find that out, and returns the items still waiting. They leave the lock
    /// with it: their destructors are the user's code.
    pub fn close(&self) -> VecDeque<T> {
        let mut inner = self.lock();
        inner.closed = true;
        let items = std::mem::take(&mut inner.items);
        let queue = std::mem::take(&mut inner.queue);
        drop(inner);
        wake(queue.into_iter().filter_map(|waiter| waiter.waker));
        items
    }
}

/// One writer's place among those waiting for room: it has none until it first finds no
/// room, and leaves the queue when it takes room or is dropped (a cancelled write), so a
/// writer that gives up never holds up the ones behind it.
pub struct Turn<'a, T> {
    buffer: &'a Buffer<T>,
    ticket: Option<u64>,
}

impl<'a, T> Turn<'a, T> {
    /// This writer's place, kept without the borrow: give it back to
    /// [`Buffer::resume_turn`] on the next poll, and drop the turn it makes when the
    /// writer gives up, so that it leaves the queue.
    pub fn into_ticket(mut self) -> Option<u64> {
        self.ticket.take()
    }

    /// Writes `item` (taking it out) when it is this writer's turn and there is room, or
    /// drops it if the reader is gone; otherwise queues the writer and leaves `item` be.
    fn poll_write(&mut self, cx: &mut Context<'_>, item: &mut Option<T>) -> Poll<()> {
        let mut inner = self.buffer.lock();
        if inner.closed {
            inner.leave(&mut self.ticket);
            drop(inner);
            drop(item.take());
            return Poll::Ready(());
        }
        if !inner.is_turn_of(self.ticket) {
            inner.wait(&mut self.ticket, cx.waker());
            return Poll::Pending;
        }
        inner.leave(&mut self.ticket);
        if let Some(item) = item.take() {
            inner.items.push_back(item);
        }
        let reader = inner.reader.take();
        let writer = inner.first_writer_to_wake();
        drop(inner);
        wake(reader.into_iter().chain(writer));
        Poll::Ready(())
    }

    /// Lends this writer room to fill without locking, when it is its turn: `Ready(Some)`
    /// with all the room left when no one else waits, an even share of it when others do;
    /// `Ready(None)` when the reader is gone (the write is to be dropped); `Pending`, with
    /// the writer queued, when the buffer is full or others are first.
    ///
    /// When nothing is waiting, the lease holds the buffer's own (empty) deque, so that
    /// the usual lease allocates nothing; otherwise it starts a deque of its own, which
    /// joins the waiting items when put back.
    pub fn poll_lease(&mut self, cx: &mut Context<'_>) -> Poll<Option<Lease<'a, T>>> {
        let mut inner = self.buffer.lock();
        if inner.closed {
            inner.leave(&mut self.ticket);
            return Poll::Ready(None);
        }
        if !inner.is_turn_of(self.ticket) {
            inner.wait(&mut self.ticket, cx.waker());
            return Poll::Pending;
        }
        inner.leave(&mut self.ticket);
        // Everyone still queued is behind this writer; each gets as much.
        let room = inner.room().div_ceil(inner.queue.len() + 1);
        inner.leased += room;
        let items = if inner.items.is_empty() {
            std::mem::take(&mut inner.items)
        } else {
            VecDeque::new()
        };
        let writer = inner.first_writer_to_wake();
        drop(inner);
        wake(writer);
        Poll::Ready(Some(Lease {
            buffer: self.buffer,
            items,
            room,
        }))
    }
}

impl<T> Drop for Turn<'_, T> {
    fn drop(&mut self) {
        if self.ticket.is_none() {
            return;
        }
        let mut inner = self.buffer.lock();
        inner.leave(&mut self.ticket);
        // This writer may have been first, and woken for room it will now never take.
        let writer = inner.first_writer_to_wake();
        drop(inner);
        wake(writer);
    }
}

/// Room lent to one writer by [`Turn::poll_lease`], filled without locking and put back
/// into the buffer, in one lock, when dropped: so a panic while it is out loses nothing
/// written to it.
pub struct Lease<'a, T> {
    buffer: &'a Buffer<T>,
    items: VecDeque<T>,
    room: usize,
}

impl<T> Lease<'_, T> {
    /// Whether the lease can take another item.
    pub fn has_room(&self) -> bool {
        self.items.len() < self.room
    }

    /// Writes `item`, or hands it back when the lease has no room left: the room is the
    /// bound.
    pub fn push(&mut self, item: T) -> Result<(), T> {
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
pub struct SendItem<'a, T> {
    turn: Turn<'a, T>,
    item: Option<T>,
}

// The item is only moved out, never pinned.
impl<T> Unpin for SendItem<'_, T> {}

impl<T> Future for SendItem<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.item.is_none() {
            return Poll::Ready(());
        }
        this.turn.poll_write(cx, &mut this.item)
    }
}

#[cfg(all(test, loom))]
mod loom_models;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use futures::task::noop_waker;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Wakes {
        fn get(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn new_count_waker() -> (Waker, Arc<Wakes>) {
        let wakes = Arc::new(Wakes::default());
        (Waker::from(Arc::clone(&wakes)), wakes)
    }

    fn poll_send<T>(send: &mut SendItem<'_, T>, waker: &Waker) -> Poll<()> {
        Pin::new(send).poll(&mut Context::from_waker(waker))
    }

    fn lease(buffer: &Buffer<i32>) -> Option<Lease<'_, i32>> {
        let waker = noop_waker();
        match buffer.turn().poll_lease(&mut Context::from_waker(&waker)) {
            Poll::Ready(lease) => lease,
            Poll::Pending => panic!("no room"),
        }
    }

    /// Hands out the reader's batch and comes back for more, freeing its room.
    fn read_all(buffer: &Buffer<i32>) -> Vec<i32> {
        let mut batch = VecDeque::new();
        buffer.take_batch(&mut batch);
        let items = batch.drain(..).collect();
        buffer.take_batch(&mut batch);
        assert!(batch.is_empty(), "nothing written meanwhile");
        items
    }

    #[test]
    fn a_full_buffer_makes_writers_wait_until_the_reader_takes_one() {
        let buffer = Buffer::new(2);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        for i in 0..2 {
            assert!(poll_send(&mut buffer.send(i), &waker).is_ready());
        }
        assert_eq!(buffer.try_send(9), Err(9), "full: the item comes back");
        let mut third = buffer.send(2);
        assert!(poll_send(&mut third, &waker).is_pending());

        let mut batch = VecDeque::new();
        assert!(buffer.take_batch(&mut batch));
        assert_eq!(batch, [0, 1]);
        // The batch still counts until the reader comes back for more.
        assert!(poll_send(&mut third, &waker).is_pending());
        batch.clear();
        assert!(!buffer.take_batch(&mut batch));
        assert!(poll_send(&mut third, &waker).is_ready());
        assert_eq!(buffer.poll_batch(&mut cx, &mut batch), Poll::Ready(()));
        assert_eq!(batch, [2]);
        batch.clear();
        assert_eq!(buffer.poll_batch(&mut cx, &mut batch), Poll::Pending);
    }

    #[test]
    fn after_close_writes_return_at_once_and_are_dropped() {
        let buffer = Buffer::new(1);
        let (waker, wakes) = new_count_waker();
        assert!(poll_send(&mut buffer.send(1), &waker).is_ready());
        let mut blocked = buffer.send(2);
        assert!(poll_send(&mut blocked, &waker).is_pending());
        assert_eq!(buffer.close(), [1]);
        assert_eq!(wakes.get(), 1, "the waiting writer hears of it");
        assert!(poll_send(&mut blocked, &waker).is_ready());
        assert_eq!(buffer.try_send(3), Ok(()), "closed: dropped at once");
        let mut batch = VecDeque::new();
        assert!(!buffer.take_batch(&mut batch));
    }

    #[test]
    fn waiting_writers_take_turns_in_the_order_they_came() {
        let buffer = Buffer::new(1);
        assert_eq!(buffer.try_send(0), Ok(()));
        let (first_waker, first_wakes) = new_count_waker();
        let (second_waker, second_wakes) = new_count_waker();
        let mut first = buffer.send(1);
        let mut second = buffer.send(2);
        assert!(poll_send(&mut first, &first_waker).is_pending());
        assert!(poll_send(&mut second, &second_waker).is_pending());

        assert_eq!(read_all(&buffer), [0]);
        assert_eq!(first_wakes.get(), 1, "room for one: the first is woken");
        assert_eq!(second_wakes.get(), 0, "and only the first");
        assert_eq!(
            buffer.try_send(9),
            Err(9),
            "a newcomer does not jump the queue"
        );
        assert!(
            poll_send(&mut second, &second_waker).is_pending(),
            "nor does the second"
        );
        assert!(poll_send(&mut first, &first_waker).is_ready());

        assert_eq!(read_all(&buffer), [1]);
        assert_eq!(second_wakes.get(), 1, "now the second's turn");
        assert!(poll_send(&mut second, &second_waker).is_ready());
        assert_eq!(read_all(&buffer), [2]);
        assert_eq!(buffer.try_send(3), Ok(()), "no one waits: written at once");
    }

    #[test]
    fn a_writer_that_gives_up_its_turn_passes_it_on() {
        let buffer = Buffer::new(1);
        assert_eq!(buffer.try_send(0), Ok(()));
        let (waker, _) = new_count_waker();
        let (second_waker, second_wakes) = new_count_waker();
        let mut first = buffer.send(1);
        let mut second = buffer.send(2);
        assert!(poll_send(&mut first, &waker).is_pending());
        assert!(poll_send(&mut second, &second_waker).is_pending());
        assert_eq!(read_all(&buffer), [0]);
        assert_eq!(second_wakes.get(), 0);
        drop(first);
        assert_eq!(second_wakes.get(), 1, "woken for the room the first left");
        assert!(poll_send(&mut second, &second_waker).is_ready());
        assert_eq!(read_all(&buffer), [2]);
    }

    #[test]
    fn a_lease_taken_while_others_wait_holds_an_even_share() {
        let buffer = Buffer::new(8);
        for i in 0..8 {
            assert_eq!(buffer.try_send(i), Ok(()));
        }
        let (waker, _) = new_count_waker();
        let (sender_waker, sender_wakes) = new_count_waker();
        let mut turn = buffer.turn();
        let mut cx = Context::from_waker(&waker);
        assert!(turn.poll_lease(&mut cx).is_pending());
        let mut sender = buffer.send(100);
        assert!(poll_send(&mut sender, &sender_waker).is_pending());
        assert_eq!(read_all(&buffer), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(sender_wakes.get(), 0, "the lease is first");

        let Poll::Ready(Some(mut lease)) = turn.poll_lease(&mut cx) else {
            panic!("the first writer's turn");
        };
        for i in 10..14 {
            assert_eq!(lease.push(i), Ok(()));
        }
        assert_eq!(lease.push(14), Err(14), "half the room: one other waits");
        assert_eq!(sender_wakes.get(), 1, "the rest is the next writer's");
        assert!(poll_send(&mut sender, &sender_waker).is_ready());
        drop(lease);
        assert_eq!(read_all(&buffer), [100, 10, 11, 12, 13]);
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
        let mut turn = buffer.turn();
        assert!(turn.poll_lease(&mut cx).is_pending());
        let mut batch = VecDeque::new();
        assert!(buffer.take_batch(&mut batch));
        batch.clear();
        assert_eq!(wakes.get(), 0, "the batch still holds the room");
        assert!(!buffer.take_batch(&mut batch));
        assert_eq!(wakes.get(), 1, "woken when the reader came back for more");
        assert!(matches!(turn.poll_lease(&mut cx), Poll::Ready(Some(_))));
    }

    #[test]
    fn unused_room_is_free_again_and_waiting_writers_hear_of_it() {
        let buffer = Buffer::new(2);
        let mut lease = lease(&buffer).expect("open");
        assert_eq!(lease.push(1), Ok(()));
        let (waker, wakes) = new_count_waker();
        let mut waiting = buffer.send(2);
        assert!(poll_send(&mut waiting, &waker).is_pending());
        drop(lease);
        assert_eq!(wakes.get(), 1, "the slot the lease left unused is free");
        assert!(poll_send(&mut waiting, &waker).is_ready());
        assert_eq!(read_all(&buffer), [1, 2]);
    }

    #[test]
    fn items_written_while_a_lease_is_out_go_before_the_lease_s() {
        let buffer = Buffer::new(8);
        let mut lease = lease(&buffer).expect("open");
        assert_eq!(lease.push(1), Ok(()));
        // The lease holds all the room (no one else waited for it), so other writers
        // wait for it; only the run's own items (written past the capacity) can arrive
        // meanwhile.
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
