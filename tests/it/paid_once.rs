//! Paid once, never mixed, never lost: the nine ways an outside review found to pay twice,
//! to show one patient's results under another's name, or to lose good results, each next
//! to a case fixed before (issue 25). Each test is the reviewer's steps, against the
//! emulator; `simulation` searches for the next one.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::common::files::TempDir;
use crate::common::*;
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Maturity, Route};
use hautai::error::ErrorKind;
use hautai::folder::{FolderRun, FolderSummary, SaveOptions};
use hautai::{Session, Side, Uuid};

/// An input folder of visits, an output folder, an emulator as the service and a session on it.
struct Clinic {
    dir: TempDir,
    emulator: Emulator,
    session: Session,
}

impl Clinic {
    fn new(name: &str) -> Clinic {
        let emulator = emulator();
        let session = fast_session(&emulator);
        Clinic { dir: TempDir::new(&format!("paid-once-{name}")), emulator, session }
    }

    fn input(&self) -> PathBuf {
        self.dir.path().join("in")
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Writes the visit `name`'s three photos (different for each `n`) into `folder`.
    fn photos_in(folder: &Path, n: u32) {
        std::fs::create_dir_all(folder).unwrap();
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 140 + n, 170);
            std::fs::write(folder.join(format!("{side}.png")), photo).unwrap();
        }
    }

    /// Writes the visit `name` (photos `n`) into the input.
    fn visit(&self, name: &str, n: u32) -> PathBuf {
        let folder = self.input().join(name);
        Clinic::photos_in(&folder, n);
        folder
    }

    /// A folder run with `save`, telling what it hears in `heard`.
    fn run_with(&self, save: SaveOptions, retry_failed: bool, heard: &Mutex<Vec<String>>) -> FolderSummary {
        FolderRun::new(&self.session, self.input(), self.output())
            .save(save)
            .retry_failed(retry_failed)
            .run(|event| heard.lock().unwrap().push(format!("{event:?}")))
            .unwrap()
    }

    fn run(&self) -> FolderSummary {
        self.run_with(SaveOptions::new().assets(false), false, &Mutex::default())
    }

    /// Computes the service took, over every batch, those it forgot since included.
    fn computes(&self) -> usize {
        self.emulator.requests().iter().filter(|r| r.route == Route::Compute && r.status < 300).count()
    }

    fn visit_dir(&self, visit: &str) -> PathBuf {
        self.output().join("visits").join(visit)
    }

    /// The batch of the results saved in `visit`'s folder.
    fn saved_batch(&self, visit: &str) -> Option<Uuid> {
        let bytes = std::fs::read(self.visit_dir(visit).join("results.json")).ok()?;
        Some(serde_json::from_slice::<hautai::BatchResults>(&bytes).ok()?.batch_id())
    }

    /// `summary.csv`'s row of `visit`: (batch id, status).
    fn row(&self, visit: &str) -> (String, String) {
        let text = std::fs::read_to_string(self.output().join("summary.csv")).unwrap();
        let cells = |line: &str| line.split(',').map(|c| c.trim_matches('"').to_owned()).collect::<Vec<_>>();
        let line = text.lines().map(cells).find(|c| c[0] == visit).unwrap_or_else(|| panic!("{visit}: {text}"));
        (line[2].clone(), line[1].clone())
    }

    /// What `OUT/superseded` holds: each entry's name.
    fn superseded(&self) -> Vec<String> {
        let entries = std::fs::read_dir(self.output().join("superseded")).into_iter().flatten().flatten();
        entries.map(|e| e.file_name().to_string_lossy().into_owned()).collect()
    }
}

