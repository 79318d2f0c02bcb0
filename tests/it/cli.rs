//! The `hautai` command as people run it: each subcommand as a process, against the
//! emulator (its own with `--emulator`, or one of the test's addressed as the service).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::files::TempDir;
use crate::common::*;
use hautai::Side;
use hautai::emulator::Emulator;

/// `hautai args...` with no Haut.ai settings in its environment.
pub(crate) fn hautai(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hautai"));
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for var in
        ["HAUTAI_TOKEN", "HAUTAI_COMPANY_ID", "HAUTAI_SUBJECT_ID", "HAUTAI_BASE_URL", "HAUTAI_EMAIL", "HAUTAI_PASSWORD"]
    {
        command.env_remove(var);
    }
    command.env("NO_COLOR", "1");
    command
}

/// `hautai args...` against `emulator` as if it were the service.
pub(crate) fn against(emulator: &Emulator, args: &[&str]) -> Command {
    let mut command = hautai(args);
    command
        .env("HAUTAI_TOKEN", emulator.token())
        .env("HAUTAI_COMPANY_ID", emulator.company_id().to_string())
        .env("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string())
        .env("HAUTAI_BASE_URL", emulator.base_url());
    command
}

/// Runs `command` to its end: exit code, stdout, stderr.
pub(crate) fn run(command: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = command.output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (status.code().unwrap_or(-1), text(stdout), text(stderr))
}

/// Three photos in `dir`.
pub(crate) fn photos(dir: &TempDir) -> Vec<String> {
    Side::ALL
        .into_iter()
        .map(|side| {
            dir.file(&format!("{side}.png"), &hautai::emulator::sample_photo(side, 170, 200)).display().to_string()
        })
        .collect()
}

#[test]
fn help_version_and_bad_arguments_are_what_people_know() {
    let (code, out, _) = run(&mut hautai(&["--help"]));
    assert_eq!(code, 0);
    for command in ["analyze", "folder", "setup", "emulator", "batches", "history", "completions", "--emulator"] {
        assert!(out.contains(command), "{command} in the help: {out}");
    }
    let (code, out, _) = run(&mut hautai(&["folder", "--help"]));
    assert!(code == 0 && out.contains("--no-assets") && out.contains("--retry-failed"), "{out}");
    let (code, out, _) = run(&mut hautai(&["--version"]));
    assert_eq!((code, out.trim()), (0, format!("hautai {}", env!("CARGO_PKG_VERSION")).as_str()));
    for bad in [&["folder", "--concurrency", "0", "a", "b"][..], &["analyze", "a", "b"], &["frobnicate"], &[]] {
        let (code, _, err) = run(&mut hautai(bad));
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains("Usage:") || err.contains("error:"), "{bad:?}: {err}");
    }
}

