//! Patients, not just visits: each patient one subject of the service (made once, whatever
//! is lost), visits dated from their folders' names or their photos, a timeline each, and
//! `hautai history PATIENT`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::files::{TempDir, write_visit as visit};
use crate::common::{emulator, fast_session};
use hautai::emulator::{Emulator, Fault, Route};
use hautai::folder::{FolderEvent, FolderRun};
use hautai::model::NewSubject;
use hautai::{Session, Uuid};

/// Three patients with two visits each, the later visit first in name order.
fn three_patients(dir: &TempDir) -> PathBuf {
    let input = dir.path().join("in");
    for (i, patient) in ["anna", "bob", "carla"].into_iter().enumerate() {
        visit(&input, &format!("{patient}/2026-03-01"), 2 * i as u32);
        visit(&input, &format!("{patient}/checkup 20251120"), 2 * i as u32 + 1);
    }
    input
}

/// The subjects of the dataset `hautai` by name, each with its ids.
fn subjects(session: &Session) -> BTreeMap<String, Vec<Uuid>> {
    let Some(dataset) = session.find_dataset("hautai").unwrap() else { return BTreeMap::new() };
    let mut by_name: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
    for subject in session.subjects(dataset.id) {
        let subject = subject.unwrap();
        by_name.entry(subject.name.unwrap_or_default()).or_default().push(subject.id);
    }
    by_name
}

/// Each batch of `subject` with its creation time, oldest first.
fn batches_of(session: &Session, subject: Uuid) -> Vec<String> {
    let query = hautai::model::BatchQuery::new().subject_id(subject);
    let mut times: Vec<String> =
        session.batches(&query).map(|b| b.unwrap().creation_time.unwrap_or_default()).collect();
    times.sort();
    times
}

/// The line of `summary.csv` of `visit`.
fn row<'c>(csv: &'c str, visit: &str) -> &'c str {
    csv.lines().find(|l| l.starts_with(&format!("\"{visit}\","))).unwrap_or_else(|| panic!("{visit}: {csv}"))
}

fn run(session: &Session, input: &Path, output: &Path) -> hautai::folder::FolderSummary {
    FolderRun::new(session, input, output).run(|_| {}).unwrap()
}

#[test]
fn each_patient_is_one_subject_with_its_visits_dated_and_in_date_order() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-three"));
    let session = fast_session(&emulator);
    let (input, output) = (three_patients(&dir), dir.path().join("out"));
    let summary = run(&session, &input, &output);
    assert!(summary.all_done(), "{:?}", summary.failed);
    assert_eq!(summary.done, 6);
    let subjects = subjects(&session);
    assert_eq!(subjects.keys().collect::<Vec<_>>(), ["anna", "bob", "carla"], "one subject per patient");
    for (name, ids) in &subjects {
        assert_eq!(ids.len(), 1, "{name}: {ids:?}");
        // Each visit was uploaded for its patient's subject, dated by its folder's name.
        assert_eq!(batches_of(&session, ids[0]), ["2025-11-20T12:00:00Z", "2026-03-01T12:00:00Z"], "{name}");
    }
    assert!(batches_of(&session, emulator.subject_id()).is_empty(), "nothing filed under the session's subject");
    // The outputs: a folder per visit under its patient, a timeline per patient in date order.
    assert!(output.join("visits/anna/2026-03-01/results.json").is_file());
    assert!(output.join("visits/anna/checkup 20251120/report.html").is_file());
    let timeline = std::fs::read_to_string(output.join("patients/anna/timeline.html")).unwrap();
    let (first, later) = (timeline.find("2025-11-20").unwrap(), timeline.find("2026-03-01").unwrap());
    assert!(first < later, "the visits in date order, not name order");
    assert!(
        timeline.contains("<svg") && timeline.contains("href=\"../../visits/anna/checkup%2020251120/report.html\"")
    );
    let csv = std::fs::read_to_string(output.join("summary.csv")).unwrap();
    assert!(csv.starts_with("\"visit\",\"status\","), "earlier columns keep their places: {csv}");
    assert!(csv.lines().next().unwrap().contains("\"eyes_age_years\",\"patient\",\"visit_date\","), "{csv}");
    let bob = row(&csv, "bob/checkup 20251120");
    assert!(bob.starts_with("\"bob/checkup 20251120\",\"done\"") && bob.contains(",\"bob\",\"2025-11-20\","), "{bob}");
    let index = std::fs::read_to_string(output.join("index.html")).unwrap();
    assert!(index.contains("<a href=\"patients/carla/timeline.html\">carla</a>"), "the index links each timeline");
    // A rerun sends nothing and makes no subject.
    emulator.clear_requests();
    let again = run(&session, &input, &output);
    assert_eq!((again.done, again.done_earlier), (0, 6));
    let posts: Vec<String> = emulator.requests().into_iter().filter(|r| r.method == "POST").map(|r| r.path).collect();
    assert!(posts.is_empty(), "{posts:?}");
}

