//! [`Bulk`]: runs jobs a bounded number at a time; with a journal, each job does what the
//! ledger decides for its photos, and every state change is journaled.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

use super::journal::Journal;
use super::photos::Photos;
use super::watcher;
use super::{Failure, HandlerError, Job, Outcome, Shard, Summary};
use crate::error::{Error, ErrorKind, Result};
use crate::session::Session;

/// Runs many analyses on one session, a bounded number at a time. See the
/// [module docs](crate::bulk).
#[must_use]
pub struct Bulk<'s> {
    pub(super) session: &'s Session,
    concurrency: usize,
    pub(super) journal: Option<&'s Journal>,
    pub(super) stop: Option<&'s AtomicBool>,
    pub(super) retry_failed: bool,
    /// Keys that exist (visits of the input) though they are no jobs: their photos cannot
    /// be used now. A job never takes over their batches.
    unusable: Vec<String>,
}

impl<'s> Bulk<'s> {
    /// A runner on `session`: 4 jobs at a time, no journal, every job.
    pub fn new(session: &'s Session) -> Self {
        Bulk { session, concurrency: 4, journal: None, stop: None, retry_failed: false, unusable: Vec::new() }
    }

    /// How many jobs run at the same time (at least 1). Each runs its uploads in
    /// parallel too; the session's backpressure keeps the total polite.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Journals every state change to `journal` and follows what it already holds. The
    /// run works the journal's shard, the one it was [opened](Journal::open) for: the
    /// jobs of other shards are not run, nor counted. (A shard is a journal's: without
    /// one, every job runs; a run of your own can split jobs with [`Shard::contains`].)
    pub fn journal(mut self, journal: &'s Journal) -> Self {
        self.journal = Some(journal);
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

    #[cfg(feature = "folder")]
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
        let shard = self.journal.map_or(Shard::ALL, Journal::shard);
        let queue = Mutex::new(jobs.iter().filter(|job| shard.contains(job.group())));
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
                    Ended::failed(error)
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
}

/// How a job ended, for the summary.
pub(super) enum Ended {
    Done {
        resumed: bool,
        taken_over: bool,
    },
    Skipped,
    /// What a person reads, and the error a program matches.
    Failed(String, Error),
    Stopped,
}

impl Ended {
    /// Failed, for `error` as it says itself.
    pub(super) fn failed(error: Error) -> Ended {
        Ended::Failed(error.to_string(), error)
    }
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
            Ended::Failed(reason, error) => self.failed.push(Failure::new(key, reason, error)),
            Ended::Stopped => self.stopped += 1,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
