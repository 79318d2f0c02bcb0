//! `--save DIR`: the results, every asset, and `report.html`, one self-contained page (no
//! network, no script from elsewhere: pictures are embedded as data URLs) that shows the
//! parameters with their tags and scores, and each side's photo with its masks overlaid
//! (a switch per parameter) next to the predicted images.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use hautai::model::Asset;
use hautai::{BatchResults, Session, Side};

/// What [`save`] wrote.
pub struct Saved {
    /// The report's path.
    pub report: PathBuf,
    /// Assets left out by the save's limits (`hautai::save::Limits`), named by file.
    pub left_out: Vec<String>,
}

/// Replaces what `dir` held (see [`clear`]), then writes the assets (named after their
/// place, within `limits`) into `dir/assets/`, then `report.html`, and `results.json` last (each through a temporary file and a
/// rename): a `results.json` means the rest is there. `photos` are the user's photos per
/// side. Assets over the limits are left out of the files and the report, and named in
/// [`Saved::left_out`]; a failed download fails the save.
pub fn save(
    session: &Session,
    results: &BatchResults,
    photos: &[(Side, PathBuf)],
    dir: &Path,
    limits: hautai::save::Limits,
) -> Result<Saved, String> {
    let assets_dir = dir.join("assets");
    clear(dir).map_err(|e| format!("cannot clear what an earlier save left in {}: {e}", dir.display()))?;
    let assets = results.assets();
    let saved = session.save_assets(&assets, &assets_dir, limits);
    if let Some((_, first)) = saved.failed.first() {
        return Err(format!(
            "{} of {} assets could not be downloaded, the first: {first}",
            saved.failed.len(),
            assets.len()
        ));
    }
    let path = dir.join("report.html");
    super::write_atomically_with(&path, |out| page(out, results, &saved.saved, photos, &assets_dir))
        .map_err(|e| format!("cannot write report.html: {e}"))?;
    let json = serde_json::to_vec_pretty(results).map_err(|e| e.to_string())?;
    super::write_atomically(&dir.join("results.json"), &json).map_err(|e| format!("cannot write results.json: {e}"))?;
    Ok(Saved { report: path, left_out: saved.left_out.iter().map(|a| a.file_name().to_owned()).collect() })
}

/// Removes what an earlier save left in `dir`: `results.json` first (so the folder never
/// says it holds results while they change), then the report, every asset and any
/// temporary file, so that no picture of another batch (another patient's, after a
/// retry) stays beside these results.
fn clear(dir: &Path) -> std::io::Result<()> {
    let gone = |result: std::io::Result<()>| match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    gone(std::fs::remove_file(dir.join("results.json")))?;
    gone(std::fs::remove_file(dir.join("report.html")))?;
    gone(std::fs::remove_dir_all(dir.join("assets")))?;
    // Temporary files a killed save left (a report half written holds its pictures too).
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".partial")) {
            gone(std::fs::remove_file(entry.path()))?;
        }
    }
    Ok(())
}

/// An index page linking the reports of many visits: `(visit, relative path, status)`.
/// Each segment of a path is percent-encoded, so a name such as `javascript:alert(1)`,
/// `a#b` or `a?b` is a relative link to that folder and nothing else.
pub fn index(dir: &Path, visits: &[(String, Option<String>, String)]) -> std::io::Result<()> {
    let mut rows = String::new();
    for (visit, link, status) in visits {
        let name = match link {
            Some(link) => format!("<a href=\"{}\">{}</a>", escape(&href(link)), escape(visit)),
            None => escape(visit),
        };
        let _ = write!(rows, "<tr><td>{name}</td><td>{}</td></tr>", escape(status));
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Visits</title>\
         <style>{STYLE}</style></head><body><main><h1>Visits</h1>\
         <table><thead><tr><th>Visit</th><th>Status</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"
    );
    super::write_atomically(&dir.join("index.html"), html.as_bytes())
}

