//! Analyse a folder of visits: resumable, never computing a visit twice, fair to the
//! service.
//!
//! ```text
//! cargo run --example analyze_folder -- [IN_DIR OUT_DIR] [--concurrency N] [--shard I/N | --shards N] [--deadline SECONDS]
//! ```
//!
//! `IN_DIR` holds one folder per visit; in each, the image files whose names start with
//! `front`, `left` or `right` (any case, any extension) are that visit's sides. Each
//! visit's results go to `OUT_DIR/<visit>.json` (written atomically), its masks, predicted
//! images and `report.html` to `OUT_DIR/<visit>/`, one row per visit to
//! `OUT_DIR/summary.csv`, an `OUT_DIR/index.html` linking the reports, and the journal that
//! makes a rerun resume to
//! `OUT_DIR/journal.jsonl` (`journal-I-of-N.jsonl` for a shard). Rerun the same command
//! after a crash, a `kill -9` or Ctrl-C: finished visits are skipped, visits whose compute
//! was sent are waited for (never computed again), the rest start over.
//!
//! `--shard I/N` runs shard I (0-based) of N; `--shards N` takes the index from
//! `JOB_COMPLETION_INDEX` (Kubernetes indexed Jobs) or `SLURM_ARRAY_TASK_ID` (Slurm).
//!
//! With no `HAUTAI_TOKEN`, it starts the offline emulator and generates 20 sample visits.
//! Exit codes: 0 every visit done, 1 some failed (each named with its reason), 2 bad usage
//! or configuration.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::bulk::{Bulk, Job, Journal, Outcome, Shard};
use hautai::{AnalysisOptions, BatchResults, Images, Side};
use support::{FAILED, Target, USAGE};

const USAGE_TEXT: &str =
    "usage: analyze_folder [IN_DIR OUT_DIR] [--concurrency N] [--shard I/N | --shards N] [--deadline SECONDS]";

