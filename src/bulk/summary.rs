//! What a bulk run did, and why each job that failed did.

use std::fmt;

use crate::error::Error;

/// What a bulk run did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Jobs whose results were saved in this run.
    pub done: usize,
    /// Of those, jobs resumed from an earlier run's batch.
    pub resumed: usize,
    /// Jobs an earlier run had finished.
    pub skipped: usize,
    /// Jobs that failed, each with why.
    pub failed: Vec<Failure>,
    /// Of those, jobs that took over the batch of a key that is gone (a renamed visit).
    pub taken_over: usize,
    /// Jobs stopped by a stop request while running; a rerun picks them up.
    pub stopped: usize,
    /// Whether the run ended before every job did: stopped while jobs were running or
    /// waiting to start (a stop request, or a journal that cannot be written).
    pub interrupted: bool,
}

impl Summary {
    /// Whether every job of the run is done (now or before).
    pub fn all_done(&self) -> bool {
        self.failed.is_empty() && !self.interrupted
    }
}

/// A job that failed in a run (a visit, in a folder run): which, why in words, and why as
/// an [`Error`] to match like any other.
///
/// ```no_run
/// use hautai::error::ErrorKind;
/// # fn report(summary: &hautai::bulk::Summary) {
/// for failure in &summary.failed {
///     match failure.error.kind() {
///         ErrorKind::Refused(_) => println!("a person must look at {}: {}", failure.key, failure.reason),
///         ErrorKind::Api(api) if api.status == 401 => println!("log in again"),
///         _ => println!("{failure}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The job's key: a folder run's visit name (`anna/2026-01-05`).
    pub key: String,
    /// What happened and what a rerun does: a rerun resumes a batch whose compute was
    /// sent; photos refused by the ledger need a person's decision first.
    pub reason: String,
    /// What went wrong, as every call of the crate says it: match its
    /// [`kind`](Error::kind).
    pub error: Error,
}

impl Failure {
    pub(crate) fn new(key: &str, reason: String, error: Error) -> Failure {
        Failure { key: key.to_owned(), reason, error }
    }
}

/// `key: reason`, one line whatever they hold (a control character is shown escaped,
/// `\n`), so that a log line cannot be forged by a job's key.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = format!("{}: {}", self.key, self.reason);
        for c in line.chars() {
            match c.is_control() {
                true => write!(f, "{}", c.escape_default())?,
                false => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_one_line() {
        let error = crate::error::ErrorKind::Refused("no".into()).into();
        let failure = Failure::new("visit\nINJECTED: done", "it broke\r".into(), error);
        assert_eq!(failure.to_string(), "visit\\nINJECTED: done: it broke\\r");
    }
}
