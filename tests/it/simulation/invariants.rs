//! The promises, checked after every step:
//!
//! * (a) each set of photos is computed at most once, and once more for each visit that
//!   had it in a run with `--retry-failed` (computes ≤ distinct photo sets + retries);
//! * (b) every `results.json` in a visit's folder is the analysis of that visit's photos as
//!   they are (the test knows each batch's photos from what the service stored), or the
//!   visit is reported failed;
//! * (c) results once saved are never deleted unless a whole newer save of their batch
//!   replaces them, or they move to `superseded/` with the reason;
//! * (d) `summary.csv` and `index.html` agree with the ledger and the folders: a visit is
//!   done, and linked, only when the ledger saved its batch and its folder holds it;
//! * (e) no two visits (or patients) that are done have folders that are one folder on
//!   macOS or Windows;
//! * (f) each patient is at most one subject of the dataset, and every visit done was sent
//!   for its own patient's subject, never another's;
//! * (g) a photo is one patient's: no batch is computed of photos that usable visits of
//!   two patients hold.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use hautai::bulk::{Journal, Shard};
use hautai::{BatchResults, Uuid};

use super::actions::{Model, Ran};
use super::world::{NAMES, Photos, World};

/// Every `results.json` under the output (the journal's folder aside), by path, with its bytes.
pub struct Saved {
    files: HashMap<PathBuf, Vec<u8>>,
}

impl Saved {
    pub fn read(world: &World) -> Saved {
        let mut files = HashMap::new();
        collect(&world.output(), &world.output(), &mut files);
        Saved { files }
    }
}

fn collect(root: &Path, dir: &Path, files: &mut HashMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && entry.file_name() != ".hautai" {
            collect(root, &path, files);
        } else if entry.file_name() == "results.json"
            && let Ok(bytes) = std::fs::read(&path)
        {
            files.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
        }
    }
}

fn batch_of(bytes: &[u8]) -> Option<Uuid> {
    serde_json::from_slice::<BatchResults>(bytes).ok().map(|r| r.batch_id())
}

/// Checks the promises after a step that did `ran`.
pub fn check(world: &World, model: &Model, ran: &Ran, before: &Saved, after: &Saved) -> Result<(), String> {
    let mut computes: HashMap<&Photos, u32> = HashMap::new();
    for (batch, count) in &world.computed {
        if let Some(photos) = world.stored.get(batch) {
            *computes.entry(photos).or_default() += count;
        }
    }
    for (photos, count) in computes {
        let retries = model.retries.get(photos).copied().unwrap_or(0);
        if count as usize > 1 + retries {
            return Err(format!(
                "(a) one set of photos computed {count} times, with {retries} retries asked: {photos:?}"
            ));
        }
    }
    let all: u32 = world.computed.values().sum();
    if all != world.emulator.computes() {
        return Err(format!(
            "(a) the service took {} computes, of batches the test knows: {all}",
            world.emulator.computes()
        ));
    }
    if !matches!(ran, Ran::Output) {
        never_lost(before, after)?;
    }
    set_aside_with_reasons(world)?;
    one_patient_per_photo(world)?;
    // The reports are checked when every run that ran wrote them (one that could not removes
    // them, which may be another run's, written just before).
    if let Ran::Runs(runs) = ran
        && runs.iter().any(Result::is_ok)
        && runs.iter().flatten().all(|summary| summary.reports.is_ok())
    {
        reports_tell_the_truth(world)?;
    }
    Ok(())
}

