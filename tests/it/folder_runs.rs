//! `hautai folder` as people run it: a child process against an emulator, run again, run
//! twice at once, with other shard layouts, odd visit names and unreadable folders. Each
//! test asserts what a clinic cares about: no visit computed twice, no visit's results in
//! another's place, a clear refusal instead of a silent clash, exit codes that tell.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::files::TempDir;
use hautai::Side;
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Maturity, Route};

/// The `hautai` command, built by cargo for this test binary (feature `cli`).
fn hautai() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_hautai"))
}

/// An input folder of visits (three small drawn faces each) and an output folder beside it.
struct Folders {
    dir: TempDir,
}

impl Folders {
    fn new(name: &str, visits: &[&str]) -> Folders {
        let folders = Folders { dir: TempDir::new(name) };
        std::fs::create_dir_all(folders.input()).unwrap();
        for (i, visit) in visits.iter().enumerate() {
            folders.visit(visit, i);
        }
        folders
    }

    /// Writes the visit `name`'s three photos (different for each `n`).
    fn visit(&self, name: &str, n: usize) -> PathBuf {
        let folder = self.input().join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 120 + n as u32, 150);
            std::fs::write(folder.join(format!("{side}.png")), photo).unwrap();
        }
        folder
    }

    fn input(&self) -> PathBuf {
        self.dir.path().join("in")
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// The rows of `summary.csv` as (visit, batch id, status), read by column name.
    fn summary(&self) -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(self.output().join("summary.csv")).unwrap_or_default();
        let mut lines = text.lines();
        let header = csv_cells(lines.next().unwrap_or_default());
        let column =
            |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}: {header:?}"));
        let (visit, batch, status) = (column("visit"), column("batch_id"), column("status"));
        lines
            .map(|line| {
                let cells = csv_cells(line);
                (cells[visit].clone(), cells[batch].clone(), cells[status].clone())
            })
            .collect()
    }
}

/// The cells of one CSV line (quoted cells may hold commas and doubled quotes).
fn csv_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted, mut chars) = (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// `hautai folder` against `emulator` (as the service: never `--emulator`), for
/// `folders`, with `args` after the folders.
fn command(emulator: &Emulator, folders: &Folders, args: &[&str]) -> Command {
    let mut command = Command::new(hautai());
    command
        .arg("folder")
        .arg(folders.input())
        .arg(folders.output())
        .args(args)
        .env("HAUTAI_TOKEN", emulator.token())
        .env("HAUTAI_COMPANY_ID", emulator.company_id().to_string())
        .env("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string())
        .env("HAUTAI_BASE_URL", emulator.base_url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs the command to its end.
fn analyze(emulator: &Emulator, folders: &Folders, args: &[&str]) -> (i32, String) {
    let Output { status, stderr, .. } = command(emulator, folders, args).output().unwrap();
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stderr).into_owned())
}

/// Waits for a child started with [`command`] and returns its exit code and stderr.
fn finish(child: Child) -> (i32, String) {
    let Output { status, stderr, .. } = child.wait_with_output().unwrap();
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stderr).into_owned())
}

/// Computes the service took, over every batch.
fn computes(emulator: &Emulator) -> u32 {
    emulator.batch_ids().iter().map(|b| emulator.compute_calls(*b)).sum()
}

/// Waits until the emulator saw a request that `seen` picks (at most 20 s).
fn wait_for(emulator: &Emulator, seen: impl Fn(&hautai::emulator::RecordedRequest) -> bool) {
    wait_until(|| emulator.requests().iter().any(&seen));
}

/// Waits until `done` (at most 20 s).
fn wait_until(done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "it never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn quick() -> Emulator {
    crate::common::emulator_with(EmulatorConfig::new().maturity(Maturity::After(Duration::from_millis(200))))
}