/// The report, written to `out` a picture at a time (never the whole page in memory).
fn page(
    out: &mut dyn Write,
    results: &BatchResults,
    assets: &[Asset],
    photos: &[(Side, PathBuf)],
    dir: &Path,
) -> std::io::Result<()> {
    let mut table = String::new();
    for (name, parameter) in results.parameters().into_iter().flatten() {
        // A category (a skin type, a tone) is its tag: a score bar would mean nothing.
        let score = parameter.score().filter(|_| !hautai::model::CATEGORIES.contains(&name.as_str()));
        let bar = score.map_or(String::new(), |s| {
            format!("<span class=\"bar\"><span style=\"width:{:.0}%\"></span></span>", s.clamp(0.0, 100.0))
        });
        let years = parameter.years().map(|y| format!(" ({y:.0} years)")).unwrap_or_default();
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}{years}</td><td class=\"score\">{bar}<span>{}</span></td></tr>",
            escape(&name.replace('_', " ")),
            escape(parameter.tag().unwrap_or("-")),
            score.map_or("-".to_owned(), |s| format!("{s:.1}")),
        );
    }
    let masked: Vec<&str> = {
        let mut names: Vec<&str> = assets.iter().filter_map(|a| a.parameter.as_deref()).collect();
        names.sort();
        names.dedup();
        names
    };
    let mut switches = String::new();
    for name in &masked {
        let _ = write!(
            switches,
            "<label><input type=\"checkbox\" data-mask=\"{0}\"> {1}</label>",
            escape(name),
            escape(&name.replace('_', " "))
        );
    }
    let invented = if results.from_emulator() {
        "<p class=\"invented\">Values invented by the offline emulator: not an analysis of these photos.</p>"
    } else {
        ""
    };
    write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Skin analysis {batch}</title><style>{STYLE}</style></head><body><main>\
         <h1>Skin analysis</h1><p class=\"meta\">batch {batch} &middot; {complete}</p>{invented}\
         <h2>Parameters</h2><p class=\"meta\">Tag: the service's grade. Score: its 0&ndash;100 rating \
         (for age too; the years are beside the tag).</p>\
         <table><thead><tr><th>Parameter</th><th>Tag</th><th>Score (0&ndash;100)</th></tr></thead>\
         <tbody>{table}</tbody></table>\
         <h2>Photos and masks</h2><div class=\"switches\">{switches}</div>",
        batch = results.batch_id(),
        complete = if results.is_complete() { "complete" } else { "partial" },
    )?;
    for (side, photo) in photos {
        write!(
            out,
            "<section class=\"side\"><h3>{side}</h3><div class=\"pictures\"><figure class=\"main\"><div class=\"stack\"><img src=\""
        )?;
        write_data_url(out, photo)?;
        write!(out, "\" alt=\"the {side} photo\">")?;
        for asset in assets.iter().filter(|a| a.side == Some(*side) && a.kind == "masks/original") {
            if let Some(name) = &asset.parameter {
                write!(out, "<img class=\"mask\" data-mask=\"{}\" alt=\"\" src=\"", escape(name))?;
                write_data_url(out, &dir.join(asset.file_name()))?;
                write!(out, "\">")?;
            }
        }
        write!(out, "</div><figcaption>your photo</figcaption></figure><div class=\"predicted\">")?;
        for asset in assets.iter().filter(|a| a.side == Some(*side) && a.parameter.is_none()) {
            let label = escape(&asset.kind.rsplit('/').next().unwrap_or_default().replace('_', " "));
            write!(out, "<figure><img alt=\"{label}\" src=\"")?;
            write_data_url(out, &dir.join(asset.file_name()))?;
            write!(out, "\"><figcaption>{label}</figcaption></figure>")?;
        }
        write!(out, "</div></div></section>")?;
    }
    write!(out, "</main><script>{SCRIPT}</script></body></html>")
}

const STYLE: &str = "\
body{margin:0;font:15px/1.4 system-ui,sans-serif;color:#222;background:#f6f7f9}\
main{max-width:1100px;margin:0 auto;padding:16px}h1{margin:0 0 4px}.meta{color:#667;margin:0 0 16px}\
.invented{background:#fff4d6;border:1px solid #e9c46a;padding:8px 12px;border-radius:6px}\
table{border-collapse:collapse;width:100%;background:#fff;table-layout:fixed}\
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e5ea;overflow-wrap:anywhere}\
td.score{display:flex;align-items:center;gap:8px}.bar{flex:1;height:8px;background:#e3e5ea;border-radius:4px;overflow:hidden;min-width:60px}\
.bar span{display:block;height:100%;background:#3b82f6}td.score>span:last-child{width:3em;text-align:right;white-space:nowrap;overflow-wrap:normal}\
.switches{display:flex;flex-wrap:wrap;gap:6px 14px;margin:8px 0 16px}.switches label{overflow-wrap:anywhere;min-width:0}\
.side{background:#fff;padding:12px;margin:0 0 16px;border-radius:8px}.side h3{margin:0 0 8px;text-transform:capitalize}\
.pictures{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure{margin:0}\
figure.main{flex:1 1 280px;max-width:420px}.stack{position:relative}.stack img{display:block;width:100%}\
.stack img.mask{position:absolute;inset:0;height:100%;display:none}.stack img.mask.on{display:block}\
.predicted{display:flex;flex-wrap:wrap;gap:8px;flex:1 1 200px}.predicted figure{width:120px}\
.predicted img{width:100%;display:block;border:1px solid #e3e5ea}figcaption{font-size:13px;color:#667}";

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

/// A file as a `data:` URL (its type from its extension), written to `out`; nothing if
/// the file cannot be read. One file in memory at a time.
fn write_data_url(out: &mut dyn Write, path: &Path) -> std::io::Result<()> {
    let Ok(bytes) = std::fs::read(path) else { return Ok(()) };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let kind = match extension.as_str() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    };
    write!(out, "data:{kind};base64,{}", base64(&bytes))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { TABLE[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    out
}

/// The one escaping rule for page text and attribute values (attributes are always
/// double-quoted): `&`, `<`, `>`, `"` and `'` become entities.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A relative link from a path: each segment percent-encoded (all but RFC 3986's
/// unreserved characters), so no name can become a scheme, a query or a fragment.
pub fn href(path: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    path.split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_plain_text_and_relative_links() {
        assert_eq!(escape("<a href='x'>\"&\""), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;");
        assert_eq!(href("visits/javascript:alert(1)/report.html"), "visits/javascript%3Aalert%281%29/report.html");
        assert_eq!(href("visits/a#b?c d/report.html"), "visits/a%23b%3Fc%20d/report.html");
        assert_eq!(href("visits/Zoë/report.html"), "visits/Zo%C3%AB/report.html");
    }

    #[test]
    fn base64_matches_the_standard() {
        for (input, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(input.as_bytes()), encoded);
        }
    }
}
