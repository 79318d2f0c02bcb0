//! The journal of a bulk run: one JSON line per state change of a job, appended and
//! flushed to disk (`fsync`) before the run goes on, so that a rerun knows which batches
//! exist, which were (or may have been) computed, and which results were saved.
//!
//! ```text
//! {"key":"visit-7","state":"created","batch_id":"5243ab6a-bd30-4932-b98c-45e43edfdc36"}
//! {"key":"visit-7","state":"uploaded"}
//! {"key":"visit-7","state":"compute_sent"}
//! {"key":"visit-7","state":"compute_accepted"}
//! {"key":"visit-7","state":"saved"}
//! ```
//!
//! A line cut short by a kill is dropped when the journal is opened; every complete line
//! before it counts.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A state change of a job, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The batch exists on the server.
    Created,
    /// Every image is uploaded.
    Uploaded,
    /// Compute is about to be sent: from here it may have been, so the batch is only ever
    /// resumed, never computed again.
    ComputeSent,
    /// The service took compute.
    ComputeAccepted,
    /// The results were handed over and saved: the job is done.
    Saved,
    /// The job failed (a rerun tries it again, resuming its batch if compute was sent).
    Failed,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Line {
    key: String,
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// What the journal says of one job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobRecord {
    /// The job's batch, once one was created.
    pub batch_id: Option<Uuid>,
    /// Whether compute was sent (or may have been) for that batch.
    pub compute_sent: bool,
    /// Whether the results were saved: the job is done.
    pub saved: bool,
    /// The last state journaled.
    pub last: Option<State>,
}

impl JobRecord {
    /// What a new run does with this job.
    pub fn next_step(&self) -> NextStep {
        match (self.saved, self.compute_sent, self.batch_id) {
            (true, _, _) => NextStep::Skip,
            (false, true, Some(batch_id)) => NextStep::Resume(batch_id),
            _ => NextStep::Start,
        }
    }
}

/// What a run does with a job, given the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Done in an earlier run.
    Skip,
    /// Compute was (or may have been) sent: wait for this batch's results, never compute.
    Resume(Uuid),
    /// Nothing was computed: analyse from the start (an unused batch costs nothing).
    Start,
}

/// An append-only journal file, shared by the threads of a run.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    jobs: HashMap<String, JobRecord>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads what it holds. A torn last line
    /// is cut off; lines that are not journal lines are ignored.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Journal> {
        let path = path.as_ref().to_path_buf();
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        // A kill mid-write leaves a line without its newline: drop it, so the next line
        // appended starts clean.
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            file.set_len(complete as u64)?;
            file.seek(SeekFrom::End(0))?;
            file.sync_data()?;
        }
        let mut jobs: HashMap<String, JobRecord> = HashMap::new();
        for line in text[..complete].split(|b| *b == b'\n') {
            let Ok(line) = serde_json::from_slice::<Line>(line) else { continue };
            let record = jobs.entry(line.key).or_default();
            fold(record, line.state, line.batch_id);
        }
        Ok(Journal { path, file: Mutex::new(file), jobs })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the journal said of `key` when it was opened.
    pub fn record(&self, key: &str) -> JobRecord {
        self.jobs.get(key).cloned().unwrap_or_default()
    }

    /// Appends a state change and flushes it to disk before returning.
    pub fn append(&self, key: &str, state: State, batch_id: Option<Uuid>, reason: Option<&str>) -> io::Result<()> {
        let line = Line { key: key.to_owned(), state, batch_id, reason: reason.map(str::to_owned) };
        let mut bytes = serde_json::to_vec(&line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // One write per line: a kill leaves at most the last line torn.
        file.write_all(&bytes)?;
        file.sync_data()
    }
}

/// Applies a state change to a job's record.
fn fold(record: &mut JobRecord, state: State, batch_id: Option<Uuid>) {
    match state {
        // A new batch: whatever the last one was, it was never computed.
        State::Created => *record = JobRecord { batch_id, ..JobRecord::default() },
        State::ComputeSent | State::ComputeAccepted => record.compute_sent = true,
        State::Saved => record.saved = true,
        State::Uploaded | State::Failed => {}
    }
    record.last = Some(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hautai-journal-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.jsonl");
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn states_fold_into_what_a_rerun_does() {
        let batch = Uuid::from_u128(7);
        let mut record = JobRecord::default();
        assert_eq!(record.next_step(), NextStep::Start);
        fold(&mut record, State::Created, Some(batch));
        fold(&mut record, State::Uploaded, None);
        assert_eq!(record.next_step(), NextStep::Start, "uploaded but not computed: start over");
        fold(&mut record, State::ComputeSent, None);
        assert_eq!(record.next_step(), NextStep::Resume(batch), "compute may have been sent: resume");
        fold(&mut record, State::Failed, None);
        assert_eq!(record.next_step(), NextStep::Resume(batch), "a failure after compute still resumes");
        fold(&mut record, State::Saved, None);
        assert_eq!(record.next_step(), NextStep::Skip);
        let mut restarted = JobRecord::default();
        fold(&mut restarted, State::Created, Some(batch));
        fold(&mut restarted, State::Failed, None);
        fold(&mut restarted, State::Created, Some(Uuid::from_u128(8)));
        assert_eq!(restarted.next_step(), NextStep::Start);
        assert_eq!(restarted.batch_id, Some(Uuid::from_u128(8)));
    }

    #[test]
    fn lines_are_read_back_and_a_torn_last_line_is_cut_off() {
        let path = temp("torn");
        let batch = Uuid::from_u128(9);
        {
            let journal = Journal::open(&path).unwrap();
            journal.append("a", State::Created, Some(batch), None).unwrap();
            journal.append("a", State::ComputeSent, None, None).unwrap();
            journal.append("b", State::Failed, None, Some("no face")).unwrap();
        }
        // A kill in the middle of a line, then garbage a human left there.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.insert_str(0, "not json\n");
        text.push_str(r#"{"key":"a","state":"sa"#);
        std::fs::write(&path, &text).unwrap();

        let journal = Journal::open(&path).unwrap();
        assert_eq!(journal.record("a").next_step(), NextStep::Resume(batch));
        assert_eq!(journal.record("b").last, Some(State::Failed));
        assert_eq!(journal.record("c"), JobRecord::default());
        journal.append("a", State::Saved, None, None).unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n{\"key\":\"a\",\"state\":\"saved\"}\n"), "{text}");
        assert_eq!(Journal::open(&path).unwrap().record("a").next_step(), NextStep::Skip);
    }
}
