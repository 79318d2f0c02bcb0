//! When to poll for results.

use std::time::Duration;

use crate::util::limits;

/// The largest growth factor of [`PollSchedule::backoff`].
const MAX_GROWTH: f64 = 10.0;

/// The waits between result polls.
///
/// The default looks 1 s after compute, then every second for the first minute, then
/// backs off by 1.5× per poll up to one poll every 5 s. Averaged over readiness times
/// spread evenly from 2 s to 60 s it returns 0.5 s after the results are ready, where
/// polling every 2 s returns after 1.0 s, and it spends 1.85× the requests of such polling
/// (31.5 against 17); both figures are checked by a test of this module. Analyses that
/// take minutes get polled gently.
///
/// Intervals are at least [`MIN_POLL_INTERVAL`](crate::config::MIN_POLL_INTERVAL) (100 ms; shorter
/// ones are raised to it, so a schedule never polls in a tight loop) and every duration is
/// at most [`MAX_DURATION`](crate::config::MAX_DURATION).
///
/// When a poll shows a detection error (the service could not use a photo), the wait goes
/// on while the results still change, until they are complete or nothing changed for
/// [`detection_grace`](Self::detection_grace) (default 10 s).
///
/// ```
/// use std::time::Duration;
/// use hautai::config::PollSchedule;
///
/// let gentle = PollSchedule::fixed(Duration::from_secs(5));
/// let eager = PollSchedule::default().interval(Duration::from_millis(500));
/// # let _ = (gentle, eager);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollSchedule {
    first: Duration,
    interval: Duration,
    steady_for: Duration,
    growth: f64,
    max_interval: Duration,
    detection_grace: Duration,
    learning: bool,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            first: Duration::from_secs(1),
            interval: Duration::from_secs(1),
            steady_for: Duration::from_secs(60),
            growth: 1.5,
            max_interval: Duration::from_secs(5),
            detection_grace: Duration::from_secs(10),
            learning: true,
        }
    }
}

impl PollSchedule {
    /// Polls every `interval` (at least 100 ms), starting `interval` after compute, forever.
    pub fn fixed(interval: Duration) -> Self {
        let interval = limits::poll_interval(interval);
        // Backing off between `interval` and `interval` keeps it fixed.
        PollSchedule { first: interval, interval, max_interval: interval, learning: false, ..PollSchedule::default() }
    }

    /// The wait between compute and the first poll (zero polls at once).
    pub fn first(mut self, wait: Duration) -> Self {
        self.first = limits::clamped(wait);
        self
    }

    /// The wait between polls during the steady phase (at least 100 ms).
    pub fn interval(mut self, wait: Duration) -> Self {
        self.interval = limits::poll_interval(wait);
        self.max_interval = self.max_interval.max(self.interval);
        self
    }

    /// How long polling stays at [`interval`](Self::interval) before it backs off.
    pub fn steady_for(mut self, time: Duration) -> Self {
        self.steady_for = time;
        self
    }

    /// The factor each wait grows by after the steady phase (between 1 and 10; anything
    /// else, `NaN` included, is brought into that range), and the cap.
    pub fn backoff(mut self, growth: f64, max_interval: Duration) -> Self {
        self.growth = if growth.is_nan() { 1.0 } else { growth.clamp(1.0, MAX_GROWTH) };
        self.max_interval = limits::poll_interval(max_interval).max(self.interval);
        self
    }

    /// After a detection error shows, how long the results may stay unchanged before the
    /// wait ends with [`ErrorKind::Detection`](crate::error::ErrorKind::Detection) (default 10 s).
    pub fn detection_grace(mut self, grace: Duration) -> Self {
        self.detection_grace = limits::clamped(grace);
        self
    }

    /// Whether the session learns when its batches become ready and polls around that
    /// time (default: on; off for a [`fixed`](Self::fixed) schedule).
    ///
    /// Once three analyses of the session have finished, a new one starts from this
    /// schedule's poll times and changes them in two ways. Across the window where recent
    /// batches became ready (from one [`interval`](Self::interval) before the quickest to
    /// two after the slowest, of the last twenty, leaving out those more than twice or less
    /// than half their median), it adds a poll halfway before each, at most 10 in all.
    /// Outside the window, it leaves out every other poll of the steady phase. So for any
    /// batch, quick, usual or slow, a learned wait makes at most 10 polls more than this
    /// schedule and returns at most one interval later; for a usual batch it returns
    /// sooner with fewer polls. The deadline, the 100 ms floor and the detection grace hold
    /// as always. Analyses resumed with
    /// [`wait_for_results`](crate::Session::wait_for_results), and those whose compute
    /// answer was lost, use the plain schedule. [`waits_after`](Self::waits_after) shows
    /// the plan for a given history.
    pub fn learning(mut self, learn: bool) -> Self {
        self.learning = learn;
        self
    }

    /// See [`learning`](Self::learning).
    pub(crate) fn learns(&self) -> bool {
        self.learning
    }

    /// The steady interval.
    pub(crate) fn steady_interval(&self) -> Duration {
        self.interval
    }