/// Every file below `dir` whose name says it is a temporary file.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(leftovers(&path));
        } else if path.to_string_lossy().contains("partial") || path.to_string_lossy().ends_with(".tmp") {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_compute_the_service_refused_is_sent_again_by_the_rerun() {
    // A definite 4xx, and a 429 whose Retry-After is longer than the retry policy waits:
    // either way the service did not take compute, so the rerun must send it.
    for fault in [Fault::status(400).body(r#"{"detail":"Try later."}"#), Fault::status(429).retry_after("3600")] {
        let emulator = quick();
        let folders = Folders::new("refused", &["visit-1"]);
        emulator.fail_next(Route::Compute, 1, fault);
        let (code, stderr) = analyze(&emulator, &folders, &["--deadline", "4"]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(computes(&emulator), 0);
        let (code, stderr) = analyze(&emulator, &folders, &["--deadline", "4"]);
        assert_eq!(code, 0, "the rerun computes the visit: {stderr}");
        assert_eq!(computes(&emulator), 1, "one compute taken, once");
        assert_eq!(folders.summary()[0].2, "done", "{:?}", folders.summary());
    }
}

#[test]
fn a_kill_while_compute_waits_out_a_retry_after_leaves_it_to_be_sent_by_the_rerun() {
    let emulator = quick();
    let folders = Folders::new("kill-retry-after", &["visit-1"]);
    // The first compute is throttled for 5 s: the command waits, and is killed waiting.
    emulator.fail_next(Route::Compute, 1, Fault::status(429).retry_after("5"));
    let mut child = command(&emulator, &folders, &["--deadline", "30"]).spawn().unwrap();
    wait_for(&emulator, |r| r.route == Route::Compute && r.status == 429);
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(computes(&emulator), 0);
    let (code, stderr) = analyze(&emulator, &folders, &["--deadline", "4"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(computes(&emulator), 1);
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_at_once_naming_the_first() {
    let emulator =
        crate::common::emulator_with(EmulatorConfig::new().maturity(Maturity::After(Duration::from_secs(2))));
    let folders = Folders::new("twice", &["visit-1", "visit-2", "visit-3"]);
    let first = command(&emulator, &folders, &[]).spawn().unwrap();
    let first_pid = first.id();
    wait_for(&emulator, |r| r.route == Route::Initiate);
    let started = Instant::now();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 2, "the second run is refused: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(2), "at once, not after waiting");
    assert!(stderr.contains(&format!("process {first_pid}")), "{stderr}");
    let (code, stderr) = finish(first);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(computes(&emulator), 3, "every visit computed once");
    // While a shard runs, a run of another layout could work its visits: refused too.
    let new_visits = ["w-1", "w-2", "w-3", "w-4"];
    for (i, visit) in new_visits.iter().enumerate() {
        folders.visit(visit, 10 + i);
    }
    let zero = hautai::bulk::Shard::new(0, 2).unwrap();
    let in_zero = new_visits.iter().filter(|v| zero.contains(v)).count();
    assert!(in_zero > 0);
    let initiated = |e: &Emulator| e.requests().iter().filter(|r| r.route == Route::Initiate).count();
    let before = initiated(&emulator);
    let shard = command(&emulator, &folders, &["--shard", "0/2"]).spawn().unwrap();
    wait_until(|| initiated(&emulator) > before);
    let (code, stderr) = analyze(&emulator, &folders, &["--shard", "1/3"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, stderr) = finish(shard);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(computes(&emulator), 3 + in_zero as u32);
}

#[test]
fn shards_run_side_by_side_and_a_new_layout_never_computes_again() {
    let emulator = quick();
    let names = ["v-a", "v-b", "v-c", "v-d", "v-e", "v-f", "v-g", "v-h"];
    let folders = Folders::new("layouts", &names);
    let zero = command(&emulator, &folders, &["--shard", "0/2"]).spawn().unwrap();
    let one = command(&emulator, &folders, &["--shard", "1/2"]).spawn().unwrap();
    let ((zero, zero_err), (one, one_err)) = (finish(zero), finish(one));
    assert_eq!((zero, one), (0, 0), "{zero_err}\n{one_err}");
    assert_eq!(computes(&emulator), 8);
    // Whichever shard ended last, the summary covers every visit.
    let summary = folders.summary();
    assert_eq!(summary.len(), 8, "{summary:?}");
    assert!(summary.iter().all(|(_, batch, status)| status == "done" && !batch.is_empty()), "{summary:?}");

    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(computes(&emulator), 8, "no visit computed again after the layout changed");
    let (code, stderr) = analyze(&emulator, &folders, &["--shard", "2/3"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(computes(&emulator), 8);
    assert_eq!(folders.summary().len(), 8);
}

#[test]
fn visit_names_never_take_another_visits_place_or_the_runs_own_files() {
    let emulator = quick();
    let names = ["x", "x.json", "index.html", "summary.csv", "journal.jsonl", "Visit1", "visit1"];
    let folders = Folders::new("clash", &names);
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 1, "two visits clash, so the run fails: {stderr}");
    assert!(stderr.contains("rename"), "the message says what to do: {stderr}");
    assert_eq!(computes(&emulator), 5, "the clashing pair is never analysed");
    let summary = folders.summary();
    let done: Vec<&(String, String, String)> = summary.iter().filter(|(_, _, s)| s == "done").collect();
    let mut visits: Vec<&str> = done.iter().map(|(v, _, _)| v.as_str()).collect();
    visits.sort();
    assert_eq!(visits, ["index.html", "journal.jsonl", "summary.csv", "x", "x.json"], "{summary:?}");
    let mut batches: Vec<&str> = done.iter().map(|(_, b, _)| b.as_str()).collect();
    batches.sort();
    batches.dedup();
    assert_eq!(batches.len(), 5, "each visit has its own batch: {summary:?}");
    for pair in ["Visit1", "visit1"] {
        let row = summary.iter().find(|(v, _, _)| v == pair).unwrap_or_else(|| panic!("{pair}: {summary:?}"));
        assert!(row.2.contains("Visit1") && row.2.contains("visit1"), "{row:?}");
    }
    assert!(leftovers(&folders.output()).is_empty(), "{:?}", leftovers(&folders.output()));
    // A rerun changes nothing and computes nothing.
    let (code, _) = analyze(&emulator, &folders, &[]);
    assert_eq!((code, computes(&emulator)), (1, 5));
}

#[test]
fn a_summary_that_cannot_be_written_fails_the_run() {
    let emulator = quick();
    let folders = Folders::new("no-summary", &["visit-1"]);
    // A folder where the summary goes: it cannot be replaced by a file.
    std::fs::create_dir_all(folders.output().join("summary.csv").join("blocker")).unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("summary.csv"), "{stderr}");
}

#[test]
fn an_unreadable_folder_or_a_broken_link_is_that_visits_problem_only() {
    use std::os::unix::fs::PermissionsExt;

    let emulator = quick();
    let folders = Folders::new("unreadable", &["good"]);
    let locked = folders.visit("locked", 1);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let broken = folders.visit("broken", 2);
    std::fs::remove_file(broken.join("front.png")).unwrap();
    std::os::unix::fs::symlink(broken.join("nowhere.png"), broken.join("front.png")).unwrap();
    // Root reads every folder: run the command as `nobody`, from a copy it may execute.
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    let mut run = command(&emulator, &folders, &[]);
    if root {
        let copy = folders.dir.path().join("hautai");
        std::fs::copy(hautai(), &copy).unwrap();
        for dir in [folders.dir.path().to_path_buf(), folders.input()] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let mut as_nobody = Command::new("setpriv");
        as_nobody.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(&copy).arg("folder");
        as_nobody.arg(folders.input()).arg(folders.output());
        for (key, value) in run.get_envs() {
            as_nobody.env(key, value.unwrap());
        }
        run = as_nobody;
        run.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let Output { status, stderr, .. } = run.output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(status.code(), Some(1), "the run goes on and reports the two visits: {stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(stderr.contains("broken link"), "{stderr}");
    assert_eq!(computes(&emulator), 1, "the good visit is analysed");
    let summary = folders.summary();
    let status_of = |visit: &str| summary.iter().find(|(v, _, _)| v == visit).map(|r| r.2.clone()).unwrap_or_default();
    assert_eq!(status_of("good"), "done", "{summary:?}");
    assert!(status_of("broken").contains("broken link"), "{summary:?}");
    assert!(status_of("locked").contains("Permission denied"), "{summary:?}");
}

#[test]
fn a_folder_is_bound_to_its_service_and_a_batch_the_service_lost_is_never_paid_again_unless_asked() {
    let first = quick();
    let folders = Folders::new("bound", &["visit-1", "visit-2"]);
    // Computed, never finished: the run ends at its deadline with both batches computing.
    first.never_complete(true);
    let (code, stderr) = analyze(&first, &folders, &["--deadline", "2"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(computes(&first), 2);

    // Another service (another emulator, another company): refused before anything is sent.
    let other = quick();
    let (code, stderr) = analyze(&other, &folders, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(first.base_url()), "the message names the folder's service: {stderr}");
    assert!(other.requests().is_empty(), "nothing was sent to the other service");

    // The same service, without those batches now (a backup restored, a deletion): their
    // computes were paid for, so each visit fails with advice instead of paying again.
    first.never_complete(false);
    first.forget_batches();
    let (code, stderr) = analyze(&first, &folders, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no longer knows batch") && stderr.contains("--retry-failed"), "{stderr}");
    assert_eq!(first.computes(), 2, "not paid again");
    // Asked to, each visit is analysed again: two new batches, each computed once.
    let (code, stderr) = analyze(&first, &folders, &["--retry-failed"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!((first.computes(), computes(&first)), (4, 2));
}

#[test]
fn another_visits_photos_under_a_finished_visits_name_are_refused_not_taken_for_done() {
    let emulator = quick();
    let folders = Folders::new("photos-changed", &["visit-1", "visit-2"]);
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    let results = folders.output().join("visits/visit-1/results.json");
    let before = std::fs::read(&results).unwrap();
    // Another day's (or another patient's) photos in a folder of the same name: a front only.
    let visit = folders.visit("visit-1", 7);
    std::fs::remove_file(visit.join("left.png")).unwrap();
    std::fs::remove_file(visit.join("right.png")).unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not the ones the journal analysed"), "{stderr}");
    assert_eq!(computes(&emulator), 2, "nothing analysed without being asked");
    // The saved results are another patient's now: kept, apart, never left as visit-1's.
    assert!(!results.exists(), "{stderr}");
    let aside = std::fs::read_dir(folders.output().join("superseded")).unwrap().next().unwrap().unwrap().path();
    assert_eq!(std::fs::read(aside.join("results.json")).unwrap(), before, "kept whole, for the record");
    assert!(stderr.contains("its earlier results were moved to"), "{stderr}");
    let summary = folders.summary();
    let row = summary.iter().find(|(visit, _, _)| visit == "visit-1").unwrap();
    assert!(row.2.starts_with("failed") && row.2.contains("not the ones"), "not shown as done: {summary:?}");
    // Asked to, the new photos are analysed and their results replace the old ones.
    let (code, stderr) = analyze(&emulator, &folders, &["--retry-failed"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(computes(&emulator), 3);
    assert_ne!(std::fs::read(&results).unwrap(), before);
    assert!(folders.summary().iter().all(|(_, _, status)| status == "done"), "{:?}", folders.summary());
    // Nothing of the first patient's stays beside the new results: no left or right picture.
    let assets: Vec<String> = std::fs::read_dir(folders.output().join("visits/visit-1/assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!assets.is_empty() && assets.iter().all(|a| a.contains("front")), "{assets:?}");
}

#[test]
fn a_hostile_answer_and_hostile_names_leave_safe_files_that_say_what_they_mean() {
    let emulator = quick();
    emulator.hostile_names(true);
    // Names Windows takes (no `:`, `|` or `?`): a scheme cannot be spelled, so a link is
    // tested with `#` and `%`, which a URL reads as its own.
    let names = ["javascript&colon;alert(document.title)", "=cmd+' -C calc'!A0", "a#b%c", "0042", "042", "front-only"];
    let folders = Folders::new("hostile", &names[..5]);
    let only = folders.input().join("front-only");
    std::fs::create_dir_all(&only).unwrap();
    std::fs::write(only.join("front.png"), hautai::emulator::sample_photo(Side::Front, 130, 150)).unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    for name in names {
        let visit = folders.output().join("visits").join(name);
        assert!(visit.join("report.html").is_file() && visit.join("results.json").is_file(), "{name}: {stderr}");
        let results: hautai::BatchResults =
            serde_json::from_slice(&std::fs::read(visit.join("results.json")).unwrap()).unwrap();
        let saved = std::fs::read_dir(visit.join("assets")).unwrap().count();
        assert_eq!(saved, results.assets().len(), "{name}: every asset, each in a file of its own");
    }
    assert!(leftovers(&folders.output()).is_empty(), "{:?}", leftovers(&folders.output()));
    // The index links each visit by a relative, encoded path: never a scheme.
    let index = std::fs::read_to_string(folders.output().join("index.html")).unwrap();
    assert!(index.contains("href=\"visits/javascript%26colon%3Balert%28document.title%29/report.html\""), "{index}");
    assert!(index.contains("href=\"visits/a%23b%25c/report.html\""), "{index}");
    assert!(index.contains("emulator"), "invented values are marked");
    // No cell of the summary starts a formula; ages are in years, tags beside scores.
    let text = std::fs::read_to_string(folders.output().join("summary.csv")).unwrap();
    for line in text.lines() {
        for cell in csv_cells(line) {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "a cell a spreadsheet would run: {cell:?}");
        }
    }
    let header = csv_cells(text.lines().next().unwrap());
    for column in
        ["visit", "status", "batch_id", "source", "sides", "age_years", "age_tag", "age_score", "skin_type_tag"]
    {
        assert!(header.iter().any(|h| h == column), "{column}: {header:?}");
    }
    assert!(!header.iter().any(|h| h == "skin_type_score" || h == "age"), "{header:?}");
    let columns = &header;
    let row = |visit: &str| {
        let line = text.lines().map(csv_cells).find(|cells| cells[0] == visit).unwrap();
        move |column: &str| line[columns.iter().position(|h| h == column).unwrap()].clone()
    };
    let only = row("front-only");
    assert_eq!(only("sides"), "front (no left, right)");
    assert!(only("source").starts_with("emulator"), "{}", only("source"));
    let years: f64 = only("age_years").parse().unwrap();
    assert!((20.0..60.0).contains(&years), "years, not a rating: {years}");
    assert!(["Dry", "Normal", "Combination", "Oily"].contains(&only("skin_type_tag").as_str()));
    assert_eq!(row("'=cmd+' -C calc'!A0")("status"), "done", "the formula visit is text");
    // Names a spreadsheet would read as the number 42 stay two texts.
    assert_eq!((row("'0042")("status"), row("'042")("status")), ("done".to_owned(), "done".to_owned()));
}

#[test]
fn a_summary_written_by_another_shard_does_not_call_a_visit_with_changed_photos_done() {
    let emulator = quick();
    let names = ["ann", "bob", "cat", "dan"];
    let folders = Folders::new("shard-changed", &names);
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    // bob's photos replaced; the shard that runs next is not bob's.
    folders.visit("bob", 9);
    let other = (0..2).find(|i| !hautai::bulk::Shard::new(*i, 2).unwrap().contains("bob")).unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &["--shard", &format!("{other}/2")]);
    assert_eq!(code, 0, "{stderr}");
    let summary = folders.summary();
    let bob = summary.iter().find(|(visit, _, _)| visit == "bob").unwrap();
    assert!(bob.2.starts_with("failed") && bob.2.contains("photos changed"), "{summary:?}");
    let index = std::fs::read_to_string(folders.output().join("index.html")).unwrap();
    assert!(!index.contains("visits/bob/report.html"), "no link to the old report");
}

#[test]
fn a_visit_whose_results_were_deleted_gets_them_back_without_paying_again() {
    let emulator = quick();
    let folders = Folders::new("deleted", &["ann", "bob"]);
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_dir_all(folders.output().join("visits/ann")).unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(folders.output().join("visits/ann/results.json").is_file(), "{stderr}");
    assert_eq!(computes(&emulator), 2, "fetched again, not computed again");
    assert!(folders.summary().iter().all(|(_, _, status)| status == "done"), "{:?}", folders.summary());
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_anything_is_paid_for() {
    let emulator = quick();
    let folders = Folders::new("unwritable", &["ann"]);
    std::fs::create_dir_all(folders.output()).unwrap();
    std::fs::write(folders.output().join("visits"), b"a file where the visits go").unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("cannot write into {}", folders.output().join("visits").display())), "{stderr}");
    assert_eq!(computes(&emulator), 0);
    assert!(emulator.batch_ids().is_empty(), "nothing created");
}

#[test]
fn a_done_visit_whose_photo_is_now_unusable_or_whose_results_are_broken_is_not_called_done() {
    let emulator = quick();
    let folders = Folders::new("unusable-later", &["ann", "bob", "cat"]);
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 0, "{stderr}");
    // ann: a folder where her front photo was. bob: an empty results.json. cat's output
    // folder replaced by a file (a new visit there would be paid for, then fail to save).
    let front = folders.input().join("ann/front.png");
    std::fs::remove_file(&front).unwrap();
    std::fs::create_dir(&front).unwrap();
    std::fs::write(folders.output().join("visits/bob/results.json"), b"").unwrap();
    std::fs::remove_dir_all(folders.output().join("visits/cat")).unwrap();
    std::fs::write(folders.output().join("visits/cat"), b"in the way").unwrap();
    let (code, stderr) = analyze(&emulator, &folders, &[]);
    assert_eq!(code, 1, "{stderr}");
    let summary = folders.summary();
    let status = |visit: &str| summary.iter().find(|(v, _, _)| v == visit).unwrap().2.clone();
    assert!(status("ann").starts_with("failed") && status("ann").contains("is a folder"), "{summary:?}");
    assert_eq!(status("bob"), "done", "its results fetched again: {stderr}");
    assert!(status("cat").contains("is not a folder"), "{summary:?}");
    let index = std::fs::read_to_string(folders.output().join("index.html")).unwrap();
    assert!(!index.contains("visits/ann/report.html"), "no link to a visit that is not done");
    assert_eq!(computes(&emulator), 3, "nothing computed again");
}
