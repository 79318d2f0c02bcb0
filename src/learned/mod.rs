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
//! * **just before the usual readiness**, when the usual samples are within one steady
//!   interval of each other (each sample is when the poll that found the results complete
//!   was sent, so they were complete by then): [`DENSE`] polls a shortest interval apart,
//!   the last at the quickest sample, so that a service whose batches take as long as last
//!   time is seen ready within one shortest interval.
//!
//! So for any readiness time, the plan returns at most one steady interval after the plain
//! schedule would, with at most [`EXTRA_POLLS`] more polls. Usual readiness times are the
//! samples within a factor of two of their median: one odd batch (three samples are
//! enough to tell) does not stretch the window. One sample is enough to learn from: a
//! one-shot program that remembers its service's last batch (the `hautai` command keeps it
//! in its cache folder) polls around it from its second run.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::poll::PollSchedule;
use crate::util::limits::MIN_POLL_INTERVAL;

/// How many readiness times are remembered.
const REMEMBERED: usize = 20;
/// How many are needed before the schedule changes.
const ENOUGH: usize = 1;
/// The most polls a learned plan adds to the plain schedule's.
pub(crate) const EXTRA_POLLS: usize = 10;
/// Of those, the polls just before the quickest usual readiness.
const DENSE: usize = 3;

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

    /// The readiness times remembered, oldest first.
    pub(crate) fn recent(&self) -> Vec<Duration> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect()
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
        Some(window) => Box::new(Learned::new(schedule, window, steady_readiness(schedule, history))),
        None => Box::new(schedule.waits()),
    }
}

/// The quickest and the slowest usual readiness: within a factor of two of the median.
fn usual(history: &[Duration]) -> Option<(Duration, Duration)> {
    if history.len() < ENOUGH {
        return None;
    }
    let mut sorted = history.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let usual = |d: &&Duration| **d >= median / 2 && **d <= median.saturating_mul(2);
    Some((*sorted.iter().find(usual)?, *sorted.iter().rev().find(usual)?))
}

/// Where the dense polls end: the quickest usual readiness, when the usual ones are within
/// one steady interval of each other (a service whose batches take as long each time);
/// none otherwise (they would only add polls).
fn steady_readiness(schedule: &PollSchedule, history: &[Duration]) -> Option<Duration> {
    let (low, high) = usual(history)?;
    (high - low <= schedule.steady_interval()).then_some(low)
}

/// From one steady interval before the quickest usual readiness to two after the slowest.
fn window(schedule: &PollSchedule, history: &[Duration]) -> Option<(Duration, Duration)> {
    let (low, high) = usual(history)?;
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
    /// The polls just before the quickest usual readiness, not yet handed out.
    dense: VecDeque<Duration>,
}

impl Learned {
    fn new(schedule: &PollSchedule, window: (Duration, Duration), steady: Option<Duration>) -> Learned {
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
            extras_left: EXTRA_POLLS - DENSE,
            previous: Duration::ZERO,
            left_out_previous: false,
            queue: VecDeque::new(),
            emitted: Duration::ZERO,
            dense: (0..DENSE as u32)
                .rev()
                .filter_map(|k| steady.and_then(|at| at.checked_sub(MIN_POLL_INTERVAL * k)))
                .collect(),
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
        let planned = *self.queue.front()?;
        // A dense poll goes first when it comes a shortest interval after the last poll and
        // before the next planned one; one too close to either is left out.
        while let Some(&dense) = self.dense.front() {
            let clear = dense >= self.emitted + MIN_POLL_INTERVAL && dense + MIN_POLL_INTERVAL <= planned;
            if dense < planned && !clear {
                self.dense.pop_front();
                continue;
            }
            break;
        }
        let at = match self.dense.front() {
            Some(&dense) if dense < planned => self.dense.pop_front()?,
            _ => self.queue.pop_front()?,
        };
        let wait = at.saturating_sub(self.emitted);
        self.emitted = at;
        Some(wait)
    }
}

#[cfg(test)]
mod tests;
