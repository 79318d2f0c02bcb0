//! What a new user hit on a fresh clone: folders with no photos missing from the summary,
//! failure reasons that led with a machine's path.

use crate::cli::{against, run};
use crate::common::files::TempDir;
use crate::common::*;
use hautai::Side;

#[test]
fn folders_without_photos_are_listed_and_reasons_lead_with_what_went_wrong_without_the_machines_paths() {
    let dir = TempDir::new("no-photos");
    let input = dir.path().join("in");
    for folder in ["empty", "notes", "bad", "good", "blocked"] {
        std::fs::create_dir_all(input.join(folder)).unwrap();
    }
    std::fs::write(input.join("notes/notes.txt"), b"call back on Monday").unwrap();
    for (n, visit) in ["good", "blocked"].into_iter().enumerate() {
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 150 + n as u32, 180);
            std::fs::write(input.join(visit).join(format!("{side}.png")), photo).unwrap();
        }
    }
    std::fs::write(input.join("bad/front.jpg"), b"").unwrap();
    let output = dir.path().join("out");
    // A file where a visit's output folder goes: its reason names that place.
    std::fs::create_dir_all(output.join("visits")).unwrap();
    std::fs::write(output.join("visits/blocked"), b"in the way").unwrap();
    let emulator = emulator();
    let (code, _, err) = run(&mut against(&emulator, &["folder", input.to_str().unwrap(), output.to_str().unwrap()]));
    assert_eq!(code, 1, "bad fails: {err}");

    let summary = std::fs::read_to_string(output.join("summary.csv")).unwrap();
    let status = |visit: &str| {
        let row = summary
            .lines()
            .find(|l| l.starts_with(&format!("\"{visit}\",")))
            .unwrap_or_else(|| panic!("{visit}: {summary}"));
        row.split("\",").nth(1).unwrap().trim_start_matches('"').to_owned()
    };
    assert_eq!(status("empty"), "no photos: the folder is empty");
    assert_eq!(status("notes"), "no photos: its one file is no picture named front…, left… or right…");
    assert!(status("bad").starts_with("failed: empty (front photo front.jpg); nothing was sent for bad"), "{summary}");
    assert_eq!(status("good"), "done");
    assert_eq!(status("blocked"), "failed: its output visits/blocked is not a folder: move it away");

    let index = std::fs::read_to_string(output.join("index.html")).unwrap();
    assert!(index.contains("<td>empty</td><td data-label=\"Status\">no photos: the folder is empty</td>"), "{index}");
    assert!(index.contains("<summary>failed: empty (front photo front.jpg)…</summary>"), "{index}");
    assert!(index.contains(">1 of 5 done<"), "every folder is counted: {index}");
    let machine = dir.path().display().to_string();
    for (page, text) in [("summary.csv", &summary), ("index.html", &index)] {
        assert!(!text.contains(&machine), "{page} names the machine's folders: {text}");
    }
}

