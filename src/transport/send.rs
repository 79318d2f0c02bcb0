//! The retry loop: attempts until one succeeds, a failure is final, the retries (or the
//! shared retry budget) are spent, or the deadline leaves no time for another wait. Every
//! attempt first waits out the session's backpressure (a host's `Retry-After` hold, the
//! rate limit).

use crate::call::CallContext;
use crate::error::{Error, ErrorKind, Result};
use crate::observe::Event;
use crate::retry::{Idempotency, RETRY_COST, TIMEOUT_RETRY_COST, jitter_unit, should_retry};

use super::{Dest, Outgoing, Reply, Transport};
use crate::util::url;

impl Transport {
    /// Sends `call`, retrying per the retry policy within `ctx`'s deadline.
    pub(crate) fn send(&self, call: &Outgoing<'_>, ctx: &CallContext<'_>) -> Result<Reply> {
        let policy = self.retry;
        let clock = &*self.clock;
        let idempotency = if call.method == "POST" { Idempotency::NotIdempotent } else { Idempotency::Idempotent };
        let (host, api) = match &call.dest {
            Dest::Api { .. } => (url::authority_of(&self.base_url), true),
            Dest::Storage { url, .. } => (url::authority_of(url), false),
        };
        let mut retry = 0;
        let mut spent = 0;
        loop {
            ctx.check()?;
            let mut turn = self.pressure.turn(&host, api, clock.now());
            while !turn.wait.is_zero() {
                // Past the deadline the attempt fails at once, as a timeout.
                let left = ctx.remaining(clock);
                ctx.sleep(clock, left.map_or(turn.wait, |left| turn.wait.min(left)))?;
                // A throttling answer came while this request waited: its turn was given at
                // the old pace and before the hold, so it takes a new one.
                if !self.pressure.changed_since(turn.epoch) || left.is_some_and(|left| left <= turn.wait) {
                    break;
                }
                turn = self.pressure.turn(&host, api, clock.now());
            }
            self.pressure.sending(api, clock.now());
            if idempotency == Idempotency::NotIdempotent {
                // The last moment before the server may take it: a journal records it here.
                ctx.announce(Event::Sending { what: &call.request().to_string(), attempt: retry + 1 })?;
            }
            let started = std::time::Instant::now();
            let attempt = self.attempt(call, ctx);
            // One line per request: method, path (never the query), outcome, time, attempt.
            let outcome = match &attempt {
                Ok(reply) => reply.status.to_string(),
                Err(failure) => failure.error.status().map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
            };
            log::debug!(
                "{} {outcome} in {:.3}s (attempt {})",
                call.request(),
                started.elapsed().as_secs_f64(),
                retry + 1
            );
            let failure = match attempt {
                Ok(reply) => {
                    self.pressure.succeeded(spent, api, clock.now());
                    return Ok(reply);
                }
                Err(failure) => failure,
            };
            // A stop request may be why the attempt failed (an upload aborts its read).
            ctx.check()?;
            let status = failure.error.status();
            if matches!(status, Some(429 | 503)) {
                let hold = failure.retry_after.map(|wait| wait.min(policy.retry_after_cap()));
                self.pressure.throttled(&host, hold, api && status == Some(429), clock.now());
            }
            let attempts = retry + 1;
            if !should_retry(failure.attempt, idempotency) {
                return Err(failure.error.after_attempts(attempts));
            }
            if retry >= policy.retries() {
                return Err(gave_up(failure.error.after_attempts(attempts), "the retries are spent"));
            }
            let mut delay = policy.backoff(retry, jitter_unit());
            if let Some(wait) = failure.retry_after {
                let limit = ctx.remaining(clock).map_or(policy.retry_after_cap(), |r| r.min(policy.retry_after_cap()));
                if wait > limit {
                    let status = failure.error.status().unwrap_or_default();
                    let error = ErrorKind::RetryAfterTooLong { request: call.request(), status, wait, limit };
                    return Err(gave_up(error.into(), "the wait asked for is too long"));
                }
                delay = delay.max(wait);
            }
            if ctx.remaining(clock).is_some_and(|left| delay >= left) {
                // Waiting would run past the deadline: the failure is the answer.
                return Err(gave_up(failure.error.after_attempts(attempts), "the deadline leaves no time to wait"));
            }
            let timeout = matches!(failure.error.kind(), ErrorKind::RequestTimeout { .. });
            if !self.pressure.spend(timeout) {
                // The shared budget is spent: the service is failing for everyone.
                return Err(gave_up(failure.error.after_attempts(attempts), "the retry budget is spent"));
            }
            spent += if timeout { TIMEOUT_RETRY_COST } else { RETRY_COST };
            retry += 1;
            let what = call.request().to_string();
            log::info!("retry {retry} of {what} in {:.2}s: {}", delay.as_secs_f64(), failure.error);
            ctx.emit(Event::Retrying { what: &what, cause: &failure.error, retry, delay })?;
            ctx.sleep(clock, delay)?;
        }
    }
}

/// A failure that a retry could have fixed, returned because retrying must stop: said at
/// warn, with why. (Every message is already scrubbed of secrets.)
fn gave_up(error: Error, why: &str) -> Error {
    log::warn!("giving up ({why}): {error}");
    error
}
