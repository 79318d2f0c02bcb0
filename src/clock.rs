//! Time as the client sees it: a seam so that tests of retries, polling and deadlines run
//! in microseconds and assert exact delays instead of timing anything.

use std::fmt;
#[cfg(any(test, feature = "test-util"))]
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The source of time and the way to wait. The session's default is [`SystemClock`];
/// tests give a `VirtualClock` (feature `test-util`) to
/// [`SessionBuilder::clock`](crate::SessionBuilder::clock).
///
/// Only the client's own waits go through the clock (retry backoff, poll intervals, the
/// deadline). Socket timeouts are real time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
    /// The current wall-clock time (to read `Retry-After` given as an HTTP date).
    fn wall(&self) -> SystemTime;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);

    /// Waits for `duration`, or less once `stop` returns `true`; `stop` is asked at least
    /// every `check`. Returns whether the wait was cut short. Every wait of a call goes
    /// through here, so a stop request (an observer, or a sibling upload that failed)
    /// ends it within `check`.
    ///
    /// The default sleeps in slices of `check`; a virtual clock may jump instead.
    fn sleep_unless(&self, duration: Duration, check: Duration, stop: &dyn Fn() -> bool) -> bool {
        let mut left = duration;
        while !left.is_zero() {
            if stop() {
                return true;
            }
            let slice = left.min(check.max(Duration::from_millis(1)));
            self.sleep(slice);
            left -= slice;
        }
        stop()
    }
}

/// Real time: `Instant::now()` and `std::thread::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

#[cfg(any(test, feature = "test-util"))]
/// A clock for tests (feature `test-util`): `sleep` returns at once and moves time forward, and every sleep is
/// recorded so that a test can assert the exact waits.
///
/// ```
/// use std::time::Duration;
/// use hautai::clock::{Clock, VirtualClock};
///
/// let clock = VirtualClock::new();
/// let start = clock.now();
/// clock.sleep(Duration::from_secs(30));
/// assert_eq!(clock.now() - start, Duration::from_secs(30));
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)]);
/// ```
#[derive(Debug)]
pub struct VirtualClock {
    start: Instant,
    wall_start: SystemTime,
    limit: Option<(Duration, usize)>,
    state: Mutex<VirtualState>,
}

#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Default)]
struct VirtualState {
    elapsed: Duration,
    sleeps: Vec<Duration>,
    readings: usize,
}

#[cfg(any(test, feature = "test-util"))]
impl VirtualClock {
    /// A clock that starts now and advances only when slept on (or [`advance`](Self::advance)d).
    pub fn new() -> Self {
        VirtualClock { start: Instant::now(), wall_start: SystemTime::now(), limit: None, state: Mutex::default() }
    }

    /// A clock that panics when virtual time passes `time`, or more than `sleeps` waits
    /// were made, or the time was read more than twenty times that often (a loop that
    /// never waits): a test whose wait loop is broken then fails at once instead of hanging.
    ///
    /// ```should_panic
    /// use std::time::Duration;
    /// use hautai::clock::{Clock, VirtualClock};
    ///
    /// let clock = VirtualClock::with_limit(Duration::from_secs(60), 1000);
    /// loop {
    ///     clock.sleep(Duration::from_secs(1)); // panics after a virtual minute
    /// }
    /// ```
    pub fn with_limit(time: Duration, sleeps: usize) -> Self {
        VirtualClock { limit: Some((time, sleeps)), ..VirtualClock::new() }
    }

    /// Moves time forward without recording a sleep (time spent "elsewhere").
    pub fn advance(&self, duration: Duration) {
        self.lock().elapsed += duration;
    }

    /// Virtual time elapsed since the clock was made.
    pub fn elapsed(&self) -> Duration {
        self.lock().elapsed
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VirtualState> {
        // A panic elsewhere while holding the lock leaves plain numbers behind: still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        let mut state = self.lock();
        state.readings += 1;
        if let Some((_, sleeps)) = self.limit
            && state.readings > sleeps.saturating_mul(20)
        {
            let readings = state.readings;
            drop(state);
            panic!("the virtual clock was read {readings} times: a loop does not wait and does not end");
        }
        self.start + state.elapsed
    }
    fn wall(&self) -> SystemTime {
        self.wall_start + self.lock().elapsed
    }
    fn sleep(&self, duration: Duration) {
        let mut state = self.lock();
        state.elapsed += duration;
        state.sleeps.push(duration);
        if let Some((time, sleeps)) = self.limit
            && (state.elapsed > time || state.sleeps.len() > sleeps)
        {
            let (elapsed, count) = (state.elapsed, state.sleeps.len());
            drop(state);
            panic!("the virtual clock's limit was passed ({elapsed:?} in {count} waits): a wait loop does not end");
        }
    }

    /// Virtual waits take no time, so there is nothing to cut short: a stop already
    /// requested skips the wait, otherwise it is one recorded sleep.
    fn sleep_unless(&self, duration: Duration, _check: Duration, stop: &dyn Fn() -> bool) -> bool {
        if stop() {
            return true;
        }
        self.sleep(duration);
        stop()
    }
}
