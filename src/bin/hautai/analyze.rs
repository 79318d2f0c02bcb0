//! `hautai analyze`: one analysis of three photos, printed as a table or JSON, saved on
//! request.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hautai::emulator::Maturity;
use hautai::folder::{SaveOptions, Visit, save_visit};
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
    #[arg(num_args = 0..=3, conflicts_with = "batch", value_name = "PHOTO")]
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
    /// Print the results as JSON instead of a table.
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
    // The folder is checked before the batch is paid for: a save that cannot be made is
    // found now, not after.
    if let Some(dir) = &args.save {
        check_save(dir, args.batch)?;
    }
    let target = Target::connect(emulator, Maturity::After(Duration::from_secs(3)))?;
    // How long this service took last time, so that this run polls around then (an
    // emulator of this command's own is new each run: nothing to remember).
    if !target.is_emulator() {
        crate::remembered::recall(&target.session);
    }
    let scratch = scratch_dir();
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
                true if target.is_emulator() => Side::ALL.into_iter().zip(sample_photos(&scratch)?).collect(),
                true => {
                    return Err(Failure::usage(
                        "give the photos to analyse (FRONT LEFT RIGHT, or one or two with --front, --left, --right), \
                         or --batch ID",
                    ));
                }
            };
            progress.progress.plan(4);
            let visit = Visit::new(name, photos);
            let outcome = target.session.run_analysis(&visit.images().expect("photos"), &options);
            (visit, outcome)
        }
    };
    progress.progress.finish();
    let _ = std::fs::remove_dir_all(&scratch);
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
        true => crate::out::emit(&format!("{}\n", results.to_json()))?,
        false => crate::out::emit(&table(&results))?,
    }
    let Some(dir) = &args.save else { return Ok(()) };
    save(&target.session, &visit, &results, dir, SaveOptions::new().assets(!args.no_assets).report(!args.no_report))
}

/// Saves `results` into `dir`. A save without some of the pictures asked for (a download
/// refused, the save's limits) keeps the results and the report and fails (exit 1),
/// naming what is missing and how to fetch it: never a quiet success with pictures left out.
fn save(
    session: &hautai::Session,
    visit: &Visit,
    results: &BatchResults,
    dir: &std::path::Path,
    options: SaveOptions,
) -> Outcome {
    let batch = results.batch_id();
    let again = format!("`hautai analyze --batch {batch} --save {}` fetches them (not paid again)", dir.display());
    let had_save = dir.join("results.json").is_file();
    let missing = match save_visit(session, visit, results, dir, &options) {
        Ok(saved) if saved.left_out.is_empty() => {
            note!("saved into {}", dir.display());
            return Ok(());
        }
        Ok(saved) => format!(
            "{} pictures were left out over the save's limits (the first: {})",
            saved.left_out.len(),
            saved.left_out[0]
        ),
        // The pictures are what a save can fail on and still keep the rest: try without them.
        Err(e) if options != options.assets(false) && !had_save => {
            save_visit(session, visit, results, dir, &options.assets(false))
                .map_err(|_| cannot_save(batch, dir, &e, false))?;
            format!("no picture was saved: {e}")
        }
        Err(e) => return Err(cannot_save(batch, dir, &e, had_save)),
    };
    Err(Failure::failed(format!(
        "saved the results of batch {batch} into {} without all of their pictures: {missing}; {again}",
        dir.display()
    )))
}

/// The failure of a save that kept nothing new.
fn cannot_save(batch: hautai::Uuid, dir: &std::path::Path, e: &hautai::Error, had_save: bool) -> Failure {
    let kept = if had_save { "; the earlier save of this batch there is kept as it was" } else { "" };
    Failure::failed(format!(
        "the results of batch {batch} are printed above but could not be saved into {}: {e}{kept}; save them later \
         with `hautai analyze --batch {batch} --save DIR` (not paid again)",
        dir.display()
    ))
}

/// The sides the results have pictures of, in API order.
fn analysed_sides(results: &BatchResults) -> Vec<Side> {
    let assets = results.assets();
    Side::ALL.into_iter().filter(|side| assets.iter().any(|a| a.side == Some(*side))).collect()
}

