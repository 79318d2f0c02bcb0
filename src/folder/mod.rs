//! A folder of visits, analysed: what the `hautai folder` command does, for your own
//! programs (feature `folder`).
//!
//! The input folder holds a folder per patient and in it a folder per visit
//! (`IN/<patient>/<visit>/`); a visit folder directly in `IN` is a patient of its own, or
//! every visit of `IN` is one patient's with [`FolderRun::patient`]. In each visit folder,
//! the pictures whose names start with `front`, `left` or `right` are that visit's photos
//! ([`find_visits`] has the rule; two photos for one side fail the visit). Each patient is
//! one subject of the dataset [`FolderRun::dataset`] names, found by name or made once; a
//! visit dated by its folder's name (`2026-01-05`, `2026-01-05T10-30`, `20260105`) or its
//! photos' EXIF date is sent with that `creation_time`. The output folder gets:
//!
//! ```text
//! OUT/visits/<patient>/<visit>/results.json  the results, written last: present means saved whole
//! OUT/visits/<patient>/<visit>/report.html   the visit for a clinician (see below)
//! OUT/visits/<patient>/<visit>/assets/       masks and the service's pictures, stored once
//! OUT/patients/<patient>/timeline.html       the patient's visits in date order, a chart per parameter
//! OUT/summary.csv                   a row per visit: status, sides, ages in years, grades, scores
//! OUT/index.html                    the visits (status, sides, age, chosen grades) and the patients
//! OUT/.hautai/                      the journal: what was sent, so a rerun never pays twice
//! OUT/superseded/<patient>/<visit>-<batch>/  what a visit's folder held when it stopped being
//!                                   that visit's results, with why.txt (kept, never taken for them)
//! ```
//!
//! A visit's photos are paid for once. The journal is a ledger of every batch the output
//! folder paid for, or might have, with the photos it was made from: photos computed
//! before are never computed again under any name (a renamed visit takes its batch over;
//! the same photos in two visits fail the newer), unless [`FolderRun::retry_failed`] asks.
//! Rerun the same run after a crash, a `kill -9` or Ctrl-C: finished visits are skipped,
//! visits whose compute the service took (or may have) are waited for, never computed
//! again, and the rest start over. A second run on a folder in use is refused; shards of
//! one layout run side by side ([`FolderRun::shard`]).
//!
//! A visit's folder counts as its results only when the batch in its `results.json` is
//! the ledger's batch for the visit, made from its photos as they are now. Anything else
//! found there moves to `OUT/superseded/` with the reason, and the right results are
//! fetched by id. Saves are whole or not at all: built beside the visit's folder and
//! swapped in; a save that fails leaves the earlier one as it was. Photos that cannot be
//! read (a share away, a broken link) fail their visit and leave its results where they are.
//!
//! A report shows the visit's name, the date its results were saved and the sides
//! analysed, a legend that says what each number means (as far as the API documentation
//! defines it: it does not say whether a higher score is better), grades and 0–100
//! scores, ages in years, categories (skin type and tone) as text without a score, and
//! each side's picture with its masks. It links the pictures in `assets/` (a report
//! weighs a few kilobytes); [`SaveOptions::assets`]`(false)` saves no pictures and
//! [`SaveOptions::report`]`(false)` no report. Results invented by the emulator say so
//! on every page and in the summary.
//!
//! ```no_run
//! let session = hautai::Session::from_env()?;
//! let summary = hautai::folder::FolderRun::new(&session, "visits", "results").run(|_| {})?;
//! assert!(summary.all_done(), "{:?}", summary.failed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod csv;
mod dates;
mod earlier;
mod files;
mod html;
mod identity;
mod index;
mod names;
mod patients;
mod report;
mod reports;
mod run;
mod save_visit;
mod summary;
mod timeline;
mod visits;

use std::path::{Path, PathBuf};

pub use dates::{DateSource, VisitDate};
pub use run::FolderRun;
pub use save_visit::{SaveOptions, SavedVisit, save_visit};
pub use visits::{Found, Visit, find_visits, find_visits_of};

use crate::bulk::Failure;
use crate::{BatchResults, Uuid};

