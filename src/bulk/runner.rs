//! [`Bulk`]: runs jobs a bounded number at a time; with a journal, each job does what the
//! ledger decides for its photos, and every state change is journaled.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

use super::journal::Journal;
use super::ledger::Plan;
use super::photos::Photos;
use super::record::State;
use super::watcher::{self, Watcher};
use super::{HandlerError, Job, Outcome, Shard, Summary, advice};
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
    /// Keys that exist (visits of the input) though they are no jobs: their photos cannot
    /// be used now. A job never takes over their batches.
    unusable: Vec<String>,
}

impl<'s> Bulk<'s> {
    /// A runner on `session`: 4 jobs at a time, no journal, every job.
    pub fn new(session: &'s Session) -> Self {
        Bulk {
            session,
            concurrency: 4,
            journal: None,
            shard: Shard::ALL,
            stop: None,
            retry_failed: false,
            unusable: Vec::new(),
        }
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

    /// Analyses again photos whose earlier analysis cannot be used, which may pay again:
    /// a batch that ended in a failure (a detection error: replace the photo first; a
    /// compute in doubt that never showed work), a batch the service no longer knows,
    /// photos that changed since their job's batch, and photos analysed under a name that
    /// is still a job, with other photos now. Without it, photos that were paid for (or
    /// may have been) are never computed again, under any name. Jobs whose batch may still
    /// finish (a deadline, a failed save) are resumed as always, and jobs whose compute
    /// was certainly not taken start over without it.
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

    /// Keys that exist though they are given as no job, their photos unusable now (a
    /// visit with a broken link): the ledger takes them for present, with photos that
    /// cannot be read.
    pub(crate) fn unusable(mut self, keys: Vec<String>) -> Self {
        self.unusable = keys;
        self
    }

    /// Runs `jobs`, calling `handle` with each [`Outcome`] as it happens (from the worker
    /// threads, so it must be `Sync`). For [`Outcome::Done`], `Ok` means the results were
    /// saved; `Err(error)` (any error, so `?` works in the handler) fails the job. For
    /// [`Outcome::Skipped`], `Err` says the results saved earlier are gone (deleted, say):
    /// the job's batch is fetched again, never computed again, and handed over as `Done`
    /// with `resumed`. What `handle` returns for other outcomes is ignored.
    ///
    /// Give every job, whatever the shard: a job of another shard is not run, but the
    /// ledger needs to know its visit still exists (see [`Bulk::retry_failed`]).
    pub fn run<'i, J, H>(&self, jobs: J, handle: H) -> Summary
    where
        J: IntoIterator<Item = Job<'i>>,
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError> + Sync,
    {
        let jobs: Vec<Job<'i>> = jobs.into_iter().collect();
        let photos = Photos::new(&jobs, &self.unusable);
        let queue = Mutex::new(jobs.iter().filter(|job| self.shard.contains(&job.key)));
        let seen = Mutex::new(HashSet::new());
        let summary = Mutex::new(Summary::default());
        let journal_failed = AtomicBool::new(false);
        let worker = || {
            while !watcher::stopped(self.stop, &journal_failed) {
                let Some(job) = lock(&queue).next() else { break };
                let unique = lock(&seen).insert(job.key.clone());
                let ended = if unique {
                    self.one(job, &photos, &handle, &journal_failed)
                } else {
                    let error =
                        ErrorKind::InvalidArgument(format!("the key {:?} was given to more than one job", job.key))
                            .into();
                    let _ = handle(&Outcome::Failed { key: &job.key, batch_id: None, error: &error, disowned: false });
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

    /// One job, from the ledger's word to its outcome.
    fn one<H>(&self, job: &Job<'_>, photos: &Photos<'_, '_>, handle: &H, journal_failed: &AtomicBool) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let key = job.key.as_str();
        let Some(journal) = self.journal else {
            let result = self.watched(job, None, None, journal_failed, |o| self.session.run_analysis(&job.images, o));
            return self.ended(key, result, false, false, handle);
        };
        // Photos that cannot be read are not changed photos: nothing is decided for them,
        // and what was saved for them stays their own.
        let fingerprint = match photos.fingerprint(job) {
            Ok(fingerprint) => fingerprint,
            Err(error) => {
                let reason = advice::unreadable(key, &error);
                return self.refused(key, journal.record(key).batch_id, reason, true, false, handle);
            }
        };
        let presence = |other: &str| photos.presence(other, &fingerprint);
        let (plan, disowns) = match journal.decide(key, &fingerprint, self.retry_failed, &presence) {
            Ok(decided) => decided,
            Err(error) => {
                journal_failed.store(true, Ordering::SeqCst);
                return Ended::Failed(journal_error(error).to_string());
            }
        };
        let inputs = Some(fingerprint.as_str());
        match plan {
            Plan::Refuse(refusal) => {
                let reason = advice::refused(key, &refusal);
                self.refused(key, journal.record(key).batch_id, reason, !disowns, disowns, handle)
            }
            Plan::Skip { batch_id } => match handle(&Outcome::Skipped { key, batch_id: Some(batch_id) }) {
                Ok(()) => Ended::Skipped,
                // The saved results are gone: fetched again, never computed again.
                Err(_) => self.fetch(job, batch_id, true, false, journal_failed, handle),
            },
            Plan::Resume { batch_id, confirmed, from } => {
                if let Some(from) = &from {
                    let _ = handle(&Outcome::TakenOver { key, from, batch_id });
                }
                self.fetch(job, batch_id, confirmed, from.is_some(), journal_failed, handle)
            }
            Plan::Start => {
                let result =
                    self.watched(job, inputs, None, journal_failed, |o| self.session.run_analysis(&job.images, o));
                self.ended(key, result, false, disowns, handle)
            }
        }
    }

    /// Waits for the results of `batch_id`, whose compute was sent (`confirmed`: taken),
    /// never computing it again. A batch the service no longer knows fails the job: it was
    /// paid for, so only the caller may decide to pay again.
    fn fetch<H>(
        &self,
        job: &Job<'_>,
        batch_id: Uuid,
        confirmed: bool,
        taken_over: bool,
        journal_failed: &AtomicBool,
        handle: &H,
    ) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let key = job.key.as_str();
        let result = self.watched(job, None, Some(batch_id), journal_failed, |options| match confirmed {
            true => self.session.wait_for_results_with(batch_id, options),
            false => self.session.resume_unconfirmed(batch_id, options),
        });
        match result {
            Err(error) if error.status() == Some(404) => {
                if let Err(error) = self.write(key, State::Lost, Some(batch_id)) {
                    return Ended::Failed(journal_error(error).to_string());
                }
                let reason = advice::lost(key, batch_id);
                self.refused(key, Some(batch_id), reason, true, false, handle)
            }
            result => match self.ended(key, result, true, false, handle) {
                Ended::Done { resumed, .. } => Ended::Done { resumed, taken_over },
                other => other,
            },
        }
    }

    /// How an analysis or a wait ended, journaled and handed to the caller. `disowned`:
    /// the job's earlier save was of other photos.
    fn ended<H>(&self, key: &str, result: Result<BatchResults>, resumed: bool, disowned: bool, handle: &H) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let error = match result {
            Ok(results) => return self.done(key, &results, resumed, handle),
            // Only the runner's own observer cancels, on a stop request (a journal that
            // cannot be written was dealt with in `watched`).
            Err(error) if matches!(error.kind(), ErrorKind::Cancelled { .. }) => return Ended::Stopped,
            Err(error) => error,
        };
        if crate::pipeline::compute_not_taken(&error) {
            let _ = self.write(key, State::ComputeRefused, error.batch_id());
        }
        // A batch that ended for good: only a deliberate retry starts it over. (A compute
        // in doubt counts as never arrived only after the whole confirmation window: a
        // deadline that cut it short proves nothing.)
        let ended = match error.kind() {
            ErrorKind::Detection(_) => true,
            ErrorKind::ComputeUnconfirmed { waited, .. } => *waited >= crate::config::COMPUTE_CONFIRMATION,
            _ => false,
        };
        let reason = advice::for_a_rerun(&error);
        if let Some(journal) = self.journal {
            let _ = journal.failed(key, error.batch_id(), &reason, ended, !disowned);
        }
        let _ = handle(&Outcome::Failed { key, batch_id: error.batch_id(), error: &error, disowned });
        Ended::Failed(reason)
    }

    /// Nothing is done for the job, for `reason`: journaled (with whether its earlier save
    /// stays its own) and handed over.
    fn refused<H>(
        &self,
        key: &str,
        batch_id: Option<Uuid>,
        reason: String,
        kept: bool,
        disowned: bool,
        handle: &H,
    ) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let error = Error::from(ErrorKind::InvalidArgument(reason));
        if let Some(journal) = self.journal {
            let _ = journal.failed(key, batch_id, &error.to_string(), false, kept);
        }
        let _ = handle(&Outcome::Failed { key, batch_id, error: &error, disowned });
        Ended::Failed(error.to_string())
    }

    /// Runs `call` with a fresh watcher journaling the job's progress on `batch_id` (or the
    /// batch it creates, journaled with `inputs`); a journal that cannot be written ends
    /// the call, and the run, with that error.
    fn watched(
        &self,
        job: &Job<'_>,
        inputs: Option<&str>,
        batch_id: Option<Uuid>,
        journal_failed: &AtomicBool,
        call: impl FnOnce(&AnalysisOptions<'_>) -> Result<BatchResults>,
    ) -> Result<BatchResults> {
        let watcher = Watcher::new(self.journal, self.stop, job, inputs, batch_id, journal_failed);
        let result = call(&job.options.clone().observer(&watcher));
        match watcher.take_error() {
            // The journal is the record of what was paid for: without it, nothing goes on.
            Some(error) => Err(journal_error(error)),
            None => result,
        }
    }

    /// Complete results: the caller saves them, then the journal says so.
    fn done<H>(&self, key: &str, results: &BatchResults, resumed: bool, handle: &H) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let batch_id = results.batch_id();
        match handle(&Outcome::Done { key, batch_id, results, resumed }) {
            Ok(()) => match self.write(key, State::Saved, Some(batch_id)) {
                Ok(()) => Ended::Done { resumed, taken_over: false },
                Err(error) => Ended::Failed(format!("the results were saved but the journal cannot say so: {error}")),
            },
            Err(reason) => {
                let reason = format!("the results of batch {batch_id} could not be saved: {reason}");
                if let Some(journal) = self.journal {
                    // Whatever was saved earlier is the caller's to keep or not: a save
                    // that failed does not disown it.
                    let _ = journal.failed(key, Some(batch_id), &reason, false, true);
                }
                Ended::Failed(reason)
            }
        }
    }

    /// Journals a state change, if there is a journal.
    fn write(&self, key: &str, state: State, batch_id: Option<Uuid>) -> io::Result<()> {
        self.journal.map_or(Ok(()), |journal| journal.append(key, state, batch_id, None))
    }
}

/// How a job ended, for the summary.
enum Ended {
    Done { resumed: bool, taken_over: bool },
    Skipped,
    Failed(String),
    Stopped,
}

impl Summary {
    fn count(&mut self, key: &str, ended: Ended) {
        match ended {
            Ended::Done { resumed, taken_over } => {
                self.done += 1;
                self.resumed += usize::from(resumed);
                self.taken_over += usize::from(taken_over);
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
