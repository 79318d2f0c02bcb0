//! A folder run: every visit of an input folder analysed once, resumable, its outputs in
//! one layout, the summary and index rewritten at the end.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

use super::identity::{Holds, holds};
use super::save::{SaveOptions, SavedVisit, save_visit};
use super::summary::{rows, write_csv, write_index};
use super::visits::{Visit, find_visits};
use super::{FolderEvent, FolderSummary, Refused};
use crate::bulk::{Bulk, Job, Journal, Outcome, Shard};
use crate::{AnalysisOptions, Session};

/// A folder of visits, analysed: see the [module docs](super) for the layout.
///
/// ```no_run
/// use hautai::folder::{FolderEvent, FolderRun};
/// let session = hautai::Session::from_env()?;
/// let summary = FolderRun::new(&session, "visits", "results").concurrency(4).run(|event| match event {
///     FolderEvent::Done { visit, .. } => eprintln!("done {visit}"),
///     FolderEvent::Failed { visit, reason } => eprintln!("failed {visit}: {reason}"),
///     _ => {}
/// })?;
/// println!("{} done, {} failed", summary.done, summary.failed.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a FolderRun does nothing until run"]
pub struct FolderRun<'s> {
    session: &'s Session,
    input: PathBuf,
    output: PathBuf,
    concurrency: usize,
    shard: Shard,
    options: AnalysisOptions<'static>,
    retry_failed: bool,
    save: SaveOptions,
    columns: Vec<String>,
    stop: Option<&'s AtomicBool>,
}