    /// See [`detection_grace`](Self::detection_grace).
    pub(crate) fn grace(&self) -> Duration {
        self.detection_grace
    }

    /// The waits of this schedule, one per poll: the first is the wait before poll 1.
    pub(crate) fn waits(&self) -> Waits {
        Waits { schedule: *self, polled: Duration::ZERO, last: None }
    }
}

/// The successive waits of a [`PollSchedule`].
#[derive(Debug, Clone)]
pub(crate) struct Waits {
    schedule: PollSchedule,
    /// Total of the waits handed out so far.
    polled: Duration,
    last: Option<Duration>,
}

impl Iterator for Waits {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let s = &self.schedule;
        let wait = match self.last {
            None => s.first,
            Some(_) if self.polled < s.steady_for => s.interval,
            Some(last) => last.mul_f64(s.growth).clamp(s.interval, s.max_interval),
        };
        self.polled = self.polled.saturating_add(wait);
        self.last = Some(wait);
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean requests and mean delay after readiness, over readiness times spread evenly
    /// across `[from, to]` seconds (polls that take no time).
    fn simulate(schedule: PollSchedule, from: f64, to: f64) -> (f64, f64) {
        let n = 2000;
        let (mut requests, mut delay) = (0.0, 0.0);
        for i in 0..n {
            let ready = from + (to - from) * (i as f64 + 0.5) / n as f64;
            let mut t = 0.0;
            // Bounded: a schedule that stops growing fails here instead of looping forever.
            for wait in schedule.waits().take(1000) {
                t += wait.as_secs_f64();
                requests += 1.0;
                if t >= ready {
                    delay += t - ready;
                    break;
                }
            }
            assert!(t >= ready, "the schedule never reached {ready} s");
        }
        (requests / n as f64, delay / n as f64)
    }

    #[test]
    fn default_returns_sooner_than_fixed_2s_with_at_most_twice_the_requests() {
        // "Fixed 2 s polling" as public code does it: poll, and sleep 2 s while not ready.
        let fixed = PollSchedule::fixed(Duration::from_secs(2)).first(Duration::ZERO);
        let (fixed_requests, fixed_delay) = simulate(fixed, 2.0, 60.0);
        let (requests, delay) = simulate(PollSchedule::default(), 2.0, 60.0);
        assert!(delay < fixed_delay, "delay {delay} vs fixed {fixed_delay}");
        assert!(requests <= 2.0 * fixed_requests, "requests {requests} vs fixed {fixed_requests}");
        assert!((delay - 0.5).abs() < 0.01 && (fixed_delay - 1.0).abs() < 0.01);
        assert!((requests - 31.5).abs() < 0.01 && (fixed_requests - 17.0).abs() < 0.01);
    }

    #[test]
    fn default_backs_off_after_a_minute_up_to_the_cap() {
        let waits: Vec<f64> = PollSchedule::default().waits().take(70).map(|d| d.as_secs_f64()).collect();
        assert!(waits[..60].iter().all(|w| *w == 1.0));
        assert_eq!(&waits[60..64], &[1.5, 2.25, 3.375, 5.0]);
        assert_eq!(waits[69], 5.0);
    }

    #[test]
    fn intervals_have_a_floor_and_growth_a_range() {
        let zero = PollSchedule::fixed(Duration::ZERO);
        assert!(zero.waits().take(5).all(|w| w == limits::MIN_POLL_INTERVAL));
        let eager = PollSchedule::default().first(Duration::ZERO).interval(Duration::ZERO).steady_for(Duration::ZERO);
        let waits: Vec<Duration> = eager.waits().take(3).collect();
        assert_eq!(waits[0], Duration::ZERO, "the first poll may come at once");
        assert!(waits[1..].iter().all(|w| *w >= limits::MIN_POLL_INTERVAL), "{waits:?}");
        // Absurd growth factors neither panic nor exceed the cap.
        for growth in [1e300, f64::INFINITY, f64::NAN, -5.0] {
            let s = PollSchedule::default().steady_for(Duration::ZERO).backoff(growth, Duration::MAX);
            let waits: Vec<Duration> = s.waits().take(40).collect();
            assert!(waits.iter().all(|w| *w <= limits::MAX_DURATION), "{growth}: {waits:?}");
        }
        let steep = PollSchedule::default().steady_for(Duration::ZERO).backoff(1e300, Duration::from_secs(100));
        let grown: Vec<Duration> = steep.waits().take(3).collect();
        assert_eq!(grown, [1, 10, 100].map(Duration::from_secs), "growth is capped at 10");
    }

    #[test]
    fn fixed_is_fixed() {
        let waits: Vec<Duration> = PollSchedule::fixed(Duration::from_millis(300)).waits().take(500).collect();
        assert!(waits.iter().all(|w| *w == Duration::from_millis(300)));
        // Even without a steady phase, a fixed schedule does not grow.
        let no_steady_phase = PollSchedule::fixed(Duration::from_millis(300)).steady_for(Duration::ZERO);
        assert!(no_steady_phase.waits().take(50).all(|w| w == Duration::from_millis(300)));
    }
}
