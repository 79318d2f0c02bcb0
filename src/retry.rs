//! The retry policy: which failures are retried, and how long to wait before the next try.
//!
//! Pure functions, tested here without any I/O; the request path in `transport.rs` applies
//! them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::is_transient_status;
use crate::limits;

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
///   a longer request fails with [`Error::RetryAfterTooLong`](crate::Error::RetryAfterTooLong).
///
/// ```
/// use std::time::Duration;
/// use hautai::RetryPolicy;
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
}

impl Default for RetryPolicy {
    /// 3 retries, backoff from 500 ms up to 8 s, `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
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
    /// [`max_backoff`](Self::max_backoff). Clamped to [`MAX_DURATION`](crate::MAX_DURATION).
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = limits::clamped(wait);
        self
    }

    /// The longest wait between two tries (before jitter), however many retries came
    /// before. Clamped to [`MAX_DURATION`](crate::MAX_DURATION).
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = limits::clamped(wait);
        self
    }

    /// The longest `Retry-After` honoured; a server asking for more gets an error instead.
    /// Clamped to [`MAX_DURATION`](crate::MAX_DURATION).
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = limits::clamped(wait);
        self
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

/// Parses `Retry-After`: delta-seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime),
/// relative to `now`. A date in the past means "now" (zero).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses the three HTTP date formats of RFC 9110 §5.6.7.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    // Drop the weekday ("Sun, ", "Sunday, ", "Sun "): it carries no information.
    let rest = match s.find(", ") {
        Some(i) => &s[i + 2..],
        None => s.split_once(' ')?.1,
    };
    let parts: Vec<&str> = rest.split([' ', '-']).filter(|p| !p.is_empty()).collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate "06 Nov 1994 08:49:37 GMT" and RFC 850 "06-Nov-94 08:49:37 GMT".
        [day, month, year, time, "GMT"] => (*day, *month, *year, *time),
        // asctime "Nov  6 08:49:37 1994".
        [month, day, time, year] => (*day, *month, *year, *time),
        _ => return None,
    };
    let day: u32 = day.parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == month)? as u32
        + 1;
    let mut year: i64 = year.parse().ok()?;
    // HTTP dates have four-digit years; a bound keeps the arithmetic below far from
    // overflow whatever a server sends.
    if !(0..=MAX_YEAR).contains(&year) {
        return None;
    }
    if year < 100 {
        // RFC 850 two-digit years: RFC 9110 says read them as the nearest century.
        year += if year < 70 { 2000 } else { 1900 };
    }
    let mut hms = time.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days.checked_mul(86_400)?.checked_add(i64::from(h * 3600 + m * 60 + sec))?;
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))
}

/// The latest year read from an HTTP date.
const MAX_YEAR: i64 = 9999;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn retry_after_in_seconds_and_as_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_767); // Sun, 06 Nov 1994 08:49:27 GMT
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let ten = Some(Duration::from_secs(10));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), ten);
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), ten);
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), ten);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        // RFC 850 two-digit years are the nearest century: 69 is 2069, 70 is 1970.
        assert!(
            parse_retry_after("Thursday, 06-Nov-69 08:49:37 GMT", now).unwrap() > Duration::from_secs(2_300_000_000)
        );
        assert_eq!(parse_retry_after("Friday, 06-Nov-70 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sat, 06 Nov 0100 08:49:37 GMT", now), None, "year 100 is no two-digit year");
        for time in ["24:00:00", "08:60:00", "08:49:61", "08:49", "08:49:37:01"] {
            assert_eq!(parse_retry_after(&format!("Sun, 06 Nov 1994 {time} GMT"), now), None, "{time}");
        }
        let leap_second = parse_retry_after("Sun, 06 Nov 1994 08:49:60 GMT", now);
        assert_eq!(leap_second, Some(Duration::from_secs(33)), "a leap second is a time");
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 23:59:59 GMT", now), Some(Duration::from_secs(54_632)));
        assert_eq!(parse_retry_after("Sun, 00 Nov 1994 08:49:37 GMT", now), None);
        assert_eq!(parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT", now), None);
        // Absurd dates are no date at all, never an overflow.
        assert_eq!(parse_retry_after("Sun, 06 Nov 99999999999999 08:49:37 GMT", now), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 10000 08:49:37 GMT", now), None);
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now).unwrap();
        assert!(far > Duration::from_secs(250_000_000_000), "{far:?}");
        assert_eq!(parse_retry_after("18446744073709551615", now), Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 28), 20_785);
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let draws: Vec<f64> = (0..100).map(|_| jitter_unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }
}
