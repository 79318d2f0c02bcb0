//! A folder run: every visit of an input folder analysed once, resumable, its outputs in
//! one layout, the summary and index rewritten at the end.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

use super::earlier::{Extras, lock};
use super::identity::after_failure;
use super::reports::write_reports;
use super::save_visit::SaveOptions;
use super::visits::{Visit, find_visits, find_visits_of};
use super::{FolderEvent, FolderSummary};
use crate::bulk::{Bulk, Failure, Job, Journal, Outcome, Shard};
use crate::error::{Error, ErrorKind};
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
/// # Ok::<(), hautai::Error>(())
/// ```
#[must_use = "a FolderRun does nothing until run"]
pub struct FolderRun<'s> {
    pub(super) session: &'s Session,
    pub(super) input: PathBuf,
    pub(super) output: PathBuf,
    pub(super) concurrency: usize,
    pub(super) shard: Shard,
    pub(super) options: AnalysisOptions<'static>,
    pub(super) retry_failed: bool,
    pub(super) save: SaveOptions,
    pub(super) columns: Vec<String>,
    pub(super) stop: Option<&'s AtomicBool>,
    pub(super) dataset: String,
    pub(super) patient: Option<String>,
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
            dataset: "hautai".to_owned(),
            patient: None,
        }
    }

    /// The dataset whose subjects the patients are (default `hautai`): found by name, or
    /// made. Each patient is the subject of its name there, found or made once.
    pub fn dataset(mut self, name: impl Into<String>) -> Self {
        self.dataset = name.into();
        self
    }

    /// Takes every folder of the input for a visit of the one patient `name` (see
    /// [`find_visits_of`](super::find_visits_of)), instead of deciding per entry.
    pub fn patient(mut self, name: impl Into<String>) -> Self {
        self.patient = Some(name.into());
        self
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

    /// Runs. `on_event` hears of each visit as it ends (from several threads).
    ///
    /// Refused before anything is sent: [`ErrorKind::InvalidArgument`] for a patient's
    /// name that cannot be one or an output inside the input, [`ErrorKind::Io`] when the
    /// input cannot be read or the output written, [`ErrorKind::Busy`] when another run
    /// holds the folder, [`ErrorKind::Journal`] when its journal cannot be used (another
    /// service's, or results without one), and the service's own error when the dataset
    /// cannot be found or made. A visit that fails is in [`FolderSummary::failed`].
    pub fn run(&self, on_event: impl Fn(&FolderEvent<'_>) + Sync) -> crate::Result<FolderSummary> {
        // A save without pictures it was asked for leaves its visit incomplete: said in the
        // summary (and not all done), never a quiet success.
        let incomplete = Mutex::new(Vec::new());
        let summary = self.run_telling(&|event: &FolderEvent<'_>| {
            if let FolderEvent::Done { visit, saved, .. } = event
                && let Some(first) = saved.left_out.first()
            {
                let missing =
                    format!("{} pictures left out over the save's limits (the first: {first})", saved.left_out.len());
                lock(&incomplete).push((visit.to_string(), missing));
            }
            on_event(event);
        });
        summary.map(|summary| FolderSummary {
            incomplete: incomplete.into_inner().unwrap_or_else(PoisonError::into_inner),
            ..summary
        })
    }

    fn run_telling(&self, on_event: &(impl Fn(&FolderEvent<'_>) + Sync)) -> crate::Result<FolderSummary> {
        let input = &self.input;
        if let Some(problem) = self.patient.as_deref().and_then(super::patients::name_problem) {
            return Err(ErrorKind::InvalidArgument(problem).into());
        }
        let found = match &self.patient {
            Some(patient) => find_visits_of(input, patient)?,
            None => find_visits(input)?,
        };
        // Results inside the input would be found as visits by the next run.
        let (inside, within) = (super::files::resolved(&self.output), super::files::resolved(input));
        if let (Ok(output), Ok(input)) = (inside, within)
            && output.starts_with(&input)
        {
            return Err(ErrorKind::InvalidArgument(format!(
                "the output {} is inside the input {}: give an output folder outside it",
                self.output.display(),
                self.input.display()
            ))
            .into());
        }
        for entry in &found.skipped {
            on_event(&FolderEvent::NotAVisit { entry });
        }
        // An output folder that cannot be written is found now, not after analyses are paid for.
        for dir in [self.output.clone(), self.output.join("visits")] {
            super::files::writable(&dir).map_err(|e| Error::io(&dir, "cannot write into", e))?;
        }
        let journal_dir = self.output.join(".hautai");
        if let Some(problem) = super::files::results_without_a_journal(&self.output, &journal_dir) {
            return Err(ErrorKind::Journal { folder: journal_dir, problem }.into());
        }
        let journal = Journal::open(&journal_dir, self.session, self.shard)?;
        let (mut visits, without_photos) = (found.visits, found.without_photos);
        // A visit whose output folder is taken by something else fails now, before it is paid for.
        for visit in &mut visits {
            let dir = super::visit_dir(&self.output, &visit.name);
            if visit.sides.is_ok() && dir.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                visit.sides = Err(format!("its output {} is not a folder: move it away", dir.display()));
            }
        }
        // Shards split by patient: one process makes a patient's subject.
        let mine: Vec<&Visit> = visits.iter().filter(|v| self.shard.contains(&v.patient)).collect();
        // A save cut short by a crash is mended before anything looks at the folders: its
        // last whole save back in place. (This run is the only writer of its shard's visits.)
        for visit in &mine {
            let _ = crate::util::temporary::restore(&super::visit_dir(&self.output, &visit.name));
        }
        // Each patient's subject, before anything is sent for its visits.
        let session = self.session.without_subject();
        let shard = self.shard;
        let subjects = super::patients::assign(
            &session,
            &journal,
            &self.dataset,
            &mut visits,
            &|v| shard.contains(&v.patient),
            self.stop,
        )?;
        let mine: Vec<&Visit> = visits.iter().filter(|v| self.shard.contains(&v.patient)).collect();
        let problems: Vec<Failure> = mine
            .iter()
            .filter_map(|v| {
                let reason = v.sides.as_ref().err()?;
                Some(Failure::new(&v.name, reason.clone(), ErrorKind::Refused(reason.clone()).into()))
            })
            .collect();
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
        for Failure { key, reason, .. } in &problems {
            on_event(&FolderEvent::Unusable { visit: key, reason });
        }
        let (checked, extras) = (Mutex::new(HashSet::new()), Mutex::new(Extras::default()));
        let summary = self.analyse((&session, &subjects), &journal, &visits, (&checked, &extras), &on_event);
        let mut outcome = FolderSummary::new(&self.output, summary, problems);
        // Visits done earlier whose save got what this run asks for count as done again.
        let extras = extras.into_inner().unwrap_or_else(PoisonError::into_inner);
        outcome.done += extras.refreshed;
        outcome.resumed += extras.refreshed;
        outcome.done_earlier -= extras.refreshed;
        outcome.failed.extend(extras.failed);
        let checked = checked.into_inner().unwrap_or_else(PoisonError::into_inner);
        let found = (visits.as_slice(), without_photos.as_slice());
        outcome.reports = write_reports((&self.input, &self.output), &journal, found, &checked, &self.columns);
        Ok(outcome)
    }

    /// Analyses the visits of this run's shard that can be used, through the journal
    /// (every usable visit is a job: the ledger needs to know which visits exist), saving
    /// each as it is done.
    fn analyse(
        &self,
        (session, subjects): (&Session, &super::patients::Subjects),
        journal: &Journal,
        visits: &[Visit],
        (checked, extras): (&Mutex<HashSet<String>>, &Mutex<Extras>),
        on_event: &(impl Fn(&FolderEvent<'_>) + Sync),
    ) -> crate::bulk::Summary {
        // A visit is sent only for its patient's subject: the session has no other.
        let jobs = visits.iter().filter_map(|v| {
            let mut job = Job::new(&v.name, v.images()?).options(self.options.clone()).in_group(&v.patient);
            if let Some(Ok(subject)) = subjects.get(&v.patient) {
                job = job.subject_id(*subject);
            }
            if let Some(date) = &v.date {
                job = job.creation_time(date.creation_time());
            }
            Some(job)
        });
        let unusable = visits.iter().filter(|v| v.sides.is_err()).map(|v| v.name.clone()).collect();
        let mut bulk = Bulk::new(session)
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
                lock(checked).insert(key.to_string());
            }
            match outcome {
                Outcome::Done { key, batch_id, results, resumed } => {
                    let visit = visits.iter().find(|v| v.name == *key).expect("a job is a visit");
                    let saved = self.save_visit(visit, results, *batch_id)?;
                    on_event(&FolderEvent::Done { visit: key, batch_id: *batch_id, resumed: *resumed, saved: &saved });
                }
                Outcome::Failed { key, error, disowned, .. } => {
                    // A refusal (nothing was sent for it) says what to do, without a kind.
                    let (refused, text) = match error.kind() {
                        ErrorKind::Refused(reason) => (true, reason.clone()),
                        _ => (false, error.to_string()),
                    };
                    let reason = after_failure(&self.output, journal.record(key).batch_id, key, &text, *disowned);
                    match refused {
                        true => on_event(&FolderEvent::Refused { visit: key, reason: &reason }),
                        false => on_event(&FolderEvent::Failed { visit: key, reason: &reason }),
                    }
                }
                Outcome::Skipped { key, batch_id: Some(batch_id) } => {
                    let visit = visits.iter().find(|v| v.name == *key).expect("a job is a visit");
                    self.done_earlier(visit, *batch_id, extras, on_event)?;
                }
                Outcome::Skipped { .. } => {}
                Outcome::TakenOver { key, from, batch_id } => {
                    on_event(&FolderEvent::TakenOver { visit: key, from, batch_id: *batch_id })
                }
            }
            Ok(())
        })
    }
}
