//! Step 5: polling for results under the deadline.

use std::time::{Duration, Instant};

use crate::error::{DetectionError, Error, ErrorKind, Result, Step};
use crate::model::{BatchResults, ResultsQuery};
use crate::observe::Event;
use crate::util::redact;

use super::run::Run;
use super::{AnalysisOptions, COMPUTE_CONFIRMATION};

/// Time kept free before the deadline for the last check to complete: twice the last
/// poll's round trip, within these bounds.
const LAST_CHECK_MARGIN: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(2));

/// A detection error seen while polling: the wait goes on while the results change.
struct Detected {
    /// When the results last changed.
    since: Instant,
    /// What changed last: applications, whether each is complete, its parameters and
    /// detection errors (signed URLs are left out: they change with every answer).
    progress: Vec<String>,
}

impl Run<'_, '_> {
    /// Polls the run's batch until its results are complete, a detection error settles,
    /// the observer stops it, or the deadline comes. `waits` are the waits before each poll.
    /// `doubt`: compute's answer was lost, so the batch must show work within
    /// [`COMPUTE_CONFIRMATION`] or the call ends with that error.
    pub(crate) fn wait(
        &mut self,
        options: &AnalysisOptions<'_>,
        mut waits: Box<dyn Iterator<Item = Duration> + Send>,
        mut doubt: Option<Error>,
    ) -> Result<BatchResults> {
        let clock = self.session.clock();
        let schedule = self.session.shared.poll;
        let batch_id = self.batch_id.unwrap_or_default();
        let poll_query = poll_query(options);
        let waiting_since = clock.now();
        let first = waits.next().unwrap_or_default();
        let mut margin = LAST_CHECK_MARGIN.0;
        let mut detected: Option<Detected> = None;
        let mut latest: Option<BatchResults> = None;
        let mut next = self.plan(first, margin);
        // The planned waits are counted from compute, not from each answer: a poll is due
        // at the time the schedule says however long the answers before it took, so that
        // a learned poll lands when the batch was ready last time.
        let (mut due, mut planned) = (waiting_since + first, first);
        loop {
            let Some((wait, last)) = next else {
                return Err(self.gave_up(options, latest, doubt));
            };
            self.sleep(Step::Results, wait)?;

            self.polls += 1;
            let sent = clock.now();
            let polled = self.session.results_in(batch_id, &poll_query, &self.ctx(Step::Results));
            let results = self.stamp(Step::Results, polled)?;
            margin = (clock.now() - sent).saturating_mul(2).clamp(LAST_CHECK_MARGIN.0, LAST_CHECK_MARGIN.1);
            let now = clock.now();

            if !results.is_empty() {
                if doubt.take().is_some() {
                    // The batch shows work: the compute whose answer was lost was taken.
                    self.emit(Step::Compute, Event::Computed { batch_id })?;
                }
            } else if doubt.is_some() && now - waiting_since >= COMPUTE_CONFIRMATION {
                return Err(self.gave_up(options, None, doubt));
            }

            let complete = results.is_complete();
            planned = waits.next().unwrap_or(planned);
            // Never back to back when the answers fall behind the plan: catch up, not burst.
            due = (due + planned).max(now + planned.min(crate::util::limits::MIN_POLL_INTERVAL));
            let mut wait = due - now;
            if !results.detection_errors().is_empty() {
                let progress = progress(&results);
                if detected.as_ref().is_none_or(|d| d.progress != progress) {
                    detected = Some(Detected { since: now, progress });
                }
                let unchanged = now - detected.as_ref().map_or(now, |d| d.since);
                let grace = schedule.grace();
                if complete || unchanged >= grace {
                    return Err(self.detection_error(options, results));
                }
                // Look again when the grace runs out at the latest.
                wait = wait.min(grace - unchanged);
            }
            latest = Some(results);
            next = if complete || last { None } else { self.plan(wait, margin) };
            let polled = Event::Polled { attempt: self.polls, complete, next_delay: next.map(|(w, _)| w) };
            self.emit(Step::Results, polled)?;
            if complete {
                if self.learns {
                    // When the poll that found them complete was sent: they were complete by then.
                    self.session.shared.readiness.record(sent - waiting_since);
                }
                let results = latest.take().unwrap_or_default();
                let results = self.final_fetch(options, results)?;
                let elapsed = clock.now() - self.start;
                self.emit(Step::Results, Event::Done { batch_id, elapsed })?;
                return Ok(results);
            }
        }
    }

