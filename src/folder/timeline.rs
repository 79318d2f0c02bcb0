//! `OUT/patients/<patient>/timeline.html`: one patient's visits in date order, the age and
//! its change, and a small chart per parameter (inline SVG: no script, no file beside it,
//! as wide as the screen allows).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::files::write_atomically;
use super::html::{INVENTED, escape, head, href, label};
use crate::BatchResults;
use crate::model::CATEGORIES;

/// One visit of a patient's timeline.
pub(crate) struct Point<'a> {
    /// The visit's name (`anna/2026-01-05`).
    pub visit: &'a str,
    /// `YYYY-MM-DD`, when known.
    pub date: Option<&'a str>,
    pub results: &'a BatchResults,
    /// The page to link, from the output folder (`visits/anna/2026-01-05/report.html`).
    pub page: String,
}

/// Where the timeline of `patient` goes.
pub(crate) fn path(output: &Path, patient: &str) -> PathBuf {
    output.join("patients").join(patient).join("timeline.html")
}

/// The link to `patient`'s timeline, from the output folder.
pub(crate) fn link(patient: &str) -> String {
    href(&format!("patients/{patient}/timeline.html"))
}

/// Puts `points` in date order: dated visits by date (then name), undated ones last by name.
pub(crate) fn in_order(points: &mut [Point<'_>]) {
    points.sort_by(|a, b| (a.date.is_none(), a.date, a.visit).cmp(&(b.date.is_none(), b.date, b.visit)));
}

/// Writes `patient`'s timeline from `points` (in date order).
pub(crate) fn write(output: &Path, patient: &str, points: &[Point<'_>]) -> std::io::Result<()> {
    let path = path(output, patient);
    crate::util::private::create_dir_all(path.parent().expect("a timeline is in a folder"))?;
    write_atomically(&path, page(patient, points).as_bytes())
}

fn page(patient: &str, points: &[Point<'_>]) -> String {
    let up = "../../";
    let mut html = head(&format!("{patient}: timeline"));
    let dates: Vec<&str> = points.iter().filter_map(|p| p.date).collect();
    let span = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) if first != last => format!(" from <b>{first}</b> to <b>{last}</b>"),
        (Some(only), _) => format!(" on <b>{only}</b>"),
        _ => String::new(),
    };
    // Changes and charts are over time: a visit without a date has no place in them.
    let dated = points.iter().take_while(|p| p.date.is_some()).count();
    let undated = match points.len() - dated {
        0 => String::new(),
        n => format!("; {n} without a date, listed last and left out of the changes and charts"),
    };
    let _ = write!(
        html,
        "<p class=\"meta\"><a href=\"{up}index.html\">All patients</a></p><h1>{}</h1>\
         <p class=\"meta\">{} analysed visits{span}{undated}</p>",
        escape(patient),
        points.len()
    );
    if points.iter().any(|p| p.results.from_emulator()) {
        html.push_str(INVENTED);
    }
    html.push_str(
        "<h2>Visits</h2><div class=\"scroll\"><table class=\"cards\"><thead><tr><th>Date</th><th>Visit</th>\
         <th class=\"num\">Age (years)</th><th class=\"num\">Since the first</th><th class=\"num\">Since the \
         previous</th></tr></thead><tbody>",
    );
    let ages: Vec<Option<f64>> = points.iter().map(|p| p.results.parameter("age").and_then(|a| a.years())).collect();
    for (i, point) in points.iter().enumerate() {
        let age = ages[i].map(|y| format!("{y:.0}")).unwrap_or_default();
        let change = |from: Option<Option<f64>>| match (from.flatten(), ages[i]) {
            (Some(from), Some(now)) if i > 0 && i < dated => signed(now - from),
            _ => String::new(),
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td data-label=\"Visit\"><a href=\"{up}{}\">{}</a></td>\
             <td class=\"num\" data-label=\"Age (years)\">{age}</td>\
             <td class=\"num\" data-label=\"Since the first\">{}</td>\
             <td class=\"num\" data-label=\"Since the previous\">{}</td></tr>",
            point.date.unwrap_or("date unknown"),
            point.page,
            escape(point.visit.rsplit('/').next().unwrap_or(point.visit)),
            change(ages.first().copied()),
            change(i.checked_sub(1).map(|before| ages[before])),
        );
    }
    html.push_str("</tbody></table></div><h2>Parameters over time</h2><div class=\"charts\">");
    let points = &points[..dated];
    let mut names: Vec<&str> = points.iter().flat_map(|p| p.results.parameters().names()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        html.push_str(&chart(name, points));
    }
    html.push_str("</div></main></body></html>");
    html
}

/// `+3`, `−2`, `0`: a change in whole units.
fn signed(change: f64) -> String {
    match change.round() {
        c if c > 0.0 => format!("+{c:.0}"),
        c if c < 0.0 => format!("−{:.0}", -c),
        _ => "0".to_owned(),
    }
}

/// One parameter over the visits: its grade at each visit, and for a number (a score, or
/// years for ages) a line through the values, with the change since the first and the
/// previous visit. Visits are spaced evenly, in date order.
fn chart<'a>(name: &str, points: &[Point<'a>]) -> String {
    let parameter = |p: &Point<'a>| p.results.parameter(name);
    let years = name == "age" || name == "eyes_age";
    let values: Vec<Option<f64>> = points
        .iter()
        .map(|p| match years {
            true => parameter(p).and_then(|x| x.years()),
            false if CATEGORIES.contains(&name) => None,
            false => parameter(p).and_then(|x| x.score()),
        })
        .collect();
    let tags: Vec<&str> = points.iter().map(|p| parameter(p).and_then(|x| x.tag()).unwrap_or("")).collect();
    let unit = if years { "years" } else { "score 0–100" };
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let mut out = format!("<figure class=\"chart\"><figcaption><b>{}</b>", escape(&label(name)));
    if let (Some(first), Some(last)) = (known.first(), known.last()) {
        let previous = known.len().checked_sub(2).map(|i| known[i]);
        let _ = write!(out, " ({unit}) · since the first: {}", signed(last - first));
        if let Some(previous) = previous {
            let _ = write!(out, " · since the previous: {}", signed(last - previous));
        }
    }
    out.push_str("</figcaption>");
    let (width, height, left, right, top, bottom) = (320.0, 110.0, 32.0, 32.0, 22.0, 24.0);
    let (low, high) = match years {
        true => known.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v - 5.0), hi.max(*v + 5.0))),
        false => (0.0, 100.0),
    };
    let x = |i: usize| match points.len() {
        1 => width / 2.0,
        n => left + (width - left - right) * i as f64 / (n - 1) as f64,
    };
    let y = |v: f64| top + (height - top - bottom) * (1.0 - (v - low) / (high - low).max(1.0));
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{} over the visits\">\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>",
        escape(&label(name)),
        height - bottom,
        width - right,
        height - bottom
    );
    let line: Vec<String> =
        values.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
    if line.len() > 1 {
        let _ = write!(out, "<polyline points=\"{}\" class=\"line\"/>", line.join(" "));
    }
    // Grades above the points, and dates below the first and last visit: every grade only
    // while they fit side by side.
    let every = points.len() <= 6;
    for (i, point) in points.iter().enumerate() {
        let ends = i == 0 || i + 1 == points.len();
        // Labels at the ends lean inwards, so that they stay inside the chart.
        let anchor = match (i, points.len()) {
            (_, 1) => "middle",
            (0, _) => "start",
            (i, n) if i + 1 == n => "end",
            _ => "middle",
        };
        let shift = match anchor {
            "start" => -6.0,
            "end" => 6.0,
            _ => 0.0,
        };
        let at = values[i].map_or(height - bottom - 12.0, y);
        if values[i].is_some() {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{at:.1}\" r=\"3.5\"><title>{}</title></circle>",
                x(i),
                escape(point.visit)
            );
        }
        if (every || ends) && !tags[i].is_empty() {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"tag\">{}</text>",
                x(i) + shift,
                at - 7.0,
                escape(&short_tag(tags[i]))
            );
        }
        if ends {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"date\">{}</text>",
                x(i) + shift,
                height - 8.0,
                point.date.unwrap_or("?")
            );
        }
    }
    out.push_str("</svg></figure>");
    out
}

/// A grade short enough to sit above its point.
fn short_tag(tag: &str) -> String {
    match tag.chars().count() > 14 {
        true => format!("{}…", tag.chars().take(13).collect::<String>()),
        false => tag.to_owned(),
    }
}
