//! Keeping two runs off the same jobs: OS file locks in the journal folder.
//!
//! * `lock`: held for a moment by a run that opens the folder (or writes a report over
//!   every shard's jobs), so that runs starting at once see each other.
//! * `run-<shard>.lock`: held by a live run for its whole life, and naming it (process id,
//!   shard, start). A run may start only if no live run's shard could hold one of its
//!   jobs: shards of one layout (`I/N`, same `N`) run side by side, anything else waits.
//!
//! The kernel releases a lock when its process ends, `kill -9` included, so a lock file
//! left behind by a dead run is simply free.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::shard::Shard;

/// The folder's short-lived lock, held while this value lives.
pub(crate) struct Folder {
    dir: PathBuf,
    _file: File,
}

/// A live run's lock on its jobs, held while this value lives.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

impl Folder {
    /// Takes the folder's lock, waiting while another run holds it (only ever briefly).
    pub(crate) fn lock(dir: &Path) -> io::Result<Folder> {
        let file = crate::util::private::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))?;
        file.lock()?;
        Ok(Folder { dir: dir.to_path_buf(), _file: file })
    }

    /// Claims the jobs of `shard` for this process, or says which live run holds them.
    pub(crate) fn claim(&self, shard: Shard) -> io::Result<RunLock> {
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if !(name.starts_with("run-") && name.ends_with(".lock")) {
                continue;
            }
            let mut file = OpenOptions::new().read(true).write(true).open(&path)?;
            match file.try_lock() {
                // Its run is over: the file is free (and removed, under the folder's lock).
                Ok(()) => {
                    drop(file);
                    let _ = std::fs::remove_file(&path);
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    file.read_to_string(&mut text)?;
                    let holder = Holder::parse(&text);
                    if holder.shard.is_none_or(|theirs| overlap(shard, theirs)) {
                        return Err(busy(&holder));
                    }
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(error),
            }
        }
        let path = self.dir.join(format!("run-{}.lock", shard.to_string().replace('/', "-of-")));
        let mut file =
            crate::util::private::options().read(true).write(true).create(true).truncate(false).open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(busy(&Holder::default())),
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
        file.set_len(0)?;
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        write!(file, "pid={}\nshard={shard}\nstarted={started}\n", std::process::id())?;
        file.sync_data()?;
        Ok(RunLock { _file: file })
    }
}

/// Whether runs of shards `a` and `b` could work the same job: always, unless they are
/// different shards of one layout.
fn overlap(a: Shard, b: Shard) -> bool {
    !(a.count() == b.count() && a.index() != b.index())
}

/// What a live run's lock file says of it.
#[derive(Debug, Default)]
struct Holder {
    pid: Option<u32>,
    shard: Option<Shard>,
    started: Option<u64>,
}

impl Holder {
    fn parse(text: &str) -> Holder {
        let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix('='));
        Holder {
            pid: field("pid").and_then(|v| v.parse().ok()),
            shard: field("shard").and_then(|v| v.parse().ok()),
            started: field("started").and_then(|v| v.parse().ok()),
        }
    }
}

/// The refusal: which run holds the folder (what to do is the error's to say).
fn busy(holder: &Holder) -> io::Error {
    let mut who = match holder.pid {
        Some(pid) if pid == std::process::id() => String::from("another run of this process"),
        _ => String::from("another run"),
    };
    if let Some(pid) = holder.pid {
        who.push_str(&format!(" (process {pid}"));
        if let Some(shard) = holder.shard {
            who.push_str(&format!(", shard {shard}"));
        }
        if let Some(started) = holder.started {
            who.push_str(&format!(", started {}", utc(started)));
        }
        who.push(')');
    }
    io::Error::new(io::ErrorKind::ResourceBusy, who)
}

/// `2026-12-01 05:12:03 UTC` for seconds since 1970.
fn utc(seconds: u64) -> String {
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    let (year, month, day) = crate::util::civil::civil_from_days(days);
    format!("{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest / 60 % 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(i: u32, n: u32) -> Shard {
        Shard::new(i, n).unwrap()
    }

    #[test]
    fn only_other_shards_of_one_layout_run_side_by_side() {
        assert!(!overlap(shard(0, 2), shard(1, 2)));
        assert!(overlap(shard(0, 2), shard(0, 2)));
        assert!(overlap(Shard::ALL, shard(1, 2)));
        assert!(overlap(shard(1, 3), shard(0, 2)));
        assert!(overlap(Shard::ALL, Shard::ALL));
    }

    #[test]
    fn a_second_claim_is_refused_naming_the_first_and_a_released_one_is_free() {
        let dir = std::env::temp_dir().join(format!("hautai-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let folder = Folder::lock(&dir).unwrap();
        let zero = folder.claim(shard(0, 2)).unwrap();
        let one = folder.claim(shard(1, 2)).unwrap();
        let error = folder.claim(Shard::ALL).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ResourceBusy);
        let message = error.to_string();
        assert!(message.contains(&format!("process {}", std::process::id())), "{message}");
        assert!(message.contains("shard 0/2") || message.contains("shard 1/2"), "{message}");
        assert!(message.contains(" UTC)"), "{message}");
        assert!(folder.claim(shard(0, 2)).is_err());
        drop((zero, one));
        // Released: free again, and the stale files are gone; files that are not run locks stay.
        std::fs::write(dir.join("run-notes.txt"), "mine").unwrap();
        std::fs::write(dir.join("notes.lock"), "mine").unwrap();
        let all = folder.claim(Shard::ALL).unwrap();
        let files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!files.iter().any(|f| f.contains("of-2")), "{files:?}");
        assert!(files.contains(&"run-notes.txt".to_owned()) && files.contains(&"notes.lock".to_owned()), "{files:?}");
        drop(all);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_796_101_923), "2026-12-01 05:12:03 UTC");
    }
}