    /// When to poll next: after `wait`, or, when that would leave less than `margin`
    /// before the deadline, one last time `margin` before it. `None` once past it.
    fn plan(&self, wait: Duration, margin: Duration) -> Option<(Duration, bool)> {
        let left = self.deadline.checked_duration_since(self.session.clock().now())?;
        if left.is_zero() {
            return None;
        }
        if wait.saturating_add(margin) < left { Some((wait, false)) } else { Some((left.saturating_sub(margin), true)) }
    }

    /// The complete results with the caller's options. When that fetch cannot finish
    /// before the deadline, the complete results of the last poll are the answer: complete
    /// results are never thrown away (their masks may be missing).
    fn final_fetch(&self, options: &AnalysisOptions<'_>, polled: BatchResults) -> Result<BatchResults> {
        if poll_query(options) == options.results {
            return Ok(polled);
        }
        let batch_id = self.batch_id.unwrap_or_default();
        match self.session.results_in(batch_id, &options.results, &self.ctx(Step::Results)) {
            Ok(fetched) => Ok(fetched),
            Err(error) if matches!(error.kind(), ErrorKind::RequestTimeout { .. }) => Ok(polled),
            Err(_) if self.out_of_time() => Ok(polled),
            Err(error) => self.stamp(Step::Results, Err(error)),
        }
    }

    /// The detection error, holding the most complete results with the caller's options.
    fn detection_error(&self, options: &AnalysisOptions<'_>, polled: BatchResults) -> Error {
        // A failure here keeps what the last poll showed.
        let results = match self.final_fetch(options, polled.clone()) {
            Ok(fetched) if !fetched.detection_errors().is_empty() => fetched,
            _ => polled,
        };
        // The service's explanations are text from a body: scrubbed and made one visible
        // line like every other.
        let sides = results
            .detection_errors()
            .into_iter()
            .map(|(side, why)| (side, redact::excerpt(&redact::scrub(&why), 300)))
            .collect();
        let batch_id = self.batch_id.unwrap_or_default();
        ErrorKind::Detection(DetectionError { batch_id, sides, results }).into()
    }

    /// The error when the wait ends without complete results: compute's error when it
    /// was never confirmed, a settled detection error, or the deadline.
    fn gave_up(&self, options: &AnalysisOptions<'_>, latest: Option<BatchResults>, doubt: Option<Error>) -> Error {
        if let Some(error) = doubt {
            let (error, hint) = match *error.kind() {
                // A resumed wait: compute was sent by an earlier call, so only its caller
                // can decide to send it again.
                ErrorKind::ComputeUnconfirmed { batch_id, .. } => {
                    let waited = self.session.clock().now().saturating_duration_since(self.start);
                    let hint = "start the analysis over on purpose if it must be done (with bulk runs: \
                                Bulk::retry_failed, hautai folder --retry-failed); if the first compute did \
                                arrive, that pays twice";
                    (ErrorKind::ComputeUnconfirmed { batch_id, waited }.into(), hint)
                }
                _ => (
                    error,
                    "compute's answer was lost and the batch showed no work: check with wait_for_results \
                     before calling compute again",
                ),
            };
            return error.in_step(Step::Compute, self.batch_id, Some(hint));
        }
        match latest {
            Some(results) if !results.detection_errors().is_empty() => self.detection_error(options, results),
            _ => self.deadline_error(Step::Results),
        }
    }
}

/// The query of every poll: the caller's options without masks (small answers); the
/// caller's own query applies once, to the final fetch.
fn poll_query(options: &AnalysisOptions<'_>) -> ResultsQuery {
    ResultsQuery { with_masks: Some(false), ..options.results }
}

/// What a poll shows of the work's progress, without the signed URLs that change with
/// every answer.
fn progress(results: &BatchResults) -> Vec<String> {
    results
        .applications()
        .iter()
        .map(|(name, a)| {
            let parameters: Vec<&str> = a.parameters.names().collect();
            format!("{name} {} {parameters:?} {:?}", a.all_algorithms_calculated, a.detection_errors)
        })
        .collect()
}
