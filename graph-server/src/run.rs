//! A run's task and the response body that carries its events.
//!
//! The run executes in its own task, which encodes events and hands them over in batches.
//! The body, polled by the connection, sends them and the heartbeat: the heartbeat's timer
//! lives in the body, so nothing a graph does (a node that never yields, a full buffer)
//! delays it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{FutureExt as _, Stream, StreamExt as _};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::request::OnDisconnect;
use crate::served::RunItems;
use crate::wire::events::EventEncoder;
use crate::wire::sse::HEARTBEAT;

/// How often an idle stream sends a heartbeat comment, as LangGraph's server.
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);

/// Events a batch gathers before it is handed over, so that a fast run sends few large
/// writes and a slow one each event at once.
pub(crate) const BATCH_BYTES: usize = 16 * 1024;

/// What a run's first batch gathers: its first event goes out at once, not after 16 KiB of
/// later ones have been encoded.
const FIRST_BATCH_BYTES: usize = 512;

/// How much the next batch of a run gathers, and whether the run lets others go first.
pub(crate) struct Batches {
    sent: bool,
}

impl Batches {
    pub(crate) fn new() -> Self {
        Self { sent: false }
    }

    /// Whether a batch of `bytes` is handed over without waiting for more.
    pub(crate) fn full(&self, bytes: usize) -> bool {
        bytes
            >= if self.sent {
                BATCH_BYTES
            } else {
                FIRST_BATCH_BYTES
            }
    }

    /// Gives `out` room for a whole batch when a later batch gathers more than one event:
    /// one allocation, not one per doubling. The first batch and single events (a model
    /// that streams slower than the connection) get only what they need.
    pub(crate) fn make_room(&self, out: &mut BytesMut) {
        if self.sent {
            out.reserve(BATCH_BYTES.saturating_sub(out.len()));
        }
    }

    /// A batch was handed over. After the first, the run lets the worker serve others
    /// before going on: a run whose items are always ready (a fast model, a cached answer)
    /// would otherwise keep its worker until its output fills the channel, and of a hundred
    /// runs started together each would send its first token only after the runs before it
    /// had sent most of theirs. The yield also has the runtime poll the sockets (requests
    /// waiting to start) before the run resumes. Only the first: a yield after every batch
    /// costs a run's throughput, and the runtime's budget already stops a task that never
    /// waits.
    pub(crate) async fn handed_over(&mut self) {
        if !std::mem::replace(&mut self.sent, true) {
            tokio::task::yield_now().await;
        }
    }
}

/// Batches that may wait for the connection before the run waits in turn.
const BATCHES_WAITING: usize = 4;

/// Starts the run in its own task and returns the body that streams its events, beginning
/// with `first` (the `metadata` event).
pub(crate) fn stream_run(
    items: RunItems,
    encoder: EventEncoder,
    first: Bytes,
    on_disconnect: OnDisconnect,
) -> RunBody {
    let (sender, receiver) = batches();
    let task = tokio::spawn(drive(items, encoder, sender));
    let cancel = (on_disconnect == OnDisconnect::Cancel).then(|| task.abort_handle());
    RunBody::new(
        Some(first),
        receiver,
        cancel.map(|task| Box::new(move || task.abort()) as OnDrop),
    )
}

/// The channel a run's task hands its batches to the body through.
pub(crate) fn batches() -> (mpsc::Sender<Bytes>, BoxStream<'static, Bytes>) {
    let (sender, receiver) = mpsc::channel(BATCHES_WAITING);
    let receiver = futures::stream::unfold(receiver, |mut receiver| async move {
        let batch = receiver.recv().await?;
        Some((batch, receiver))
    });
    (sender, Box::pin(receiver))
}

/// What the body does when dropped (the client went away): stop the run, or nothing.
pub(crate) type OnDrop = Box<dyn FnOnce() + Send>;

