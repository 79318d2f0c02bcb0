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

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::bulk::{Bulk, Job, JobRecord, Journal, Outcome, Shard};
use hautai::model::CATEGORIES;
use hautai::save::Limits;
use hautai::{AnalysisOptions, BatchResults, Images, Side};
use support::{FAILED, Target, USAGE, write_atomically};

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

/// One visit found in `IN_DIR`: its sides, or why it cannot be analysed.
struct Visit {
    name: String,
    sides: Result<Vec<(Side, PathBuf)>, String>,
}

/// The visits in `input` (sorted by name), and every entry that is not one. A visit that
/// cannot be read, or whose side is not a readable image, carries the exact reason; it is
/// that visit's problem, not the run's.
fn find_visits(input: &Path) -> std::io::Result<(Vec<Visit>, Vec<String>)> {
    let (mut visits, mut skipped) = (Vec::new(), Vec::new());
    let mut entries: Vec<_> = std::fs::read_dir(input)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for folder in entries {
        let name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        match std::fs::metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                skipped.push(format!("{name} (not a visit folder)"));
                continue;
            }
            // A link to a folder that is gone (an unmounted share, say) is a visit that
            // cannot be read: a failure, not something to skip.
            Err(e) => {
                visits.push(Visit { name, sides: Err(unreadable(&folder, &e)) });
                continue;
            }
        }
        match sides_of(&name, &folder, &mut skipped) {
            Ok(sides) if sides.is_empty() => skipped.push(format!("{name} (no front, left or right image)")),
            sides => visits.push(Visit { name, sides }),
        }
    }
    refuse_clashes(&mut visits);
    Ok((visits, skipped))
}

/// The sides in a visit's folder, or why the visit cannot be analysed.
fn sides_of(name: &str, folder: &Path, skipped: &mut Vec<String>) -> Result<Vec<(Side, PathBuf)>, String> {
    let read = std::fs::read_dir(folder).map_err(|e| format!("cannot read the folder: {e}"))?;
    let mut files: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut sides: Vec<(Side, PathBuf)> = Vec::new();
    for file in files {
        let file_name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Some(side) = Side::ALL.into_iter().find(|s| file_name.to_lowercase().starts_with(s.as_str())) else {
            skipped.push(format!("{name}/{file_name} (not a front, left or right image)"));
            continue;
        };
        match std::fs::metadata(&file) {
            Ok(meta) if meta.is_dir() => return Err(format!("{file_name} is a folder, not an image")),
            Ok(_) if sides.iter().any(|(s, _)| *s == side) => {
                skipped.push(format!("{name}/{file_name} (a second {side} image)"))
            }
            Ok(_) => sides.push((side, file)),
            Err(e) => return Err(format!("{file_name}: {}", unreadable(&file, &e))),
        }
    }
    Ok(sides)
}

/// Why `path` cannot be read: a link to nothing, or the system's word.
fn unreadable(path: &Path, error: &std::io::Error) -> String {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_symlink() => "a broken link".to_owned(),
        _ => format!("cannot read it: {error}"),
    }
}

/// Visits whose names differ only in case would share one output folder on macOS and
/// Windows: neither is analysed, and both say why.
fn refuse_clashes(visits: &mut [Visit]) {
    let mut by_folder: HashMap<String, Vec<String>> = HashMap::new();
    for visit in visits.iter() {
        by_folder.entry(visit.name.to_lowercase()).or_default().push(visit.name.clone());
    }
    for visit in visits.iter_mut() {
        let names = &by_folder[&visit.name.to_lowercase()];
        if names.len() > 1 {
            visit.sides = Err(format!(
                "{} would share one output folder (names that differ only in case are one folder on macOS and \
                 Windows): rename one of them",
                names.join(" and ")
            ));
        }
    }
}

/// Where a visit's files go: a folder of its own under `visits/`, apart from the run's files.
fn visit_dir(output: &Path, visit: &str) -> PathBuf {
    output.join("visits").join(visit)
}

