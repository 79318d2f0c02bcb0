//! Finding the visits of an input folder: one folder per visit, its photos named by side.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::Side;

/// One visit found in the input folder: its photos by side, or why it cannot be analysed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Visit {
    /// The visit's name: its folder's name.
    pub name: String,
    /// Its photos, front, left and right in that order where present; or the exact reason
    /// it cannot be analysed (a folder where a photo should be, a broken link, a name
    /// that clashes with another visit's). That is this visit's problem, not the run's.
    pub sides: Result<Vec<(Side, PathBuf)>, String>,
}

impl Visit {
    /// A visit of your own making: `name` and its photos by side (for
    /// [`save_visit`](super::save_visit) after an analysis outside a folder run).
    pub fn new(name: impl Into<String>, sides: impl IntoIterator<Item = (Side, PathBuf)>) -> Visit {
        Visit { name: name.into(), sides: Ok(sides.into_iter().collect()) }
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
    /// with what they hold instead: nothing to analyse, and listed as such in the summary
    /// and the index (a visit whose photos were never copied is seen, not lost).
    pub without_photos: Vec<(String, String)>,
}

/// The visits in `input`: each folder is a visit (hidden ones, `.name`, are skipped), and
/// in it the pictures (`.jpg`, `.jpeg`,
/// `.png`, `.webp`, `.heic`, `.heif`, `.bmp`, `.tif`, `.tiff`, any case) whose names start
/// with `front`, `left` or `right` are its photos. A visit with two photos for one side
/// fails (which one is this visit's is for a person to say, not for a sort order), and so
/// do two visits whose names differ only in case or Unicode normalization (one folder on
/// macOS and Windows), and a visit whose name cannot be a folder on Linux, macOS or
/// Windows (`a:b`, `CON`, a name ending with a dot).
///
/// ```no_run
/// let found = hautai::folder::find_visits("visits".as_ref())?;
/// for visit in &found.visits {
///     println!("{}: {}", visit.name, visit.sides_text());
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn find_visits(input: &Path) -> std::io::Result<Found> {
    let mut found = Found::default();
    let mut entries: Vec<_> = std::fs::read_dir(input)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for folder in entries {
        let name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        // Hidden entries (`.DS_Store`, `.git`) are no visits; nor may a visit's name be
        // one of the run's own hidden folders beside the visits' (`.<visit>.saving`).
        if name.starts_with('.') {
            found.skipped.push(format!("{name} (hidden)"));
            continue;
        }
        match std::fs::metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                found.skipped.push(format!("{name} (not a visit folder)"));
                continue;
            }
            // A link to a folder that is gone (an unmounted share, say) is a visit that
            // cannot be read: a failure, not something to skip.
            Err(e) => {
                found.visits.push(Visit { name, sides: Err(unreadable(&folder, &e)) });
                continue;
            }
        }
        match sides_of(&name, &folder, &mut found.skipped) {
            Ok(sides) if sides.is_empty() => {
                found.skipped.push(format!("{name} (no front, left or right image)"));
                let held = std::fs::read_dir(&folder).map_or(0, Iterator::count);
                let what = match held {
                    0 => "the folder is empty".to_owned(),
                    1 => "its one file is no picture named front…, left… or right…".to_owned(),
                    n => format!("none of its {n} files is a picture named front…, left… or right…"),
                };
                found.without_photos.push((name, what));
            }
            _ if let Some(problem) = super::names::problem(&name) => {
                found.visits.push(Visit { name, sides: Err(problem) })
            }
            sides => found.visits.push(Visit { name, sides }),
        }
    }
    refuse_clashes(&mut found.visits);
    Ok(found)
}

/// The sides in a visit's folder, or why the visit cannot be analysed.
fn sides_of(name: &str, folder: &Path, skipped: &mut Vec<String>) -> Result<Vec<(Side, PathBuf)>, String> {
    let read = std::fs::read_dir(folder).map_err(|e| format!("cannot read the folder: {e}"))?;
    let mut files: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut sides: Vec<(Side, PathBuf)> = Vec::new();
    for file in files {
        let file_name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let lower = file_name.to_lowercase();
        let side = Side::ALL.into_iter().find(|s| lower.starts_with(s.as_str()));
        let picture = lower.rsplit_once('.').is_some_and(|(_, extension)| PICTURES.contains(&extension));
        let (Some(side), true) = (side, picture) else {
            skipped.push(format!("{name}/{file_name} (not a front, left or right picture)"));
            continue;
        };
        match std::fs::metadata(&file) {
            Ok(meta) if meta.is_dir() => return Err(format!("{file_name} is a folder, not an image")),
            Ok(_) => match sides.iter().find(|(s, _)| *s == side) {
                Some((_, first)) => {
                    let first = first.file_name().unwrap_or_default().to_string_lossy();
                    return Err(format!("two {side} photos, {first} and {file_name}: keep the one of this visit"));
                }
                None => sides.push((side, file)),
            },
            Err(e) => return Err(format!("{file_name}: {}", unreadable(&file, &e))),
        }
    }
    sides.sort_by_key(|(side, _)| Side::ALL.iter().position(|s| s == side));
    Ok(sides)
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

/// Visits whose names differ only in case or in Unicode normalization (`José` typed on
/// macOS and elsewhere) would share one output folder on macOS and Windows: neither is
/// analysed, and both say why.
fn refuse_clashes(visits: &mut [Visit]) {
    let mut by_folder: HashMap<String, Vec<String>> = HashMap::new();
    for visit in visits.iter() {
        by_folder.entry(super::names::clash_key(&visit.name)).or_default().push(visit.name.clone());
    }
    for visit in visits.iter_mut() {
        let names = &by_folder[&super::names::clash_key(&visit.name)];
        if names.len() > 1 {
            let names: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            visit.sides = Err(format!(
                "{} would share one output folder (names that differ only in case or in how an accent is \
                 written are one folder on macOS and Windows): rename one of them",
                names.join(" and ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_are_folders_of_sides_and_the_rest_is_listed() {
        let dir = std::env::temp_dir().join(format!("hautai-find-visits-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, bytes) in [
            ("a/left_side.png", &b"l"[..]),
            ("a/Front.JPG", b"f"),
            ("a/notes.txt", b"n"),
            ("a/front.txt", b"f"),
            ("e/front-2.jpg", b"f"),
            ("e/front.jpg", b"f"),
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
        let Found { visits, skipped, without_photos } = find_visits(&dir).unwrap();
        let found: Vec<(&str, Result<Vec<Side>, String>)> = visits
            .iter()
            .map(|v| (v.name.as_str(), v.sides.clone().map(|sides| sides.iter().map(|(s, _)| *s).collect())))
            .collect();
        let clash = || {
            Err("\"Dup\" and \"dup\" would share one output folder (names that differ only in case or in how \
                 an accent is written are one folder on macOS and Windows): rename one of them"
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
                ("e", Err("two front photos, front-2.jpg and front.jpg: keep the one of this visit".to_owned())),
            ]
        );
        assert_eq!(
            (visits[1].sides_text(), visits[2].sides_text()),
            ("front, left (no right)".into(), "right (no front, left)".into())
        );
        assert_eq!(skipped.len(), 5, "{skipped:?}");
        for expected in ["empty/readme", "a/notes.txt", "a/front.txt", "empty ", "stray.jpg"] {
            assert!(skipped.iter().any(|s| s.starts_with(expected)), "{expected}: {skipped:?}");
        }
        let held = "its one file is no picture named front…, left… or right…".to_owned();
        assert_eq!(without_photos, [("empty".to_owned(), held)], "listed with what it holds");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
