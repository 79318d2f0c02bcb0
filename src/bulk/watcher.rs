//! The runner's observer of one job: journals each state change its pipeline events mean.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use super::Job;
use super::journal::Journal;
use super::record::State;
use crate::observe::{Control, Event, Observer};

/// Journals one job's progress from its pipeline events, and keeps what went wrong
/// writing the journal, if anything did.
pub(super) struct Watcher<'b> {
    journal: Option<&'b Journal>,
    job: &'b Job<'b>,
    /// The caller's stop request, if it can make one.
    stop: Option<&'b AtomicBool>,
    key: &'b str,
    inputs: Option<&'b str>,
    /// The batch the job works on: given when resumed, or the one it creates.
    batch_id: Mutex<Option<Uuid>>,
    sides: usize,
    uploaded: AtomicUsize,
    /// Between "computing" and "computed": a POST that leaves or is retried is compute.
    computing: AtomicBool,
    error: Mutex<Option<io::Error>>,
    journal_failed: &'b AtomicBool,
    /// The photos were not the ones decided on any more when compute was about to leave.
    changed: AtomicBool,
}

impl<'b> Watcher<'b> {
    /// A watcher of `job` on `batch_id` (or the batch it creates, journaled with
    /// `inputs`) journaling to `journal`, that stops it when `stop` is set or the journal
    /// cannot be written (`journal_failed`).
    pub(super) fn new(
        journal: Option<&'b Journal>,
        stop: Option<&'b AtomicBool>,
        job: &'b Job<'b>,
        inputs: Option<&'b str>,
        batch_id: Option<Uuid>,
        journal_failed: &'b AtomicBool,
    ) -> Self {
        Watcher {
            journal,
            job,
            stop,
            key: job.key(),
            inputs,
            batch_id: Mutex::new(batch_id),
            sides: job.images.sides().count(),
            uploaded: AtomicUsize::new(0),
            computing: AtomicBool::new(false),
            error: Mutex::new(None),
            journal_failed,
            changed: AtomicBool::new(false),
        }
    }

    /// What went wrong writing the journal, if anything did.
    pub(super) fn take_error(&self) -> Option<io::Error> {
        lock(&self.error).take()
    }

    /// Whether the job was stopped before compute because its photos changed while they
    /// were uploaded (a file still being copied in, say): the batch would not be of the
    /// photos the ledger holds it for.
    pub(super) fn photos_changed(&self) -> bool {
        self.changed.load(Ordering::SeqCst)
    }

    /// Reads the photos again before compute leaves, when the job started with `inputs`.
    fn photos_still_the_decided_ones(&self) -> bool {
        match self.inputs {
            Some(decided) => self.job.images.fingerprint().is_ok_and(|now| now == decided),
            None => true,
        }
    }

    /// The state change `event` means, if any.
    fn state(&self, event: &Event<'_>) -> Option<(State, Option<Uuid>)> {
        let computing = self.computing.load(Ordering::SeqCst);
        match event {
            Event::BatchCreated { batch_id } => Some((State::Created, Some(*batch_id))),
            Event::Uploaded { .. } if self.uploaded.fetch_add(1, Ordering::SeqCst) + 1 == self.sides => {
                Some((State::Uploaded, None))
            }
            Event::Computing { .. } => {
                self.computing.store(true, Ordering::SeqCst);
                None
            }
            // Written right before each attempt leaves: from here it may have been taken.
            Event::Sending { .. } if computing => Some((State::ComputeSent, None)),
            // Compute is sent again only after an answer that says it was not taken. (While
            // a compute in doubt is confirmed, results polls retry too: those are GETs.)
            Event::Retrying { what, .. } if computing && what.starts_with("POST ") => {
                Some((State::ComputeRefused, None))
            }
            Event::Computed { .. } => {
                self.computing.store(false, Ordering::SeqCst);
                Some((State::ComputeAccepted, None))
            }
            _ => None,
        }
    }
}

impl Observer for Watcher<'_> {
    fn on_event(&self, event: &Event<'_>) -> Control {
        // Asked to stop before a request leaves: it does not leave, and is not journaled.
        if matches!(event, Event::Sending { .. }) && self.should_stop() {
            return Control::Stop;
        }
        // Compute pays for the photos uploaded: they must still be the ones decided on.
        if matches!(event, Event::Computing { .. }) && !self.photos_still_the_decided_ones() {
            self.changed.store(true, Ordering::SeqCst);
            return Control::Stop;
        }
        let Some((state, batch_id)) = self.state(event) else { return Control::Continue };
        let Some(journal) = self.journal else { return Control::Continue };
        let written = match (state, batch_id) {
            (State::Created, Some(batch_id)) => {
                *lock(&self.batch_id) = Some(batch_id);
                journal.created(self.key, batch_id, self.inputs)
            }
            _ => journal.note(self.key, state, batch_id.or(*lock(&self.batch_id))),
        };
        match written {
            Ok(()) => Control::Continue,
            Err(error) => {
                *lock(&self.error) = Some(error);
                self.journal_failed.store(true, Ordering::SeqCst);
                Control::Stop
            }
        }
    }

    fn should_stop(&self) -> bool {
        stopped(self.stop, self.journal_failed)
    }
}

/// Whether the caller asked to stop, or the journal cannot be written.
pub(super) fn stopped(stop: Option<&AtomicBool>, journal_failed: &AtomicBool) -> bool {
    stop.is_some_and(|f| f.load(Ordering::SeqCst)) || journal_failed.load(Ordering::SeqCst)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
