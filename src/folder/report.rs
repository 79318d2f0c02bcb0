//! `report.html`: one visit's results as a clinician reads them. The visit, the date and
//! the sides at the top; a table of grades, scores and ages with a legend that says what
//! each number means (as far as the API documentation defines it); then each side's
//! picture with its masks (a switch per parameter). Pictures are the saved files in
//! `assets/`, linked, never embedded again: a report weighs a few kilobytes.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::html::{INVENTED, escape, head_of, href, label};
use crate::model::{Asset, CATEGORIES};
use crate::{BatchResults, Side};

/// What one report shows.
pub(crate) struct Report<'a> {
    pub visit: &'a str,
    /// The patient, when the visit's name is not also the patient's.
    pub patient: Option<&'a str>,
    /// When the visit took place and where that was read, when known.
    pub visited: Option<String>,
    /// `YYYY-MM-DD`, the day the results were saved (UTC).
    pub date: &'a str,
    /// The sides analysed, saying which are missing.
    pub sides: &'a str,
    pub results: &'a BatchResults,
    /// The assets saved in `assets/` (the pictures shown).
    pub assets: &'a [Asset],
    /// Why no pictures are shown, when none were saved.
    pub no_pictures: Option<&'a str>,
}

/// What the numbers mean, as far as the API documentation defines them.
const LEGEND: &str = "<dl class=\"legend\">\
<dt>Grade</dt><dd>The service&#39;s word for the parameter (its <i>tag</i>), such as &ldquo;Good&rdquo;.</dd>\
<dt>Score (0&ndash;100)</dt><dd>The service&#39;s rating of the parameter. The API documentation does not \
say whether a higher score is better or worse: read it with the grade, and compare one person&#39;s visits \
rather than one parameter with another.</dd>\
<dt>Years</dt><dd>Age and eyes age are estimates in years. Their score is a rating, not an age.</dd>\
<dt>Skin type, skin tone</dt><dd>Categories: the grade is the answer, and there is no score.</dd>\
<dt>Masks</dt><dd>Where on the photo the service found a parameter: switch them on under Pictures.</dd></dl>";

/// Writes the report to `out`.
pub(crate) fn write(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let results = report.results;
    let title = format!("{}: skin analysis, results saved {}", report.visit, report.date);
    write!(out, "{}<h1>{}</h1>", head_of(&title, Some(results.batch_id())), escape(report.visit))?;
    let patient = report.patient.map(|p| format!("Patient <b>{}</b> &middot; ", escape(p))).unwrap_or_default();
    let visited = match &report.visited {
        Some(date) => format!("Visit of <b>{}</b>", escape(date)),
        None => "Visit date unknown (the service's time stands)".to_owned(),
    };
    write!(
        out,
        "<p class=\"meta\">{patient}{visited} &middot; results saved on <b>{}</b> (UTC) &middot; sides analysed: <b>{}</b> &middot; \
         batch {} &middot; {}</p>",
        escape(report.date),
        escape(report.sides),
        results.batch_id(),
        if results.is_complete() { "complete" } else { "partial: some parameters are missing" },
    )?;
    if results.from_emulator() {
        out.write_all(INVENTED.as_bytes())?;
    }
    write!(out, "<h2>Results</h2>{LEGEND}{}", table(results))?;
    pictures(out, report)?;
    write!(out, "</main><script>{SCRIPT}</script></body></html>")
}