impl<'s> FolderRun<'s> {
    /// A run over the visits in `input`, writing into `output`: 8 visits at a time, every
    /// shard, the session's deadline per visit, assets and reports saved, and the index
    /// showing the grades of redness, pores, lines and pigmentation.
    pub fn new(session: &'s Session, input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        FolderRun {
            session,
            input: input.into(),
            output: output.into(),
            concurrency: 8,
            shard: Shard::ALL,
            options: AnalysisOptions::new(),
            retry_failed: false,
            save: SaveOptions::new(),
            columns: ["redness", "pores", "lines", "pigmentation"].map(str::to_owned).to_vec(),
            stop: None,
        }
    }

    /// How many visits are analysed at once (at least 1).
    pub fn concurrency(mut self, visits: usize) -> Self {
        self.concurrency = visits.max(1);
        self
    }

    /// Runs one shard of the visits (see [`Shard`]); shards of one layout run side by side.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// The options of every visit's analysis (a deadline per visit, say).
    pub fn options(mut self, options: AnalysisOptions<'static>) -> Self {
        self.options = options;
        self
    }

    /// Analyses again photos whose earlier analysis cannot be used, on purpose, since it
    /// may pay again: a batch that ended in a failure (a detection error, a compute in
    /// doubt that never showed work), a batch the service no longer knows, photos that
    /// changed, or photos analysed under a visit name still in use (see
    /// [`Bulk::retry_failed`](crate::bulk::Bulk::retry_failed)).
    pub fn retry_failed(mut self, on: bool) -> Self {
        self.retry_failed = on;
        self
    }

    /// What each visit's folder gets besides `results.json` (assets, report).
    pub fn save(mut self, save: SaveOptions) -> Self {
        self.save = save;
        self
    }

    /// The parameters whose grades the index shows beside each visit's age.
    pub fn index_columns(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.columns = names.into_iter().map(Into::into).filter(|name: &String| !name.trim().is_empty()).collect();
        self
    }

    /// Stops starting visits once `flag` is set; running ones end as they can (a rerun
    /// picks them up).
    pub fn stop_when(mut self, flag: &'s AtomicBool) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Runs: refused before anything is sent when the input cannot be read, the output
    /// cannot be written, or the folder is in use by another run or belongs to another
    /// service. `on_event` hears of each visit as it ends (from several threads).
    pub fn run(&self, on_event: impl Fn(&FolderEvent<'_>) + Sync) -> Result<FolderSummary, Refused> {
        let input = &self.input;
        let found = find_visits(input).map_err(|e| Refused::new(format!("cannot read {}: {e}", input.display())))?;
        // Results inside the input would be found as visits by the next run.
        let (inside, within) = (super::files::resolved(&self.output), super::files::resolved(input));
        if let (Ok(output), Ok(input)) = (inside, within)
            && output.starts_with(&input)
        {
            return Err(Refused::new(format!(
                "the output {} is inside the input {}: give an output folder outside it",
                self.output.display(),
                self.input.display()
            )));
        }
        for entry in &found.skipped {
            on_event(&FolderEvent::NotAVisit { entry });
        }
        // An output folder that cannot be written is found now, not after analyses are paid for.
        for dir in [self.output.clone(), self.output.join("visits")] {
            super::files::writable(&dir)
                .map_err(|e| Refused::new(format!("cannot write into {}: {e}", dir.display())))?;
        }
        let journal_dir = self.output.join(".hautai");
        let journal = Journal::open(&journal_dir, self.session, self.shard).map_err(|e| match e.kind() {
            std::io::ErrorKind::ResourceBusy | std::io::ErrorKind::InvalidInput => Refused::new(e.to_string()),
            _ => Refused::new(format!("cannot use the journal folder {}: {e}", journal_dir.display())),
        })?;
        let mut visits = found.visits;
        // A visit whose output folder is taken by something else fails now, before it is paid for.
        for visit in &mut visits {
            let dir = super::visit_dir(&self.output, &visit.name);
            if visit.sides.is_ok() && dir.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                visit.sides = Err(format!("its output {} is not a folder: move it away", dir.display()));
            }
        }
        let mine: Vec<&Visit> = visits.iter().filter(|v| self.shard.contains(&v.name)).collect();
        // A save cut short by a crash is mended before anything looks at the folders: its
        // last whole save back in place. (This run is the only writer of its shard's visits.)
        for visit in &mine {
            let _ = crate::temporary::restore(&super::visit_dir(&self.output, &visit.name));
        }
        let problems: Vec<(String, String)> =
            mine.iter().filter_map(|v| v.sides.as_ref().err().map(|e| (v.name.clone(), e.clone()))).collect();
        let ready: Vec<&Visit> = mine.iter().copied().filter(|v| v.sides.is_ok()).collect();
        let done_earlier = ready.iter().filter(|v| journal.record(&v.name).saved).count();
        on_event(&FolderEvent::Planned {
            visits: visits.len(),
            in_shard: mine.len(),
            to_analyse: ready.len() - done_earlier,
            done_earlier,
            unusable: problems.len(),
        });
        // A visit that cannot be used now (a broken link, two photos for a side) is not
        // done, and its saved results stay where they are: whether they are still its own
        // cannot be told without its photos.
        for (visit, reason) in &problems {
            on_event(&FolderEvent::Unusable { visit, reason });
        }
        let checked = Mutex::new(HashSet::new());
        let summary = self.analyse(&journal, &visits, &checked, &on_event);
        let mut outcome = FolderSummary::new(&self.output, summary, problems);
        outcome.reports = self.write_reports(&journal, &visits, &checked.into_inner().unwrap_or_default());
        Ok(outcome)
    }

    /// Analyses the visits of this run's shard that can be used, through the journal
    /// (every usable visit is a job: the ledger needs to know which visits exist), saving
    /// each as it is done.
    fn analyse(
        &self,
        journal: &Journal,
        visits: &[Visit],
        checked: &Mutex<HashSet<String>>,
        on_event: &(impl Fn(&FolderEvent<'_>) + Sync),
    ) -> crate::bulk::Summary {
        let jobs = visits.iter().filter_map(|v| Some(Job::new(&v.name, v.images()?).options(self.options.clone())));
        let unusable = visits.iter().filter(|v| v.sides.is_err()).map(|v| v.name.clone()).collect();
        let mut bulk = Bulk::new(self.session)
            .concurrency(self.concurrency)
            .journal(journal)
            .retry_failed(self.retry_failed)
            .unusable(unusable);
        if let Some(stop) = self.stop {
            bulk = bulk.stop_when(stop);
        }
        bulk.run(jobs, |outcome| {
            // The runner read this visit's photos and decided: its row needs no second look.
            if let Outcome::Done { key, .. } | Outcome::Failed { key, .. } | Outcome::Skipped { key, .. } = outcome {
                checked.lock().unwrap_or_else(PoisonError::into_inner).insert(key.to_string());
            }
            match outcome {
                Outcome::Done { key, batch_id, results, resumed } => {
                    let visit = visits.iter().find(|v| v.name == *key).expect("a job is a visit");
                    let saved = self.save_visit(visit, results, *batch_id)?;
                    on_event(&FolderEvent::Done { visit: key, batch_id: *batch_id, resumed: *resumed, saved: &saved });
                }
                Outcome::Failed { key, error, disowned, .. } => {
                    let reason = self.failed(journal, key, &error.to_string(), *disowned);
                    on_event(&FolderEvent::Failed { visit: key, reason: &reason })
                }
                Outcome::Skipped { key, batch_id } => {
                    let dir = super::visit_dir(&self.output, key);
                    match holds(&dir, *batch_id) {
                        Holds::Own if self.saved_as_asked(&dir) => on_event(&FolderEvent::DoneEarlier { visit: key }),
                        // Gone, or saved without the pictures or the report this run asks
                        // for, or not its results at all: fetched again, never paid again.
                        holds => {
                            if let Holds::Stranger(why) = holds {
                                self.set_aside(key, &dir, &why).map_err(|e| e.to_string())?;
                            }
                            on_event(&FolderEvent::Refetching { visit: key });
                            return Err("its folder does not hold its results as asked".into());
                        }
                    }
                }
                Outcome::TakenOver { key, from, batch_id } => {
                    on_event(&FolderEvent::TakenOver { visit: key, from, batch_id: *batch_id })
                }
            }
            Ok(())
        })
    }

    /// Saves `results` of `visit` (its batch `batch_id`) into its folder, whole or not at
    /// all. What the folder holds that is not this batch's results is set aside first,
    /// never replaced.
    fn save_visit(
        &self,
        visit: &Visit,
        results: &crate::BatchResults,
        batch_id: crate::Uuid,
    ) -> Result<SavedVisit, String> {
        let dir = super::visit_dir(&self.output, &visit.name);
        let earlier = match holds(&dir, Some(batch_id)) {
            Holds::Stranger(why) => {
                self.set_aside(&visit.name, &dir, &why).map_err(|e| e.to_string())?;
                false
            }
            Holds::Own => true,
            Holds::Nothing => false,
        };
        save_visit(self.session, visit, results, &dir, &self.save).map_err(|e| match earlier {
            true => format!("{e}; its earlier save in {} is kept as it was", dir.display()),
            false => e.to_string(),
        })
    }

    /// Whether the visit folder `dir` holds the pictures and the report this run asks for.
    fn saved_as_asked(&self, dir: &Path) -> bool {
        (!self.save.wants_assets() || dir.join("assets").is_dir())
            && (!self.save.wants_report() || dir.join("report.html").is_file())
    }

    /// A failed visit's folder keeps nothing that passes for its current results: what an
    /// earlier save left that is another batch's, or of photos it no longer has
    /// (`disowned`), goes to `OUT/superseded/`. Results whose photos could not be read, or
    /// whose new save failed, stay. Returns `reason`, saying what became of them.
    fn failed(&self, journal: &Journal, visit: &str, reason: &str, disowned: bool) -> String {
        let dir = super::visit_dir(&self.output, visit);
        let why = match holds(&dir, journal.record(visit).batch_id) {
            Holds::Stranger(why) => why,
            Holds::Own if disowned => "its photos are no longer the ones these results are of".to_owned(),
            Holds::Own | Holds::Nothing => return reason.to_owned(),
        };
        match self.set_aside(visit, &dir, &why) {
            Ok(to) => format!("{reason}; its earlier results were moved to {}", to.display()),
            Err(e) => format!("{reason}; {e}"),
        }
    }

    /// Moves `visit`'s folder `dir` to `OUT/superseded/<visit>-<batch>/`, with `why`.
    fn set_aside(&self, visit: &str, dir: &Path, why: &str) -> Result<PathBuf, String> {
        let earlier = super::saved_results(dir).map_or(crate::Uuid::nil(), |r| r.batch_id());
        let note = format!("{visit}: set aside because {why}");
        super::files::set_aside(dir, &self.output.join("superseded"), &format!("{visit}-{earlier}"), &note).map_err(|e| {
            format!(
                "its folder holds results that are not its own ({why}) and they cannot be moved aside: {e}; move {} \
                 away by hand",
                dir.display()
            )
        })
    }

    /// `summary.csv` and `index.html` over every visit of the input, from what every
    /// journal in the folder says now (under the folder's lock, so a shard that ends later
    /// never writes an older summary over a newer one).
    /// A summary that cannot be written is removed, with the index: none is better than
    /// one that no longer says what the folders hold.
    fn write_reports(&self, journal: &Journal, visits: &[Visit], checked: &HashSet<String>) -> Result<(), String> {
        let output: &Path = &self.output;
        let (csv, index) = (output.join("summary.csv"), output.join("index.html"));
        let written = journal
            .with_ledger(|ledger| {
                let rows = rows(output, visits, ledger, journal.shard(), checked);
                write_csv(&csv, &rows).map_err(|e| format!("cannot write summary.csv: {e}"))?;
                write_index(&index, &rows, &self.columns).map_err(|e| format!("cannot write index.html: {e}"))
            })
            .map_err(|e| format!("cannot read the journals in {}: {e}", journal.dir().display()))
            .and_then(|written| written);
        if let Err(e) = &written {
            let left: Vec<String> = [&csv, &index]
                .into_iter()
                .filter(|page| std::fs::remove_file(page).is_err() && page.symlink_metadata().is_ok())
                .map(|page| page.display().to_string())
                .collect();
            return Err(match left.is_empty() {
                true => format!("{e}; the earlier summary and index were removed"),
                false => format!(
                    "{e}; the earlier ones were removed but for {}, which may be out of date",
                    left.join(" and ")
                ),
            });
        }
        written
    }
}
