//! The ledger: every batch a journal folder has paid for, or might have, with the photos
//! it was made from and the names (jobs, visits) that used it; and the one place that
//! decides what a job may do with its photos ([`Ledger::decide`]).
//!
//! Photos are the identity of an analysis: a batch made from them is theirs under any
//! name. So a renamed visit takes its batch over, a copy of a visit under a second name is
//! refused, and photos already computed are never computed again unless the caller asks.

use std::collections::HashMap;

use uuid::Uuid;

use super::record::{Compute, JobRecord, Line, State};

/// What the journals say, folded: by job, by batch and by photos.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    jobs: HashMap<String, JobEntry>,
    batches: HashMap<Uuid, BatchEntry>,
    /// Photos → the jobs whose current photos they are, in the order they came to them.
    holders: HashMap<String, Vec<String>>,
    /// Photos → the batches made from them, oldest first.
    made: HashMap<String, Vec<Uuid>>,
    /// (dataset, patient) → the subject made for the patient, once its creation is
    /// journaled (`None` while it is only claimed: being made, or its answer lost).
    subjects: HashMap<(Uuid, String), Option<Uuid>>,
    /// Each photo → the jobs that claimed it: whose patient's it is.
    owners: owners::Owners,
}

#[derive(Debug, Default, Clone)]
struct JobEntry {
    batch: Option<Uuid>,
    /// The photos the job last claimed, created a batch for or took a batch over with.
    photos: Option<String>,
    saved: bool,
    failure: Option<String>,
    last: Option<State>,
}

#[derive(Debug, Default, Clone)]
struct BatchEntry {
    /// `None` in a journal written before photos were recorded.
    photos: Option<String>,
    compute: Compute,
    /// A failure ended it for good (a detection error, a compute never confirmed).
    ended: bool,
    /// The service said it no longer knows it (the last time it was asked).
    lost: bool,
    /// Its results were saved once, by some job.
    saved: bool,
    /// The jobs that used it, the one holding it now last.
    names: Vec<String>,
}

impl BatchEntry {
    /// Whether it was paid for, or may have been: compute sent (in doubt or taken), saved.
    fn paid(&self) -> bool {
        self.compute != Compute::NotSent || self.saved
    }

    fn confirmed(&self) -> bool {
        self.compute == Compute::Accepted || self.saved
    }
}

/// Where another job of the run stands with the photos a job has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Not a job of this run (any shard): its visit is gone, or renamed.
    Absent,
    /// Of another group than the job asking (another patient, whose analyses are filed
    /// under another subject of the service), with other photos now or none: its batches
    /// are never this job's.
    AbsentElsewhere,
    /// A job of this run with the same photos.
    Same,
    /// A job of this run with other photos.
    Other,
    /// A job of this run whose photos cannot be read to tell.
    Unreadable,
}

/// What a job may do with its photos: the only way a run gets to create a batch is
/// [`Plan::Start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Saved earlier, from these photos, under this name.
    Skip { batch_id: Uuid },
    /// Compute was sent for a batch of these photos: wait for it, never compute again.
    /// `from` is the job that held the batch when this one takes it over (a rename).
    Resume { batch_id: Uuid, confirmed: bool, from: Option<String> },
    /// Nothing was paid for these photos (or the caller asked to pay again): analyse them.
    Start,
    /// Nothing may be done: the reason says why and what to do.
    Refuse(Refusal),
}

/// Why a job may not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Another job of the run has the same photos, and came to them first.
    Duplicate { other: String },
    /// These photos were analysed under another name that is still a job, with other photos now.
    Relabelled { other: String, batch_id: Uuid },
    /// These photos were analysed under a name that is gone, and this job's own batch was
    /// made from other photos: its photos were replaced by another visit's.
    Moved { other: String, batch_id: Uuid, own: Uuid },
    /// The job's photos are not the ones its batch was made from.
    Changed { batch_id: Uuid },
    /// These photos were analysed under a name of another group (patient) that is gone.
    OtherPatient { other: String, batch_id: Uuid },
    /// A photo of these is another group's (patient's): in a job of the run, or claimed
    /// by one earlier (`claimed`).
    SharedPhoto { shared: owners::SharedPhoto, claimed: bool },
    /// The service no longer knows the batch these photos were paid for with (it just said so).
    Lost { batch_id: Uuid },
}