#[test]
fn a_paid_batch_the_service_forgot_is_never_paid_again_unless_asked() {
    let clinic = Clinic::new("forgot");
    clinic.visit("v", 1);
    assert_eq!(clinic.run().done, 1);
    // Retention, or a deletion request: the service no longer knows the batch.
    clinic.emulator.forget_batches();
    std::fs::remove_file(clinic.visit_dir("v").join("results.json")).unwrap();
    let heard = Mutex::default();
    let summary = clinic.run_with(SaveOptions::new().assets(false), false, &heard);
    assert_eq!(clinic.computes(), 1, "not paid again: {summary:?} {heard:?}");
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    let reason = &summary.failed[0].reason;
    assert!(reason.contains("--retry-failed") && reason.contains("pay"), "with the advice: {reason}");
    // Only when asked.
    let summary = clinic.run_with(SaveOptions::new().assets(false), true, &heard);
    assert_eq!((summary.done, clinic.computes()), (1, 2), "{summary:?}");
}

#[test]
fn a_renamed_visit_takes_its_batch_over_and_says_so_instead_of_paying_again() {
    // (A visit renamed within its patient's folder: its analysis is that patient's.)
    let clinic = Clinic::new("renamed");
    clinic.visit("anna/visit-3", 3);
    // A visit that cannot be used (two front photos) is there too, and no part of this.
    let unusable = clinic.visit("anna/visit-4", 4);
    std::fs::copy(unusable.join("front.png"), unusable.join("front (1).png")).unwrap();
    assert_eq!(clinic.run().done, 1);
    let batch = clinic.saved_batch("anna/visit-3").unwrap();
    std::fs::rename(clinic.input().join("anna/visit-3"), clinic.input().join("anna/visit-3-b")).unwrap();
    let heard = Mutex::default();
    let summary = clinic.run_with(SaveOptions::new().assets(false), false, &heard);
    assert_eq!(clinic.computes(), 1, "not paid again: {summary:?}");
    assert_eq!(summary.done, 1, "{summary:?}");
    assert!(summary.failed.iter().all(|failure| failure.key == "anna/visit-4"), "{summary:?}");
    assert_eq!(clinic.saved_batch("anna/visit-3-b"), Some(batch));
    assert_eq!(clinic.row("anna/visit-3-b"), (batch.to_string(), "done".to_owned()));
    let heard = heard.into_inner().unwrap();
    assert!(heard.iter().any(|e| e.contains("anna/visit-3-b") && e.contains("\"anna/visit-3\"")), "said so: {heard:?}");
}

#[test]
fn a_visit_renamed_to_another_patient_never_takes_the_first_patients_analysis() {
    let clinic = Clinic::new("renamed-patient");
    clinic.visit("anna", 3);
    assert_eq!(clinic.run().done, 1);
    std::fs::rename(clinic.input().join("anna"), clinic.input().join("bob")).unwrap();
    let summary = clinic.run();
    assert_eq!((summary.done, clinic.computes()), (0, 1), "neither taken over nor paid again: {summary:?}");
    assert!(summary.failed[0].reason.contains("another patient's visit"), "{summary:?}");
    assert!(clinic.saved_batch("bob").is_none(), "never anna's analysis under bob's name");
    let heard = Mutex::default();
    let summary = clinic.run_with(SaveOptions::new().assets(false), true, &heard);
    assert_eq!((summary.done, clinic.computes()), (1, 2), "asked: analysed for bob's subject: {summary:?}");
}

#[test]
fn a_visit_copied_under_a_second_name_fails_the_copy_naming_the_first_and_pays_nothing() {
    let clinic = Clinic::new("copied");
    clinic.visit("anna", 1);
    assert_eq!(clinic.run().done, 1);
    clinic.visit("anna-copy", 1);
    let summary = clinic.run();
    assert_eq!((summary.done_earlier, summary.failed.len(), clinic.computes()), (1, 1, 1), "{summary:?}");
    let failure = &summary.failed[0];
    assert!(failure.key == "anna-copy" && failure.reason.contains("are those of anna too"), "{failure}");
    assert!(matches!(failure.error.kind(), ErrorKind::Refused(_)), "a person must decide: {:?}", failure.error);
    assert!(clinic.saved_batch("anna-copy").is_none(), "never anna's analysis under another name");
}

