//! Backpressure shared by every clone of a session and every thread using it, so that many
//! calls at once are no harder on the service than one:
//!
//! * a `Retry-After` that came with a 429 or 503 holds every new request to that host
//!   until then (one throttled thread slows them all, instead of each finding out alone);
//! * a retry budget (the AWS SDKs' retry quota): retries spend tokens, successes give them
//!   back, and an empty budget means no retries at all;
//! * an optional client-side rate limit that halves on a throttling answer and grows back
//!   slowly with successes (additive increase, multiplicative decrease).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::limits::MAX_DURATION;

/// The lowest rate the adaptive limit falls to, in requests per second.
const MIN_RATE: f64 = 0.5;
/// How much of the configured rate each success adds back after throttling.
const RECOVERY: f64 = 0.02;

/// The shared state.
pub(crate) struct Pressure {
    /// Host → the instant before which no new request may go there.
    holds: Mutex<HashMap<String, Instant>>,
    /// Tokens left in the retry budget (`None`: no budget).
    budget: Option<Mutex<Budget>>,
    /// The client-side rate limit of API requests, if one was set.
    limiter: Option<Mutex<Limiter>>,
}

struct Budget {
    tokens: u32,
    capacity: u32,
}

struct Limiter {
    /// The configured ceiling, requests per second.
    max_rate: f64,
    /// The current rate.
    rate: f64,
    /// When the next request may start.
    next: Option<Instant>,
}

impl Limiter {
    /// The time between two requests at the current rate (a rate too small to space
    /// requests within a day spaces them by a day).
    fn gap(&self) -> Duration {
        Duration::try_from_secs_f64(1.0 / self.rate).map_or(MAX_DURATION, |gap| gap.min(MAX_DURATION))
    }
}

impl Pressure {
    /// Backpressure with a retry budget of `budget` tokens and an optional rate limit.
    pub(crate) fn new(budget: Option<u32>, rate_limit: Option<f64>) -> Pressure {
        Pressure {
            holds: Mutex::default(),
            budget: budget.map(|capacity| Mutex::new(Budget { tokens: capacity, capacity })),
            limiter: rate_limit.map(|rate| Mutex::new(Limiter { max_rate: rate, rate, next: None })),
        }
    }

    /// How long a new request to `host` must wait, at `now`: for a hold, and (API requests,
    /// `limited`) for its turn under the rate limit, which it takes.
    pub(crate) fn wait(&self, host: &str, limited: bool, now: Instant) -> Duration {
        let held = lock(&self.holds).get(host).map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let turn = match (&self.limiter, limited) {
            (Some(limiter), true) => {
                let mut limiter = lock(limiter);
                let start = limiter.next.unwrap_or(now).max(now + held);
                limiter.next = Some(start + limiter.gap());
                start.saturating_duration_since(now)
            }
            _ => held,
        };
        turn.max(held)
    }

    /// A throttling answer (429 or 503) from `host`: hold new requests for `retry_after`
    /// if the server said so, and slow the rate limit down.
    pub(crate) fn throttled(&self, host: &str, retry_after: Option<Duration>, now: Instant) {
        if let Some(wait) = retry_after {
            let until = now + wait;
            let mut holds = lock(&self.holds);
            let hold = holds.entry(host.to_owned()).or_insert(until);
            *hold = (*hold).max(until);
        }
        if let Some(limiter) = &self.limiter {
            let mut limiter = lock(limiter);
            limiter.rate = (limiter.rate / 2.0).max(MIN_RATE.min(limiter.max_rate));
            // The next request already waits at the new pace.
            let paced = now + limiter.gap();
            limiter.next = Some(limiter.next.map_or(paced, |next| next.max(paced)));
        }
    }

    /// Takes the tokens of a retry (`timeout`: after a timeout). `false` when the budget
    /// cannot pay: the failure is then returned as it is.
    pub(crate) fn spend(&self, timeout: bool) -> bool {
        let Some(budget) = &self.budget else { return true };
        let cost = if timeout { crate::retry::TIMEOUT_RETRY_COST } else { crate::retry::RETRY_COST };
        let mut budget = lock(budget);
        if budget.tokens < cost {
            return false;
        }
        budget.tokens -= cost;
        true
    }

