//! The journal's lines (a job's state changes) and what they say of one job.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::image::Images;

/// A state change of a job, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// The job is about to create a batch for its photos (written, with the photos, before
    /// the batch is asked for, so that another job with the same photos sees it).
    Claimed,
    /// The batch exists on the server.
    Created,
    /// The job took over a batch another name used for the same photos (a renamed visit).
    Adopted,
    /// Every image is uploaded.
    Uploaded,
    /// A compute request is leaving now (written right before each attempt, after any
    /// wait): until the service answers, compute is in doubt.
    ComputeSent,
    /// The service certainly did not take compute: it refused it (429, 503, a 4xx), or it
    /// was never sent (a stop while it waited). A rerun starts the job over.
    ComputeRefused,
    /// The service took compute.
    ComputeAccepted,
    /// The results were handed over and saved: the job is done.
    Saved,
    /// The job failed; the line says why, whether its batch ended for good, and whether
    /// its earlier save still stands.
    Failed,
    /// The service does not know the job's batch (it answered 404): its results cannot be
    /// fetched, and a batch that was paid for is not paid for again unless asked.
    Lost,
    /// A subject named after the line's key (a patient) is about to be created in the
    /// line's dataset: written before the request, so that a run killed before the answer
    /// is journaled looks the subject up by name instead of making a second one.
    SubjectClaimed,
    /// The subject of the line's key in its dataset is the line's subject.
    SubjectMade,
}

/// What the journal says of a job's compute, for its current batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compute {
    /// Never sent, or certainly refused: sending it again cannot pay twice.
    #[default]
    NotSent,
    /// Sent, and its answer lost: the service may or may not be computing. Only ever
    /// waited for, never sent again (unless the caller asks, see
    /// [`Bulk::retry_failed`](super::Bulk::retry_failed)).
    InDoubt,
    /// The service took it.
    Accepted,
}

/// One line of a journal: a job's state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Line {
    pub(crate) key: String,
    pub(crate) state: State,
    /// The batch the change is about (lines of earlier versions name it only on `created`
    /// and `lost`: the others are about the job's current batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) batch_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// With `failed`: the batch ended for good (a detection error, a compute never
    /// confirmed), so waiting on it again cannot help.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) ended: bool,
    /// With `failed`: the job's earlier save still stands (its photos could not be read,
    /// or a new save failed). Without it, a failure disowns the save, as in journals of
    /// earlier versions, whose failures after a save all meant changed photos.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) kept: bool,
    /// With `claimed` and `created`: what the batch's photos are (see `Images::fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) inputs: Option<String>,
    /// With `subject_claimed` and `subject_made`: the dataset of the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dataset_id: Option<Uuid>,
    /// With `subject_made`: the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject_id: Option<Uuid>,
}

impl Line {
    /// A line of `state` for `key`, about `batch_id`.
    pub(crate) fn new(key: &str, state: State, batch_id: Option<Uuid>) -> Line {
        Line {
            key: key.to_owned(),
            state,
            batch_id,
            reason: None,
            ended: false,
            kept: false,
            inputs: None,
            dataset_id: None,
            subject_id: None,
        }
    }
}

/// What the journals say of one job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRecord {
    /// The job's current batch, once one was created or taken over.
    pub batch_id: Option<Uuid>,
    /// What became of compute for that batch.
    pub compute: Compute,
    /// Whether the results were saved: the job is done.
    pub saved: bool,
    /// Why the job's last run failed, if it did and was not saved since.
    pub failure: Option<String>,
    /// Whether that failure ended the batch for good (a detection error, a compute that
    /// never arrived): only a deliberate retry starts it over.
    pub ended: bool,
    /// Whether the service no longer knows the batch, though its compute was paid for.
    pub lost: bool,
    /// The last state journaled.
    pub(crate) last: Option<State>,
    /// What the current batch's photos were: each side with its size and a hash of its
    /// bytes. `None` for a journal written before this was recorded.
    pub inputs: Option<String>,
}

impl JobRecord {
    /// Whether `images` are the photos the journal analysed for this job's batch: their
    /// sizes and hashes are those journaled with it (`true` when the journal recorded
    /// none, as one written by an earlier version). Reads every photo; an error
    /// ([`ErrorKind::InvalidImage`](crate::error::ErrorKind::InvalidImage)) says which cannot be used.
    ///
    /// For reports over jobs a run did not work itself (another shard's): a job whose
    /// photos changed since is not done, whatever the journal says.
    pub fn same_photos(&self, images: &Images<'_>) -> crate::Result<bool> {
        match &self.inputs {
            Some(analysed) => Ok(*analysed == images.fingerprint()?),
            None => Ok(true),
        }
    }
}
