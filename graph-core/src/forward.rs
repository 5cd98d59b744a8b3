//! Forwards a model call's chunks into the run's stream as the model hands them over.
//!
//! A model often has several chunks ready at once (an HTTP read holds dozens of SSE
//! events). Written one at a time, each would lock the run's buffer; here every chunk the
//! model has ready goes into one [`Lease`](crate::buffer::Lease) of the buffer's room,
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

use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Poll, ready};

use futures::StreamExt;

use crate::context::RunShared;
use crate::mode::Event;
use crate::{ChatChunk, ChatChunkStream, GraphDef, MessageBuilder, MessageChunk, MessageMetadata};

/// Reads `chunks` to the end, assembling them into `message` and writing each, labelled
/// with `metadata`, to the run's stream. The next chunk is read from the model only while
/// the stream has room for it (or for the one chunk read ahead, held until there is).
///
/// # Errors
/// The model's error, after every chunk before it has been written.
pub(crate) async fn forward_chunks<G: GraphDef, E>(
    run: &RunShared<G>,
    chunks: &mut ChatChunkStream<E>,
    metadata: &Arc<MessageMetadata<G::Tag>>,
    message: &mut MessageBuilder,
) -> Result<(), E> {
    let mut held: Option<Event<G>> = None;
    // Its place among writers waiting for room, kept across polls: dropped with the call.
    let mut turn = run.buffer.turn();
    let mut labelled = |chunk: ChatChunk| {
        message.push(&chunk);
        Event::Message(MessageChunk::new(chunk, Arc::clone(metadata)))
    };
    poll_fn(move |cx| {
        loop {
            let event = match held.take() {
                Some(event) => event,
                None => match ready!(chunks.poll_next_unpin(cx)) {
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
            // `None`: the stream is gone, and the chunk with it; the call still runs to
            // the end, as the node awaits its answer.
            let Some(mut lease) = lease else { continue };
            if let Err(event) = lease.push(event) {
                held = Some(event);
                continue;
            }
            // Returning from here, in any way, puts the lease back with what it holds.
            while lease.has_room() {
                match ready!(chunks.poll_next_unpin(cx)) {
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
