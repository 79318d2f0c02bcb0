//! Temporary files beside where they will be renamed to, each writer's own:
//! `.<name>.<process>-<n>.<suffix>`. Downloads and the folder run's files both use them, so
//! that a reader sees a file whole or not at all.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Creates a new temporary file beside `path`, named after it. A name no other writer uses:
/// one that a killed run left under this process id (a container's pid is often the same
/// every run) is passed over, not failed on.
pub(crate) fn create_beside(path: &Path, suffix: &str) -> io::Result<(PathBuf, File)> {
    static CREATED: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let mut temporary = std::ffi::OsString::from(".");
        temporary.push(name);
        temporary.push(format!(".{}-{n}.{suffix}", std::process::id()));
        let temporary = path.with_file_name(temporary);
        match File::create_new(&temporary) {
            Ok(file) => return Ok((temporary, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_a_killed_run_left_is_passed_over() {
        let dir = std::env::temp_dir().join(format!("hautai-temporary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.html");
        let (first, _) = create_beside(&path, "tmp").unwrap();
        // Whatever the next numbers are, a killed run of this process id may have left them.
        let taken = |n: u64| dir.join(format!(".report.html.{}-{n}.tmp", std::process::id()));
        let next = first
            .file_name()
            .unwrap()
            .to_string_lossy()
            .rsplit('-')
            .next()
            .unwrap()
            .trim_end_matches(".tmp")
            .parse::<u64>()
            .unwrap();
        for n in next + 1..next + 50 {
            std::fs::write(taken(n), b"left by a killed run").unwrap();
        }
        let (second, _) = create_beside(&path, "tmp").unwrap();
        assert!(second != first && std::fs::read(&second).unwrap().is_empty(), "{second:?}");
        assert!(create_beside(Path::new("/"), "tmp").is_err(), "a path without a name");
        assert!(create_beside(&dir.join("missing/report.html"), "tmp").is_err(), "a folder that is not there");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
