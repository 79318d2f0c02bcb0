//! What `hautai::folder` leaves for people: a visit's folder (results, assets stored once,
//! a report a clinician reads) and a folder run's index, against the emulator.

use std::path::{Path, PathBuf};

use crate::common::files::TempDir;
use crate::common::*;
use hautai::folder::{FolderEvent, FolderRun, SaveOptions, SavedVisit, Visit, save_visit};
use hautai::save::Limits;
use hautai::{AnalysisOptions, BatchResults, Side};

/// The front and left photos of a visit named `name`, analysed by `emulator` and saved
/// with `options` into `<dir>/out`.
fn save(
    emulator: &hautai::emulator::Emulator,
    dir: &TempDir,
    name: &str,
    options: SaveOptions,
) -> (BatchResults, SavedVisit) {
    let photos: Vec<(Side, PathBuf)> = [Side::Front, Side::Left]
        .into_iter()
        .map(|side| (side, dir.file(&format!("{side}.png"), &hautai::emulator::sample_photo(side, 160, 200))))
        .collect();
    let visit = Visit::new(name, photos);
    let session = fast_session(emulator);
    let results = session.run_analysis(&visit.images().unwrap(), &AnalysisOptions::new()).unwrap();
    let saved = save_visit(&session, &visit, &results, &dir.path().join("out"), &options).unwrap();
    (results, saved)
}

/// Every `src` and `href` of a page, decoded from its attribute.
fn links(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            found.push(rest[..rest.find('"').unwrap()].replace("&amp;", "&"));
        }
    }
    found
}

