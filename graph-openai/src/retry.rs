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
    /// The longest `Retry-After` honoured (default 60 s); a longer one falls back to the
    /// computed backoff rather than stalling the graph for minutes.
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
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        if let Some(wait) = headers.and_then(retry_after)
            && wait <= self.max_retry_after
        {
            return wait;
        }
        let exponential = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        exponential.mul_f64(1.0 - 0.25 * fastrand::f64())
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
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
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
        assert_eq!(policy.delay(0, Some(&seconds)), Duration::from_secs(2));
        let ms = headers(&[("retry-after-ms", "150"), ("retry-after", "9")]);
        assert_eq!(policy.delay(0, Some(&ms)), Duration::from_millis(150));
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(policy.delay(0, Some(&past)), Duration::ZERO);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_ignores_huge_retry_after() {
        let policy = RetryPolicy::default();
        for retry in 0..8 {
            let full = (policy.initial_backoff * 2u32.pow(retry)).min(policy.max_backoff);
            let delay = policy.delay(retry, None);
            assert!(
                delay <= full && delay >= full.mul_f64(0.75),
                "{retry}: {delay:?}"
            );
        }
        let huge = headers(&[("retry-after", "3600")]);
        assert!(policy.delay(0, Some(&huge)) <= policy.initial_backoff);
    }

    #[test]
    fn only_429_and_5xx_are_retryable() {
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_retryable(StatusCode::UNAUTHORIZED));
        assert!(!is_retryable(StatusCode::BAD_REQUEST));
    }
}
