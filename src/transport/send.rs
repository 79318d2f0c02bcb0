//! The retry loop: attempts until one succeeds, a failure is final, the retries are spent
//! or the deadline leaves no time for another wait.

use crate::call::CallContext;
use crate::error::{Error, Result};
use crate::observe::Event;
use crate::retry::{Idempotency, jitter_unit, should_retry};

use super::{Call, Reply, Transport};

impl Transport {
    /// Sends `call`, retrying per the retry policy within `ctx`'s deadline.
    pub(crate) fn send(&self, call: &Call<'_>, ctx: &CallContext<'_>) -> Result<Reply> {
        let policy = self.retry;
        let clock = &*self.clock;
        let idempotency = if call.method == "POST" { Idempotency::NotIdempotent } else { Idempotency::Idempotent };
        let mut retry = 0;
        loop {
            ctx.check()?;
            let failure = match self.attempt(call, ctx) {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            // A stop request may be why the attempt failed (an upload aborts its read).
            ctx.check()?;
            let attempts = retry + 1;
            if retry >= policy.retries() || !should_retry(failure.attempt, idempotency) {
                return Err(failure.error.after_attempts(attempts));
            }
            let mut delay = policy.backoff(retry, jitter_unit());
            if let Some(wait) = failure.retry_after {
                let limit = ctx.remaining(clock).map_or(policy.retry_after_cap(), |r| r.min(policy.retry_after_cap()));
                if wait > limit {
                    let status = failure.error.status().unwrap_or_default();
                    return Err(Error::RetryAfterTooLong { request: call.request(), status, wait, limit });
                }
                delay = delay.max(wait);
            }
            if ctx.remaining(clock).is_some_and(|left| delay >= left) {
                // Waiting would run past the deadline: the failure is the answer.
                return Err(failure.error.after_attempts(attempts));
            }
            retry += 1;
            let what = call.request().to_string();
            ctx.emit(Event::Retrying { what: &what, cause: &failure.error, retry, delay })?;
            ctx.sleep(clock, delay)?;
        }
    }
}