#[test]
fn analyze_takes_one_two_or_three_photos_their_sides_told_by_name_or_by_flag() {
    let dir = TempDir::new("analyze-sides");
    let photo =
        |name: &str, side: Side| dir.file(name, &hautai::emulator::sample_photo(side, 160, 190)).display().to_string();
    let (front, left) = (photo("Front-2026.png", Side::Front), photo("profile-l.png", Side::Left));
    let emulator = emulator();
    let (code, out, err) = run(&mut against(&emulator, &["analyze", &front]));
    assert_eq!(code, 0, "one photo, its side from its name: {err}");
    assert!(err.contains(&format!("photos: front {front}")), "which file is which side is said: {err}");
    assert!(out.contains("age"), "{out}");
    let (code, _, err) = run(&mut against(&emulator, &["analyze", &front, "--left", &left]));
    assert_eq!(code, 0, "{err}");
    let sides: Vec<Vec<String>> = emulator
        .batch_ids()
        .into_iter()
        .map(|batch| {
            Side::ALL
                .into_iter()
                .filter(|s| emulator.stored_image(batch, *s).is_some())
                .map(|s| s.to_string())
                .collect()
        })
        .collect();
    assert_eq!(sides, [vec!["front"], vec!["front", "left"]], "the sides sent");
    let (code, _, err) = run(&mut against(&emulator, &["analyze", &left]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot tell the side of") && err.contains("--left"), "{err}");
    let (code, _, err) = run(&mut against(&emulator, &["analyze", &front, "--front", &front]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("two front photos"), "{err}");
    assert_eq!(emulator.batch_ids().len(), 2, "nothing sent for the refused ones");
}

#[test]
fn small_things_batches_line_up_rates_read_plainly_and_the_emulators_face_is_not_called_a_photo() {
    let (code, out, err) = run(&mut crate::cli::hautai(&["--emulator", "batches"]));
    assert_eq!(code, 0, "{err}");
    let column = |line: &str| line.find("front").or_else(|| line.find("sides"));
    let header = column(out.lines().next().unwrap());
    assert!(header.is_some(), "{out}");
    for line in out.lines() {
        assert_eq!(column(line), header, "every row's sides under the header's: {out}");
    }

    let dir = TempDir::new("small-things");
    let input = dir.path().join("in");
    for (n, visit) in ["a", "b"].into_iter().enumerate() {
        std::fs::create_dir_all(input.join(visit)).unwrap();
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 150 + n as u32, 180);
            std::fs::write(input.join(visit).join(format!("{side}.png")), photo).unwrap();
        }
    }
    let output = dir.path().join("out");
    let emulator = emulator();
    let (code, _, err) = run(&mut against(&emulator, &["folder", input.to_str().unwrap(), output.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let rates: Vec<&str> =
        err.lines().filter_map(|l| l.split("] ").nth(1)?.split_once("/min").map(|(rate, _)| rate)).collect();
    assert!(!rates.is_empty(), "{err}");
    for rate in rates {
        let value: f64 = rate.parse().unwrap();
        assert_eq!(rate.contains('.'), value < 10.0, "whole numbers from 10 a minute up: {rate} in {err}");
    }
    let report = std::fs::read_to_string(output.join("visits/a/report.html")).unwrap();
    assert!(!report.contains("as the service received it") && report.contains("a face the emulator drew"), "{report}");
}

#[test]
fn analyze_remembers_how_long_its_service_took_and_polls_around_then_next_time() {
    use hautai::emulator::{Emulator, EmulatorConfig, Maturity, Route};
    let dir = TempDir::new("remembered");
    let photos: Vec<String> = Side::ALL
        .into_iter()
        .map(|side| {
            dir.file(&format!("{side}.png"), &hautai::emulator::sample_photo(side, 150, 180)).display().to_string()
        })
        .collect();
    let config = EmulatorConfig::new().maturity(Maturity::After(std::time::Duration::from_millis(1500)));
    let emulator = Emulator::start(config).unwrap();
    let cache = dir.path().join("cache");
    let file = cache.join("hautai/readiness.json");
    let analyze = || {
        let mut args = vec!["analyze"];
        args.extend(photos.iter().map(String::as_str));
        let (code, _, err) = run(against(&emulator, &args).env("XDG_CACHE_HOME", &cache));
        assert_eq!(code, 0, "{err}");
        let batch = *emulator.batch_ids().last().unwrap();
        // How long after its results were ready the poll that found them came.
        let polls: Vec<_> = emulator.requests().into_iter().filter(|r| r.route == Route::Results).collect();
        let found = polls.iter().filter(|r| r.path.contains(&batch.to_string())).map(|r| r.time_in).max().unwrap();
        found.saturating_duration_since(emulator.ready_at(batch).unwrap())
    };
    let remembered = || -> serde_json::Value { serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap() };

    let first = analyze();
    let services = remembered()["services"].clone();
    assert_eq!(services[0]["base_url"], emulator.base_url(), "{services}");
    let ready_ms = services[0]["ready_ms"].as_array().unwrap().clone();
    assert_eq!(ready_ms.len(), 1, "{services}");
    assert!((1500..3000).contains(&ready_ms[0].as_u64().unwrap()), "{services}");
    let second = analyze();
    assert_eq!(remembered()["services"][0]["ready_ms"].as_array().unwrap().len(), 2);
    assert!(
        second + std::time::Duration::from_millis(250) < first,
        "sooner once remembered: {first:?}, then {second:?}"
    );

    // A file that is not ours is ignored and replaced; what is kept stays bounded.
    std::fs::write(&file, b"{not json").unwrap();
    analyze();
    assert_eq!(remembered()["services"][0]["ready_ms"].as_array().unwrap().len(), 1, "started afresh");
    let crowded: Vec<serde_json::Value> = (0..40)
        .map(|n| serde_json::json!({"base_url": format!("https://service-{n}.example"), "ready_ms": vec![4000; 100]}))
        .collect();
    std::fs::write(&file, serde_json::json!({ "services": crowded }).to_string()).unwrap();
    analyze();
    let services = remembered()["services"].as_array().unwrap().clone();
    assert_eq!(services.len(), 16, "the services used last");
    assert_eq!(services[0]["base_url"], emulator.base_url());
    assert!(services.iter().all(|s| s["ready_ms"].as_array().unwrap().len() <= 20), "{services:?}");
    assert!(std::fs::metadata(&file).unwrap().len() < 16 * 1024, "a small file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(file.parent().unwrap()), mode(&file)), (0o700, 0o600), "the user's own");
    }
}

#[test]
fn an_emulator_folder_run_killed_and_run_again_resumes_offline_and_pays_no_visit_twice() {
    use std::io::{BufRead, BufReader};
    let dir = TempDir::new("offline-rerun");
    let input = dir.path().join("in");
    for (n, visit) in ["v1", "v2", "v3", "v4"].into_iter().enumerate() {
        std::fs::create_dir_all(input.join(visit)).unwrap();
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 150 + n as u32, 180);
            std::fs::write(input.join(visit).join(format!("{side}.png")), photo).unwrap();
        }
    }
    let output = dir.path().join("out");
    let args = [
        "--emulator",
        "folder",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
        "--concurrency",
        "1",
        "--no-assets",
    ];
    let mut child = crate::cli::hautai(&args).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let seen: Vec<String> = lines.by_ref().map_while(Result::ok).take_while(|l| !l.starts_with("done v1")).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!seen.is_empty(), "the first run started");

    let (code, _, err) = run(&mut crate::cli::hautai(&args));
    assert_eq!(code, 0, "the rerun resumes against the service the first run paid: {err}");
    assert!(err.contains("as an earlier run left it"), "{err}");
    assert!(err.contains("done earlier") && !err.contains("done earlier 0,"), "{err}");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(output.join(".hautai/emulator.json")).unwrap()).unwrap();
    let batches = kept["data"]["batches"].as_array().unwrap();
    assert_eq!((batches.len(), kept["data"]["computes_taken"].as_u64()), (4, Some(4)), "a batch and a compute a visit");
    let summary = std::fs::read_to_string(output.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().filter(|l| l.contains(",\"done\",")).count(), 4, "{summary}");

    // Its port taken (another run into the folder, another program): what to do is said.
    let port = kept["api_port"].as_u64().unwrap() as u16;
    let holder = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (code, _, err) = run(&mut crate::cli::hautai(&args));
    drop(holder);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot start the emulator kept in") && err.contains("another run into this folder"), "{err}");
}
