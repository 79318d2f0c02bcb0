//! Step 5: polling for results under the deadline.

use std::time::Duration;

use uuid::Uuid;

use crate::error::{DetectionError, Error, Result, Step};
use crate::model::{BatchResults, ResultsQuery};
use crate::observe::{CallContext, Event};
use crate::session::Session;

use super::{AnalysisOptions, Span};

/// Time kept free before the deadline for the last check to complete: twice the last
/// poll's round trip, within these bounds.
const LAST_CHECK_MARGIN: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(2));

impl Session {
    /// Polls `batch_id` until its results are complete, a detection error appears, the
    /// observer stops it, or the deadline comes. The first poll comes after `first`.
    pub(crate) fn wait(
        &self,
        batch_id: Uuid,
        options: &AnalysisOptions<'_>,
        ctx: &CallContext<'_>,
        span: Span,
        first: Duration,
    ) -> Result<BatchResults> {
        let clock = &*self.shared.clock;
        // Polls never ask for masks: small answers. The caller's options apply once, at the end.
        let poll_query = ResultsQuery { with_masks: Some(false), ..options.results };
        let mut waits = self.shared.poll.waits().skip(1);
        let mut margin = LAST_CHECK_MARGIN.0;
        let mut polls = 0;
        let mut next = self.plan(first, span, margin);
        loop {
            let Some((wait, last)) = next else {
                let (deadline, elapsed) = (span.deadline - span.start, clock.now() - span.start);
                return Err(Error::Deadline {
                    step: Step::Results,
                    batch_id: Some(batch_id),
                    deadline,
                    elapsed,
                    polls,
                });
            };
            let slept = ctx.sleep(clock, wait).map_err(Error::from);
            self.step(Step::Results, Some(batch_id), span, polls, slept)?;

            polls += 1;
            let sent = clock.now();
            let results = self.results_in(batch_id, &poll_query, ctx);
            let results = self.step(Step::Results, Some(batch_id), span, polls, results)?;
            margin = (clock.now() - sent).saturating_mul(2).clamp(LAST_CHECK_MARGIN.0, LAST_CHECK_MARGIN.1);

            let sides = results.detection_errors();
            if !sides.is_empty() {
                return Err(Error::Detection(Box::new(DetectionError { batch_id, sides, results })));
            }
            let complete = results.is_complete();
            next = if complete || last { None } else { self.plan(waits.next().unwrap_or(wait), span, margin) };
            let polled = ctx.emit(Event::Polled { attempt: polls, complete, next_delay: next.map(|(w, _)| w) });
            self.step(Step::Results, Some(batch_id), span, polls, polled.map_err(Error::from))?;
            if complete {
                let results = if poll_query == options.results {
                    results
                } else {
                    let fetched = self.results_in(batch_id, &options.results, ctx);
                    self.step(Step::Results, Some(batch_id), span, polls, fetched)?
                };
                let elapsed = clock.now() - span.start;
                let done = ctx.emit(Event::Done { batch_id, elapsed }).map_err(Error::from);
                self.step(Step::Results, Some(batch_id), span, polls, done)?;
                return Ok(results);
            }
        }
    }

    /// When to poll next: after `wait`, or, when that would leave less than `margin`
    /// before the deadline, one last time `margin` before it. `None` once past it.
    fn plan(&self, wait: Duration, span: Span, margin: Duration) -> Option<(Duration, bool)> {
        let left = span.deadline.checked_duration_since(self.shared.clock.now())?;
        if left.is_zero() {
            return None;
        }
        if wait.saturating_add(margin) < left { Some((wait, false)) } else { Some((left.saturating_sub(margin), true)) }
    }
}
