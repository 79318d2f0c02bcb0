//! The main job: a whole analysis, printed as a table.
//!
//! ```text
//! cargo run --example full_analysis [FRONT LEFT RIGHT] [--json] [--deadline SECONDS]
//! ```
//!
//! With no `HAUTAI_TOKEN` in the environment it starts the offline emulator and analyses
//! generated sample photos; with it, it runs against the service `Session::from_env()`
//! configures (and then needs the three photo paths). Progress goes to stderr; the table
//! (or `--json`) to stdout. Exit codes: 0 success, 1 the analysis failed, 2 bad usage or
//! configuration.

mod support;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::observe::{Control, Event};
use hautai::{AnalysisOptions, BatchResults, Images, Side};
use support::{FAILED, Target, USAGE};

const USAGE_TEXT: &str = "usage: full_analysis [FRONT LEFT RIGHT] [--json] [--deadline SECONDS] [--save DIR]";

struct Args {
    photos: Option<[PathBuf; 3]>,
    json: bool,
    deadline: Option<Duration>,
    save: Option<PathBuf>,
}

/// The command line, without the program name.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut paths, mut json, mut deadline, mut save) = (Vec::new(), false, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--deadline" => {
                let value = args.next().ok_or("--deadline needs a number of seconds")?;
                deadline = Some(support::parse_deadline(&value)?);
            }
            "--save" => save = Some(PathBuf::from(args.next().ok_or("--save needs a folder")?)),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path => paths.push(PathBuf::from(path)),
        }
    }
    let photos = match <[PathBuf; 3]>::try_from(paths) {
        Ok(three) => Some(three),
        Err(paths) if paths.is_empty() => None,
        Err(paths) => return Err(format!("give three photos (front, left, right), not {}", paths.len())),
    };
    Ok(Args { photos, json, deadline, save })
}

/// Prints progress to stderr and keeps the time of each step.
struct Progress {
    start: Instant,
    marks: Mutex<Vec<(&'static str, Instant)>>,
    /// Per side, the last quarter of its upload reported.
    quarters: Mutex<[u64; 3]>,
}

impl Progress {
    fn mark(&self, step: &'static str) {
        self.marks.lock().unwrap().push((step, Instant::now()));
    }

