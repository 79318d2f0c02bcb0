//! The journal of bulk runs: a folder of append-only JSON-lines files, one per shard layout
//! that ran there, each line flushed to disk (`fsync`) before the run goes on.
//!
//! ```text
//! {"run":3,"service":"https://saas.haut.ai","company":"3fa8...","shard":"all","pid":4242}
//! {"key":"visit-7","state":"created","batch_id":"5243ab6a-bd30-4932-b98c-45e43edfdc36"}
//! {"key":"visit-7","state":"uploaded"}
//! {"key":"visit-7","state":"compute_sent"}
//! {"key":"visit-7","state":"compute_accepted"}
//! {"key":"visit-7","state":"saved"}
//! ```
//!
//! A run opens the folder, reads every journal in it (whatever shard layout wrote them),
//! and appends to its own file after a header line that numbers the run and names the
//! service and company it talks to. A job's lines are folded in run order, so what a job
//! needs next does not depend on the layout that ran it before. A line cut short by a kill
//! is ignored, and cut off when its file is next written.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::lock::{self, RunLock};
use super::record::{JobRecord, Line, State};
use super::shard::Shard;
use crate::session::Session;

/// The first line a run writes: which run it is and what it talks to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    run: u64,
    service: String,
    company: Uuid,
    shard: String,
    pid: u32,
}

/// The journal folder of bulk runs, opened by one run: what every journal in it says, the
/// file this run appends to, and the lock that keeps other runs off this run's jobs.
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
    file: Mutex<File>,
    /// What the journals say of each job: read at open, and kept up with every line
    /// written since, so a second run with this journal sees what the first did.
    jobs: Mutex<HashMap<String, JobRecord>>,
    _lock: RunLock,
}

impl Journal {
    /// Opens (or creates) the journal folder `dir` for a run of `shard` on `session`.
    ///
    /// Errors: [`io::ErrorKind::ResourceBusy`] when another live run holds jobs this one
    /// could work (the message names its process and shard); [`io::ErrorKind::InvalidInput`]
    /// when the folder belongs to another service or company; other I/O errors as they come.
    ///
    /// ```no_run
    /// use hautai::bulk::{Journal, Shard};
    ///
    /// let session = hautai::Session::from_env()?;
    /// let journal = Journal::open("results/.hautai", &session, Shard::ALL)?;
    /// # let _ = journal;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>, session: &Session, shard: Shard) -> io::Result<Journal> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
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
                    "{} holds the journal of runs against {} (company {}), and this session talks to {service} \
                     (company {company}): its batches exist only there{forgets}; use another folder for this service",
                    dir.display(),
                    other.service,
                    other.company
                ),
            ));
        }
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(dir.join(file_name(shard)))?;
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
        Ok(Journal { dir, shard, file: Mutex::new(file), jobs: Mutex::new(read.jobs), _lock: run_lock })
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
    /// every line this journal wrote since.
    pub fn record(&self, key: &str) -> JobRecord {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned().unwrap_or_default()
    }

    /// Calls `f` with what every journal in the folder says now, while no other run can
    /// open the folder or call this: for reports over every shard's jobs (a summary written
    /// here is never older than one written by another shard before).
    pub fn with_every_record<T>(&self, f: impl FnOnce(&HashMap<String, JobRecord>) -> T) -> io::Result<T> {
        let _folder = lock::Folder::lock(&self.dir)?;
        Ok(f(&read_folder(&self.dir)?.jobs))
    }

    /// Appends a state change and flushes it to disk before returning.
    pub fn append(&self, key: &str, state: State, batch_id: Option<Uuid>, reason: Option<&str>) -> io::Result<()> {
        self.write(&Line {
            key: key.to_owned(),
            state,
            batch_id,
            reason: reason.map(str::to_owned),
            ended: false,
            inputs: None,
        })
    }

    /// Journals that the job `key` created `batch_id` for the photos `inputs` describes.
    pub(crate) fn created(&self, key: &str, batch_id: Uuid, inputs: Option<&str>) -> io::Result<()> {
        let line = Line {
            key: key.to_owned(),
            state: State::Created,
            batch_id: Some(batch_id),
            reason: None,
            ended: false,
            inputs: inputs.map(str::to_owned),
        };
        self.write(&line)
    }

    /// Journals that the job `key` failed, and whether its batch `ended` for good.
    pub(crate) fn failed(&self, key: &str, reason: &str, ended: bool) -> io::Result<()> {
        let line = Line {
            key: key.to_owned(),
            state: State::Failed,
            batch_id: None,
            reason: Some(reason.into()),
            ended,
            inputs: None,
        };
        self.write(&line)
    }

    fn write(&self, line: &Line) -> io::Result<()> {
        write_line(&mut self.file.lock().unwrap_or_else(PoisonError::into_inner), line)?;
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.entry(line.key.clone()).or_default().fold(line);
        Ok(())
    }
}

