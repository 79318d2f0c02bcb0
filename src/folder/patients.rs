//! Each patient one subject of the service: found by name in the run's dataset, or made
//! once, through the journal, whatever is killed when.
//!
//! Making a subject is a POST whose answer can be lost. So the journal says "being made"
//! before the request and "made" after it, and a patient is looked up by name before
//! anything is made: a run killed after the service made the subject finds it by name the
//! next time. Two subjects of one name are never guessed between: the patient's visits
//! fail, naming both. Shards split by patient, so one process makes a patient's subject.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::bulk::Journal;
use crate::model::NewSubject;
use crate::{Session, Uuid};

/// Each patient's subject, or why the patient's visits cannot be sent.
pub(crate) type Subjects = HashMap<String, Result<Uuid, String>>;

/// The subjects of the patients of the usable visits that are `mine` (this run's shard's),
/// found or made once in the dataset named `dataset`; the usable visits of a patient
/// whose subject cannot be had fail with why, before anything is sent for them. Err: no
/// subject can be had at all (the dataset cannot be found or made: the run is refused).
pub(crate) fn assign(
    session: &Session,
    journal: &Journal,
    dataset: &str,
    visits: &mut [super::Visit],
    mine: &dyn Fn(&super::Visit) -> bool,
    stop: Option<&AtomicBool>,
) -> crate::Result<Subjects> {
    let patients = visits.iter().filter(|v| v.sides.is_ok() && mine(v)).map(|v| v.patient.as_str()).collect();
    let subjects = subjects_of(session, journal, dataset, &patients, stop)?;
    for visit in visits.iter_mut().filter(|v| v.sides.is_ok()) {
        if let Some(Err(reason)) = subjects.get(&visit.patient) {
            visit.sides = Err(reason.clone());
        }
    }
    Ok(subjects)
}

/// The subjects of `patients` in the dataset named `dataset` (found, or made once), or why
/// none can be had at all (the dataset cannot be found or made: the run is refused).
fn subjects_of(
    session: &Session,
    journal: &Journal,
    dataset: &str,
    patients: &BTreeSet<&str>,
    stop: Option<&AtomicBool>,
) -> crate::Result<Subjects> {
    if patients.is_empty() {
        return Ok(Subjects::new());
    }
    // Under the journal folder's lock: shards side by side make the dataset once.
    let dataset_id = journal.with_ledger(|_| dataset_named(session, dataset)).map_err(|e| journal.error(e))??;
    let listed: Vec<crate::model::Subject> =
        session.subjects(dataset_id).collect::<crate::Result<_>>().map_err(|e| {
            e.noted(format_args!("the subjects of the dataset {dataset:?} ({dataset_id}) could not be listed"))
        })?;
    let mut subjects = Subjects::new();
    for patient in patients {
        // Stopped: the patients left have no subject, so nothing can be sent for their
        // visits (the session has none to fall back on), and the run ends interrupted.
        if stop.is_some_and(|flag| flag.load(Ordering::SeqCst)) {
            break;
        }
        let subject = subject(session, journal, (dataset_id, dataset), patient, &listed);
        subjects.insert((*patient).to_owned(), subject);
    }
    Ok(subjects)
}

/// The dataset named `name`, found or made (as `hautai setup` does). Shards on machines
/// that share no output folder could each make one: two of one name refuse every run
/// after, naming both, so that no patient is split between them (make the dataset first,
/// with `hautai setup --dataset NAME`, when shards run on many machines).
fn dataset_named(session: &Session, name: &str) -> crate::Result<Uuid> {
    let found =
        session.find_dataset(name).map_err(|e| e.noted(format_args!("the dataset {name:?} could not be looked up")))?;
    match found {
        Some(dataset) => Ok(dataset.id),
        None => session.create_dataset(name).map(|dataset| dataset.id).map_err(|e| {
            e.noted(format_args!("the dataset {name:?} could not be made: run again (it is looked up by name first)"))
        }),
    }
}

