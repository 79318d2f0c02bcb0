//! Progress and cancellation: what a caller sees of a call while it runs.

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use crate::error::Error;
use crate::model::Side;

/// What an observer says after each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Go on.
    #[default]
    Continue,
    /// Stop as soon as possible; the call returns [`ErrorKind::Cancelled`](crate::error::ErrorKind::Cancelled).
    Stop,
}

/// Something that happened during a call. Events arrive in order for each side; uploads
/// of different sides run at the same time, so their events interleave.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Every input was checked; nothing has been sent yet.
    Validated {
        /// The sides to upload, with their sizes in bytes.
        sides: &'a [(Side, u64)],
    },
    /// The batch exists on the server (initiate succeeded).
    BatchCreated {
        /// The new batch.
        batch_id: Uuid,
    },
    /// More bytes of a side were sent (reported every 256 KiB and at the end).
    UploadProgress {
        /// The side.
        side: Side,
        /// Bytes sent so far in this attempt.
        sent: u64,
        /// The image's size.
        total: u64,
    },
    /// A side's upload finished.
    Uploaded {
        /// The side.
        side: Side,
        /// Its size in bytes.
        bytes: u64,
        /// How long the upload took, retries included.
        elapsed: Duration,
    },
    /// Every upload succeeded and compute is being requested.
    Computing {
        /// The batch.
        batch_id: Uuid,
    },
    /// The service took the compute request: its answer came back, or, when the answer was
    /// lost, polling showed the batch at work. From here the batch goes on without the
    /// caller; it can always be resumed with
    /// [`wait_for_results`](crate::Session::wait_for_results).
    Computed {
        /// The batch.
        batch_id: Uuid,
    },
    /// The results were polled.
    Polled {
        /// 1 for the first poll.
        attempt: u32,
        /// Whether the results were complete.
        complete: bool,
        /// The wait before the next poll (`None` when this was the last).
        next_delay: Option<Duration>,
    },
    /// A request the server may carry out (a POST: initiate, compute) leaves now, after
    /// any wait for a `Retry-After` hold or the rate limit; one event per attempt. Until
    /// its answer arrives, the server may or may not have taken it. An observer that
    /// returns [`Control::Stop`] here stops the call before the request leaves.
    Sending {
        /// The request, e.g. `POST /api/v3/.../compute/`.
        what: &'a str,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// A request failed and will be tried again.
    Retrying {
        /// The request, e.g. `GET /api/v3/.../results/` or `PUT front image`.
        what: &'a str,
        /// Why it failed.
        cause: &'a Error,
        /// 1 for the first retry.
        retry: u32,
        /// The wait before the retry.
        delay: Duration,
    },
    /// The call finished successfully.
    Done {
        /// The batch.
        batch_id: Uuid,
        /// The whole call's duration.
        elapsed: Duration,
    },
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Validated { sides } => {
                f.write_str("validated")?;
                for (side, bytes) in *sides {
                    write!(f, " {side} ({bytes} bytes)")?;
                }
                Ok(())
            }
            Event::BatchCreated { batch_id } => write!(f, "batch {batch_id} created"),
            Event::UploadProgress { side, sent, total } => write!(f, "{side}: {sent}/{total} bytes sent"),
            Event::Uploaded { side, bytes, elapsed } => {
                write!(f, "{side}: {bytes} bytes uploaded in {:.2}s", elapsed.as_secs_f64())
            }
            Event::Computing { batch_id } => write!(f, "computing batch {batch_id}"),
            Event::Computed { batch_id } => write!(f, "batch {batch_id} is being computed"),
            Event::Polled { attempt, complete, next_delay } => match (complete, next_delay) {
                (true, _) => write!(f, "poll {attempt}: complete"),
                (false, Some(d)) => write!(f, "poll {attempt}: not ready, next in {:.1}s", d.as_secs_f64()),
                (false, None) => write!(f, "poll {attempt}: not ready"),
            },
            Event::Sending { what, attempt } => write!(f, "sending {what} (attempt {attempt})"),
            Event::Retrying { what, cause, retry, delay } => {
                // The cause usually starts with the request it names: say it once.
                let cause = cause.to_string();
                let cause = cause.strip_prefix(*what).map_or(cause.as_str(), str::trim_start);
                write!(f, "retry {retry} of {what} in {:.2}s: {cause}", delay.as_secs_f64())
            }
            Event::Done { batch_id, elapsed } => {
                write!(f, "batch {batch_id} done in {:.2}s", elapsed.as_secs_f64())
            }
        }
    }
}

/// Receives the [`Event`]s of a pipeline call and may ask it to stop.
///
/// Any `Fn(&Event) -> Control + Sync` closure is an observer. Uploads run on several
/// threads at once, so an observer is called through `&self` from more than one thread:
/// keep state behind a `Mutex` or atomics.
///
/// ```
/// use hautai::observe::{Control, Event};
///
/// let print = |event: &Event| {
///     eprintln!("{event}");
///     Control::Continue
/// };
/// # let _: &dyn hautai::observe::Observer = &print;
/// ```
///
/// To stop from elsewhere (a Ctrl-C handler, a UI button), implement
/// [`should_stop`](Observer::should_stop): it is checked between events and at least
/// every 50 ms while the call waits.
pub trait Observer: Sync {
    /// Called for each event; return [`Control::Stop`] to cancel the call.
    fn on_event(&self, event: &Event<'_>) -> Control;

    /// Checked while the call waits; return `true` to cancel it.
    fn should_stop(&self) -> bool {
        false
    }
}

impl<F> Observer for F
where
    F: Fn(&Event<'_>) -> Control + Sync,
{
    fn on_event(&self, event: &Event<'_>) -> Control {
        self(event)
    }
}
