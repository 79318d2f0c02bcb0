//! Files and folders that hold patient data (results, reports, pictures of faces, the
//! journal): readable and writable by their owner only, 0600 and 0700 on Unix whatever the
//! umask, as a clinic's records must be. Every file and folder the crate creates is
//! created here. Elsewhere (Windows) a new file takes its folder's access rules.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};

/// The mode of a new file: its owner reads and writes it.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// The mode of a new folder: its owner lists, enters and changes it.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// `std::fs::create_dir_all`, every folder it makes its owner's only. Folders that were
/// there already keep their mode (the caller's choice).
pub(crate) fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(path)
}

#[cfg(feature = "folder")]
/// `std::fs::create_dir`: a new folder, its owner's only.
pub(crate) fn create_dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(path)
}

/// Options that create a file its owner's only (the umask can take more away, never add).
pub(crate) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options
}

/// `File::create_new`: a new file, its owner's only, or `AlreadyExists`.
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    options().read(true).write(true).create_new(true).open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn what_is_created_here_is_its_owners_only() {
        let dir = std::env::temp_dir().join(format!("hautai-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        create_dir_all(&dir.join("a/b")).unwrap();
        create_dir(&dir.join("a/c")).unwrap();
        create_new(&dir.join("a/b/file")).unwrap();
        let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            (mode("."), mode("a"), mode("a/b"), mode("a/c"), mode("a/b/file")),
            (0o700, 0o700, 0o700, 0o700, 0o600)
        );
        assert_eq!(create_new(&dir.join("a/b/file")).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
