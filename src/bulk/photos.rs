//! The photos of a run's jobs: each job's fingerprint, read once and kept, and where
//! another job stands with the photos a job has (for the ledger's decisions).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use super::Job;
use super::ledger::Presence;
use super::ledger::owners::{SharedPhoto, each_photo, group_of};
use crate::error::{Error, ErrorKind};

/// Every job of a run (every shard's: a visit that is a job of another shard still
/// exists), with the fingerprints read so far.
pub(super) struct Photos<'j, 'i> {
    jobs: HashMap<&'j str, &'j Job<'i>>,
    /// Keys that exist but are no jobs: their photos cannot be used now.
    unusable: &'j [String],
    /// Key → the photos' fingerprint, or why they cannot be read.
    read: Mutex<HashMap<String, Result<String, String>>>,
    /// Photo size → the jobs of a group with a photo of that size (read from the files'
    /// sizes once, so that only photos that may be the same are read to compare).
    by_size: OnceLock<HashMap<u64, Vec<&'j Job<'i>>>>,
}

impl<'j, 'i> Photos<'j, 'i> {
    /// The photos of `jobs` (the first job of a key, when a key is given twice), and of
    /// keys that exist with photos that cannot be used (`unusable`).
    pub(super) fn new(jobs: &'j [Job<'i>], unusable: &'j [String]) -> Self {
        let mut by_key = HashMap::new();
        for job in jobs {
            by_key.entry(job.key.as_str()).or_insert(job);
        }
        Photos { jobs: by_key, unusable, read: Mutex::new(HashMap::new()), by_size: OnceLock::new() }
    }

    /// A job of another group (patient) with one of `photos` (`job`'s) on any side, in
    /// this run or another shard's: a photo is one patient's, so neither may be sent.
    pub(super) fn shared(&self, job: &Job<'_>, photos: &str) -> Option<SharedPhoto> {
        let group = job.group.as_deref()?;
        let by_size = self.by_size.get_or_init(|| {
            let mut by_size: HashMap<u64, Vec<&Job<'_>>> = HashMap::new();
            for job in self.jobs.values().filter(|job| job.group.is_some()) {
                for size in job.images.sizes() {
                    by_size.entry(size).or_default().push(job);
                }
            }
            by_size
        });
        each_photo(photos).find_map(|(mine, photo)| {
            let size = photo.split(':').next()?.parse::<u64>().ok()?;
            let mut others = by_size.get(&size)?.iter().filter(|other| other.group() != group);
            others.find_map(|other| {
                let fingerprint = self.fingerprint(other).ok()?;
                let (theirs, _) = each_photo(&fingerprint).find(|(_, p)| *p == photo)?;
                Some(SharedPhoto { other: other.key.clone(), mine: mine.to_owned(), theirs: theirs.to_owned() })
            })
        })
    }

    /// The fingerprint of `job`'s photos, or why they cannot be read (read now, once).
    pub(super) fn fingerprint(&self, job: &Job<'_>) -> Result<String, String> {
        if let Some(known) = self.read.lock().unwrap_or_else(PoisonError::into_inner).get(&job.key) {
            return known.clone();
        }
        let read = job.images.fingerprint().map_err(|e| what_is_wrong(&e));
        self.read.lock().unwrap_or_else(PoisonError::into_inner).insert(job.key.clone(), read.clone());
        read
    }

    /// Where the job `key` stands with `photos`.
    pub(super) fn presence(&self, key: &str, photos: &str, group: Option<&str>) -> Presence {
        // The other key's group: its job's, or read from the key as a folder run names
        // visits (`patient/visit`, or a visit that is a patient of its own).
        let theirs = self.jobs.get(key).map_or_else(|| group_of(key), |job| job.group());
        let elsewhere = group.is_some_and(|group| group != theirs);
        let presence = match self.jobs.get(key) {
            None if self.unusable.iter().any(|k| k == key) => Presence::Unreadable,
            None => Presence::Absent,
            Some(job) => match self.fingerprint(job) {
                Ok(theirs) if theirs == photos => Presence::Same,
                Ok(_) => Presence::Other,
                Err(_) => Presence::Unreadable,
            },
        };
        // Another patient's analysis is never this job's to take, whatever its visit is now.
        match presence {
            Presence::Same => Presence::Same,
            _ if elsewhere => Presence::AbsentElsewhere,
            presence => presence,
        }
    }
}

/// Why a job's photos cannot be used, leading with what is wrong and naming the photo by
/// its side and file name (never the machine's path): `empty (front photo front.jpg)`,
/// `cannot read the front photo front.jpg: permission denied`.
fn what_is_wrong(error: &Error) -> String {
    let ErrorKind::InvalidImage { side, path, reason } = error.kind() else { return error.to_string() };
    let photo = match path.as_deref().and_then(std::path::Path::file_name) {
        Some(file) => format!("{side} photo {}", file.to_string_lossy()),
        None => format!("{side} photo"),
    };
    if let Some(why) = reason.strip_prefix("cannot be read: ") {
        return format!("cannot read the {photo}: {why}");
    }
    if matches!(reason.as_str(), "does not exist" | "permission denied") {
        return format!("cannot read the {photo}: it {reason}");
    }
    // The first clause says what is wrong; the photo follows it, then the details.
    let what = reason.strip_prefix("is ").unwrap_or(reason);
    let end = [what.find(": "), what.find("; ")].into_iter().flatten().min().unwrap_or(what.len());
    format!("{} ({photo}){}", &what[..end], &what[end..])
}
