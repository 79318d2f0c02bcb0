//! Downloading the assets of the results: every URL the emulator hands out, streamed,
//! retried, never with the token, redirects refused, signatures never in a message.

use std::io::Write;

use crate::common::*;
use hautai::Side;
use hautai::emulator::{Fault, Route};
use hautai::error::ErrorKind;
use hautai::model::ResultsQuery;

/// A writer that keeps the size of every write.
#[derive(Default)]
struct Chunks(Vec<usize>, Vec<u8>);

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push(buf.len());
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn analysed(emulator: &hautai::emulator::Emulator, query: ResultsQuery) -> hautai::BatchResults {
    let photo = crate::common::files::photo(1, 5000);
    let session = fast_session(emulator);
    let images = hautai::Images::new().front(&photo).left(&photo);
    let options = hautai::AnalysisOptions::new().results(query);
    session.run_analysis(&images, &options).unwrap()
}

#[test]
fn every_asset_of_the_results_downloads_as_what_it_claims_to_be() {
    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    let assets = results.assets();
    // 27 parameters × 2 sides × 3 masks, and 2 sides × 3 predicted images.
    assert_eq!(assets.len(), 27 * 2 * 3 + 2 * 3);
    let session = emulator.session();
    for asset in &assets {
        let mut bytes = Vec::new();
        let len = session.download(&asset.url, &mut bytes).unwrap();
        assert_eq!(len as usize, bytes.len());
        match asset.file_name().rsplit_once('.').unwrap().1 {
            "svg" => assert!(bytes.starts_with(b"<svg") && bytes.ends_with(b"</svg>"), "{}", asset.file_name()),
            "png" => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", asset.file_name()),
            other => panic!("{other}"),
        }
    }
    let names: std::collections::HashSet<&str> = assets.iter().map(|a| a.file_name()).collect();
    assert_eq!(names.len(), assets.len(), "file names are unique");
    let downloads: Vec<_> = emulator.requests().into_iter().filter(|r| r.route == Route::Asset).collect();
    assert_eq!(downloads.len(), assets.len());
    assert!(downloads.iter().all(|r| !r.authorization && r.status == 200), "the token never goes to storage");

    // PNG masks when asked.
    let png = analysed(&emulator, ResultsQuery::new().svg_masks(false));
    assert!(png.assets().iter().filter(|a| a.parameter.is_some()).all(|a| a.file_name().ends_with(".png")));
}

#[test]
fn a_download_streams_in_chunks_and_retries_a_transient_failure() {
    let mut server = mockito::Server::new();
    let body = vec![7u8; 1 << 20];
    server.mock("GET", "/bucket/mask.png").match_query(mockito::Matcher::Any).with_status(503).expect(1).create();
    let ok = server
        .mock("GET", "/bucket/mask.png")
        .match_query(mockito::Matcher::Any)
        .match_header("authorization", mockito::Matcher::Missing)
        .with_body(&body)
        .expect(1)
        .create();
    let (session, clock) = session(&server.url());
    let mut chunks = Chunks::default();
    let url = format!("{}/bucket/mask.png?X-Goog-Signature=SECRETSIG", server.url());
    assert_eq!(session.download(&url, &mut chunks).unwrap(), 1 << 20);
    ok.assert();
    assert_eq!(chunks.1, body);
    assert_eq!(clock.sleeps().len(), 1, "one retry");
    // Streamed: many writes, none larger than the 64 KiB buffer.
    assert!(chunks.0.len() >= 16 && chunks.0.iter().all(|n| *n <= 64 * 1024), "{:?}", chunks.0.len());
}

#[test]
fn redirects_tampering_and_expiry_are_errors_that_never_show_the_signature() {
    let mut server = mockito::Server::new();
    server
        .mock("GET", "/bucket/moved.png")
        .match_query(mockito::Matcher::Any)
        .with_status(302)
        .with_header("location", "/x?X-Goog-Signature=SECRETSIG")
        .create();
    let (session, _) = session(&server.url());
    let err = session
        .download(&format!("{}/bucket/moved.png?X-Goog-Signature=SECRETSIG", server.url()), &mut Vec::new())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Redirect { status: 302, .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("SECRETSIG"), "{err}");

    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    let asset = &results.assets()[0];
    let tampered = asset.url.replace("/masks/", "/masks/x");
    let err = emulator.session().download(&tampered, &mut Vec::new()).unwrap_err();
    let ErrorKind::Storage(storage) = err.kind() else { panic!("{err:?}") };
    assert_eq!((storage.status, storage.code.as_deref()), (403, Some("SignatureDoesNotMatch")));
    let signature = asset.url.split("X-Goog-Signature=").nth(1).unwrap();
    let shown = format!("{err} {err:?}");
    assert!(shown.starts_with("download of /hautai-results/") && shown.contains("fetch the results again"), "{shown}");
    assert!(!shown.contains(signature) && !shown.contains("X-Goog-Credential"), "{shown}");

    // URLs that expire at once: refused once their second has passed.
    let expiring = analysed(&emulator, ResultsQuery::new().expiration_seconds(0));
    let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() <= second + 1 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let err = emulator.session().download(&expiring.assets()[0].url, &mut Vec::new()).unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("ExpiredToken"), "{err}");
}

