//! [`Bulk`]: runs jobs a bounded number at a time, journaling each state change.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

use super::journal::Journal;
use super::record::{NextStep, State};
use super::watcher::{self, Watcher};
use super::{HandlerError, Job, Outcome, Shard, Summary};
use crate::error::{Error, ErrorKind, Result};
use crate::model::BatchResults;
use crate::pipeline::AnalysisOptions;
use crate::session::Session;

/// Runs many analyses on one session, a bounded number at a time. See the
/// [module docs](crate::bulk).
#[must_use]
pub struct Bulk<'s> {
    session: &'s Session,
    concurrency: usize,
    journal: Option<&'s Journal>,
    shard: Shard,
    stop: Option<&'s AtomicBool>,
    retry_failed: bool,
}

impl<'s> Bulk<'s> {
    /// A runner on `session`: 4 jobs at a time, no journal, every job.
    pub fn new(session: &'s Session) -> Self {
        Bulk { session, concurrency: 4, journal: None, shard: Shard::ALL, stop: None, retry_failed: false }
    }

    /// How many jobs run at the same time (at least 1). Each runs its uploads in
    /// parallel too; the session's backpressure keeps the total polite.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Journals every state change to `journal` and follows what it already holds. The
    /// run works the journal's shard (the one it was opened for).
    pub fn journal(mut self, journal: &'s Journal) -> Self {
        self.shard = journal.shard();
        self.journal = Some(journal);
        self
    }

    /// Runs only the jobs of `shard`; the others are not counted at all. Without a
    /// journal only: a journal brings its own shard.
    pub fn shard(mut self, shard: Shard) -> Self {
        if self.journal.is_none() {
            self.shard = shard;
        }
        self
    }

    /// Starts over the jobs whose last run failed with their batch ended for good: a
    /// detection error (replace the photo first), or a compute in doubt that never showed
    /// work. Such a job is paid for again if its first compute did arrive after all; that
    /// is the choice this setting makes. Failed jobs whose batch may still finish (a
    /// deadline, a failed save) are resumed as always, and jobs whose compute was
    /// certainly not taken start over without it. A job whose photos are no longer the
    /// ones its journal analysed starts over with the new photos.
    pub fn retry_failed(mut self, on: bool) -> Self {
        self.retry_failed = on;
        self
    }

