//! The main job: a whole analysis of three photos, with progress, printed as a table.
//!
//! ```text
//! cargo run --example full_analysis [FRONT LEFT RIGHT]
//! ```
//!
//! With no `HAUTAI_TOKEN` in the environment it starts the offline emulator and analyses
//! generated sample photos (its values are invented, and the table says so); with it, it
//! runs against the service `Session::from_env()` configures, on the three photos given.
//! The `hautai analyze` command does the same with `--json`, `--save DIR` and a deadline.

mod support;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hautai::model::CATEGORIES;
use hautai::observe::{Control, Event, Observer};
use hautai::{AnalysisOptions, BatchResults, Images};
use support::{FAILED, Target, USAGE};

/// Prints each step of the pipeline to stderr as it happens.
struct Steps;

impl Observer for Steps {
    fn on_event(&self, event: &Event<'_>) -> Control {
        match event {
            // A line per request or per upload chunk would drown the steps.
            Event::Sending { .. } | Event::UploadProgress { .. } => {}
            other => eprintln!("  {other}"),
        }
        Control::Continue
    }
}

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let target = match Target::connect(Duration::from_secs(3)) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let photos = match (<[PathBuf; 3]>::try_from(paths), target.is_emulator()) {
        (Ok(photos), _) => photos,
        (Err(paths), true) if paths.is_empty() => match support::sample_photos(&support::scratch_dir()) {
            Ok(photos) => photos,
            Err(e) => {
                eprintln!("error: cannot write sample photos: {e}");
                return ExitCode::from(FAILED);
            }
        },
        _ => {
            eprintln!("usage: full_analysis [FRONT LEFT RIGHT] (the three photos are needed against the service)");
            return ExitCode::from(USAGE);
        }
    };
    let images = Images::new().front(&photos[0]).left(&photos[1]).right(&photos[2]);
    let outcome = target.session.run_analysis(&images, &AnalysisOptions::new().observer(&Steps));
    let _ = std::fs::remove_dir_all(support::scratch_dir());
    match outcome {
        Ok(results) => {
            print_table(&results);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(FAILED)
        }
    }
}

/// A row per parameter: the grade, the 0-100 score (none for categories such as the skin
/// type) and, for the ages, the estimate in years (the score is a rating, not an age).
fn print_table(results: &BatchResults) {
    println!("batch {}", results.batch_id());
    if results.from_emulator() {
        println!("values invented by the offline emulator: not an analysis of these photos");
    }
    println!("{:<22} {:<13} {:>7} {:>9}", "parameter", "grade", "score", "years");
    for (name, parameter) in results.parameters().iter() {
        let score = parameter.score().filter(|_| !CATEGORIES.contains(&name)).map_or("-".into(), |s| format!("{s:.1}"));
        let years = parameter.years().map_or("-".to_owned(), |y| format!("{y:.0}"));
        println!("{name:<22} {:<13} {score:>7} {years:>9}", parameter.tag().unwrap_or("-"));
    }
}
