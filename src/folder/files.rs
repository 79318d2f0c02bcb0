//! Files written whole or not at all, results set aside with their reason, and the checks a
//! run makes before it pays for anything.

use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (see [`write_atomically_with`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

/// Writes `path` atomically with `write`, streaming: a temporary file of this writer's own
/// beside it (process and a counter in its name), then a rename. The temporary file is
/// removed if anything fails, so a reader sees the old file or the new one, whole.
pub(crate) fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let (temporary, file) = crate::util::temporary::create_beside(path, "tmp")?;
    let written = Ok(file)
        .and_then(|file| {
            let mut file = BufWriter::new(file);
            write(&mut file)?;
            // On the disk before the rename: a power cut leaves the old file or the new, whole.
            file.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Creates `dir` if needed and checks that a file can be written there (a probe of this
/// writer's own: shards, and runs in one process, check one folder at once).
pub(crate) fn writable(dir: &Path) -> io::Result<()> {
    crate::util::private::create_dir_all(dir)?;
    let (probe, file) = crate::util::temporary::create_beside(&dir.join("write-check"), "probe")?;
    drop(file);
    std::fs::remove_file(probe)
}

/// Moves a visit's folder `dir` to a new folder in `aside` named after `label` (cut to fit
/// a file name, with a stable hash of what was cut; `-2`, `-3`, ... when taken), with
/// `why` in its `why.txt`, and returns where it went. What an earlier save left then
/// passes for nobody's current results, and is kept for the record. The reason is
/// written first: nothing moves without it (a full disk fails the move instead).
pub(crate) fn set_aside(dir: &Path, aside: &Path, label: &str, why: &str) -> io::Result<PathBuf> {
    use crate::util::temporary::{NAME_MAX, bounded};
    crate::util::private::create_dir_all(aside)?;
    write_atomically(&dir.join("why.txt"), format!("{why}\n").as_bytes())?;
    let label = bounded(label, NAME_MAX - 8);
    let mut n = 1;
    loop {
        let target = match n {
            1 => aside.join(&label),
            n => aside.join(format!("{label}-{n}")),
        };
        // `rename` would replace an empty folder of that name: look first, then move. (A
        // visit of a patient goes into a folder of the patient's: `superseded/anna/…`.)
        if target.symlink_metadata().is_err() {
            crate::util::private::create_dir_all(target.parent().unwrap_or(aside))?;
            return match std::fs::rename(dir, &target) {
                Ok(()) => Ok(target),
                Err(e) => {
                    let _ = std::fs::remove_file(dir.join("why.txt"));
                    Err(e)
                }
            };
        }
        n += 1;
    }
}

/// Results saved in `output` with no journal beside them (a copy that left the hidden
/// `.hautai` behind, say): a run here would not know what they cost, and could pay again
/// for every visit. Says why, to refuse the run before anything is sent.
pub(crate) fn results_without_a_journal(output: &Path, journal: &Path) -> Option<String> {
    let has_journal = std::fs::read_dir(journal).into_iter().flatten().flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        name.starts_with("journal") && name.ends_with(".jsonl")
    });
    let saved = std::fs::read_dir(output.join("visits"))
        .into_iter()
        .flatten()
        .flatten()
        .find(|entry| entry.path().join("results.json").is_file());
    match (has_journal, saved) {
        (false, Some(saved)) => Some(format!(
            "{} holds saved results ({}, ...) but no journal ({} is missing or empty): a run here could pay again \
             for visits analysed before. Put the journal folder back (a copy made with `cp -r OUT/* NEW/` leaves \
             the hidden .hautai behind), or use a new output folder",
            output.display(),
            saved.path().display(),
            journal.display()
        )),
        _ => None,
    }
}

/// `path` made absolute, with the links in the part of it that exists resolved, so that
/// two spellings of one folder compare equal.
pub(crate) fn resolved(path: &Path) -> io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while existing.symlink_metadata().is_err() {
        let Some(parent) = existing.parent() else { break };
        rest.push(existing.file_name().unwrap_or_default().to_owned());
        existing = parent;
    }
    let mut resolved = std::fs::canonicalize(existing)?;
    resolved.extend(rest.iter().rev());
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hautai-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_visit_set_aside_twice_keeps_both() {
        let dir = scratch("aside");
        let long = format!("{}-batch", "v".repeat(250));
        for (label, round) in [("visit-batch", "first"), ("visit-batch", "second"), (long.as_str(), "long")] {
            std::fs::create_dir_all(dir.join("visit")).unwrap();
            std::fs::write(dir.join("visit/results.json"), round).unwrap();
            let to = set_aside(&dir.join("visit"), &dir.join("superseded"), label, &format!("why {round}")).unwrap();
            assert!(to.file_name().unwrap().len() <= 255, "{to:?}");
        }
        let read =
            |name: &str, file: &str| std::fs::read_to_string(dir.join("superseded").join(name).join(file)).unwrap();
        assert_eq!(
            (read("visit-batch", "results.json"), read("visit-batch-2", "results.json")),
            ("first".into(), "second".into())
        );
        assert_eq!(read("visit-batch-2", "why.txt"), "why second\n");
        let names: Vec<usize> =
            std::fs::read_dir(dir.join("superseded")).unwrap().map(|e| e.unwrap().file_name().len()).collect();
        assert_eq!(names.len(), 3, "the long one under a bounded name");
        assert!(names.contains(&(255 - 8)), "as long as a name may be, with room for -2, -3: {names:?}");
        assert!(!dir.join("visit").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_is_set_aside_without_its_reason() {
        let dir = scratch("aside-no-reason");
        std::fs::create_dir_all(dir.join("visit/why.txt/in-the-way")).unwrap();
        std::fs::write(dir.join("visit/results.json"), "kept").unwrap();
        assert!(set_aside(&dir.join("visit"), &dir.join("superseded"), "visit-batch", "why").is_err());
        assert_eq!(std::fs::read_to_string(dir.join("visit/results.json")).unwrap(), "kept", "not moved");
        assert_eq!(std::fs::read_dir(dir.join("superseded")).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_folder_is_resolved_from_the_part_that_exists() {
        let dir = scratch("resolved");
        let resolved = resolved(&dir.join("a/b")).unwrap();
        assert_eq!(resolved, std::fs::canonicalize(&dir).unwrap().join("a/b"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