/// A visit's saved results: present once the visit is done (`results.json` is written last).
fn saved_results(output: &Path, visit: &str) -> Option<BatchResults> {
    let bytes = std::fs::read(visit_dir(output, visit).join("results.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What the summary and the index say of one visit.
struct Row {
    visit: String,
    batch_id: Option<hautai::Uuid>,
    status: String,
    /// The sides analysed, and those missing: `front, left, right` or
    /// `front (no left, right)`.
    sides: String,
    results: Option<BatchResults>,
}

/// The sides of a visit, saying which are missing.
fn sides_text(sides: &[(Side, PathBuf)]) -> String {
    let given: Vec<&str> = sides.iter().map(|(s, _)| s.as_str()).collect();
    let missing: Vec<&str> = Side::ALL.iter().map(|s| s.as_str()).filter(|s| !given.contains(s)).collect();
    match missing.is_empty() {
        true => given.join(", "),
        false => format!("{} (no {})", given.join(", "), missing.join(", ")),
    }
}

/// A row per visit of the input, from what every journal in the folder says now and the
/// results saved there, whichever shard wrote them.
fn rows(output: &Path, visits: &[Visit], records: &HashMap<String, JobRecord>, ours: Shard) -> Vec<Row> {
    visits
        .iter()
        .map(|visit| {
            let record = records.get(&visit.name).cloned().unwrap_or_default();
            let mut results = if record.saved { saved_results(output, &visit.name) } else { None };
            // Another shard's visit was checked when that shard ran: its photos may have
            // changed since. (This run checked its own.)
            let mut changed = None;
            if let (Some(_), Ok(sides), false) = (&results, &visit.sides, ours.contains(&visit.name)) {
                let images =
                    sides.iter().fold(Images::new(), |images, (side, path)| images.side(*side, path.as_path()));
                changed = match record.same_photos(&images) {
                    Ok(true) => None,
                    Ok(false) => Some("the photos changed since they were analysed: run its shard again".to_owned()),
                    Err(e) => Some(format!("cannot read the photos to check they are the ones analysed: {e}")),
                };
                if changed.is_some() {
                    results = None;
                }
            }
            // A visit whose photos cannot be used now (a folder or a broken link where a
            // photo was) is not done, whatever was saved for it before.
            if visit.sides.is_err() {
                results = None;
            }
            let status = match (&results, &visit.sides, changed.as_ref().or(record.failure.as_ref())) {
                (Some(_), _, _) => "done".to_owned(),
                (None, Err(problem), _) => format!("failed: {problem}"),
                (None, _, Some(reason)) => format!("failed: {reason}"),
                (None, _, None) => "not run".to_owned(),
            };
            let batch_id = record.batch_id.or(results.as_ref().map(BatchResults::batch_id));
            let sides = visit.sides.as_deref().map(sides_text).unwrap_or_default();
            Row { visit: visit.name.clone(), batch_id, status, sides, results }
        })
        .collect()
}

/// Progress on stderr: a line per visit, and the overall state with a rate over the
/// visits analysed in this run (visits done earlier take no time and are not counted in it).
struct Progress {
    start: Instant,
    total: usize,
    counts: Mutex<(usize, usize, usize)>,
}

impl Progress {
    fn finished(&self, line: String, ended: Ended) {
        let mut counts = self.counts.lock().unwrap();
        match ended {
            Ended::Analysed => counts.0 += 1,
            Ended::Failed => counts.1 += 1,
            Ended::Earlier => counts.2 += 1,
        }
        let (analysed, failed, earlier) = *counts;
        let left = self.total.saturating_sub(analysed + failed + earlier);
        let minutes = self.start.elapsed().as_secs_f64() / 60.0;
        let rate = (analysed + failed) as f64 / minutes.max(1e-9);
        let eta = match left {
            0 => "-".to_owned(),
            _ if analysed + failed == 0 => "?".to_owned(),
            _ if left as f64 / rate < 1.5 => format!("{:.0} s", left as f64 / rate * 60.0),
            _ => format!("{:.1} min", left as f64 / rate),
        };
        eprintln!(
            "{line}\n  [done {}, failed {failed}, left {left}] {rate:.1} visits/min, ETA {eta}",
            analysed + earlier
        );
    }
}

#[derive(Clone, Copy)]
enum Ended {
    Analysed,
    Failed,
    Earlier,
}

/// `summary.csv`: one row per visit (columns in the README's "Results you can look at"):
/// what it is and where it came from, ages in years, then a tag and a score column per
/// parameter. Every cell goes through `support::csv::cell`: nothing in it runs.
fn write_summary(output: &Path, rows: &[Row]) -> std::io::Result<()> {
    let names: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.results.as_ref())
        .flat_map(|r| r.parameters().into_iter().flatten().map(|(n, _)| n.to_owned()))
        .collect();
    let mut header: Vec<String> =
        ["visit", "status", "batch_id", "source", "sides", "age_years", "eyes_age_years"].map(str::to_owned).to_vec();
    for name in &names {
        header.push(format!("{name}_tag"));
        if !CATEGORIES.contains(&name.as_str()) {
            header.push(format!("{name}_score"));
        }
    }
    let mut csv = support::csv::line(&header.iter().map(|h| support::csv::text(h)).collect::<Vec<_>>());
    for row in rows {
        let results = row.results.as_ref();
        let years = |name: &str| {
            let years = results.and_then(|r| r.parameter(name)).and_then(|p| p.years());
            years.map(|y| format!("{y:.0}")).unwrap_or_default()
        };
        let source = match results {
            Some(r) if r.from_emulator() => "emulator (invented values, not a person's)",
            Some(_) => "haut.ai",
            None => "",
        };
        let batch = row.batch_id.map(|b| b.to_string()).unwrap_or_default();
        // Names, states and tags stay text; ages and scores are numbers.
        let text = support::csv::text;
        let mut cells = vec![text(&row.visit), text(&row.status), support::csv::cell(&batch), text(source)];
        cells.push(text(&row.sides));
        cells.extend([support::csv::cell(&years("age")), support::csv::cell(&years("eyes_age"))]);
        for name in &names {
            let parameter = results.and_then(|r| r.parameter(name));
            cells.push(text(parameter.and_then(|p| p.tag()).unwrap_or_default()));
            if !CATEGORIES.contains(&name.as_str()) {
                let score = parameter.and_then(|p| p.score()).map(|s| s.to_string()).unwrap_or_default();
                cells.push(support::csv::cell(&score));
            }
        }
        csv.push_str(&support::csv::line(&cells));
    }
    write_atomically(&output.join("summary.csv"), csv.as_bytes())
}

/// `summary.csv` and `index.html` over every visit of the input, from what every journal in
/// the folder says now (under the folder's lock, so a shard that ends later never writes an
/// older summary over a newer one).
fn write_reports(output: &Path, journal: &Journal, visits: &[Visit]) -> Result<(), String> {
    journal
        .with_every_record(|records| {
            let rows = rows(output, visits, records, journal.shard());
            write_summary(output, &rows).map_err(|e| format!("cannot write summary.csv: {e}"))?;
            let linked: Vec<(String, Option<String>, String)> = rows
                .iter()
                .map(|r| {
                    let link = r.results.is_some().then(|| format!("visits/{}/report.html", r.visit));
                    let mut status = r.status.clone();
                    if r.results.is_some() && r.sides.contains("(no ") {
                        status = format!("{status}: sides {}", r.sides);
                    }
                    if r.results.as_ref().is_some_and(BatchResults::from_emulator) {
                        status.push_str(" (emulator: invented values, not a person's)");
                    }
                    (r.visit.clone(), link, status)
                })
                .collect();
            support::report::index(output, &linked).map_err(|e| format!("cannot write index.html: {e}"))
        })
        .map_err(|e| format!("cannot read the journals in {}: {e}", journal.dir().display()))?
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
    let (mut visits, skipped) = match find_visits(&input) {
        Ok(found) => found,
        Err(e) => return usage(&format!("cannot read {}: {e}", input.display())),
    };
    for entry in &skipped {
        eprintln!("skipped {entry}");
    }
    // An output folder that cannot be written is found now, not after the analyses are paid for.
    for dir in [output.clone(), output.join("visits")] {
        if let Err(e) = writable(&dir) {
            return usage(&format!("cannot write into {}: {e}", dir.display()));
        }
    }
    // The folder is this run's, for this shard, or the run is refused before anything is sent.
    let journal = match Journal::open(output.join(".hautai"), &target.session, shard) {
        Ok(journal) => journal,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::ResourceBusy | std::io::ErrorKind::InvalidInput) => {
            eprintln!("error: {e}");
            return ExitCode::from(USAGE);
        }
        Err(e) => return usage(&format!("cannot use the journal folder {}: {e}", output.join(".hautai").display())),
    };
    // A visit whose output folder is taken by something else fails now, before it is paid for.
    for visit in &mut visits {
        let dir = visit_dir(&output, &visit.name);
        if visit.sides.is_ok() && dir.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
            visit.sides = Err(format!("its output {} is not a folder: move it away", dir.display()));
        }
    }
    let mine: Vec<&Visit> = visits.iter().filter(|v| shard.contains(&v.name)).collect();
    let problems: Vec<(String, String)> =
        mine.iter().filter_map(|v| v.sides.as_ref().err().map(|e| (v.name.clone(), e.clone()))).collect();
    for (visit, problem) in &problems {
        eprintln!("failed {visit}: {problem}");
    }
    let ready: Vec<(&str, &[(Side, PathBuf)])> =
        mine.iter().filter_map(|v| v.sides.as_ref().ok().map(|s| (v.name.as_str(), s.as_slice()))).collect();

    let options = args.deadline.map_or_else(AnalysisOptions::new, |d| AnalysisOptions::new().deadline(d));
    let jobs = ready.iter().map(|(name, sides)| {
        let images = sides.iter().fold(Images::new(), |images, (side, path)| images.side(*side, path.as_path()));
        Job::new(*name, images).options(options.clone())
    });
    let progress = Progress { start: Instant::now(), total: ready.len(), counts: Mutex::new((0, 0, 0)) };
    eprintln!(
        "{} visits in shard {shard}, {} at a time; results in {}",
        mine.len(),
        args.concurrency,
        output.display()
    );
    let summary = Bulk::new(&target.session)
        .concurrency(args.concurrency)
        .journal(&journal)
        .retry_failed(args.retry_failed)
        .run(jobs, |outcome| {
            match outcome {
                Outcome::Done { key, batch_id, results, resumed } => {
                    let sides = ready.iter().find(|(name, _)| name == key).map(|(_, s)| s.to_vec()).unwrap_or_default();
                    let dir = visit_dir(&output, key);
                    let saved = support::report::save(&target.session, results, &sides, &dir, Limits::default())?;
                    let mut how = if *resumed { ", resumed".to_owned() } else { String::new() };
                    if !saved.left_out.is_empty() {
                        how += &format!(", {} assets left out over the save's limits", saved.left_out.len());
                    }
                    progress.finished(format!("done {key} (batch {batch_id}{how})"), Ended::Analysed);
                }
                Outcome::Failed { key, error, .. } => {
                    progress.finished(format!("failed {key}: {error}"), Ended::Failed)
                }
                // Done earlier, but its results are gone (deleted): fetched again, not paid again.
                Outcome::Skipped { key, .. } if saved_results(&output, key).is_none() => {
                    eprintln!("{key}: done earlier, but its results.json is gone or unreadable: fetching them again");
                    return Err("results.json is gone or unreadable".into());
                }
                Outcome::Skipped { key, .. } => {
                    progress.finished(format!("skipped {key} (done in an earlier run)"), Ended::Earlier)
                }
                Outcome::Restarting { key, lost } => {
                    eprintln!("batch {lost} of {key} is unknown to the service: starting {key} over")
                }
                _ => {}
            }
            Ok(())
        });
    let reports = write_reports(&output, &journal, &visits);
    eprintln!(
        "{} done ({} resumed, {} started over), {} done earlier, {} failed; summary in {}",
        summary.done,
        summary.resumed,
        summary.restarted,
        summary.skipped,
        summary.failed.len() + problems.len(),
        output.join("summary.csv").display()
    );
    let mut failed = false;
    if let Err(e) = reports {
        eprintln!("error: {e}");
        failed = true;
    }
    for (visit, reason) in summary.failed.iter().chain(&problems) {
        eprintln!("failed {visit}: {reason}");
        failed = true;
    }
    if summary.interrupted {
        eprintln!("the run was interrupted: run the same command again to finish it");
        failed = true;
    }
    if failed { ExitCode::from(FAILED) } else { ExitCode::SUCCESS }
}

