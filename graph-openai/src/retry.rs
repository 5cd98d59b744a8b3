//! When and how long to wait before retrying a request that failed before its first byte.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// How requests that fail before the first byte are retried: 429 and 5xx answers and
/// connection failures, with exponential backoff and jitter, honouring the server's
/// `Retry-After`. Other 4xx answers are never retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2, so 3 requests at most).
    pub max_retries: u32,
    /// The first backoff (default 500 ms); each retry doubles it.
    pub initial_backoff: Duration,
    /// The longest computed backoff (default 8 s).
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured (default 60 s); when a server asks for longer,
    /// the request fails at once with the server's error rather than stalling the graph
    /// for minutes or retrying sooner than asked.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How long to wait before retry number `retry` (0-based): the server's
    /// `Retry-After` when it gave a usable one, otherwise
    /// `min(initial * 2^retry, max)` minus up to 25 % jitter, so that many clients
    /// rejected together do not come back together.
    /// `None` when the server asked for a longer wait than [`max_retry_after`]: retrying
    /// sooner than asked would only be refused again, so the caller gives up instead.
    ///
    /// [`max_retry_after`]: Self::max_retry_after
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Option<Duration> {
        if let Some(wait) = headers.and_then(retry_after) {
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let exponential = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        // Jitter by subtraction: never longer than the cap, never a float overflow.
        let jitter = exponential.as_secs_f64() * 0.25 * fastrand::f64();
        Some(exponential.saturating_sub(Duration::try_from_secs_f64(jitter).unwrap_or_default()))
    }
}

/// Whether an answer with this status may succeed if sent again.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait a server asked for: OpenAI's `retry-after-ms`, or the standard `Retry-After`
/// as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return seconds(ms / 1000.0);
    }
    let value = header("retry-after")?.trim();
    if let Ok(wait) = value.parse::<f64>() {
        return seconds(wait);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A wait in seconds as a server wrote it: a server's `1e20` is a wait too long to honour,
/// not a panic; a negative or NaN one is no wait at all.
fn seconds(wait: f64) -> Option<Duration> {
    if wait.is_nan() || wait < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    reqwest::header::HeaderName::from_static(name),
                    value.parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn retry_after_in_seconds_milliseconds_and_dates() {
        let policy = RetryPolicy::default();
        let seconds = headers(&[("retry-after", "2")]);
        assert_eq!(
            policy.delay(0, Some(&seconds)),
            Some(Duration::from_secs(2))
        );
        let ms = headers(&[("retry-after-ms", "150"), ("retry-after", "9")]);
        assert_eq!(policy.delay(0, Some(&ms)), Some(Duration::from_millis(150)));
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(policy.delay(0, Some(&past)), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_gives_up_on_long_retry_after() {
        let policy = RetryPolicy::default();
        for retry in 0..40 {
            let full = policy
                .initial_backoff
                .saturating_mul(2u32.saturating_pow(retry))
                .min(policy.max_backoff);
            let delay = policy.delay(retry, None).unwrap();
            assert!(
                delay <= full && delay >= full.mul_f64(0.75),
                "{retry}: {delay:?}"
            );
        }
        let long = headers(&[("retry-after", "3600")]);
        assert_eq!(policy.delay(0, Some(&long)), None, "longer than allowed");
        // Absurd values from a server are not a panic.
        for absurd in ["1e20", "99999999999999999999", "-5", "NaN", "inf"] {
            let value = headers(&[("retry-after", absurd)]);
            let _ = policy.delay(0, Some(&value));
            let value = headers(&[("retry-after-ms", absurd)]);
            let _ = policy.delay(0, Some(&value));
        }
        let huge = RetryPolicy {
            initial_backoff: Duration::MAX,
            max_backoff: Duration::MAX,
            ..policy
        };
        assert!(huge.delay(3, None).is_some());
    }

    #[test]
    fn only_429_and_5xx_are_retryable() {
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_retryable(StatusCode::UNAUTHORIZED));
        assert!(!is_retryable(StatusCode::BAD_REQUEST));
    }
}
