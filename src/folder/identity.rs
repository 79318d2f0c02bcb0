//! Whose results a visit's folder holds: its own only when the batch in its
//! `results.json`, and in its report's head, is the batch the ledger holds for the visit.
//! A folder's word alone (a `results.json` that is there) is never enough: folders can be
//! swapped, copied, edited. What is not a visit's own is set aside, with the reason.

use std::path::{Path, PathBuf};

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
        Some(results) if Some(results.batch_id()) != batch => {
            Holds::Stranger(format!("it held batch {}, which is not this visit's{ours}", results.batch_id()))
        }
        // The report people open must be of the same batch (a report of an earlier
        // version says nothing: taken as it is).
        Some(results) => match report_batch(dir) {
            Some(shown) if shown != results.batch_id() => {
                Holds::Stranger(format!("its report.html shows batch {shown}, which is not this visit's{ours}"))
            }
            _ => Holds::Own,
        },
    }
}

/// The batch the visit folder `dir`'s report says it shows (read from its head only).
fn report_batch(dir: &Path) -> Option<Uuid> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(dir.join("report.html")).ok()?.take(4096).read_to_end(&mut head).ok()?;
    super::html::batch_of_page(&String::from_utf8_lossy(&head))
}

/// A failed visit's folder keeps nothing that passes for its current results: what an
/// earlier save left that is not of its batch `batch`, or of photos it no longer has
/// (`disowned`), goes to `OUT/superseded/`. Results whose photos could not be read, or
/// whose new save failed, stay. Returns `reason`, saying what became of them.
pub(crate) fn after_failure(output: &Path, batch: Option<Uuid>, visit: &str, reason: &str, disowned: bool) -> String {
    let dir = super::visit_dir(output, visit);
    let why = match holds(&dir, batch) {
        Holds::Stranger(why) => why,
        Holds::Own if disowned => "its photos are no longer the ones these results are of".to_owned(),
        Holds::Own | Holds::Nothing => return reason.to_owned(),
    };
    match set_aside(output, visit, &dir, &why) {
        Ok(to) => format!("{reason}; its earlier results were moved to {}", to.display()),
        Err(e) => format!("{reason}; {e}"),
    }
}

/// Moves `visit`'s folder `dir` to `OUT/superseded/<visit>-<batch>/`, with `why`; when it
/// cannot be moved, it stays (never deleted), and the error says so.
pub(crate) fn set_aside(output: &Path, visit: &str, dir: &Path, why: &str) -> Result<PathBuf, String> {
    let earlier = super::saved_results(dir).map_or(Uuid::nil(), |r| r.batch_id());
    let note = format!("{visit}: set aside because {why}");
    super::files::set_aside(dir, &output.join("superseded"), &format!("{visit}-{earlier}"), &note).map_err(|e| {
        format!(
            "its folder holds results that are not its own ({why}) and they cannot be moved aside: {e}; move {} \
             away by hand",
            dir.display()
        )
    })
}
