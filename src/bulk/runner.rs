//! [`Bulk`]: runs jobs a bounded number at a time, journaling each state change.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

use super::journal::{Journal, NextStep, State};
use super::{Job, Outcome, Shard, Summary};
use crate::error::{Error, Result};
use crate::model::BatchResults;
use crate::observe::{Control, Event, Observer};
use crate::session::Session;

/// Runs many analyses on one session, a bounded number at a time. See the
/// [module docs](crate::bulk).
#[must_use]
pub struct Bulk<'s> {
    session: &'s Session,
    concurrency: usize,
    journal: Option<Journal>,
    shard: Shard,
    stop: Option<&'s AtomicBool>,
}

impl<'s> Bulk<'s> {
    /// A runner on `session`: 4 jobs at a time, no journal, every job.
    pub fn new(session: &'s Session) -> Self {
        Bulk { session, concurrency: 4, journal: None, shard: Shard::ALL, stop: None }
    }

    /// How many jobs run at the same time (at least 1). Each runs its uploads in
    /// parallel too; the session's backpressure keeps the total polite.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Journals every state change to `journal` and follows what it already holds.
    pub fn journal(mut self, journal: Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Runs only the jobs of `shard`; the others are not counted at all.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
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
    /// saved; `Err(reason)` fails the job. What `handle` returns for other outcomes is
    /// ignored.
    pub fn run<'i, J, H>(&self, jobs: J, handle: H) -> Summary
    where
        J: IntoIterator<Item = Job<'i>>,
        J::IntoIter: Send,
        H: Fn(&Outcome<'_>) -> Result<(), String> + Sync,
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
                    let error = Error::InvalidArgument(format!("the key {:?} was given to more than one job", job.key));
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
        self.stop.is_some_and(|f| f.load(Ordering::SeqCst)) || journal_failed.load(Ordering::SeqCst)
    }

    /// One job, from the journal's word to its outcome.
    fn one<H>(&self, job: &Job<'_>, handle: &H, journal_failed: &AtomicBool) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), String>,
    {
        let key = job.key.as_str();
        let record = self.journal.as_ref().map(|j| j.record(key)).unwrap_or_default();
        let watcher = Watcher {
            bulk: self,
            key,
            sides: job.images.sides().count(),
            uploaded: AtomicUsize::new(0),
            error: Mutex::new(None),
            journal_failed,
        };
        let options = job.options.clone().observer(&watcher);
        let (result, resumed) = match record.next_step() {
            NextStep::Skip => {
                let _ = handle(&Outcome::Skipped { key });
                return Ended::Skipped;
            }
            NextStep::Resume(batch_id) => (self.session.wait_for_results_with(batch_id, &options), true),
            NextStep::Start => (self.session.run_analysis(&job.images, &options), false),
        };
        if let Some(error) = lock(&watcher.error).take() {
            // The journal is the record of what was paid for: without it, nothing goes on.
            let error = Error::Config(format!("cannot write the journal: {error}"));
            let _ = handle(&Outcome::Failed {
                key,
                batch_id: result.as_ref().err().and_then(Error::batch_id),
                error: &error,
            });
            return Ended::Failed(error.to_string());
        }
        match result {
            Ok(results) => self.done(key, &results, resumed, handle),
            // Only the runner's own observer cancels, on a stop request (a journal that
            // cannot be written was dealt with above).
            Err(Error::Cancelled { .. }) => Ended::Stopped,
            Err(error) => {
                let _ = self.write(key, State::Failed, error.batch_id(), Some(&error.to_string()));
                let _ = handle(&Outcome::Failed { key, batch_id: error.batch_id(), error: &error });
                Ended::Failed(error.to_string())
            }
        }
    }

    /// Complete results: the caller saves them, then the journal says so.
    fn done<H>(&self, key: &str, results: &BatchResults, resumed: bool, handle: &H) -> Ended
    where
        H: Fn(&Outcome<'_>) -> Result<(), String>,
    {
        let batch_id = results.batch_id();
        match handle(&Outcome::Done { key, batch_id, results, resumed }) {
            Ok(()) => match self.write(key, State::Saved, None, None) {
                Ok(()) => Ended::Done { resumed },
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
    fn write(&self, key: &str, state: State, batch_id: Option<Uuid>, reason: Option<&str>) -> io::Result<()> {
        self.journal.as_ref().map_or(Ok(()), |journal| journal.append(key, state, batch_id, reason))
    }
}

/// How a job ended, for the summary.
enum Ended {
    Done { resumed: bool },
    Skipped,
    Failed(String),
    Stopped,
}

impl Summary {
    fn count(&mut self, key: &str, ended: Ended) {
        match ended {
            Ended::Done { resumed } => {
                self.done += 1;
                self.resumed += usize::from(resumed);
            }
            Ended::Skipped => self.skipped += 1,
            Ended::Failed(reason) => self.failed.push((key.to_owned(), reason)),
            Ended::Stopped => self.stopped += 1,
        }
    }
}

/// Journals one job's progress from its pipeline events, and keeps what went wrong
/// writing the journal, if anything did.
struct Watcher<'b, 's> {
    bulk: &'b Bulk<'s>,
    key: &'b str,
    sides: usize,
    uploaded: AtomicUsize,
    error: Mutex<Option<io::Error>>,
    journal_failed: &'b AtomicBool,
}

impl Watcher<'_, '_> {
    /// The state change `event` means, if any.
    fn state(&self, event: &Event<'_>) -> Option<(State, Option<Uuid>)> {
        match event {
            Event::BatchCreated { batch_id } => Some((State::Created, Some(*batch_id))),
            Event::Uploaded { .. } if self.uploaded.fetch_add(1, Ordering::SeqCst) + 1 == self.sides => {
                Some((State::Uploaded, None))
            }
            // Written before compute is sent: from here it may have been.
            Event::Computing { .. } => Some((State::ComputeSent, None)),
            Event::Computed { .. } => Some((State::ComputeAccepted, None)),
            _ => None,
        }
    }
}

impl Observer for Watcher<'_, '_> {
    fn on_event(&self, event: &Event<'_>) -> Control {
        let Some((state, batch_id)) = self.state(event) else { return Control::Continue };
        match self.bulk.write(self.key, state, batch_id, None) {
            Ok(()) => Control::Continue,
            Err(error) => {
                *lock(&self.error) = Some(error);
                self.journal_failed.store(true, Ordering::SeqCst);
                Control::Stop
            }
        }
    }

    fn should_stop(&self) -> bool {
        self.bulk.stopped(self.journal_failed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