#[test]
fn a_report_says_whose_visit_when_and_which_sides_and_links_each_asset_stored_once() {
    let emulator = emulator();
    let dir = TempDir::new("report-linked");
    let (results, saved) = save(&emulator, &dir, "Anna Berg 2026-11-30", SaveOptions::new());
    let out = dir.path().join("out");
    // Where the files are once swapped in, not where they were built.
    assert_eq!(
        (saved.results.clone(), saved.report.clone()),
        (out.join("results.json"), Some(out.join("report.html")))
    );
    assert!(saved.results.is_file());
    let html = std::fs::read_to_string(saved.report.as_ref().unwrap()).unwrap();
    assert!(html.contains("<title>Anna Berg 2026-11-30: skin analysis, results saved 20"), "the title names the visit");
    assert!(html.contains("<h1>Anna Berg 2026-11-30</h1>"));
    assert!(html.contains("sides analysed: <b>front, left (no right)</b>"), "missing sides are said");
    assert!(html.contains("Values invented by the offline emulator"), "an emulator's values say so");
    assert!(html.contains("does not say whether a higher score is better or worse"), "the legend is honest");
    // Stored once: the report links the files it shows, and embeds none.
    assert!(!html.contains("data:image"), "nothing embedded");
    assert!(html.len() < 64 * 1024, "a report weighs kilobytes: {}", html.len());
    let links = links(&html);
    assert!(links.len() > 20, "{links:?}");
    for link in &links {
        assert!(link.starts_with("assets/") && out.join(link).is_file(), "{link} is a saved file");
    }
    assert_eq!(saved.assets, results.assets().len());
    assert_eq!(std::fs::read_dir(out.join("assets")).unwrap().count(), results.assets().len(), "every asset, once");
    let parameters = results.parameters().len();
    assert_eq!(html.matches("<img class=\"mask\"").count(), 2 * parameters, "a mask per parameter and side");
    assert_eq!(html.matches("<section class=\"side\">").count(), 2, "a section per side analysed");
    // Under the masks, the service's copy of the photo; beside it, its other pictures.
    assert!(html.contains("<img src=\"assets/front-predicted_images-original.png\" alt=\"the front photo\">"));
    assert_eq!(html.matches("<figure><img alt=").count(), 2 * 2, "aligned face and anonymised, per side");
    // Categories are text, without a bar; ages are years beside a rating.
    let row = |name: &str| {
        let start = html.find(&format!("<tr><td>{name}</td>")).unwrap_or_else(|| panic!("a row for {name}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(
        !row("skin type").contains("class=\"bar\"") && row("skin type").contains("&ndash;"),
        "{}",
        row("skin type")
    );
    let age = results.parameter("age").unwrap();
    assert!(
        row("age").ends_with(&format!("<td class=\"num\" data-label=\"Years\">{:.0}</td>", age.years().unwrap())),
        "{}",
        row("age")
    );
    assert!(row("redness").contains("class=\"bar\""), "{}", row("redness"));
}

#[test]
fn without_assets_or_reports_a_visit_keeps_its_results_and_says_what_it_left_out() {
    let emulator = emulator();
    let dir = TempDir::new("report-no-assets");
    let (_, saved) = save(&emulator, &dir, "v", SaveOptions::new().assets(false));
    let out = dir.path().join("out");
    assert!(!out.join("assets").exists() && saved.assets == 0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("The pictures were not saved") && !html.contains("<img"), "numbers only");

    let (_, saved) = save(&emulator, &dir, "v", SaveOptions::new().report(false));
    assert!(saved.report.is_none() && !out.join("report.html").exists(), "no report, and the old one is gone");
    assert!(out.join("results.json").is_file() && out.join("assets").is_dir());

    let (results, saved) = save(&emulator, &dir, "v", SaveOptions::new().limits(Limits::default().max_assets(5)));
    assert_eq!((saved.assets, std::fs::read_dir(out.join("assets")).unwrap().count()), (5, 5));
    assert_eq!(saved.left_out.len(), results.assets().len() - 5, "what was left out is named");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(links(&html).iter().all(|l| out.join(l).is_file()), "the report links only what was saved");
    let (_, saved) = save(&emulator, &dir, "v", SaveOptions::new().limits(Limits::default().max_assets(0)));
    let html = std::fs::read_to_string(saved.report.unwrap()).unwrap();
    assert!(html.contains("No picture fit within the save&#39;s limits."), "says why there are no pictures");
    // Results without a picture at all: the service sent none.
    let results: BatchResults = serde_json::from_value(serde_json::json!({
        "face_skin_metrics_3": {"image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36", "parameters": {}}
    }))
    .unwrap();
    let visit = Visit::new("bare", [(Side::Front, dir.path().join("front.png"))]);
    let saved = save_visit(&fast_session(&emulator), &visit, &results, &out, &SaveOptions::new()).unwrap();
    let html = std::fs::read_to_string(saved.report.unwrap()).unwrap();
    assert!(html.contains("The service returned no pictures."), "says why there are no pictures");
}

#[test]
fn the_index_shows_each_visits_age_chosen_grades_and_a_short_reason_with_the_whole_a_tap_away() {
    let emulator = emulator();
    let dir = TempDir::new("index");
    let input = dir.path().join("in");
    for (visit, n) in [("anna", 1), ("ben", 2)] {
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 150 + n, 180);
            std::fs::create_dir_all(input.join(visit)).unwrap();
            std::fs::write(input.join(visit).join(format!("{side}.png")), photo).unwrap();
        }
    }
    std::fs::create_dir_all(input.join("carl/front.png")).unwrap(); // a folder where a photo should be
    for photo in ["front.png", "front (1).png"] {
        std::fs::create_dir_all(input.join("dora")).unwrap();
        std::fs::write(input.join("dora").join(photo), hautai::emulator::sample_photo(Side::Front, 150, 180)).unwrap();
    }
    let session = fast_session(&emulator);
    let output = dir.path().join("out");
    let summary = FolderRun::new(&session, &input, &output)
        .save(SaveOptions::new().assets(false).report(false))
        .index_columns(["redness", "skin_type"])
        .run(|_| {})
        .unwrap();
    assert_eq!((summary.done, summary.failed.len()), (2, 2), "{summary:?}");
    let html = std::fs::read_to_string(&summary.index).unwrap();
    assert!(html.contains("<th>redness</th><th>skin type</th>"), "chosen columns");
    assert!(html.contains("href=\"visits/anna/results.json\""), "without reports, the results are linked");
    let results: BatchResults =
        serde_json::from_slice(&std::fs::read(output.join("visits/anna/results.json")).unwrap()).unwrap();
    let anna = &html[html.find(">anna<").unwrap()..];
    let anna = &anna[..anna.find("</tr>").unwrap()];
    let years = results.parameter("age").unwrap().years().unwrap();
    assert!(anna.contains(&format!("<td class=\"num\" data-label=\"Age (years)\">{years:.0}</td>")), "{anna}");
    assert!(anna.contains(results.parameter("skin_type").unwrap().tag().unwrap()), "{anna}");
    assert!(anna.contains("done (invented values)"), "{anna}");
    // A short reason at a glance, the whole one a tap away (a tooltip never shows on a phone).
    let dora = &html[html.find(">dora<").unwrap()..];
    let dora = &dora[..dora.find("</tr>").unwrap()];
    let summary_text = &dora[dora.find("<summary>").unwrap() + 9..dora.find("</summary>").unwrap()];
    assert_eq!(summary_text, "failed: two front photos, front (1).png and front.png…", "{dora}");
    assert!(dora.contains("keep the one of this visit</details>"), "{dora}");
    let carl = &html[html.find(">carl<").unwrap()..];
    assert!(carl.contains("<summary>failed: front.png is a folder, not an image</summary>"), "{carl}");
    assert!(html.contains("2 of 4 done") && html.contains("Values invented by the offline emulator"));
}

