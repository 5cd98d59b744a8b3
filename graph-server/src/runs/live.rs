//! The runs this process is running or holds in a thread's queue: which run holds each
//! thread, what a second run on a busy thread does (its multitask strategy), and how a run
//! is told to stop and its end awaited.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde_json::Value;
use stategraph_core::checkpoint::RunStatus;
use tokio::sync::watch;
use uuid::Uuid;

use crate::request::{CancelAction, MultitaskStrategy};

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: RunStatus,
    /// The last state it streamed (values, or the state with its interrupts), as JSON.
    pub(crate) last_values: Option<String>,
    /// `{"error", "message"}` when it failed.
    pub(crate) error: Option<Value>,
}

/// One run of this process, from its acceptance to its end.
pub(crate) struct LiveRun {
    pub(crate) run_id: Uuid,
    pub(crate) thread_id: String,
    stop: watch::Sender<Option<CancelAction>>,
    done: watch::Sender<Option<Arc<Outcome>>>,
}

impl LiveRun {
    pub(crate) fn new(run_id: Uuid, thread_id: String) -> Arc<Self> {
        Arc::new(Self {
            run_id,
            thread_id,
            stop: watch::Sender::new(None),
            done: watch::Sender::new(None),
        })
    }

    /// Asks the run to stop; the first action asked wins.
    pub(crate) fn stop(&self, action: CancelAction) {
        self.stop.send_if_modified(|asked| {
            let first = asked.is_none();
            if first {
                *asked = Some(action);
            }
            first
        });
    }

    /// What the run's task watches to know it must stop.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<Option<CancelAction>> {
        self.stop.subscribe()
    }

    /// The stop asked, if any.
    pub(crate) fn stopped(&self) -> Option<CancelAction> {
        *self.stop.borrow()
    }

    /// Waits for the run's end.
    pub(crate) async fn ended(&self) -> Arc<Outcome> {
        let mut done = self.done.subscribe();
        loop {
            if let Some(outcome) = done.borrow_and_update().clone() {
                return outcome;
            }
            // The sender lives in `self`, so it outlives this wait.
            if done.changed().await.is_err() {
                return Arc::new(Outcome {
                    status: RunStatus::Error,
                    last_values: None,
                    error: None,
                });
            }
        }
    }
}

/// What starts a queued run once its thread is free.
pub(crate) type Starter = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// What the thread's state lets a new run do.
pub(crate) enum Claim {
    /// The thread is free (here): start now.
    Start,
    /// Another run holds it and the strategy is `reject`.
    Busy,
    /// Stop this run (`interrupt` or `rollback`) and wait for its end, then start.
    After(Arc<LiveRun>, CancelAction),
    /// Queued behind the thread's runs (`enqueue`): the starter runs when they have ended.
    Queued,
}

#[derive(Default)]
struct ThreadRuns {
    active: Option<Arc<LiveRun>>,
    queue: VecDeque<(Arc<LiveRun>, Starter)>,
}

/// Every live run of this process, by run and by thread.
#[derive(Default)]
pub(crate) struct LiveRuns {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    runs: HashMap<Uuid, Arc<LiveRun>>,
    threads: HashMap<String, ThreadRuns>,
}

impl LiveRuns {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every change below is made whole under the lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live run `run_id`, if this process runs or queues it.
    pub(crate) fn get(&self, run_id: Uuid) -> Option<Arc<LiveRun>> {
        self.inner().runs.get(&run_id).cloned()
    }

    /// Registers `run` on its thread as `strategy` says. `starter` is kept only when the
    /// run is queued.
    pub(crate) fn claim(
        &self,
        run: &Arc<LiveRun>,
        strategy: MultitaskStrategy,
        starter: impl FnOnce() -> Starter,
    ) -> Claim {
        let mut inner = self.inner();
        let thread = inner.threads.entry(run.thread_id.clone()).or_default();
        let claim = match (&thread.active, strategy) {
            (None, _) => {
                thread.active = Some(Arc::clone(run));
                Claim::Start
            }
            (Some(_), MultitaskStrategy::Reject) => return Claim::Busy,
            (Some(active), MultitaskStrategy::Interrupt | MultitaskStrategy::Rollback) => {
                let action = if strategy == MultitaskStrategy::Rollback {
                    CancelAction::Rollback
                } else {
                    CancelAction::Interrupt
                };
                let previous = Arc::clone(active);
                thread.active = Some(Arc::clone(run));
                Claim::After(previous, action)
            }
            (Some(_), MultitaskStrategy::Enqueue) => {
                thread.queue.push_back((Arc::clone(run), starter()));
                Claim::Queued
            }
        };
        inner.runs.insert(run.run_id, Arc::clone(run));
        claim
    }

