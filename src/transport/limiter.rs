//! The adaptive rate limit of API requests, after the AWS SDKs' adaptive retry mode: none
//! until the service first answers 429 with enough successes before it to tell a rate,
//! then [`BETA`] of the rate it showed it takes, growing back along a cubic curve (CUBIC,
//! RFC 8312) that flattens at the rate throttled, then probes above it, slowly at first and
//! faster the longer the service takes it ([`PROBE`]). A configured rate is where it starts and a ceiling it never passes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::util::limits::MAX_DURATION;

/// The lowest rate the adaptive limit falls to, in requests per second.
pub(super) const MIN_RATE: f64 = 0.5;
/// What a throttling answer cuts the rate to, as a share of the rate throttled.
pub(super) const BETA: f64 = 0.7;
/// How fast the rate grows back after a cut: the cubic's scale, per second cubed, as a
/// share of the rate throttled (a cut of 30% is made up in about 3.1 s).
const GROWTH: f64 = 0.01;
/// Past the rate throttled, how the rate probes higher: by this share of it times the
/// cube of the seconds since (CUBIC's convex part, gentler): 6% after 5 s, 50% after
/// 10 s. Slow at first on purpose: a service's burst allowance hides an excess until it is
/// spent, and by then a steep probe would be far above the limit; faster later, so that a
/// rate cut too deep (a short burst misread) is made up within a minute.
const PROBE: f64 = 0.0005;
/// Throttling answers closer than this to the last cut belong to the same overload (the
/// requests already on their way when the first came back), and do not cut again.
pub(super) const SAME_OVERLOAD: Duration = Duration::from_secs(1);
/// The span over which successes are counted, to tell the rate a service accepts.
const ACCEPTED_OVER: Duration = Duration::from_secs(1);
/// The fewest successes in that span for a throttling answer to say something of a rate.
pub(super) const EVIDENCE: usize = 3;
/// How often the rate of requests sent is measured.
const MEASURE_EVERY: Duration = Duration::from_millis(500);

/// The adaptive rate limit.
pub(super) struct Limiter {
    /// The configured ceiling, requests per second.
    ceiling: Option<f64>,
    /// The current rate (`None`: no limit, the service has not throttled yet).
    pub(super) rate: Option<f64>,
    /// The rate when the service last throttled, and when.
    throttled: Option<(f64, Instant)>,
    /// When the next request may start.
    pub(super) next: Option<Instant>,
    /// The rate of requests sent, smoothed, and the current measuring interval.
    measured: f64,
    counting: Option<(Instant, u32)>,
    /// When the successes of the last second came back.
    accepted: VecDeque<Instant>,
}

impl Limiter {
    pub(super) fn new(ceiling: Option<f64>) -> Limiter {
        Limiter {
            ceiling,
            rate: ceiling,
            throttled: None,
            next: None,
            measured: 0.0,
            counting: None,
            accepted: VecDeque::new(),
        }
    }

    /// The time between two requests at `rate` (a rate too small to space requests within
    /// a day spaces them by a day).
    pub(super) fn gap(rate: f64) -> Duration {
        Duration::try_from_secs_f64(1.0 / rate).map_or(MAX_DURATION, |gap| gap.min(MAX_DURATION))
    }

    /// Counts a request sent at `now` into the measured rate.
    pub(super) fn count(&mut self, now: Instant) {
        // An interval runs from one request to another: `sent` requests after its first.
        let Some((since, sent)) = &mut self.counting else {
            self.counting = Some((now, 0));
            return;
        };
        *sent += 1;
        let elapsed = now.saturating_duration_since(*since);
        if elapsed >= MEASURE_EVERY {
            let rate = f64::from(*sent) / elapsed.as_secs_f64();
            self.measured = if self.measured == 0.0 { rate } else { 0.8 * rate + 0.2 * self.measured };
            self.counting = Some((now, 0));
        }
    }

    /// The rate sent lately: the smoothed measure, or the current interval's when it is
    /// the only one yet.
    fn sent_rate(&self, now: Instant) -> f64 {
        match self.counting {
            _ if self.measured > 0.0 => self.measured,
            Some((since, sent)) => f64::from(sent) / now.saturating_duration_since(since).as_secs_f64().max(0.1),
            None => 0.0,
        }
    }

    /// The successes of the last second at `now`, as a rate (`None` with fewer than
    /// [`EVIDENCE`]). Over a whole second, not the time since the first: a burst allowed
    /// at the start of a run is not a rate.
    fn accepted_rate(&mut self, now: Instant) -> Option<f64> {
        while self.accepted.front().is_some_and(|at| now.saturating_duration_since(*at) > ACCEPTED_OVER) {
            self.accepted.pop_front();
        }
        (self.accepted.len() >= EVIDENCE).then(|| self.accepted.len() as f64 / ACCEPTED_OVER.as_secs_f64())
    }

