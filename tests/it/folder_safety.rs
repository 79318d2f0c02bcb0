//! A folder run never leaves one patient's results where another's are looked for, never
//! picks one of two photos for a side, and gives what a rerun asks for.

use std::path::Path;

use crate::common::files::{TempDir, write_visit as visit};
use crate::common::*;
use hautai::Side;
use hautai::folder::{FolderRun, FolderSummary, SaveOptions};

fn run(session: &hautai::Session, input: &Path, output: &Path, save: SaveOptions) -> FolderSummary {
    FolderRun::new(session, input, output).save(save).run(|_| {}).unwrap()
}

#[test]
fn when_a_visits_photos_turn_out_to_be_anothers_its_old_results_are_set_aside_not_left_as_its_own() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("swapped");
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    visit(&input, "anna", 1);
    visit(&input, "bob", 2);
    assert_eq!(run(&session, &input, &output, SaveOptions::new().assets(false)).done, 2);
    // The folders were mislabelled: the photos under "anna" were Bob's, and the other way round.
    std::fs::rename(input.join("anna"), input.join("tmp")).unwrap();
    std::fs::rename(input.join("bob"), input.join("anna")).unwrap();
    std::fs::rename(input.join("tmp"), input.join("bob")).unwrap();
    let summary = run(&session, &input, &output, SaveOptions::new().assets(false));
    assert_eq!(summary.failed.len(), 2, "{summary:?}");
    for hautai::bulk::Failure { key: visit, reason, .. } in &summary.failed {
        let other = if visit == "anna" { "bob" } else { "anna" };
        assert!(reason.contains(&format!("were analysed as {other}")), "a person must say whose they are: {reason}");
    }
    for name in ["anna", "bob"] {
        let folder = output.join("visits").join(name);
        assert!(!folder.join("results.json").exists(), "{name}'s folder holds no results that are not {name}'s");
        assert!(!folder.join("report.html").exists(), "{name}'s folder holds no report headed {name} of other photos");
    }
    let aside: Vec<_> = std::fs::read_dir(output.join("superseded")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(aside.len(), 2, "kept for the record, apart: {aside:?}");
}

#[test]
fn two_photos_for_one_side_fail_the_visit_instead_of_one_being_picked() {
    let dir = TempDir::new("two-fronts");
    let input = dir.path().join("in");
    let folder = visit(&input, "v", 1);
    std::fs::write(folder.join("front (1).png"), hautai::emulator::sample_photo(Side::Front, 99, 180)).unwrap();
    std::fs::write(folder.join("front-notes.txt"), b"not a photo").unwrap();
    let found = hautai::folder::find_visits(&input).unwrap();
    let problem = found.visits[0].sides.as_ref().unwrap_err();
    assert!(problem.contains("front (1).png") && problem.contains("front.png"), "{problem}");
    assert!(found.skipped.iter().any(|s| s.starts_with("v/front-notes.txt")), "{:?}", found.skipped);
}

#[test]
fn a_rerun_that_wants_pictures_or_reports_gets_them_without_computing_again() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("wanted-later");
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    visit(&input, "v", 1);
    assert_eq!(run(&session, &input, &output, SaveOptions::new().assets(false).report(false)).done, 1);
    let summary = run(&session, &input, &output, SaveOptions::new());
    assert_eq!((summary.done, summary.done_earlier), (1, 0), "{summary:?}");
    let saved = output.join("visits/v");
    assert!(saved.join("report.html").is_file() && std::fs::read_dir(saved.join("assets")).unwrap().count() > 0);
    let results: hautai::BatchResults =
        serde_json::from_slice(&std::fs::read(saved.join("results.json")).unwrap()).unwrap();
    assert_eq!(emulator.compute_calls(results.batch_id()), 1, "fetched again, not computed again");
    // Asked for less, nothing is taken away or fetched.
    let summary = run(&session, &input, &output, SaveOptions::new().assets(false));
    assert_eq!((summary.done, summary.done_earlier), (0, 1), "{summary:?}");
    // Each is asked for on its own: the pictures alone, then the report alone.
    for (n, first) in [SaveOptions::new().assets(false), SaveOptions::new().report(false)].into_iter().enumerate() {
        let output = dir.path().join(format!("out-{n}"));
        assert_eq!(run(&session, &input, &output, first).done, 1);
        assert_eq!(run(&session, &input, &output, first).done_earlier, 1, "the same options fetch nothing");
        assert_eq!(run(&session, &input, &output, SaveOptions::new()).done, 1, "fetched what {first:?} left out");
    }
}

#[test]
fn an_output_folder_inside_the_input_is_refused_before_anything_is_sent() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("nested");
    let input = dir.path().join("in");
    visit(&input, "v", 1);
    let refused = FolderRun::new(&session, &input, input.join("results")).run(|_| {}).unwrap_err();
    assert!(refused.to_string().contains("inside"), "{refused}");
    assert!(emulator.requests().is_empty(), "nothing sent");
}