    /// Takes a queued run out of its queue (a cancel before it started); returns whether it
    /// was queued.
    pub(crate) fn unqueue(&self, run: &LiveRun) -> bool {
        let mut inner = self.inner();
        let Some(thread) = inner.threads.get_mut(&run.thread_id) else {
            return false;
        };
        let before = thread.queue.len();
        thread
            .queue
            .retain(|(queued, _)| queued.run_id != run.run_id);
        before != thread.queue.len()
    }

    /// Records the run's end, wakes whoever waits for it and, when it held its thread,
    /// hands the thread to the next queued run (whose starter is returned, to be run).
    pub(crate) fn finish(&self, run: &LiveRun, outcome: Outcome) -> Option<Starter> {
        let next = {
            let mut inner = self.inner();
            inner.runs.remove(&run.run_id);
            let mut next = None;
            if let Some(thread) = inner.threads.get_mut(&run.thread_id) {
                let held = thread
                    .active
                    .as_ref()
                    .is_some_and(|active| active.run_id == run.run_id);
                if held {
                    thread.active = None;
                    if let Some((queued, starter)) = thread.queue.pop_front() {
                        thread.active = Some(queued);
                        next = Some(starter);
                    }
                }
                if thread.active.is_none() && thread.queue.is_empty() {
                    inner.threads.remove(&run.thread_id);
                }
            }
            next
        };
        run.done.send_replace(Some(Arc::new(outcome)));
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_starter() -> Starter {
        Box::new(|| Box::pin(async {}))
    }

    fn outcome() -> Outcome {
        Outcome {
            status: RunStatus::Success,
            last_values: None,
            error: None,
        }
    }

    #[test]
    fn each_strategy_decides_what_a_run_on_a_busy_thread_does() {
        let runs = LiveRuns::default();
        let first = LiveRun::new(Uuid::new_v4(), "t".into());
        assert!(matches!(
            runs.claim(&first, MultitaskStrategy::Reject, no_starter),
            Claim::Start
        ));
        let second = LiveRun::new(Uuid::new_v4(), "t".into());
        assert!(matches!(
            runs.claim(&second, MultitaskStrategy::Reject, no_starter),
            Claim::Busy
        ));
        assert!(
            runs.get(second.run_id).is_none(),
            "a refused run is not kept"
        );
        let queued = LiveRun::new(Uuid::new_v4(), "t".into());
        assert!(matches!(
            runs.claim(&queued, MultitaskStrategy::Enqueue, no_starter),
            Claim::Queued
        ));
        let interrupting = LiveRun::new(Uuid::new_v4(), "t".into());
        match runs.claim(&interrupting, MultitaskStrategy::Interrupt, no_starter) {
            Claim::After(previous, CancelAction::Interrupt) => {
                assert_eq!(previous.run_id, first.run_id);
            }
            _ => panic!("interrupt must stop the running run"),
        }
        // The stopped run's end does not start the queue: the interrupting run holds the
        // thread; its own end does.
        assert!(runs.finish(&first, outcome()).is_none());
        assert!(runs.finish(&interrupting, outcome()).is_some());
        assert!(runs.finish(&queued, outcome()).is_none());
        assert!(
            runs.inner().threads.is_empty(),
            "nothing left of the thread"
        );
    }

    #[tokio::test]
    async fn a_stop_is_seen_by_the_run_and_its_end_by_every_waiter() {
        let runs = LiveRuns::default();
        let run = LiveRun::new(Uuid::new_v4(), "t".into());
        runs.claim(&run, MultitaskStrategy::Reject, no_starter);
        let signal = run.stop_signal();
        run.stop(CancelAction::Rollback);
        run.stop(CancelAction::Interrupt);
        assert_eq!(
            *signal.borrow(),
            Some(CancelAction::Rollback),
            "the first stop wins"
        );
        let waiter = tokio::spawn({
            let run = Arc::clone(&run);
            async move { run.ended().await.status }
        });
        runs.finish(&run, outcome());
        assert_eq!(waiter.await.unwrap(), RunStatus::Success);
    }
}