#[test]
fn download_to_writes_the_whole_file_or_nothing() {
    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    let dir = crate::common::files::TempDir::new("assets-to");
    let asset = results.assets().into_iter().find(|a| a.side == Some(Side::Front) && a.parameter.is_none()).unwrap();
    let path = dir.path().join(asset.file_name());
    let len = emulator.session().download_to(&asset.url, &path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    emulator.fail_next(Route::Asset, 5, Fault::status(500));
    let failed = dir.path().join("failed.png");
    let quick = fast_session(&emulator);
    assert!(quick.download_to(&asset.url, &failed).is_err());
    assert!(!failed.exists());
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    assert!(quick.download("ftp://elsewhere/x", &mut Vec::new()).is_err());
    // A file that cannot be written keeps the system's error: a folder in the way.
    let blocked = dir.path().join("no-such-folder").join("front.png");
    let error = quick.download_to(&asset.url, &blocked).unwrap_err();
    assert!(matches!(error.kind(), hautai::error::ErrorKind::Save { .. }), "{error:?}");
    assert_eq!(error.io_error().map(std::io::Error::kind), Some(std::io::ErrorKind::NotFound), "{error:?}");
    let source = std::error::Error::source(&error).map(ToString::to_string);
    assert_eq!(source, error.io_error().map(ToString::to_string), "the cause is the source");
}

#[test]
fn a_download_ends_by_the_sessions_deadline() {
    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    emulator.storage_relay().never_answer(true);
    let session = emulator.session_builder().deadline(std::time::Duration::from_millis(400)).build().unwrap();
    let started = std::time::Instant::now();
    let err = session.download(&results.assets()[0].url, &mut Vec::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RequestTimeout { .. }), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "ended by the deadline, not the 30 s io timeout");
}

#[test]
fn asset_names_that_collide_by_case_punctuation_or_place_get_files_of_their_own() {
    let url = |n: u32| format!("https://storage.example/b/{n}.svg?X-Goog-Signature=s");
    let results: hautai::BatchResults = serde_json::from_value(serde_json::json!({
        "face_skin_metrics_3": {
            "image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36",
            "parameters": {
                "a.b": {"masks": {"front": {"original": url(1)}}},
                "a_b": {"masks": {"front": {"original": url(2)}}},
                "Pores": {"masks": {"front": {"original": url(3)}}},
                "pores": {"masks": {"front": {"original": url(4)}}},
                "x": {"masks": {"front": {"original": url(5)}, "original": {"front": url(6)}}},
                "CON": {"masks": url(7)},
                "long": {"masks": {"x".repeat(300): url(8)}}
            }
        },
        "pores": {"image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36", "front": {"masks": {"original": url(9)}}}
    }))
    .unwrap();
    let assets = results.assets();
    assert_eq!(assets.len(), 9);
    let names: std::collections::HashSet<String> = assets.iter().map(|a| a.file_name().to_lowercase()).collect();
    assert_eq!(names.len(), 9, "one file each, case aside: {names:?}");
    for asset in &assets {
        let name = asset.file_name();
        assert!(name.len() <= 90 && !name.to_lowercase().starts_with("con."), "{name}");
    }
}

