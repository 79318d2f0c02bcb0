//! The context of one call, handed down to the request path: its deadline, its observer,
//! and whether it was asked to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::error::Error;
use crate::observe::{Control, Event, Observer};

/// The longest a wait runs without checking for cancellation.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// Per-call context handed down to the request path: the deadline, the observer, and
/// whether the observer asked to stop.
pub(crate) struct CallContext<'a> {
    pub(crate) deadline: Option<Instant>,
    observer: Option<&'a dyn Observer>,
    stopped: AtomicBool,
}

/// Returned when the observer asked to stop.
#[derive(Debug)]
pub(crate) struct Stopped;

impl From<Stopped> for Error {
    /// A cancellation; the pipeline's `Session::step` fills in where it happened.
    fn from(_: Stopped) -> Error {
        Error::Cancelled { step: crate::error::Step::Validate, batch_id: None }
    }
}

impl<'a> CallContext<'a> {
    /// No deadline, no observer: a plain endpoint call.
    pub(crate) fn plain() -> CallContext<'static> {
        CallContext { deadline: None, observer: None, stopped: AtomicBool::new(false) }
    }

    pub(crate) fn new(deadline: Option<Instant>, observer: Option<&'a dyn Observer>) -> Self {
        CallContext { deadline, observer, stopped: AtomicBool::new(false) }
    }

    /// Tells the observer; fails once it asked to stop.
    pub(crate) fn emit(&self, event: Event<'_>) -> Result<(), Stopped> {
        if let Some(observer) = self.observer
            && observer.on_event(&event) == Control::Stop
        {
            self.stopped.store(true, Ordering::SeqCst);
        }
        self.check()
    }

    /// The observer, for a context derived from this one.
    pub(crate) fn observer(&self) -> Option<&'a dyn Observer> {
        self.observer
    }

    /// Makes every later check fail: stops work sharing this context.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Fails once the observer asked to stop (by an event or `should_stop`).
    pub(crate) fn check(&self) -> Result<(), Stopped> {
        let stop = self.stopped.load(Ordering::SeqCst) || self.observer.is_some_and(|o| o.should_stop());
        if stop {
            self.stopped.store(true, Ordering::SeqCst);
            Err(Stopped)
        } else {
            Ok(())
        }
    }

    /// Waits `duration` on `clock`; a stop request (the observer's, or [`stop`](Self::stop)
    /// from a sibling) ends the wait within 50 ms.
    pub(crate) fn sleep(&self, clock: &dyn Clock, duration: Duration) -> Result<(), Stopped> {
        self.check()?;
        clock.sleep_unless(duration, STOP_CHECK, &|| self.check().is_err());
        self.check()
    }

    /// Time left before the deadline (`None`: no deadline).
    pub(crate) fn remaining(&self, clock: &dyn Clock) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(clock.now()))
    }
}
