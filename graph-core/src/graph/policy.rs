//! How a node's task is run again when it fails, and how long it may take: LangGraph's
//! `RetryPolicy`, plus a timeout. Plain data, written by `#[node(retry = .., timeout = ..)]`;
//! the executor reads it when it starts a task.

use std::time::Duration;

use crate::error::NodeError;

/// When a failed node runs again: at most `max_attempts` attempts in all, waiting between
/// them an interval that starts at `initial_interval` and grows by `backoff_factor` up to
/// `max_interval`, with a random extra (jitter) so that many runs failing together do not
/// retry together. The defaults are LangGraph's: 3 attempts, 0.5 s, ×2, at most 128 s,
/// jitter on, every error retried.
///
/// An interrupt is never retried (it is not a failure), nor is a panic.
///
/// ```
/// use std::time::Duration;
/// use stategraph_core::{NodeError, RetryPolicy};
///
/// fn transient(error: &NodeError) -> bool {
///     error.to_string().contains("503")
/// }
///
/// const POLICY: RetryPolicy = RetryPolicy::new(5)
///     .initial_interval(Duration::from_millis(100))
///     .retry_on(transient);
/// assert_eq!(POLICY.max_attempts_value(), 5);
/// assert!(POLICY.retries(&NodeError::msg("HTTP 503")));
/// assert!(!POLICY.retries(&NodeError::msg("bad request")));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_interval: Duration,
    backoff_factor: f64,
    max_interval: Duration,
    jitter: bool,
    retry_on: Option<fn(&NodeError) -> bool>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(3)
    }
}

impl RetryPolicy {
    /// At most `max_attempts` attempts in all (the first one included; `0` counts as `1`),
    /// with LangGraph's other defaults.
    pub const fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts: if max_attempts == 0 { 1 } else { max_attempts },
            initial_interval: Duration::from_millis(500),
            backoff_factor: 2.0,
            max_interval: Duration::from_secs(128),
            jitter: true,
            retry_on: None,
        }
    }

    /// The wait before the second attempt.
    #[must_use]
    pub const fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// How much the wait grows after each failed attempt (below `1.0` counts as `1.0`).
    #[must_use]
    pub const fn backoff_factor(mut self, factor: f64) -> Self {
        self.backoff_factor = factor;
        self
    }

    /// The longest wait between two attempts, jitter aside.
    #[must_use]
    pub const fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Whether each wait gets a random extra of up to half of it.
    #[must_use]
    pub const fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Retries only the errors `retry_on` accepts (by default, every error). A node's error
    /// can be looked into with [`NodeError::downcast_ref`], and a timeout is a
    /// [`NodeTimedOut`](crate::NodeTimedOut).
    #[must_use]
    pub const fn retry_on(mut self, retry_on: fn(&NodeError) -> bool) -> Self {
        self.retry_on = Some(retry_on);
        self
    }

    /// The most attempts in all.
    pub const fn max_attempts_value(&self) -> u32 {
        self.max_attempts
    }

    /// Whether `error` is one to retry (attempts left aside).
    pub fn retries(&self, error: &NodeError) -> bool {
        self.retry_on.is_none_or(|retry_on| retry_on(error))
    }

    /// The wait after failed attempt `attempt` (counted from 1), jitter aside.
    pub fn interval(&self, attempt: u32) -> Duration {
        let factor = self.backoff_factor.max(1.0);
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.initial_interval.as_secs_f64() * factor.powi(exponent);
        let cap = self.max_interval.as_secs_f64();
        // `try_from_secs_f64` refuses infinities and NaN: a factor that overflows waits the cap.
        Duration::try_from_secs_f64(seconds.min(cap)).unwrap_or(self.max_interval)
    }

    /// The wait after failed attempt `attempt`, with jitter when on.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let interval = self.interval(attempt);
        if self.jitter {
            interval + interval.mul_f64(fastrand::f64() / 2.0)
        } else {
            interval
        }
    }
}

/// How a node's tasks run: retried, and cut off after a time. `#[node(retry = ..,
/// timeout = ..)]` writes it; a node that says neither has none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodePolicy {
    /// When a failed attempt runs again.
    pub retry: Option<RetryPolicy>,
    /// How long one attempt may take before it fails with
    /// [`NodeTimedOut`](crate::NodeTimedOut).
    pub timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_by_the_factor_up_to_the_cap() {
        let policy = RetryPolicy::new(10)
            .initial_interval(Duration::from_secs(1))
            .backoff_factor(3.0)
            .max_interval(Duration::from_secs(20))
            .jitter(false);
        let waits: Vec<u64> = (1..=5)
            .map(|attempt| policy.delay(attempt).as_secs())
            .collect();
        assert_eq!(waits, [1, 3, 9, 20, 20]);
        let huge = policy.backoff_factor(f64::MAX);
        assert_eq!(huge.interval(9), Duration::from_secs(20));
    }

    #[test]
    fn jitter_adds_at_most_half_the_interval() {
        let policy = RetryPolicy::new(3).initial_interval(Duration::from_secs(2));
        for _ in 0..100 {
            let wait = policy.delay(1);
            assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(3));
        }
    }
}
