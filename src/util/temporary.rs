//! Temporary files and folders beside where they will be renamed to, each writer's own:
//! `.<name>.<process>-<n>.<suffix>`, never longer than a file name may be. Downloads, the
//! folder run's files and whole saves use them, so that a reader sees a file or a folder
//! whole or not at all.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The longest file name every file system here takes, in bytes (Linux, macOS; Windows
/// counts UTF-16 units, which are never more).
pub(crate) const NAME_MAX: usize = 255;

/// `name`, cut to at most `max` bytes at a character boundary, with `~` and a stable hash
/// of the whole name in place of what was cut: names that differ stay different.
pub(crate) fn bounded(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let hash = format!("~{:016x}", crate::util::fnv::fnv1a(name.as_bytes()));
    let mut keep = max.saturating_sub(hash.len());
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{hash}", &name[..keep])
}

/// A writer's name beside `path`: `.<name>.<process>-<n>.<suffix>`, the name bounded so
/// that the whole fits in [`NAME_MAX`].
fn beside(path: &Path, n: u64, suffix: &str) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let tail = format!(".{}-{n}.{suffix}", std::process::id());
    let name = bounded(&name.to_string_lossy(), NAME_MAX - 1 - tail.len());
    Ok(path.with_file_name(format!(".{name}{tail}")))
}