#[test]
fn a_name_renamed_away_and_back_is_the_batchs_again_and_a_new_visit_may_take_the_other_name() {
    let clinic = Clinic::new("renamed-back");
    clinic.visit("p/v", 1);
    assert_eq!(clinic.run().done, 1);
    let batch = clinic.saved_batch("p/v").unwrap();
    std::fs::rename(clinic.input().join("p/v"), clinic.input().join("p/w")).unwrap();
    assert_eq!(clinic.run().done, 1, "w takes the batch over");
    std::fs::rename(clinic.input().join("p/w"), clinic.input().join("p/v")).unwrap();
    let summary = clinic.run();
    assert_eq!((summary.done + summary.done_earlier, summary.failed.len()), (1, 0), "{summary:?}");
    assert_eq!(clinic.saved_batch("p/v"), Some(batch));
    // A new visit named w, other photos: a visit of its own, analysed (it is not w's
    // batch any more, so nothing about it "changed").
    clinic.visit("p/w", 2);
    let summary = clinic.run();
    assert_eq!((summary.done, summary.failed.len(), clinic.computes()), (1, 0, 2), "{summary:?}");
    assert_ne!(clinic.saved_batch("p/w"), Some(batch));
}

#[test]
fn output_folders_swapped_by_hand_never_show_one_visits_results_under_the_others_name() {
    let clinic = Clinic::new("swapped-outputs");
    clinic.visit("anna", 1);
    clinic.visit("bob", 2);
    assert_eq!(clinic.run().done, 2);
    let (anna, bob) = (clinic.saved_batch("anna").unwrap(), clinic.saved_batch("bob").unwrap());
    let visits = clinic.output().join("visits");
    std::fs::rename(visits.join("anna"), visits.join("tmp")).unwrap();
    std::fs::rename(visits.join("bob"), visits.join("anna")).unwrap();
    std::fs::rename(visits.join("tmp"), visits.join("bob")).unwrap();
    let summary = clinic.run();
    assert_eq!(clinic.computes(), 2, "fetched by id, never paid again: {summary:?}");
    for (visit, batch) in [("anna", anna), ("bob", bob)] {
        assert_eq!(clinic.saved_batch(visit), Some(batch), "{visit}'s folder holds {visit}'s results: {summary:?}");
        assert_eq!(clinic.row(visit), (batch.to_string(), "done".to_owned()));
    }
    let aside = clinic.superseded();
    assert_eq!(aside.len(), 2, "the strangers are kept apart: {aside:?}");
    for entry in aside {
        let why = std::fs::read_to_string(clinic.output().join("superseded").join(&entry).join("why.txt")).unwrap();
        assert!(why.contains("not this visit's"), "{entry}: {why}");
    }
}

/// Every `href` of `OUT/index.html` that points into the output folder.
fn index_links(output: &Path) -> Vec<String> {
    let index = std::fs::read_to_string(output.join("index.html")).unwrap();
    index.match_indices("href=\"").map(|(at, _)| index[at + 6..].split('"').next().unwrap().to_owned()).collect()
}

#[test]
fn a_rerun_that_only_adds_pictures_keeps_the_earlier_save_when_the_downloads_fail() {
    let clinic = Clinic::new("adds-pictures");
    clinic.visit("v", 1);
    assert_eq!(clinic.run().done, 1);
    let before = std::fs::read(clinic.visit_dir("v").join("results.json")).unwrap();
    let report = std::fs::read(clinic.visit_dir("v").join("report.html")).unwrap();
    clinic.emulator.fail_every(Route::Asset, 1, Fault::status(403));
    let summary = clinic.run_with(SaveOptions::new(), false, &Mutex::default());
    assert_eq!(summary.failed.len(), 1, "the pictures could not be saved: {summary:?}");
    assert!(summary.failed[0].reason.contains("kept"), "the failure says the earlier save was kept: {summary:?}");
    assert_eq!(std::fs::read(clinic.visit_dir("v").join("results.json")).unwrap(), before);
    assert_eq!(std::fs::read(clinic.visit_dir("v").join("report.html")).unwrap(), report);
    assert!(!clinic.visit_dir("v").join("assets").exists(), "nothing of the failed save");
    for link in index_links(&clinic.output()) {
        let path = clinic.output().join(link.replace("%2F", "/"));
        assert!(path.is_file(), "the index links only what is there: {link}");
    }
    assert_eq!(clinic.computes(), 1);
}

