//! Files written whole or not at all, and the checks a run makes before it pays for anything.

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
    let (temporary, file) = crate::temporary::create_beside(path, "tmp")?;
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
/// process's own: shards check one folder at once).
pub(crate) fn writable(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

/// Removes what an earlier save left in a visit's folder: `results.json` first (so the
/// folder never says it holds results while they change), then the report, every asset
/// and any temporary file, so that no picture of another batch (another patient's, after
/// a retry) stays beside new results.
pub(crate) fn clear_visit(dir: &Path) -> io::Result<()> {
    let gone = |result: io::Result<()>| match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    gone(std::fs::remove_file(dir.join("results.json")))?;
    gone(std::fs::remove_file(dir.join("report.html")))?;
    gone(std::fs::remove_dir_all(dir.join("assets")))?;
    // Temporary files a killed save left (a report half written, an asset half downloaded).
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".partial")) {
            gone(std::fs::remove_file(entry.path()))?;
        }
    }
    Ok(())
}

/// Moves a visit's folder `dir` to a new folder `<aside>/<label>` (or `<label>-2`, ...),
/// creating `aside`, and returns where it went. What an earlier save left there then
/// passes for nobody's current results, and is kept for the record.
pub(crate) fn set_aside(dir: &Path, aside: &Path, label: &str) -> io::Result<PathBuf> {
    std::fs::create_dir_all(aside)?;
    let mut n = 1;
    loop {
        let target = match n {
            1 => aside.join(label),
            n => aside.join(format!("{label}-{n}")),
        };
        // `rename` would replace an empty folder of that name: look first, then move.
        if target.symlink_metadata().is_err() {
            return std::fs::rename(dir, &target).map(|()| target);
        }
        n += 1;
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
    fn clearing_a_visit_removes_only_what_a_save_writes() {
        let dir = scratch("clear");
        for file in
            ["results.json", "report.html", ".report.html.1-2.tmp", ".a.png.1-2.partial", "notes.tmp", ".hidden"]
        {
            std::fs::write(dir.join(file), b"x").unwrap();
        }
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("assets/a.png"), b"x").unwrap();
        clear_visit(&dir).unwrap();
        let mut left: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".hidden", "notes.tmp"]);
        clear_visit(&dir).unwrap(); // nothing left to remove is not an error
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_visit_set_aside_twice_keeps_both() {
        let dir = scratch("aside");
        for round in ["first", "second"] {
            std::fs::create_dir_all(dir.join("visit")).unwrap();
            std::fs::write(dir.join("visit/results.json"), round).unwrap();
            set_aside(&dir.join("visit"), &dir.join("superseded"), "visit-batch").unwrap();
        }
        let read =
            |name: &str| std::fs::read_to_string(dir.join("superseded").join(name).join("results.json")).unwrap();
        assert_eq!((read("visit-batch"), read("visit-batch-2")), ("first".to_owned(), "second".to_owned()));
        assert!(!dir.join("visit").exists());
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
