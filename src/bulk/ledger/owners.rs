//! Whose each photo is: a photo (its bytes, on whatever side) belongs to the patient
//! (group) of the jobs that claimed it. A photo of one patient is never sent for another
//! without a person's word.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Plan, Presence, Refusal};

/// Each photo → the keys that claimed it, with the side it was, in the order they came.
#[derive(Debug, Default, Clone)]
pub(crate) struct Owners {
    claims: HashMap<String, Vec<(String, String)>>,
}

/// A photo of a job that is another group's: the other job's key, and the photo's side in
/// each (`front` here, `left` there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedPhoto {
    pub(crate) other: String,
    pub(crate) mine: String,
    pub(crate) theirs: String,
}

impl Owners {
    /// `key` claimed `photos` (a fingerprint: `side:size:hash` per side).
    pub(crate) fn claim(&mut self, key: &str, photos: &str) {
        for (side, photo) in each_photo(photos) {
            let keys = self.claims.entry(photo.to_owned()).or_default();
            if !keys.iter().any(|(k, _)| k == key) {
                keys.push((key.to_owned(), side.to_owned()));
            }
        }
    }

    /// A photo of `photos` that a key of a group other than `group` claimed, if any.
    pub(crate) fn other_group(&self, photos: &str, group: &str) -> Option<SharedPhoto> {
        each_photo(photos).find_map(|(mine, photo)| {
            let (other, theirs) = self.claims.get(photo)?.iter().find(|(key, _)| group_of(key) != group)?;
            Some(SharedPhoto { other: other.clone(), mine: mine.to_owned(), theirs: theirs.clone() })
        })
    }
}

impl super::Ledger {
    /// What the job `key` may do with `photos` ([`decide`](super::Ledger::decide)), a photo
    /// being one patient's: a job of `group` is not paid for with a photo of another
    /// patient's, not when a job of the run has it (`shared`, whoever came first), nor when
    /// one claimed it earlier, unless the caller confirms that patient was renamed.
    pub(crate) fn decide_for_patient(
        &self,
        key: &str,
        photos: &str,
        retry_failed: bool,
        presence: &dyn Fn(&str) -> Presence,
        gone: Option<Uuid>,
        (group, shared): (Option<&str>, Option<SharedPhoto>),
    ) -> Plan {
        match self.decide(key, photos, retry_failed, presence, gone) {
            Plan::Start => {
                let claimed = group.filter(|_| !retry_failed).and_then(|group| self.owners.other_group(photos, group));
                match (shared, claimed) {
                    (Some(shared), _) => Plan::Refuse(Refusal::SharedPhoto { shared, claimed: false }),
                    (None, Some(shared)) => Plan::Refuse(Refusal::SharedPhoto { shared, claimed: true }),
                    (None, None) => Plan::Start,
                }
            }
            plan => plan,
        }
    }
}

/// The photos of a fingerprint, each as its side and `size:hash` (the side apart: a front
/// copied as another visit's left is the same photo).
pub(crate) fn each_photo(photos: &str) -> impl Iterator<Item = (&str, &str)> {
    photos.split(' ').filter_map(|part| part.split_once(':'))
}

/// The group of a key known only by its name, as a folder run names visits: `patient/visit`,
/// or a visit that is a patient of its own.
pub(crate) fn group_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_belongs_to_the_patients_that_claimed_it_on_any_side() {
        let mut owners = Owners::default();
        owners.claim("anna/1", "front:10:aa left:11:bb");
        owners.claim("anna/2", "front:10:aa");
        let shared = SharedPhoto { other: "anna/1".into(), mine: "right".into(), theirs: "front".into() };
        assert_eq!(owners.other_group("right:10:aa", "bob"), Some(shared), "a front copied as a right");
        assert_eq!(owners.other_group("front:10:aa left:12:cc", "anna"), None, "her own");
        assert_eq!(owners.other_group("front:12:cc", "bob"), None, "no photo of anna's");
        assert_eq!(group_of("visit-3"), "visit-3");
    }
}