#[test]
fn a_share_that_is_away_fails_its_visits_and_leaves_their_results_where_they_are() {
    let clinic = Clinic::new("share-away");
    // The photos live on a share: `in/a` is a link to its folder, `in/b` holds links to its files.
    let share = clinic.dir.path().join("share");
    Clinic::photos_in(&share.join("a"), 1);
    Clinic::photos_in(&share.join("b"), 2);
    std::fs::create_dir_all(clinic.input().join("b")).unwrap();
    std::os::unix::fs::symlink(share.join("a"), clinic.input().join("a")).unwrap();
    for side in Side::ALL {
        let name = format!("{side}.png");
        std::os::unix::fs::symlink(share.join("b").join(&name), clinic.input().join("b").join(&name)).unwrap();
    }
    assert_eq!(clinic.run().done, 2);
    let saved = |visit: &str| std::fs::read(clinic.visit_dir(visit).join("results.json")).ok();
    let before = (saved("a"), saved("b"));
    // The share is unmounted: every link is broken.
    let away = clinic.dir.path().join("share-away");
    std::fs::rename(&share, &away).unwrap();
    let summary = clinic.run();
    assert_eq!(summary.failed.len(), 2, "{summary:?}");
    assert_eq!((saved("a"), saved("b")), before, "the good results stay where they are: {summary:?}");
    assert!(clinic.superseded().is_empty(), "nothing set aside: {:?}", clinic.superseded());
    for failure in &summary.failed {
        let reason = &failure.reason;
        assert!(reason.contains("cannot read") || reason.contains("broken link"), "{reason}");
    }
    // Back again: done earlier, nothing sent, and the summary says so.
    std::fs::rename(&away, &share).unwrap();
    let summary = clinic.run();
    assert_eq!((summary.done_earlier, summary.failed.len(), clinic.computes()), (2, 0, 2), "{summary:?}");
    for visit in ["a", "b"] {
        assert_eq!(clinic.row(visit).1, "done", "the failure of the run before is over");
    }
}

#[test]
fn a_long_visit_name_is_set_aside_under_a_bounded_name_never_deleted() {
    let clinic = Clinic::new("long-name");
    let name = format!("patient-{}", "x".repeat(212)); // 220 bytes, a legal folder name
    clinic.visit(&name, 1);
    assert_eq!(clinic.run().done, 1);
    let before = std::fs::read(clinic.visit_dir(&name).join("results.json")).unwrap();
    clinic.visit(&name, 2); // retaken photos: the earlier results are no longer this visit's
    let summary = clinic.run();
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    let aside = clinic.superseded();
    assert_eq!(aside.len(), 1, "kept, not deleted: {summary:?}");
    assert!(aside[0].len() <= 255, "{}", aside[0].len());
    let kept = clinic.output().join("superseded").join(&aside[0]).join("results.json");
    assert_eq!(std::fs::read(kept).unwrap(), before);
}

#[test]
fn one_name_spelled_nfc_and_nfd_is_one_clash_never_two_bills() {
    let clinic = Clinic::new("nfc-nfd");
    clinic.visit("Jos\u{e9}", 1);
    clinic.visit("Jose\u{301}", 2);
    let summary = clinic.run();
    assert_eq!(clinic.computes(), 0, "{summary:?}");
    assert_eq!(summary.failed.len(), 2, "{summary:?}");
    assert!(summary.failed.iter().all(|failure| failure.reason.contains("rename")), "{summary:?}");
}