/// Runs to the end, sending batches of events while someone listens. When the body is
/// gone, a run that continues keeps running without writing.
async fn drive(mut items: RunItems, mut encoder: EventEncoder, sender: mpsc::Sender<Bytes>) {
    let mut out = BytesMut::new();
    let mut batches = Batches::new();
    let mut listening = true;
    loop {
        let Some(item) = items.next().await else {
            break;
        };
        let mut ended = encode(&mut encoder, item, &mut out);
        // Whatever is ready joins the batch; the run is not waited for.
        while !ended && !batches.full(out.len()) {
            match items.next().now_or_never() {
                Some(Some(item)) => {
                    batches.make_room(&mut out);
                    ended = encode(&mut encoder, item, &mut out);
                }
                Some(None) => {
                    ended = true;
                }
                None => break,
            }
        }
        if listening && !out.is_empty() {
            listening = sender.send(take_batch(&mut out)).await.is_ok();
            if !ended {
                batches.handed_over().await;
            }
        }
        out.clear();
        if ended {
            break;
        }
    }
}

/// The batch gathered in `out`, with its buffer: `out` is left holding no memory, so a run
/// waiting for its next item (or an idle stream's whole life) keeps no batch buffer. A
/// buffer kept for reuse would hold [`BATCH_BYTES`] per open stream.
pub(crate) fn take_batch(out: &mut BytesMut) -> Bytes {
    std::mem::take(out).freeze()
}

/// Encodes one item; returns whether the run has ended (failed).
pub(crate) fn encode(
    encoder: &mut EventEncoder,
    item: Result<crate::served::RunItem, crate::served::RunFailure>,
    out: &mut BytesMut,
) -> bool {
    let failure = match item {
        Ok(item) => match encoder.item(item, out) {
            Ok(()) => return false,
            Err(error) => crate::served::RunFailure::Serialize(error),
        },
        Err(failure) => failure,
    };
    EventEncoder::error(out, &failure);
    true
}