/// (g): each batch computed in the last step was of photos that usable visits (readable,
/// named without a clash) of one patient at most hold in the input.
fn one_patient_per_photo(world: &World) -> Result<(), String> {
    let nfc = |name: &str| name.replace("e\u{301}", "\u{e9}");
    let key = |name: &str| nfc(name).to_lowercase();
    let patient = |name: &str| nfc(name.split('/').next().unwrap_or(name));
    let present: Vec<(&str, Photos)> = NAMES.iter().filter_map(|name| Some((*name, world.photos_of(name)?))).collect();
    // Names that are one folder on macOS (a visit's or its patient's) are refused, photos unread.
    let clashes = |name: &str| {
        present.iter().any(|(other, _)| {
            *other != name
                && (key(other) == key(name)
                    || key(&patient(other)) == key(&patient(name)) && patient(other) != patient(name))
        })
    };
    for (batch, count) in &world.computed {
        let Some(stored) = world.stored.get(batch) else { continue };
        if *count <= world.computed_before.get(batch).copied().unwrap_or(0) {
            continue;
        }
        let photos: HashSet<(u64, u64)> = stored.iter().map(|(_, photo)| *photo).collect();
        let patients: std::collections::BTreeSet<String> = present
            .iter()
            .filter(|(name, sides)| !clashes(name) && sides.iter().any(|(_, photo)| photos.contains(photo)))
            .map(|(name, _)| patient(name))
            .collect();
        if patients.len() > 1 {
            return Err(format!("(g) batch {batch} was computed of photos that visits of {patients:?} hold"));
        }
    }
    Ok(())
}

/// (c): what was saved in a visit's folder is still somewhere, or a whole save of its batch
/// took its place.
fn never_lost(before: &Saved, after: &Saved) -> Result<(), String> {
    let kept: HashSet<&Vec<u8>> = after.files.values().collect();
    for (path, bytes) in &before.files {
        if !path.starts_with("visits") || kept.contains(bytes) {
            continue;
        }
        let Some(batch) = batch_of(bytes) else { continue };
        let replaced = after.files.get(path).and_then(|b| batch_of(b)) == Some(batch);
        if !replaced {
            return Err(format!("(c) the results of batch {batch} in {} are gone", path.display()));
        }
    }
    Ok(())
}

/// (c): every folder set aside says why.
fn set_aside_with_reasons(world: &World) -> Result<(), String> {
    for entry in std::fs::read_dir(world.output().join("superseded")).into_iter().flatten().flatten() {
        // A patient's visits are set aside in a folder of the patient's (`superseded/dora/…`).
        let set_aside = |path: &Path| {
            path.join("why.txt").is_file()
                || path.join("results.json").symlink_metadata().is_err()
                    && !path.join("report.html").exists()
                    && std::fs::read_dir(path)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .all(|inner| inner.path().join("why.txt").is_file())
        };
        if !set_aside(&entry.path()) {
            return Err(format!("(c) {} was set aside without why.txt", entry.path().display()));
        }
    }
    Ok(())
}

/// One row of `summary.csv`.
struct Row {
    visit: String,
    status: String,
    batch: String,
}

fn summary(output: &Path) -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(output.join("summary.csv")).ok()?;
    let mut lines = text.lines().map(cells);
    let header = lines.next()?;
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (visit, status, batch) = (column("visit"), column("status"), column("batch_id"));
    Some(lines.map(|c| Row { visit: c[visit].clone(), status: c[status].clone(), batch: c[batch].clone() }).collect())
}

