//! Many analyses at once: a folder of visits overnight, resumable and fair to the service.
//!
//! A [`Bulk`] runner takes [`Job`]s (a key, the images, options), runs a bounded number at
//! a time on scoped threads sharing one [`Session`](crate::Session) (so they share its connection pool,
//! its `Retry-After` holds, its retry budget, its adaptive rate and what it learned about
//! polling), hands each [`Outcome`] to the caller as it ends, and returns a [`Summary`].
//!
//! With a [`Journal`] (a folder), the folder keeps a ledger of every batch it paid for,
//! or might have: the photos each was made from (each side's size and a hash of its
//! bytes) and the names that used it. Photos are paid for once, whatever the user does:
//!
//! * the ledger decides, in one place and under the folder's lock, what a job does with
//!   its photos: photos computed earlier (saved, taken, or in doubt) get no new batch
//!   under any name; a job whose photos a job that is gone (a renamed visit) had takes
//!   that batch over ([`Outcome::TakenOver`]); the same photos under two names that both
//!   still exist fail the newer, naming the other;
//! * every state change of a job is on disk before the run goes on, and a finished job is
//!   skipped, whatever shard layout finished it;
//! * a job whose compute the service took, or may have taken (sent, answer lost), is only
//!   ever resumed with [`Session::wait_for_results`](crate::Session::wait_for_results),
//!   never computed again; one in doubt must show work within
//!   [`COMPUTE_CONFIRMATION`](crate::config::COMPUTE_CONFIRMATION) or fails with advice;
//!   one whose batch the service no longer knows (a 404) fails with advice;
//! * a job whose compute was certainly not taken (refused, or never sent: a stop or kill
//!   while it waited) starts over;
//! * a job whose photos are not the ones its batch was made from (retaken, or another
//!   visit's under the same key) is neither skipped as done nor resumed: it fails, saying
//!   so, and the results saved for it no longer count as its own ([`Outcome::Failed`]'s
//!   `disowned`); photos that cannot be read are not changed photos: the job fails and its
//!   saved results stay its own;
//! * paying again for photos computed before happens only with [`Bulk::retry_failed`];
//! * two runs that could work the same job never run at once: the second is refused;
//! * the journal is bound to the service and company it was written against.
//!
//! A [`Shard`] splits the jobs between machines by a stable hash of their keys; the shards
//! of one layout run side by side on one journal folder.
//!
//! ```no_run
//! use hautai::bulk::{Bulk, Job, Journal, Outcome, Shard};
//! use hautai::Images;
//!
//! let session = hautai::Session::from_env()?;
//! let jobs = ["visit-1", "visit-2"].map(|visit| {
//!     let images = Images::new().front(format!("{visit}/front.jpg"));
//!     Job::new(visit, images)
//! });
//! let journal = Journal::open("journal", &session, Shard::ALL)?;
//! let summary = Bulk::new(&session).concurrency(8).journal(&journal).run(jobs, |outcome| {
//!     if let Outcome::Done { key, results, .. } = outcome {
//!         std::fs::write(format!("{key}.json"), results.to_json())?;
//!     }
//!     Ok(())
//! });
//! println!("{} done, {} skipped, {} failed", summary.done, summary.skipped, summary.failed.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod advice;
mod files;
mod job;
mod journal;
mod ledger;
mod lock;
mod photos;
mod record;
mod runner;
mod shard;
mod summary;
mod watcher;

use uuid::Uuid;

pub use journal::Journal;
#[cfg(feature = "folder")]
pub(crate) use ledger::Ledger;
#[cfg(feature = "test-util")]
pub use record::State;
pub use record::{Compute, JobRecord};
pub use runner::Bulk;
pub use shard::Shard;
pub use summary::{Failure, Summary};

/// What a [`Bulk::run`] handler returns on failure: any error, so that `?` works in it.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

use crate::error::Error;
use crate::image::Images;
use crate::model::BatchResults;
use crate::pipeline::AnalysisOptions;

