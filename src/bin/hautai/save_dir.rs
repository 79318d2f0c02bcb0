//! Where `hautai analyze --save DIR` puts an analysis: checked before anything is paid
//! for, and saved so that what was paid for is never lost quietly.

use hautai::BatchResults;
use hautai::folder::{SaveOptions, Visit, save_visit};

use crate::out::note;
use crate::{Failure, Outcome};

/// Saves `results` into `dir`. A save without some of the pictures asked for (a download
/// refused, the save's limits) keeps the results and the report and fails (exit 1),
/// naming what is missing and how to fetch it: never a quiet success with pictures left out.
pub fn save(
    session: &hautai::Session,
    visit: &Visit,
    results: &BatchResults,
    dir: &std::path::Path,
    options: SaveOptions,
) -> Outcome {
    let batch = results.batch_id();
    let dir_word = crate::account::quoted(&dir.display().to_string());
    let again = format!("`hautai analyze --batch {batch} --save {dir_word}` fetches them (not paid again)");
    let had_save = dir.join("results.json").is_file();
    let missing = match save_visit(session, visit, results, dir, &options) {
        Ok(saved) if saved.left_out.is_empty() => {
            note!("saved into {}", dir.display());
            return Ok(());
        }
        Ok(saved) => format!(
            "{} pictures were left out over the save's limits (the first: {})",
            saved.left_out.len(),
            saved.left_out[0]
        ),
        // The pictures are what a save can fail on and still keep the rest: try without them.
        Err(e) if options != options.assets(false) && !had_save => {
            save_visit(session, visit, results, dir, &options.assets(false))
                .map_err(|_| cannot_save(batch, dir, &e, false))?;
            format!("no picture was saved: {e}")
        }
        Err(e) => return Err(cannot_save(batch, dir, &e, had_save)),
    };
    Err(Failure::failed(format!(
        "saved the results of batch {batch} into {} without all of their pictures: {missing}; {again}",
        dir.display()
    )))
}

/// The failure of a save that kept nothing new.
fn cannot_save(batch: hautai::Uuid, dir: &std::path::Path, e: &hautai::Error, had_save: bool) -> Failure {
    let kept = if had_save { "; the earlier save of this batch there is kept as it was" } else { "" };
    Failure::failed(format!(
        "the results of batch {batch} are printed above but could not be saved into {}: {e}{kept}; save them later \
         with `hautai analyze --batch {batch} --save DIR` (not paid again)",
        dir.display()
    ))
}

/// Where a save may go, checked before anything is paid for (exit 2 if not): a folder
/// given by its name (not `.`, `..` or a link), new, empty, or an earlier save of the same
/// batch (`--batch`), which the new one replaces whole. A save never replaces another
/// analysis's results, nor files of anything else. The save is built beside `dir` and
/// renamed into place, so the folder `dir` is in must be writable: checked with a probe of
/// a few kilobytes (a full disk fails it).
pub fn check(dir: &std::path::Path, batch: Option<hautai::Uuid>) -> Outcome {
    let typed = dir.to_string_lossy();
    let dots = [".", ".."].iter().any(|d| typed == *d || typed.ends_with(&format!("/{d}")));
    if dots || dir.file_name().is_none() {
        return Err(Failure::usage(format!("give --save a folder by its name, not {typed:?}")));
    }
    if dir.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Failure::usage(format!("{} is a link: give --save the folder it points to", dir.display())));
    }
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(false) => {}
        Ok(true) => {
            let earlier = std::fs::read(dir.join("results.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<BatchResults>(&bytes).ok())
                .map(|results| results.batch_id());
            match (earlier, batch) {
                (Some(earlier), Some(batch)) if earlier == batch => {}
                (Some(earlier), _) => {
                    return Err(Failure::usage(format!(
                        "{} holds the results of batch {earlier}, another analysis: a save never replaces them, so \
                         give a new folder (to save batch {earlier} again: hautai analyze --batch {earlier} --save \
                         DIR)",
                        dir.display()
                    )));
                }
                (None, _) => {
                    return Err(Failure::usage(format!(
                        "{} holds files and is not an earlier save (no results.json): a save never replaces them, \
                         so give a new or empty folder",
                        dir.display()
                    )));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::usage(format!("cannot use {} for --save: {e}", dir.display()))),
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let probe = parent.join(format!(".hautai-write-check-{}", std::process::id()));
    let written = crate::private::create_dir_all(parent).and_then(|()| {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&probe)?;
        file.write_all(&[0; 64 * 1024])?;
        file.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| Failure::usage(format!("cannot save into {}: {e}; nothing was sent", dir.display())))
}