    /// A throttling answer at `now`: cut the rate to [`BETA`] of what the service showed
    /// it takes: the least of the current rate, the rate sent, and the rate of successes
    /// over the last second (a service with a burst allowance accepts a burst above its
    /// rate, then nothing: what it accepted over a second is close to its limit). A 429
    /// with fewer than [`EVIDENCE`] successes in the last second says nothing of a rate
    /// (a quota, a login limit): it holds, and does not cut.
    pub(super) fn cut(&mut self, now: Instant) {
        if self.throttled.is_some_and(|(_, at)| now.saturating_duration_since(at) < SAME_OVERLOAD) {
            return;
        }
        let Some(accepted) = self.accepted_rate(now) else { return };
        let sent = self.sent_rate(now);
        let sent = if sent > 0.0 { sent } else { f64::INFINITY };
        let from = self.rate.unwrap_or(f64::INFINITY).min(sent).min(accepted).max(MIN_RATE);
        self.throttled = Some((from, now));
        self.set((from * BETA).max(MIN_RATE));
        // The next request already waits at the new pace.
        let paced = now + Self::gap(self.rate.unwrap_or(MIN_RATE));
        self.next = Some(self.next.map_or(paced, |next| next.max(paced)));
    }

    /// A success at `now`: the rate grows back along a cubic that flattens at the rate
    /// throttled (CUBIC's concave part), then probes above it slowly, never above twice
    /// the rate actually sent (a rate nobody uses proves nothing) nor the ceiling.
    pub(super) fn grow(&mut self, now: Instant) {
        self.accepted.push_back(now);
        self.accepted_rate(now);
        let Some((max, at)) = self.throttled else { return };
        let t = now.saturating_duration_since(at).as_secs_f64();
        let k = ((1.0 - BETA) / GROWTH).cbrt();
        let grown = if t < k { GROWTH * max * (t - k).powi(3) + max } else { max * (1.0 + PROBE * (t - k).powi(3)) };
        let sent = self.sent_rate(now);
        self.set(if sent > 0.0 { grown.min(2.0 * sent) } else { grown });
    }

    fn set(&mut self, rate: f64) {
        let rate = self.ceiling.map_or(rate, |ceiling| rate.min(ceiling));
        self.rate = Some(rate.max(MIN_RATE.min(self.ceiling.unwrap_or(MIN_RATE))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_rate_sent_is_measured_over_half_seconds_and_read_from_the_first_interval_until_then() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(None);
        assert_eq!(limiter.sent_rate(t0), 0.0, "nothing sent");
        for at in [0, 50, 100] {
            limiter.count(t0 + ms(at));
        }
        // No half second measured yet: two requests after the first, in 100 ms.
        assert!((limiter.sent_rate(t0 + ms(100)) - 20.0).abs() < 1e-9, "{}", limiter.sent_rate(t0 + ms(100)));
        // Three more by 500 ms, the last at 500: five after the first over 500 ms is 10 per second.
        for at in [110, 120, 500] {
            limiter.count(t0 + ms(at));
        }
        assert!((limiter.sent_rate(t0 + ms(600)) - 10.0).abs() < 1e-9, "{}", limiter.sent_rate(t0 + ms(600)));
    }

    #[test]
    fn a_cut_starts_from_the_least_of_the_rate_the_rate_sent_and_the_successes_of_the_last_second() {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(None);
        // Sent at 4 per second (measured), yet ten successes came back in the last second
        // (answers to requests sent earlier): the cut starts from 4.
        for i in 0..=4 {
            limiter.count(t0 + ms(i * 250));
        }
        for i in 0..10 {
            limiter.grow(t0 + ms(1000 + i * 10));
        }
        limiter.cut(t0 + ms(1100));
        let rate = limiter.rate.unwrap();
        assert!((rate - 4.0 * BETA).abs() < 1e-9, "{rate}");
        // Another 429 within the same overload does not cut again; one a full second later does.
        for i in 0..10 {
            limiter.grow(t0 + ms(1500 + i * 10));
        }
        let grown = limiter.rate;
        // With nothing counted as sent (no measure yet), the successes decide.
        let mut unmeasured = Limiter::new(None);
        for i in 0..10 {
            unmeasured.grow(t0 + ms(i * 10));
        }
        unmeasured.cut(t0 + ms(100));
        assert!((unmeasured.rate.unwrap() - 10.0 * BETA).abs() < 1e-9, "{:?}", unmeasured.rate);
        // ...and it grows back from there (no measure: no bound of twice the rate sent).
        unmeasured.grow(t0 + ms(600));
        assert!(unmeasured.rate.unwrap() > 10.0 * BETA, "{:?}", unmeasured.rate);
        limiter.cut(t0 + ms(2099));
        assert_eq!(limiter.rate, grown);
        limiter.cut(t0 + ms(2100));
        assert!(limiter.rate < grown, "{:?} after {grown:?}", limiter.rate);
    }
}
