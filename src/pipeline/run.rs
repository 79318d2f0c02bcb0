//! One pipeline call: its context, its deadline and what is known so far. Every error of
//! the call gets its step, its batch and its advice here, in [`Run::stamp`].

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::call::CallContext;
use crate::error::{Error, ErrorKind, Result, Step};
use crate::observe::{Event, Observer};
use crate::session::Session;
use crate::util::limits;

use super::AnalysisOptions;

/// The state of one `run_analysis` or `wait_for_results` call.
pub(crate) struct Run<'s, 'o> {
    pub(crate) session: &'s Session,
    observer: Option<&'o dyn Observer>,
    pub(crate) start: Instant,
    pub(crate) deadline: Instant,
    /// The batch, once initiate answered.
    pub(crate) batch_id: Option<Uuid>,
    /// Result polls made.
    pub(crate) polls: u32,
    /// Whether compute was sent (or may have been): from then on, the batch can be resumed.
    pub(crate) compute_sent: bool,
    /// Whether the wait's readiness time teaches the session (it started at compute).
    pub(crate) learns: bool,
}

impl<'s, 'o> Run<'s, 'o> {
    /// Starts the call's clock; the deadline is the options' or the session's.
    pub(crate) fn start(session: &'s Session, options: &AnalysisOptions<'o>) -> Result<Self> {
        let deadline = match options.deadline {
            Some(deadline) => limits::positive("AnalysisOptions::deadline", deadline)?,
            None => session.shared.deadline,
        };
        let start = session.clock().now();
        Ok(Run {
            session,
            observer: options.observer,
            start,
            deadline: start + deadline,
            batch_id: None,
            polls: 0,
            compute_sent: false,
            learns: true,
        })
    }

    /// The context of the call's requests in `step`: the deadline and the observer.
    pub(crate) fn ctx(&self, step: Step) -> CallContext<'o> {
        CallContext::new(step, Some(self.deadline), self.observer)
    }

    /// Tells the observer, as part of `step`.
    pub(crate) fn emit(&self, step: Step, event: Event<'_>) -> Result<()> {
        self.stamp(step, self.ctx(step).emit(event))
    }

    /// Waits `wait`, as part of `step` (a stop request ends the wait).
    pub(crate) fn sleep(&self, step: Step, wait: Duration) -> Result<()> {
        self.stamp(step, self.ctx(step).sleep(self.session.clock(), wait))
    }

    /// Whether the deadline has come.
    pub(crate) fn out_of_time(&self) -> bool {
        self.session.clock().now() >= self.deadline
    }

    /// The deadline error for `step`.
    pub(crate) fn deadline_error(&self, step: Step) -> Error {
        let now = self.session.clock().now();
        Error::from(ErrorKind::Deadline {
            step,
            batch_id: self.batch_id,
            deadline: self.deadline - self.start,
            elapsed: now.saturating_duration_since(self.start),
            polls: self.polls,
            compute_sent: self.compute_sent,
        })
    }

    /// Gives a failure of `step` its context: the step and batch with advice, or the
    /// deadline, or the cancellation.
    pub(crate) fn stamp<T>(&self, step: Step, result: Result<T>) -> Result<T> {
        result.map_err(|error| match error.kind() {
            // The context named the step; the batch is known here.
            ErrorKind::Cancelled { step, .. } => ErrorKind::Cancelled { step: *step, batch_id: self.batch_id }.into(),
            _ if self.out_of_time() => self.deadline_error(step),
            _ => {
                let hint = hint(step, &error);
                error.in_step(step, self.batch_id, hint)
            }
        })
    }
}

/// Whether a failed request may have been carried out by the server all the same: the
/// connection broke or timed out after sending, or a 5xx other than 503 came back.
pub(crate) fn in_doubt(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Transport { kind, .. } => !kind.not_sent(),
        ErrorKind::RequestTimeout { connecting, .. } => !connecting,
        ErrorKind::Api(api) => api.status >= 500 && api.status != 503,
        _ => false,
    }
}