impl Ledger {
    /// Applies one journal line.
    pub(crate) fn fold(&mut self, line: &Line) {
        let key = line.key.as_str();
        // Subjects are patients', not jobs': a patient may share a flat visit's name.
        if let (State::SubjectClaimed | State::SubjectMade, Some(dataset)) = (line.state, line.dataset_id) {
            let made = self.subjects.entry((dataset, key.to_owned())).or_default();
            *made = line.subject_id.or(*made);
            return;
        }
        // Lines of old journals name their batch only when they create it.
        let batch_id = line.batch_id.or_else(|| self.jobs.get(key).and_then(|j| j.batch));
        match line.state {
            State::Claimed => {
                if let Some(photos) = &line.inputs {
                    self.hold(key, photos);
                    self.owners.claim(key, photos);
                }
            }
            State::Created => {
                let Some(batch_id) = batch_id else { return };
                let photos = line.inputs.clone();
                self.batches.insert(
                    batch_id,
                    BatchEntry { photos: photos.clone(), names: vec![key.to_owned()], ..Default::default() },
                );
                if let Some(photos) = &photos {
                    self.made.entry(photos.clone()).or_default().push(batch_id);
                    self.hold(key, photos);
                    self.owners.claim(key, photos);
                }
                let job = self.jobs.entry(key.to_owned()).or_default();
                (job.batch, job.saved, job.failure) = (Some(batch_id), false, None);
            }
            State::Adopted => {
                let Some(batch) = batch_id.and_then(|b| self.batches.get_mut(&b)) else { return };
                batch.names.retain(|name| name != key);
                batch.names.push(key.to_owned());
                let photos = batch.photos.clone();
                if let Some(photos) = &photos {
                    self.hold(key, photos);
                }
                // Taking back a batch it held before (a name that came back) keeps its save.
                let job = self.jobs.entry(key.to_owned()).or_default();
                if job.batch != batch_id {
                    (job.batch, job.saved, job.failure) = (batch_id, false, None);
                }
            }
            State::Uploaded => {}
            State::ComputeSent => self.set_compute(batch_id, Compute::InDoubt),
            State::ComputeRefused => self.set_compute(batch_id, Compute::NotSent),
            State::ComputeAccepted => self.set_compute(batch_id, Compute::Accepted),
            State::Saved => {
                if let Some(batch) = batch_id.and_then(|b| self.batches.get_mut(&b)) {
                    (batch.saved, batch.ended, batch.lost) = (true, false, false);
                }
                let job = self.jobs.entry(key.to_owned()).or_default();
                (job.saved, job.failure) = (true, None);
            }
            State::Failed => {
                if let (true, Some(batch)) = (line.ended, batch_id.and_then(|b| self.batches.get_mut(&b))) {
                    batch.ended = true;
                }
                let job = self.jobs.entry(key.to_owned()).or_default();
                job.failure = Some(line.reason.clone().unwrap_or_default());
                // Unless the line says the earlier save still stands (photos that could not
                // be read, a save that failed), a failure disowns it: the photos changed.
                job.saved &= line.kept;
            }
            State::Lost => {
                if let Some(batch) = batch_id.and_then(|b| self.batches.get_mut(&b)) {
                    batch.lost = true;
                }
            }
            // (A subject line without its dataset, written by hand: nothing to fold.)
            State::SubjectClaimed | State::SubjectMade => return,
        }
        self.jobs.entry(key.to_owned()).or_default().last = Some(line.state);
    }

    fn set_compute(&mut self, batch_id: Option<Uuid>, compute: Compute) {
        if let Some(batch) = batch_id.and_then(|b| self.batches.get_mut(&b)) {
            batch.compute = compute;
        }
    }

    /// `key`'s photos are now `photos`: it joins their holders (last, unless it was one).
    fn hold(&mut self, key: &str, photos: &str) {
        let job = self.jobs.entry(key.to_owned()).or_default();
        if job.photos.as_deref() == Some(photos) {
            return;
        }
        if let Some(before) = job.photos.replace(photos.to_owned()) {
            self.holders.entry(before).or_default().retain(|k| k != key);
        }
        self.holders.entry(photos.to_owned()).or_default().push(key.to_owned());
    }

