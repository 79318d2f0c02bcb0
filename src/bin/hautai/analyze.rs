//! `hautai analyze`: one analysis of three photos, printed as a table or JSON, saved on
//! request.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hautai::emulator::Maturity;
use hautai::folder::{SaveOptions, Visit};
use hautai::model::{CATEGORIES, ResultsQuery};
use hautai::observe::{Control, Event, Observer};
use hautai::{AnalysisOptions, BatchResults, Side};

use crate::connect::{Target, scratch_dir};
use crate::out::note;
use crate::progress::Progress;
use crate::{Failure, Outcome};

/// Analyse one, two or three photos of one face and print the results; or, with --batch,
/// fetch the results of a batch analysed earlier (never paying again).
///
/// Each photo's side comes from its file's name (front…, left…, right…, any case) or from
/// --front, --left and --right; three photos whose names say no side are front, left and
/// right in that order. Progress goes to stderr; the table (or --json) to stdout. With
/// --emulator and no photos, generated sample photos are analysed.
#[derive(clap::Args)]
pub struct Args {
    /// The photos: each side told by its file's name (front.jpg, Left-2.png), or three in
    /// the order front, left, right.
    #[arg(conflicts_with = "batch", value_name = "PHOTO")]
    photos: Vec<PathBuf>,
    /// The front photo.
    #[arg(long, value_name = "PATH", conflicts_with = "batch")]
    front: Option<PathBuf>,
    /// The left photo.
    #[arg(long, value_name = "PATH", conflicts_with = "batch")]
    left: Option<PathBuf>,
    /// The right photo.
    #[arg(long, value_name = "PATH", conflicts_with = "batch")]
    right: Option<PathBuf>,
    /// Fetch the results of this batch instead of analysing photos: a batch an earlier
    /// analysis paid for (one cut short by its deadline, say). Nothing is computed.
    #[arg(long, value_name = "BATCH_ID")]
    batch: Option<hautai::Uuid>,
    /// Print the results as JSON instead of a table (as the service sent them: the pictures'
    /// links in it are signed, so keep it out of files others read; --save keeps none).
    #[arg(long)]
    json: bool,
    /// Save the results, the pictures and a report into DIR (the report is named after DIR).
    /// DIR must be new or empty (or, with --batch, a save of that batch, replaced once the
    /// new save is whole): a save never replaces another analysis. Checked before anything
    /// is paid for.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    /// With --save: save no pictures.
    #[arg(long, requires = "save")]
    no_assets: bool,
    /// With --save: write no report.html.
    #[arg(long, requires = "save")]
    no_report: bool,
    /// Upload photos whose first bytes are of no format this command knows (it knows JPEG,
    /// PNG, WebP, HEIC/HEIF, BMP and TIFF; anything else, a text file named left.jpg, is
    /// refused before anything is sent): for a format the service takes that it does not know.
    #[arg(long)]
    any_format: bool,
    /// The longest the analysis (or the wait for --batch) may take, in seconds (default 300).
    #[arg(long, value_parser = crate::parse_deadline, value_name = "SECONDS")]
    deadline: Option<Duration>,
}