#[test]
fn a_subject_whose_answer_was_lost_is_found_by_name_never_made_twice() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-lost-subject"));
    let session = fast_session(&emulator);
    let input = dir.path().join("in");
    visit(&input, "anna/2026-01-05", 1);
    let output = dir.path().join("out");
    session.create_dataset("hautai").unwrap();
    // The dataset is found (a GET), the subjects listed (a GET), then the subject's POST
    // is carried out and its answer lost.
    emulator.fail_every(Route::Subjects, 2, Fault::status(504).carried_out());
    let first = run(&session, &input, &output);
    assert_eq!(first.done, 0);
    assert!(first.failed[0].reason.contains("its subject could not be made"), "{:?}", first.failed);
    assert_eq!(emulator.computes(), 0, "nothing sent for the visit");
    assert_eq!(subjects(&session)["anna"].len(), 1, "the service made it anyway");
    emulator.clear_faults();
    let second = run(&session, &input, &output);
    assert!(second.all_done(), "{:?}", second.failed);
    let anna = &subjects(&session)["anna"];
    assert_eq!(anna.len(), 1, "found by name, not made twice: {anna:?}");
    assert_eq!(batches_of(&session, anna[0]).len(), 1);
    let journal = std::fs::read_dir(output.join(".hautai"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".jsonl"));
    let journal = std::fs::read_to_string(journal.unwrap().path()).unwrap();
    assert!(journal.contains("\"state\":\"subject_claimed\""), "being made, journaled before the POST");
    assert!(journal.contains(&format!("\"subject_id\":\"{}\"", anna[0])), "made, journaled with its id");
}

#[test]
fn two_subjects_of_one_name_fail_that_patients_visits_naming_both() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-two-of-a-name"));
    let session = fast_session(&emulator);
    let input = dir.path().join("in");
    visit(&input, "anna/2026-01-05", 1);
    visit(&input, "bob/2026-01-05", 2);
    let dataset = session.create_dataset("hautai").unwrap();
    let ids: Vec<Uuid> =
        (0..2).map(|_| session.create_subject(dataset.id, &NewSubject::new("anna")).unwrap().id).collect();
    let failures = std::sync::Mutex::new(Vec::new());
    let summary = FolderRun::new(&session, &input, dir.path().join("out"))
        .run(|event| {
            if let FolderEvent::Unusable { visit, reason } = event {
                failures.lock().unwrap().push((visit.to_string(), reason.to_string()));
            }
        })
        .unwrap();
    assert_eq!(summary.done, 1, "bob is done");
    let failures = failures.into_inner().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "anna/2026-01-05");
    for id in &ids {
        assert!(failures[0].1.contains(&id.to_string()), "names both: {}", failures[0].1);
    }
    assert_eq!(emulator.computes(), 1, "only bob's visit was sent");
    assert_eq!(subjects(&session)["anna"].len(), 2, "no third one");
    let error = session.find_subject(dataset.id, "anna").unwrap_err();
    assert!(matches!(error.kind(), hautai::error::ErrorKind::Ambiguous { ids: found, .. } if *found == ids), "{error}");
}

#[test]
fn a_visit_is_dated_by_its_photos_exif_when_its_name_holds_no_date() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-exif"));
    let session = fast_session(&emulator);
    let input = dir.path().join("in");
    let folder = input.join("dora").join("first visit");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("front.jpg"), jpeg_taken("2025:06:01 09:15:00")).unwrap();
    visit(&input, "dora/no date", 3);
    let summary = run(&session, &input, &dir.path().join("out"));
    assert!(summary.all_done(), "{:?}", summary.failed);
    let dora = subjects(&session)["dora"][0];
    let times = batches_of(&session, dora);
    assert_eq!(times.len(), 2);
    assert!(times.contains(&"2025-06-01T09:15:00Z".to_owned()), "the EXIF date sent: {times:?}");
    let csv = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert!(row(&csv, "dora/first visit").contains(",\"dora\",\"2025-06-01\","), "{csv}");
    assert!(row(&csv, "dora/no date").contains(",\"dora\",,"), "no date: none sent, none shown: {csv}");
}