    /// Stops when `flag` becomes true: no job starts after that, and running ones end at
    /// once, journaled where they were (a rerun picks them up).
    pub fn stop_when(mut self, flag: &'s AtomicBool) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Runs `jobs`, calling `handle` with each [`Outcome`] as it happens (from the worker
    /// threads, so it must be `Sync`). For [`Outcome::Done`], `Ok` means the results were
    /// saved; `Err(error)` (any error, so `?` works in the handler) fails the job. For [`Outcome::Skipped`], `Err` says the
    /// results saved earlier are gone (deleted, say): the job's batch is fetched again,
    /// never computed again, and handed over as `Done` with `resumed`. What `handle`
    /// returns for other outcomes is ignored.
    pub fn run<'i, J, H>(&self, jobs: J, handle: H) -> Summary
    where
        J: IntoIterator<Item = Job<'i>>,
        J::IntoIter: Send,
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError> + Sync,
    {
        let queue = Mutex::new(jobs.into_iter().filter(|job| self.shard.contains(&job.key)));
        let seen = Mutex::new(HashSet::new());
        let summary = Mutex::new(Summary::default());
        let journal_failed = AtomicBool::new(false);
        let worker = || {
            while !self.stopped(&journal_failed) {
                let Some(job) = lock(&queue).next() else { break };
                let unique = lock(&seen).insert(job.key.clone());
                let ended = if unique {
                    self.one(&job, &handle, &journal_failed)
                } else {
                    let error =
                        ErrorKind::InvalidArgument(format!("the key {:?} was given to more than one job", job.key))
                            .into();
                    let _ = handle(&Outcome::Failed { key: &job.key, batch_id: None, error: &error });
                    Ended::Failed(error.to_string())
                };
                lock(&summary).count(&job.key, ended);
            }
        };
        std::thread::scope(|scope| {
            for _ in 0..self.concurrency {
                scope.spawn(worker);
            }
        });
        let mut summary = summary.into_inner().unwrap_or_else(PoisonError::into_inner);
        // Jobs left waiting, or stopped while running: the run did not finish.
        summary.interrupted = summary.stopped > 0 || lock(&queue).next().is_some();
        summary
    }

    /// Whether the caller asked to stop, or the journal cannot be written.
    fn stopped(&self, journal_failed: &AtomicBool) -> bool {
        watcher::stopped(self.stop, journal_failed)
    }

    /// One job, from the journal's word to its outcome.
    fn one<H>(&self, job: &Job<'_>, handle: &H, journal_failed: &AtomicBool) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let key = job.key.as_str();
        let record = self.journal.map(|j| j.record(key)).unwrap_or_default();
        // What the photos are: journaled with a new batch, and checked before a batch is
        // skipped or resumed for them. Photos that cannot be read then fail the job (a
        // new start reports them through the pipeline, which checks them anyway).
        let inputs = self.journal.map(|_| job.images.fingerprint());
        let mut step = record.next_step(self.retry_failed);
        if let (NextStep::Skip | NextStep::Resume { .. }, Some(analysed), Some(given)) = (step, &record.inputs, &inputs)
        {
            match given {
                Ok(given) if given == analysed => {}
                Ok(_) if self.retry_failed => step = NextStep::Start,
                Ok(_) => return self.unchecked(key, record.batch_id, None, handle),
                Err(error) => return self.unchecked(key, record.batch_id, Some(error), handle),
            }
        }
        let inputs = inputs.as_ref().and_then(|i| i.as_ref().ok()).map(String::as_str);
        // Done earlier; the handler may say its saved results are gone: then the batch is
        // fetched again (never computed again) and handed over as done.
        if step == NextStep::Skip {
            match (handle(&Outcome::Skipped { key, batch_id: record.batch_id }), record.batch_id) {
                (Err(_), Some(batch_id)) => step = NextStep::Resume { batch_id, confirmed: true },
                _ => return Ended::Skipped,
            }
        }
        let (mut result, mut resumed) = match step {
            NextStep::Skip => return Ended::Skipped,
            NextStep::Resume { batch_id, confirmed } => (
                self.watched(job, inputs, journal_failed, |options| {
                    if confirmed {
                        self.session.wait_for_results_with(batch_id, options)
                    } else {
                        self.session.resume_unconfirmed(batch_id, options)
                    }
                }),
                true,
            ),
            NextStep::Start => {
                (self.watched(job, inputs, journal_failed, |o| self.session.run_analysis(&job.images, o)), false)
            }
        };
        let mut restarted = false;
        if let (true, Some(lost)) = (resumed, record.batch_id)
            && matches!(&result, Err(error) if error.status() == Some(404))
        {
            // The service does not know the batch: nothing was computed there. Start over,
            // once (the new batch replaces the lost one in the journal).
            if let Err(error) = self.write(key, State::Lost, Some(lost), None) {
                result = Err(journal_error(error));
            } else {
                let _ = handle(&Outcome::Restarting { key, lost });
                result = self.watched(job, inputs, journal_failed, |o| self.session.run_analysis(&job.images, o));
                (resumed, restarted) = (false, true);
            }
        }
        match result {
            Ok(results) => self.done(key, &results, resumed, restarted, handle),
            // Only the runner's own observer cancels, on a stop request (a journal that
            // cannot be written was dealt with in `watched`).
            Err(error) if matches!(error.kind(), ErrorKind::Cancelled { .. }) => Ended::Stopped,
            Err(error) => {
                if crate::pipeline::compute_not_taken(&error) {
                    let _ = self.write(key, State::ComputeRefused, None, None);
                }
                // A batch that ended for good: only a deliberate retry starts it over.
                // (A compute in doubt counts as never arrived only after the whole
                // confirmation window: a deadline that cut it short proves nothing.)
                let ended = match error.kind() {
                    ErrorKind::Detection(_) => true,
                    ErrorKind::ComputeUnconfirmed { waited, .. } => *waited >= crate::config::COMPUTE_CONFIRMATION,
                    _ => false,
                };
                if let Some(journal) = self.journal {
                    let _ = journal.failed(key, &error.to_string(), ended);
                }
                let _ = handle(&Outcome::Failed { key, batch_id: error.batch_id(), error: &error });
                Ended::Failed(error.to_string())
            }
        }
    }

    /// The photos given for `key` are not the ones its journaled batch analysed (they
    /// changed, or they are another visit's under the same key), or they cannot be read
    /// to tell (`unreadable`). Nothing is done with them: the saved results no longer
    /// count as the job's, and the batch is not resumed for them. Changed photos are
    /// analysed when the caller asks with [`Bulk::retry_failed`].
    fn unchecked<H>(&self, key: &str, batch_id: Option<Uuid>, unreadable: Option<&Error>, handle: &H) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let batch = batch_id.map(|id| format!(" (batch {id})")).unwrap_or_default();
        let reason = match unreadable {
            Some(error) => format!(
                "cannot read the photos of {key} to check that they are the ones the journal analysed{batch}: \
                 {error}. Nothing was done with them; make them readable and run again"
            ),
            None => format!(
                "the photos of {key} are not the ones the journal analysed for it{batch}: they changed since, or \
                 they are another visit's with the same name. Nothing was done with them. If they are new photos \
                 of this visit, run again with retry_failed (--retry-failed) to analyse them; if they are another \
                 visit's, give it its own name or use another output folder"
            ),
        };
        let error = Error::from(ErrorKind::InvalidArgument(reason));
        if let Some(journal) = self.journal {
            // Changed photos end the batch for them; unreadable ones may be the same once read.
            let _ = journal.failed(key, &error.to_string(), unreadable.is_none());
        }
        let _ = handle(&Outcome::Failed { key, batch_id, error: &error });
        Ended::Failed(error.to_string())
    }

