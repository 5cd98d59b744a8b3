//! Forwards a model call's chunks into the run's stream as the model hands them over.
//!
//! A model often has several chunks ready at once (an HTTP read holds dozens of SSE
//! events). Written one at a time, each would lock the run's buffer; here every chunk the
//! model has ready goes into one `Lease` of the buffer's room,
//! which is put back in one lock before the call waits on the model or for room, so the
//! buffer's bound still holds. The call waits its turn among writers like any other: with
//! others waiting, its lease is an even share of the room, so a node writing as fast as it
//! can does not hold the model's answer back.
//!
//! A chunk in the lease is visible once the lease is put back, at the latest when the
//! model has no chunk ready. On the stream's own task (a node's call) nothing could read
//! it sooner anyway: the reader is the one polling. A call in work spawned onto another
//! thread hides its chunks for as long as the model's `poll_next` takes to hand over the
//! next one: immaterial for a model that waits on I/O, as it should, rather than
//! computing inside `poll_next`.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::StreamExt;
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::chat::{ChatChunk, ChatChunkStream, MessageBuilder};
use crate::error::ChatCallError;
use crate::graph::traits::GraphDef;
use crate::run::shared::RunShared;
use crate::stream::items::MessageChunk;
use crate::stream::metadata::MessageMetadata;
use crate::stream::record::Event;

/// A model call's watch on the end of its run.
///
/// Polled only when the model has nothing ready, before the call waits on it: a call never
/// waits on a model for a run that is gone, and the watch costs nothing per chunk. It is
/// registered with the run once, on the first wait, and stays registered (a waiter that
/// is dropped after each poll would miss the end).
#[derive(Default)]
pub(crate) struct RunEndWatch {
    waiting: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
}

impl RunEndWatch {
    /// `Ready` once the run has ended; otherwise the task is woken when it does.
    pub(crate) fn poll<G: GraphDef>(
        &mut self,
        run: &RunShared<G>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if run.ended.is_cancelled() {
            return Poll::Ready(());
        }
        self.waiting
            .get_or_insert_with(|| Box::pin(run.ended.clone().cancelled_owned()))
            .as_mut()
            .poll(cx)
    }

    /// The model's next chunk, its error, or its end; when the model has nothing ready,
    /// `RunEnded` if the run has ended, else `Pending` (woken by the model or the end).
    pub(crate) fn poll_chunk<G: GraphDef, E>(
        &mut self,
        run: &RunShared<G>,
        chunks: &mut ChatChunkStream<E>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<ChatChunk, ChatCallError<E>>>> {
        match chunks.poll_next_unpin(cx) {
            Poll::Ready(item) => Poll::Ready(item.map(|item| item.map_err(ChatCallError::Model))),
            Poll::Pending => {
                ready!(self.poll(run, cx));
                Poll::Ready(Some(Err(ChatCallError::RunEnded)))
            }
        }
    }
}

/// Reads `chunks` to the end, assembling them into `message` and writing each, labelled
/// with `metadata`, to the run's stream. The next chunk is read from the model only while
/// the stream has room for it (or for the one chunk read ahead, held until there is).
///
/// # Errors
/// The model's error, after every chunk before it has been written; `RunEnded` as soon as
/// the run has ended (the caller then drops the model's stream, closing its connection).
pub(crate) async fn forward_chunks<G: GraphDef, E>(
    run: &RunShared<G>,
    chunks: &mut ChatChunkStream<E>,
    metadata: &Arc<MessageMetadata<G::Tag>>,
    message: &mut MessageBuilder,
) -> Result<(), ChatCallError<E>> {
    let mut held: Option<Event<G>> = None;
    let mut end = RunEndWatch::default();
    // Its place among writers waiting for room, kept across polls: dropped with the call.
    let mut turn = run.record.buffer().turn();
    let mut labelled = |chunk: ChatChunk| {
        message.push(&chunk);
        Event::Message(MessageChunk::new(chunk, Arc::clone(metadata)))
    };
    poll_fn(move |cx| {
        loop {
            let event = match held.take() {
                Some(event) => event,
                None => match ready!(end.poll_chunk(run, chunks, cx)) {
                    Some(Ok(chunk)) => labelled(chunk),
                    Some(Err(error)) => return Poll::Ready(Err(error)),
                    None => return Poll::Ready(Ok(())),
                },
            };
            let Poll::Ready(lease) = turn.poll_lease(cx) else {
                // Full, or other writers are first: the chunk waits here, and the model is
                // not read further.
                held = Some(event);
                return Poll::Pending;
            };
            // `None`: the run is gone, and the chunk with it. Only work that outlives the
            // run gets here (a node's own call is dropped with it): it stops reading.
            let Some(mut lease) = lease else {
                return Poll::Ready(Err(ChatCallError::RunEnded));
            };
            if let Err(event) = lease.push(event) {
                held = Some(event);
                continue;
            }
            // Returning from here, in any way (waiting on the model included), puts the
            // lease back with what it holds, which then becomes visible.
            while lease.has_room() {
                match ready!(end.poll_chunk(run, chunks, cx)) {
                    Some(Ok(chunk)) => {
                        if let Err(event) = lease.push(labelled(chunk)) {
                            // Cannot happen while the lease has room; kept, not lost.
                            held = Some(event);
                            break;
                        }
                    }
                    Some(Err(error)) => return Poll::Ready(Err(error)),
                    None => return Poll::Ready(Ok(())),
                }
            }
        }
    })
    .await
}

/// Reads `chunks` to the end into `message`, for a call no one streams; it stops as soon
/// as the run has ended.
///
/// # Errors
/// The model's error, or `RunEnded`.
pub(crate) async fn read_chunks<G: GraphDef, E>(
    run: &RunShared<G>,
    chunks: &mut ChatChunkStream<E>,
    message: &mut MessageBuilder,
) -> Result<(), ChatCallError<E>> {
    let mut end = RunEndWatch::default();
    while let Some(chunk) = poll_fn(|cx| end.poll_chunk(run, chunks, cx)).await {
        message.push(&chunk?);
    }
    Ok(())
}
