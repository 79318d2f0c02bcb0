//! The world a simulated clinic acts on: an input folder of visits, an output folder (on a
//! small file system of its own where the test may mount one, so that it can fill up), an
//! emulator as the service, and what the test knows independently of the code under test:
//! which photos each batch was made from, as the service stored them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hautai::Side;
use hautai::clock::VirtualClock;
use hautai::emulator::{Emulator, EmulatorConfig, Maturity};
use hautai::folder::{FolderRun, FolderSummary, SaveOptions};
use hautai::save::Limits;

/// The visit names a sequence draws from: two spell one name in NFC and NFD, two differ
/// only in case; three are dated visits of a patient whose name comes in two cases.
pub const NAMES: [&str; 9] = [
    "anna",
    "bob",
    "cara",
    "Jos\u{e9}",
    "Jose\u{301}",
    "Bob",
    "dora/2026-01-05",
    "dora/2026-02-01T10-30",
    "Dora/20260301",
];

/// A visit's photos: each side's size and FNV-1a hash.
pub type Photos = Vec<(Side, (u64, u64))>;

/// The photo sets a sequence draws from (each side different in each set).
pub const PHOTO_SETS: u8 = 6;

/// A side's photo of set `set`: a tiny drawn face, different for each set and side.
pub fn photo(set: u8, side: Side) -> Vec<u8> {
    hautai::emulator::sample_photo(side, 12 + u32::from(set), 14)
}

/// A folder that is removed when dropped, on a file system of its own of `bytes` when the
/// test may mount one (root on Linux), else an ordinary folder.
pub struct Disk {
    path: PathBuf,
    mounted: bool,
}