pub fn run(args: &Args, emulator: bool) -> Outcome {
    let flags =
        [(Side::Front, args.front.as_ref()), (Side::Left, args.left.as_ref()), (Side::Right, args.right.as_ref())];
    let photos = crate::photos::by_side(&args.photos, flags)?;
    let mut samples = None;
    // The folder is checked before the batch is paid for: a save that cannot be made is
    // found now, not after.
    if let Some(dir) = &args.save {
        crate::save_dir::check(dir, args.batch)?;
    }
    let target = Target::connect(emulator, Maturity::After(Duration::from_secs(3)))?;
    // How long this service took last time, so that this run polls around then (an
    // emulator of this command's own is new each run: nothing to remember).
    if !target.is_emulator() {
        crate::remembered::recall(&target.session);
    }
    let progress = Steps { progress: Progress::steps(), quarters: Mutex::default() };
    let mut options = AnalysisOptions::new().observer(&progress).any_format(args.any_format);
    if args.save.is_none() && !args.json {
        // A table needs no masks: the last poll's answer is the result, with no fetch after it.
        options = options.results(ResultsQuery::new().with_masks(false));
    }
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }
    let name =
        args.save.as_ref().and_then(|d| d.file_name()).map_or("analysis".into(), |n| n.to_string_lossy().into_owned());
    let (visit, outcome) = match args.batch {
        Some(batch_id) => {
            progress.progress.plan(1);
            let outcome = target.session.wait_for_results_with(batch_id, &options);
            let sides = outcome.as_ref().map(analysed_sides).unwrap_or_default();
            (Visit::new(name, sides.into_iter().map(|side| (side, PathBuf::new()))), outcome)
        }
        None => {
            let photos = match photos.is_empty() {
                false => photos,
                true if target.is_emulator() => {
                    let (dir, photos) = sample_photos()?;
                    samples = Some(dir);
                    Side::ALL.into_iter().zip(photos).collect()
                }
                true => {
                    return Err(Failure::usage(
                        "give the photos to analyse (FRONT LEFT RIGHT, or one or two with --front, --left, --right), \
                         or --batch ID",
                    ));
                }
            };
            if samples.is_none() {
                // Which file is which side: a name decides it (`leftover.jpg` is a left photo).
                let told: Vec<String> =
                    photos.iter().map(|(side, path)| format!("{side} {}", path.display())).collect();
                note!("photos: {}", told.join(", "));
            }
            progress.progress.plan(4);
            let visit = Visit::new(name, photos);
            let outcome = target.session.run_analysis(&visit.images().expect("photos"), &options);
            (visit, outcome)
        }
    };
    progress.progress.finish();
    if let Some(dir) = &samples {
        // The sample photos' folder, made for this run: gone with it.
        let _ = std::fs::remove_dir_all(dir);
    }
    if !target.is_emulator() {
        crate::remembered::keep(&target.session);
    }
    let results = outcome.map_err(|error| {
        let mut failure = Failure::from(error);
        if target.is_emulator() && failure.message.contains("hautai analyze --batch") {
            failure.message += " (each --emulator run is a new emulator, which knows no earlier batch: run \
                                `hautai emulator` and point the command at it to try this offline)";
        }
        failure
    })?;
    // What was paid for is printed first: a save that fails after it loses nothing.
    match args.json {
        // JSON keeps a line break in a string as `\n`: its lines are its own.
        true => crate::out::emit(crate::out::json_safe(&results.to_json()).lines())?,
        false => crate::out::emit(table(&results))?,
    }
    let Some(dir) = &args.save else { return Ok(()) };
    crate::save_dir::save(
        &target.session,
        &visit,
        &results,
        dir,
        SaveOptions::new().assets(!args.no_assets).report(!args.no_report),
    )
}

/// The sides the results have pictures of, in API order.
fn analysed_sides(results: &BatchResults) -> Vec<Side> {
    let assets = results.assets();
    Side::ALL.into_iter().filter(|side| assets.iter().any(|a| a.side == Some(*side))).collect()
}

