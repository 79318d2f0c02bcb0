//! Whose results a visit's folder holds: its own only when the batch in its
//! `results.json` is the batch the ledger holds for the visit. A folder's word alone (a
//! `results.json` that is there) is never enough: folders can be swapped, copied, edited.

use std::path::Path;

use crate::Uuid;

/// What a visit's folder holds, against the batch the ledger holds for the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holds {
    /// No `results.json`.
    Nothing,
    /// The results of the visit's batch.
    Own,
    /// Something that is not the visit's results, and why.
    Stranger(String),
}

/// What the visit folder `dir` holds, for a visit whose batch is `batch` (`None`: the
/// ledger holds none for it, so any results there are a stranger's).
pub(crate) fn holds(dir: &Path, batch: Option<Uuid>) -> Holds {
    let path = dir.join("results.json");
    if path.symlink_metadata().is_err() {
        return Holds::Nothing;
    }
    let ours = batch.map(|b| format!(" (its batch is {b})")).unwrap_or_default();
    match super::saved_results(dir) {
        None => Holds::Stranger(format!("its results.json cannot be read as results{ours}")),
        Some(results) if Some(results.batch_id()) == batch => Holds::Own,
        Some(results) => {
            Holds::Stranger(format!("it held batch {}, which is not this visit's{ours}", results.batch_id()))
        }
    }
}
