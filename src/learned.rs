//! Learned polling: the session remembers how long its recent batches took to become
//! ready, and polls densely around that time instead of all along the way.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::limits::MIN_POLL_INTERVAL;
use crate::poll::PollSchedule;

/// How many readiness times are remembered.
const REMEMBERED: usize = 20;
/// How many are needed before the schedule changes.
const ENOUGH: usize = 3;

/// The readiness times of a session's recent batches: from compute to complete results.
#[derive(Default)]
pub(crate) struct Readiness {
    recent: Mutex<VecDeque<Duration>>,
}

impl Readiness {
    /// Remembers that a batch was ready `after` its compute.
    pub(crate) fn record(&self, after: Duration) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == REMEMBERED {
            recent.pop_front();
        }
        recent.push_back(after);
    }

    /// The waits between polls for a new batch: learned when there is enough to learn
    /// from and `schedule` learns, its own otherwise. The first is the wait before poll 1.
    pub(crate) fn waits(&self, schedule: &PollSchedule) -> Box<dyn Iterator<Item = Duration> + Send> {
        let recent: Vec<Duration> =
            self.recent.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect();
        match learned(schedule, &recent) {
            Some(plan) if schedule.learns() => plan,
            _ => Box::new(schedule.waits()),
        }
    }
}

/// The learned plan: one early poll, dense polls (three quarters of the steady interval)
/// across the window where batches became ready, then the schedule's back-off. `None` with fewer than [`ENOUGH`] samples.
fn learned(schedule: &PollSchedule, samples: &[Duration]) -> Option<Box<dyn Iterator<Item = Duration> + Send>> {
    if samples.len() < ENOUGH {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    // The 10th and 90th percentiles: one odd batch does not stretch the window.
    let n = sorted.len();
    let (low, high) = (sorted[n / 10], sorted[n - 1 - n / 10]);
    let interval = schedule.steady_interval().max(MIN_POLL_INTERVAL);
    let window_start = low.saturating_sub(interval);
    let window_end = high + interval * 2;
    let mut plan = Vec::new();
    // Sparse before the window: one poll halfway, for a batch quicker than all before it.
    if window_start >= interval * 4 {
        plan.extend([window_start / 2, window_start - window_start / 2]);
    } else {
        plan.push(window_start);
    }
    // Across the window, a little denser than the steady interval: the saved polls pay
    // for returning sooner, never later, than the plain schedule.
    let dense = (interval * 3 / 4).max(MIN_POLL_INTERVAL);
    let mut polled: Duration = plan.iter().sum();
    while polled < window_end {
        plan.push(dense);
        polled += dense;
    }
    // After the window, back off as the schedule does past its steady phase.
    let tail = schedule.backing_off_from(interval);
    Some(Box::new(plan.into_iter().chain(tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean polls and mean delay after readiness for readiness times `readies`.
    fn simulate(waits: impl Fn() -> Box<dyn Iterator<Item = Duration> + Send>, readies: &[f64]) -> (f64, f64) {
        let (mut polls, mut delay) = (0.0, 0.0);
        for ready in readies {
            let mut t = 0.0;
            for wait in waits().take(10_000) {
                t += wait.as_secs_f64();
                polls += 1.0;
                if t >= *ready {
                    delay += t - ready;
                    break;
                }
            }
            assert!(t >= *ready, "never reached {ready}");
        }
        (polls / readies.len() as f64, delay / readies.len() as f64)
    }

    #[test]
    fn nothing_to_learn_from_means_the_plain_schedule() {
        let readiness = Readiness::default();
        readiness.record(Duration::from_secs(20));
        readiness.record(Duration::from_secs(21));
        let plain: Vec<Duration> = PollSchedule::default().waits().take(30).collect();
        assert_eq!(readiness.waits(&PollSchedule::default()).take(30).collect::<Vec<_>>(), plain);
    }

    #[test]
    fn learned_polls_concentrate_around_the_readiness_seen() {
        let readiness = Readiness::default();
        for secs in [18, 20, 22, 19, 21] {
            readiness.record(Duration::from_secs(secs));
        }
        let schedule = PollSchedule::default();
        let waits: Vec<f64> = readiness.waits(&schedule).take(26).map(|w| w.as_secs_f64()).collect();
        // Sparse before the window (17 s: 1 s before the quickest), dense across it, to
        // 2 s after the slowest, then backing off.
        assert_eq!(&waits[..2], &[8.5, 8.5]);
        assert!(waits[2..11].iter().all(|w| *w == 0.75), "{waits:?}");
        assert!(waits[12] >= 1.0 && waits[15] > waits[12], "{waits:?}");
        // Readiness like before: at most half the polls, no more delay.
        let readies: Vec<f64> = (0..100).map(|i| 18.0 + 4.0 * f64::from(i) / 100.0).collect();
        let (learned_polls, learned_delay) = simulate(|| readiness.waits(&schedule), &readies);
        let (plain_polls, plain_delay) = simulate(|| Box::new(schedule.waits()), &readies);
        assert!(learned_polls <= plain_polls / 2.0, "{learned_polls} vs {plain_polls}");
        assert!(learned_delay < plain_delay, "{learned_delay} vs {plain_delay}");
    }

    #[test]
    fn the_window_is_exactly_from_a_poll_before_the_quickest_to_two_after_the_slowest() {
        let readiness = Readiness::default();
        // Window 17 s to 26 s: nine seconds, twelve dense polls of 0.75 s exactly.
        for secs in [18, 20, 21, 22, 24] {
            readiness.record(Duration::from_secs(secs));
        }
        let waits: Vec<Duration> = readiness.waits(&PollSchedule::default()).take(20).collect();
        let dense = waits.iter().filter(|w| **w == Duration::from_millis(750)).count();
        assert_eq!(dense, 12, "{waits:?}");
        // A window that starts within four intervals gets no halfway poll.
        let quick = Readiness::default();
        for secs in [2, 2, 3] {
            quick.record(Duration::from_secs(secs));
        }
        let first: Vec<Duration> = quick.waits(&PollSchedule::default()).take(2).collect();
        assert_eq!(first, [Duration::from_secs(1), Duration::from_millis(750)]);
    }

    #[test]
    fn a_batch_quicker_or_slower_than_ever_is_still_found() {
        let readiness = Readiness::default();
        for _ in 0..10 {
            readiness.record(Duration::from_secs(30));
        }
        let schedule = PollSchedule::default().learning(true);
        let (_, early) = simulate(|| readiness.waits(&schedule), &[5.0]);
        assert!(early <= 10.0, "the halfway poll finds a quick batch: {early}");
        let (polls, _) = simulate(|| readiness.waits(&schedule), &[600.0]);
        assert!(polls < 200.0, "a slow batch is polled with back-off: {polls}");
        let off = PollSchedule::default().learning(false);
        assert_eq!(readiness.waits(&off).next(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn only_the_last_twenty_count() {
        let readiness = Readiness::default();
        for _ in 0..50 {
            readiness.record(Duration::from_secs(100));
        }
        for _ in 0..REMEMBERED {
            readiness.record(Duration::from_secs(10));
        }
        let first = readiness.waits(&PollSchedule::default()).next().unwrap();
        assert_eq!(first, Duration::from_millis(4500), "halfway to 9 s: {first:?}");
    }
}
