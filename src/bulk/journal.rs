//! The journal of bulk runs: a folder of append-only JSON-lines files, one per shard layout
//! that ran there, each line flushed to disk (`fsync`) before the run goes on.
//!
//! ```text
//! {"run":3,"service":"https://saas.haut.ai","company":"3fa8...","shard":"all","pid":4242}
//! {"key":"visit-7","state":"claimed","inputs":"front:183204:9f3a... left:... right:..."}
//! {"key":"visit-7","state":"created","batch_id":"5243ab6a-...","inputs":"front:183204:9f3a... ..."}
//! {"key":"visit-7","state":"uploaded","batch_id":"5243ab6a-..."}
//! {"key":"visit-7","state":"compute_sent","batch_id":"5243ab6a-..."}
//! {"key":"visit-7","state":"compute_accepted","batch_id":"5243ab6a-..."}
//! {"key":"visit-7","state":"saved","batch_id":"5243ab6a-..."}
//! ```
//!
//! A run opens the folder, reads every journal in it (whatever shard layout wrote them)
//! into the [ledger](super::ledger), and appends to its own file after a header line that
//! numbers the run and names the service and company it talks to. Lines are folded in run
//! order, so what a job needs next does not depend on the layout that ran it before. A
//! line cut short by a kill is ignored, and cut off when its file is next written. Each
//! decision is made under the folder's lock after reading what other shards appended, so
//! shards running side by side never both pay for one set of photos.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use super::files::{Header, complete_len, cut_torn_line, file_name, journal_files, read_folder, write_line};
use super::ledger::owners::SharedPhoto;
use super::ledger::{Ledger, Plan, Presence};
use super::lock::{self, RunLock};
use super::record::{JobRecord, Line, State};
use super::shard::Shard;
use crate::error::{Error, ErrorKind, Result};
use crate::session::Session;

/// The journal folder of bulk runs, opened by one run: the ledger of every batch the
/// folder paid for (what every journal in it says), the file this run appends to, and the
/// lock that keeps other runs off this run's jobs.
///
/// Opening it refuses, at once, when another live run could work the same jobs (any run
/// but another shard of the same layout), or when the folder was written against another
/// service or company (its batches do not exist there). Both locks are OS file locks
/// ([`File::try_lock`]): the kernel releases them when a process ends, `kill -9` included.
#[derive(Debug)]
#[must_use = "the journal's lock is released when it is dropped"]
pub struct Journal {
    dir: PathBuf,
    shard: Shard,
    /// This run's file: its name, and the file opened for appending.
    own: (PathBuf, Mutex<File>),
    /// What the journals say: read at open, kept up with every line written since (this
    /// run's at once, other shards' each time a decision is made under the folder's lock).
    ledger: Mutex<Ledger>,
    /// How far each other journal file has been read.
    read_to: Mutex<HashMap<PathBuf, u64>>,
    _lock: RunLock,
}

