//! Analyse a folder of visits: resumable, never computing a visit twice, fair to the
//! service.
//!
//! ```text
//! cargo run --example analyze_folder -- [IN_DIR OUT_DIR] [--concurrency N] [--shard I/N | --shards N] [--deadline SECONDS] [--retry-failed]
//! ```
//!
//! `IN_DIR` holds one folder per visit; in each, the image files whose names start with
//! `front`, `left` or `right` (any case, any extension) are that visit's sides. Each
//! visit's files go to `OUT_DIR/visits/<visit>/` (`results.json`, written last,
//! `report.html` and `assets/`), where no visit's files can meet another's or the run's
//! own: `OUT_DIR/summary.csv` (a row per visit of `IN_DIR` with results in the folder,
//! whichever shard wrote them), `OUT_DIR/index.html`, and the journal folder
//! `OUT_DIR/.hautai/`. Two visits whose names differ only in case (one folder on macOS
//! and Windows) are refused.
//!
//! Rerun the same command, with any `--shard`, after a crash, a `kill -9` or Ctrl-C:
//! finished visits are skipped, visits whose compute the service took (or may have) are
//! waited for, never computed again, and the rest start over. A second run that could work
//! the same visits while one runs is refused (exit 2); shards of one layout run side by
//! side. `--retry-failed` starts over the visits whose batch ended in a failure (a
//! detection error, a compute in doubt that never showed work).
//!
//! `--shard I/N` runs shard I (0-based) of N; `--shards N` takes the index from
//! `JOB_COMPLETION_INDEX` (Kubernetes indexed Jobs) or `SLURM_ARRAY_TASK_ID` (Slurm).
//!
//! With no `HAUTAI_TOKEN`, it starts the offline emulator and generates 20 sample visits.
//! Exit codes: 0 every visit of the shard done, 1 some failed (each named with its reason)
//! or the summary could not be written, 2 bad usage or configuration, or the folder is in
//! use by another run or belongs to another service.

mod support;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::AnalysisOptions;
use hautai::bulk::Shard;
use hautai::folder::{FolderEvent, FolderRun};
use support::{FAILED, Target, USAGE};

const USAGE_TEXT: &str = "usage: analyze_folder [IN_DIR OUT_DIR] [--concurrency N] [--shard I/N | --shards N] \
                          [--deadline SECONDS] [--retry-failed]";

#[derive(Debug, PartialEq)]
struct Args {
    dirs: Option<(PathBuf, PathBuf)>,
    concurrency: usize,
    shard: ShardArg,
    deadline: Option<Duration>,
    retry_failed: bool,
}

#[derive(Debug, PartialEq)]
enum ShardArg {
    All,
    Given(Shard),
    /// This many shards, the index from the job array's environment.
    FromEnv(u32),
}

/// The command line, without the program name.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { dirs: None, concurrency: 8, shard: ShardArg::All, deadline: None, retry_failed: false };
    let mut dirs = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--concurrency" => {
                let n = value("--concurrency")?;
                parsed.concurrency = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or(format!("--concurrency {n:?}: give 1 to 256"))?;
            }
            "--shard" => parsed.shard = ShardArg::Given(value("--shard")?.parse()?),
            "--shards" => {
                let n = value("--shards")?;
                parsed.shard = ShardArg::FromEnv(
                    n.parse().ok().filter(|n| *n >= 1).ok_or(format!("--shards {n:?}: give a count"))?,
                );
            }
            "--deadline" => {
                parsed.deadline = Some(support::parse_deadline(&value("--deadline")?)?);
            }
            "--retry-failed" => parsed.retry_failed = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            dir => dirs.push(PathBuf::from(dir)),
        }
    }
    parsed.dirs = match <[PathBuf; 2]>::try_from(dirs) {
        Ok([input, output]) => Some((input, output)),
        Err(dirs) if dirs.is_empty() => None,
        Err(dirs) => return Err(format!("give IN_DIR and OUT_DIR, not {} folders", dirs.len())),
    };
    Ok(parsed)
}

/// Progress on stderr: a line per visit, and the overall state with a rate over the
/// visits analysed in this run (visits done earlier take no time and are not counted).
struct Progress {
    start: Instant,
    total: Mutex<usize>,
    /// Analysed, failed, done earlier.
    counts: Mutex<(usize, usize, usize)>,
}

