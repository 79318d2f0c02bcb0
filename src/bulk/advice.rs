//! What a bulk run says when a job cannot go on: what happened, that nothing was paid for
//! again, and what the user can do (a rerun resumes; `--retry-failed` pays again).

use uuid::Uuid;

use super::ledger::Refusal;
use super::ledger::owners::SharedPhoto;
use crate::error::Error;

/// How the caller asks to retry (`Bulk::retry_failed` in a program).
const RETRY: &str = "--retry-failed";

/// The photos of `key` cannot be used (a share away, a broken link, no permission, an
/// empty file): `problem` says what is wrong with which photo.
pub(super) fn unreadable(key: &str, problem: &str) -> String {
    format!(
        "{problem}; nothing was sent for {key}, and what was saved for it stays where it is: make its photos \
         readable (or replace them) and run again"
    )
}

/// The ledger's refusal, for `key`.
pub(super) fn refused(key: &str, refusal: &Refusal) -> String {
    match refusal {
        Refusal::Duplicate { other } => format!(
            "the photos of {key} are those of {other} too (the same files): one of the two visits is not what its \
             name says. Nothing was sent for {key}; remove the copy that is wrong, or give it its own photos, and \
             run again"
        ),
        Refusal::Relabelled { other, batch_id } => format!(
            "the photos of {key} were analysed as {other} (batch {batch_id}), and {other} is still there with \
             other photos (or photos that cannot be read now): if folders were renamed or swapped, check whose \
             photos are whose. Nothing was sent. If these are {key}'s photos, run again with {RETRY}: {key} \
             takes over the analysis of them (nothing is paid again)"
        ),
        Refusal::Moved { other, batch_id, own } => format!(
            "the photos of {key} are not the ones analysed for it (batch {own}): they are the photos {other} \
             had (batch {batch_id}), and {other} is gone. Nothing was sent. If these are {key}'s photos now, run \
             again with {RETRY}: {key} takes over their analysis (nothing is paid again)"
        ),
        Refusal::Changed { batch_id } => format!(
            "the photos of {key} are not the ones the journal analysed for it (batch {batch_id}): they changed \
             since, or they are another visit's with the same name. Nothing was sent. If they are new photos of \
             this visit, run again with {RETRY} to analyse them; if they are another visit's, give them a visit \
             of their own or use another output folder"
        ),
        Refusal::Lost { batch_id } => lost(key, *batch_id),
        Refusal::SharedPhoto { shared: SharedPhoto { other, mine, theirs }, claimed: false } => format!(
            "the {mine} photo of {key} is the {theirs} photo of {other}, another patient's visit (the same bytes): \
             which patient it shows is for a person to say, so neither is sent. Nothing was sent for {key}; remove \
             the photo from the visit it does not belong to, and run again"
        ),
        Refusal::SharedPhoto { shared: SharedPhoto { other, mine, theirs }, claimed: true } => format!(
            "the {mine} photo of {key} was analysed (or sent) as the {theirs} photo of {other}, another patient's \
             visit: a photo is one patient's. Nothing was sent. Remove it from {key} if it is not this patient's; if \
             the patient was renamed, run again with {RETRY} to analyse these photos for this patient (this pays again)"
        ),
        Refusal::OtherPatient { other, batch_id } => format!(
            "the photos of {key} were analysed as {other} (batch {batch_id}), another patient's visit, which is \
             gone: that analysis is filed under the other patient, and is not taken over. Nothing was sent. If \
             the patient was renamed, rename the folder back (or the subject on the service); if every visit of \
             the input was one patient's before (--patient NAME), give the same --patient again; to analyse these \
             photos for this patient, run again with {RETRY} (this pays again)"
        ),
    }
}

/// The service does not know `batch_id` of `key`, whose compute was sent.
pub(super) fn lost(key: &str, batch_id: Uuid) -> String {
    format!(
        "the service no longer knows batch {batch_id} of {key} (deleted, or past its retention), though its compute \
         was paid for: nothing was computed again. To analyse these photos again, run again with {RETRY}: that \
         pays again"
    )
}

/// The library's advice to call `wait_for_results` or compute, and what a rerun does
/// instead: it resumes a batch whose compute was sent, and analyses again photos whose
/// compute was certainly not taken.
const FOR_A_RERUN: [(&str, &str); 4] = [
    ("resume with wait_for_results later", "a rerun resumes it, never computing it again"),
    ("resume with wait_for_results", "a rerun resumes it, never computing it again"),
    ("check with wait_for_results before calling compute again", "a rerun waits for it, never computing it again"),
    ("call compute for this batch again later, then wait_for_results", "a rerun analyses the photos again"),
];

/// `error`'s message, with the library's advice put as what a rerun does.
pub(super) fn for_a_rerun(error: &Error) -> String {
    let text = error.to_string();
    for (library, rerun) in FOR_A_RERUN {
        if let Some(start) = text.strip_suffix(library) {
            return format!("{start}{rerun}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, Step};

    #[test]
    fn a_reason_names_what_a_rerun_does_never_a_library_call() {
        let batch_id = Some(Uuid::from_u128(7));
        let deadline = |step, compute_sent| -> Error {
            let (deadline, elapsed) = (std::time::Duration::from_secs(1), std::time::Duration::from_secs(1));
            ErrorKind::Deadline { step, batch_id, deadline, elapsed, polls: 1, compute_sent }.into()
        };
        let resumed = for_a_rerun(&deadline(Step::Results, true));
        assert!(resumed.ends_with("a rerun resumes it, never computing it again"), "{resumed}");
        let api = |status| {
            Error::from(ErrorKind::Api(crate::error::ApiError::answered(
                crate::error::Request { method: "GET", path: "/p".into() },
                status,
            )))
        };
        for (library, rerun) in FOR_A_RERUN {
            let error = api(503).in_step(Step::Results, batch_id, Some(library));
            let reason = for_a_rerun(&error);
            assert!(reason.ends_with(rerun) && !reason.contains("wait_for_results"), "{reason}");
        }
        let other = api(401).in_step(Step::Results, batch_id, None);
        assert_eq!(for_a_rerun(&other), other.to_string());
    }
}
