//! What the journal says of a job: its state changes, folded into what a rerun does.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::image::Images;

/// A state change of a job, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// The batch exists on the server.
    Created,
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
    /// The job failed; the line says why, and whether its batch ended for good.
    Failed,
    /// The service does not know the job's batch (it answered 404): nothing was computed
    /// there, and the job starts over.
    Lost,
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
pub(super) struct Line {
    pub(super) key: String,
    pub(super) state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) batch_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<String>,
    /// With `failed`: the batch ended for good (a detection error, a compute never
    /// confirmed), so waiting on it again cannot help.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) ended: bool,
    /// With `created`: what the batch's photos were (see `Images::fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) inputs: Option<String>,
}

/// What the journals say of one job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRecord {
    /// The job's current batch, once one was created.
    pub batch_id: Option<Uuid>,
    /// What became of compute for that batch.
    pub compute: Compute,
    /// Whether the results were saved: the job is done.
    pub saved: bool,
    /// Why the job's last run failed, if it did and was not saved since.
    pub failure: Option<String>,
    /// Whether that failure ended the batch for good (see [`State::Failed`]).
    pub ended: bool,
    /// The last state journaled.
    pub last: Option<State>,
    /// What the current batch's photos were: each side with its size and a hash of its
    /// bytes. `None` for a journal written before this was recorded.
    pub inputs: Option<String>,
}

impl JobRecord {
    /// What a new run does with this job. With `retry_failed`, a job whose batch ended for
    /// good in a failure (a detection error, a compute never confirmed) starts over.
    pub fn next_step(&self, retry_failed: bool) -> NextStep {
        if self.saved {
            return NextStep::Skip;
        }
        match (self.batch_id, self.compute) {
            (Some(_), Compute::InDoubt | Compute::Accepted) if retry_failed && self.ended => NextStep::Start,
            (Some(batch_id), Compute::InDoubt) => NextStep::Resume { batch_id, confirmed: false },
            (Some(batch_id), Compute::Accepted) => NextStep::Resume { batch_id, confirmed: true },
            _ => NextStep::Start,
        }
    }

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

    /// Applies a state change.
    pub(super) fn fold(&mut self, line: &Line) {
        match line.state {
            // A new batch: whatever the last one was, it was never computed.
            State::Created => {
                *self = JobRecord { batch_id: line.batch_id, inputs: line.inputs.clone(), ..JobRecord::default() }
            }
            State::Lost => *self = JobRecord::default(),
            State::Uploaded => {}
            State::ComputeSent => self.compute = Compute::InDoubt,
            State::ComputeRefused => self.compute = Compute::NotSent,
            State::ComputeAccepted => self.compute = Compute::Accepted,
            State::Saved => {
                self.saved = true;
                self.failure = None;
                self.ended = false;
            }
            // A failure after a save (the photos changed since) undoes it: the saved results
            // are no longer this job's.
            State::Failed => {
                self.saved = false;
                self.failure = Some(line.reason.clone().unwrap_or_default());
                self.ended = line.ended;
            }
        }
        self.last = Some(line.state);
    }
}

/// What a run does with a job, given the journals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextStep {
    /// Done in an earlier run.
    Skip,
    /// Compute was sent for this batch: wait for its results, never compute again.
    /// `confirmed: false` (compute in doubt) gives the batch
    /// [`COMPUTE_CONFIRMATION`](crate::config::COMPUTE_CONFIRMATION) to show work before the wait
    /// fails with advice.
    Resume {
        /// The batch.
        batch_id: Uuid,
        /// Whether the service took compute (rather than it being in doubt).
        confirmed: bool,
    },
    /// Nothing was computed: analyse from the start (an unused batch costs nothing).
    Start,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(state: State, batch: Option<u128>) -> Line {
        Line { key: "k".into(), state, batch_id: batch.map(Uuid::from_u128), reason: None, ended: false, inputs: None }
    }

    fn fold(states: &[(State, Option<u128>)]) -> JobRecord {
        let mut record = JobRecord::default();
        for (state, batch) in states {
            record.fold(&line(*state, *batch));
        }
        record
    }

    #[test]
    fn every_state_folds_into_what_a_rerun_does() {
        use State::*;
        let b = Some(7);
        let resume = |confirmed| NextStep::Resume { batch_id: Uuid::from_u128(7), confirmed };
        type States<'a> = &'a [(State, Option<u128>)];
        let cases: &[(States, NextStep)] = &[
            (&[], NextStep::Start),
            (&[(Created, b)], NextStep::Start),
            (&[(Created, b), (Uploaded, None)], NextStep::Start),
            (&[(Created, b), (Uploaded, None), (ComputeSent, None)], resume(false)),
            (&[(Created, b), (ComputeSent, None), (ComputeRefused, None)], NextStep::Start),
            (&[(Created, b), (ComputeSent, None), (ComputeRefused, None), (ComputeSent, None)], resume(false)),
            (&[(Created, b), (ComputeSent, None), (ComputeAccepted, None)], resume(true)),
            (&[(Created, b), (ComputeSent, None), (ComputeAccepted, None), (Failed, None)], resume(true)),
            (&[(Created, b), (ComputeSent, None), (ComputeRefused, None), (Failed, None)], NextStep::Start),
            (&[(Created, b), (ComputeSent, None), (ComputeAccepted, None), (Saved, None)], NextStep::Skip),
            (&[(Created, b), (ComputeSent, None), (ComputeAccepted, None), (Lost, None)], NextStep::Start),
            (&[(Created, b), (ComputeSent, None), (Created, Some(8))], NextStep::Start),
        ];
        for (states, expected) in cases {
            assert_eq!(fold(states).next_step(false), *expected, "{states:?}");
        }
    }

    #[test]
    fn a_failure_that_ended_the_batch_starts_over_only_when_asked() {
        let mut record = fold(&[(State::Created, Some(7)), (State::ComputeSent, None), (State::ComputeAccepted, None)]);
        record.fold(&Line { ended: true, reason: Some("no face".into()), ..line(State::Failed, None) });
        assert_eq!(record.failure.as_deref(), Some("no face"));
        assert_eq!(record.next_step(false), NextStep::Resume { batch_id: Uuid::from_u128(7), confirmed: true });
        assert_eq!(record.next_step(true), NextStep::Start);
        // A failure a wait can still mend (a deadline) is resumed even when asked.
        record.fold(&line(State::Failed, None));
        assert!(!record.ended);
        assert_eq!(record.next_step(true), NextStep::Resume { batch_id: Uuid::from_u128(7), confirmed: true });
        // Saved: done, whatever failed before.
        record.fold(&line(State::Saved, None));
        assert_eq!((record.next_step(true), record.failure.clone()), (NextStep::Skip, None));
    }
}
