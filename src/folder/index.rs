//! `index.html` (the patients, each linking a timeline, then a row per visit linking its
//! report) and each patient's timeline, from the summary's rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::files::write_atomically;
use super::html::{INVENTED, escape, head, href, label, short};
use super::summary::{Row, years};
use super::timeline::{self, Point};
use crate::BatchResults;

/// The rows of each patient, by patient.
fn by_patient(rows: &[Row]) -> BTreeMap<&str, Vec<&Row>> {
    let mut patients: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        patients.entry(row.patient.as_str()).or_default().push(row);
    }
    patients
}

/// The analysed visits of a patient as timeline points, in date order.
fn points<'a>(rows: &[&'a Row]) -> Vec<Point<'a>> {
    let mut points: Vec<Point<'a>> = rows
        .iter()
        .filter_map(|row| {
            let results = row.results.as_ref().filter(|_| row.problem.is_none())?;
            let file = if row.report { "report.html" } else { "results.json" };
            let page = href(&format!("visits/{}/{file}", row.visit));
            Some(Point { visit: &row.visit, date: row.date.as_deref(), results, page })
        })
        .collect();
    timeline::in_order(&mut points);
    points
}

/// A timeline per patient with at least one analysed visit.
pub(super) fn write_timelines(output: &Path, rows: &[Row]) -> crate::Result<()> {
    for (patient, rows) in by_patient(rows) {
        let points = points(&rows);
        if !points.is_empty() {
            timeline::write(output, patient, &points).map_err(|e| {
                crate::Error::io(&output.join("patients").join(patient), "cannot write the timeline in", e)
            })?;
        }
    }
    Ok(())
}

/// The patients: visits, the last visit's date and age, each linking its timeline.
fn patients_table(rows: &[Row]) -> String {
    let mut html = String::from(
        "<h2>Patients</h2><div class=\"scroll\"><table class=\"cards\"><thead><tr><th>Patient</th>\
         <th class=\"num\">Visits</th><th>Last visit</th><th class=\"num\">Last age (years)</th></tr></thead><tbody>",
    );
    for (patient, rows) in by_patient(rows) {
        let visits = rows.iter().filter(|r| !r.problem.as_deref().is_some_and(|p| p.starts_with("no visits"))).count();
        let points = points(&rows);
        let last = points.iter().rev().find(|p| p.date.is_some()).or(points.last());
        let date = last.and_then(|p| p.date).unwrap_or_default();
        let age = last.and_then(|p| p.results.parameter("age")).and_then(|a| a.years());
        let name = match points.is_empty() {
            true => escape(patient),
            false => format!("<a href=\"{}\">{}</a>", escape(&timeline::link(patient)), escape(patient)),
        };
        let _ = write!(
            html,
            "<tr><td>{name}</td><td class=\"num\" data-label=\"Visits\">{visits}</td>\
             <td data-label=\"Last visit\">{date}</td><td class=\"num\" data-label=\"Last age (years)\">{}</td></tr>",
            age.map(|y| format!("{y:.0}")).unwrap_or_default()
        );
    }
    html.push_str("</tbody></table></div>");
    html
}

/// `index.html`: a row per visit with its status (a short reason for a failure, the whole
/// a tap away in a `<details>`, which works on a phone where a tooltip does not), its age
/// in years, its sides and the grades of `columns`, the visit's name linking its report
/// (or its `results.json` when reports are off).
pub(crate) fn write_index(path: &Path, rows: &[Row], columns: &[String]) -> std::io::Result<()> {
    let invented = rows.iter().any(|r| r.results.as_ref().is_some_and(BatchResults::from_emulator));
    let done = rows.iter().filter(|r| r.problem.is_none()).count();
    let mut html = head("Visits");
    let _ = write!(html, "<h1>Visits</h1><p class=\"meta\">{done} of {} done</p>", rows.len());
    if invented {
        html.push_str(INVENTED);
    }
    html.push_str("<div class=\"scroll\"><table class=\"cards\"><thead><tr><th>Visit</th><th>Status</th><th>Date</th><th class=\"num\">Age (years)</th><th>Sides</th>");
    for column in columns {
        let _ = write!(html, "<th>{}</th>", escape(&label(column)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        let target = match (row.results.is_some(), row.report) {
            (true, true) => Some("report.html"),
            (true, false) => Some("results.json"),
            (false, _) => None,
        };
        let name = match target {
            Some(file) => format!(
                "<a href=\"{}\">{}</a>",
                escape(&href(&format!("visits/{}/{file}", row.visit))),
                escape(&row.visit)
            ),
            None => escape(&row.visit),
        };
        let status = match &row.problem {
            None if row.results.as_ref().is_some_and(BatchResults::from_emulator) => {
                "<td data-label=\"Status\">done (invented values)</td>".to_owned()
            }
            None => "<td data-label=\"Status\">done</td>".to_owned(),
            Some(problem) if problem.starts_with("failed: ") => format!(
                "<td class=\"failed\" data-label=\"Status\"><details><summary>failed: {}</summary>{}</details></td>",
                escape(&short(problem, 80)),
                escape(problem.trim_start_matches("failed: "))
            ),
            Some(other) => format!("<td data-label=\"Status\">{}</td>", escape(other)),
        };
        let age = years(row.results.as_ref(), "age").map(|y| format!("{y:.0}")).unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td>{name}</td>{status}<td data-label=\"Date\">{}</td><td class=\"num\" data-label=\"Age (years)\">{age}</td><td data-label=\"Sides\">{}</td>",
            row.date.as_deref().unwrap_or_default(),
            escape(&row.sides)
        );
        for column in columns {
            let tag = row.results.as_ref().and_then(|r| r.parameter(column)).and_then(|p| p.tag()).unwrap_or_default();
            let _ = write!(html, "<td data-label=\"{}\">{}</td>", escape(&label(column)), escape(tag));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html.push_str(&patients_table(rows));
    html.push_str("</main></body></html>");
    write_atomically(path, html.as_bytes())
}
