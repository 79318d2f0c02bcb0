//! What a folder run leaves for people: `summary.csv` (a row per visit, for a
//! spreadsheet) and `index.html` (a row per visit, linking its report), both over every
//! visit of the input, whichever shard analysed it.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use super::csv::{cell, line, text};
use super::files::write_atomically;
use super::identity::{Holds, holds};
use super::visits::Visit;
use crate::bulk::{JobRecord, Ledger, Shard};
use crate::model::CATEGORIES;
use crate::{BatchResults, Uuid};

/// What the summary and the index say of one visit.
pub(crate) struct Row {
    pub(super) visit: String,
    /// The visit's patient (the first part of its name).
    pub(super) patient: String,
    /// `YYYY-MM-DD`, when known.
    pub(super) date: Option<String>,
    pub(super) batch_id: Option<Uuid>,
    /// `None` when done; else why not (`not run` or the failure).
    pub(super) problem: Option<String>,
    pub(super) sides: String,
    pub(super) results: Option<BatchResults>,
    pub(super) report: bool,
}

impl Row {
    /// A folder of the input with no photos: listed, with what it holds, and not run.
    pub(super) fn without_photos(visit: &str, what: &str) -> Row {
        let problem = Some(match what.starts_with("no visits") {
            true => what.to_owned(),
            false => format!("no photos: {what}"),
        });
        let patient = visit.split('/').next().unwrap_or(visit).to_owned();
        let (sides, results) = (String::new(), None);
        Row { visit: visit.to_owned(), patient, date: None, batch_id: None, problem, sides, results, report: false }
    }
}

/// The input and output folders as the run was given them and as the system resolves
/// them: a reason that names a file in either names it from there (`anna/front.jpg`,
/// `visits/anna`), never by the machine's absolute path.
pub(super) struct Relative(Vec<String>);

impl Relative {
    pub(super) fn new(input: &Path, output: &Path) -> Relative {
        let here = std::env::current_dir().unwrap_or_default();
        let mut prefixes: Vec<String> = [input, output]
            .into_iter()
            .flat_map(|dir| [Some(dir.to_path_buf()), Some(here.join(dir)), std::fs::canonicalize(dir).ok()])
            .flatten()
            .map(|dir| format!("{}/", dir.display()))
            .filter(|prefix| prefix != "/")
            .collect();
        // The longest first: `/data/in/` before `in/`.
        prefixes.sort_by_key(|prefix| std::cmp::Reverse(prefix.len()));
        Relative(prefixes)
    }

    /// `text` with each path in either folder told from there: a prefix counts where a
    /// path starts (the text's start, or after a space, a quote or a bracket), so that `in/`
    /// is taken from `in/anna/front.jpg` and never from `within/`.
    pub(super) fn of(&self, text: &str) -> String {
        self.0.iter().fold(text.to_owned(), |text, prefix| {
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(at) = rest.find(prefix.as_str()) {
                let starts = out.is_empty() && at == 0
                    || rest[..at].chars().next_back().or(out.chars().next_back()).is_some_and(|c| " (\"'`".contains(c));
                out.push_str(&rest[..at]);
                if !starts {
                    out.push_str(prefix);
                }
                rest = &rest[at + prefix.len()..];
            }
            out + rest
        })
    }
}

/// A row per visit of the input, from the ledger of every journal in the folder and what
/// each visit's folder holds, whichever shard wrote it: a visit is done only when the
/// ledger says its batch was saved, its folder holds that batch's results, and its photos
/// are still the ones the batch was made from (read now for a visit this run did not
/// `checked`: another shard's, or one a stop left).
pub(super) fn rows(
    output: &Path,
    visits: &[Visit],
    ledger: &Ledger,
    ours: Shard,
    checked: &HashSet<String>,
) -> Vec<Row> {
    visits
        .iter()
        .map(|visit| {
            let again = if ours.contains(&visit.patient) { "run again" } else { "run its shard again" };
            row(output, visit, ledger.record(&visit.name), checked.contains(&visit.name), again)
        })
        .collect()
}

