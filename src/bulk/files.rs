//! The journal's files: one append-only JSON-lines file per shard layout that ran in the
//! folder, each line flushed to disk (`fsync`) before the run goes on; reading them all,
//! in run order, into a ledger.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ledger::Ledger;
use super::record::Line;
use super::shard::Shard;

/// The first line a run writes: which run it is and what it talks to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Header {
    pub(super) run: u64,
    pub(super) service: String,
    pub(super) company: Uuid,
    pub(super) shard: String,
    pub(super) pid: u32,
}

/// The file a run of `shard` appends to.
pub(super) fn file_name(shard: Shard) -> String {
    if shard == Shard::ALL {
        "journal-all.jsonl".to_owned()
    } else {
        format!("journal-{}-of-{}.jsonl", shard.index(), shard.count())
    }
}

/// One JSON line, written at once and flushed to disk: a kill leaves at most this line torn.
pub(super) fn write_line(file: &mut File, value: &impl Serialize) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let before = file.metadata()?.len();
    let written = file.write_all(&bytes).and_then(|()| file.sync_data());
    if written.is_err() {
        // A full disk takes part of a line: cut it off, or the next line appended once
        // there is room again would be read as one torn line with it.
        let _ = file.set_len(before);
    }
    written
}

/// A kill mid-write leaves a line without its newline: cut it off, so the next line
/// appended starts clean.
pub(super) fn cut_torn_line(file: &mut File) -> io::Result<()> {
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
pub(super) fn complete_len(text: &[u8]) -> usize {
    text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
}

/// What every journal in a folder says.
pub(super) struct Folder {
    pub(super) ledger: Ledger,
    pub(super) headers: Vec<Header>,
    pub(super) last_run: u64,
    /// How far each file was read (to its last whole line).
    pub(super) read_to: HashMap<PathBuf, u64>,
}

/// The journal files in `dir` (`journal*.jsonl`), sorted by name.
pub(super) fn journal_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("journal") && name.ends_with(".jsonl")
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Reads every journal in `dir` and folds the lines in run order. Lines before a file's
/// first header (a journal of an earlier version) count as run 0; lines that are neither
/// headers nor job lines are ignored, and so is a torn last line.
pub(super) fn read_folder(dir: &Path) -> io::Result<Folder> {
    let mut lines: Vec<(u64, usize, Line)> = Vec::new();
    let mut headers = Vec::new();
    let mut read_to = HashMap::new();
    for path in journal_files(dir)? {
        let text = std::fs::read(&path)?;
        let complete = complete_len(&text);
        let mut run = 0;
        for raw in text[..complete].split(|b| *b == b'\n') {
            if let Ok(header) = serde_json::from_slice::<Header>(raw) {
                run = header.run;
                headers.push(header);
            } else if let Ok(line) = serde_json::from_slice::<Line>(raw) {
                lines.push((run, lines.len(), line));
            }
        }
        read_to.insert(path, complete as u64);
    }
    // Runs in order; within a run, the order of its file. (Two runs with one number are
    // shards of one layout, which never share a job.)
    lines.sort_by_key(|(run, at, _)| (*run, *at));
    let mut ledger = Ledger::default();
    for (_, _, line) in &lines {
        ledger.fold(line);
    }
    let last_run = headers.iter().map(|h| h.run).max().unwrap_or(0);
    Ok(Folder { ledger, headers, last_run, read_to })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::{Compute, JobRecord, State};
    use std::fs::OpenOptions;

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
        let created = r#"{"key":"b","state":"created","batch_id":"5243ab6a-bd30-4932-b98c-45e43edfdc36"}"#.to_owned();
        let earlier =
            [header(1), job("a", "failed"), created, job("b", "compute_sent")].join("\n") + "\n" + r#"{"key":"b","st"#;
        std::fs::write(dir.join("journal-0-of-2.jsonl"), later).unwrap();
        std::fs::write(dir.join("journal-all.jsonl"), earlier).unwrap();
        std::fs::write(dir.join("journal.jsonl"), format!("not json\n{}\n", job("c", "saved"))).unwrap();
        std::fs::write(dir.join("notes.jsonl"), format!("{}\n", job("d", "saved"))).unwrap();
        let read = read_folder(&dir).unwrap();
        assert_eq!(read.last_run, 2);
        let record = |key: &str| read.ledger.record(key);
        assert!(record("a").saved && record("a").failure.is_none(), "{:?}", record("a"));
        assert_eq!(record("b").compute, Compute::InDoubt);
        assert!(record("c").saved);
        assert_eq!(record("d"), JobRecord::default(), "only journal*.jsonl files are journals");

        let mut file = OpenOptions::new().read(true).append(true).open(dir.join("journal-all.jsonl")).unwrap();
        cut_torn_line(&mut file).unwrap();
        write_line(&mut file, &Line::new("k", State::Saved, None)).unwrap();
        let text = std::fs::read_to_string(dir.join("journal-all.jsonl")).unwrap();
        assert!(text.ends_with("\"compute_sent\"}\n{\"key\":\"k\",\"state\":\"saved\"}\n"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