/// `hautai args...` against `emulator` as if it were the service.
fn hautai(emulator: &Emulator, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hautai"))
        .args(args)
        .env("HAUTAI_TOKEN", emulator.token())
        .env("HAUTAI_COMPANY_ID", emulator.company_id().to_string())
        .env("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string())
        .env("HAUTAI_BASE_URL", emulator.base_url())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

/// Three photos in `dir`, as arguments.
fn photo_args(dir: &Path) -> Vec<String> {
    Clinic::photos_in(&dir.join("photos"), 9);
    Side::ALL.map(|side| dir.join("photos").join(format!("{side}.png")).display().to_string()).to_vec()
}

#[test]
fn analyze_checks_its_save_folder_before_paying_and_prints_what_it_paid_for_when_saving_fails() {
    let clinic = Clinic::new("analyze-save");
    let photos = photo_args(clinic.dir.path());
    // A folder that cannot be made: its parent is a link to nowhere.
    std::os::unix::fs::symlink(clinic.dir.path().join("nowhere"), clinic.dir.path().join("gone")).unwrap();
    let unwritable = clinic.dir.path().join("gone/anna");
    let mut args = vec!["analyze", "--save", unwritable.to_str().unwrap()];
    args.extend(photos.iter().map(String::as_str));
    let (code, out, err) = hautai(&clinic.emulator, &args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("anna") && out.is_empty(), "{err}");
    assert!(clinic.emulator.batch_ids().is_empty(), "nothing created: {err}");
    // The save fails after the batch is paid for: the results are printed all the same,
    // and the batch is named.
    clinic.emulator.fail_every(Route::Asset, 1, Fault::status(403));
    let save = clinic.dir.path().join("anna");
    args[2] = save.to_str().unwrap();
    let (code, out, err) = hautai(&clinic.emulator, &args);
    assert_eq!(code, 1, "{err}");
    let batch = clinic.emulator.batch_ids()[0];
    assert!(out.contains(&format!("batch {batch}")) && out.contains("redness"), "the results: {out}");
    assert!(err.contains(&batch.to_string()), "the batch: {err}");
}

#[test]
fn analyze_past_its_deadline_names_the_command_that_fetches_the_batch_without_paying() {
    let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::After(Duration::from_millis(100))));
    let dir = TempDir::new("paid-once-deadline");
    let photos = photo_args(dir.path());
    emulator.never_complete(true);
    let mut args = vec!["analyze", "--deadline", "1"];
    args.extend(photos.iter().map(String::as_str));
    let (code, _, err) = hautai(&emulator, &args);
    assert_eq!(code, 1, "{err}");
    let batch = emulator.batch_ids()[0];
    assert!(!err.contains("wait_for_results"), "a library function is no advice for a command: {err}");
    let fetch = format!("hautai analyze --batch {batch}");
    assert!(err.contains(&fetch), "{err}");
    emulator.complete_all();
    let (code, out, err) = hautai(&emulator, &["analyze", "--batch", &batch.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("batch {batch}")) && out.contains("redness"), "{out}");
    assert_eq!(emulator.compute_calls(batch), 1, "fetched, not paid again");
}

// Found while writing the simulation's invariants (each failed on the version before).

#[test]
fn a_visit_a_stopped_run_never_reached_is_not_called_done_when_its_photos_changed() {
    let clinic = Clinic::new("stopped-unreached");
    clinic.visit("anna", 1);
    clinic.visit("bob", 2);
    assert_eq!(clinic.run().done, 2);
    clinic.visit("bob", 3); // retaken
    let stop = std::sync::atomic::AtomicBool::new(true);
    let summary =
        FolderRun::new(&clinic.session, clinic.input(), clinic.output()).stop_when(&stop).run(|_| {}).unwrap();
    assert!(summary.interrupted, "{summary:?}");
    let (_, status) = clinic.row("bob");
    assert!(status.starts_with("failed") && status.contains("photos changed"), "{status}");
    assert_eq!(clinic.row("anna").1, "done");
}

