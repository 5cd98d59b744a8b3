//! Whether a failed attempt is sent again, and after how long: decisions over a plain
//! description of what became of the attempt ([`Failure`]), whatever HTTP stack sent it,
//! and the per-client retry budget that bounds them all.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// How a request that failed before the server started answering is retried: connection
/// failures, and the statuses 408, 429, 500, 502, 503 and 504, with exponential backoff
/// and jitter, honouring the server's `Retry-After` (`retry-after-ms`, seconds or a date).
///
/// A request that reached the server is never sent again unless the server answered it
/// with one of those statuses: after a reset or a timeout the server may already be
/// generating, and a second request would run (and bill) the model twice.
///
/// ```
/// use std::time::Duration;
/// use stategraph_openai::{RetryBudget, RetryPolicy};
///
/// let policy = RetryPolicy {
///     max_retries: 4,
///     budget: Some(RetryBudget { percent: 20, ..RetryBudget::default() }),
///     ..RetryPolicy::default()
/// };
/// assert_eq!(policy.initial_backoff, Duration::from_millis(500));
/// ```
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
    /// The cap on retries across every request of one client and its clones (default
    /// [`RetryBudget::default`]); `None` leaves only `max_retries` per request.
    pub budget: Option<RetryBudget>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            budget: Some(RetryBudget::default()),
        }
    }
}

