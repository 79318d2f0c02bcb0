//! Finding the visits of an input folder: a folder per visit, its photos named by side;
//! a folder of visit folders is a patient's.

use std::path::{Path, PathBuf};

use super::dates::{self, VisitDate};
use crate::Side;

/// One visit found in the input folder: its patient, its date, and its photos by side, or
/// why it cannot be analysed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Visit {
    /// The visit's name, unique in the run: `patient/visit` for a visit in a patient's
    /// folder, the folder's name for a visit folder directly in the input (a patient of
    /// its own). Its results go to `OUT/visits/<name>/`.
    pub name: String,
    /// The patient: the folder the visit is in, or the visit's own name.
    pub patient: String,
    /// When the visit took place, when its folder's name or its photos say.
    pub date: Option<VisitDate>,
    /// Its photos, front, left and right in that order where present; or the exact reason
    /// it cannot be analysed (a folder where a photo should be, a broken link, a name
    /// that clashes with another visit's). That is this visit's problem, not the run's.
    pub sides: Result<Vec<(Side, PathBuf)>, String>,
}

impl Visit {
    /// A visit of your own making: `name` (also its patient's) and its photos by side
    /// (for [`save_visit`](super::save_visit) after an analysis outside a folder run).
    pub fn new(name: impl Into<String>, sides: impl IntoIterator<Item = (Side, PathBuf)>) -> Visit {
        let name = name.into();
        Visit { patient: name.clone(), name, date: None, sides: Ok(sides.into_iter().collect()) }
    }

    /// The visit folder's own name: `2026-01-05` of `anna/2026-01-05`.
    pub fn folder(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// The sides given, saying which are missing: `front, left, right` or
    /// `front (no left, right)`; empty for a visit that cannot be analysed.
    pub fn sides_text(&self) -> String {
        let Ok(sides) = &self.sides else { return String::new() };
        let given: Vec<&str> = sides.iter().map(|(s, _)| s.as_str()).collect();
        let missing: Vec<&str> = Side::ALL.iter().map(|s| s.as_str()).filter(|s| !given.contains(s)).collect();
        match missing.is_empty() {
            true => given.join(", "),
            false => format!("{} (no {})", given.join(", "), missing.join(", ")),
        }
    }

    /// Its photos as [`Images`](crate::Images), for an analysis or a fingerprint check.
    pub fn images(&self) -> Option<crate::Images<'_>> {
        let sides = self.sides.as_ref().ok()?;
        Some(sides.iter().fold(crate::Images::new(), |images, (side, path)| images.side(*side, path.as_path())))
    }
}

/// What [`find_visits`] found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Found {
    /// The visits, sorted by name.
    pub visits: Vec<Visit>,
    /// Every entry that is not a visit or not a photo, with why: `notes.txt (not a visit
    /// folder)`, `a/front-2.jpg (a second front image)`.
    pub skipped: Vec<String>,
    /// Folders with no front, left or right picture (an empty folder, a folder of notes),
    /// and patients' folders with no visit in them, with what they hold instead: nothing
    /// to analyse, and listed as such in the summary and the index (a visit whose photos
    /// were never copied is seen, not lost).
    pub without_photos: Vec<(String, String)>,
}

/// The visits in `input`, each entry decided on its own: a folder with photos in it is a
/// visit (a patient of its own, named after the folder); a folder of such folders is a
/// patient's, each of its folders one visit (`input/anna/2026-01-05/front.jpg`). Hidden
/// entries (`.name`) are skipped, and so is anything nested deeper than a visit.
///
/// In a visit's folder, the pictures (`.jpg`, `.jpeg`, `.png`, `.webp`, `.heic`, `.heif`,
/// `.bmp`, `.tif`, `.tiff`, any case) whose names start with `front`, `left` or `right`
/// are its photos. A visit with two photos for one side fails (which one is this visit's
/// is for a person to say, not for a sort order), and so do two patients or visits whose
/// names differ only in case or Unicode normalization (one folder on macOS and Windows),
/// and a name that cannot be a folder on Linux, macOS or Windows (`a:b`, `CON`, a name
/// ending with a dot).
///
/// ```no_run
/// let found = hautai::folder::find_visits("visits")?;
/// for visit in &found.visits {
///     println!("{} of {}: {}", visit.name, visit.patient, visit.sides_text());
/// }
/// # Ok::<(), hautai::Error>(())
/// ```
///
/// Errors: [`ErrorKind::Io`](crate::error::ErrorKind::Io) when `input` itself cannot be
/// read ([`Error::io_error`](crate::Error::io_error) has the cause); a visit that cannot
/// be read is that visit's problem, in its [`Visit::sides`].
pub fn find_visits(input: impl AsRef<Path>) -> crate::Result<Found> {
    let input = input.as_ref();
    find(input, None).map_err(|e| crate::Error::io(input, "cannot read the input folder", e))
}

/// The visits in `input`, every folder in it one visit of `patient` (see [`find_visits`]).
pub fn find_visits_of(input: impl AsRef<Path>, patient: &str) -> crate::Result<Found> {
    let input = input.as_ref();
    find(input, Some(patient)).map_err(|e| crate::Error::io(input, "cannot read the input folder", e))
}