/// `patient`'s subject: the one of that name in the listing, the one the journal made for
/// it (renamed on the service since), or a new one, journaled before and after it is made.
fn subject(
    session: &Session,
    journal: &Journal,
    (dataset_id, dataset): (Uuid, &str),
    patient: &str,
    listed: &[crate::model::Subject],
) -> Result<Uuid, String> {
    // A subject named elsewhere with its accents written apart (NFD) is the patient too.
    let is_patient = |s: &&crate::model::Subject| s.name.as_deref().is_some_and(|n| super::names::nfc(n) == patient);
    let named: Vec<Uuid> = listed.iter().filter(is_patient).map(|s| s.id).collect();
    let journaled = journal.with_ledger(|ledger| ledger.subject(dataset_id, patient)).map_err(journal_problem)?;
    let made = journaled.flatten();
    // The subject the journal made for the patient, renamed on the service since, beside
    // another that has the name now: two candidates, and a person says which.
    let renamed = made.filter(|id| !named.contains(id) && listed.iter().any(|s| s.id == *id));
    let any_named = !named.is_empty();
    let named: Vec<Uuid> = named.into_iter().chain(renamed.filter(|_| any_named)).collect();
    match named.as_slice() {
        [one] => {
            if made != Some(*one) {
                journal.subject_made(dataset_id, patient, *one).map_err(journal_problem)?;
            }
            Ok(*one)
        }
        [] => match made.filter(|id| listed.iter().any(|s| s.id == *id)) {
            // Made by an earlier run, and renamed on the service since: still this patient's.
            Some(id) => Ok(id),
            None => make(session, journal, (dataset_id, dataset), patient),
        },
        many => {
            let ids: Vec<String> = many.iter().map(Uuid::to_string).collect();
            let which = match renamed {
                Some(id) => {
                    format!("could be the patient {patient:?} (an earlier run made {id} for it, renamed since)")
                }
                None => format!("are named {patient:?}"),
            };
            Err(format!(
                "{} subjects of the dataset {dataset:?} {which}: {}; which is this patient is for a person to say: \
                 merge or rename them on the service so that one has the name, then run again",
                many.len(),
                ids.join(" and ")
            ))
        }
    }
}

/// Makes `patient`'s subject: "being made" journaled first, "made" once the service says so.
fn make(
    session: &Session,
    journal: &Journal,
    (dataset_id, dataset): (Uuid, &str),
    patient: &str,
) -> Result<Uuid, String> {
    journal.subject_claimed(dataset_id, patient).map_err(journal_problem)?;
    match session.create_subject(dataset_id, &NewSubject::new(patient)) {
        Ok(subject) => {
            journal.subject_made(dataset_id, patient, subject.id).map_err(journal_problem)?;
            Ok(subject.id)
        }
        Err(e) => Err(format!(
            "its subject could not be made in the dataset {dataset:?}: {e}; nothing was sent for its visits: run \
             again (a subject the service made anyway is found by name, never made twice)"
        )),
    }
}

fn journal_problem(error: std::io::Error) -> String {
    format!("cannot use the journal: {error}")
}

/// Why `name` cannot be the patient of every visit (`--patient`): empty, over the
/// service's 512 characters, or not a folder name everywhere (its visits' results go in
/// a folder of that name).
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let rule = |why: &str| Some(format!("the patient's name {why}: give another"));
    match name {
        "" => rule("is empty"),
        _ if name.trim().is_empty() => rule("is blank"),
        _ if name.chars().count() > crate::util::limits::MAX_ACCOUNT_NAME_CHARS => {
            rule("is longer than the service's 512 characters")
        }
        _ if name.starts_with('.') => rule("starts with a dot (a hidden folder)"),
        _ => super::names::problem(name)
            .map(|problem| format!("the patient's name: {}", problem.replace("rename its folder", "give another"))),
    }
}