/// The file a run of `shard` appends to.
fn file_name(shard: Shard) -> String {
    if shard == Shard::ALL {
        "journal-all.jsonl".to_owned()
    } else {
        format!("journal-{}-of-{}.jsonl", shard.index(), shard.count())
    }
}

/// One JSON line, written at once and flushed to disk: a kill leaves at most this line torn.
fn write_line(file: &mut File, value: &impl Serialize) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    file.sync_data()
}

/// A kill mid-write leaves a line without its newline: cut it off, so the next line
/// appended starts clean.
fn cut_torn_line(file: &mut File) -> io::Result<()> {
    let mut text = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut text)?;
    let complete = complete_len(&text);
    if complete < text.len() {
        file.set_len(complete as u64)?;
        file.sync_data()?;
    }
    file.seek(SeekFrom::End(0))?;
    Ok(())
}

/// The length of `text` up to and including its last newline.
fn complete_len(text: &[u8]) -> usize {
    text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
}

/// What every journal in a folder says.
struct Folder {
    jobs: HashMap<String, JobRecord>,
    headers: Vec<Header>,
    last_run: u64,
}

/// Reads every `journal*.jsonl` in `dir` and folds each job's lines in run order. Lines
/// before a file's first header (a journal of an earlier version) count as run 0; lines
/// that are neither headers nor job lines are ignored, and so is a torn last line.
fn read_folder(dir: &Path) -> io::Result<Folder> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("journal") && name.ends_with(".jsonl")
        })
        .collect();
    names.sort();
    let mut lines: Vec<(u64, usize, Line)> = Vec::new();
    let mut headers = Vec::new();
    for path in names {
        let text = std::fs::read(&path)?;
        let mut run = 0;
        for raw in text[..complete_len(&text)].split(|b| *b == b'\n') {
            if let Ok(header) = serde_json::from_slice::<Header>(raw) {
                run = header.run;
                headers.push(header);
            } else if let Ok(line) = serde_json::from_slice::<Line>(raw) {
                lines.push((run, lines.len(), line));
            }
        }
    }
    // Runs in order; within a run, the order of its file. (Two runs with one number are
    // shards of one layout, which never share a job.)
    lines.sort_by_key(|(run, at, _)| (*run, *at));
    let mut jobs: HashMap<String, JobRecord> = HashMap::new();
    for (_, _, line) in &lines {
        jobs.entry(line.key.clone()).or_default().fold(line);
    }
    let last_run = headers.iter().map(|h| h.run).max().unwrap_or(0);
    Ok(Folder { jobs, headers, last_run })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::Compute;

    #[test]
    fn lines_are_folded_in_run_order_across_files_and_torn_lines_are_ignored() {
        let dir = std::env::temp_dir().join(format!("hautai-journal-fold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let header = |run: u64| {
            let h = Header { run, service: "s".into(), company: Uuid::nil(), shard: "all".into(), pid: 1 };
            serde_json::to_string(&h).unwrap()
        };
        let job = |key: &str, state: &str| format!(r#"{{"key":"{key}","state":"{state}"}}"#);
        // Run 2 (in the file that sorts first) saved "a"; run 1 had failed it. A file of an
        // earlier version without headers counts as run 0.
        let later = [header(2), job("a", "saved")].join("\n") + "\n";
        let earlier = [header(1), job("a", "failed"), job("b", "compute_sent")].join("\n") + "\n" + r#"{"key":"b","st"#;
        std::fs::write(dir.join("journal-0-of-2.jsonl"), later).unwrap();
        std::fs::write(dir.join("journal-all.jsonl"), earlier).unwrap();
        std::fs::write(dir.join("journal.jsonl"), format!("not json\n{}\n", job("c", "saved"))).unwrap();
        std::fs::write(dir.join("notes.jsonl"), format!("{}\n", job("d", "saved"))).unwrap();
        let read = read_folder(&dir).unwrap();
        assert_eq!(read.last_run, 2);
        assert!(read.jobs["a"].saved && read.jobs["a"].failure.is_none(), "{:?}", read.jobs["a"]);
        assert_eq!(read.jobs["b"].compute, Compute::InDoubt);
        assert!(read.jobs["c"].saved);
        assert!(!read.jobs.contains_key("d"), "only journal*.jsonl files are journals");

        let mut file = OpenOptions::new().read(true).append(true).open(dir.join("journal-all.jsonl")).unwrap();
        cut_torn_line(&mut file).unwrap();
        let saved =
            Line { key: "k".into(), state: State::Saved, batch_id: None, reason: None, ended: false, inputs: None };
        write_line(&mut file, &saved).unwrap();
        let text = std::fs::read_to_string(dir.join("journal-all.jsonl")).unwrap();
        assert!(text.ends_with("\"compute_sent\"}\n{\"key\":\"k\",\"state\":\"saved\"}\n"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