fn find(input: &Path, one_patient: Option<&str>) -> std::io::Result<Found> {
    let mut found = Found::default();
    let top = scan(input, "")?;
    found.skipped.extend(top.hidden);
    let stray = top.pictures.iter().flatten().map(|(_, path)| path.file_name().unwrap_or_default().to_string_lossy());
    let stray: Vec<String> = stray.map(|name| name.into_owned()).chain(top.others).collect();
    found.skipped.extend(stray.into_iter().map(|name| format!("{name} (not a visit folder)")));
    for (name, folder) in top.folders {
        let inner = match std::fs::read_dir(&folder) {
            Ok(_) => scan(&folder, &format!("{name}/")),
            Err(e) => Err(e),
        };
        let inner = match inner {
            Ok(inner) => inner,
            // A link to a folder that is gone (an unmounted share, say) is a visit that
            // cannot be read: a failure, not something to skip.
            Err(e) => {
                let key = one_patient.map_or(name.clone(), |p| format!("{p}/{name}"));
                let patient = one_patient.unwrap_or(&name).to_owned();
                found.visits.push(Visit { name: key, patient, date: None, sides: Err(unreadable(&folder, &e)) });
                continue;
            }
        };
        match one_patient {
            Some(patient) => visit(&mut found, patient, &format!("{patient}/{name}"), inner),
            None if inner.is_visit() => {
                let visits_inside = inner.visits_inside();
                visit(&mut found, &name, &name, inner);
                // Photos beside folders of photos: a visit, or a patient with stray photos?
                // Which is for a person to say; nothing of it is analysed, and it says why.
                if let (false, Some(last)) = (visits_inside.is_empty(), found.visits.last_mut()) {
                    // Its folders are not skipped: they are why it fails.
                    found.skipped.retain(|s| !visits_inside.iter().any(|v| s.starts_with(&format!("{v} ("))));
                    last.sides = Err(format!(
                        "it holds photos and folders of photos ({}): a folder is a visit or a patient, not both; \
                         move its photos into a visit folder of their own, or the folders out",
                        visits_inside.join(", ")
                    ));
                }
            }
            None if inner.folders.is_empty() => visit(&mut found, &name, &name, inner),
            None => patient(&mut found, &name, inner),
        }
    }
    // Two patients or visits that would be one folder on macOS or Windows: neither is used.
    let names: Vec<String> = found.visits.iter().map(|v| v.name.clone()).collect();
    let clashes = super::names::clashes(&names.iter().map(String::as_str).collect::<Vec<_>>());
    for (visit, clash) in found.visits.iter_mut().zip(clashes) {
        if let Some(why) = clash {
            visit.sides = Err(why);
        }
    }
    // A name is who or when, however its accents are written: `Zoë` typed on macOS (NFD)
    // is the patient `Zoë` typed elsewhere, one subject and one ledger key on every run.
    // (Two folders of one such name in one input were refused just above.)
    for visit in &mut found.visits {
        visit.name = super::names::nfc(&visit.name);
        visit.patient = super::names::nfc(&visit.patient);
    }
    found.visits.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The folder `name` of a patient: each of its folders is a visit.
fn patient(found: &mut Found, name: &str, scanned: Scan) {
    found.skipped.extend(scanned.hidden);
    found.skipped.extend(scanned.others.into_iter().map(|other| format!("{other} (not a visit folder)")));
    let before = found.visits.len();
    let mut empty = Vec::new();
    for (key, folder) in scanned.folders {
        match scan(&folder, &format!("{key}/")) {
            Ok(inner) if !inner.is_visit() => {
                found.skipped.extend(inner.hidden);
                found.skipped.push(format!("{key} (no front, left or right image)"));
                for (deeper, _) in &inner.folders {
                    found.skipped.push(format!("{deeper} (not a visit: nested deeper than patient/visit)"));
                }
                let what = match (inner.folders.len(), inner.held) {
                    (1.., _) => "its photos are nested deeper than patient/visit".to_owned(),
                    (0, 0) => "the folder is empty".to_owned(),
                    (0, n) => format!("none of its {n} files is a picture named front…, left… or right…"),
                };
                empty.push((key, what));
            }
            Ok(inner) => visit(found, name, &key, inner),
            Err(e) => found.visits.push(Visit {
                name: key,
                patient: name.to_owned(),
                date: None,
                sides: Err(unreadable(&folder, &e)),
            }),
        }
    }
    match (found.visits.len() == before, empty.len()) {
        (false, _) => found.without_photos.extend(empty),
        (true, 1) => found.without_photos.push((name.into(), "no visits: its one folder holds no photos".into())),
        (true, n) => {
            found.without_photos.push((name.into(), format!("no visits: none of its {n} folders holds photos")))
        }
    }
}

/// The visit `key` of `patient`, from what its folder holds.
fn visit(found: &mut Found, patient: &str, key: &str, scanned: Scan) {
    found.skipped.extend(scanned.hidden);
    found
        .skipped
        .extend(scanned.others.into_iter().map(|other| format!("{other} (not a front, left or right picture)")));
    for (deeper, _) in &scanned.folders {
        found.skipped.push(format!("{deeper} (not a visit: a folder inside a visit, nested deeper than one)"));
    }
    let sides = match scanned.pictures {
        Ok(sides) if sides.is_empty() => {
            let what = match scanned.held {
                0 => "the folder is empty".to_owned(),
                1 => "its one file is no picture named front…, left… or right…".to_owned(),
                n => format!("none of its {n} files is a picture named front…, left… or right…"),
            };
            found.skipped.push(format!("{key} (no front, left or right image)"));
            found.without_photos.push((key.to_owned(), what));
            return;
        }
        sides => sides,
    };
    let folder = key.rsplit('/').next().unwrap_or(key);
    let problem = [patient, folder].into_iter().find_map(super::names::problem);
    let date = dates::in_name(folder).or_else(|| sides.as_ref().ok().and_then(|s| dates::in_photos(s)));
    let sides = match problem {
        Some(problem) => Err(problem),
        None => sides,
    };
    found.visits.push(Visit { name: key.to_owned(), patient: patient.to_owned(), date, sides });
}

/// What one folder holds: its photos (or why they cannot be used), its folders, and the
/// rest (names given from the input, `prefix` first).
struct Scan {
    pictures: Result<Vec<(Side, PathBuf)>, String>,
    folders: Vec<(String, PathBuf)>,
    others: Vec<String>,
    /// Hidden entries, `name (hidden)`.
    hidden: Vec<String>,
    /// How many entries it holds, hidden ones too.
    held: usize,
}

impl Scan {
    /// Whether the folder is a visit's: photos in it, or a reason its photos cannot be used.
    fn is_visit(&self) -> bool {
        self.pictures.as_ref().map_or(true, |sides| !sides.is_empty())
    }

    /// The folders in it that hold photos, as visits do.
    fn visits_inside(&self) -> Vec<String> {
        let holds_photos = |folder: &Path| scan(folder, "").is_ok_and(|inner| inner.is_visit());
        self.folders.iter().filter(|(_, folder)| holds_photos(folder)).map(|(name, _)| name.clone()).collect()
    }
}

fn scan(folder: &Path, prefix: &str) -> std::io::Result<Scan> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    let mut scanned = Scan {
        pictures: Ok(Vec::new()),
        folders: Vec::new(),
        others: Vec::new(),
        hidden: Vec::new(),
        held: entries.len(),
    };
    for path in entries {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        // Hidden entries (`.DS_Store`, `.git`) are nobody's; nor may a visit's name be one
        // of the run's own hidden folders beside the visits' (`.<visit>.saving`).
        if file_name.starts_with('.') {
            scanned.hidden.push(format!("{prefix}{file_name} (hidden)"));
            continue;
        }
        let lower = file_name.to_lowercase();
        let side = Side::ALL.into_iter().find(|s| lower.starts_with(s.as_str()));
        let picture = lower.rsplit_once('.').is_some_and(|(_, extension)| PICTURES.contains(&extension));
        let meta = std::fs::metadata(&path);
        match (side, picture, &meta) {
            (Some(side), true, Ok(meta)) if !meta.is_dir() => {
                let sides = match &mut scanned.pictures {
                    Ok(sides) => sides,
                    Err(_) => continue,
                };
                match sides.iter().find(|(s, _)| *s == side) {
                    Some((_, first)) => {
                        let first = first.file_name().unwrap_or_default().to_string_lossy();
                        let why = format!("two {side} photos, {first} and {file_name}: keep the one of this visit");
                        scanned.pictures = Err(why);
                    }
                    None => sides.push((side, path)),
                }
            }
            (Some(_), true, Ok(_)) => scanned.pictures = Err(format!("{file_name} is a folder, not an image")),
            (Some(_), true, Err(e)) => scanned.pictures = Err(format!("{file_name}: {}", unreadable(&path, e))),
            (_, _, Ok(meta)) if meta.is_dir() => scanned.folders.push((format!("{prefix}{file_name}"), path)),
            // A link to a folder that is gone: a visit that cannot be read, told by `find`.
            (_, _, Err(_)) if prefix.is_empty() => scanned.folders.push((file_name, path)),
            _ => scanned.others.push(format!("{prefix}{file_name}")),
        }
    }
    if let Ok(sides) = &mut scanned.pictures {
        sides.sort_by_key(|(side, _)| Side::ALL.iter().position(|s| s == side));
    }
    Ok(scanned)
}

/// The extensions of pictures a visit's photos may have (lower case).
const PICTURES: [&str; 9] = ["jpg", "jpeg", "png", "webp", "heic", "heif", "bmp", "tif", "tiff"];

/// Why `path` cannot be read: a link to nothing, or the system's word.
fn unreadable(path: &Path, error: &std::io::Error) -> String {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_symlink() => "a broken link".to_owned(),
        _ => format!("cannot read it: {error}"),
    }
}

#[cfg(test)]
mod tests;
