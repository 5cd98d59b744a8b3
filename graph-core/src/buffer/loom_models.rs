//! The buffer under loom: every interleaving of its writers, reader and closer (up to a
//! few preemptions) keeps the bound and each writer's order, and loses no wake. A lost
//! wake shows as a deadlock: every thread blocked in `block_on`, which loom reports.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p stategraph-core --lib loom --release`, with a
//! target directory of its own (the flag rebuilds every dependency).

use std::collections::VecDeque;
use std::future::poll_fn;

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use super::Buffer;

/// An item: which writer wrote it, and its place in that writer's sequence.
type Item = (usize, usize);

const CAPACITY: usize = 2;

fn explore(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // Enough to reach every ordering of the few operations each model makes; more only
    // multiplies interleavings that repeat the same states.
    builder.preemption_bound = Some(2);
    builder.check(model);
}

/// Writes `count` items as a node does: `try_send`, then `send` when full or not first.
fn write(buffer: &Buffer<Item>, writer: usize, count: usize, accepted: &AtomicUsize) {
    block_on(async {
        for at in 0..count {
            if let Err(item) = buffer.try_send((writer, at)) {
                buffer.send(item).await;
            }
            accepted.fetch_add(1, Ordering::SeqCst);
        }
    });
}

/// Writes `count` items as a model call's forwarder does: through leases.
fn write_leased(buffer: &Buffer<Item>, writer: usize, count: usize, accepted: &AtomicUsize) {
    block_on(async {
        let mut turn = buffer.turn();
        let mut at = 0;
        while at < count {
            let Some(mut lease) = poll_fn(|cx| turn.poll_lease(cx)).await else {
                return;
            };
            let mut pushed = 0;
            while at < count && lease.push((writer, at)).is_ok() {
                at += 1;
                pushed += 1;
            }
            drop(lease);
            accepted.fetch_add(pushed, Ordering::SeqCst);
        }
    });
}

/// Reads `count` items as the stream does, checking after each that no writer has more
/// than the capacity written and not yet handed out.
fn read(buffer: &Buffer<Item>, count: usize, accepted: &AtomicUsize) -> Vec<Item> {
    let mut batch = VecDeque::new();
    let mut read = Vec::new();
    while read.len() < count {
        block_on(poll_fn(|cx| buffer.poll_batch(cx, &mut batch)));
        while let Some(item) = batch.pop_front() {
            read.push(item);
            // A writer counts an item after the write returns, so possibly after it is read.
            let ahead = accepted.load(Ordering::SeqCst).saturating_sub(read.len());
            assert!(
                ahead <= CAPACITY,
                "{ahead} items written ahead of the reader"
            );
        }
    }
    read
}

/// Each writer's items, in the order read.
fn of_writer(read: &[Item], writer: usize) -> Vec<usize> {
    read.iter()
        .filter(|(w, _)| *w == writer)
        .map(|(_, at)| *at)
        .collect()
}

#[test]
fn loom_two_writers_and_the_reader_keep_the_bound_and_each_writer_s_order() {
    explore(|| {
        let buffer = Arc::new(Buffer::new(CAPACITY));
        let accepted = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let (buffer, accepted) = (Arc::clone(&buffer), Arc::clone(&accepted));
                thread::spawn(move || write(&buffer, writer, 2, &accepted))
            })
            .collect();
        let read = read(&buffer, 4, &accepted);
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(of_writer(&read, 0), [0, 1]);
        assert_eq!(of_writer(&read, 1), [0, 1]);
    });
}

#[test]
fn loom_a_lease_and_a_writer_share_the_room_without_losing_a_wake() {
    explore(|| {
        let buffer = Arc::new(Buffer::new(CAPACITY));
        let accepted = Arc::new(AtomicUsize::new(0));
        let leased = {
            let (buffer, accepted) = (Arc::clone(&buffer), Arc::clone(&accepted));
            thread::spawn(move || write_leased(&buffer, 0, 2, &accepted))
        };
        let sent = {
            let (buffer, accepted) = (Arc::clone(&buffer), Arc::clone(&accepted));
            thread::spawn(move || write(&buffer, 1, 2, &accepted))
        };
        let read = read(&buffer, 4, &accepted);
        leased.join().unwrap();
        sent.join().unwrap();
        assert_eq!(of_writer(&read, 0), [0, 1]);
        assert_eq!(of_writer(&read, 1), [0, 1]);
    });
}

#[test]
fn loom_closing_wakes_every_waiting_writer() {
    explore(|| {
        let buffer = Arc::new(Buffer::new(1));
        let accepted = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let (buffer, accepted) = (Arc::clone(&buffer), Arc::clone(&accepted));
                thread::spawn(move || write(&buffer, writer, 2, &accepted))
            })
            .collect();
        let mut batch = VecDeque::new();
        block_on(poll_fn(|cx| buffer.poll_batch(cx, &mut batch)));
        // The reader goes away with writers still waiting: each must return, not hang.
        drop(buffer.close());
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn loom_a_lease_out_when_its_writer_panics_is_put_back_with_its_items() {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |panic| {
        if !panic.payload().is::<Unwind>() {
            quiet(panic);
        }
    }));
    explore(|| {
        let buffer = Arc::new(Buffer::new(CAPACITY));
        let accepted = Arc::new(AtomicUsize::new(0));
        let panicking = {
            let (buffer, accepted) = (Arc::clone(&buffer), Arc::clone(&accepted));
            thread::spawn(move || {
                let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    block_on(async {
                        let mut turn = buffer.turn();
                        let mut lease = poll_fn(|cx| turn.poll_lease(cx)).await.expect("open");
                        lease.push((0, 0)).expect("room");
                        accepted.fetch_add(1, Ordering::SeqCst);
                        std::panic::panic_any(Unwind);
                    })
                }));
                assert!(unwound.is_err());
            })
        };
        let sent = {
            let (buffer, accepted) = (Arc::clone(&buffer), Arc::clone(&accepted));
            thread::spawn(move || write(&buffer, 1, 2, &accepted))
        };
        // The lease's item arrives, and its room comes back for the other writer.
        let read = read(&buffer, 3, &accepted);
        panicking.join().unwrap();
        sent.join().unwrap();
        assert_eq!(of_writer(&read, 0), [0]);
        assert_eq!(of_writer(&read, 1), [0, 1]);
    });
}

/// The payload of the test's own panic, which its panic hook keeps quiet about.
struct Unwind;