    fn timings(&self) -> Vec<(&'static str, Duration)> {
        let marks = self.marks.lock().unwrap();
        let mut previous = self.start;
        marks
            .iter()
            .map(|(step, at)| {
                let took = *at - previous;
                previous = *at;
                (*step, took)
            })
            .collect()
    }
}

impl hautai::observe::Observer for Progress {
    fn on_event(&self, event: &Event<'_>) -> Control {
        match event {
            Event::Validated { .. } => self.mark("validate"),
            Event::BatchCreated { .. } => self.mark("initiate"),
            Event::Computing { .. } => self.mark("upload (all sides)"),
            Event::Done { .. } => self.mark("compute and analysis"),
            _ => {}
        }
        match event {
            Event::UploadProgress { side, sent, total } => {
                let index = Side::ALL.iter().position(|s| s == side).unwrap_or(0);
                let quarter = sent * 4 / total.max(&1);
                let mut quarters = self.quarters.lock().unwrap();
                if quarter > quarters[index] {
                    quarters[index] = quarter;
                    eprintln!("  {side:5} {:3}% of {}", quarter * 25, support::size(*total));
                }
            }
            Event::Polled { attempt, complete: false, next_delay } => {
                let next = next_delay.map_or(String::new(), |d| format!(", next look in {:.1}s", d.as_secs_f64()));
                eprintln!("  poll {attempt}: still computing{next}");
            }
            // A line per request sent would drown the steps; retries are shown.
            Event::Sending { .. } => {}
            other => eprintln!("{other}"),
        }
        Control::Continue
    }
}

fn main() -> ExitCode {
    let args = match support::args_or_usage(parse_args(std::env::args().skip(1)), USAGE_TEXT) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let target = match Target::connect(Duration::from_secs(3)) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let scratch = support::scratch_dir();
    let photos = match (args.photos, target.is_emulator()) {
        (Some(photos), _) => photos,
        (None, true) => match support::sample_photos(&scratch) {
            Ok(photos) => {
                eprintln!("analysing generated sample photos in {}", scratch.display());
                photos
            }
            Err(e) => {
                eprintln!("error: cannot write sample photos: {e}");
                return ExitCode::from(FAILED);
            }
        },
        (None, false) => {
            eprintln!("error: against the real service, give the three photos to analyse\n{USAGE_TEXT}");
            return ExitCode::from(USAGE);
        }
    };
    let progress = Progress { start: Instant::now(), marks: Mutex::default(), quarters: Mutex::default() };
    let mut options = AnalysisOptions::new().observer(&progress);
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }
    let images = Images::new().front(&photos[0]).left(&photos[1]).right(&photos[2]);
    let outcome = target.session.run_analysis(&images, &options);
    if let (Ok(results), Some(dir)) = (&outcome, &args.save) {
        // Masks as SVG over the photos: the results of the final fetch carry them.
        let sides: Vec<(Side, PathBuf)> = Side::ALL.into_iter().zip(photos.iter().cloned()).collect();
        match support::report::save(&target.session, results, &sides, dir, hautai::save::Limits::default()) {
            Ok(saved) if saved.left_out.is_empty() => {
                eprintln!("saved the results, every asset and {}", saved.report.display())
            }
            Ok(saved) => eprintln!(
                "saved the results and {}; {} assets were left out over the save's limits, the first: {}",
                saved.report.display(),
                saved.left_out.len(),
                saved.left_out[0]
            ),
            Err(e) => {
                eprintln!("error: cannot save into {}: {e}", dir.display());
                return ExitCode::from(FAILED);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    match outcome {
        Ok(results) if args.json => match serde_json::to_string_pretty(&results) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot print the results as json: {e}");
                return ExitCode::from(FAILED);
            }
        },
        Ok(results) => print_table(&results, &progress.timings()),
        Err(error) => {
            eprintln!("error: {error}");
            let code = match error.kind() {
                // A bad argument or setting is the caller's to fix: usage, not a failed analysis.
                hautai::error::ErrorKind::Config(_)
                | hautai::error::ErrorKind::Env { .. }
                | hautai::error::ErrorKind::InvalidImage { .. }
                | hautai::error::ErrorKind::InvalidArgument(_) => USAGE,
                _ => FAILED,
            };
            return ExitCode::from(code);
        }
    }
    ExitCode::SUCCESS
}

fn print_table(results: &BatchResults, timings: &[(&str, Duration)]) {
    println!("batch {}", results.batch_id());
    let Some(parameters) = results.parameters() else {
        println!("(no Face Skin Analysis 3.0 results; applications: {:?})", results.applications().keys());
        return;
    };
    if results.from_emulator() {
        println!("values invented by the offline emulator: not an analysis of these photos");
    }
    // The score is the service's 0-100 rating (for `age` too); ages in years have their own column.
    println!("{:<22} {:<13} {:>7} {:>9}", "parameter", "tag", "score", "years");
    println!("{:-<22} {:-<13} {:->7} {:->9}", "", "", "", "");
    for (name, parameter) in parameters.iter() {
        // A category (a skin type, a tone) is its tag: no score.
        let category = hautai::model::CATEGORIES.contains(&name);
        let score = parameter.score().filter(|_| !category).map_or("-".to_owned(), |s| format!("{s:.1}"));
        let years = parameter.years().map_or("-".to_owned(), |y| format!("{y:.0}"));
        println!("{name:<22} {:<13} {score:>7} {years:>9}", parameter.tag().unwrap_or("-"));
    }
    println!();
    println!("{:<22} {:>9}", "step", "seconds");
    println!("{:-<22} {:->9}", "", "");
    let mut total = Duration::ZERO;
    for (step, took) in timings {
        total += *took;
        println!("{step:<22} {:>9.2}", took.as_secs_f64());
    }
    println!("{:<22} {:>9.2}", "total", total.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, String> {
        parse_args(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn huge_deadlines_mean_no_practical_limit_and_bad_ones_are_usage_errors() {
        for huge in ["1e300", "18446744073709551615", "inf"] {
            assert_eq!(parse(&format!("--deadline {huge}")).unwrap().deadline, Some(Duration::MAX), "{huge}");
        }
        assert_eq!(parse("--deadline 1.5").unwrap().deadline, Some(Duration::from_millis(1500)));
        for bad in ["0", "-1", "nan", "soon"] {
            assert!(parse(&format!("--deadline {bad}")).is_err(), "{bad}");
        }
        assert!(parse("--deadline").is_err());
    }

    #[test]
    fn photos_come_in_threes() {
        assert!(parse("").unwrap().photos.is_none());
        assert!(parse("a b c --json").unwrap().json);
        assert!(parse("a b").is_err());
        assert!(parse("--colour").is_err());
    }

    /// An analysis of the front and left sample photos by a fresh emulator (`hostile`:
    /// answering with hostile names), saved with `limits` into `<tmp>/hautai-save-<name>-<pid>/out`.
    /// Returns the folder, the results and the save.
    fn saved(
        name: &str,
        hostile: bool,
        limits: hautai::save::Limits,
    ) -> (PathBuf, hautai::BatchResults, support::report::Saved) {
        let emulator = hautai::emulator::Emulator::start(
            hautai::emulator::EmulatorConfig::new().maturity(hautai::emulator::Maturity::Polls(1)),
        )
        .unwrap();
        emulator.hostile_names(hostile);
        let dir = std::env::temp_dir().join(format!("hautai-save-{name}-{}", std::process::id()));
        let photos = support::sample_photos(&dir.join("photos")).unwrap();
        let session = emulator.session();
        let images = Images::new().front(&photos[0]).left(&photos[1]);
        let results = session.run_analysis(&images, &AnalysisOptions::new()).unwrap();
        let sides = vec![(Side::Front, photos[0].clone()), (Side::Left, photos[1].clone())];
        let saved = support::report::save(&session, &results, &sides, &dir.join("out"), limits).unwrap();
        (dir, results, saved)
    }

    #[test]
    fn save_writes_the_results_every_asset_and_a_self_contained_report() {
        let (dir, results, saved) = saved("all", false, Default::default());
        let report = saved.report;

        let html = std::fs::read_to_string(&report).unwrap();
        let parameters = results.parameters().unwrap().len();
        assert_eq!(html.matches("<tr><td>").count(), parameters, "a row per parameter");
        assert_eq!(html.matches("<section class=\"side\">").count(), 2, "a section per side");
        assert_eq!(html.matches("<img class=\"mask\"").count(), 2 * parameters, "a mask per parameter and side");
        assert_eq!(html.matches("<input type=\"checkbox\"").count(), parameters, "a switch per parameter");
        assert_eq!(html.matches("data:image/png;base64,").count(), 2 + 2 * 3, "photos and predicted images embedded");
        // Self-contained: nothing fetched from anywhere.
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains(" src=\"/"), "network");
        assert!(html.contains("<script>") && !html.contains("<script src"));
        let saved: Vec<String> = std::fs::read_dir(dir.join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let mut saved = saved;
        saved.sort();
        assert_eq!(saved, ["assets", "report.html", "results.json"], "no temporary file left");
        assert_eq!(std::fs::read_dir(dir.join("out/assets")).unwrap().count(), results.assets().len(), "every asset");
        let json: hautai::BatchResults =
            serde_json::from_slice(&std::fs::read(dir.join("out/results.json")).unwrap()).unwrap();
        assert_eq!(json.batch_id(), results.batch_id());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn save_writes_every_asset_of_a_hostile_answer_in_a_file_of_its_own() {
        let (dir, results, saved) = saved("hostile", true, Default::default());
        let report = saved.report;
        let assets = results.assets();
        assert!(assets.iter().any(|a| a.parameter.as_deref() == Some("../../outside")));
        assert_eq!(std::fs::read_dir(dir.join("out/assets")).unwrap().count(), assets.len(), "every asset");
        assert!(!dir.join("outside").exists() && !dir.join("out/outside").exists(), "nothing outside the folder");
        let html = std::fs::read_to_string(report).unwrap();
        assert!(!html.contains("<script>document.title") && !html.contains("<img src=x"), "no markup from the answer");
        assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"), "shown as text");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_save_over_its_limits_still_writes_the_report_with_what_fits_and_says_what_it_left_out() {
        let (dir, results, saved) = saved("limits", false, hautai::save::Limits::default().max_assets(5));
        assert_eq!(saved.left_out.len(), results.assets().len() - 5);
        let html = std::fs::read_to_string(&saved.report).unwrap();
        assert!(html.contains("<table>") && html.contains("the front photo"), "the report is written");
        assert!(dir.join("out/results.json").is_file());
        assert_eq!(std::fs::read_dir(dir.join("out/assets")).unwrap().count(), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