#[test]
fn a_summary_that_cannot_be_written_whole_is_removed_rather_than_left_out_of_date() {
    let clinic = Clinic::new("stale-summary");
    clinic.visit("anna", 1);
    assert_eq!(clinic.run().done, 1);
    // The index cannot be replaced (a folder in its place); anna's photos are retaken, so
    // the summary written before (anna done) is no longer true.
    std::fs::remove_file(clinic.output().join("index.html")).unwrap();
    std::fs::create_dir_all(clinic.output().join("index.html/in-the-way")).unwrap();
    clinic.visit("anna", 2);
    let summary = clinic.run();
    let reports = summary.reports.unwrap_err();
    let (text, io) = (reports.to_string(), reports.io_error().map(std::io::Error::kind));
    assert!(text.contains("cannot write") && text.contains("index.html") && text.contains("removed"), "{text}");
    assert!(matches!(reports.kind(), ErrorKind::Io { .. }) && io.is_some(), "the cause is kept: {reports:?}");
    assert!(!clinic.output().join("summary.csv").exists(), "no summary that says anna is done");
}

// Found by a hostile review of this change (each failed on the version it reviewed).

#[test]
fn one_404_is_asked_again_on_the_next_run_never_taken_for_good() {
    let clinic = Clinic::new("one-404");
    clinic.visit("v", 1);
    // Cut off by its deadline while computing; ready later.
    clinic.emulator.never_complete(true);
    let slow = fast(clinic.emulator.session_builder()).deadline(Duration::from_millis(300)).build().unwrap();
    let run = |session: &Session| FolderRun::new(session, clinic.input(), clinic.output()).run(|_| {}).unwrap();
    assert_eq!(run(&slow).failed.len(), 1);
    clinic.emulator.complete_all();
    // A single 404 (a glitch): the visit fails this time, saying so.
    clinic.emulator.fail_next(Route::Results, 1, Fault::status(404));
    let summary = clinic.run();
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    // The next run asks again, and the batch is there: done, never paid again.
    let summary = clinic.run();
    assert_eq!((summary.done, summary.failed.len(), clinic.computes()), (1, 0, 1), "{summary:?}");
}

#[test]
fn pictures_that_cannot_be_fetched_any_more_leave_the_saved_results_done() {
    let clinic = Clinic::new("extras-gone");
    clinic.visit("v", 1);
    assert_eq!(clinic.run().done, 1, "saved without pictures");
    let before = std::fs::read(clinic.visit_dir("v").join("results.json")).unwrap();
    clinic.emulator.forget_batches();
    // Asking for the pictures now: they cannot be had, and the analysis stays done.
    let summary = clinic.run_with(SaveOptions::new(), false, &Mutex::default());
    assert_eq!(summary.failed.len(), 1, "what was asked is not there: {summary:?}");
    assert!(summary.failed[0].reason.contains("stay as they were"), "{summary:?}");
    assert_eq!(std::fs::read(clinic.visit_dir("v").join("results.json")).unwrap(), before);
    assert_eq!(clinic.row("v").1, "done");
    // Not asking: done earlier, nothing failed, nothing paid.
    let summary = clinic.run();
    assert_eq!((summary.done_earlier, summary.failed.len(), clinic.computes()), (1, 0, 1), "{summary:?}");
}

