//! Learned polling: the session remembers how long its recent batches took to become
//! ready, and polls more densely around that time and more sparsely elsewhere, never much
//! worse than the plain schedule for a batch that takes longer or shorter than usual.
//!
//! The plan starts from the plain schedule's poll times and changes them in two ways:
//!
//! * **the window** (from one steady interval before the quickest usual readiness to two
//!   after the slowest) keeps every plain poll and adds one halfway before each, at most
//!   [`EXTRA_POLLS`] in all;
//! * **outside it**, a plain poll is left out when the one before it was kept and the next
//!   comes at most one steady interval later (every other poll of the steady phase).
//!
//! So for any readiness time, the plan returns at most one steady interval after the plain
//! schedule would, with at most [`EXTRA_POLLS`] more polls. Usual readiness times are the
//! samples within a factor of two of their median: one odd batch (three samples are
//! enough to tell) does not stretch the window.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::limits::MIN_POLL_INTERVAL;
use crate::poll::PollSchedule;

/// How many readiness times are remembered.
const REMEMBERED: usize = 20;
/// How many are needed before the schedule changes.
const ENOUGH: usize = 3;
/// The most polls a learned plan adds to the plain schedule's.
pub(crate) const EXTRA_POLLS: usize = 10;

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

    /// The waits between polls for a new batch: learned when `schedule` learns, its own
    /// otherwise. The first is the wait before poll 1.
    pub(crate) fn waits(&self, schedule: &PollSchedule) -> Box<dyn Iterator<Item = Duration> + Send> {
        let recent: Vec<Duration> =
            self.recent.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect();
        Box::new(schedule.waits_after(&recent))
    }
}

impl PollSchedule {
    /// The waits between polls (the first is the wait before poll 1) that a session with
    /// this schedule uses for a new batch when its recent batches became ready `history`
    /// after compute: this schedule's own with learning off or fewer than three samples,
    /// the learned plan otherwise (see [`learning`](Self::learning)). The plan never ends.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hautai::config::PollSchedule;
    ///
    /// let history = [20, 22, 1200].map(Duration::from_secs); // one odd batch
    /// let first: Vec<Duration> = PollSchedule::default().waits_after(&history).take(3).collect();
    /// assert_eq!(first, [Duration::from_secs(2); 3], "every other second before the window");
    /// ```
    pub fn waits_after(&self, history: &[Duration]) -> impl Iterator<Item = Duration> + Send + use<> {
        if self.learns() { plan(self, history) } else { Box::new(self.waits()) }
    }
}

/// The waits after batches that became ready `history` after compute: the plain schedule
/// with fewer than [`ENOUGH`] samples, the learned plan from then on.
pub(crate) fn plan(schedule: &PollSchedule, history: &[Duration]) -> Box<dyn Iterator<Item = Duration> + Send> {
    match window(schedule, history) {
        Some(window) => Box::new(Learned::new(schedule, window)),
        None => Box::new(schedule.waits()),
    }
}

/// From one steady interval before the quickest usual readiness to two after the slowest.
fn window(schedule: &PollSchedule, history: &[Duration]) -> Option<(Duration, Duration)> {
    if history.len() < ENOUGH {
        return None;
    }
    let mut sorted = history.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let usual = |d: &&Duration| **d >= median / 2 && **d <= median.saturating_mul(2);
    let low = *sorted.iter().find(usual)?;
    let high = *sorted.iter().rev().find(usual)?;
    let interval = schedule.steady_interval();
    Some((low.saturating_sub(interval), high.saturating_add(interval.saturating_mul(2))))
}

/// The learned plan, made lazily from the plain schedule's poll times (it never ends).
struct Learned {
    /// The plain poll times (since compute), one ahead of the one being decided.
    plain: Box<dyn Iterator<Item = Duration> + Send>,
    next_plain: Option<Duration>,
    window: (Duration, Duration),
    interval: Duration,
    extras_left: usize,
    /// The plain poll time decided last, and whether it was left out.
    previous: Duration,
    left_out_previous: bool,
    /// Poll times decided and not yet handed out, and the last handed out.
    queue: VecDeque<Duration>,
    emitted: Duration,
}