/// Whether a failed pipeline call certainly left its compute untaken: the service refused
/// it (the request path resends compute only after such an answer, and an answer in doubt
/// ends the step another way), or the deadline came before compute was sent.
pub(crate) fn compute_not_taken(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Deadline { step: Step::Compute, compute_sent, .. } => !compute_sent,
        ErrorKind::ComputeUnconfirmed { .. } => false,
        _ => error.failed_step() == Some(Step::Compute) && !in_doubt(error),
    }
}

/// What the caller can do after `step` failed with `error`, when resuming or retrying
/// can help; `None` when it cannot (a 401, a 404, an answer that does not decode, ...).
fn hint(step: Step, error: &Error) -> Option<&'static str> {
    let doubt = in_doubt(error);
    let transient = error.is_retryable();
    match step {
        Step::Initiate if doubt => Some("a batch may have been created anyway; it is harmless if unused"),
        Step::Upload if transient => Some("nothing was computed: run the analysis again later"),
        Step::Compute if doubt => {
            Some("the server may have started computing: check with wait_for_results before calling compute again")
        }
        // The server said it did not take the request (429, 503, refused): try again later.
        Step::Compute if transient => {
            Some("the images are uploaded: call compute for this batch again later, then wait_for_results")
        }
        Step::Results if transient => Some("the batch goes on on the server: resume with wait_for_results later"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TransportKind;

    fn post() -> crate::error::Request {
        crate::error::Request { method: "POST", path: "/p".into() }
    }

    fn transport(kind: TransportKind) -> Error {
        ErrorKind::Transport { request: post(), kind, detail: String::new() }.into()
    }

    fn timeout(connecting: bool) -> Error {
        ErrorKind::RequestTimeout { request: post(), after: std::time::Duration::from_secs(1), connecting }.into()
    }

    fn status(status: u16) -> Error {
        ErrorKind::Api(crate::error::ApiError::answered(post(), status)).into()
    }

    #[test]
    fn a_request_is_in_doubt_only_when_the_server_may_have_taken_it() {
        for doubtful in [transport(TransportKind::Broken), transport(TransportKind::Protocol), timeout(false)] {
            assert!(in_doubt(&doubtful), "{doubtful}");
        }
        for answer in [500, 502, 504] {
            assert!(in_doubt(&status(answer)), "{answer}");
        }
        let certain = [
            transport(TransportKind::ConnectionRefused),
            transport(TransportKind::Request),
            transport(TransportKind::Certificate),
            timeout(true),
            status(503),
            status(429),
            status(400),
            ErrorKind::Config("x".into()).into(),
        ];
        for error in certain {
            assert!(!in_doubt(&error), "{error}");
        }
        let wrapped = timeout(false).in_step(Step::Compute, None, None);
        assert!(in_doubt(&wrapped));
    }

    #[test]
    fn a_compute_is_untaken_only_when_refused_or_never_sent() {
        let deadline = |compute_sent| {
            Error::from(ErrorKind::Deadline {
                step: Step::Compute,
                batch_id: None,
                deadline: Duration::from_secs(1),
                elapsed: Duration::from_secs(1),
                polls: 0,
                compute_sent,
            })
        };
        assert!(compute_not_taken(&deadline(false)));
        assert!(!compute_not_taken(&deadline(true)));
        assert!(compute_not_taken(&status(429).in_step(Step::Compute, None, None)));
        assert!(!compute_not_taken(&status(500).in_step(Step::Compute, None, None)), "in doubt");
        assert!(!compute_not_taken(&status(429).in_step(Step::Upload, None, None)), "another step");
        assert!(!compute_not_taken(&status(429)), "not from the pipeline");
    }

    #[test]
    fn advice_follows_the_step_and_whether_the_server_may_have_acted() {
        let initiate = hint(Step::Initiate, &transport(TransportKind::Broken)).unwrap_or_default();
        assert!(initiate.contains("batch may have been created"), "{initiate}");
        assert_eq!(hint(Step::Initiate, &status(400)), None);
        let compute = hint(Step::Compute, &timeout(false)).unwrap_or_default();
        assert!(compute.contains("check with wait_for_results"), "{compute}");
    }
}