#[test]
fn a_visit_confirmed_as_another_names_photos_takes_their_analysis_over_instead_of_paying() {
    // (Visits of one patient.) Renamed, and a new visit under the old name, in one step: both are refused until a
    // person confirms; confirmed, the renamed visit takes the batch over, and only the new
    // photos are paid for.
    let clinic = Clinic::new("confirmed");
    clinic.visit("p/visit-3", 3);
    assert_eq!(clinic.run().done, 1);
    std::fs::rename(clinic.input().join("p/visit-3"), clinic.input().join("p/visit-3-anna")).unwrap();
    clinic.visit("p/visit-3", 4);
    let summary = clinic.run();
    assert_eq!((summary.failed.len(), clinic.computes()), (2, 1), "{summary:?}");
    let summary = clinic.run_with(SaveOptions::new().assets(false), true, &Mutex::default());
    assert_eq!((summary.done, summary.failed.len()), (2, 0), "{summary:?}");
    assert_eq!(clinic.computes(), 2, "the new photos only");
    // Input photos swapped on purpose (mislabelled visits), confirmed: nothing paid again.
    let clinic = Clinic::new("confirmed-swap");
    clinic.visit("p/anna", 1);
    clinic.visit("p/bob", 2);
    assert_eq!(clinic.run().done, 2);
    let (anna, bob) = (clinic.saved_batch("p/anna").unwrap(), clinic.saved_batch("p/bob").unwrap());
    std::fs::rename(clinic.input().join("p/anna"), clinic.input().join("p/x")).unwrap();
    std::fs::rename(clinic.input().join("p/bob"), clinic.input().join("p/anna")).unwrap();
    std::fs::rename(clinic.input().join("p/x"), clinic.input().join("p/bob")).unwrap();
    let summary = clinic.run_with(SaveOptions::new().assets(false), true, &Mutex::default());
    assert_eq!((summary.done, clinic.computes()), (2, 2), "{summary:?}");
    assert_eq!((clinic.saved_batch("p/anna"), clinic.saved_batch("p/bob")), (Some(bob), Some(anna)));
}

#[test]
fn a_visits_photos_replaced_by_a_gone_visits_are_confirmed_before_they_are_taken_over() {
    let clinic = Clinic::new("moved");
    clinic.visit("p/old", 1);
    clinic.visit("p/bob", 2);
    assert_eq!(clinic.run().done, 2);
    std::fs::remove_dir_all(clinic.input().join("p/old")).unwrap();
    clinic.visit("p/bob", 1); // old's photos, in bob's folder
    let summary = clinic.run();
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    assert!(summary.failed[0].reason.contains("the photos p/old had"), "{summary:?}");
    assert_eq!(clinic.computes(), 2);
}

#[test]
fn a_visit_name_is_never_one_of_the_runs_own_hidden_folders() {
    let clinic = Clinic::new("hidden-names");
    clinic.visit("anna", 1);
    clinic.visit(".anna.replaced", 2);
    clinic.visit(".anna.saving", 3);
    let heard = Mutex::default();
    let summary = clinic.run_with(SaveOptions::new().assets(false), false, &heard);
    assert_eq!((summary.done, clinic.computes()), (1, 1), "hidden folders are no visits: {summary:?}");
    let heard = heard.into_inner().unwrap();
    assert!(heard.iter().any(|e| e.contains(".anna.replaced (hidden)")), "{heard:?}");
    assert!(clinic.visit_dir("anna").join("results.json").is_file());
}

#[test]
fn a_report_of_another_batch_in_a_visits_folder_is_not_taken_for_its_own() {
    let clinic = Clinic::new("swapped-reports");
    clinic.visit("anna", 1);
    clinic.visit("bob", 2);
    assert_eq!(clinic.run().done, 2);
    let (anna, bob) = (clinic.visit_dir("anna").join("report.html"), clinic.visit_dir("bob").join("report.html"));
    let (a, b) = (std::fs::read(&anna).unwrap(), std::fs::read(&bob).unwrap());
    std::fs::write(&anna, &b).unwrap();
    std::fs::write(&bob, &a).unwrap();
    let summary = clinic.run();
    assert_eq!(summary.failed.len(), 0, "{summary:?}");
    for visit in ["anna", "bob"] {
        let report = std::fs::read_to_string(clinic.visit_dir(visit).join("report.html")).unwrap();
        let batch = clinic.saved_batch(visit).unwrap();
        assert!(report.contains(&format!("<h1>{visit}</h1>")) && report.contains(&batch.to_string()), "{visit}");
    }
    assert_eq!(clinic.superseded().len(), 2, "the swapped reports are kept apart");
}