/// One analysis of a bulk run: a key that names it (unique in the run, stable across
/// reruns: the journal and the shards go by it), its images and its options.
#[derive(Debug, Clone)]
pub struct Job<'i> {
    key: String,
    group: Option<String>,
    images: Images<'i>,
    options: AnalysisOptions<'static>,
}

impl<'i> Job<'i> {
    /// The job `key` analysing `images` with the default options.
    pub fn new(key: impl Into<String>, images: Images<'i>) -> Self {
        Job { key: key.into(), group: None, images, options: AnalysisOptions::new() }
    }

    /// Uploads for this subject instead of the session's default (a patient's subject).
    pub fn subject_id(mut self, subject_id: Uuid) -> Self {
        self.options = self.options.subject_id(subject_id);
        self
    }

    /// Dates the analysis: `time` (RFC 3339, e.g. `2026-01-05T12:00:00Z`) is sent as the
    /// batch's `creation_time`, for photos taken before they are analysed.
    pub fn creation_time(mut self, time: impl Into<String>) -> Self {
        self.options = self.options.creation_time(time);
        self
    }

    /// Puts the job in a group (a patient, whose visits are jobs): [`Shard`]s split
    /// jobs by group, so that every job of a group runs in one process, and a job never
    /// takes over the batch of a job of another group (another patient's analysis, filed
    /// under that patient's subject; a key that is no job of the run is of the group its
    /// key names before a `/`, as a folder run names visits). Without it, the job is a
    /// group of its own, its key.
    ///
    /// ```
    /// use hautai::bulk::{Job, Shard};
    /// let job = Job::new("anna/2026-01-05", hautai::Images::new().front("anna/2026-01-05/front.jpg")).in_group("anna");
    /// let shard = Shard::new(1, 4).unwrap();
    /// assert_eq!(shard.contains(job.group()), shard.contains("anna"));
    /// ```
    pub fn in_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// The job's options (deadline, results query, metadata...). An observer set here is
    /// replaced by the runner's own, which journals the job.
    pub fn options(mut self, options: AnalysisOptions<'static>) -> Self {
        self.options = options;
        self
    }

    /// The job's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The group shards split by: the one given to [`Job::in_group`], or the key.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or(&self.key)
    }
}

/// How a job ended, handed to the caller as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The results are complete: save them. Returning `Ok` from the handler marks the job
    /// done in the journal; `Err(error)` marks it failed (a rerun resumes the batch).
    Done {
        /// The job.
        key: &'a str,
        /// Its batch.
        batch_id: Uuid,
        /// The complete results.
        results: &'a BatchResults,
        /// Whether an earlier run had started this batch (resumed, not computed again).
        resumed: bool,
    },
    /// The job failed. A rerun resumes its batch if the service took compute (or may
    /// have), and starts it over otherwise.
    Failed {
        /// The job.
        key: &'a str,
        /// Its batch, once one was created or taken over.
        batch_id: Option<Uuid>,
        /// What went wrong.
        error: &'a Error,
        /// Whether the results saved earlier for this job stopped being its own: its photos
        /// were read and are not the ones its batch was made from. Move them aside.
        disowned: bool,
    },
    /// The journal says an earlier run finished this job. Returning `Err` from the
    /// handler says its saved results are gone: the batch is fetched again (not computed
    /// again) and comes back as `Done`.
    Skipped {
        /// The job.
        key: &'a str,
        /// The batch whose results were saved, when the journal knows it.
        batch_id: Option<Uuid>,
    },
    /// The job's photos are those of a batch another key used, and that key is no longer
    /// a job of the run (a renamed visit): the job takes the batch over, and its results
    /// come as `Done` (fetched by id, never computed again).
    TakenOver {
        /// The job.
        key: &'a str,
        /// The key that held the batch.
        from: &'a str,
        /// The batch.
        batch_id: Uuid,
    },
}
