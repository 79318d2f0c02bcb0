//! An emulator whose service outlives its process: its company, subjects and batches kept
//! in a file (`EmulatorConfig::keep_state`), written after every request, and read back
//! by the next emulator started with that file, on the same ports. So a program killed
//! in the middle of its work, and run again, finds the service it paid: the batches it
//! created, their photos and their results, as a real service keeps them.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state::State;

/// What is kept of an emulator: what it was bound to, and its service's data.
#[derive(Serialize, Deserialize)]
pub(crate) struct Kept {
    pub(crate) api_port: u16,
    pub(crate) storage_port: u16,
    pub(crate) data: super::state::Data,
}

/// The emulator kept in `path`: `None` when there is no file yet. A file that is not one
/// of ours is an error (never replaced by a new service without a word).
pub(crate) fn load(path: &Path) -> io::Result<Option<Kept>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{} is no emulator's state: {e}", path.display()))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes what `state` holds into `path`, whole (beside it, then renamed over it).
pub(crate) fn save(path: &Path, state: &State, (api_port, storage_port): (u16, u16)) -> io::Result<()> {
    let kept = Kept { api_port, storage_port, data: state.data() };
    let json = serde_json::to_vec(&kept).map_err(io::Error::other)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::util::private::create_dir_all(dir)?;
    }
    let (temporary, mut file) = crate::util::temporary::create_beside(path, "tmp")?;
    let written = io::Write::write_all(&mut file, &json).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
