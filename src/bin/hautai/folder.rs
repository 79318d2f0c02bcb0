//! `hautai folder`: a folder of visits, analysed once each, resumable.

use std::path::PathBuf;

use hautai::AnalysisOptions;
use hautai::bulk::Shard;
use hautai::emulator::Maturity;
use hautai::folder::{FolderEvent, FolderRun, SaveOptions};

use crate::connect::{Target, scratch_dir};
use crate::out::note;
use crate::progress::Progress;
use crate::{Failure, Outcome};

/// Analyse a folder of patients' visits: resumable, never paying twice, fair to the service.
///
/// IN_DIR holds a folder per patient with a folder per visit in it (IN_DIR/anna/2026-01-05/);
/// a visit folder directly in IN_DIR is a patient of its own. A visit's photos are the
/// images whose names start with front, left or right. Each patient is one subject of the
/// dataset (--dataset), found by name or made once; a date in a visit folder's name
/// (2026-01-05, 2026-01-05T10-30, 20260105), else in its photos' EXIF, dates the analysis.
/// Results go to OUT_DIR/visits/<patient>/<visit>/ (results.json, report.html, assets/),
/// with a timeline per patient in OUT_DIR/patients/<patient>/timeline.html, and
/// OUT_DIR/summary.csv and OUT_DIR/index.html over every visit. A visit's photos are paid
/// for once: rerun the same command after a crash or Ctrl-C, rename visits, or rerun
/// without --no-assets to get the pictures a first run left out (fetched, not analysed
/// again); photos computed before are never computed again under any name unless
/// --retry-failed says so. A visit whose photos changed fails, and its earlier results
/// move to OUT_DIR/superseded/. With --emulator, the emulator's service is kept in
/// OUT_DIR/.hautai/emulator.json, so that a rerun resumes offline too; with --emulator and
/// no folders, 20 sample visits of 5 patients are made up.
#[derive(clap::Args)]
pub struct Args {
    /// The folder of visits.
    #[arg(requires = "output")]
    input: Option<PathBuf>,
    /// Where the results go.
    output: Option<PathBuf>,
    /// Visits analysed at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Run shard I of N (0-based), e.g. 2/8; shards of one layout run side by side.
    #[arg(long, value_parser = parse_shard, conflicts_with = "shards")]
    shard: Option<Shard>,
    /// Run one of N shards, its index from JOB_COMPLETION_INDEX (Kubernetes) or
    /// SLURM_ARRAY_TASK_ID (Slurm).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// The longest one visit's analysis may take, in seconds.
    #[arg(long, value_parser = crate::parse_deadline, value_name = "SECONDS")]
    deadline: Option<std::time::Duration>,
    /// Analyse again photos whose earlier analysis cannot be used: a batch that failed for
    /// good (a detection error, a compute never confirmed), a batch the service no longer
    /// knows, or photos that changed (this may pay again: without it, photos paid for are
    /// never computed again). Photos analysed under another visit's name that a person
    /// confirms as this visit's are taken over, not paid again.
    #[arg(long)]
    retry_failed: bool,
    /// Save no pictures (the report has the numbers only).
    #[arg(long)]
    no_assets: bool,
    /// Write no report.html (the index links results.json).
    #[arg(long)]
    no_report: bool,
    /// Upload photos whose first bytes are of no format this command knows (it knows JPEG,
    /// PNG, WebP, HEIC/HEIF, BMP and TIFF; anything else, a text file named left.jpg, is
    /// refused before anything is sent): for a format the service takes that it does not know.
    #[arg(long)]
    any_format: bool,
    /// Every folder of IN_DIR is a visit of this one patient (instead of deciding per
    /// folder: photos inside make a visit, folders of visits a patient).
    #[arg(long, value_name = "NAME")]
    patient: Option<String>,
    /// The dataset the patients are subjects of: found by name, or made.
    #[arg(long, value_name = "NAME", default_value = "hautai")]
    dataset: String,
    /// The parameters whose grades the index shows, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "redness,pores,lines,pigmentation")]
    columns: Vec<String>,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    text.parse().map_err(|e: hautai::Error| e.to_string())
}