/// What a [`FolderRun`] tells as it goes, from several threads.
#[derive(Debug)]
#[non_exhaustive]
pub enum FolderEvent<'a> {
    /// An entry of the input that is not a visit or not a photo, and why.
    NotAVisit {
        /// `notes.txt (not a visit folder)`, say.
        entry: &'a str,
    },
    /// The visits were found and the journal read: how many will be analysed now.
    Planned {
        /// Visits in the input.
        visits: usize,
        /// Of those, visits of this run's shard.
        in_shard: usize,
        /// Of those, visits to analyse (or resume) now.
        to_analyse: usize,
        /// Of those, visits done in an earlier run.
        done_earlier: usize,
        /// Of those, visits that cannot be analysed (each told by [`Unusable`](Self::Unusable)).
        unusable: usize,
    },
    /// A visit cannot be analysed (a folder where a photo should be, a broken link, two
    /// photos for one side, a name that clashes or cannot be a folder everywhere): it
    /// failed before anything was sent for it, and what was saved for it stays where it is.
    Unusable {
        /// The visit.
        visit: &'a str,
        /// Why, in full.
        reason: &'a str,
    },
    /// A visit's results are saved.
    Done {
        /// The visit.
        visit: &'a str,
        /// Its batch.
        batch_id: Uuid,
        /// Whether an earlier run had started the batch (resumed, not computed again).
        resumed: bool,
        /// What was saved.
        saved: &'a SavedVisit,
    },
    /// Nothing was sent for a visit: the ledger refused it (its photos are another
    /// visit's too, changed, or cannot be read; its batch is gone), saying what to do.
    Refused {
        /// The visit.
        visit: &'a str,
        /// Why, in full, what became of its earlier results, and what to do.
        reason: &'a str,
    },
    /// A visit's analysis or its save failed.
    Failed {
        /// The visit.
        visit: &'a str,
        /// Why, in full, and where its earlier results went, if it had some.
        reason: &'a str,
    },
    /// Done in an earlier run: nothing sent.
    DoneEarlier {
        /// The visit.
        visit: &'a str,
    },
    /// Done earlier, but its folder lacks its results, or the pictures or the report this
    /// run asks for, or holds what is not its results (moved aside): fetched again by id
    /// (not computed again).
    Refetching {
        /// The visit.
        visit: &'a str,
    },
    /// The visit's photos are those of a visit that is gone (renamed): it takes that
    /// visit's batch over, and its results are fetched by id (never computed again).
    TakenOver {
        /// The visit.
        visit: &'a str,
        /// The visit that had the photos.
        from: &'a str,
        /// The batch.
        batch_id: Uuid,
    },
}

/// How a [`FolderRun`] ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct FolderSummary {
    /// Visits saved in this run.
    pub done: usize,
    /// Of those, visits whose batch an earlier run had started.
    pub resumed: usize,
    /// Of those, visits that took over the batch of a visit that is gone (renamed).
    pub taken_over: usize,
    /// Visits done in an earlier run.
    pub done_earlier: usize,
    /// Visits that failed, each with why (in words, and as an [`Error`](crate::Error) to
    /// match): those that could not be analysed first.
    pub failed: Vec<Failure>,
    /// Visits saved without some of the pictures asked for (over the save's limits), with
    /// what is missing: their results and reports are there, their pictures not all.
    pub incomplete: Vec<(String, String)>,
    /// Whether the run stopped before every visit ended (a stop request, or a journal
    /// that cannot be written): run it again to finish.
    pub interrupted: bool,
    /// Whether `summary.csv`, `index.html` and the timelines were written, or why not
    /// ([`ErrorKind::Io`](crate::error::ErrorKind::Io) with the cause, say).
    pub reports: crate::Result<()>,
    /// `OUT/summary.csv`.
    pub summary_csv: PathBuf,
    /// `OUT/index.html`.
    pub index: PathBuf,
}

impl FolderSummary {
    fn new(output: &Path, bulk: crate::bulk::Summary, problems: Vec<Failure>) -> Self {
        FolderSummary {
            done: bulk.done,
            resumed: bulk.resumed,
            taken_over: bulk.taken_over,
            done_earlier: bulk.skipped,
            failed: problems.into_iter().chain(bulk.failed).collect(),
            incomplete: Vec::new(),
            interrupted: bulk.interrupted,
            reports: Ok(()),
            summary_csv: output.join("summary.csv"),
            index: output.join("index.html"),
        }
    }

    /// Whether every visit of the run is done (now or before) with every picture asked
    /// for, and the summary written.
    pub fn all_done(&self) -> bool {
        self.failed.is_empty() && self.incomplete.is_empty() && !self.interrupted && self.reports.is_ok()
    }
}

/// Where a visit's files go: a folder of its own under `visits/`, apart from the run's files.
fn visit_dir(output: &Path, visit: &str) -> PathBuf {
    output.join("visits").join(visit)
}

/// A visit's saved results: present once the visit is saved (`results.json` is written last).
fn saved_results(dir: &Path) -> Option<BatchResults> {
    serde_json::from_slice(&std::fs::read(dir.join("results.json")).ok()?).ok()
}