impl Journal {
    /// Opens (or creates) the journal folder `dir` for a run of `shard` on `session`.
    ///
    /// Errors: [`ErrorKind::Busy`] when another live run holds jobs this one could work
    /// (the message names its process and shard); [`ErrorKind::Journal`] when the folder
    /// belongs to another service or company, or cannot be read or written
    /// ([`Error::io_error`] has the cause).
    ///
    /// ```no_run
    /// use hautai::bulk::{Journal, Shard};
    /// use hautai::error::ErrorKind;
    ///
    /// let session = hautai::Session::from_env()?;
    /// match Journal::open("results/.hautai", &session, Shard::ALL) {
    ///     Ok(journal) => println!("journal in {}", journal.dir().display()),
    ///     Err(e) if matches!(e.kind(), ErrorKind::Busy { .. }) => eprintln!("try later: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>, session: &Session, shard: Shard) -> Result<Journal> {
        let dir = dir.as_ref();
        Journal::open_folder(dir.to_path_buf(), session, shard).map_err(|e| {
            let (folder, problem) = (dir.to_path_buf(), e.to_string());
            match e.kind() {
                io::ErrorKind::ResourceBusy => ErrorKind::Busy { folder, holder: problem }.into(),
                io::ErrorKind::InvalidInput => ErrorKind::Journal { folder, problem }.into(),
                _ => Error::with_io(ErrorKind::Journal { folder, problem }, e),
            }
        })
    }

    fn open_folder(dir: PathBuf, session: &Session, shard: Shard) -> io::Result<Journal> {
        crate::util::private::create_dir_all(&dir)?;
        let folder = lock::Folder::lock(&dir)?;
        let run_lock = folder.claim(shard)?;
        let read = read_folder(&dir)?;
        let service = session.base_url();
        let company = session.company_id();
        if let Some(other) = read.headers.iter().find(|h| h.service != service || h.company != company) {
            let forgets = if other.service.starts_with("http://") {
                " (an emulator forgets its batches when it stops)"
            } else {
                ""
            };
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "it holds the journal of runs against {} (company {}), and this session talks to {service} \
                     (company {company}): its batches exist only there{forgets}; use another folder for this service",
                    other.service, other.company
                ),
            ));
        }
        let path = dir.join(file_name(shard));
        let mut file = crate::util::private::options().read(true).append(true).create(true).open(&path)?;
        cut_torn_line(&mut file)?;
        let header = Header {
            // (A header numbered u64::MAX, written by hand, must not wrap to run 0.)
            run: read.last_run.saturating_add(1),
            service: service.to_owned(),
            company,
            shard: shard.to_string(),
            pid: std::process::id(),
        };
        write_line(&mut file, &header)?;
        drop(folder);
        Ok(Journal {
            dir,
            shard,
            own: (path, Mutex::new(file)),
            ledger: Mutex::new(read.ledger),
            read_to: Mutex::new(read.read_to),
            _lock: run_lock,
        })
    }

    /// The journal folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The shard this run works (a [`Bulk`](super::Bulk) given this journal runs it).
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// What the journals say of `key`: what they said when the folder was opened, and
    /// every line written since by this run (and by other shards, as of this run's last
    /// decision).
    pub fn record(&self, key: &str) -> JobRecord {
        lock(&self.ledger).record(key)
    }

    /// Appends a state change and flushes it to disk before returning: for tests that
    /// need a journal as a crash left it (feature `test-util`; a program never writes the
    /// ledger that decides paying).
    #[cfg(feature = "test-util")]
    pub fn append(&self, key: &str, state: State, batch_id: Option<Uuid>, reason: Option<&str>) -> Result<()> {
        self.write(&Line { reason: reason.map(str::to_owned), ..Line::new(key, state, batch_id) })
            .map_err(|e| self.error(e))
    }

    /// Journals `key`'s new `state` (with its batch), flushed to disk before returning.
    pub(crate) fn note(&self, key: &str, state: State, batch_id: Option<Uuid>) -> io::Result<()> {
        self.write(&Line::new(key, state, batch_id))
    }

    /// The error of this journal that cannot be read or written: the run cannot go on, as
    /// the journal is the record of what was paid for.
    pub(crate) fn error(&self, io: io::Error) -> Error {
        let problem = format!("{io}; nothing more is sent until it can be written (a full disk?)");
        Error::with_io(ErrorKind::Journal { folder: self.dir.clone(), problem }, io)
    }

    /// What the job `key` may do with its photos `photos` (see `Ledger::decide`; `gone`: a
    /// batch the service just said it does not know), decided under the folder's lock
    /// with every journal read up to now, so that no other job of this run or of another
    /// shard decides in between; a plan that takes photos (a start, a batch taken over)
    /// is journaled before the lock is let go. Also says whether the job's earlier save
    /// stops being its own with these photos.
    pub(crate) fn decide(
        &self,
        key: &str,
        photos: &str,
        retry_failed: bool,
        presence: &dyn Fn(&str) -> Presence,
        gone: Option<Uuid>,
        (group, shared): (Option<&str>, Option<SharedPhoto>),
    ) -> io::Result<(Plan, bool)> {
        let _folder = lock::Folder::lock(&self.dir)?;
        self.catch_up()?;
        let (plan, disowns, holds) = {
            let ledger = lock(&self.ledger);
            let plan = ledger.decide_for_patient(key, photos, retry_failed, presence, gone, (group, shared));
            let holds = |batch_id: &Uuid| {
                ledger.record(key).batch_id == Some(*batch_id) && ledger.holder(*batch_id) == Some(key)
            };
            let holds = match &plan {
                Plan::Skip { batch_id } | Plan::Resume { batch_id, .. } => holds(batch_id),
                _ => true,
            };
            (plan, ledger.disowns(key, photos), holds)
        };
        match &plan {
            Plan::Start => {
                self.write(&Line { inputs: Some(photos.to_owned()), ..Line::new(key, State::Claimed, None) })?
            }
            // The job takes the batch (back): it is the one holding it from now on.
            Plan::Skip { batch_id } | Plan::Resume { batch_id, .. } if !holds => {
                self.write(&Line::new(key, State::Adopted, Some(*batch_id)))?
            }
            _ => {}
        }
        Ok((plan, disowns))
    }

    #[cfg(feature = "folder")]
    /// Calls `f` with the ledger of every journal in the folder as it is now, while no
    /// other run can open the folder or decide: for reports over every shard's jobs (a
    /// summary written here is never older than one written by another shard before).
    pub(crate) fn with_ledger<T>(&self, f: impl FnOnce(&Ledger) -> T) -> io::Result<T> {
        let _folder = lock::Folder::lock(&self.dir)?;
        self.catch_up()?;
        Ok(f(&lock(&self.ledger)))
    }

    /// Journals that a subject for `patient` is about to be created in `dataset` (before the
    /// request: see [`State::SubjectClaimed`]).
    #[cfg(feature = "folder")]
    pub(crate) fn subject_claimed(&self, dataset: Uuid, patient: &str) -> io::Result<()> {
        self.write(&Line { dataset_id: Some(dataset), ..Line::new(patient, State::SubjectClaimed, None) })
    }

    /// Journals that `subject` is `patient`'s in `dataset`.
    #[cfg(feature = "folder")]
    pub(crate) fn subject_made(&self, dataset: Uuid, patient: &str, subject: Uuid) -> io::Result<()> {
        let line = Line {
            dataset_id: Some(dataset),
            subject_id: Some(subject),
            ..Line::new(patient, State::SubjectMade, None)
        };
        self.write(&line)
    }

    /// Journals that the job `key` created `batch_id` for the photos `inputs` describes.
    pub(crate) fn created(&self, key: &str, batch_id: Uuid, inputs: Option<&str>) -> io::Result<()> {
        self.write(&Line { inputs: inputs.map(str::to_owned), ..Line::new(key, State::Created, Some(batch_id)) })
    }

    /// Journals that the job `key` failed: whether its batch `ended` for good, and whether
    /// its earlier save is `kept` as its own.
    pub(crate) fn failed(
        &self,
        key: &str,
        batch_id: Option<Uuid>,
        reason: &str,
        ended: bool,
        kept: bool,
    ) -> io::Result<()> {
        self.write(&Line { reason: Some(reason.into()), ended, kept, ..Line::new(key, State::Failed, batch_id) })
    }

    fn write(&self, line: &Line) -> io::Result<()> {
        write_line(&mut lock(&self.own.1), line)?;
        lock(&self.ledger).fold(line);
        Ok(())
    }

    /// Folds what other runs (shards running beside this one) appended since the last
    /// look. Only whole lines: one being written now is read next time.
    fn catch_up(&self) -> io::Result<()> {
        let mut read_to = lock(&self.read_to);
        for path in journal_files(&self.dir)? {
            if path == self.own.0 {
                continue;
            }
            let from = read_to.get(&path).copied().unwrap_or(0);
            let mut file = File::open(&path)?;
            if file.metadata()?.len() <= from {
                continue;
            }
            file.seek(SeekFrom::Start(from))?;
            let mut text = Vec::new();
            file.read_to_end(&mut text)?;
            let complete = complete_len(&text);
            let mut ledger = lock(&self.ledger);
            for raw in text[..complete].split(|b| *b == b'\n') {
                if let Ok(line) = serde_json::from_slice::<Line>(raw) {
                    ledger.fold(&line);
                }
            }
            read_to.insert(path, from + complete as u64);
        }
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