impl Progress {
    fn event(&self, event: &FolderEvent<'_>) {
        let (line, slot) = match event {
            FolderEvent::Planned { to_analyse, done_earlier, .. } => {
                *self.total.lock().unwrap() = to_analyse + done_earlier;
                return;
            }
            FolderEvent::NotAVisit { entry } => return eprintln!("skipped {entry}"),
            FolderEvent::Refetching { visit } => {
                return eprintln!("{visit}: done earlier, but its results.json is gone: fetching them again");
            }
            FolderEvent::Restarting { visit, lost } => {
                return eprintln!("batch {lost} of {visit} is unknown to the service: starting {visit} over");
            }
            FolderEvent::Done { visit, batch_id, resumed, saved } => {
                let mut how = if *resumed { ", resumed".to_owned() } else { String::new() };
                if !saved.left_out.is_empty() {
                    how += &format!(", {} assets left out over the save's limits", saved.left_out.len());
                }
                (format!("done {visit} (batch {batch_id}{how})"), 0)
            }
            FolderEvent::Failed { visit, reason } => (format!("failed {visit}: {reason}"), 1),
            FolderEvent::DoneEarlier { visit } => (format!("skipped {visit} (done in an earlier run)"), 2),
            _ => return,
        };
        let mut counts = self.counts.lock().unwrap();
        match slot {
            0 => counts.0 += 1,
            1 => counts.1 += 1,
            _ => counts.2 += 1,
        }
        let (analysed, failed, earlier) = *counts;
        let left = self.total.lock().unwrap().saturating_sub(analysed + failed + earlier);
        let minutes = self.start.elapsed().as_secs_f64() / 60.0;
        let rate = match analysed + failed {
            0 => "-".to_owned(),
            worked => format!("{:.1}", worked as f64 / minutes.max(1e-9)),
        };
        eprintln!("{line}\n  [done {}, failed {failed}, left {left}] {rate} visits/min", analysed + earlier);
    }
}

fn main() -> ExitCode {
    let args = match support::args_or_usage(parse_args(std::env::args().skip(1)), USAGE_TEXT) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let shard = match args.shard {
        ShardArg::All => Shard::ALL,
        ShardArg::Given(shard) => shard,
        ShardArg::FromEnv(count) => match Shard::from_env(count) {
            Some(Ok(shard)) => shard,
            Some(Err(problem)) => return usage(&problem),
            None => return usage("--shards needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment"),
        },
    };
    // Visits are ready about 2 s after compute on the emulator, varying by batch.
    let target = match Target::connect_with(hautai::emulator::Maturity::Around {
        mean: Duration::from_secs(2),
        spread: Duration::from_millis(500),
    }) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let (input, output) = match (args.dirs, target.is_emulator()) {
        (Some(dirs), _) => dirs,
        (None, true) => {
            let scratch = support::scratch_dir();
            let input = scratch.join("visits");
            if let Err(e) = support::sample_visits(&input, 20) {
                eprintln!("error: cannot write sample visits: {e}");
                return ExitCode::from(FAILED);
            }
            eprintln!("analysing 20 sample visits from {}", input.display());
            (input, scratch.join("results"))
        }
        (None, false) => return usage("give IN_DIR and OUT_DIR"),
    };
    let progress = Progress { start: Instant::now(), total: Mutex::new(0), counts: Mutex::new((0, 0, 0)) };
    let options = args.deadline.map_or_else(AnalysisOptions::new, |d| AnalysisOptions::new().deadline(d));
    eprintln!("shard {shard}, {} visits at a time; results in {}", args.concurrency, output.display());
    let run = FolderRun::new(&target.session, &input, &output)
        .concurrency(args.concurrency)
        .shard(shard)
        .options(options)
        .retry_failed(args.retry_failed);
    let summary = match run.run(|event| progress.event(event)) {
        Ok(summary) => summary,
        Err(refused) => {
            eprintln!("error: {refused}");
            return ExitCode::from(USAGE);
        }
    };
    eprintln!(
        "{} done ({} resumed, {} started over), {} done earlier, {} failed; summary in {}",
        summary.done,
        summary.resumed,
        summary.restarted,
        summary.done_earlier,
        summary.failed.len(),
        summary.summary_csv.display()
    );
    if let Err(e) = &summary.reports {
        eprintln!("error: {e}");
    }
    for (visit, reason) in &summary.failed {
        eprintln!("failed {visit}: {reason}");
    }
    if summary.interrupted {
        eprintln!("the run was interrupted: run the same command again to finish it");
    }
    if summary.all_done() { ExitCode::SUCCESS } else { ExitCode::from(FAILED) }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}\n{USAGE_TEXT}");
    ExitCode::from(USAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn arguments() {
        let defaults = parse(&[]).unwrap();
        assert_eq!((defaults.dirs, defaults.concurrency, defaults.shard), (None, 8, ShardArg::All));
        let all = parse(&["in", "out", "--concurrency", "16", "--shard", "1/4", "--deadline", "90"]).unwrap();
        assert_eq!(all.dirs, Some((PathBuf::from("in"), PathBuf::from("out"))));
        assert_eq!((all.concurrency, all.deadline), (16, Some(Duration::from_secs(90))));
        assert_eq!(all.shard, ShardArg::Given(Shard::new(1, 4).unwrap()));
        assert_eq!(parse(&["--shards", "3"]).unwrap().shard, ShardArg::FromEnv(3));
        assert_eq!(parse(&["--deadline", "1e300"]).unwrap().deadline, Some(Duration::MAX));
        assert!(!defaults.retry_failed && parse(&["--retry-failed"]).unwrap().retry_failed);
        for bad in [
            &["in"][..],
            &["--concurrency", "0"],
            &["--shard", "4/4"],
            &["--shards", "0"],
            &["--deadline", "-1"],
            &["--x"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