pub fn run(args: &Args, emulator: bool) -> Outcome {
    let shard = match (args.shard, args.shards) {
        (Some(shard), _) => shard,
        (None, Some(count)) => Shard::from_env(count).map_err(|e| Failure::usage(e.to_string()))?.ok_or_else(|| {
            Failure::usage("--shards needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment")
        })?,
        (None, None) => Shard::ALL,
    };
    // Visits are ready about 2 s after compute on the emulator, varying by batch.
    let maturity =
        Maturity::Around { mean: std::time::Duration::from_secs(2), spread: std::time::Duration::from_millis(500) };
    // An emulator's service is kept with the output, so that a rerun (after a crash, a
    // Ctrl-C) resumes against the service that the journal's batches are in.
    let kept = args.output.as_ref().filter(|_| args.input.is_some()).map(|output| output.join(".hautai/emulator.json"));
    let target = Target::connect_keeping(emulator, maturity, kept.as_deref())?;
    let (input, output) = match (&args.input, &args.output) {
        (Some(input), Some(output)) => (input.clone(), output.clone()),
        _ if target.is_emulator() => sample_visits()?,
        _ => return Err(Failure::usage("give IN_DIR and OUT_DIR (or --emulator to try sample visits)")),
    };
    let mut options = AnalysisOptions::new().any_format(args.any_format);
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }
    let save = SaveOptions::new().assets(!args.no_assets).report(!args.no_report);
    let run = FolderRun::new(&target.session, &input, &output)
        .concurrency(usize::from(args.concurrency))
        .shard(shard)
        .options(options)
        .retry_failed(args.retry_failed)
        .dataset(&args.dataset)
        .save(save)
        .index_columns(&args.columns);
    let run = match &args.patient {
        Some(patient) => run.patient(patient),
        None => run,
    };
    note!("shard {shard}, {} visits at a time; results in {}", args.concurrency, output.display());
    let progress = Progress::new("visits");
    let summary = run.run(|event| tell(&progress, event)).map_err(Failure::from);
    progress.finish();
    if args.input.is_none() {
        // The made-up photos are not needed any more; the results stay to be looked at.
        let _ = std::fs::remove_dir_all(&input);
    }
    let summary = summary?;
    note!(
        "{} done ({} resumed, {} taken over from a renamed visit), {} done earlier, {} failed; summary in {}, index in {}",
        summary.done,
        summary.resumed,
        summary.taken_over,
        summary.done_earlier,
        summary.failed.len(),
        summary.summary_csv.display(),
        summary.index.display()
    );
    if target.is_emulator() {
        note!("these values were invented by the offline emulator: they are no person's results");
    }
    if let Err(e) = &summary.reports {
        note!("error: {e}");
    }
    for failure in &summary.failed {
        note!("failed {failure}");
    }
    for (visit, missing) in &summary.incomplete {
        note!("incomplete {visit}: {missing}");
    }
    if summary.interrupted {
        note!("the run was interrupted: run the same command again to finish it");
    }
    if summary.all_done() { Ok(()) } else { Err(Failure::quiet(crate::FAILED)) }
}

/// A line per event; the bar counts visits analysed (or failed) in this run.
fn tell(progress: &Progress, event: &FolderEvent<'_>) {
    match event {
        FolderEvent::NotAVisit { entry } => progress.say(&format!("skipped {entry}")),
        FolderEvent::Planned { in_shard, to_analyse, done_earlier, unusable, .. } => {
            progress.plan(*to_analyse as u64);
            progress.say(&format!(
                "{in_shard} visits in this shard: {to_analyse} to analyse, {done_earlier} done earlier, {unusable} unusable"
            ));
        }
        FolderEvent::Done { visit, batch_id, resumed, saved } => {
            let mut how = if *resumed { ", resumed".to_owned() } else { String::new() };
            if !saved.left_out.is_empty() {
                how += &format!(", {} assets left out over the save's limits", saved.left_out.len());
            }
            progress.finished(&format!("done {visit} (batch {batch_id}{how})"), false);
        }
        FolderEvent::Failed { visit, reason } => progress.finished(&format!("failed {visit}: {reason}"), true),
        // Not work done: not counted in the bar or the rate.
        FolderEvent::Unusable { visit, reason } => progress.say(&format!("failed {visit}: {reason}")),
        FolderEvent::Refused { visit, reason } => {
            progress.shrink();
            progress.say(&format!("failed {visit}: {reason}"));
        }
        FolderEvent::DoneEarlier { visit } => progress.say(&format!("skipped {visit} (done in an earlier run)")),
        FolderEvent::Refetching { visit } => {
            progress.grow();
            progress.say(&format!(
                "{visit}: done earlier, but its folder lacks its results, pictures or report: fetching them again \
                 by batch id (never computing again)"
            ));
        }
        FolderEvent::TakenOver { visit, from, batch_id } => progress.say(&format!(
            "{visit}: its photos were analysed as {from}, which is gone (renamed?): {visit} takes over batch \
                 {batch_id} (fetched by id, not paid again)"
        )),
        _ => {}
    }
}

/// 20 sample visits of 5 patients (small drawn faces, different for each), dated by their
/// folders' names, in a scratch folder.
fn sample_visits() -> Result<(PathBuf, PathBuf), Failure> {
    let scratch = scratch_dir()?;
    let input = scratch.join("visits");
    for visit in 1..=20 {
        let (patient, month) =
            (["anna", "bob", "carla", "dmitri", "eun-ji"][(visit as usize - 1) % 5], 1 + (visit - 1) / 5);
        let folder = input.join(patient).join(format!("2026-{month:02}-{:02}", 3 + visit));
        std::fs::create_dir_all(&folder).map_err(|e| Failure::failed(format!("cannot write sample visits: {e}")))?;
        for side in hautai::Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 160 + visit, 200);
            std::fs::write(folder.join(format!("{side}.png")), photo)
                .map_err(|e| Failure::failed(format!("cannot write sample visits: {e}")))?;
        }
    }
    note!("analysing 20 sample visits of 5 patients from {}", input.display());
    Ok((input, scratch.join("results")))
}
