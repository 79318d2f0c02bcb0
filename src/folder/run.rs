//! A folder run: every visit of an input folder analysed once, resumable, its outputs in
//! one layout, the summary and index rewritten at the end.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::save::{SaveOptions, SavedVisit, save_visit};
use super::summary::{rows, write_csv, write_index};
use super::visits::{Visit, find_visits};
use super::{FolderEvent, FolderSummary, Refused};
use crate::bulk::{Bulk, Job, Journal, NextStep, Outcome, Shard};
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

    /// Starts over the visits whose batch ended in a failure (a detection error, a compute
    /// in doubt that never showed work): on purpose, since it may pay again.
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
        let problems: Vec<(String, String)> =
            mine.iter().filter_map(|v| v.sides.as_ref().err().map(|e| (v.name.clone(), e.clone()))).collect();
        let ready: Vec<&Visit> = mine.iter().copied().filter(|v| v.sides.is_ok()).collect();
        let to_analyse =
            ready.iter().filter(|v| journal.record(&v.name).next_step(self.retry_failed) != NextStep::Skip).count();
        on_event(&FolderEvent::Planned {
            visits: visits.len(),
            in_shard: mine.len(),
            to_analyse,
            done_earlier: ready.len() - to_analyse,
            unusable: problems.len(),
        });
        let problems: Vec<(String, String)> = problems
            .into_iter()
            .map(|(visit, reason)| {
                let reason = self.failed(&visit, &reason);
                on_event(&FolderEvent::Unusable { visit: &visit, reason: &reason });
                (visit, reason)
            })
            .collect();
        let summary = self.analyse(&journal, &ready, &on_event);
        let mut outcome = FolderSummary::new(&self.output, summary, problems);
        outcome.reports = self.write_reports(&journal, &visits);
        Ok(outcome)
    }

    /// Analyses the `ready` visits through the journal, saving each as it is done.
    fn analyse(
        &self,
        journal: &Journal,
        ready: &[&Visit],
        on_event: &(impl Fn(&FolderEvent<'_>) + Sync),
    ) -> crate::bulk::Summary {
        let jobs = ready.iter().filter_map(|v| Some(Job::new(&v.name, v.images()?).options(self.options.clone())));
        let mut bulk =
            Bulk::new(self.session).concurrency(self.concurrency).journal(journal).retry_failed(self.retry_failed);
        if let Some(stop) = self.stop {
            bulk = bulk.stop_when(stop);
        }
        bulk.run(jobs, |outcome| {
            match outcome {
                Outcome::Done { key, batch_id, results, resumed } => {
                    let visit = ready.iter().find(|v| v.name == *key).expect("a job is a visit");
                    let dir = super::visit_dir(&self.output, key);
                    let saved: SavedVisit = save_visit(self.session, visit, results, &dir, &self.save)?;
                    on_event(&FolderEvent::Done { visit: key, batch_id: *batch_id, resumed: *resumed, saved: &saved });
                }
                Outcome::Failed { key, error, .. } => {
                    on_event(&FolderEvent::Failed { visit: key, reason: &self.failed(key, &error.to_string()) })
                }
                // Done earlier, but its results are gone (deleted), or saved without the
                // pictures or the report this run asks for: fetched again, not paid again.
                Outcome::Skipped { key, .. } if !self.saved_as_asked(key) => {
                    on_event(&FolderEvent::Refetching { visit: key });
                    return Err("results.json is gone or unreadable".into());
                }
                Outcome::Skipped { key, .. } => on_event(&FolderEvent::DoneEarlier { visit: key }),
                Outcome::Restarting { key, lost } => on_event(&FolderEvent::Restarting { visit: key, lost: *lost }),
            }
            Ok(())
        })
    }

    /// Whether `visit`'s folder holds its results, and the pictures and the report this run
    /// asks for.
    fn saved_as_asked(&self, visit: &str) -> bool {
        let dir = super::visit_dir(&self.output, visit);
        super::saved_results(&dir).is_some()
            && (!self.save.wants_assets() || dir.join("assets").is_dir())
            && (!self.save.wants_report() || dir.join("report.html").is_file())
    }

    /// A failed visit's folder keeps nothing that passes for its current results: what an
    /// earlier save left (of photos that are not its own now, or cannot be used) goes to
    /// `OUT/superseded/<visit>-<batch>/`. Returns `reason`, saying so when it did.
    fn failed(&self, visit: &str, reason: &str) -> String {
        let dir = super::visit_dir(&self.output, visit);
        if dir.join("results.json").symlink_metadata().is_err() {
            return reason.to_owned();
        }
        let earlier = super::saved_results(&dir).map_or(crate::Uuid::nil(), |r| r.batch_id());
        match super::files::set_aside(&dir, &self.output.join("superseded"), &format!("{visit}-{earlier}")) {
            Ok(to) => format!("{reason}; its earlier results were moved to {}", to.display()),
            // Not movable (a read-only folder, say): gone is still safer than kept.
            Err(e) => match super::files::clear_visit(&dir) {
                Ok(()) => format!("{reason}; its earlier results were removed (cannot move them: {e})"),
                Err(e) => {
                    format!("{reason}; its earlier results are still in {} (cannot remove them: {e})", dir.display())
                }
            },
        }
    }

    /// `summary.csv` and `index.html` over every visit of the input, from what every
    /// journal in the folder says now (under the folder's lock, so a shard that ends later
    /// never writes an older summary over a newer one).
    fn write_reports(&self, journal: &Journal, visits: &[Visit]) -> Result<(), String> {
        let output: &Path = &self.output;
        journal
            .with_every_record(|records| {
                let rows = rows(output, visits, records, journal.shard());
                write_csv(&output.join("summary.csv"), &rows).map_err(|e| format!("cannot write summary.csv: {e}"))?;
                write_index(&output.join("index.html"), &rows, &self.columns)
                    .map_err(|e| format!("cannot write index.html: {e}"))
            })
            .map_err(|e| format!("cannot read the journals in {}: {e}", journal.dir().display()))?
    }
}