fn row(output: &Path, visit: &Visit, record: JobRecord, checked: bool, again: &str) -> Row {
    let dir = super::visit_dir(output, &visit.name);
    let problem = match (&visit.sides, holds(&dir, record.batch_id), &record.failure) {
        // A visit whose photos cannot be used now is not done, whatever was saved for it.
        (Err(problem), _, _) => Some(format!("failed: {problem}")),
        (Ok(_), Holds::Stranger(why), _) => {
            Some(format!("failed: its folder holds results that are not its own ({why}): {again} to fetch its own"))
        }
        (Ok(_), _, Some(reason)) => Some(format!("failed: {reason}")),
        (Ok(_), Holds::Nothing, None) if !record.saved => Some("not run".to_owned()),
        (Ok(_), Holds::Nothing, None) => {
            Some(format!("failed: its results are gone from its folder: {again} to fetch them"))
        }
        // Its batch's results: of its photos as they are now? This run read the photos of
        // the visits it decided; the others are read now.
        (Ok(_), Holds::Own, None) => match (checked, visit.images().map(|images| record.same_photos(&images))) {
            (false, Some(Ok(false))) => Some(format!("failed: the photos changed since they were analysed: {again}")),
            (false, Some(Err(e))) => {
                Some(format!("failed: cannot read the photos to check they are the ones analysed: {e}"))
            }
            _ if !record.saved => Some("not run".to_owned()),
            _ => None,
        },
    };
    let results = if problem.is_none() { super::saved_results(&dir) } else { None };
    let report = results.is_some() && dir.join("report.html").is_file();
    Row {
        visit: visit.name.clone(),
        patient: visit.patient.clone(),
        date: visit.date.as_ref().map(|d| d.day.clone()),
        batch_id: record.batch_id,
        problem,
        sides: visit.sides_text(),
        results,
        report,
    }
}

/// `summary.csv`: what each visit is and where it came from, ages in years, then a tag
/// and a score column per parameter (no score for categories). Every cell is neutralised
/// (nothing in it runs in a spreadsheet) and names stay text.
pub(crate) fn write_csv(path: &Path, rows: &[Row]) -> std::io::Result<()> {
    let names: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.results.as_ref())
        .flat_map(|r| r.parameters().names().map(str::to_owned))
        .collect();
    let mut header: Vec<String> =
        // (The columns of earlier versions keep their places: a script reading them by
        // position keeps working.)
        ["visit", "status", "batch_id", "source", "sides", "age_years", "eyes_age_years", "patient", "visit_date"]
            .map(str::to_owned)
            .to_vec();
    for name in &names {
        header.push(format!("{name}_tag"));
        if !CATEGORIES.contains(&name.as_str()) {
            header.push(format!("{name}_score"));
        }
    }
    let mut csv = line(&header.iter().map(|h| text(h)).collect::<Vec<_>>());
    for row in rows {
        let results = row.results.as_ref();
        let years = |name: &str| years(results, name).map(|y| format!("{y:.0}")).unwrap_or_default();
        let batch = row.batch_id.map(|b| b.to_string()).unwrap_or_default();
        let status = row.problem.as_deref().unwrap_or("done");
        let mut cells = vec![text(&row.visit), text(status), cell(&batch), text(source(results)), text(&row.sides)];
        cells.extend([cell(&years("age")), cell(&years("eyes_age"))]);
        cells.extend([text(&row.patient), cell(row.date.as_deref().unwrap_or_default())]);
        for name in &names {
            let parameter = results.and_then(|r| r.parameter(name));
            cells.push(text(parameter.and_then(|p| p.tag()).unwrap_or_default()));
            if !CATEGORIES.contains(&name.as_str()) {
                cells.push(cell(&parameter.and_then(|p| p.score()).map(|s| s.to_string()).unwrap_or_default()));
            }
        }
        csv.push_str(&line(&cells));
    }
    write_atomically(path, csv.as_bytes())
}

pub(super) fn years(results: Option<&BatchResults>, name: &str) -> Option<f64> {
    results?.parameter(name)?.years()
}

fn source(results: Option<&BatchResults>) -> &'static str {
    match results {
        Some(r) if r.from_emulator() => "emulator (invented values, not a person's)",
        Some(_) => "haut.ai",
        None => "",
    }
}