/// Where a save may go, checked before anything is paid for (exit 2 if not): a folder
/// given by its name (not `.`, `..` or a link), new, empty, or an earlier save of the same
/// batch (`--batch`), which the new one replaces whole. A save never replaces another
/// analysis's results, nor files of anything else. The save is built beside `dir` and
/// renamed into place, so the folder `dir` is in must be writable: checked with a probe of
/// a few kilobytes (a full disk fails it).
fn check_save(dir: &std::path::Path, batch: Option<hautai::Uuid>) -> Outcome {
    let typed = dir.to_string_lossy();
    let dots = [".", ".."].iter().any(|d| typed == *d || typed.ends_with(&format!("/{d}")));
    if dots || dir.file_name().is_none() {
        return Err(Failure::usage(format!("give --save a folder by its name, not {typed:?}")));
    }
    if dir.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Failure::usage(format!("{} is a link: give --save the folder it points to", dir.display())));
    }
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(false) => {}
        Ok(true) => {
            let earlier = std::fs::read(dir.join("results.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<BatchResults>(&bytes).ok())
                .map(|results| results.batch_id());
            match (earlier, batch) {
                (Some(earlier), Some(batch)) if earlier == batch => {}
                (Some(earlier), _) => {
                    return Err(Failure::usage(format!(
                        "{} holds the results of batch {earlier}, another analysis: a save never replaces them, so \
                         give a new folder (to save batch {earlier} again: hautai analyze --batch {earlier} --save \
                         DIR)",
                        dir.display()
                    )));
                }
                (None, _) => {
                    return Err(Failure::usage(format!(
                        "{} holds files and is not an earlier save (no results.json): a save never replaces them, \
                         so give a new or empty folder",
                        dir.display()
                    )));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::usage(format!("cannot use {} for --save: {e}", dir.display()))),
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let probe = parent.join(format!(".hautai-write-check-{}", std::process::id()));
    let written = owner_only_folder(parent).and_then(|()| {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&probe)?;
        file.write_all(&[0; 64 * 1024])?;
        file.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| Failure::usage(format!("cannot save into {}: {e}; nothing was sent", dir.display())))
}

/// Creates `dir` and the folders above it that are missing, readable by their owner only
/// (0700 on Unix), as the library makes every folder of a save.
fn owner_only_folder(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.recursive(true).create(dir)
}

/// The parameters: grade, 0-100 score (none for categories), years (ages only).
fn table(results: &BatchResults) -> String {
    let mut out = format!("batch {}\n", results.batch_id());
    let Some(parameters) = results.parameters() else {
        let applications: Vec<&String> = results.applications().keys().collect();
        return out + &format!("(no Face Skin Analysis 3.0 results; applications: {applications:?})\n");
    };
    if results.from_emulator() {
        out += "VALUES INVENTED BY THE OFFLINE EMULATOR: not an analysis of these photos\n";
    }
    out += &format!("{:<22} {:<13} {:>7} {:>9}\n", "parameter", "grade", "score", "years");
    out += &format!("{:-<22} {:-<13} {:->7} {:->9}\n", "", "", "", "");
    for (name, parameter) in parameters.iter() {
        let score =
            parameter.score().filter(|_| !CATEGORIES.contains(&name)).map_or("-".to_owned(), |s| format!("{s:.1}"));
        let years = parameter.years().map_or("-".to_owned(), |y| format!("{y:.0}"));
        out += &format!("{name:<22} {:<13} {score:>7} {years:>9}\n", parameter.tag().unwrap_or("-"));
    }
    out + "score: the service's 0-100 rating (the API does not say whether higher is better); years: estimated age\n"
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

/// Three sample photos (drawn faces the emulator accepts) in `dir`.
fn sample_photos(dir: &std::path::Path) -> Result<[PathBuf; 3], Failure> {
    let write = |side: Side, i: u32| -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("sample-{side}.png"));
        std::fs::write(&path, hautai::emulator::sample_photo(side, 600 + 20 * i, 750))?;
        Ok(path)
    };
    let photos =
        (|| Ok::<_, std::io::Error>([write(Side::Front, 0)?, write(Side::Left, 1)?, write(Side::Right, 2)?]))()
            .map_err(|e| Failure::failed(format!("cannot write sample photos: {e}")))?;
    note!("analysing generated sample photos in {}", dir.display());
    Ok(photos)
}