/// The parameters, a line each: grade, 0-100 score (none for categories), years (ages only).
fn table(results: &BatchResults) -> Vec<String> {
    let mut lines = vec![format!("batch {}", results.batch_id())];
    let Some(parameters) = results.face_skin_metrics().map(|analysis| &analysis.parameters) else {
        let applications: Vec<&String> = results.applications().keys().collect();
        lines.push(format!("(no Face Skin Analysis 3.0 results; applications: {applications:?})"));
        return lines;
    };
    if results.from_emulator() {
        lines.push("VALUES INVENTED BY THE OFFLINE EMULATOR: not an analysis of these photos".to_owned());
    }
    lines.push(format!("{:<22} {:<13} {:>7} {:>9}", "parameter", "grade", "score", "years"));
    lines.push(format!("{:-<22} {:-<13} {:->7} {:->9}", "", "", "", ""));
    for (name, parameter) in parameters.iter() {
        let score =
            parameter.score().filter(|_| !CATEGORIES.contains(&name)).map_or("-".to_owned(), |s| format!("{s:.1}"));
        let years = parameter.years().map_or("-".to_owned(), |y| format!("{y:.0}"));
        // Shown before padding, so that an escaped name keeps its row in line.
        let (name, tag) = (crate::out::visible(name), crate::out::visible(parameter.tag().unwrap_or("-")));
        lines.push(format!("{name:<22} {tag:<13} {score:>7} {years:>9}"));
    }
    lines.push(
        "score: the service's 0-100 rating (the API does not say whether higher is better); years: estimated age"
            .to_owned(),
    );
    lines
}

/// The pipeline's steps on the progress bar (or as lines).
struct Steps {
    progress: Progress,
    /// Per side, the last quarter of its upload reported.
    quarters: Mutex<[u64; 3]>,
}

impl Observer for Steps {
    fn on_event(&self, event: &Event<'_>) -> Control {
        match event {
            Event::BatchCreated { .. } => self.progress.step("batch created"),
            Event::Computing { .. } => self.progress.step("photos uploaded; computing"),
            Event::Done { .. } => self.progress.step("results ready"),
            Event::Validated { .. } => self.progress.step("photos checked"),
            Event::UploadProgress { side, sent, total } => {
                let index = Side::ALL.iter().position(|s| s == side).unwrap_or(0);
                let quarter = sent * 4 / (*total).max(1);
                let mut quarters = self.quarters.lock().unwrap_or_else(|p| p.into_inner());
                if quarter > quarters[index] {
                    quarters[index] = quarter;
                    self.progress.say(&format!("  {:5} {:3}% uploaded", side.as_str(), quarter * 25));
                }
            }
            Event::Polled { attempt, complete: false, .. } => {
                self.progress.say(&format!("  poll {attempt}: still computing"))
            }
            Event::Sending { .. } | Event::Polled { .. } => {}
            other => self.progress.say(&other.to_string()),
        }
        Control::Continue
    }
}

/// Three sample photos (drawn faces the emulator accepts) in a new folder of this run's,
/// and that folder.
fn sample_photos() -> Result<(PathBuf, [PathBuf; 3]), Failure> {
    let dir = scratch_dir()?;
    let write = |side: Side, i: u32| -> std::io::Result<PathBuf> {
        let path = dir.join(format!("sample-{side}.png"));
        std::io::Write::write_all(
            &mut crate::private::create_new(&path)?,
            &hautai::emulator::sample_photo(side, 600 + 20 * i, 750),
        )?;
        Ok(path)
    };
    let photos =
        (|| Ok::<_, std::io::Error>([write(Side::Front, 0)?, write(Side::Left, 1)?, write(Side::Right, 2)?]))()
            .map_err(|e| Failure::failed(format!("cannot write sample photos: {e}")))?;
    note!("analysing generated sample photos in {}", dir.display());
    Ok((dir, photos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_an_escaped_value_stays_in_line() {
        let results: BatchResults = serde_json::from_value(serde_json::json!({"face_skin_metrics_3": {
            "image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36",
            "all_algorithms_calculated": true,
            "parameters": {
                "redness": {"tag": "Good", "score": 80.0},
                "pores": {"tag": "Po\u{202e}or", "score": 20.0},
            },
        }}))
        .unwrap();
        let rows: Vec<String> = table(&results).into_iter().filter(|l| l.contains("0.0")).collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let ends: Vec<usize> = rows.iter().map(|r| r.find(".0").unwrap()).collect();
        assert_eq!(ends[0], ends[1], "scores in one column: {rows:?}");
        assert!(rows.iter().all(|r| crate::out::visible(r) == *r), "already shown: {rows:?}");
    }
}
