//! The retry policy: which failures are retried, and how long to wait before the next try.
//!
//! Pure functions, tested here without any I/O; the request path in `transport.rs` applies
//! them.

use std::time::Duration;

use crate::error::is_transient_status;
use crate::util::limits;

/// How failed requests are retried.
///
/// * GET requests and storage uploads are retried on connection errors, timeouts and the
///   statuses 408, 429, 500, 502, 503 and 504.
/// * POST requests (initiate upload, compute) must never run twice on the server, so they
///   are retried only when the server certainly did not take them: a refused connection,
///   a connect timeout, 429 and 503.
/// * The wait grows exponentially from [`initial_backoff`](Self::initial_backoff) up to
///   [`max_backoff`](Self::max_backoff), with jitter (a random value between half and all
///   of it). A `Retry-After` header (seconds or an HTTP date) sets a floor, honoured up to
///   [`max_retry_after`](Self::max_retry_after) and never past the pipeline's deadline;
///   a longer request fails with [`ErrorKind::RetryAfterTooLong`](crate::error::ErrorKind::RetryAfterTooLong).
/// * Retries spend from a **retry budget** shared by every clone of the session, in the
///   spirit of the AWS SDKs' retry quota: a retry costs 5 tokens (10 after a timeout), a
///   success gives back what its retries cost (1 token when it needed none), and an empty
///   budget means failures are returned at once. Against a service that is down, the
///   requests sent then stay close to what they would be without retries, however many
///   threads share the session. The default budget holds 500 tokens (100 retries in a
///   row); [`retry_budget`](Self::retry_budget) changes it.
///
/// ```
/// use std::time::Duration;
/// use hautai::config::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_retries(6).max_backoff(Duration::from_secs(30));
/// let never = RetryPolicy::none();
/// assert_eq!(never.retries(), 0);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    budget: Option<u32>,
}

/// What a retry costs from the budget.
pub(crate) const RETRY_COST: u32 = 5;
/// What a retry after a timeout costs (a timeout ties up the server longer).
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;

impl Default for RetryPolicy {
    /// 3 retries, backoff from 500 ms up to 8 s, `Retry-After` honoured up to 60 s, a retry
    /// budget of 500 tokens.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            budget: Some(500),
        }
    }
}

impl RetryPolicy {
    /// No retries at all: every failure is returned at once.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// How many times a failed request is tried again (0 = never).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The wait before the first retry (before jitter); it doubles with each retry, up to
    /// [`max_backoff`](Self::max_backoff). Clamped to [`MAX_DURATION`](crate::config::MAX_DURATION).
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = limits::clamped(wait);
        self
    }

    /// The longest wait between two tries (before jitter), however many retries came
    /// before. Clamped to [`MAX_DURATION`](crate::config::MAX_DURATION).
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = limits::clamped(wait);
        self
    }

    /// The longest `Retry-After` honoured; a server asking for more gets an error instead.
    /// Clamped to [`MAX_DURATION`](crate::config::MAX_DURATION).
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = limits::clamped(wait);
        self
    }

    /// The size of the retry budget shared by every clone of the session, in tokens (a
    /// retry costs 5, or 10 after a timeout); `None` for no budget (each request retries
    /// up to [`max_retries`](Self::max_retries) whatever the others do).
    pub fn retry_budget(mut self, tokens: Option<u32>) -> Self {
        self.budget = tokens;
        self
    }

    /// The retry budget's size (`None`: no budget).
    pub fn budget(&self) -> Option<u32> {
        self.budget
    }

    /// The number of retries allowed.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// The `Retry-After` cap.
    pub fn retry_after_cap(&self) -> Duration {
        self.max_retry_after
    }

    /// The backoff before retry number `retry` (0-based), given `unit` drawn uniformly
    /// from `[0, 1)`: between half and all of `initial × 2^retry`, capped.
    pub(crate) fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX));
        let full = exp.min(self.max_backoff);
        full.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

/// Whether a request may be run again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Running it twice does no harm (GET, DELETE, storage PUT).
    Idempotent,
    /// Running it twice could create or bill twice (POST).
    NotIdempotent,
}

/// A failed attempt, reduced to what the retry decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The server answered with this status.
    Status(u16),
    /// The request certainly never reached the server (refused, DNS, connect timeout).
    NotSent,
    /// The connection failed or timed out after the request may have been sent.
    Ambiguous,
    /// Nothing to gain from another try (bad request, unusable signed URL, ...).
    Final,
}

/// Whether `attempt` should be retried for a request of this kind.
pub(crate) fn should_retry(attempt: Attempt, kind: Idempotency) -> bool {
    match (attempt, kind) {
        (Attempt::Final, _) => false,
        (Attempt::NotSent, _) => true,
        (Attempt::Ambiguous, Idempotency::Idempotent) => true,
        (Attempt::Ambiguous, Idempotency::NotIdempotent) => false,
        (Attempt::Status(s), Idempotency::Idempotent) => is_transient_status(s),
        // 429 and 503 say the server did not take the request: safe for a POST too.
        (Attempt::Status(s), Idempotency::NotIdempotent) => matches!(s, 429 | 503),
    }
}

/// A uniform draw from `[0, 1)` for jitter, without a random-number crate: std's hasher
/// keys are random per process, and a counter makes every draw different.
pub(crate) fn jitter_unit() -> f64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_between_half_and_all() {
        let p = RetryPolicy::default().initial_backoff(Duration::from_millis(100)).max_backoff(Duration::from_secs(1));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(u32::MAX, 0.0), Duration::from_millis(500));
    }

    #[test]
    fn posts_retry_only_when_the_server_did_not_take_them() {
        use Attempt::*;
        use Idempotency::*;
        for s in [429, 503] {
            assert!(should_retry(Status(s), NotIdempotent));
        }
        for s in [408, 500, 502, 504] {
            assert!(!should_retry(Status(s), NotIdempotent), "{s}");
            assert!(should_retry(Status(s), Idempotent), "{s}");
        }
        assert!(should_retry(NotSent, NotIdempotent));
        assert!(!should_retry(Ambiguous, NotIdempotent));
        assert!(should_retry(Ambiguous, Idempotent));
        assert!(!should_retry(Status(400), Idempotent));
        assert!(!should_retry(Final, Idempotent));
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let draws: Vec<f64> = (0..100).map(|_| jitter_unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }
}