/// A row per parameter: grade, score with a bar (not for categories), years (ages only).
fn table(results: &BatchResults) -> String {
    let mut rows = String::new();
    for (name, parameter) in results.parameters().iter() {
        let score = parameter.score().filter(|_| !CATEGORIES.contains(&name));
        let score = score.map_or("&ndash;".to_owned(), |s| {
            let width = s.clamp(0.0, 100.0);
            format!(
                "<span class=\"bar\"><span style=\"width:{width:.0}%\"></span></span><span class=\"n\">{s:.1}</span>"
            )
        });
        // Only ages have years; an empty cell is left out of a phone's card (`td:empty`).
        let years = parameter.years().map_or(String::new(), |y| format!("{y:.0}"));
        let _ = write!(
            rows,
            "<tr><td>{}</td><td data-label=\"Grade\">{}</td><td class=\"num\" data-label=\"Score\">{score}</td>\
             <td class=\"num\" data-label=\"Years\">{years}</td></tr>",
            escape(&label(name)),
            escape(parameter.tag().unwrap_or("–")),
        );
    }
    if rows.is_empty() {
        return "<p>No Face Skin Analysis 3.0 parameters in these results.</p>".to_owned();
    }
    format!(
        "<div class=\"scroll\"><table class=\"cards\"><thead><tr><th>Parameter</th><th>Grade</th><th class=\"num\">Score \
         (0&ndash;100)</th><th class=\"num\">Years</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )
}

/// Each side's picture (the service's copy of the photo) with its masks over it, and the
/// other pictures the service made, all linked from `assets/`.
fn pictures(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    out.write_all(b"<h2 id=\"pictures\">Pictures</h2>")?;
    if let Some(why) = report.no_pictures {
        return write!(out, "<p class=\"meta\">{}</p>", escape(why));
    }
    let link = |asset: &Asset| escape(&href(&format!("assets/{}", asset.file_name())));
    let mut masked: Vec<&str> = report.assets.iter().filter_map(|a| a.parameter.as_deref()).collect();
    masked.sort_unstable();
    masked.dedup();
    out.write_all(b"<div class=\"switches\">")?;
    for name in &masked {
        write!(
            out,
            "<label><input type=\"checkbox\" data-mask=\"{}\"> {}</label>",
            escape(name),
            escape(&label(name))
        )?;
    }
    out.write_all(b"</div>")?;
    for side in Side::ALL {
        let of_side: Vec<&Asset> = report.assets.iter().filter(|a| a.side == Some(side)).collect();
        let base = of_side.iter().find(|a| a.parameter.is_none() && a.kind == "predicted_images/original");
        if of_side.is_empty() {
            continue;
        }
        write!(out, "<section class=\"side\"><h3>{side}</h3><div class=\"pictures\">")?;
        if let Some(base) = base {
            write!(
                out,
                "<figure class=\"main\"><div class=\"stack\"><img src=\"{}\" alt=\"the {side} photo\">",
                link(base)
            )?;
            for mask in of_side.iter().filter(|a| a.kind == "masks/original") {
                if let Some(name) = &mask.parameter {
                    write!(out, "<img class=\"mask\" data-mask=\"{}\" alt=\"\" src=\"{}\">", escape(name), link(mask))?;
                }
            }
            // The emulator's picture is a face it drew, not the photo sent: said so.
            let caption = match report.results.from_emulator() {
                true => "a face the emulator drew (it keeps no photo; every value here is invented)",
                false => "the photo, as the service received it",
            };
            write!(out, "</div><figcaption>{caption}</figcaption></figure>")?;
        }
        out.write_all(b"<div class=\"predicted\">")?;
        for asset in of_side.iter().filter(|a| a.parameter.is_none() && a.kind != "predicted_images/original") {
            let caption = escape(&label(asset.kind.rsplit('/').next().unwrap_or_default()));
            write!(
                out,
                "<figure><img alt=\"{caption}\" src=\"{}\"><figcaption>{caption}</figcaption></figure>",
                link(asset)
            )?;
        }
        out.write_all(b"</div></div></section>")?;
    }
    Ok(())
}

/// The switches; `report.html#masks=redness,pores` opens with those masks shown. Names
/// are only ever compared, never built into a selector or code.
const SCRIPT: &str = "\
function show(box){document.querySelectorAll('img.mask').forEach(function(m){\
if(m.dataset.mask===box.dataset.mask){m.classList.toggle('on',box.checked)}})}\
var wanted=(location.hash.match(/masks=([^&]*)/)||[,''])[1].split(',').map(function(w){\
try{return decodeURIComponent(w)}catch(e){return w}});\
document.querySelectorAll('input[data-mask]').forEach(function(box){\
if(wanted.indexOf(box.dataset.mask)>=0){box.checked=true;show(box)}\
box.addEventListener('change',function(){show(box)})})";