impl Learned {
    fn new(schedule: &PollSchedule, window: (Duration, Duration)) -> Learned {
        let mut at = Duration::ZERO;
        let mut plain: Box<dyn Iterator<Item = Duration> + Send> = Box::new(schedule.waits().map(move |wait| {
            at = at.saturating_add(wait);
            at
        }));
        let next_plain = plain.next();
        Learned {
            plain,
            next_plain,
            window,
            interval: schedule.steady_interval(),
            extras_left: EXTRA_POLLS,
            previous: Duration::ZERO,
            left_out_previous: false,
            queue: VecDeque::new(),
            emitted: Duration::ZERO,
        }
    }

    /// Decides the next plain poll time: keeps it (with a poll halfway before it, in the
    /// window) or leaves it out.
    fn decide(&mut self) -> Option<()> {
        let at = self.next_plain.take()?;
        self.next_plain = self.plain.next();
        let previous = std::mem::replace(&mut self.previous, at);
        let (start, end) = self.window;
        let gap = at.saturating_sub(previous);
        // Halfway before a plain poll whose interval reaches into the window.
        if self.extras_left > 0 && at >= start && previous < end && gap >= MIN_POLL_INTERVAL * 2 {
            self.extras_left -= 1;
            self.queue.push_back(previous + gap / 2);
            self.queue.push_back(at);
            self.left_out_previous = false;
            return Some(());
        }
        let in_window = at >= start && at <= end;
        let next_soon = self.next_plain.is_some_and(|next| next.saturating_sub(at) <= self.interval);
        if !in_window && !self.left_out_previous && next_soon {
            self.left_out_previous = true;
        } else {
            self.left_out_previous = false;
            self.queue.push_back(at);
        }
        Some(())
    }
}

impl Iterator for Learned {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        while self.queue.is_empty() {
            self.decide()?;
        }
        let at = self.queue.pop_front()?;
        let wait = at.saturating_sub(self.emitted);
        self.emitted = at;
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// (polls, return time) for a batch ready `ready` seconds after compute.
    fn finds(waits: impl Iterator<Item = Duration>, ready: f64) -> (usize, f64) {
        let mut t = 0.0;
        for (polls, wait) in waits.take(100_000).enumerate() {
            t += wait.as_secs_f64();
            if t >= ready {
                return (polls + 1, t);
            }
        }
        panic!("never reached {ready}");
    }

    fn secs(values: &[f64]) -> Vec<Duration> {
        values.iter().map(|s| Duration::from_secs_f64(*s)).collect()
    }

    #[test]
    fn nothing_to_learn_from_means_the_plain_schedule() {
        let readiness = Readiness::default();
        readiness.record(Duration::from_secs(20));
        readiness.record(Duration::from_secs(21));
        let plain: Vec<Duration> = PollSchedule::default().waits().take(30).collect();
        assert_eq!(readiness.waits(&PollSchedule::default()).take(30).collect::<Vec<_>>(), plain);
        readiness.record(Duration::from_secs(22));
        assert_ne!(readiness.waits(&PollSchedule::default()).take(30).collect::<Vec<_>>(), plain);
        let off = PollSchedule::default().learning(false);
        assert_eq!(readiness.waits(&off).take(30).collect::<Vec<_>>(), plain);
    }

    #[test]
    fn around_the_usual_readiness_it_returns_sooner_with_fewer_polls() {
        let schedule = PollSchedule::default();
        let history = secs(&[18.0, 20.0, 22.0, 19.0, 21.0]);
        let (mut learned, mut plain) = ((0, 0.0), (0, 0.0));
        for i in 0..400 {
            let ready = 18.0 + 4.0 * f64::from(i) / 400.0;
            let (polls, at) = finds(plan(&schedule, &history), ready);
            learned = (learned.0 + polls, learned.1 + at - ready);
            let (polls, at) = finds(schedule.waits(), ready);
            plain = (plain.0 + polls, plain.1 + at - ready);
        }
        assert!(learned.0 * 100 < plain.0 * 85, "under 85% of the polls: {learned:?} vs {plain:?}");
        assert!(learned.1 < plain.1 * 0.55, "about half the delay: {learned:?} vs {plain:?}");
    }

