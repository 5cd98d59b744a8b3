//! The events of each stored run, kept so that a client can join a run mid-way or after it
//! ended, and reconnect with `Last-Event-ID` to get only what it missed.
//!
//! Behind a trait so that another process's log (Redis streams, as LangGraph's server) can
//! stand in for the memory one: any replica could then serve a join.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::stream::BoxStream;
use tokio::sync::watch;
use uuid::Uuid;

/// An event's id as LangGraph's server writes it, `<unix ms>-<seq>`: ordered by time, then
/// by the sequence within one millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EventId {
    pub(crate) millis: u64,
    pub(crate) seq: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.seq)
    }
}

impl FromStr for EventId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` is not an event id (`<ms>-<seq>`, or `-1` for all)");
        let (millis, seq) = text.split_once('-').ok_or_else(bad)?;
        Ok(Self {
            millis: millis.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// Where a join starts reading a run's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum From {
    /// Every event kept (`Last-Event-ID: -1`).
    Start,
    /// The events after this one.
    After(EventId),
    /// Only events appended from now on (no `Last-Event-ID`).
    Live,
}

/// One stored event: its id and its SSE frames, without the `id:` line.
pub(crate) type LoggedEvent = (EventId, Bytes);

/// A log of each run's events.
///
/// Appending never waits: a run does not slow down for its readers. Each run's log is
/// bounded; when it is full the oldest events go, and a reader that far behind resumes at
/// the oldest kept.
pub(crate) trait EventLog: Send + Sync + 'static {
    /// Starts the log of `run_id` (before its first event, so a join that comes first
    /// waits for it).
    fn open(&self, run_id: Uuid);

    /// Appends one event's frames; returns its id.
    fn append(&self, run_id: Uuid, frames: Bytes) -> EventId;

    /// Marks the run's log ended: readers get what is left and stop.
    fn end(&self, run_id: Uuid);

    /// Forgets the run's events (after its log has been kept long enough).
    fn remove(&self, run_id: Uuid);

    /// The run's events from `from` on, live until the log ends; `None` when the log has no
    /// such run (never opened, or removed).
    fn read(&self, run_id: Uuid, from: From) -> Option<BoxStream<'static, LoggedEvent>>;
}

/// The default most bytes of events kept per run.
pub(crate) const RUN_LOG_BYTES: usize = 8 * 1024 * 1024;

/// The events in this process's memory.
pub(crate) struct MemoryEventLog {
    runs: Mutex<HashMap<Uuid, Arc<RunLog>>>,
    max_bytes: usize,
}

struct RunLog {
    events: Mutex<Events>,
    /// Bumped after each append and at the end, so a reader waits without polling.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct Events {
    kept: VecDeque<LoggedEvent>,
    bytes: usize,
    last: Option<EventId>,
    ended: bool,
}

impl MemoryEventLog {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            runs: Mutex::new(HashMap::new()),
            max_bytes,
        }
    }

    fn run(&self, run_id: Uuid) -> Option<Arc<RunLog>> {
        // Nothing is left half-changed while the lock is held: a poisoned map is whole.
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.get(&run_id).cloned()
    }
}

impl RunLog {
    fn events(&self) -> std::sync::MutexGuard<'_, Events> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

impl EventLog for MemoryEventLog {
    fn open(&self, run_id: Uuid) {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.entry(run_id).or_insert_with(|| {
            Arc::new(RunLog {
                events: Mutex::new(Events::default()),
                changed: watch::Sender::new(0),
            })
        });
    }

    fn append(&self, run_id: Uuid, frames: Bytes) -> EventId {
        let now = now_millis();
        let Some(log) = self.run(run_id) else {
            // A run whose log is gone still numbers its events.
            return EventId {
                millis: now,
                seq: 0,
            };
        };
        let id = {
            let mut events = log.events();
            // Ids only grow, even if the clock steps back.
            let id = match events.last {
                Some(last) if last.millis >= now => EventId {
                    millis: last.millis,
                    seq: last.seq + 1,
                },
                _ => EventId {
                    millis: now,
                    seq: 0,
                },
            };
            events.last = Some(id);
            events.bytes += frames.len();
            events.kept.push_back((id, frames));
            while events.bytes > self.max_bytes && events.kept.len() > 1 {
                if let Some((_, old)) = events.kept.pop_front() {
                    events.bytes -= old.len();
                }
            }
            id
        };
        log.changed.send_modify(|version| *version += 1);
        id
    }

    fn end(&self, run_id: Uuid) {
        if let Some(log) = self.run(run_id) {
            log.events().ended = true;
            log.changed.send_modify(|version| *version += 1);
        }
    }

    fn remove(&self, run_id: Uuid) {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.remove(&run_id);
    }

    fn read(&self, run_id: Uuid, from: From) -> Option<BoxStream<'static, LoggedEvent>> {
        let log = self.run(run_id)?;
        let changed = log.changed.subscribe();
        let after = match from {
            From::Start => None,
            From::After(id) => Some(id),
            From::Live => log.events().last,
        };
        let reader = Reader {
            log,
            after,
            ready: VecDeque::new(),
            changed,
        };
        Some(Box::pin(futures::stream::unfold(
            reader,
            |mut reader| async move {
                loop {
                    if let Some(event) = reader.ready.pop_front() {
                        reader.after = Some(event.0);
                        return Some((event, reader));
                    }
                    // Marked seen before reading, so an append after the read wakes us.
                    reader.changed.borrow_and_update();
                    let ended = reader.take_new();
                    if !reader.ready.is_empty() {
                        continue;
                    }
                    if ended || reader.changed.changed().await.is_err() {
                        return None;
                    }
                }
            },
        )))
    }
}

/// A join's place in one run's log.
struct Reader {
    log: Arc<RunLog>,
    after: Option<EventId>,
    ready: VecDeque<LoggedEvent>,
    changed: watch::Receiver<u64>,
}

impl Reader {
    /// Moves the events after `after` to `ready`; returns whether the log has ended.
    fn take_new(&mut self) -> bool {
        let events = self.log.events();
        let after = self.after;
        self.ready.extend(
            events
                .kept
                .iter()
                .filter(|(id, _)| after.is_none_or(|after| *id > after))
                .cloned(),
        );
        events.ended
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;

    use super::*;

    fn texts(events: &[LoggedEvent]) -> Vec<&[u8]> {
        events.iter().map(|(_, frames)| &frames[..]).collect()
    }

    #[test]
    fn ids_read_back_and_order_by_time_then_sequence() {
        let id: EventId = "1764577200391-2".parse().unwrap();
        assert_eq!(id.to_string(), "1764577200391-2");
        assert!(id < "1764577200391-10".parse().unwrap());
        assert!(id < "1764577200392-0".parse().unwrap());
        assert!("12".parse::<EventId>().is_err());
    }

    #[tokio::test]
    async fn a_reader_gets_what_is_kept_after_its_id_then_live_events_until_the_end() {
        let log = Arc::new(MemoryEventLog::new(1024));
        let run = Uuid::new_v4();
        log.open(run);
        let first = log.append(run, Bytes::from_static(b"a"));
        log.append(run, Bytes::from_static(b"b"));
        let all = log.read(run, From::Start).unwrap();
        let later = log.read(run, From::After(first)).unwrap();
        let live = log.read(run, From::Live).unwrap();
        log.append(run, Bytes::from_static(b"c"));
        log.end(run);
        let all: Vec<_> = all.collect().await;
        assert_eq!(texts(&all), [b"a", b"b", b"c"]);
        assert!(all.windows(2).all(|pair| pair[0].0 < pair[1].0), "ids grow");
        let later: Vec<_> = later.collect().await;
        assert_eq!(texts(&later), [b"b", b"c"]);
        let live: Vec<_> = live.collect().await;
        assert_eq!(texts(&live), [b"c"]);
        log.remove(run);
        assert!(log.read(run, From::Start).is_none());
    }

    #[tokio::test]
    async fn a_full_log_drops_its_oldest_events() {
        let log = MemoryEventLog::new(4);
        let run = Uuid::new_v4();
        log.open(run);
        for text in [&b"ab"[..], b"cd", b"ef"] {
            log.append(run, Bytes::copy_from_slice(text));
        }
        log.end(run);
        let kept: Vec<_> = log.read(run, From::Start).unwrap().collect().await;
        assert_eq!(texts(&kept), [b"cd", b"ef"]);
    }
}