    /// A request succeeded after spending `spent` tokens on its retries: they come back
    /// (one token when it needed no retry), and the rate limit grows back a little.
    pub(crate) fn succeeded(&self, spent: u32) {
        if let Some(budget) = &self.budget {
            let mut budget = lock(budget);
            budget.tokens = budget.tokens.saturating_add(spent.max(1)).min(budget.capacity);
        }
        if let Some(limiter) = &self.limiter {
            let mut limiter = lock(limiter);
            limiter.rate = (limiter.rate + limiter.max_rate * RECOVERY).min(limiter.max_rate);
        }
    }

    /// Tokens left in the budget (`None`: no budget).
    #[cfg(test)]
    fn tokens(&self) -> Option<u32> {
        self.budget.as_ref().map(|b| lock(b).tokens)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain numbers behind the lock stay usable after a panic elsewhere.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_delays_every_request_to_its_host_only() {
        let pressure = Pressure::new(None, None);
        let now = Instant::now();
        pressure.throttled("api:443", Some(Duration::from_secs(3)), now);
        assert_eq!(pressure.wait("api:443", true, now + Duration::from_secs(1)), Duration::from_secs(2));
        assert_eq!(pressure.wait("storage:443", false, now), Duration::ZERO);
        assert_eq!(pressure.wait("api:443", true, now + Duration::from_secs(4)), Duration::ZERO);
        // A shorter hold never shortens a longer one.
        pressure.throttled("api:443", Some(Duration::from_secs(10)), now);
        pressure.throttled("api:443", Some(Duration::from_secs(1)), now);
        assert_eq!(pressure.wait("api:443", true, now), Duration::from_secs(10));
    }

    #[test]
    fn a_hold_and_the_rate_limit_together_space_requests_after_the_hold() {
        let pressure = Pressure::new(None, Some(10.0));
        let now = Instant::now();
        // A 429 with Retry-After 2 s: held 2 s, and the rate halves to 5 per second.
        pressure.throttled("api", Some(Duration::from_secs(2)), now);
        assert_eq!(pressure.wait("api", true, now), Duration::from_secs(2));
        assert_eq!(pressure.wait("api", true, now), Duration::from_millis(2200));
        assert_eq!(pressure.wait("api", true, now), Duration::from_millis(2400));
    }

    #[test]
    fn the_budget_pays_for_retries_and_successes_refill_it() {
        let pressure = Pressure::new(Some(12), None);
        assert!(pressure.spend(false));
        assert!(pressure.spend(false));
        assert!(!pressure.spend(false), "2 tokens left cannot pay a retry");
        assert_eq!(pressure.tokens(), Some(2));
        pressure.succeeded(5);
        assert_eq!(pressure.tokens(), Some(7));
        assert!(!pressure.spend(true), "a retry after a timeout costs 10");
        pressure.succeeded(0);
        pressure.succeeded(100);
        assert_eq!(pressure.tokens(), Some(12), "never above the capacity");
        assert!(Pressure::new(None, None).spend(true), "no budget, no limit");
    }

    #[test]
    fn the_rate_limit_spaces_requests_halves_when_throttled_and_recovers() {
        let pressure = Pressure::new(None, Some(10.0));
        let now = Instant::now();
        let waits: Vec<Duration> = (0..3).map(|_| pressure.wait("api", true, now)).collect();
        assert_eq!(waits, [Duration::ZERO, Duration::from_millis(100), Duration::from_millis(200)]);
        assert_eq!(pressure.wait("storage", false, now), Duration::ZERO, "uploads are not limited");
        pressure.throttled("api", None, now + Duration::from_secs(1));
        let later = now + Duration::from_secs(1);
        assert_eq!(pressure.wait("api", true, later), Duration::from_millis(200), "5 per second, at once");
        // Each success gives back 2% of the ceiling: 5 + 0.2 per second.
        pressure.succeeded(0);
        let soon = now + Duration::from_secs(5);
        pressure.wait("api", true, soon);
        let gap = pressure.wait("api", true, soon);
        assert!((Duration::from_micros(192_300)..=Duration::from_micros(192_400)).contains(&gap), "{gap:?}");
        for _ in 0..100 {
            pressure.succeeded(0);
        }
        let much_later = now + Duration::from_secs(10);
        pressure.wait("api", true, much_later);
        assert_eq!(pressure.wait("api", true, much_later), Duration::from_millis(100), "back to 10");
        for _ in 0..20 {
            pressure.throttled("api", None, now);
        }
        let rate = lock(pressure.limiter.as_ref().unwrap()).rate;
        assert_eq!(rate, MIN_RATE);
    }
}
