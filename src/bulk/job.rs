//! One job of a bulk run: what the ledger decides for its photos, done, journaled and
//! handed to the caller.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use uuid::Uuid;

use super::ledger::Plan;
use super::photos::Photos;
use super::record::State;
use super::runner::{Bulk, Ended};
use super::watcher::Watcher;
use super::{HandlerError, Job, Outcome, advice};
use crate::error::{Error, ErrorKind, Result};
use crate::model::BatchResults;
use crate::pipeline::AnalysisOptions;

impl Bulk<'_> {
    /// One job, from the ledger's word to its outcome.
    pub(super) fn one<H>(
        &self,
        job: &Job<'_>,
        photos: &Photos<'_, '_>,
        handle: &H,
        journal_failed: &AtomicBool,
    ) -> Ended
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
        let presence = |other: &str| photos.presence(other, &fingerprint, job.group.as_deref());
        let inputs = Some(fingerprint.as_str());
        // A batch the service says it does not know is asked about again each run, and
        // decided on again at once: only then may the caller's retry pay for it.
        let (mut gone, mut save_gone) = (None, false);
        loop {
            let patient = (job.group.as_deref(), photos.shared(job, &fingerprint));
            let (plan, disowns) = match journal.decide(key, &fingerprint, self.retry_failed, &presence, gone, patient) {
                Ok(decided) => decided,
                Err(error) => {
                    journal_failed.store(true, Ordering::SeqCst);
                    return Ended::failed(journal.error(error));
                }
            };
            let fetched = match plan {
                Plan::Refuse(refusal) => {
                    let reason = advice::refused(key, &refusal);
                    let kept = !disowns && !save_gone;
                    return self.refused(key, journal.record(key).batch_id, reason, kept, disowns, handle);
                }
                Plan::Skip { batch_id } => match handle(&Outcome::Skipped { key, batch_id: Some(batch_id) }) {
                    // Its save stands: a failure an earlier run journaled (photos it could not
                    // read then, a new save that failed) is over.
                    Ok(()) if journal.record(key).failure.is_some() => {
                        return match self.write(key, State::Saved, Some(batch_id)) {
                            Ok(()) => Ended::Skipped,
                            Err(error) => Ended::failed(error),
                        };
                    }
                    Ok(()) => return Ended::Skipped,
                    // The saved results are gone: fetched again, never computed again.
                    Err(_) => {
                        save_gone = true;
                        self.fetch(job, batch_id, true, false, journal_failed, handle)
                    }
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
                    return self.ended(key, result, false, disowns, handle);
                }
            };
            match fetched {
                Fetched::Gone(batch_id) if gone.is_none() => gone = Some(batch_id),
                // (Never twice: told a batch is gone, the ledger refuses it or starts anew.
                // Were that to change, the job fails here rather than go round again.)
                Fetched::Gone(batch_id) => {
                    return self.refused(key, Some(batch_id), advice::lost(key, batch_id), true, false, handle);
                }
                Fetched::Ended(ended) => return ended,
            }
        }
    }

    /// Waits for the results of `batch_id`, whose compute was sent (`confirmed`: taken),
    /// never computing it again. A batch the service no longer knows is journaled `lost`
    /// and given back to the ledger to decide on: it was paid for, so only the caller may
    /// decide to pay again.
    fn fetch<H>(
        &self,
        job: &Job<'_>,
        batch_id: Uuid,
        confirmed: bool,
        taken_over: bool,
        journal_failed: &AtomicBool,
        handle: &H,
    ) -> Fetched
    where
        H: Fn(&Outcome<'_>) -> Result<(), HandlerError>,
    {
        let key = job.key.as_str();
        let result = self.watched(job, None, Some(batch_id), journal_failed, |options| match confirmed {
            true => self.session.wait_for_results_with(batch_id, options),
            false => self.session.resume_unconfirmed(batch_id, options),
        });
        match result {
            Err(error) if error.status() == Some(404) => match self.write(key, State::Lost, Some(batch_id)) {
                Ok(()) => Fetched::Gone(batch_id),
                Err(error) => Fetched::Ended(Ended::failed(error)),
            },
            result => Fetched::Ended(match self.ended(key, result, true, false, handle) {
                Ended::Done { resumed, .. } => Ended::Done { resumed, taken_over },
                other => other,
            }),
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
        Ended::Failed(reason, error)
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
        if let Some(journal) = self.journal {
            let _ = journal.failed(key, batch_id, &reason, false, kept);
        }
        let error = Error::from(ErrorKind::Refused(reason.clone()));
        let _ = handle(&Outcome::Failed { key, batch_id, error: &error, disowned });
        Ended::Failed(reason, error)
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
        if watcher.photos_changed() {
            let reason = format!(
                "the photos of {} changed while they were uploaded (still being copied in?): nothing was computed; \
                 run again once they are whole",
                job.key
            );
            return Err(ErrorKind::Refused(reason).into());
        }
        match watcher.take_error() {
            // The journal is the record of what was paid for: without it, nothing goes on.
            Some(error) => Err(self.journal_error(error)),
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
                Err(error) => {
                    Ended::Failed(format!("the results were saved but the journal cannot say so: {error}"), error)
                }
            },
            Err(cause) => {
                let reason = format!("the results of batch {batch_id} could not be saved: {cause}");
                if let Some(journal) = self.journal {
                    // Whatever was saved earlier is the caller's to keep or not: a save
                    // that failed does not disown it.
                    let _ = journal.failed(key, Some(batch_id), &reason, false, true);
                }
                // The caller's own error when it is one of ours (a full disk is an
                // `ErrorKind::Io` with its cause); a save failure otherwise.
                let error = match cause.downcast::<Error>() {
                    Ok(error) => *error,
                    Err(other) => ErrorKind::Save { target: key.to_owned(), reason: other.to_string() }.into(),
                };
                Ended::Failed(reason, error)
            }
        }
    }

    /// Journals a state change, if there is a journal.
    fn write(&self, key: &str, state: State, batch_id: Option<Uuid>) -> Result<()> {
        let Some(journal) = self.journal else { return Ok(()) };
        journal.note(key, state, batch_id).map_err(|e| journal.error(e))
    }

    /// The error of the run's journal that cannot be written.
    fn journal_error(&self, io: io::Error) -> Error {
        match self.journal {
            Some(journal) => journal.error(io),
            None => Error::io(std::path::Path::new("journal"), "cannot write", io),
        }
    }
}

/// How a fetch ended: as a job does, or with the service saying it does not know the batch.
enum Fetched {
    Ended(Ended),
    Gone(Uuid),
}