    /// Runs `call` with a fresh watcher journaling the job's progress (a batch it creates
    /// is journaled with `inputs`); a journal that cannot be written ends the call, and
    /// the run, with that error.
    fn watched(
        &self,
        job: &Job<'_>,
        inputs: Option<&str>,
        journal_failed: &AtomicBool,
        call: impl FnOnce(&AnalysisOptions<'_>) -> Result<BatchResults>,
    ) -> Result<BatchResults> {
        let watcher = Watcher::new(self.journal, self.stop, job, inputs, journal_failed);
        let result = call(&job.options.clone().observer(&watcher));
        match watcher.take_error() {
            // The journal is the record of what was paid for: without it, nothing goes on.
            Some(error) => Err(journal_error(error)),
            None => result,
        }
    }

    /// Complete results: the caller saves them, then the journal says so.
    fn done<H>(&self, key: &str, results: &BatchResults, resumed: bool, restarted: bool, handle: &H) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let batch_id = results.batch_id();
        match handle(&Outcome::Done { key, batch_id, results, resumed }) {
            Ok(()) => match self.write(key, State::Saved, None, None) {
                Ok(()) => Ended::Done { resumed, restarted },
                Err(error) => Ended::Failed(format!("the results were saved but the journal cannot say so: {error}")),
            },
            Err(reason) => {
                let reason = format!("the results of batch {batch_id} could not be saved: {reason}");
                let _ = self.write(key, State::Failed, None, Some(&reason));
                Ended::Failed(reason)
            }
        }
    }

    /// Journals a state change, if there is a journal.
    pub(super) fn write(
        &self,
        key: &str,
        state: State,
        batch_id: Option<Uuid>,
        reason: Option<&str>,
    ) -> io::Result<()> {
        self.journal.map_or(Ok(()), |journal| journal.append(key, state, batch_id, reason))
    }
}

/// How a job ended, for the summary.
enum Ended {
    Done { resumed: bool, restarted: bool },
    Skipped,
    Failed(String),
    Stopped,
}

impl Summary {
    fn count(&mut self, key: &str, ended: Ended) {
        match ended {
            Ended::Done { resumed, restarted } => {
                self.done += 1;
                self.resumed += usize::from(resumed);
                self.restarted += usize::from(restarted);
            }
            Ended::Skipped => self.skipped += 1,
            Ended::Failed(reason) => self.failed.push((key.to_owned(), reason)),
            Ended::Stopped => self.stopped += 1,
        }
    }
}

/// The error of a journal that cannot be written.
fn journal_error(error: io::Error) -> Error {
    ErrorKind::Config(format!("cannot write the journal: {error}")).into()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