    /// What the job `key` may do with its photos `photos` (their fingerprint, read now).
    /// `presence` says where another job of the run stands with these photos; `gone` is a
    /// batch this job just found the service no longer knows (it answered 404: asked again
    /// each run, never taken for good from an earlier answer). With `retry_failed`, photos
    /// whose earlier analysis cannot be used are analysed again (which may pay again), and
    /// a visit takes over the analysis of its photos made under another name that a person
    /// must confirm; nothing else ever computes photos a second time.
    pub(crate) fn decide(
        &self,
        key: &str,
        photos: &str,
        retry_failed: bool,
        presence: &dyn Fn(&str) -> Presence,
        gone: Option<Uuid>,
    ) -> Plan {
        // Another visit with the same photos came to them first: one of the two is not
        // this patient's, and a person must say which.
        let holders = self.holders.get(photos).map(Vec::as_slice).unwrap_or_default();
        if let Some(first) = holders.iter().find(|k| *k == key || presence(k) == Presence::Same)
            && first != key
        {
            return Plan::Refuse(Refusal::Duplicate { other: first.clone() });
        }
        let own = self.jobs.get(key);
        let own_batch = self.own_batch(key);
        // The job's own batch was paid for other photos: its photos changed since.
        let changed =
            own_batch.filter(|(_, batch)| batch.paid() && batch.photos.as_deref().is_some_and(|p| p != photos));
        // A journal written before photos were recorded: its batch is taken for these.
        let legacy = own_batch.filter(|(_, batch)| batch.photos.is_none() && batch.paid());
        let Some((batch_id, batch)) = legacy.or_else(|| self.paid_for(photos)) else {
            return match changed {
                Some((batch_id, _)) if !retry_failed => Plan::Refuse(Refusal::Changed { batch_id }),
                _ => Plan::Start,
            };
        };
        let holder = batch.names.last().map(String::as_str).unwrap_or(key);
        let from = (!batch.names.iter().any(|name| name == key)).then(|| holder.to_owned());
        if let Some(other) = &from {
            // Taken over without asking only by a name of its own that is new to these
            // photos, from a name that is gone: a rename. Anything else a person confirms.
            match (presence(other), changed) {
                (Presence::Same, _) => return Plan::Refuse(Refusal::Duplicate { other: other.clone() }),
                // Another patient's analysis is never taken over: it is filed under that
                // patient's subject. Only a deliberate retry analyses the photos anew.
                (Presence::AbsentElsewhere, _) if retry_failed => return Plan::Start,
                (Presence::AbsentElsewhere, _) => {
                    return Plan::Refuse(Refusal::OtherPatient { other: other.clone(), batch_id });
                }
                (Presence::Absent, None) => {}
                _ if retry_failed => {}
                (Presence::Absent, Some((own, _))) => {
                    return Plan::Refuse(Refusal::Moved { other: other.clone(), batch_id, own });
                }
                (Presence::Other | Presence::Unreadable, _) => {
                    return Plan::Refuse(Refusal::Relabelled { other: other.clone(), batch_id });
                }
            }
        }
        if gone == Some(batch_id) {
            return match retry_failed {
                true => Plan::Start,
                false => Plan::Refuse(Refusal::Lost { batch_id }),
            };
        }
        if batch.ended && retry_failed {
            return Plan::Start;
        }
        match own {
            Some(job) if from.is_none() && job.batch == Some(batch_id) && job.saved => Plan::Skip { batch_id },
            _ => Plan::Resume { batch_id, confirmed: batch.confirmed(), from },
        }
    }

    /// The batch `key` holds: its current batch, unless another name took it over since.
    fn own_batch(&self, key: &str) -> Option<(Uuid, &BatchEntry)> {
        let batch_id = self.jobs.get(key)?.batch?;
        let batch = self.batches.get(&batch_id)?;
        batch.names.last().is_none_or(|holder| holder == key).then_some((batch_id, batch))
    }

    /// What the journals say of `patient`'s subject in `dataset`: `None` when none was ever
    /// claimed, `Some(None)` when one was claimed (being made, or its answer lost) and
    /// never journaled as made, `Some(Some(id))` once made.
    #[cfg(feature = "folder")]
    pub(crate) fn subject(&self, dataset: Uuid, patient: &str) -> Option<Option<Uuid>> {
        self.subjects.get(&(dataset, patient.to_owned())).copied()
    }

    /// The job that holds `batch_id` now.
    pub(crate) fn holder(&self, batch_id: Uuid) -> Option<&str> {
        self.batches.get(&batch_id)?.names.last().map(String::as_str)
    }

    /// The last batch made from `photos` that was paid for, or may have been.
    fn paid_for(&self, photos: &str) -> Option<(Uuid, &BatchEntry)> {
        let made = self.made.get(photos)?;
        made.iter().rev().find_map(|b| Some((*b, self.batches.get(b)?)).filter(|(_, batch)| batch.paid()))
    }

    /// Whether the results saved for `key` stopped being its own when its photos became
    /// `photos`: its batch was made from others.
    pub(crate) fn disowns(&self, key: &str, photos: &str) -> bool {
        let batch = self.jobs.get(key).and_then(|j| j.batch).and_then(|b| self.batches.get(&b));
        batch.and_then(|b| b.photos.as_deref()).is_some_and(|theirs| theirs != photos)
    }

    /// What the journals say of `key`.
    pub(crate) fn record(&self, key: &str) -> JobRecord {
        let Some(job) = self.jobs.get(key) else { return JobRecord::default() };
        let batch = job.batch.and_then(|b| self.batches.get(&b));
        JobRecord {
            batch_id: job.batch,
            compute: batch.map(|b| b.compute).unwrap_or_default(),
            saved: job.saved,
            failure: job.failure.clone(),
            ended: batch.is_some_and(|b| b.ended),
            lost: batch.is_some_and(|b| b.lost),
            last: job.last,
            inputs: batch.and_then(|b| b.photos.clone()).or_else(|| job.photos.clone()),
        }
    }
}

pub(crate) mod owners;
#[cfg(test)]
mod tests;
