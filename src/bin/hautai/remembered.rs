//! What the command remembers between runs: how long each service's recent batches took
//! to be ready, so that a one-shot `hautai analyze` polls around that time from its
//! second run instead of starting from nothing (see `Session::readiness_history`).
//!
//! One small JSON file, `hautai/readiness.json` in the user's cache folder
//! (`$XDG_CACHE_HOME` where it is set, else `~/.cache`, `~/Library/Caches` on macOS,
//! `%LOCALAPPDATA%` on Windows), keyed by base URL and bounded: 20 times for each of the 16 services used
//! last. It holds no token and nothing of a patient. A file that is missing, unreadable,
//! corrupt or too big is ignored, and replaced by the next run.

use std::path::PathBuf;
use std::time::Duration;

use hautai::Session;
use serde::{Deserialize, Serialize};

/// Services remembered: the ones used last.
const SERVICES: usize = 16;
/// Readiness times remembered per service (the session learns from as many).
const TIMES: usize = 20;
/// A file bigger than this is no file of ours.
const MAX_BYTES: u64 = 64 * 1024;

#[derive(Serialize, Deserialize, Default)]
struct Remembered {
    /// Most recently used first.
    services: Vec<Service>,
}

#[derive(Serialize, Deserialize)]
struct Service {
    base_url: String,
    /// Milliseconds from compute to the poll that found the results complete, oldest first.
    ready_ms: Vec<u64>,
}

/// Gives `session` what earlier runs learned of its service, if anything.
pub fn recall(session: &Session) {
    let Some(service) = read().services.into_iter().find(|s| s.base_url == session.base_url()) else { return };
    let skip = service.ready_ms.len().saturating_sub(TIMES);
    session.remember_readiness(service.ready_ms.into_iter().skip(skip).map(Duration::from_millis));
}

/// Keeps what `session` learned of its service for the next run. A file that cannot be
/// written costs the next run its head start, nothing else: never an error.
pub fn keep(session: &Session) {
    let history = session.readiness_history();
    if history.is_empty() {
        return;
    }
    let Some(path) = file() else { return };
    let mut remembered = read();
    remembered.services.retain(|s| s.base_url != session.base_url());
    let skip = history.len().saturating_sub(TIMES);
    let ready_ms = history.iter().skip(skip).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).collect();
    remembered.services.insert(0, Service { base_url: session.base_url().to_owned(), ready_ms });
    remembered.services.truncate(SERVICES);
    for service in &mut remembered.services {
        let skip = service.ready_ms.len().saturating_sub(TIMES);
        service.ready_ms.drain(..skip);
    }
    let Ok(json) = serde_json::to_vec(&remembered) else { return };
    let _ = write_whole(&path, &json);
}

/// What the file says; nothing when it is missing, too big or not ours.
fn read() -> Remembered {
    let Some(path) = file() else { return Remembered::default() };
    let small = std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_BYTES);
    let text = if small { std::fs::read(&path).unwrap_or_default() } else { Vec::new() };
    serde_json::from_slice(&text).unwrap_or_default()
}

/// Writes `bytes` beside `path` and renames it into place: a reader sees the old file or
/// the new one, never half of one (two runs at once: the last one's stays).
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    crate::private::create_dir_all(dir)?;
    // A name of this write's own, made new (never a file or a link that was there).
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let temporary = dir.join(format!(".readiness.json.{}-{stamp:x}.tmp", std::process::id()));
    let written = crate::private::create_new(&temporary).and_then(|mut file| file.write_all(bytes));
    let renamed = written.and_then(|()| std::fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}

/// `<the user's cache folder>/hautai/readiness.json`, if the system names one.
fn file() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let platform = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library/Caches"))
    } else {
        var("HOME").map(|home| home.join(".cache"))
    };
    let cache = var("XDG_CACHE_HOME").or(platform);
    Some(cache?.join("hautai").join("readiness.json"))
}