/// The cells of one CSV line (quoted cells may hold commas and doubled quotes).
fn cells(line: &str) -> Vec<String> {
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

/// A visit's name as the index links it (`visits/<patient>/<visit>/...`, each byte but
/// `-_.~`, letters and digits percent-encoded in each part).
fn linked(name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("href=\"visits/{encoded}/")
}

/// The output's journal, to read. (Another test's child process may hold a copy of a lock
/// this process just let go, for the instant between its fork and its exec: try again.)
fn open_journal(world: &World) -> Result<Journal, String> {
    let session = world.session();
    let mut tries = 0;
    loop {
        match world.disk.with_room(|| Journal::open(world.output().join(".hautai"), &session, Shard::ALL)) {
            Err(e) if matches!(e.kind(), hautai::error::ErrorKind::Busy { .. }) && tries < 100 => tries += 1,
            opened => return opened.map_err(|e| format!("journal: {e}")),
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// (b), (d) and (e), from `summary.csv`, `index.html`, the journal and the folders.
fn reports_tell_the_truth(world: &World) -> Result<(), String> {
    let output = world.output();
    let rows = summary(&output).ok_or("(d) the run said its summary was written, and there is none")?;
    let index = std::fs::read_to_string(output.join("index.html")).map_err(|e| format!("(d) index.html: {e}"))?;
    let journal = open_journal(world)?;
    let mut done_folders = HashMap::new();
    let mut done_patients: HashMap<String, String> = HashMap::new();
    for row in &rows {
        let folder = output.join("visits").join(&row.visit);
        let saved = std::fs::read(folder.join("results.json")).ok();
        let photos = world.photos_of(&row.visit);
        let batch = saved.as_deref().and_then(batch_of);
        let of_its_photos =
            batch.and_then(|b| world.stored.get(&b)).is_some_and(|stored| Some(stored) == photos.as_ref());
        let done = row.status == "done" || row.status.starts_with("done (");
        // (b)
        if saved.is_some() && !of_its_photos && !row.status.starts_with("failed") {
            return Err(format!(
                "(b) {}'s folder holds {batch:?}, not of its photos, and it is {:?}",
                row.visit, row.status
            ));
        }
        // (d)
        let record = journal.record(&row.visit);
        if done {
            let said = row.batch.parse::<Uuid>().ok();
            if !(of_its_photos && batch == said && record.batch_id == said && record.saved) {
                return Err(format!(
                    "(d) {} is done with batch {said:?}; its folder holds {batch:?} (of its photos: {of_its_photos}); \
                     the ledger holds {:?} (saved: {})",
                    row.visit, record.batch_id, record.saved
                ));
            }
        }
        if index.contains(&linked(&row.visit)) != done {
            return Err(format!("(d) the index links {}: {}, and it is {:?}", row.visit, !done, row.status));
        }
        // (e)
        if done {
            let key = row.visit.replace("e\u{301}", "\u{e9}").to_lowercase();
            if let Some(other) = done_folders.insert(key, row.visit.clone()) {
                return Err(format!("(e) {other} and {} are both done and one folder on macOS", row.visit));
            }
            let patient = row.visit.split('/').next().unwrap_or_default();
            let key = patient.replace("e\u{301}", "\u{e9}").to_lowercase();
            match done_patients.insert(key, patient.to_owned()) {
                Some(other) if other != patient => {
                    return Err(format!("(e) patients {other} and {patient} are both done and one folder on macOS"));
                }
                _ => {}
            }
        }
    }
    subjects_are_patients(world, &rows)
}

/// (f): no patient made twice, and each visit done is filed under its own patient.
fn subjects_are_patients(world: &World, rows: &[Row]) -> Result<(), String> {
    // (The service's troubles of this step may still be armed: a listing they fail is
    // no finding, and the check waits for the next step.)
    let session = world.session();
    let Ok(Some(dataset)) = session.find_dataset("hautai") else { return Ok(()) };
    let Ok(subjects) = session.subjects(dataset.id).collect::<hautai::Result<Vec<_>>>() else { return Ok(()) };
    let Ok(filed) = session.batches(&hautai::model::BatchQuery::new()).collect::<hautai::Result<Vec<_>>>() else {
        return Ok(());
    };
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for subject in subjects {
        let name = subject.name.unwrap_or_default();
        if let Some((other, _)) = names.iter().find(|(_, n)| **n == name) {
            return Err(format!("(f) two subjects are named {name:?}: {other} and {}", subject.id));
        }
        names.insert(subject.id, name);
    }
    let filed: HashMap<Uuid, Option<Uuid>> = filed.into_iter().map(|b| (b.id, b.subject_id)).collect();
    for row in rows.iter().filter(|r| r.status == "done" || r.status.starts_with("done (")) {
        let patient = row.visit.split('/').next().unwrap_or_default();
        let Ok(batch) = row.batch.parse::<Uuid>() else { continue };
        // (A batch the service forgot is no longer filed anywhere.)
        let Some(subject) = filed.get(&batch).copied() else { continue };
        let name = subject.and_then(|s| names.get(&s));
        if name.map(String::as_str) != Some(patient) {
            return Err(format!("(f) {} is done with batch {batch}, filed under {subject:?} ({name:?})", row.visit));
        }
    }
    Ok(())
}