/// Creates `dir` if needed and checks that a file can be written there (a probe of this
/// process's own: shards check one folder at once).
fn writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
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
            ("c/left.png", b"l"),
            ("c/front.png/inside", b"x"),
            ("Dup/front.png", b"f"),
            ("dup/front.png", b"f"),
        ] {
            std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            std::fs::write(dir.join(path), bytes).unwrap();
        }
        let (visits, skipped) = find_visits(&dir).unwrap();
        let found: Vec<(&str, Result<Vec<Side>, String>)> = visits
            .iter()
            .map(|v| (v.name.as_str(), v.sides.clone().map(|sides| sides.iter().map(|(s, _)| *s).collect())))
            .collect();
        let clash = || {
            Err("Dup and dup would share one output folder (names that differ only in case are one folder \
                            on macOS and Windows): rename one of them"
                .to_owned())
        };
        assert_eq!(
            found,
            [
                ("Dup", clash()),
                ("a", Ok(vec![Side::Front, Side::Left])),
                ("b", Ok(vec![Side::Right])),
                ("c", Err("front.png is a folder, not an image".to_owned())),
                ("dup", clash()),
            ]
        );
        assert_eq!(skipped.len(), 5, "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("empty/readme")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("a/notes.txt")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("a/front-2.jpg") && s.contains("second")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("empty ")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("stray.jpg")), "{skipped:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