/// Names beside `path` that no writer of this process used yet: a killed run of this
/// process id (a container's pid is often the same every run) may have left some, which
/// `create` passes over.
fn create_new<T>(path: &Path, suffix: &str, create: impl Fn(&Path) -> io::Result<T>) -> io::Result<(PathBuf, T)> {
    static CREATED: AtomicU64 = AtomicU64::new(0);
    loop {
        let temporary = beside(path, CREATED.fetch_add(1, Ordering::Relaxed), suffix)?;
        match create(&temporary) {
            Ok(made) => return Ok((temporary, made)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Creates a new temporary file beside `path`, named after it.
pub(crate) fn create_beside(path: &Path, suffix: &str) -> io::Result<(PathBuf, File)> {
    create_new(path, suffix, crate::util::private::create_new)
}

#[cfg(feature = "folder")]
/// The folder beside `dir` that `suffix` names: `.<dir's name>.<suffix>`, bounded.
fn sibling(dir: &Path, suffix: &str) -> io::Result<PathBuf> {
    let name = dir.file_name().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let name = bounded(&name.to_string_lossy(), NAME_MAX - 2 - suffix.len());
    Ok(dir.with_file_name(format!(".{name}.{suffix}")))
}

#[cfg(feature = "folder")]
/// A new, empty folder to build what will take `dir`'s place in (see [`swap_in`]), in
/// `.<dir>.saving/`, where [`restore`] finds what a killed writer left.
pub(crate) fn staging(dir: &Path) -> io::Result<PathBuf> {
    let holder = sibling(dir, "saving")?;
    crate::util::private::create_dir_all(&holder)?;
    create_new(&holder.join("save"), "new", crate::util::private::create_dir).map(|(made, ())| made)
}

#[cfg(feature = "folder")]
/// Removes a folder from [`staging`] that will not take its place, and its holder once
/// no writer uses it.
pub(crate) fn discard(staging: &Path) {
    let _ = std::fs::remove_dir_all(staging);
    if let Some(holder) = staging.parent() {
        let _ = std::fs::remove_dir(holder);
    }
}

#[cfg(feature = "folder")]
/// Puts the whole folder `staging` (from [`staging`]) in the place of `dir` with renames
/// only: `dir`, if there, goes aside first (`.<dir>.replaced`) and is removed once
/// `staging` is in. If the second rename fails, `dir` is put back. A crash between the
/// renames leaves `dir` aside, where [`restore`] finds it. One writer of `dir` at a time.
pub(crate) fn swap_in(staging: &Path, dir: &Path) -> io::Result<()> {
    let aside = sibling(dir, "replaced")?;
    if dir.symlink_metadata().is_ok() {
        if aside.symlink_metadata().is_ok() {
            std::fs::remove_dir_all(&aside)?;
        }
        std::fs::rename(dir, &aside)?;
    }
    if let Err(e) = std::fs::rename(staging, dir) {
        let _ = std::fs::rename(&aside, dir);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&aside);
    // The holder of staging folders, once no writer uses it.
    let _ = std::fs::remove_dir(sibling(dir, "saving")?);
    Ok(())
}

#[cfg(feature = "folder")]
/// Mends what a writer of `dir` killed in the middle of a save left: if `dir` is gone and
/// an earlier `dir` was set aside by [`swap_in`], it is put back (the last whole save);
/// folders being built, and an earlier `dir` no longer needed, are removed. Call it where
/// no other writer of `dir` runs.
pub(crate) fn restore(dir: &Path) -> io::Result<()> {
    let aside = sibling(dir, "replaced")?;
    if aside.symlink_metadata().is_ok() {
        match dir.symlink_metadata() {
            Err(_) => std::fs::rename(&aside, dir)?,
            Ok(_) => std::fs::remove_dir_all(&aside)?,
        }
    }
    let holder = sibling(dir, "saving")?;
    if holder.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(holder)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hautai-temporary-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_name_a_killed_run_left_is_passed_over() {
        let dir = scratch("passed-over");
        let path = dir.join("report.html");
        let (first, _) = create_beside(&path, "tmp").unwrap();
        // Whatever the next numbers are, a killed run of this process id may have left them.
        let taken = |n: u64| dir.join(format!(".report.html.{}-{n}.tmp", std::process::id()));
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        let next = name.rsplit('-').next().unwrap().trim_end_matches(".tmp").parse::<u64>().unwrap();
        for n in next + 1..next + 50 {
            std::fs::write(taken(n), b"left by a killed run").unwrap();
        }
        let (second, _) = create_beside(&path, "tmp").unwrap();
        assert!(second != first && std::fs::read(&second).unwrap().is_empty(), "{second:?}");
        assert!(create_beside(Path::new("/"), "tmp").is_err(), "a path without a name");
        assert!(create_beside(&dir.join("missing/report.html"), "tmp").is_err(), "a folder that is not there");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_are_bounded_with_a_stable_hash_of_what_was_cut() {
        assert_eq!(bounded("short", 10), "short");
        let long = "é".repeat(200); // 400 bytes
        let (a, b) = (bounded(&long, 100), bounded(&format!("{long}x"), 100));
        assert!(a.len() <= 100 && b.len() <= 100 && a != b, "{a} {b}");
        assert_eq!(a, bounded(&long, 100), "stable");
        assert!(a.starts_with("éé") && a.contains('~'), "{a}");
        let dir = scratch("bounded");
        let (file, _) = create_beside(&dir.join("x".repeat(255)), "partial").unwrap();
        assert!(file.file_name().unwrap().len() <= NAME_MAX, "{file:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(feature = "folder")]
    #[test]
    fn a_folder_is_swapped_in_whole_and_a_swap_cut_short_is_restored() {
        let dir = scratch("swap");
        let visit = dir.join("v".repeat(250));
        std::fs::create_dir_all(&visit).unwrap();
        std::fs::write(visit.join("results.json"), "old").unwrap();
        let staging = staging(&visit).unwrap();
        std::fs::write(staging.join("results.json"), "new").unwrap();
        swap_in(&staging, &visit).unwrap();
        assert_eq!(std::fs::read_to_string(visit.join("results.json")).unwrap(), "new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "nothing left beside it");
        // Killed between the renames: the save before aside, the new one whole but not in.
        std::fs::rename(&visit, sibling(&visit, "replaced").unwrap()).unwrap();
        let built = super::staging(&visit).unwrap();
        std::fs::write(built.join("results.json"), "newer").unwrap();
        std::fs::write(dir.join("other"), "not ours").unwrap();
        restore(&visit).unwrap();
        assert_eq!(std::fs::read_to_string(visit.join("results.json")).unwrap(), "new", "the last whole save");
        assert!(!built.exists());
        assert!(dir.join("other").exists(), "only its own temporary names are touched");
        // Killed after the renames: the save before is still aside, and goes.
        std::fs::create_dir(sibling(&visit, "replaced").unwrap()).unwrap();
        restore(&visit).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        assert_eq!(std::fs::read_to_string(visit.join("results.json")).unwrap(), "new");
        // A swap whose second rename fails puts the earlier folder back.
        let staging = super::staging(&visit).unwrap();
        std::fs::remove_dir(&staging).unwrap();
        assert!(swap_in(&staging, &visit).is_err());
        assert_eq!(std::fs::read_to_string(visit.join("results.json")).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(feature = "folder")]
    #[test]
    fn a_folders_siblings_keep_its_whole_name_when_it_fits_and_a_bounded_one_when_not() {
        let fits = "f".repeat(NAME_MAX - ".saving".len() - 1);
        let sibling = sibling(&Path::new("out").join(&fits), "saving").unwrap();
        assert_eq!(sibling.file_name().unwrap().to_string_lossy(), format!(".{fits}.saving"));
        let long = "l".repeat(NAME_MAX);
        let sibling = super::sibling(&Path::new("out").join(&long), "replaced").unwrap();
        let name = sibling.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name.len(), NAME_MAX, "{name}");
        assert!(name.starts_with(".lll") && name.ends_with(".replaced") && name.contains('~'), "{name}");
    }
}
