//! The context of one call, handed down to the request path: its deadline, its observer,
//! and whether it was asked to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Step};
use crate::observe::{Control, Event, Observer};

/// The longest a wait runs without checking for cancellation.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// Per-call context handed down to the request path: the deadline, the observer, whether
/// it asked to stop, and the pipeline step a stop is reported in.
pub(crate) struct CallContext<'a> {
    pub(crate) deadline: Option<Instant>,
    observer: Option<&'a dyn Observer>,
    stopped: AtomicBool,
    step: Step,
}

impl<'a> CallContext<'a> {
    /// No deadline, no observer: a plain endpoint call, which nothing can stop.
    pub(crate) fn plain() -> CallContext<'static> {
        // The step is never reported: without an observer, no check fails.
        CallContext::new(Step::Validate, None, None)
    }

    /// The context of `step`: a stop is reported as [`ErrorKind::Cancelled`] in that step.
    pub(crate) fn new(step: Step, deadline: Option<Instant>, observer: Option<&'a dyn Observer>) -> Self {
        CallContext { deadline, observer, stopped: AtomicBool::new(false), step }
    }

    /// The error of a stopped call (the pipeline adds the batch).
    fn cancelled(&self) -> Error {
        ErrorKind::Cancelled { step: self.step, batch_id: None }.into()
    }

    /// Tells the observer; fails once it asked to stop.
    pub(crate) fn emit(&self, event: Event<'_>) -> Result<(), Error> {
        if let Some(observer) = self.observer
            && observer.on_event(&event) == Control::Stop
        {
            self.stopped.store(true, Ordering::SeqCst);
        }
        self.check()
    }

    /// Tells the observer that a request leaves now; fails only when the observer answers
    /// [`Control::Stop`] to this event. (A stop asked for in the meantime is not checked
    /// here: the observer decided with it in view, and may have recorded that the request
    /// leaves.)
    pub(crate) fn announce(&self, event: Event<'_>) -> Result<(), Error> {
        match self.observer.map(|observer| observer.on_event(&event)) {
            Some(Control::Stop) => {
                self.stopped.store(true, Ordering::SeqCst);
                Err(self.cancelled())
            }
            _ => Ok(()),
        }
    }

    /// Makes every later check fail: stops work sharing this context.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Fails once the observer asked to stop (by an event or `should_stop`).
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.is_stopped() { Err(self.cancelled()) } else { Ok(()) }
    }

    /// Waits `duration` on `clock`; a stop request (the observer's, or [`stop`](Self::stop)
    /// from a sibling) ends the wait within 50 ms.
    pub(crate) fn sleep(&self, clock: &dyn Clock, duration: Duration) -> Result<(), Error> {
        self.check()?;
        clock.sleep_unless(duration, STOP_CHECK, &|| self.is_stopped());
        self.check()
    }

    /// Whether a stop was asked for (by an event, `should_stop` or [`stop`](Self::stop)).
    fn is_stopped(&self) -> bool {
        let stop = self.stopped.load(Ordering::SeqCst) || self.observer.is_some_and(|o| o.should_stop());
        if stop {
            self.stopped.store(true, Ordering::SeqCst);
        }
        stop
    }

    /// Time left before the deadline (`None`: no deadline).
    pub(crate) fn remaining(&self, clock: &dyn Clock) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(clock.now()))
    }
}
