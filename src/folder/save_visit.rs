//! Saving one visit's results into its folder, whole or not at all: `assets/`,
//! `report.html` and `results.json` built beside it, then swapped in.

use std::path::{Path, PathBuf};

use super::files::{write_atomically, write_atomically_with};
use super::report::{self, Report};
use super::visits::Visit;
use crate::error::{Error, ErrorKind, Result};
use crate::save::Limits;
use crate::{BatchResults, Session};

/// What [`save_visit`] writes besides `results.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveOptions {
    assets: bool,
    report: bool,
    limits: Limits,
}

impl Default for SaveOptions {
    /// Every asset (within [`Limits::default`]) and the report.
    fn default() -> Self {
        SaveOptions { assets: true, report: true, limits: Limits::default() }
    }
}

impl SaveOptions {
    /// Every asset and the report: the same as `default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to download the pictures (masks, the service's copies of the photos) into
    /// `assets/` (default yes; about 2.4 MB and 250 files for three sides). Without them,
    /// the report has the numbers and no pictures.
    pub fn assets(mut self, on: bool) -> Self {
        self.assets = on;
        self
    }

    /// Whether to write `report.html` (default yes).
    pub fn report(mut self, on: bool) -> Self {
        self.report = on;
        self
    }

    /// Whether the pictures are saved.
    pub(crate) fn wants_assets(&self) -> bool {
        self.assets
    }

    /// Whether the report is written.
    pub(crate) fn wants_report(&self) -> bool {
        self.report
    }

    /// How much one visit's assets may take.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What [`save_visit`] wrote.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SavedVisit {
    /// The visit's `results.json`.
    pub results: PathBuf,
    /// Its `report.html`, unless reports are off.
    pub report: Option<PathBuf>,
    /// How many assets were saved in `assets/`.
    pub assets: usize,
    /// The assets the limits left out, by file name.
    pub left_out: Vec<String>,
}

/// Saves `results` of `visit` into the folder `dir`, whole or not at all: the assets, the
/// report and `results.json` are written into a new folder beside `dir`, which takes
/// `dir`'s place (renames only) once it is whole. Until then an earlier save in `dir`
/// stays as it was, and if the save fails it is still there; a save cut short by a crash
/// is mended by the next one. A failed download fails the save; assets over the limits
/// are left out and named.
///
/// ```no_run
/// use hautai::folder::{SaveOptions, Visit, save_visit};
/// # let session = hautai::Session::from_env()?;
/// let visit = Visit::new("anna-2026-12-01", [(hautai::Side::Front, "front.jpg".into())]);
/// let results = session.run_analysis(&visit.images().unwrap(), &hautai::AnalysisOptions::new())?;
/// let saved = save_visit(&session, &visit, &results, "out/anna".as_ref(), &SaveOptions::new())?;
/// println!("report: {:?}", saved.report);
/// # Ok::<(), hautai::Error>(())
/// ```
pub fn save_visit(
    session: &Session,
    visit: &Visit,
    results: &BatchResults,
    dir: &Path,
    options: &SaveOptions,
) -> Result<SavedVisit> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::util::private::create_dir_all(parent).map_err(|e| failed(parent, e))?;
    crate::util::temporary::restore(dir).map_err(|e| failed(dir, e))?;
    let staging = crate::util::temporary::staging(dir).map_err(|e| failed(dir, e))?;
    let saved = build(session, visit, results, &staging, options)
        .and_then(|saved| crate::util::temporary::swap_in(&staging, dir).map_err(|e| failed(dir, e)).map(|()| saved));
    if saved.is_err() {
        crate::util::temporary::discard(&staging);
    }
    let saved = saved?;
    Ok(SavedVisit { results: dir.join("results.json"), report: saved.report.map(|_| dir.join("report.html")), ..saved })
}

fn failed(what: &Path, e: std::io::Error) -> Error {
    Error::with_io(ErrorKind::Save { target: what.display().to_string(), reason: e.to_string() }, e)
}

/// Writes the assets, the report and `results.json` (last) into the empty folder `dir`.
fn build(
    session: &Session,
    visit: &Visit,
    results: &BatchResults,
    dir: &Path,
    options: &SaveOptions,
) -> Result<SavedVisit> {
    let all = results.assets();
    let saved = match options.assets {
        true => session.save_assets(&all, dir.join("assets"), options.limits),
        false => Default::default(),
    };
    if let Some((_, first)) = saved.failed.into_iter().next() {
        return Err(first);
    }
    let left_out: Vec<String> = saved.left_out.iter().map(|a| a.file_name().to_owned()).collect();
    let mut written =
        SavedVisit { results: dir.join("results.json"), assets: saved.saved.len(), left_out, ..Default::default() };
    if options.report {
        let no_pictures = match (options.assets, saved.saved.is_empty()) {
            (false, _) => Some("The pictures were not saved (assets were turned off for this save)."),
            (true, true) if !all.is_empty() => Some("No picture fit within the save's limits."),
            (true, true) => Some("The service returned no pictures."),
            (true, false) => None,
        };
        let path = dir.join("report.html");
        let sides = visit.sides_text();
        let page = Report {
            visit: &visit.name,
            patient: Some(visit.patient.as_str()).filter(|p| *p != visit.name),
            visited: visit.date.as_ref().map(super::VisitDate::described),
            date: &today(),
            sides: &sides,
            results,
            assets: &saved.saved,
            no_pictures,
        };
        write_atomically_with(&path, |out| report::write(out, &page)).map_err(|e| failed(&path, e))?;
        written.report = Some(path);
    }
    write_atomically(&written.results, unsigned_json(results).as_bytes()).map_err(|e| failed(&written.results, e))?;
    Ok(written)
}

/// The results as JSON with every URL cut before its query: where each picture was,
/// without the signature that let anyone who reads the file fetch it until it expired.
fn unsigned_json(results: &BatchResults) -> String {
    fn unsign(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if text.starts_with("https://") || text.starts_with("http://") => {
                if let Some(query) = text.find('?') {
                    text.truncate(query);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(unsign),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(unsign),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(results).unwrap_or_default();
    unsign(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let (year, month, day) = crate::util::civil::civil_from_days((seconds / 86_400) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}