/// A JPEG whose EXIF says it was taken at `when` (`YYYY:MM:DD HH:MM:SS`).
pub(crate) fn jpeg_taken(when: &str) -> Vec<u8> {
    assert_eq!(when.len(), 19);
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0: one entry, the Exif IFD's offset (26); then the Exif IFD: DateTimeOriginal.
    tiff.extend([0, 1, 0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend([0, 1, 0x90, 0x03, 0, 2, 0, 0, 0, 20, 0, 0, 0, 44, 0, 0, 0, 0]);
    tiff.extend(when.as_bytes());
    tiff.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend(((app1.len() + 2) as u16).to_be_bytes());
    jpeg.extend(app1);
    jpeg.extend([0xFF, 0xD9]);
    jpeg
}

#[test]
fn shards_split_by_patient_so_one_process_makes_each_subject() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-shards"));
    let session = fast_session(&emulator);
    let input = dir.path().join("in");
    let patients = ["p1", "p2", "p3", "p4", "p5", "p6"];
    for (i, patient) in patients.iter().enumerate() {
        visit(&input, &format!("{patient}/2026-01-0{}", i + 1), 2 * i as u32);
        visit(&input, &format!("{patient}/2026-02-0{}", i + 1), 2 * i as u32 + 1);
    }
    let output = dir.path().join("out");
    let shards: Vec<hautai::bulk::Shard> = (0..3).map(|i| hautai::bulk::Shard::new(i, 3).unwrap()).collect();
    std::thread::scope(|scope| {
        for shard in &shards {
            let (session, input, output) = (&session, &input, &output);
            scope.spawn(move || {
                let summary = FolderRun::new(session, input, output).shard(*shard).run(|_| {}).unwrap();
                assert!(summary.failed.is_empty(), "{:?}", summary.failed);
                // A shard runs both visits of a patient, or neither.
                let mine = patients.iter().filter(|p| shard.contains(p)).count();
                assert_eq!(summary.done, 2 * mine, "shard {shard}");
            });
        }
    });
    let subjects = subjects(&session);
    assert_eq!(subjects.len(), 6);
    assert!(subjects.values().all(|ids| ids.len() == 1), "{subjects:?}");
    assert_eq!(emulator.computes(), 12);
}

#[test]
fn one_patients_visits_and_bad_patient_names() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-one"));
    let session = fast_session(&emulator);
    let input = dir.path().join("in");
    visit(&input, "2026-01-05", 1);
    visit(&input, "2026-02-05", 2);
    let output = dir.path().join("out");
    let summary = FolderRun::new(&session, &input, &output).patient("Anna Smith").run(|_| {}).unwrap();
    assert!(summary.all_done(), "{:?}", summary.failed);
    assert_eq!(subjects(&session)["Anna Smith"].len(), 1);
    assert!(output.join("visits/Anna Smith/2026-02-05/results.json").is_file());
    emulator.clear_requests();
    for bad in ["", "   ", "a\u{1b}[2Jb", "x:y", &"n".repeat(513)] {
        let refused = FolderRun::new(&session, &input, &output).patient(bad).run(|_| {}).unwrap_err();
        assert!(refused.to_string().contains("patient's name"), "{bad:?}: {refused}");
    }
    assert!(emulator.requests().is_empty(), "nothing sent for a bad name");
}

#[test]
fn a_patient_without_visits_and_a_folder_too_deep_are_listed_with_why() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-bad-layout"));
    let session = fast_session(&emulator);
    let input = dir.path().join("in");
    visit(&input, "anna/2026-01-05", 1);
    visit(&input, "bob/2026-01-05/photos", 2);
    std::fs::create_dir_all(input.join("carl/2026-01-05")).unwrap();
    std::fs::create_dir_all(input.join("carl/2026-02-05")).unwrap();
    let skipped = std::sync::Mutex::new(Vec::new());
    let output = dir.path().join("out");
    FolderRun::new(&session, &input, &output)
        .run(|event| {
            if let FolderEvent::NotAVisit { entry } = event {
                skipped.lock().unwrap().push(entry.to_string());
            }
        })
        .unwrap();
    let skipped = skipped.into_inner().unwrap();
    assert!(
        skipped.contains(&"bob/2026-01-05/photos (not a visit: nested deeper than patient/visit)".to_owned()),
        "{skipped:?}"
    );
    let csv = std::fs::read_to_string(output.join("summary.csv")).unwrap();
    assert!(row(&csv, "carl").starts_with("\"carl\",\"no visits: none of its 2 folders holds photos\""), "{csv}");
    assert!(row(&csv, "bob").starts_with("\"bob\",\"no visits: its one folder holds no photos\""), "{csv}");
    assert_eq!(subjects(&session).keys().collect::<Vec<_>>(), ["anna"], "no subject for a patient without visits");
}