#[test]
fn without_a_token_or_emulator_every_command_says_how_to_set_one_and_sends_nothing() {
    for args in [&["analyze", "a.jpg", "b.jpg", "c.jpg"][..], &["folder", "in", "out"], &["batches"], &["history"]] {
        let (code, out, err) = run(&mut hautai(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("HAUTAI_TOKEN is not set") && err.contains("--emulator"), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
    let (code, _, err) = run(&mut hautai(&["setup"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HAUTAI_EMAIL") && err.contains("--emulator"), "{err}");
}

#[test]
fn analyze_prints_a_table_or_json_and_saves_a_visit_and_says_when_values_are_invented() {
    let dir = TempDir::new("cli-analyze");
    let (code, out, err) = run(&mut hautai(&["--emulator", "analyze"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("VALUES INVENTED BY THE OFFLINE EMULATOR") && out.contains("parameter"), "{out}");
    assert!(err.contains("every value is invented"), "{err}");
    for line in ["photos checked", "batch created", "photos uploaded; computing", "results ready"] {
        assert!(err.contains(line), "{line}: {err}");
    }
    for side in ["front", "left", "right"] {
        assert!(
            err.contains(&format!("{side:5} 100% uploaded")) && err.contains(&format!("{side:5}  50% uploaded")),
            "{err}"
        );
    }
    let row = out.lines().find(|l| l.starts_with("skin_type ")).unwrap();
    assert!(row.split_whitespace().nth(2) == Some("-"), "a category has no score: {row}");

    let emulator = emulator();
    let photos = photos(&dir);
    let save = dir.path().join("anna");
    let mut args = vec!["analyze", "--json", "--save", save.to_str().unwrap(), "--no-assets"];
    args.extend(photos.iter().map(String::as_str));
    let (code, out, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 0, "{err}");
    let results: hautai::BatchResults = serde_json::from_str(&out).expect("--json prints the results");
    assert!(results.from_emulator() && results.is_complete());
    let report = std::fs::read_to_string(save.join("report.html")).unwrap();
    assert!(
        report.contains("<h1>anna</h1>") && report.contains("The pictures were not saved"),
        "the visit is named after DIR"
    );
    assert!(!save.join("assets").exists());
    assert_eq!(emulator.compute_calls(results.batch_id()), 1);

    let (code, _, err) = run(&mut against(&emulator, &["folder"]));
    assert_eq!(code, 2, "the service never gets made-up visits: {err}");
    assert!(err.contains("give IN_DIR and OUT_DIR"), "{err}");
    let (code, _, err) = run(&mut against(&emulator, &["analyze"]));
    assert_eq!(code, 2, "the service never gets made-up photos: {err}");
    assert!(err.contains("give the photos to analyse"), "{err}");
    let (code, _, err) =
        run(&mut against(&emulator, &["analyze", "--save", &photos[0], &photos[0], &photos[1], &photos[2]]));
    assert_eq!(code, 2, "a file is no folder to save into: {err}");
    let (code, _, err) = run(&mut against(&emulator, &["analyze", "nowhere.jpg", &photos[1], &photos[2]]));
    assert_eq!(code, 2, "a photo that is not there is the caller's to fix: {err}");
    assert!(err.contains("nowhere.jpg"), "{err}");
}

#[test]
fn folder_runs_show_plain_progress_off_a_terminal_and_a_rerun_reports_no_made_up_rate() {
    let dir = TempDir::new("cli-folder");
    let input = dir.path().join("in");
    for (n, visit) in ["v1", "v2"].into_iter().enumerate() {
        for side in Side::ALL {
            std::fs::create_dir_all(input.join(visit)).unwrap();
            std::fs::write(
                input.join(visit).join(format!("{side}.png")),
                hautai::emulator::sample_photo(side, 150 + n as u32, 180),
            )
            .unwrap();
        }
    }
    let output = dir.path().join("out");
    let (input, output) = (input.to_str().unwrap(), output.to_str().unwrap());
    let emulator = emulator();
    let (code, _, err) =
        run(&mut against(&emulator, &["folder", input, output, "--no-assets", "--columns", "redness"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 to analyse, 0 done earlier") && err.contains("[done 2, failed 0, left 0]"), "{err}");
    assert!(err.contains("[done 1, failed 0, left 1]") && err.contains("done v1 (batch "), "{err}");
    assert!(!Path::new(output).join("visits/v1/assets").exists(), "--no-assets saves no pictures");
    let index = std::fs::read_to_string(Path::new(output).join("index.html")).unwrap();
    assert!(index.contains("<th>redness</th>") && index.contains("Values invented"), "{index}");
    let (code, _, err) = run(&mut against(&emulator, &["folder", input, output, "--no-assets"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 to analyse, 2 done earlier") && !err.contains("/min"), "no rate without work: {err}");
    assert!(err.contains("skipped v1 (done in an earlier run)"), "{err}");
    // Asking for the pictures later fetches them (the rate is of that work).
    let (code, _, err) = run(&mut against(&emulator, &["folder", input, output]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fetching them again") && Path::new(output).join("visits/v1/assets").is_dir(), "{err}");
    let (code, _, err) = run(&mut hautai(&["--emulator", "folder", input, output]));
    assert_eq!(code, 2, "a folder of another service is refused: {err}");
}

#[test]
fn setup_batches_and_history_run_against_the_service_they_are_pointed_at() {
    let (code, out, err) = run(&mut hautai(&["--emulator", "setup", "--private-token", "ci", "--days", "30"]));
    assert_eq!(code, 0, "{err}");
    let exports: Vec<&str> = out.lines().filter(|l| l.starts_with("export HAUTAI_")).collect();
    assert_eq!(exports.len(), 4, "{out}");
    assert!(out.ends_with("# the emulator stopped with this command: these values only show the shape\n"), "{out}");
    let (code, _, err) = run(&mut hautai(&["setup", "--days", "0", "--private-token", "x"]));
    assert_eq!(code, 2, "{err}");

    let (code, out, err) = run(&mut hautai(&["--emulator", "batches", "--page-size", "3"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1 + 7, "a header and the seven seeded batches: {out}");
    assert!(err.contains("7 batches"), "{err}");
    let (code, out, err) = run(&mut hautai(&["--emulator", "history", "--columns", "skin_type"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("VALUES INVENTED") && out.contains(" years"), "ages in years: {out}");
    assert!(!out.contains("/100"), "a category is its grade, with no score: {out}");
    assert_eq!(out.lines().count(), 2 + 3, "banner, header, three analyses: {out}");
}

#[test]
fn the_emulator_command_serves_until_stopped_and_prints_how_to_reach_it() {
    let mut child = hautai(&["emulator"]).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut exports = std::collections::HashMap::new();
    for _ in 0..4 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let (key, value) = line.trim().trim_start_matches("export ").split_once('=').unwrap();
        exports.insert(key.to_owned(), value.trim_matches('\'').to_owned());
    }
    let session = hautai::SessionBuilder::new(&exports["HAUTAI_TOKEN"], exports["HAUTAI_COMPANY_ID"].parse().unwrap())
        .base_url(&exports["HAUTAI_BASE_URL"])
        .build()
        .unwrap();
    let page = session.list_batches(&hautai::model::BatchQuery::new());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(page.unwrap().count, 0, "a fresh emulator answers");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = run(&mut hautai(&["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains("hautai") && out.contains("folder") && out.len() > 500, "{shell}: {out}");
    }
    let (code, _, _) = run(&mut hautai(&["completions", "tcsh"]));
    assert_eq!(code, 2);
}

#[test]
fn analyze_never_saves_over_a_folder_of_other_files() {
    let dir = TempDir::new("cli-save-over");
    let photos = photos(&dir);
    let clinic = dir.path().join("clinic");
    std::fs::create_dir_all(clinic.join("assets")).unwrap();
    std::fs::write(clinic.join("assets/logo.png"), b"the clinic's logo").unwrap();
    std::fs::write(clinic.join("report.html"), b"the clinic's own page").unwrap();
    let emulator = emulator();
    let mut args = vec!["analyze", "--save", clinic.to_str().unwrap()];
    args.extend(photos.iter().map(String::as_str));
    let (code, _, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an earlier save"), "{err}");
    assert!(clinic.join("assets/logo.png").is_file() && clinic.join("report.html").is_file(), "nothing removed");
    assert!(emulator.requests().is_empty(), "refused before anything was sent");
    // Nor over another analysis: a second analysis into one folder is refused, naming the
    // batch there; that batch saved again replaces its own save.
    let save = dir.path().join("anna");
    let mut args = vec!["analyze", "--no-assets", "--save", save.to_str().unwrap()];
    args.extend(photos.iter().map(String::as_str));
    let (code, out, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 0, "{err}");
    let batch = out.lines().next().unwrap().trim_start_matches("batch ").to_owned();
    let (code, _, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("holds the results of batch {batch}")), "{err}");
    let (code, _, err) =
        run(&mut against(&emulator, &["analyze", "--batch", &batch, "--save", save.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(save.join("assets").is_dir(), "saved again, whole, with its pictures now");
}

#[test]
fn visits_that_cannot_be_analysed_are_not_counted_as_work_done() {
    let dir = TempDir::new("cli-unusable");
    let input = dir.path().join("in");
    for visit in ["a", "b", "c"] {
        std::fs::create_dir_all(input.join(visit).join("front.png")).unwrap(); // a folder, not a photo
    }
    let output = dir.path().join("out");
    let emulator = emulator();
    let (code, _, err) = run(&mut against(&emulator, &["folder", input.to_str().unwrap(), output.to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("0 to analyse, 0 done earlier, 3 unusable"), "{err}");
    std::fs::write(input.join("notes.txt"), b"x").unwrap();
    let (_, _, err) = run(&mut against(&emulator, &["folder", input.to_str().unwrap(), output.to_str().unwrap()]));
    assert!(err.contains("skipped notes.txt (not a visit folder)"), "{err}");
    assert!(err.contains("failed a: front.png is a folder") && !err.contains("/min"), "no rate without work: {err}");
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly_and_bad_deadlines_are_usage_errors() {
    let mut child = hautai(&["--emulator", "batches", "--page-size", "1"]).spawn().unwrap();
    drop(child.stdout.take()); // `hautai batches | head -0`
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("cannot write"), "{err}");
    for bad in ["0", "-1", "nan", "soon"] {
        let (code, _, err) = run(&mut hautai(&["--emulator", "analyze", &format!("--deadline={bad}")]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("invalid value") && err.contains("--deadline"), "{bad}: {err}");
    }
}
