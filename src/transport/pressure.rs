//! Backpressure shared by every clone of a session and every thread using it, so that many
//! calls at once are no harder on the service than one:
//!
//! * a `Retry-After` that came with a 429 or 503 holds every new request to that host
//!   until then (one throttled thread slows them all, instead of each finding out alone);
//! * a retry budget (the AWS SDKs' retry quota): retries spend tokens, successes give them
//!   back, and an empty budget means no retries at all;
//! * an adaptive rate limit of API requests (`limiter.rs`): none until the service says
//!   "too many requests", then under the rate it showed it takes; a configured rate
//!   (`SessionBuilder::rate_limit`) is where it starts and a ceiling it never passes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::limiter::Limiter;
#[cfg(test)]
use super::limiter::{BETA, EVIDENCE, MIN_RATE, SAME_OVERLOAD};

/// The shared state.
pub(crate) struct Pressure {
    /// Host → the instant before which no new request may go there.
    holds: Mutex<HashMap<String, Instant>>,
    /// Tokens left in the retry budget (`None`: no budget).
    budget: Option<Mutex<Budget>>,
    /// The adaptive rate limit of API requests.
    limiter: Mutex<Limiter>,
    /// Counts the throttling answers: a turn given before the last one is stale.
    epoch: AtomicU64,
}

/// A request's turn: how long it waits, and the epoch it was given in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Turn {
    pub(crate) wait: Duration,
    pub(crate) epoch: u64,
}

struct Budget {
    tokens: u32,
    capacity: u32,
}

impl Pressure {
    /// Backpressure with a retry budget of `budget` tokens and an optional rate ceiling.
    pub(crate) fn new(budget: Option<u32>, rate_limit: Option<f64>) -> Pressure {
        Pressure {
            holds: Mutex::default(),
            budget: budget.map(|capacity| Mutex::new(Budget { tokens: capacity, capacity })),
            limiter: Mutex::new(Limiter::new(rate_limit)),
            epoch: AtomicU64::new(0),
        }
    }

    /// How long a new request to `host` must wait, at `now`: for a hold, and (API requests,
    /// `limited`) for its turn under the rate limit, which it takes. The turn names the
    /// pressure's epoch: if a throttling answer changes the holds or the pace while the
    /// request waits ([`changed_since`](Self::changed_since)), its turn is stale.
    pub(crate) fn turn(&self, host: &str, limited: bool, now: Instant) -> Turn {
        let epoch = self.epoch.load(Ordering::SeqCst);
        let held = lock(&self.holds).get(host).map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let mut limiter = lock(&self.limiter);
        let wait = match limiter.rate {
            Some(rate) if limited => {
                let start = limiter.next.unwrap_or(now).max(now + held);
                limiter.next = Some(start + Limiter::gap(rate));
                start.saturating_duration_since(now)
            }
            _ => held,
        };
        Turn { wait, epoch }
    }

