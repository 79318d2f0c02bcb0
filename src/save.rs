//! Saving a batch's assets into a folder, bounded: how many files and how many bytes one
//! save may fetch, so that an answer with thousands of URLs, or huge files, cannot fill a
//! disk or hold a report hostage. What is over the limit is left out and said so.
//!
//! ```no_run
//! # let session = hautai::Session::from_env()?;
//! # let batch_id = hautai::Uuid::nil();
//! let results = session.results(batch_id, &hautai::model::ResultsQuery::new())?;
//! let saved = session.save_assets(&results.assets(), "out/assets", hautai::save::Limits::default());
//! println!("{} saved, {} left out, {} failed", saved.saved.len(), saved.left_out.len(), saved.failed.len());
//! # Ok::<(), hautai::Error>(())
//! ```

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::{Error, ErrorKind};
use crate::model::Asset;
use crate::session::Session;

/// How much one [`Session::save_assets`] may fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// At most this many files (default 1,000; a full analysis of three sides has about 250).
    pub max_assets: usize,
    /// At most this many bytes in all (default 256 MiB; a full analysis is about 2.5 MB).
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_assets: 1000, max_bytes: 256 * 1024 * 1024 }
    }
}

impl Limits {
    /// At most `count` files.
    pub fn max_assets(mut self, count: usize) -> Self {
        self.max_assets = count;
        self
    }

    /// At most `bytes` in all.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }
}

/// What [`Session::save_assets`] did with each asset.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Saved {
    /// Saved, each in `dir/<file_name>`, in the order given.
    pub saved: Vec<Asset>,
    /// Not saved because of the [`Limits`]: past the count, or past the bytes (a file cut
    /// short by the byte limit is removed, not kept in part).
    pub left_out: Vec<Asset>,
    /// Not saved because the download failed, with why.
    pub failed: Vec<(Asset, Error)>,
    /// The bytes saved.
    pub bytes: u64,
}

impl Session {
    /// Downloads `assets` into the folder `dir` (created if needed), each as
    /// `dir/<`[`file_name`](Asset::file_name)`>` through
    /// [`download_to`](Self::download_to) (so a file is whole or absent), eight at a time,
    /// within `limits`. Never fails as a whole: each asset is saved, left out or failed.
    pub fn save_assets(&self, assets: &[Asset], dir: impl AsRef<Path>, limits: Limits) -> Saved {
        let dir = dir.as_ref();
        let (within, over) = assets.split_at(assets.len().min(limits.max_assets));
        let mut outcome = Saved::default();
        if let Err(error) = crate::util::private::create_dir_all(dir) {
            let failed = |asset: &Asset| {
                // Each asset's error keeps the cause's kind (a full disk, a permission denied).
                let io = io::Error::new(error.kind(), error.to_string());
                let kind = ErrorKind::Save { target: dir.display().to_string(), reason: error.to_string() };
                (asset.clone(), Error::with_io(kind, io))
            };
            outcome.failed = within.iter().map(failed).collect();
            outcome.left_out = over.to_vec();
            return outcome;
        }
        let (budget, spent) = (AtomicU64::new(limits.max_bytes), AtomicBool::new(false));
        let next = AtomicUsize::new(0);
        let ended: Mutex<Vec<(usize, Ended)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..8.min(within.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(asset) = within.get(i) else { break };
                        let end = self.save_one(asset, dir, &budget, &spent);
                        ended.lock().unwrap_or_else(PoisonError::into_inner).push((i, end));
                    }
                });
            }
        });
        let mut ended = ended.into_inner().unwrap_or_else(PoisonError::into_inner);
        ended.sort_by_key(|(i, _)| *i);
        for (i, end) in ended {
            let asset = within[i].clone();
            match end {
                Ended::Saved(bytes) => {
                    outcome.bytes += bytes;
                    outcome.saved.push(asset);
                }
                Ended::OverBudget => outcome.left_out.push(asset),
                Ended::Failed(error) => outcome.failed.push((asset, error)),
            }
        }
        // Past the byte limit first, then past the count: in the order given.
        outcome.left_out.extend_from_slice(over);
        outcome
    }

    /// One asset, taking its bytes from what is left of `budget` as they come. Once one
    /// asset found the budget spent, the rest are left out without a request.
    fn save_one(&self, asset: &Asset, dir: &Path, budget: &AtomicU64, spent: &AtomicBool) -> Ended {
        if spent.load(Ordering::SeqCst) {
            return Ended::OverBudget;
        }
        let mut over = false;
        let mut admit = |len: usize| {
            let taken = budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(len as u64));
            over = taken.is_err();
            taken.map(drop).map_err(|_| io::Error::other("over the byte limit of this save"))
        };
        match self.download_into(&asset.url, &dir.join(asset.file_name()), &mut admit) {
            Ok(bytes) => Ended::Saved(bytes),
            Err(_) if over => {
                spent.store(true, Ordering::SeqCst);
                Ended::OverBudget
            }
            Err(error) => Ended::Failed(error),
        }
    }
}

/// How one asset's save ended.
enum Ended {
    Saved(u64),
    OverBudget,
    Failed(Error),
}