#[test]
fn two_downloads_into_one_path_leave_one_whole_asset_and_no_stray_file() {
    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    let session = emulator.session();
    let assets = results.assets();
    let (a, b) = (&assets[0], &assets[assets.len() - 1]);
    let bytes = |asset: &hautai::model::Asset| {
        let mut bytes = Vec::new();
        session.download(&asset.url, &mut bytes).unwrap();
        bytes
    };
    let (a_bytes, b_bytes) = (bytes(a), bytes(b));
    assert_ne!(a_bytes, b_bytes);
    let dir = crate::common::files::TempDir::new("assets-race");
    let path = dir.path().join("one.png");
    for round in 0..40 {
        std::thread::scope(|scope| {
            let first = scope.spawn(|| session.download_to(&a.url, &path));
            let second = scope.spawn(|| session.download_to(&b.url, &path));
            first.join().unwrap().unwrap();
            second.join().unwrap().unwrap();
        });
        let saved = std::fs::read(&path).unwrap();
        assert!(saved == a_bytes || saved == b_bytes, "round {round}: a whole asset");
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(files.len(), 1, "round {round}: no stray file: {files:?}");
    }
}

#[test]
fn downloads_go_over_https_to_public_addresses_unless_allowed() {
    // A local "metadata service" that must not be reached from an answer's URL.
    let mut metadata = mockito::Server::new();
    let secret = metadata
        .mock("GET", "/latest/meta-data/")
        .match_query(mockito::Matcher::Any)
        .with_body("credentials")
        .expect(1)
        .create();
    let url = format!("{}/latest/meta-data/?X-Goog-Signature=abc", metadata.url());
    let session = hautai::Session::builder("token-123", crate::common::company()).build().unwrap();
    for refused in [url.as_str(), "https://169.254.169.254/latest/meta-data/?X-Goog-Signature=abc", "https://[::1]/x"] {
        let error = session.download(refused, &mut Vec::new()).unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::InvalidArgument(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("refused to download from") && message.contains("download_from_any_host"),
            "{message}"
        );
        assert!(!message.contains("abc"), "never the signature: {message}");
    }
    // Widened on purpose: the local server is reached (once).
    let anywhere =
        hautai::Session::builder("token-123", crate::common::company()).download_from_any_host(true).build().unwrap();
    let mut body = Vec::new();
    anywhere.download(&url, &mut body).unwrap();
    assert_eq!(body, b"credentials");
    secret.assert();
}

#[test]
fn a_save_fetches_no_more_files_or_bytes_than_its_limits_and_names_what_it_left_out() {
    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    let session = emulator.session();
    let assets = results.assets();
    let dir = crate::common::files::TempDir::new("assets-limits");
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);

    let counted =
        session.save_assets(&assets, dir.path().join("count"), hautai::save::Limits::default().max_assets(10));
    assert_eq!((counted.saved.len(), counted.left_out.len(), counted.failed.len()), (10, assets.len() - 10, 0));
    assert_eq!(counted.saved, assets[..10], "the first ten, in order");
    assert_eq!(files(&dir.path().join("count")), 10);

    let all = session.save_assets(&assets, dir.path().join("all"), hautai::save::Limits::default());
    assert_eq!((all.saved.len(), all.left_out.len()), (assets.len(), 0));
    emulator.clear_requests();
    let budget = all.bytes / 3;
    let bounded =
        session.save_assets(&assets, dir.path().join("bytes"), hautai::save::Limits::default().max_bytes(budget));
    assert!(bounded.bytes <= budget && !bounded.saved.is_empty() && !bounded.left_out.is_empty(), "{bounded:?}");
    assert_eq!(bounded.saved.len() + bounded.left_out.len(), assets.len());
    let on_disk: u64 =
        std::fs::read_dir(dir.path().join("bytes")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    assert_eq!(on_disk, bounded.bytes, "no file cut short, no temporary file");
    assert_eq!(files(&dir.path().join("bytes")), bounded.saved.len());
    // Once the budget is spent, the rest are not even requested (at most one cut short per worker).
    let fetched = emulator.requests().iter().filter(|r| r.route == Route::Asset).count();
    assert!(fetched <= bounded.saved.len() + 8, "{fetched} requests for {} saved", bounded.saved.len());
}

#[test]
fn temporary_files_a_killed_run_left_under_this_process_id_do_not_block_a_download() {
    let emulator = emulator();
    let results = analysed(&emulator, ResultsQuery::new());
    let dir = crate::common::files::TempDir::new("assets-stale");
    // A container's process id is often the same on every run: a killed run's leftovers
    // carry the names this process would choose first.
    for n in 0..2000 {
        std::fs::write(dir.path().join(format!(".one.png.{}-{n}.partial", std::process::id())), b"stale").unwrap();
    }
    let path = dir.path().join("one.png");
    emulator.session().download_to(&results.assets()[0].url, &path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 5);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2001, "the leftovers are passed over, not removed");
}
