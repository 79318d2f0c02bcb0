//! The retry loop: attempts until one succeeds, a failure is final, the retries (or the
//! shared retry budget) are spent, or the deadline leaves no time for another wait. Each
//! turn is three steps: wait for the session's backpressure to let the request go (a
//! host's `Retry-After` hold, the rate limit), send it once, and decide whether and when
//! to try again.

use std::time::Duration;

use crate::call::CallContext;
use crate::error::{Error, ErrorKind, Result};
use crate::observe::Event;
use crate::retry::{Idempotency, RETRY_COST, TIMEOUT_RETRY_COST, jitter_unit, should_retry};
use crate::util::url;

use super::failure::Failure;
use super::{Dest, Outgoing, Reply, Transport};

/// Where a request goes, for the session's backpressure: its host, and whether it is the
/// API's (the rate limit and the retry budget are the API's).
struct Host {
    authority: String,
    api: bool,
}

/// Another try: after `delay`, at `cost` of the shared retry budget, because of `cause`.
struct Retry {
    delay: Duration,
    cost: u32,
    cause: Error,
}

impl Transport {
    /// Sends `call`, retrying per the retry policy within `ctx`'s deadline.
    pub(crate) fn send(&self, call: &Outgoing<'_>, ctx: &CallContext<'_>) -> Result<Reply> {
        let host = match &call.dest {
            Dest::Api { .. } => Host { authority: url::authority_of(&self.base_url), api: true },
            Dest::Storage { url, .. } => Host { authority: url::authority_of(url), api: false },
        };
        let (mut retry, mut spent) = (0, 0);
        loop {
            ctx.check()?;
            self.wait_for_turn(&host, ctx)?;
            let failure = match self.send_once(call, ctx, retry + 1)? {
                Ok(reply) => {
                    self.pressure.succeeded(spent, host.api, self.clock.now());
                    return Ok(reply);
                }
                Err(failure) => failure,
            };
            // A stop request may be why the attempt failed (an upload aborts its read).
            ctx.check()?;
            let next = self.decide_retry(call, ctx, &host, failure, retry)?;
            spent += next.cost;
            retry += 1;
            let what = call.request().to_string();
            log::info!("retry {retry} of {what} in {:.2}s: {}", next.delay.as_secs_f64(), next.cause);
            ctx.emit(Event::Retrying { what: &what, cause: &next.cause, retry, delay: next.delay })?;
            ctx.sleep(&*self.clock, next.delay)?;
        }
    }

    /// Waits until the session's backpressure lets a request to `host` go (never past the
    /// deadline: the attempt then fails at once, as a timeout).
    fn wait_for_turn(&self, host: &Host, ctx: &CallContext<'_>) -> Result<()> {
        let clock = &*self.clock;
        let mut turn = self.pressure.turn(&host.authority, host.api, clock.now());
        while !turn.wait.is_zero() {
            let left = ctx.remaining(clock);
            ctx.sleep(clock, left.map_or(turn.wait, |left| turn.wait.min(left)))?;
            // A throttling answer came while this request waited: its turn was given at
            // the old pace and before the hold, so it takes a new one.
            if !self.pressure.changed_since(turn.epoch) || left.is_some_and(|left| left <= turn.wait) {
                break;
            }
            turn = self.pressure.turn(&host.authority, host.api, clock.now());
        }
        self.pressure.sending(host.api, clock.now());
        Ok(())
    }

    /// One attempt (the `attempt`th), logged in one line: method, path (never the query),
    /// outcome, time. A POST is announced first, the last moment before the server may
    /// take it (a journal records it there): `Err` when the observer stops the call then.
    fn send_once(&self, call: &Outgoing<'_>, ctx: &CallContext<'_>, attempt: u32) -> Result<Result<Reply, Failure>> {
        if call.method == "POST" {
            ctx.announce(Event::Sending { what: &call.request().to_string(), attempt })?;
        }
        let started = std::time::Instant::now();
        let result = self.attempt(call, ctx);
        let outcome = match &result {
            Ok(reply) => reply.status.to_string(),
            Err(failure) => failure.error.status().map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
        };
        log::debug!("{} {outcome} in {:.3}s (attempt {attempt})", call.request(), started.elapsed().as_secs_f64());
        Ok(result)
    }

    /// Whether `failure` (after `retry` retries) is tried again, and after how long; `Err`
    /// is the answer when it is not: a final failure, the retries or the shared budget
    /// spent, a `Retry-After` longer than allowed, or no time left before the deadline. A
    /// throttling answer (429, 503) holds the host for every request of the session.
    fn decide_retry(
        &self,
        call: &Outgoing<'_>,
        ctx: &CallContext<'_>,
        host: &Host,
        failure: Failure,
        retry: u32,
    ) -> Result<Retry> {
        let (policy, clock) = (self.retry, &*self.clock);
        let status = failure.error.status();
        if matches!(status, Some(429 | 503)) {
            let hold = failure.retry_after.map(|wait| wait.min(policy.retry_after_cap()));
            self.pressure.throttled(&host.authority, hold, host.api && status == Some(429), clock.now());
        }
        let idempotency = if call.method == "POST" { Idempotency::NotIdempotent } else { Idempotency::Idempotent };
        // The answer, when it is one, says how many tries were made.
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
                let status = status.unwrap_or_default();
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
        let cost = if timeout { TIMEOUT_RETRY_COST } else { RETRY_COST };
        Ok(Retry { delay, cost, cause: failure.error })
    }
}

/// A failure that a retry could have fixed, returned because retrying must stop: said at
/// warn, with why. (Every message is already scrubbed of secrets.)
fn gave_up(error: Error, why: &str) -> Error {
    log::warn!("giving up ({why}): {error}");
    error
}