/// `hautai --emulator history PATIENT --from OUT` after a folder run: the patient's
/// analyses in date order; a name two subjects have: exit 2, naming both.
#[test]
fn history_prints_a_patients_analyses_in_date_order() {
    let dir = TempDir::new("patients-history");
    let (input, output) = (three_patients(&dir), dir.path().join("out"));
    let ran = crate::cli::hautai(&["--emulator", "folder"]).arg(&input).arg(&output).output().unwrap();
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let history = |patient: &str, json: bool| {
        let mut command = crate::cli::hautai(&["--emulator", "history", patient, "--from"]);
        command.arg(&output);
        if json {
            command.arg("--json");
        }
        command.output().unwrap()
    };
    let shown = history("bob", false);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let stdout = String::from_utf8(shown.stdout).unwrap();
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("20")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows[0].starts_with("2025-11-20") && rows[1].starts_with("2026-03-01"), "{stdout}");
    assert!(rows.iter().all(|r| r.contains(" years")), "ages in years: {stdout}");
    let json: serde_json::Value = serde_json::from_slice(&history("bob", true).stdout).unwrap();
    let dates: Vec<&str> = json["analyses"].as_array().unwrap().iter().map(|a| a["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2025-11-20", "2026-03-01"]);
    // A second "bob" made on the kept service: which is meant is not guessed.
    let kept = hautai::emulator::EmulatorConfig::new().keep_state(output.join(".hautai/emulator.json"));
    let emulator = Emulator::start(kept).unwrap();
    let session = emulator.session();
    let dataset = session.find_dataset("hautai").unwrap().unwrap();
    let second = session.create_subject(dataset.id, &NewSubject::new("bob")).unwrap();
    drop(session);
    emulator.stop();
    let two = history("bob", false);
    assert_eq!(two.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&two.stderr);
    assert!(stderr.contains(&second.id.to_string()) && stderr.contains("are named \"bob\""), "{stderr}");
    let none = history("zed", false);
    assert_eq!(none.status.code(), Some(2), "{}", String::from_utf8_lossy(&none.stderr));
    let empty = history(" ", false);
    assert_eq!(empty.status.code(), Some(2), "{}", String::from_utf8_lossy(&empty.stderr));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("the patient's name is empty"));
}

/// A photo is one patient's: the same photo in visits of two patients (a whole visit
/// copied, one picture copied, a patient's folder linked under another name) is analysed
/// for neither, since which patient it is is for a person to say; a photo paid for under
/// one patient is never sent again for another.
#[test]
fn a_photo_in_two_patients_visits_is_analysed_for_neither() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-shared-photo"));
    let session = fast_session(&emulator);
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    visit(&input, "anna/2026-01-05", 1);
    visit(&input, "bob/2026-01-05", 1);
    visit(&input, "carla/2026-01-05", 3);
    visit(&input, "dora/2026-01-05", 4);
    std::fs::copy(input.join("carla/2026-01-05/front.png"), input.join("dora/2026-01-05/left.png")).unwrap();
    visit(&input, "eve/2026-01-05", 5);
    let summary = run(&session, &input, &output);
    let failed: BTreeMap<&str, &str> = summary.failed.iter().map(|f| (f.key.as_str(), f.reason.as_str())).collect();
    assert_eq!(
        failed.keys().copied().collect::<Vec<_>>(),
        ["anna/2026-01-05", "bob/2026-01-05", "carla/2026-01-05", "dora/2026-01-05"]
    );
    assert!(failed["anna/2026-01-05"].contains("bob/2026-01-05"), "names the other: {failed:?}");
    let dora = failed["dora/2026-01-05"];
    assert!(dora.contains("the left photo of dora/2026-01-05 is the front photo of carla/2026-01-05"), "{dora}");
    assert_eq!((summary.done, emulator.computes()), (1, 1), "only eve's visit was paid for");

    // Once the copy is gone, the photos are analysed for their patient, once.
    std::fs::remove_dir_all(input.join("bob")).unwrap();
    visit(&input, "dora/2026-01-05", 4);
    let summary = run(&session, &input, &output);
    assert!(summary.all_done(), "{:?}", summary.failed);
    assert_eq!(emulator.computes(), 4);
    // A photo paid for under carla, copied into a new visit of another patient: refused.
    visit(&input, "fred/2026-02-01", 6);
    std::fs::copy(input.join("carla/2026-01-05/right.png"), input.join("fred/2026-02-01/right.png")).unwrap();
    let summary = run(&session, &input, &output);
    assert_eq!(summary.failed.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["fred/2026-02-01"]);
    assert!(summary.failed[0].reason.contains("carla/2026-01-05"), "{}", summary.failed[0]);
    assert_eq!((summary.done_earlier, emulator.computes()), (4, 4), "carla's stays done; nothing paid");
    // carla's folder archived: her photo is still hers, by the ledger, until a person says.
    std::fs::remove_dir_all(input.join("carla")).unwrap();
    let summary = run(&session, &input, &output);
    assert_eq!(summary.failed.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["fred/2026-02-01"]);
    assert!(summary.failed[0].reason.contains("--retry-failed"), "{}", summary.failed[0]);
    let confirmed = FolderRun::new(&session, &input, &output).retry_failed(true).run(|_| {}).unwrap();
    assert!(confirmed.all_done(), "{:?}", confirmed.failed);
    assert_eq!(emulator.computes(), 5, "analysed for fred once confirmed");
}