#[test]
fn results_without_their_journal_are_refused_before_anything_is_sent() {
    let clinic = Clinic::new("no-journal");
    clinic.visit("anna", 1);
    assert_eq!(clinic.run().done, 1);
    // `cp -r OUT/* NEW/` leaves the hidden journal behind.
    std::fs::remove_dir_all(clinic.output().join(".hautai")).unwrap();
    clinic.emulator.clear_requests();
    let refused = FolderRun::new(&clinic.session, clinic.input(), clinic.output()).run(|_| {}).unwrap_err();
    assert!(refused.to_string().contains("no journal"), "{refused}");
    assert!(clinic.emulator.requests().is_empty(), "nothing sent");
}

#[test]
fn photos_that_change_while_they_are_uploaded_are_never_computed() {
    // Uploads at 200 KB/s: a photo of 300 KB takes a second and a half.
    let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::Polls(1)).upload_bandwidth(200_000));
    let session = fast(emulator.session_builder()).deadline(Duration::from_secs(30)).build().unwrap();
    let dir = TempDir::new("paid-once-while-uploading");
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::create_dir_all(input.join("v")).unwrap();
    let front = input.join("v/front.png");
    std::fs::write(&front, crate::common::files::photo(1, 300_000)).unwrap();
    let summary = std::thread::scope(|scope| {
        let running = scope.spawn(|| FolderRun::new(&session, &input, &output).run(|_| {}).unwrap());
        while !emulator.requests().iter().any(|r| r.route == Route::Initiate) {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Still being copied in: its bytes change under the upload.
        std::fs::write(&front, crate::common::files::photo(2, 300_000)).unwrap();
        running.join().unwrap()
    });
    assert_eq!((summary.failed.len(), emulator.computes()), (1, 0), "{summary:?}");
    assert!(summary.failed[0].reason.contains("changed while they were uploaded"), "{summary:?}");
    // Whole now: analysed once, and the ledger's photos are the ones uploaded.
    let summary = FolderRun::new(&session, &input, &output).run(|_| {}).unwrap();
    assert_eq!((summary.done, emulator.computes()), (1, 1), "{summary:?}");
    let summary = FolderRun::new(&session, &input, &output).run(|_| {}).unwrap();
    assert_eq!(summary.done_earlier, 1, "{summary:?}");
}

#[test]
fn analyze_never_saves_over_another_analysis_nor_into_a_folder_it_cannot_name() {
    let clinic = Clinic::new("analyze-over");
    clinic.visit("carl", 1);
    assert_eq!(clinic.run().done, 1);
    let photos = photo_args(clinic.dir.path());
    let carl = clinic.visit_dir("carl");
    let before = std::fs::read(carl.join("results.json")).unwrap();
    let batches = clinic.emulator.batch_ids().len();
    let cwd = clinic.dir.path().join("empty");
    std::fs::create_dir_all(&cwd).unwrap();
    for save in [carl.to_str().unwrap(), ".", "e3/.", "e3/.."] {
        let mut args = vec!["analyze", "--save", save];
        args.extend(photos.iter().map(String::as_str));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_hautai"))
            .args(&args)
            .current_dir(&cwd)
            .env("HAUTAI_TOKEN", clinic.emulator.token())
            .env("HAUTAI_COMPANY_ID", clinic.emulator.company_id().to_string())
            .env("HAUTAI_SUBJECT_ID", clinic.emulator.subject_id().to_string())
            .env("HAUTAI_BASE_URL", clinic.emulator.base_url())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{save}: {err}");
        assert_eq!(clinic.emulator.batch_ids().len(), batches, "{save}: nothing sent");
    }
    assert_eq!(std::fs::read(carl.join("results.json")).unwrap(), before, "carl's results untouched");
    // A save that fails leaves nothing of itself beside its folder.
    clinic.emulator.fail_every(Route::Asset, 1, Fault::status(403));
    let save = clinic.dir.path().join("anna");
    let mut args = vec!["analyze", "--save", save.to_str().unwrap()];
    args.extend(photos.iter().map(String::as_str));
    let (code, _, err) = hautai(&clinic.emulator, &args);
    assert_eq!(code, 1, "{err}");
    let left: Vec<_> = std::fs::read_dir(clinic.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().starts_with(".anna")), "{left:?}");
}