#[derive(Debug, PartialEq)]
struct Args {
    dirs: Option<(PathBuf, PathBuf)>,
    concurrency: usize,
    shard: ShardArg,
    deadline: Option<Duration>,
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
    let mut parsed = Args { dirs: None, concurrency: 8, shard: ShardArg::All, deadline: None };
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

/// One visit found in `IN_DIR`.
struct Visit {
    name: String,
    sides: Vec<(Side, PathBuf)>,
}

/// The visits in `input` (sorted by name), and every entry that fits none.
fn find_visits(input: &Path) -> std::io::Result<(Vec<Visit>, Vec<String>)> {
    let (mut visits, mut skipped) = (Vec::new(), Vec::new());
    let mut entries: Vec<_> = std::fs::read_dir(input)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for folder in entries {
        let name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if !folder.is_dir() {
            skipped.push(format!("{name} (not a visit folder)"));
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)?.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        let mut sides: Vec<(Side, PathBuf)> = Vec::new();
        for file in files {
            let file_name = file.file_name().unwrap_or_default().to_string_lossy().to_lowercase();
            let side = Side::ALL.into_iter().find(|s| file_name.starts_with(s.as_str()));
            match side {
                Some(side) if file.is_file() && !sides.iter().any(|(s, _)| *s == side) => sides.push((side, file)),
                Some(side) if file.is_file() => skipped.push(format!("{name}/{file_name} (a second {side} image)")),
                _ => skipped.push(format!("{name}/{file_name} (not a front, left or right image)")),
            }
        }
        if sides.is_empty() {
            skipped.push(format!("{name} (no front, left or right image)"));
        } else {
            visits.push(Visit { name, sides });
        }
    }
    Ok((visits, skipped))
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// Progress on stderr: a line per finished visit and the overall state.
struct Progress {
    start: Instant,
    total: usize,
    counts: Mutex<(usize, usize)>,
}

impl Progress {
    fn finished(&self, line: String, failed: bool) {
        let mut counts = self.counts.lock().unwrap();
        if failed {
            counts.1 += 1
        } else {
            counts.0 += 1
        }
        let (done, failed) = *counts;
        let left = self.total.saturating_sub(done + failed);
        let minutes = self.start.elapsed().as_secs_f64() / 60.0;
        let rate = (done + failed) as f64 / minutes.max(1e-9);
        let eta_minutes = left as f64 / rate.max(1e-9);
        let eta = match left {
            0 => "-".to_owned(),
            _ if eta_minutes < 1.5 => format!("{:.0} s", eta_minutes * 60.0),
            _ => format!("{eta_minutes:.1} min"),
        };
        eprintln!("{line}\n  [done {done}, failed {failed}, left {left}] {rate:.1} visits/min, ETA {eta}");
    }
}

/// `summary.csv`: one row per visit, with a score column per parameter.
fn write_summary(output: &Path, visits: &[Visit], failed: &[(String, String)]) -> std::io::Result<()> {
    let results: Vec<Option<BatchResults>> = visits
        .iter()
        .map(|v| {
            std::fs::read(output.join(format!("{}.json", v.name))).ok().and_then(|b| serde_json::from_slice(&b).ok())
        })
        .collect();
    let names: BTreeSet<String> = results
        .iter()
        .flatten()
        .flat_map(|r| r.parameters().into_iter().flatten().map(|(n, _)| n.to_owned()))
        .collect();
    let quote =
        |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() };
    let mut csv = String::from("visit,batch_id,status");
    for name in &names {
        write!(csv, ",{}", quote(name)).unwrap();
    }
    csv.push('\n');
    for (visit, results) in visits.iter().zip(&results) {
        let status = match (results, failed.iter().find(|(k, _)| *k == visit.name)) {
            (Some(_), _) => "done".to_owned(),
            (None, Some((_, reason))) => format!("failed: {reason}"),
            (None, None) => "not run".to_owned(),
        };
        let batch = results.as_ref().map(|r| r.batch_id().to_string()).unwrap_or_default();
        write!(csv, "{},{batch},{}", quote(&visit.name), quote(&status)).unwrap();
        for name in &names {
            let score = results.as_ref().and_then(|r| r.parameter(name)).and_then(|p| p.score());
            write!(csv, ",{}", score.map(|s| s.to_string()).unwrap_or_default()).unwrap();
        }
        csv.push('\n');
    }
    write_atomically(&output.join("summary.csv"), csv.as_bytes())
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
    let (visits, skipped) = match find_visits(&input) {
        Ok(found) => found,
        Err(e) => return usage(&format!("cannot read {}: {e}", input.display())),
    };
    for entry in &skipped {
        eprintln!("skipped {entry}");
    }
    let visits: Vec<Visit> = visits.into_iter().filter(|v| shard.contains(&v.name)).collect();
    if let Err(e) = std::fs::create_dir_all(&output) {
        return usage(&format!("cannot create {}: {e}", output.display()));
    }
    let journal_name = if shard == Shard::ALL {
        "journal.jsonl".to_owned()
    } else {
        format!("journal-{}-of-{}.jsonl", shard.index(), shard.count())
    };
    let journal = match Journal::open(output.join(journal_name)) {
        Ok(journal) => journal,
        Err(e) => return usage(&format!("cannot open the journal in {}: {e}", output.display())),
    };

    let options = args.deadline.map_or_else(AnalysisOptions::new, |d| AnalysisOptions::new().deadline(d));
    let jobs = visits.iter().map(|visit| {
        let images = visit.sides.iter().fold(Images::new(), |images, (side, path)| images.side(*side, path.as_path()));
        Job::new(visit.name.clone(), images).options(options.clone())
    });
    let progress = Progress { start: Instant::now(), total: visits.len(), counts: Mutex::new((0, 0)) };
    eprintln!(
        "{} visits in shard {shard}, {} at a time; results in {}",
        visits.len(),
        args.concurrency,
        output.display()
    );
    let summary =
        Bulk::new(&target.session).concurrency(args.concurrency).shard(shard).journal(journal).run(jobs, |outcome| {
            match outcome {
                Outcome::Done { key, batch_id, results, resumed } => {
                    // The report first, the results last: a visit whose `<visit>.json`
                    // exists is complete, report included.
                    let sides = visits.iter().find(|v| v.name == *key).map(|v| v.sides.clone()).unwrap_or_default();
                    support::report::save(&target.session, results, &sides, &output.join(key))?;
                    let json = serde_json::to_vec_pretty(results).map_err(|e| e.to_string())?;
                    write_atomically(&output.join(format!("{key}.json")), &json).map_err(|e| e.to_string())?;
                    let how = if *resumed { ", resumed" } else { "" };
                    progress.finished(format!("done {key} (batch {batch_id}{how})"), false);
                }
                Outcome::Failed { key, error, .. } => progress.finished(format!("failed {key}: {error}"), true),
                Outcome::Skipped { key } => progress.finished(format!("skipped {key} (done in an earlier run)"), false),
                _ => {}
            }
            Ok(())
        });
    if let Err(e) = write_summary(&output, &visits, &summary.failed) {
        eprintln!("error: cannot write summary.csv: {e}");
    }
    let linked: Vec<(String, Option<String>, String)> = visits
        .iter()
        .map(|v| {
            let done = output.join(format!("{}.json", v.name)).exists();
            let failed = summary.failed.iter().find(|(k, _)| *k == v.name).map(|(_, r)| format!("failed: {r}"));
            let status = if done { "done".to_owned() } else { failed.unwrap_or_else(|| "not run".to_owned()) };
            (v.name.clone(), done.then(|| format!("{}/report.html", v.name)), status)
        })
        .collect();
    if let Err(e) = support::report::index(&output, &linked) {
        eprintln!("error: cannot write index.html: {e}");
    }
    eprintln!(
        "{} done ({} resumed), {} done earlier, {} failed; summary in {}",
        summary.done,
        summary.resumed,
        summary.skipped,
        summary.failed.len(),
        output.join("summary.csv").display()
    );
    if summary.failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    for (visit, reason) in &summary.failed {
        eprintln!("failed {visit}: {reason}");
    }
    ExitCode::from(FAILED)
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

    #[test]
    fn visits_are_folders_of_sides_and_the_rest_is_listed() {
        let dir = std::env::temp_dir().join(format!("hautai-find-visits-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, bytes) in [
            ("a/Front.JPG", &b"f"[..]),
            ("a/left_side.png", b"l"),
            ("a/notes.txt", b"n"),
            ("a/front-2.jpg", b"f"),
            ("b/RIGHT.jpeg", b"r"),
            ("empty/readme", b"x"),
            ("stray.jpg", b"s"),
        ] {
            std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            std::fs::write(dir.join(path), bytes).unwrap();
        }
        let (visits, skipped) = find_visits(&dir).unwrap();
        let found: Vec<(&str, Vec<Side>)> =
            visits.iter().map(|v| (v.name.as_str(), v.sides.iter().map(|(s, _)| *s).collect())).collect();
        assert_eq!(found, [("a", vec![Side::Front, Side::Left]), ("b", vec![Side::Right])]);
        assert_eq!(skipped.len(), 5, "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("empty/readme")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("a/notes.txt")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("a/front-2.jpg") && s.contains("second")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("empty ")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("stray.jpg")), "{skipped:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