fn heartbeat() -> Interval {
    let mut interval =
        tokio::time::interval_at(Instant::now() + HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

/// The response body of a streamed run: the run's events, and a heartbeat every 5 s
/// whether or not events flow, as LangGraph's server sends it. Its
/// drop is the client's disconnect: with `on_disconnect=cancel` it stops the run, which
/// drops the graph's stream and with it every model request.
pub(crate) struct RunBody {
    first: Option<Bytes>,
    source: BoxStream<'static, Bytes>,
    heartbeat: Interval,
    on_drop: Option<OnDrop>,
}

impl RunBody {
    /// A body sending `first`, then what `source` yields, with the heartbeat between; it
    /// ends when `source` does.
    pub(crate) fn new(
        first: Option<Bytes>,
        source: BoxStream<'static, Bytes>,
        on_drop: Option<OnDrop>,
    ) -> Self {
        Self {
            first,
            source,
            heartbeat: heartbeat(),
            on_drop,
        }
    }
}

impl Stream for RunBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        match this.source.poll_next_unpin(cx) {
            Poll::Ready(Some(batch)) => Poll::Ready(Some(Ok(batch))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.heartbeat.poll_tick(cx) {
                Poll::Ready(_) => Poll::Ready(Some(Ok(Bytes::from_static(HEARTBEAT)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl Drop for RunBody {
    fn drop(&mut self) {
        if let Some(on_drop) = self.on_drop.take() {
            on_drop();
        }
    }
}

/// Runs to the end for `/runs/wait`, returning the last state, or the failure. With
/// `on_disconnect=cancel` the run stops when the returned future is dropped.
pub(crate) async fn wait_run(
    mut items: RunItems,
    on_disconnect: OnDisconnect,
) -> Result<Result<Option<String>, crate::served::RunFailure>, tokio::task::JoinError> {
    let task = tokio::spawn(async move {
        let mut last = None;
        while let Some(item) = items.next().await {
            match item {
                Ok(crate::served::RunItem::Values(state)) => last = Some(state),
                // The state with the interrupts it stopped on.
                Ok(crate::served::RunItem::Interrupt {
                    values: Some(state),
                    ..
                }) => last = Some(state),
                Ok(_) => {}
                Err(failure) => return Err(failure),
            }
        }
        Ok(last)
    });
    let guard = AbortOnDrop((on_disconnect == OnDisconnect::Cancel).then(|| task.abort_handle()));
    let outcome = task.await;
    drop(guard);
    outcome
}

struct AbortOnDrop(Option<AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::request::Modes;
    use crate::served::RunItem;

    #[tokio::test(start_paused = true)]
    async fn a_run_that_sends_nothing_still_gets_a_heartbeat_every_five_seconds() {
        // A graph that never yields anything: only the body's own timer can speak.
        let items: RunItems = Box::pin(futures::stream::pending());
        let first = Bytes::from_static(b"event: metadata\r\ndata: {}\r\n\r\n");
        let mut body = stream_run(
            items,
            EventEncoder::new(Modes::values()),
            first.clone(),
            OnDisconnect::Cancel,
        );
        let start = Instant::now();
        assert_eq!(body.next().await.unwrap().unwrap(), first);
        for beat in 1..=3 {
            // On the paused clock a missing heartbeat makes the timeout fire at once.
            let next = tokio::time::timeout(HEARTBEAT_INTERVAL * 2, body.next()).await;
            let next = next.expect("no heartbeat within twice its interval");
            assert_eq!(&next.unwrap().unwrap()[..], HEARTBEAT);
            assert_eq!(Instant::now() - start, HEARTBEAT_INTERVAL * beat);
        }
    }

    /// Items of `bytes` each, always ready, `count` of them; each noted in `pulled` with
    /// `name` when the run takes it.
    fn ready_items(
        name: &'static str,
        count: usize,
        bytes: usize,
        pulled: &Arc<Mutex<Vec<(&'static str, usize)>>>,
    ) -> RunItems {
        let pulled = Arc::clone(pulled);
        Box::pin(futures::stream::iter(0..count).map(move |at| {
            pulled.lock().unwrap().push((name, at));
            Ok(RunItem::Values("x".repeat(bytes)))
        }))
    }

    #[tokio::test]
    async fn a_run_whose_items_are_always_ready_lets_others_start_after_its_first_batch() {
        let pulled = Arc::new(Mutex::new(Vec::new()));
        let run = |name| {
            // Nobody reads the bodies: only the channel's room stops a run.
            stream_run(
                ready_items(name, 10, BATCH_BYTES, &pulled),
                EventEncoder::new(Modes::values()),
                Bytes::new(),
                OnDisconnect::Continue,
            )
        };
        let (_first, _second) = (run("first"), run("second"));
        // Both runs go as far as the channels' room lets them.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        let pulled = pulled.lock().unwrap();
        let at = |item| pulled.iter().position(|pulled| *pulled == item).unwrap();
        assert!(
            at(("second", 0)) < at(("first", 1)),
            "the second run started only after the first run's later batches: {pulled:?}"
        );
    }

    #[test]
    fn a_handed_over_batch_leaves_no_buffer_behind() {
        let mut out = BytesMut::with_capacity(BATCH_BYTES);
        out.extend_from_slice(b"event: values\r\ndata: {}\r\n\r\n");
        let batch = take_batch(&mut out);
        assert_eq!(&batch[..], b"event: values\r\ndata: {}\r\n\r\n");
        assert_eq!(out.capacity(), 0, "an idle run would hold this buffer");
    }

    #[tokio::test]
    async fn the_first_event_of_a_run_goes_out_alone() {
        let pulled = Arc::new(Mutex::new(Vec::new()));
        let mut body = stream_run(
            ready_items("run", 50, FIRST_BATCH_BYTES + 1, &pulled),
            EventEncoder::new(Modes::values()),
            Bytes::from_static(b"metadata"),
            OnDisconnect::Continue,
        );
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"metadata");
        let first = body.next().await.unwrap().unwrap();
        let events = first.windows(7).filter(|at| *at == b"event: ").count();
        assert_eq!(events, 1, "the first batch waited for later events");
        let second = body.next().await.unwrap().unwrap();
        let events = second.windows(7).filter(|at| *at == b"event: ").count();
        assert!(events > 1, "later batches gather what is ready");
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_body_of_a_run_that_cancels_drops_the_run() {
        let (dropped, check) = tokio::sync::oneshot::channel::<()>();
        // The run holds `dropped` until it is dropped itself.
        let items: RunItems = Box::pin(futures::stream::pending().map(move |item| {
            let _keep = &dropped;
            item
        }));
        let body = stream_run(
            items,
            EventEncoder::new(Modes::values()),
            Bytes::new(),
            OnDisconnect::Cancel,
        );
        drop(body);
        // On the paused clock a run left alive makes the timeout fire at once.
        let outcome = tokio::time::timeout(Duration::from_secs(60), check).await;
        assert!(
            matches!(outcome, Ok(Err(_))),
            "the run's items were not dropped"
        );
    }
}