    /// Whether a throttling answer came since the turn of `epoch` was given.
    pub(crate) fn changed_since(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::SeqCst) != epoch
    }

    /// A request leaves now: counted in the measured rate of API requests (`limited`).
    pub(crate) fn sending(&self, limited: bool, now: Instant) {
        if limited {
            lock(&self.limiter).count(now);
        }
    }

    /// A throttling answer (429 or 503) from `host`: hold new requests for `retry_after`
    /// if the server said so, and, for an API request answered 429 (`too_many`: the
    /// service says "too many requests", where a 503 may be an outage), cut the rate limit.
    pub(crate) fn throttled(&self, host: &str, retry_after: Option<Duration>, too_many: bool, now: Instant) {
        if let Some(wait) = retry_after {
            let until = now + wait;
            let mut holds = lock(&self.holds);
            let hold = holds.entry(host.to_owned()).or_insert(until);
            *hold = (*hold).max(until);
        }
        if too_many {
            lock(&self.limiter).cut(now);
        }
        self.epoch.fetch_add(1, Ordering::SeqCst);
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

    /// A request succeeded at `now` after spending `spent` tokens on its retries: they
    /// come back (one token when it needed no retry), and, for an API request (`limited`),
    /// the rate limit grows back.
    pub(crate) fn succeeded(&self, spent: u32, limited: bool, now: Instant) {
        if let Some(budget) = &self.budget {
            let mut budget = lock(budget);
            budget.tokens = budget.tokens.saturating_add(spent.max(1)).min(budget.capacity);
        }
        if limited {
            lock(&self.limiter).grow(now);
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
        // (Requests outside the rate limit, to see the holds alone.)
        pressure.throttled("api:443", Some(Duration::from_secs(3)), true, now);
        assert_eq!(pressure.turn("api:443", false, now + Duration::from_secs(1)).wait, Duration::from_secs(2));
        assert_eq!(pressure.turn("storage:443", false, now).wait, Duration::ZERO);
        assert_eq!(pressure.turn("api:443", false, now + Duration::from_secs(4)).wait, Duration::ZERO);
        // A shorter hold never shortens a longer one.
        pressure.throttled("api:443", Some(Duration::from_secs(10)), true, now);
        pressure.throttled("api:443", Some(Duration::from_secs(1)), true, now);
        assert_eq!(pressure.turn("api:443", false, now).wait, Duration::from_secs(10));
        // A 503 holds as long as it asks, and says nothing of a rate: no limit from it.
        let outage = Pressure::new(None, None);
        outage.throttled("api:443", Some(Duration::from_secs(2)), false, now);
        assert_eq!(outage.turn("api:443", true, now).wait, Duration::from_secs(2));
        assert_eq!(lock(&outage.limiter).rate, None);
    }

    #[test]
    fn a_turn_given_before_a_throttling_answer_is_known_to_be_stale() {
        let pressure = Pressure::new(None, None);
        let now = Instant::now();
        let turn = pressure.turn("api", true, now);
        assert!(!pressure.changed_since(turn.epoch));
        pressure.throttled("api", Some(Duration::from_secs(1)), false, now);
        assert!(pressure.changed_since(turn.epoch), "taken again, to wait out the new hold");
        assert!(!pressure.changed_since(pressure.turn("api", true, now).epoch));
    }

    #[test]
    fn a_hold_and_the_rate_limit_together_space_requests_after_the_hold() {
        let pressure = Pressure::new(None, Some(10.0));
        let now = Instant::now();
        // Sending 10 per second; a 429 with Retry-After 2 s: held 2 s, then 7 per second.
        let later = send(&pressure, now, 10.0, 10);
        pressure.throttled("api", Some(Duration::from_secs(2)), true, later);
        let first = pressure.turn("api", true, later).wait;
        let second = pressure.turn("api", true, later).wait;
        assert_eq!(first, Duration::from_secs(2));
        let gap = second - first;
        assert!((Duration::from_micros(142_800)..=Duration::from_micros(142_900)).contains(&gap), "{gap:?}");
    }

    /// Sends `count` requests at `per_second` from `start`, as a client whose requests take
    /// no time; returns when the last one went.
    fn send(pressure: &Pressure, start: Instant, per_second: f64, count: u32) -> Instant {
        let mut at = start;
        for _ in 0..count {
            at += pressure.turn("api", true, at).wait;
            pressure.sending(true, at);
            pressure.succeeded(0, true, at);
            at += Duration::from_secs_f64(1.0 / per_second);
        }
        at
    }

    fn rate(pressure: &Pressure) -> Option<f64> {
        lock(&pressure.limiter).rate
    }

    #[test]
    fn with_no_limit_given_the_first_throttle_sets_one_below_the_rate_sent() {
        let pressure = Pressure::new(None, None);
        let start = Instant::now();
        let now = send(&pressure, start, 20.0, 40);
        assert_eq!(rate(&pressure), None, "no limit before the service throttles");
        assert_eq!(pressure.turn("storage", false, now).wait, Duration::ZERO);
        pressure.throttled("api", None, true, now);
        let cut = rate(&pressure).unwrap();
        assert!((13.9..=14.1).contains(&cut), "70% of the 20 per second sent: {cut}");
        // Requests already on their way come back throttled too: the same overload.
        pressure.throttled("api", None, true, now + Duration::from_millis(300));
        assert_eq!(rate(&pressure), Some(cut));
        // Past a second, another throttle is another overload: cut again, from the rate set.
        let later = send(&pressure, now + Duration::from_millis(1000), 20.0, 5);
        pressure.throttled("api", None, true, later);
        let again = rate(&pressure).unwrap();
        assert!(again <= cut * BETA + 1e-9, "{again} vs {cut}");
    }

    #[test]
    fn the_rate_grows_back_along_a_cubic_flat_around_the_rate_throttled() {
        let pressure = Pressure::new(None, None);
        let start = Instant::now();
        let now = send(&pressure, start, 10.0, 30);
        pressure.throttled("api", None, true, now);
        let at = |secs: f64| {
            pressure.succeeded(0, true, now + Duration::from_secs_f64(secs));
            rate(&pressure).unwrap()
        };
        // k = cbrt(0.3 / 0.01) ≈ 3.1 s to grow back to the 10 per second throttled.
        assert!((at(0.0) - 7.0).abs() < 1e-6);
        let k = 30f64.cbrt();
        assert!((at(k) - 10.0).abs() < 1e-6);
        assert!(at(k - 1.0) > 9.8, "flat near it");
        assert!((at(k + 5.0) - 10.625).abs() < 1e-6, "then probing above it: 6% after 5 s");
        assert!((at(k + 10.0) - 15.0).abs() < 1e-6, "50% after 10 s");
        // Far past it, capped at twice the rate actually sent (10 per second here).
        assert!((at(1000.0) - 20.0).abs() < 1e-6);
    }

    #[test]
    fn a_configured_rate_is_a_ceiling_and_where_the_limit_starts() {
        let pressure = Pressure::new(None, Some(10.0));
        let now = Instant::now();
        let waits: Vec<Duration> = (0..3).map(|_| pressure.turn("api", true, now).wait).collect();
        assert_eq!(waits, [Duration::ZERO, Duration::from_millis(100), Duration::from_millis(200)]);
        assert_eq!(pressure.turn("storage", false, now).wait, Duration::ZERO, "uploads are not limited");
        let later = send(&pressure, now + Duration::from_secs(2), 10.0, 10);
        pressure.throttled("api", None, true, later);
        assert!(rate(&pressure).unwrap() < 10.0);
        for secs in [5, 10, 100, 1000] {
            pressure.succeeded(0, true, later + Duration::from_secs(secs));
            assert!(rate(&pressure).unwrap() <= 10.0, "never above the ceiling");
        }
        // However often the service throttles, the rate falls, and never below its floor.
        let mut at = later + Duration::from_secs(2000);
        for _ in 0..100 {
            at = send(&pressure, at, 100.0, 3);
            pressure.throttled("api", None, true, at);
            assert!(rate(&pressure).unwrap() >= MIN_RATE);
            at += SAME_OVERLOAD;
        }
        assert!(rate(&pressure).unwrap() < 3.0, "{:?}", rate(&pressure));
    }

    #[test]
    fn a_throttle_with_too_few_successes_to_measure_holds_but_does_not_cut() {
        let pressure = Pressure::new(None, None);
        let now = Instant::now();
        // A quota or a login limit: throttled at the first request, or after two.
        pressure.throttled("api", Some(Duration::from_secs(1)), true, now);
        assert_eq!(rate(&pressure), None);
        let later = send(&pressure, now + Duration::from_secs(5), 10.0, EVIDENCE as u32 - 1);
        pressure.throttled("api", None, true, later);
        assert_eq!(rate(&pressure), None);
        let later = send(&pressure, later, 10.0, 1);
        pressure.throttled("api", None, true, later);
        assert!(rate(&pressure).is_some(), "enough successes to tell a rate");
    }

    #[test]
    fn the_budget_pays_for_retries_and_successes_refill_it() {
        let pressure = Pressure::new(Some(12), None);
        assert!(pressure.spend(false));
        assert!(pressure.spend(false));
        assert!(!pressure.spend(false), "2 tokens left cannot pay a retry");
        assert_eq!(pressure.tokens(), Some(2));
        pressure.succeeded(5, false, Instant::now());
        assert_eq!(pressure.tokens(), Some(7));
        assert!(!pressure.spend(true), "a retry after a timeout costs 10");
        pressure.succeeded(0, false, Instant::now());
        pressure.succeeded(100, false, Instant::now());
        assert_eq!(pressure.tokens(), Some(12), "never above the capacity");
        assert!(Pressure::new(None, None).spend(true), "no budget, no limit");
    }
}