/// `Zoë` typed on macOS (NFD: `e` and a combining diaeresis) is the `Zoë` typed elsewhere:
/// a patient folder copied from a Mac is the same patient, one subject, her visit not
/// analysed again.
#[test]
fn a_patient_named_with_accents_written_apart_is_the_same_patient() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-nfd"));
    let session = fast_session(&emulator);
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    let (composed, decomposed) = ("Zo\u{eb}", "Zoe\u{308}");
    visit(&input, &format!("{composed}/2026-01-05"), 1);
    assert!(run(&session, &input, &output).all_done());
    std::fs::rename(input.join(composed), input.join(decomposed)).unwrap();
    visit(&input, &format!("{decomposed}/2026-02-05"), 2);
    let summary = run(&session, &input, &output);
    assert!(summary.all_done(), "{:?}", summary.failed);
    assert_eq!((summary.done, summary.done_earlier, emulator.computes()), (1, 1, 2), "{summary:?}");
    let subjects = subjects(&session);
    assert_eq!(subjects.get(composed).map(Vec::len), Some(1), "one subject: {subjects:?}");
    assert_eq!(subjects.len(), 1, "{subjects:?}");
}

/// A visit without a date (neither its folder's name nor its photos say) is listed last
/// on its patient's timeline, left out of the changes and the charts, which are over time.
#[test]
fn an_undated_visit_is_listed_apart_from_the_changes_over_time() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-undated"));
    let session = fast_session(&emulator);
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    visit(&input, "anna/2026-01-05", 1);
    visit(&input, "anna/2026-03-01", 2);
    visit(&input, "anna/checkup", 3);
    assert!(run(&session, &input, &output).all_done());
    let timeline = std::fs::read_to_string(output.join("patients/anna/timeline.html")).unwrap();
    assert!(timeline.contains("3 analysed visits from <b>2026-01-05</b> to <b>2026-03-01</b>; 1 without a date"));
    let undated = &timeline[timeline.find("date unknown").expect("listed")..];
    let row = &undated[..undated.find("</tr>").unwrap()];
    assert!(row.contains("Since the first\"></td>") && row.contains("Since the previous\"></td>"), "{row}");
    assert!(!timeline.contains(">?</text>"), "no undated point on a chart");
}

/// A visit whose photos cannot be read now (a broken link) still exists: a copy of its
/// photos under another name does not take its analysis over as if it had been renamed;
/// a person says which is which.
#[test]
fn a_copy_of_a_visit_that_cannot_be_read_now_does_not_take_its_analysis_over() {
    let (emulator, dir) = (emulator(), TempDir::new("patients-unreadable-original"));
    let session = fast_session(&emulator);
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    let first = visit(&input, "anna/2026-01-05", 1);
    assert!(run(&session, &input, &output).all_done());
    let copy = input.join("anna/2026-02-01");
    std::fs::create_dir_all(&copy).unwrap();
    for side in hautai::Side::ALL {
        std::fs::copy(first.join(format!("{side}.png")), copy.join(format!("{side}.png"))).unwrap();
    }
    std::fs::remove_file(first.join("front.png")).unwrap();
    std::os::unix::fs::symlink(first.join("gone.png"), first.join("front.png")).unwrap();
    let summary = run(&session, &input, &output);
    let failed: Vec<&str> = summary.failed.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(failed, ["anna/2026-01-05", "anna/2026-02-01"], "{summary:?}");
    assert!(summary.failed[1].reason.contains("were analysed as anna/2026-01-05"), "{}", summary.failed[1]);
    assert_eq!((summary.taken_over, emulator.computes()), (0, 1));
}
