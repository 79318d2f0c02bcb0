//! What a folder run leaves for people, written together at its end: `summary.csv`,
//! `index.html` and a timeline per patient, over every visit of the input, whichever shard
//! analysed it.

use std::collections::HashSet;
use std::path::Path;

use super::index::{write_index, write_timelines};
use super::summary::{Relative, Row, rows, write_csv};
use super::visits::Visit;
use crate::bulk::Journal;
use crate::error::Error;

/// `summary.csv` and `index.html` over every visit of the input, from what every
/// journal in the folder says now (under the folder's lock, so a shard that ends later
/// never writes an older summary over a newer one).
/// A summary that cannot be written is removed, with the index: none is better than
/// one that no longer says what the folders hold.
pub(crate) fn write_reports(
    (input, output): (&Path, &Path),
    journal: &Journal,
    (visits, without_photos): (&[Visit], &[(String, String)]),
    checked: &HashSet<String>,
    columns: &[String],
) -> crate::Result<()> {
    let (csv, index) = (output.join("summary.csv"), output.join("index.html"));
    let written = journal
        .with_ledger(|ledger| {
            let mut rows = rows(output, visits, ledger, journal.shard(), checked);
            rows.extend(without_photos.iter().map(|(visit, what)| Row::without_photos(visit, what)));
            rows.sort_by(|a, b| a.visit.cmp(&b.visit));
            // The pages are shared beyond this machine: no path in them says where its folders are.
            let relative = Relative::new(input, output);
            for row in &mut rows {
                row.problem = row.problem.as_deref().map(|problem| relative.of(problem));
            }
            write_csv(&csv, &rows).map_err(|e| Error::io(&csv, "cannot write", e))?;
            write_timelines(output, &rows)?;
            write_index(&index, &rows, columns).map_err(|e| Error::io(&index, "cannot write", e))
        })
        .map_err(|e| journal.error(e))
        .and_then(|written| written);
    if let Err(e) = written {
        let left: Vec<String> = [&csv, &index]
            .into_iter()
            .filter(|page| std::fs::remove_file(page).is_err() && page.symlink_metadata().is_ok())
            .map(|page| page.display().to_string())
            .collect();
        return Err(match left.is_empty() {
            true => e.noted("the earlier summary and index were removed"),
            false => e.noted(format_args!(
                "the earlier ones were removed but for {}, which may be out of date",
                left.join(" and ")
            )),
        });
    }
    Ok(())
}