    #[test]
    fn the_plan_is_exact_every_other_poll_outside_the_window_and_halfway_polls_in_it() {
        // Window 2 s to 7 s (usual readiness 3 to 5 s, steady interval 1 s).
        let waits: Vec<f64> =
            plan(&PollSchedule::default(), &secs(&[3.0, 4.0, 5.0])).take(12).map(|w| w.as_secs_f64()).collect();
        let mut at = 0.0;
        let times: Vec<f64> = waits
            .iter()
            .map(|w| {
                at += w;
                at
            })
            .collect();
        assert_eq!(times, [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0], "{waits:?}");
        let after: Vec<f64> =
            plan(&PollSchedule::default(), &secs(&[3.0, 4.0, 5.0])).skip(12).take(3).map(|w| w.as_secs_f64()).collect();
        assert_eq!(after, [2.0, 2.0, 2.0], "then every other second");
    }

    #[test]
    fn an_outlier_is_left_out_from_three_samples() {
        // 1200 s is more than twice the median (25 s): the window is 19 s to 27 s.
        let schedule = PollSchedule::default();
        assert_eq!(
            window(&schedule, &secs(&[20.0, 25.0, 1200.0])),
            Some((Duration::from_secs(19), Duration::from_secs(27)))
        );
        assert_eq!(
            window(&schedule, &secs(&[20.0, 1200.0, 1300.0])),
            Some((Duration::from_secs(1199), Duration::from_secs(1302)))
        );
        // Four samples: the median is the upper middle one (50 s), so 10 s is left out.
        assert_eq!(
            window(&schedule, &secs(&[60.0, 10.0, 50.0, 40.0])),
            Some((Duration::from_secs(39), Duration::from_secs(62)))
        );
        // The case that once planned 777 polls where the plain schedule needs 170.
        let (learned, _) = finds(plan(&schedule, &secs(&[20.0, 25.0, 1200.0])), 600.0);
        let (plain, _) = finds(schedule.waits(), 600.0);
        assert!(learned <= plain + EXTRA_POLLS, "{learned} vs {plain}");
    }

    #[test]
    fn no_halfway_poll_comes_sooner_than_the_shortest_interval() {
        let schedule = PollSchedule::fixed(MIN_POLL_INTERVAL);
        let waits: Vec<Duration> = plan(&schedule, &secs(&[1.0, 1.0, 1.0])).take(40).collect();
        assert!(waits.iter().all(|w| *w >= MIN_POLL_INTERVAL), "{waits:?}");
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
        let recent: Vec<Duration> = readiness.recent.lock().unwrap().iter().copied().collect();
        assert_eq!(recent, vec![Duration::from_secs(10); REMEMBERED]);
    }

    fn schedules() -> impl Strategy<Value = PollSchedule> {
        (0u64..3000, 100u64..5000, 0u64..120, 1.0f64..3.0, 1u64..20).prop_map(
            |(first, interval, steady, growth, cap)| {
                PollSchedule::default()
                    .first(Duration::from_millis(first))
                    .interval(Duration::from_millis(interval))
                    .steady_for(Duration::from_secs(steady))
                    .backoff(growth, Duration::from_secs(cap))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// For any history and any readiness time: at most EXTRA_POLLS more polls than the
        /// plain schedule, and a return at most one steady interval later.
        #[test]
        fn never_much_worse_than_the_plain_schedule(
            schedule in prop_oneof![Just(PollSchedule::default()), schedules()],
            history in prop::collection::vec(0.0f64..2000.0, ENOUGH..=REMEMBERED),
            readies in prop::collection::vec(0.0f64..3000.0, 1..8),
        ) {
            let history = secs(&history);
            let interval = schedule.steady_interval().as_secs_f64();
            for ready in readies {
                let (learned_polls, learned_at) = finds(plan(&schedule, &history), ready);
                let (plain_polls, plain_at) = finds(schedule.waits(), ready);
                prop_assert!(learned_polls <= plain_polls + EXTRA_POLLS, "{learned_polls} vs {plain_polls} at {ready}");
                prop_assert!(learned_at <= plain_at + interval + 1e-6, "{learned_at} vs {plain_at} at {ready}");
            }
        }
    }
}