impl Disk {
    pub fn new(path: PathBuf, bytes: u64) -> Disk {
        std::fs::create_dir_all(&path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Disk { path, mounted }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fills it but for about `left` bytes (a file of the test's own), or frees it (`None`).
    pub fn fill(&self, left: Option<u64>) {
        let filler = self.path.join("filler");
        let _ = std::fs::remove_file(&filler);
        let (Some(left), true) = (left, self.mounted) else { return };
        let free = free_bytes(&self.path);
        let _ = std::fs::write(&filler, vec![0u8; free.saturating_sub(left) as usize]);
    }
}

impl Disk {
    /// Calls `f` with a little room made on a full disk (the test's own filler cut by 64
    /// KiB, and grown back after), for the test's own writes.
    pub fn with_room<T>(&self, f: impl FnOnce() -> T) -> T {
        let filler = self.path.join("filler");
        let Ok(len) = std::fs::metadata(&filler).map(|m| m.len()) else { return f() };
        let mut file = std::fs::OpenOptions::new().append(true).open(&filler).unwrap();
        let cut = len.min(64 << 10);
        file.set_len(len - cut).unwrap();
        let done = f();
        // Written back (a file grown by set_len would only be a hole, taking no room).
        let _ = std::io::Write::write_all(&mut file, &vec![0; cut as usize]);
        done
    }
}

impl Disk {
    /// Unmounts it (once) and removes the folder.
    fn remove(&mut self) {
        if std::mem::take(&mut self.mounted) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The bytes free on the file system of `path` (from `df`).
fn free_bytes(path: &Path) -> u64 {
    let out = std::process::Command::new("df").args(["-B1", "--output=avail"]).arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or(0)
}

/// Where everything of one sequence lives.
pub struct World {
    root: PathBuf,
    pub disk: Disk,
    pub emulator: Emulator,
    /// Photos taken out of the input (made unreadable), to put back: visit → side → bytes.
    pub away: HashMap<String, Vec<(Side, Vec<u8>)>>,
    /// Batch → the size and FNV-1a hash of each side's photo, as the service stored it
    /// (kept across `forget_batches`).
    pub stored: HashMap<hautai::Uuid, Photos>,
    /// Batch → how many computes the service took for it (kept across `forget_batches`).
    pub computed: HashMap<hautai::Uuid, u32>,
    /// The same, before the last step.
    pub computed_before: HashMap<hautai::Uuid, u32>,
}

impl World {
    pub fn new(n: u64) -> World {
        // Files on a memory file system where there is one: a journal's fsync costs nothing.
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() { base.to_path_buf() } else { std::env::temp_dir() };
        let root = base.join(format!("hautai-sim-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("in")).unwrap();
        let disk = Disk::new(root.join("disk"), 24 << 20);
        let emulator = Emulator::start(EmulatorConfig::new().maturity(Maturity::Polls(1))).unwrap();
        let (away, stored, computed, computed_before) = Default::default();
        World { root, disk, emulator, away, stored, computed, computed_before }
    }

    pub fn input(&self) -> PathBuf {
        self.root.join("in")
    }

    pub fn output(&self) -> PathBuf {
        self.disk.path().join("out")
    }

    /// A session on the emulator whose waits take no time: polls a second apart, ten
    /// seconds for an analysis (results that never come cost ten polls, not a thousand).
    pub fn session(&self) -> hautai::Session {
        let clock = Arc::new(VirtualClock::with_limit(Duration::from_secs(30 * 24 * 3600), 100_000));
        crate::common::fast(self.emulator.session_builder())
            .clock(clock)
            .poll_schedule(hautai::config::PollSchedule::fixed(Duration::from_secs(1)))
            .deadline(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// A folder run as the simulation's user starts it.
    pub fn run(&self, run: &RunSettings, stop: Option<&AtomicBool>) -> Result<FolderSummary, String> {
        let session = self.session();
        let limits = Limits::default().max_assets(4);
        let mut folder = FolderRun::new(&session, self.input(), self.output())
            .concurrency(usize::from(run.concurrency))
            .shard(run.shard)
            .retry_failed(run.retry_failed)
            .save(SaveOptions::new().assets(run.assets).limits(limits));
        if let Some(stop) = stop {
            folder = folder.stop_when(stop);
        }
        folder.run(|_| {}).map_err(|refused| refused.to_string())
    }

    /// Notes what the service stored for each batch it knows now.
    pub fn learn_batches(&mut self) {
        self.computed_before = self.computed.clone();
        for batch in self.emulator.batch_ids() {
            let sides: Photos = Side::ALL
                .into_iter()
                .filter_map(|side| Some((side, self.emulator.stored_image(batch, side)?)))
                .collect();
            if !sides.is_empty() {
                self.stored.insert(batch, sides);
            }
            self.computed.insert(batch, self.emulator.compute_calls(batch));
        }
    }

    /// The size and FNV-1a hash of each side's photo of the visit folder `name` now, or
    /// `None` when they cannot be read, or when the folder is not one visit's photos.
    pub fn photos_of(&self, name: &str) -> Option<Photos> {
        // The run names a visit in NFC: `José` may be the folder `Jose\u{301}` (NFD).
        let written = [name.to_owned(), name.replace('\u{e9}', "e\u{301}")];
        let found = written.iter().map(|name| self.input().join(name)).find(|folder| folder.exists());
        let folder = found.unwrap_or_else(|| self.input().join(name));
        let mut sides = Vec::new();
        for side in Side::ALL {
            let path = folder.join(format!("{side}.png"));
            match std::fs::read(&path) {
                Ok(bytes) => sides.push((side, (bytes.len() as u64, hautai_fnv(&bytes)))),
                Err(_) if path.symlink_metadata().is_err() => {}
                Err(_) => return None,
            }
        }
        (!sides.is_empty()).then_some(sides)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // The disk first: a folder with a file system mounted in it cannot be removed.
        self.disk.remove();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// How a run is started.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub concurrency: u8,
    pub shard: hautai::bulk::Shard,
    pub retry_failed: bool,
    pub assets: bool,
}

/// FNV-1a 64, as the emulator's request record uses.
pub fn hautai_fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}
