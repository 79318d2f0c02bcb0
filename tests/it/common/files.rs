//! Temporary files for image inputs.

use std::path::{Path, PathBuf};

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hautai-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to `name` in this directory.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic bytes that look nothing alike per side, after the first bytes of a JPEG
/// (the client refuses a photo that begins as no format the service takes).
pub fn photo(seed: u8, len: usize) -> Vec<u8> {
    let body = (3..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed));
    [0xFF, 0xD8, 0xFF].into_iter().take(len).chain(body).collect()
}

/// Writes the three photos of the visit folder `input/<path>` (a drawn face, different for
/// each `n`), as a clinic's folder holds them.
pub fn write_visit(input: &Path, path: &str, n: u32) -> PathBuf {
    let folder = input.join(path);
    std::fs::create_dir_all(&folder).unwrap();
    for side in hautai::Side::ALL {
        std::fs::write(folder.join(format!("{side}.png")), hautai::emulator::sample_photo(side, 150 + n, 180)).unwrap();
    }
    folder
}
