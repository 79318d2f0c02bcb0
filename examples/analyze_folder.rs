//! A folder of visits, analysed with `hautai::folder`: resumable, never computing a visit
//! twice, a report per visit, a summary and an index.
//!
//! ```text
//! cargo run --example analyze_folder [IN_DIR OUT_DIR]
//! ```
//!
//! `IN_DIR` holds one folder per visit, its photos named `front…`, `left…`, `right…`.
//! With no `HAUTAI_TOKEN` it starts the offline emulator and makes up 20 sample visits.
//! Rerun it after a crash or Ctrl-C: finished visits are skipped. The `hautai folder`
//! command adds shards, a deadline, `--retry-failed`, `--no-assets` and progress bars.

mod support;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hautai::emulator::Maturity;
use hautai::folder::{FolderEvent, FolderRun};
use support::{FAILED, Target, USAGE};

fn main() -> ExitCode {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    // Visits are ready about 2 s after compute on the emulator, varying by batch.
    let maturity = Maturity::Around { mean: Duration::from_secs(2), spread: Duration::from_millis(500) };
    let target = match Target::connect_with(maturity) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let (input, output) = match (<[PathBuf; 2]>::try_from(dirs), target.is_emulator()) {
        (Ok([input, output]), _) => (input, output),
        (Err(dirs), true) if dirs.is_empty() => {
            let scratch = support::scratch_dir();
            if let Err(e) = support::sample_visits(&scratch.join("visits"), 20) {
                eprintln!("error: cannot write sample visits: {e}");
                return ExitCode::from(FAILED);
            }
            (scratch.join("visits"), scratch.join("results"))
        }
        _ => {
            eprintln!("usage: analyze_folder [IN_DIR OUT_DIR] (the folders are needed against the service)");
            return ExitCode::from(USAGE);
        }
    };
    eprintln!("analysing the visits in {}; results in {}", input.display(), output.display());
    let run = FolderRun::new(&target.session, &input, &output).concurrency(8);
    let summary = run.run(|event| match event {
        FolderEvent::Done { visit, batch_id, .. } => eprintln!("done {visit} (batch {batch_id})"),
        FolderEvent::Failed { visit, reason } | FolderEvent::Unusable { visit, reason } => {
            eprintln!("failed {visit}: {reason}")
        }
        FolderEvent::DoneEarlier { visit } => eprintln!("skipped {visit} (done in an earlier run)"),
        FolderEvent::NotAVisit { entry } => eprintln!("skipped {entry}"),
        _ => {}
    });
    match summary {
        Ok(summary) => {
            eprintln!(
                "{} done, {} done earlier, {} failed; open {}",
                summary.done,
                summary.done_earlier,
                summary.failed.len(),
                summary.index.display()
            );
            if summary.all_done() { ExitCode::SUCCESS } else { ExitCode::from(FAILED) }
        }
        // The folders cannot be used, or another run is using them: nothing was sent.
        Err(refused) => {
            eprintln!("error: {refused}");
            ExitCode::from(USAGE)
        }
    }
}
