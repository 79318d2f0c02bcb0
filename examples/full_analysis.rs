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
        // Masks as SVG over the service's pictures: the results of the final fetch carry them.
        let name = dir.file_name().map_or("analysis".into(), |n| n.to_string_lossy().into_owned());
        let visit = hautai::folder::Visit::new(name, Side::ALL.into_iter().zip(photos.iter().cloned()));
        match hautai::folder::save_visit(&target.session, &visit, results, dir, &Default::default()) {
            Ok(saved) if saved.left_out.is_empty() => {
                eprintln!("saved the results, every asset and the report in {}", dir.display())
            }
            Ok(saved) => eprintln!(
                "saved the results and the report in {}; {} assets were left out over the save's limits, the first: {}",
                dir.display(),
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
}