/// How one attempt failed, as far as retrying it goes. The client sorts its HTTP
/// stack's outcomes into these; the decision is then [`RetryPolicy::retry_delay`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Failure<'a> {
    /// The request never reached the server: DNS failed, the connection was refused or
    /// timed out, the TLS handshake failed. Nothing ran, so sending it again is safe.
    NotConnected,
    /// The request was sent (or may have been), then the connection failed before the
    /// status line.
    LostAfterSending,
    /// No status line within the first-byte timeout.
    FirstByteTimeout,
    /// The server answered with this error status and these headers.
    Status(StatusCode, &'a HeaderMap),
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How long to wait before sending again a request whose last attempt ended in
    /// `failure`, after `retries` retries; `None` when it must not be sent again.
    ///
    /// Only a request that did not reach the server, or that the server turned away with
    /// a status saying nothing ran ([`is_retryable`]), is retried. A request lost after
    /// sending, or unanswered at the first-byte timeout, may be generating on the server.
    pub(crate) fn retry_delay(&self, retries: u32, failure: Failure<'_>) -> Option<Duration> {
        if retries >= self.max_retries {
            return None;
        }
        match failure {
            Failure::NotConnected => self.delay(retries, None),
            Failure::Status(status, headers) if is_retryable(status) => {
                self.delay(retries, Some(headers))
            }
            Failure::Status(..) | Failure::LostAfterSending | Failure::FirstByteTimeout => None,
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
    fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Option<Duration> {
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

/// Whether an answer with this status says the request did not run and may succeed if
/// sent again: 408 (the server gave up waiting for it), 429 (rate limited), and 500, 502,
/// 503 and 504 (the server or a gateway in front of it failed). Other 5xx, such as 501
/// Not Implemented or 505 HTTP Version Not Supported, would fail the same way again.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
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

/// A cap on the retries of one client and all its clones, so that when a server fails
/// every request, retries add a tenth to its load instead of tripling it.
///
/// Each request earns `percent / 100` of a retry and each retry spends one; what was
/// earned and spent counts for one `window`. On top of that, `min_per_sec × window`
/// retries per window are always allowed, so that a client sending few requests can still
/// retry. So within any `window`, retries are at most `percent` % of the requests plus
/// `min_per_sec × window`. A retry the budget refuses fails with the attempt's own error.
/// This is Finagle's `RetryBudget` and tower's `TpsBudget`.
///
/// ```
/// use std::time::Duration;
/// use stategraph_openai::{OpenAiClient, RetryBudget, RetryPolicy};
///
/// // At most 5 % of requests retried, plus 2 retries a second.
/// let budget = RetryBudget { percent: 5, min_per_sec: 2, window: Duration::from_secs(30) };
/// let client = OpenAiClient::builder()
///     .retry(RetryPolicy { budget: Some(budget), ..RetryPolicy::default() })
///     .build()?;
/// # Ok::<(), stategraph_openai::OpenAiError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBudget {
    /// Retries earned per 100 requests (default 10).
    pub percent: u32,
    /// Retries per second allowed however few requests are sent (default 10).
    pub min_per_sec: u32,
    /// How long a request's earning, and a retry's spending, counts (default 10 s). Kept
    /// in tenths: an earning counts for at least nine tenths of it.
    pub window: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            percent: 10,
            min_per_sec: 10,
            window: Duration::from_secs(10),
        }
    }
}

/// A [`RetryBudget`]'s running balance, shared by every clone of one client.
#[derive(Debug)]
pub(crate) struct Budget {
    ledger: Mutex<Ledger>,
}

impl Budget {
    pub(crate) fn new(budget: RetryBudget) -> Self {
        Self {
            ledger: Mutex::new(Ledger::new(budget, Instant::now())),
        }
    }

    /// A request starts: it earns its share of a retry.
    pub(crate) fn deposit(&self) {
        self.lock().deposit(Instant::now());
    }

    /// Spends one retry if the budget has one.
    pub(crate) fn try_withdraw(&self) -> bool {
        self.lock().try_withdraw(Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // The ledger is plain arithmetic that cannot panic halfway: a poisoned lock still
        // guards a consistent balance.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many slots a window is kept in: an earning expires within a tenth of the window.
const SLOTS: usize = 10;

/// A retry, in the ledger's unit: a thousandth of a retry, so that a tenth per request
/// adds up exactly.
const RETRY: i64 = 1000;

/// The arithmetic of a [`RetryBudget`], over time passed in: a ring of [`SLOTS`] slots,
/// each holding what was earned minus what was spent during its tenth of the window.
#[derive(Debug)]
struct Ledger {
    /// What one request earns.
    earning: i64,
    /// What is allowed in every window whatever was earned: `min_per_sec × window`.
    reserve: i64,
    slot_length: Duration,
    origin: Instant,
    /// The number of the newest slot, counted in slot lengths from `origin`.
    newest: u64,
    slots: [i64; SLOTS],
}

impl Ledger {
    fn new(budget: RetryBudget, now: Instant) -> Self {
        let reserve = u128::from(budget.min_per_sec) * budget.window.as_millis();
        Self {
            earning: i64::from(budget.percent).saturating_mul(RETRY / 100),
            reserve: i64::try_from(reserve).unwrap_or(i64::MAX),
            // A window shorter than ten nanoseconds would make slots of zero length.
            slot_length: (budget.window / SLOTS as u32).max(Duration::from_nanos(1)),
            origin: now,
            newest: 0,
            slots: [0; SLOTS],
        }
    }

    fn deposit(&mut self, now: Instant) {
        let slot = self.advance(now);
        self.slots[slot] = self.slots[slot].saturating_add(self.earning);
    }

    fn try_withdraw(&mut self, now: Instant) -> bool {
        let slot = self.advance(now);
        let earned = self
            .slots
            .iter()
            .fold(0i64, |sum, &s| sum.saturating_add(s));
        if self.reserve.saturating_add(earned) < RETRY {
            return false;
        }
        self.slots[slot] = self.slots[slot].saturating_sub(RETRY);
        true
    }

    /// Moves the ring to `now`, clearing the slots that left the window, and returns the
    /// index of the current slot. A `now` before the newest slot (clocks of different
    /// runtimes) counts as the newest slot: time never runs back in the ledger.
    fn advance(&mut self, now: Instant) -> usize {
        let elapsed = now.saturating_duration_since(self.origin).as_nanos();
        let current = u64::try_from(elapsed / self.slot_length.as_nanos()).unwrap_or(u64::MAX);
        if current > self.newest {
            let expired = (current - self.newest).min(SLOTS as u64);
            for slot in current - expired + 1..=current {
                self.slots[(slot % SLOTS as u64) as usize] = 0;
            }
            self.newest = current;
        }
        (self.newest % SLOTS as u64) as usize
    }
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
    fn exactly_408_429_500_502_503_and_504_are_retryable() {
        let retryable: Vec<u16> = (100..600)
            .filter(|&code| is_retryable(StatusCode::from_u16(code).unwrap()))
            .collect();
        assert_eq!(retryable, [408, 429, 500, 502, 503, 504]);
    }

    #[test]
    fn only_a_request_that_never_ran_is_sent_again() {
        let policy = RetryPolicy::default();
        let none = HeaderMap::new();
        assert!(policy.retry_delay(0, Failure::NotConnected).is_some());
        for status in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                policy
                    .retry_delay(0, Failure::Status(status, &none))
                    .is_some(),
                "{status}"
            );
        }
        // The server may be generating: a second request would run the model twice.
        assert_eq!(policy.retry_delay(0, Failure::LostAfterSending), None);
        assert_eq!(policy.retry_delay(0, Failure::FirstByteTimeout), None);
        for status in [400, 401, 403, 404, 409, 422, 501, 505] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(
                policy.retry_delay(0, Failure::Status(status, &none)),
                None,
                "{status}"
            );
        }
    }

    #[test]
    fn a_retryable_attempt_is_retried_max_retries_times_honouring_retry_after() {
        let policy = RetryPolicy::default();
        let asked = headers(&[("retry-after", "3")]);
        let unavailable = Failure::Status(StatusCode::SERVICE_UNAVAILABLE, &asked);
        assert_eq!(
            policy.retry_delay(1, unavailable),
            Some(Duration::from_secs(3))
        );
        assert_eq!(policy.retry_delay(2, unavailable), None, "out of retries");
        assert_eq!(policy.retry_delay(2, Failure::NotConnected), None);
        assert_eq!(
            RetryPolicy::none().retry_delay(0, Failure::NotConnected),
            None
        );
    }

    fn ledger(percent: u32, min_per_sec: u32, window_secs: u64, origin: Instant) -> Ledger {
        let budget = RetryBudget {
            percent,
            min_per_sec,
            window: Duration::from_secs(window_secs),
        };
        Ledger::new(budget, origin)
    }

    fn withdrawals(ledger: &mut Ledger, now: Instant) -> usize {
        std::iter::from_fn(|| ledger.try_withdraw(now).then_some(()))
            .take(1_000_000)
            .count()
    }

    #[test]
    fn retries_are_a_tenth_of_the_requests_plus_the_reserve() {
        let start = Instant::now();
        let mut ledger = ledger(10, 10, 10, start);
        for _ in 0..1000 {
            ledger.deposit(start);
        }
        // 1,000 requests earn 100 retries; 10 per second over 10 s add 100.
        assert_eq!(withdrawals(&mut ledger, start), 200);
        ledger.deposit(start);
        assert_eq!(withdrawals(&mut ledger, start), 0, "a tenth is not a retry");
        for _ in 0..9 {
            ledger.deposit(start);
        }
        assert_eq!(withdrawals(&mut ledger, start), 1, "ten tenths are");
    }

    #[test]
    fn earnings_and_spendings_expire_after_the_window() {
        let start = Instant::now();
        let mut ledger = ledger(10, 1, 10, start);
        for _ in 0..100 {
            ledger.deposit(start);
        }
        assert_eq!(
            withdrawals(&mut ledger, start),
            20,
            "10 earned, 10 reserved"
        );
        // Within the window, nothing is given back.
        let later = start + Duration::from_millis(8_999);
        assert_eq!(withdrawals(&mut ledger, later), 0);
        // Once the slot of the start has left the window, the reserve is whole again and
        // the earnings of the start are gone with the spendings.
        let next_window = start + Duration::from_secs(10);
        assert_eq!(withdrawals(&mut ledger, next_window), 10);
        ledger.deposit(next_window + Duration::from_secs(3600));
        assert_eq!(
            withdrawals(&mut ledger, next_window + Duration::from_secs(3600)),
            10,
            "an hour later, only the reserve and the last tenth"
        );
    }

    #[test]
    fn a_budget_without_reserve_allows_only_what_requests_earned() {
        let start = Instant::now();
        let mut ledger = ledger(10, 0, 10, start);
        assert_eq!(withdrawals(&mut ledger, start), 0);
        for _ in 0..25 {
            ledger.deposit(start);
        }
        assert_eq!(withdrawals(&mut ledger, start), 2);
    }

    #[test]
    fn extreme_budgets_do_not_panic() {
        let start = Instant::now();
        for budget in [
            RetryBudget {
                percent: u32::MAX,
                min_per_sec: u32::MAX,
                window: Duration::MAX,
            },
            RetryBudget {
                percent: 0,
                min_per_sec: 0,
                window: Duration::ZERO,
            },
        ] {
            let mut ledger = Ledger::new(budget, start);
            ledger.deposit(start);
            let _ = ledger.try_withdraw(start + Duration::from_secs(1));
            // A clock before the ledger's origin is the newest slot, not an underflow.
            let _ = ledger.try_withdraw(start.checked_sub(Duration::from_secs(1)).unwrap_or(start));
            let _ = ledger.try_withdraw(start + Duration::from_secs(86_400 * 365));
        }
    }
}
