//! The run buffer against tokio's bounded `mpsc`, in the same run: 100,000 items of 40
//! bytes (a `ChatChunk`'s size) through a buffer of 8 (the default), in the two shapes
//! a graph uses.
//!
//! - Same task: the reader polls the writer inside its own poll, when it finds nothing
//!   waiting, as the stream polls a step's nodes.
//! - Another thread: the writer is a task on a worker of a two-worker runtime, as work a
//!   node spawns; the reader waits on the bench thread.
//!
//! Each shape writes one item at a time (`ctx.write`; `Sender::send`) and in batches
//! (a model call's lease of the room; `Sender::reserve_many`); the reader takes everything
//! waiting at once (`take_batch`; `Receiver::recv_many`).

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Poll, ready};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stategraph_core::buffer::Buffer;
use tokio::sync::mpsc;

const ITEMS: usize = 100_000;
const CAPACITY: usize = 8;

/// 40 bytes, as a `ChatChunk`.
type Item = [u64; 5];

fn item(i: usize) -> Item {
    [i as u64, 1, 2, 3, 4]
}

/// Writes the items one at a time, as `ctx.write` does.
async fn write_ours(buffer: &Buffer<Item>) {
    for i in 0..ITEMS {
        if let Err(item) = buffer.try_send(item(i)) {
            buffer.send(item).await;
        }
    }
}

/// Writes the items through leases of the room, as a model call with every chunk ready.
async fn lease_ours(buffer: &Buffer<Item>) {
    let mut turn = buffer.turn();
    let mut i = 0;
    while i < ITEMS {
        let Some(mut lease) = poll_fn(|cx| turn.poll_lease(cx)).await else {
            return;
        };
        while i < ITEMS && lease.push(item(i)).is_ok() {
            i += 1;
        }
    }
}

async fn write_mpsc(sender: mpsc::Sender<Item>) {
    for i in 0..ITEMS {
        if sender.send(item(i)).await.is_err() {
            return;
        }
    }
}

/// Reserves as much room as the channel has (all of it, once the reader has taken what
/// waits), and fills it.
async fn reserve_many_mpsc(sender: mpsc::Sender<Item>) {
    let mut i = 0;
    while i < ITEMS {
        let Ok(permits) = sender.reserve_many(CAPACITY.min(ITEMS - i)).await else {
            return;
        };
        for permit in permits {
            permit.send(item(i));
            i += 1;
        }
    }
}

/// Reads every item from our buffer, polling `writer` whenever nothing waits; returns
/// a sum so that nothing is optimised away.
async fn read_ours(buffer: &Buffer<Item>, writer: impl Future<Output = ()>) -> u64 {
    let mut writer = pin!(writer);
    let mut writing = true;
    let mut batch: VecDeque<Item> = VecDeque::new();
    let (mut read, mut sum) = (0, 0);
    poll_fn(|cx| {
        loop {
            if let Some(item) = batch.pop_front() {
                read += 1;
                sum += item[0];
                continue;
            }
            if read == ITEMS {
                return Poll::Ready(sum);
            }
            if buffer.take_batch(&mut batch) {
                continue;
            }
            if writing && writer.as_mut().poll(cx).is_ready() {
                writing = false;
            }
            ready!(buffer.poll_batch(cx, &mut batch));
        }
    })
    .await
}

/// Reads every item from the channel, polling `writer` whenever nothing waits.
async fn read_mpsc(mut receiver: mpsc::Receiver<Item>, writer: impl Future<Output = ()>) -> u64 {
    let mut writer = pin!(writer);
    let mut writing = true;
    let mut batch: Vec<Item> = Vec::with_capacity(CAPACITY);
    let (mut read, mut sum) = (0, 0);
    poll_fn(|cx| {
        loop {
            for item in batch.drain(..) {
                read += 1;
                sum += item[0];
            }
            if read == ITEMS {
                return Poll::Ready(sum);
            }
            if let Poll::Ready(0) = receiver.poll_recv_many(cx, &mut batch, CAPACITY) {
                return Poll::Ready(sum);
            }
            if !batch.is_empty() {
                continue;
            }
            if writing && writer.as_mut().poll(cx).is_ready() {
                writing = false;
            }
            ready!(receiver.poll_recv_many(cx, &mut batch, CAPACITY));
        }
    })
    .await
}

fn same_task(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let mut group = c.benchmark_group("buffer_same_task_100k");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(20);
    group.bench_function("mpsc_send", |b| {
        b.to_async(&runtime).iter(|| async {
            let (sender, receiver) = mpsc::channel(CAPACITY);
            read_mpsc(receiver, write_mpsc(sender)).await
        });
    });
    group.bench_function("mpsc_reserve_many", |b| {
        b.to_async(&runtime).iter(|| async {
            let (sender, receiver) = mpsc::channel(CAPACITY);
            read_mpsc(receiver, reserve_many_mpsc(sender)).await
        });
    });
    group.bench_function("ours_write", |b| {
        b.to_async(&runtime).iter(|| async {
            let buffer = Buffer::new(CAPACITY);
            read_ours(&buffer, write_ours(&buffer)).await
        });
    });
    group.bench_function("ours_lease", |b| {
        b.to_async(&runtime).iter(|| async {
            let buffer = Buffer::new(CAPACITY);
            read_ours(&buffer, lease_ours(&buffer)).await
        });
    });
    group.finish();
}

fn other_thread(c: &mut Criterion) {
    let runtime = stategraph_benches::two_worker_runtime();
    let mut group = c.benchmark_group("buffer_other_thread_100k");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(20);
    group.bench_function("mpsc_send", |b| {
        b.to_async(&runtime).iter(|| async {
            let (sender, receiver) = mpsc::channel(CAPACITY);
            let writer = tokio::spawn(write_mpsc(sender));
            let sum = read_mpsc(receiver, std::future::pending()).await;
            writer.await.expect("the writer finishes");
            sum
        });
    });
    group.bench_function("mpsc_reserve_many", |b| {
        b.to_async(&runtime).iter(|| async {
            let (sender, receiver) = mpsc::channel(CAPACITY);
            let writer = tokio::spawn(reserve_many_mpsc(sender));
            let sum = read_mpsc(receiver, std::future::pending()).await;
            writer.await.expect("the writer finishes");
            sum
        });
    });
    group.bench_function("ours_write", |b| {
        b.to_async(&runtime).iter(|| async {
            let buffer = Arc::new(Buffer::new(CAPACITY));
            let shared = Arc::clone(&buffer);
            let writer = tokio::spawn(async move { write_ours(&shared).await });
            let sum = read_ours(&buffer, std::future::pending()).await;
            writer.await.expect("the writer finishes");
            sum
        });
    });
    group.bench_function("ours_lease", |b| {
        b.to_async(&runtime).iter(|| async {
            let buffer = Arc::new(Buffer::new(CAPACITY));
            let shared = Arc::clone(&buffer);
            let writer = tokio::spawn(async move { lease_ours(&shared).await });
            let sum = read_ours(&buffer, std::future::pending()).await;
            writer.await.expect("the writer finishes");
            sum
        });
    });
    group.finish();
}

criterion_group!(benches, same_task, other_thread);
criterion_main!(benches);