#[test]
fn a_run_tells_what_it_will_do_before_it_does_it() {
    let emulator = emulator();
    let dir = TempDir::new("planned");
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("v1")).unwrap();
    std::fs::write(input.join("v1/front.png"), hautai::emulator::sample_photo(Side::Front, 150, 180)).unwrap();
    std::fs::write(input.join("notes.txt"), b"x").unwrap();
    let session = fast_session(&emulator);
    let events = std::sync::Mutex::new(Vec::new());
    let record = |event: &FolderEvent<'_>| events.lock().unwrap().push(format!("{event:?}"));
    let run = FolderRun::new(&session, &input, dir.path().join("out")).save(SaveOptions::new().assets(false));
    run.run(record).unwrap();
    run.run(record).unwrap();
    let events = events.into_inner().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.split([' ', '{']).next().unwrap()).collect();
    assert_eq!(kinds, ["NotAVisit", "Planned", "Done", "NotAVisit", "Planned", "DoneEarlier"], "{events:#?}");
    assert!(
        events[1].contains("to_analyse: 1, done_earlier: 0") && events[4].contains("to_analyse: 0, done_earlier: 1")
    );
    assert!(Path::new(&dir.path().join("out/visits/v1/report.html")).is_file());
}

#[test]
fn a_visit_of_another_shard_not_run_yet_says_so_and_is_no_failure() {
    use hautai::bulk::Shard;
    let emulator = emulator();
    let dir = TempDir::new("index-not-run");
    let input = dir.path().join("in");
    let shard = Shard::new(0, 2).unwrap();
    let theirs = (0..100).map(|n| format!("v{n}")).find(|name| !shard.contains(name)).unwrap();
    std::fs::create_dir_all(input.join(&theirs)).unwrap();
    std::fs::write(input.join(&theirs).join("front.png"), hautai::emulator::sample_photo(Side::Front, 150, 180))
        .unwrap();
    let session = fast_session(&emulator);
    let summary = FolderRun::new(&session, &input, dir.path().join("out")).shard(shard).run(|_| {}).unwrap();
    assert!(summary.all_done(), "{summary:?}");
    let html = std::fs::read_to_string(&summary.index).unwrap();
    assert!(html.contains(&format!("<tr><td>{theirs}</td><td data-label=\"Status\">not run</td>")), "{html}");
    assert!(html.contains("0 of 1 done") && !html.contains("<details>"), "{html}");
}
