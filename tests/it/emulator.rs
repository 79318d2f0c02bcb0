//! The real pipeline against the emulator: happy paths, every fault, bad inputs,
//! pagination, and the request record (no token at storage, overlapping uploads).

use std::time::Duration;

use crate::common::files::{TempDir, photo};
use crate::common::fnv1a;
use crate::common::{emulator, emulator_with, fast_session};
use hautai::config::RetryPolicy;
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Maturity, PARAMETERS, Route};
use hautai::error::{ErrorKind, Step};
use hautai::model::BatchQuery;
use hautai::{AnalysisOptions, Images, Side};

fn uploads(emulator: &Emulator) -> Vec<hautai::emulator::RecordedRequest> {
    emulator.requests().into_iter().filter(|r| r.route == Route::Upload).collect()
}

#[test]
fn files_are_analysed_and_stored_exactly_without_the_token_at_storage() {
    // A shared bandwidth makes each upload last long enough to see the overlap.
    let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::Polls(1)).upload_bandwidth(4_000_000));
    let dir = TempDir::new("emulator-files");
    let bytes = [photo(1, 400_000), photo(2, 450_000), photo(3, 500_000)];
    let paths: Vec<_> = ["f.jpg", "l.jpg", "r.jpg"].iter().zip(&bytes).map(|(n, b)| dir.file(n, b)).collect();
    let results = fast_session(&emulator).run_full_analysis(&paths[0], &paths[1], &paths[2]).unwrap();

    assert!(results.is_complete());
    assert_eq!(results.parameters().len(), PARAMETERS.len());
    for name in PARAMETERS {
        let p = results.parameter(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(p.tag().is_some() && p.score().is_some(), "{name}: {p:?}");
    }
    let batch = results.batch_id();
    assert_eq!(emulator.batch_ids(), vec![batch]);
    for (side, b) in Side::ALL.into_iter().zip(&bytes) {
        assert_eq!(emulator.stored_image(batch, side), Some((b.len() as u64, fnv1a(b))), "{side}");
    }
    let puts = uploads(&emulator);
    assert_eq!(puts.len(), 3);
    assert!(puts.iter().all(|r| !r.authorization && !r.chunked && r.content_length == Some(r.body_size)));
    assert!(emulator.requests().iter().filter(|r| !r.storage).all(|r| r.authorization));
    // The three uploads were in the emulator at the same time.
    assert!(puts[0].overlaps(&puts[1]) && puts[1].overlaps(&puts[2]) && puts[0].overlaps(&puts[2]), "{puts:#?}");
    assert_eq!(emulator.compute_calls(batch), 1);
    // Masks and predicted images honour the query: the final fetch used the defaults.
    let redness = results.parameter("redness").unwrap();
    let mask = redness.field("masks").unwrap()["front"]["original"].as_str().unwrap();
    assert!(mask.contains(".svg?") && mask.contains("X-Goog-Expires=3600"), "{mask}");
}

#[test]
fn bytes_and_a_single_side_work_with_options() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let bytes = photo(7, 10_000);
    let options = AnalysisOptions::new()
        .results(hautai::model::ResultsQuery::new().svg_masks(false).expiration_seconds(60))
        .meta(serde_json::json!({"visit": 1}));
    let results = session.run_analysis(&Images::new().front(&bytes), &options).unwrap();
    let mask = results.parameter("pores").unwrap().field("masks").unwrap()["front"]["aligned_face"].as_str().unwrap();
    assert!(mask.contains(".png?") && mask.contains("X-Goog-Expires=60"), "{mask}");
    let info = session.batch(results.batch_id()).unwrap();
    assert_eq!(info.images.keys().collect::<Vec<_>>(), ["front"]);
    assert_eq!(info.images["front"].name.as_deref(), Some("front.jpg"));
    assert_eq!(info.meta, Some(serde_json::json!({"visit": 1})));
    assert_eq!(info.subject.unwrap().id, emulator.subject_id());
    assert_eq!(emulator.stored_image(results.batch_id(), Side::Front), Some((10_000, fnv1a(&bytes))));
}

#[test]
fn a_503_on_the_first_call_of_every_route_is_retried_without_duplicates() {
    let emulator = emulator();
    for route in [Route::Initiate, Route::Upload, Route::Compute, Route::Results] {
        emulator.fail_next(route, 1, Fault::status(503));
    }
    let bytes = photo(1, 5000);
    let results = fast_session(&emulator).run_full_analysis(&bytes, &bytes, &bytes).unwrap();
    assert_eq!(emulator.batch_ids(), vec![results.batch_id()], "one batch despite the retried initiate");
    assert_eq!(emulator.compute_calls(results.batch_id()), 1);
    let count = |route| emulator.requests().iter().filter(|r| r.route == route).count();
    assert_eq!((count(Route::Initiate), count(Route::Compute), count(Route::Upload)), (2, 2, 4));
}

#[test]
fn retry_after_on_a_poll_delays_the_next_poll() {
    let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::Polls(2)));
    emulator.fail_next(Route::Results, 1, Fault::status(429).retry_after("1"));
    let bytes = photo(1, 5000);
    fast_session(&emulator).run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap();
    let polls: Vec<_> = emulator.requests().into_iter().filter(|r| r.route == Route::Results).collect();
    assert_eq!(polls[0].status, 429);
    let gap = polls[1].time_in - polls[0].time_out;
    assert!(gap >= Duration::from_secs(1), "the next poll came {gap:?} later");
}

#[test]
fn a_connection_cut_mid_upload_is_sent_again_whole() {
    let emulator = emulator();
    emulator.storage_relay().cut_after(100_000);
    let bytes = photo(5, 300_000);
    let results = fast_session(&emulator).run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap();
    assert_eq!(emulator.stored_image(results.batch_id(), Side::Front), Some((300_000, fnv1a(&bytes))));
    let puts = uploads(&emulator);
    assert_eq!(puts.len(), 2, "{puts:#?}");
    assert!(puts[0].body_size < 300_000 && puts[0].status != 200, "{:?}", puts[0]);
    assert_eq!((puts[1].body_size, puts[1].status), (300_000, 200));
}

#[test]
fn a_500_on_an_upload_is_retried() {
    let emulator = emulator();
    emulator.fail_next(Route::Upload, 1, Fault::status(500));
    let bytes = photo(5, 3000);
    fast_session(&emulator).run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap();
    let statuses: Vec<u16> = uploads(&emulator).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200]);
}

#[test]
fn rejected_and_expired_signed_urls_are_final() {
    for (status, code, says) in [(403, "SignatureDoesNotMatch", "rejected"), (400, "ExpiredToken", "expired")] {
        let emulator = emulator();
        emulator.fail_next(Route::Upload, 1, Fault::status(status).storage_code(code));
        let bytes = photo(5, 3000);
        let err =
            fast_session(&emulator).run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap_err();
        assert_eq!((err.step(), err.status()), (Some(Step::Upload), Some(status)));
        assert!(err.to_string().contains(says), "{err}");
        assert_eq!(uploads(&emulator).len(), 1, "no retry storm");
        let batch = emulator.batch_ids()[0];
        assert_eq!(err.batch_id(), Some(batch));
        assert_eq!(emulator.compute_calls(batch), 0);
    }
}

#[test]
fn redirects_on_upload_and_initiate_are_errors() {
    let emulator = emulator();
    let bytes = photo(5, 3000);
    let session = fast_session(&emulator);
    emulator.fail_next(Route::Upload, 1, Fault::status(302).location("http://127.0.0.1:9/elsewhere"));
    let err = session.run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Redirect { status: 302, .. }), "{err:?}");
    assert_eq!(err.request().map(|r| r.method), Some("PUT"));
    emulator.fail_next(Route::Initiate, 1, Fault::status(302).location("/login/"));
    let err = session.run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Redirect { status: 302, .. }), "{err:?}");
    assert_eq!(err.request().map(|r| r.method), Some("POST"));
    assert_eq!(err.step(), Some(Step::Initiate));
}

#[test]
fn results_that_never_complete_end_at_the_deadline_and_resume_later() {
    let emulator = emulator();
    emulator.never_complete(true);
    let session = fast_session(&emulator);
    let bytes = photo(5, 3000);
    let options = AnalysisOptions::new().deadline(Duration::from_millis(600));
    let err = session.run_analysis(&Images::new().front(&bytes), &options).unwrap_err();
    let ErrorKind::Deadline { step, batch_id: Some(batch), polls, .. } = *err.kind() else { panic!("{err:?}") };
    assert_eq!(step, Step::Results);
    assert!(polls >= 2, "{polls}");
    emulator.complete_all();
    let results = session.wait_for_results(batch).unwrap();
    assert!(results.is_complete());
    assert_eq!(emulator.compute_calls(batch), 1);
}

#[test]
fn a_detection_error_waits_for_the_other_sides_and_keeps_their_results() {
    let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::Polls(5)));
    emulator.detection_error(Some((Side::Left, "no face found")));
    let bytes = photo(5, 3000);
    let err = fast_session(&emulator).run_full_analysis(&bytes, &bytes, &bytes).unwrap_err();
    let ErrorKind::Detection(detection) = err.kind() else { panic!("{err:?}") };
    assert_eq!(detection.sides, [("left".to_owned(), "no face found".to_owned())]);
    // What a `main` returning this error prints: the reason, not every mask's URL.
    let debug = format!("{err:?}");
    assert!(debug.len() < 600 && debug.contains("no face found") && debug.contains("27 parameters"), "{debug}");
    // The service went on with the other sides: the error holds the finished work, fetched
    // with the caller's options (masks included by default).
    assert!(detection.results.is_complete(), "{:?}", detection.results);
    let parameters = detection.results.parameters();
    assert_eq!(parameters.len(), 27);
    assert!(parameters.get("redness").and_then(|p| p.field("masks")).is_some());
    let polls = emulator.requests().iter().filter(|r| r.route == Route::Results).count();
    assert_eq!(polls, 6, "five polls until complete, then the final fetch");
}

#[test]
fn html_or_truncated_json_in_a_200_is_a_decode_error_naming_the_endpoint() {
    for body in ["<html><body>maintenance</body></html>", r#"{"face_skin_metrics_3": {"parame"#] {
        let emulator = emulator();
        emulator.fail_every(Route::Results, 1, Fault::status(200).body(body));
        let bytes = photo(5, 3000);
        let err =
            fast_session(&emulator).run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Decode { endpoint: "GET batch results", .. }), "{err:?}");
        assert_eq!((err.step(), err.batch_id()), (Some(Step::Results), emulator.batch_ids().first().copied()));
    }
}

#[test]
fn every_nth_call_fails_deterministically() {
    let emulator = emulator();
    emulator.fail_every(Route::BatchInfo, 2, Fault::status(500));
    let session = emulator.session_builder().retry(RetryPolicy::none()).build().unwrap();
    let bytes = photo(5, 3000);
    let targets = session
        .initiate_upload(emulator.subject_id(), &hautai::model::InitiateUpload::new().name(Side::Front, "f.jpg"))
        .unwrap();
    session.upload_image(Side::Front, targets.get(Side::Front).unwrap(), &bytes).unwrap();
    let outcomes: Vec<bool> = (0..6).map(|_| session.batch(targets.image_batch_id).is_ok()).collect();
    assert_eq!(outcomes, [true, false, true, false, true, false]);
}

#[test]
fn pagination_walks_more_than_one_page_and_past_the_end_is_404() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    for i in 0..5 {
        let name = format!("visit-{i}.jpg");
        session
            .initiate_upload(emulator.subject_id(), &hautai::model::InitiateUpload::new().name(Side::Front, name))
            .unwrap();
    }
    let query = BatchQuery::new().page_size(2).subject_id(emulator.subject_id());
    let listed: Vec<_> = session.batches(&query).map(|b| b.unwrap().id).collect();
    let mut created = emulator.batch_ids();
    created.reverse(); // Newest first by default.
    assert_eq!(listed, created);
    assert_eq!(emulator.requests().iter().filter(|r| r.route == Route::BatchList).count(), 3);
    let page = session.list_batches(&query.clone().page(3)).unwrap();
    assert_eq!((page.count, page.results.len(), page.next.as_deref()), (5, 1, None));
    let past = session.list_batches(&query.page(4)).unwrap_err();
    assert_eq!(past.status(), Some(404));
    let other = BatchQuery::new().dataset_id(hautai::Uuid::nil());
    assert!(session.list_batches(&other).unwrap().results.is_empty());
}

#[test]
fn the_emulator_enforces_the_documented_rules() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    // Names of 256 characters are refused by the server too (sent raw, past the client).
    let raw = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let upload = format!(
        "{}/api/v3/companies/{}/subjects/{}/upload/",
        emulator.base_url(),
        emulator.company_id(),
        emulator.subject_id()
    );
    let bearer = format!("Bearer {}", emulator.token());
    let long = serde_json::json!({"front": "é".repeat(256)});
    let mut answer = raw.post(&upload).header("authorization", &bearer).send_json(&long).unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.body_mut().read_to_string().unwrap().contains("no more than 255 characters"));
    let ok = serde_json::json!({"front": "é".repeat(255)});
    assert_eq!(raw.post(&upload).header("authorization", &bearer).send_json(&ok).unwrap().status(), 200);
    // No token, a wrong token, a non-uuid path id.
    assert_eq!(raw.post(&upload).send_json(&ok).unwrap().status(), 401);
    assert_eq!(raw.post(&upload).header("authorization", "Bearer nope").send_json(&ok).unwrap().status(), 401);
    let bad_id = format!("{}/api/v3/companies/not-a-uuid/batches/", emulator.base_url());
    assert_eq!(raw.get(&bad_id).header("authorization", &bearer).call().unwrap().status(), 404);
    // Compute before the uploads.
    let targets = session
        .initiate_upload(emulator.subject_id(), &hautai::model::InitiateUpload::new().name(Side::Front, "f.jpg"))
        .unwrap();
    let err = session.compute(targets.image_batch_id, None).unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("missing: front"), "{err}");
    // Storage: the token, a missing signed header, a chunked body, a wrong signature.
    let target = targets.get(Side::Front).unwrap();
    let put = |extra: &[(&str, &str)], url: &str| {
        let mut request = raw
            .put(url)
            .header("content-type", "application/octet-stream")
            .header("x-goog-content-length-range", "1,31457280");
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        request
    };
    let status = |r: Result<ureq::http::Response<ureq::Body>, ureq::Error>| r.unwrap().status().as_u16();
    assert_eq!(status(put(&[("authorization", &bearer)], &target.url).send(&b"abc"[..])), 400);
    assert_eq!(status(raw.put(&target.url).header("content-type", "application/octet-stream").send(&b"abc"[..])), 403);
    let mut chunked_body: &[u8] = b"abc";
    assert_eq!(status(put(&[], &target.url).send(ureq::SendBody::from_reader(&mut chunked_body))), 411);
    let forged = target.url.replace("X-Goog-Signature=", "X-Goog-Signature=0");
    assert_eq!(status(put(&[], &forged).send(&b"abc"[..])), 403);
    assert_eq!(status(put(&[], &target.url).send(&b""[..])), 400);
    assert_eq!(status(put(&[], &target.url).send(&b"abc"[..])), 200);
    assert!(emulator.requests().iter().any(|r| r.storage && r.chunked));
}

#[test]
fn stopping_the_emulator_closes_its_connections_and_wakes_its_handlers() {
    let emulator = emulator_with(EmulatorConfig::new().latency(Duration::from_secs(60)));
    let session = emulator.session_builder().retry(RetryPolicy::none()).build().unwrap();
    // A request stuck in a 60 s latency when the emulator is dropped.
    let stuck = std::thread::spawn(move || session.batch(hautai::Uuid::nil()));
    std::thread::sleep(Duration::from_millis(200));
    let dropped = std::time::Instant::now();
    // Stopped while a session (in the thread) still holds it.
    emulator.stop();
    let answer = stuck.join().unwrap();
    assert!(answer.is_err(), "{answer:?}");
    assert!(dropped.elapsed() < Duration::from_secs(30), "the handler was not woken");
}

#[test]
fn the_same_photos_get_the_same_values_and_a_seed_fixes_the_ids() {
    let run = |seed: u64| {
        let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::Polls(1)).seed(seed));
        let bytes = photo(9, 4000);
        let results =
            fast_session(&emulator).run_analysis(&Images::new().front(&bytes), &AnalysisOptions::new()).unwrap();
        let values: Vec<(String, Option<f64>)> =
            results.parameters().iter().map(|(name, p)| (name.to_owned(), p.score())).collect();
        (emulator.company_id(), results.batch_id(), values)
    };
    let (first, second, other_seed) = (run(42), run(42), run(43));
    assert_eq!(first, second, "same seed, same photos: the same run");
    assert_ne!(first.1, other_seed.1, "another seed, other ids");
    assert_eq!(first.2, other_seed.2, "the values depend only on the photos");
}

#[test]
fn a_rate_limited_emulator_answers_429_with_retry_after_beyond_its_rate() {
    let emulator = emulator_with(EmulatorConfig::new().rate_limit(5));
    let session = emulator.session_builder().retry(RetryPolicy::none()).build().unwrap();
    let status = || session.batches(&BatchQuery::new()).next().and_then(|r| r.err()).and_then(|e| e.status());
    // The burst of 5 passes, and then a request is throttled (on a slow machine the bucket
    // may have refilled a little first: the 429 comes after at least five).
    let mut statuses = Vec::new();
    while !statuses.contains(&Some(429)) && statuses.len() < 40 {
        statuses.push(status());
    }
    let throttled = statuses.iter().position(|s| *s == Some(429)).expect("throttled");
    assert!(throttled >= 5 && statuses[..throttled].iter().all(Option::is_none), "{statuses:?}");
    // Its Retry-After (1 s) holds the session's next requests, which then pass.
    assert_eq!([status(), status()], [None, None]);
    // The emulator records a request once its answer is sent: the last may lag a moment.
    let start = std::time::Instant::now();
    while emulator.requests().len() < throttled + 3 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen: Vec<u16> = emulator.requests().iter().map(|r| r.status).collect();
    assert_eq!(seen.iter().filter(|s| **s == 429).count(), 1, "{seen:?}");
    assert_eq!(seen.len(), throttled + 3, "{seen:?}");
}

#[test]
fn readiness_can_vary_by_batch_around_a_mean() {
    let spread = Maturity::Around { mean: Duration::from_secs(10), spread: Duration::from_secs(2) };
    let delays: Vec<Duration> = (0..200).map(|i| spread.delay_of(hautai::Uuid::from_u128(i)).unwrap()).collect();
    assert!(delays.iter().all(|d| (Duration::from_secs(8)..=Duration::from_secs(12)).contains(d)), "{delays:?}");
    let mean = delays.iter().sum::<Duration>() / 200;
    assert!((Duration::from_millis(9500)..=Duration::from_millis(10500)).contains(&mean), "{mean:?}");
    assert_eq!(spread.delay_of(hautai::Uuid::from_u128(7)), spread.delay_of(hautai::Uuid::from_u128(7)));
    assert_eq!(Maturity::Polls(2).delay_of(hautai::Uuid::nil()), None);
}

#[test]
fn an_observer_closure_written_in_place_sees_the_events() {
    let emulator = emulator();
    let seen = std::sync::Mutex::new(Vec::new());
    let photo = hautai::emulator::sample_photo(Side::Front, 64, 80);
    // Written in place, without a type annotation on `event`: `on_event` infers it.
    let images = Images::new().front(photo);
    emulator
        .session()
        .run_analysis(
            &images,
            &AnalysisOptions::new().on_event(&|event| {
                seen.lock().unwrap().push(event.to_string());
                hautai::observe::Control::Continue
            }),
        )
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.first().is_some_and(|e| e.starts_with("validated front")), "{seen:?}");
    assert!(seen.last().is_some_and(|e| e.contains("done")), "{seen:?}");
}

/// Runs curl with `args`, returning its stdout; `None` when curl is not installed.
fn curl(args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("curl").args(args).output().ok()?;
    assert!(output.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    Some(String::from_utf8(output.stdout).unwrap())
}

#[test]
fn the_seeds_curl_snippets_run_against_the_emulator() {
    let emulator = emulator();
    let auth = format!("Authorization: Bearer {}", emulator.token());
    let base = format!("{}/api/v3/companies/{}", emulator.base_url(), emulator.company_id());
    let initiate = format!("{base}/subjects/{}/upload/", emulator.subject_id());
    let Some(answer) = curl(&[
        "-s",
        "-X",
        "POST",
        &initiate,
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"front": "my_selfie.jpg"}"#,
    ]) else {
        eprintln!("curl is not installed: skipped");
        return;
    };
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let url = answer["front"]["url"].as_str().unwrap();
    let dir = TempDir::new("curl");
    let selfie = dir.file("my_selfie.jpg", &photo(9, 4000));
    // The seed's upload snippet, as it is written (`-d @file`).
    let data = format!("@{}", selfie.display());
    let put = [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "PUT",
        url,
        "-H",
        "content-type: application/octet-stream",
    ];
    let status = curl(&[&put[..], &["-H", "X-Goog-Content-Length-Range: 1,31457280", "-d", &data]].concat()).unwrap();
    assert_eq!(status, "200");
    let batch = answer["image_batch_id"].as_str().unwrap();
    let compute = format!("{base}/batches/{batch}/compute/");
    curl(&[
        "-s",
        "-X",
        "POST",
        &compute,
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"app_args": {}}"#,
    ])
    .unwrap();
    let results = format!("{base}/batches/{batch}/results/");
    let polled = curl(&["-s", &results, "-H", &auth]).unwrap();
    assert!(polled.contains("face_skin_metrics_3"), "{polled}");
    assert_eq!(emulator.compute_calls(batch.parse().unwrap()), 1);
}

#[test]
fn a_session_keeps_its_emulator_running_after_the_emulator_handle_is_gone() {
    // The emulator handle is dropped at the end of this statement; its session keeps it.
    let session = Emulator::start(EmulatorConfig::new().maturity(Maturity::Polls(1))).unwrap().session();
    let photo = crate::common::files::photo(3, 2000);
    let results = session.run_full_analysis(&photo, &photo, &photo).unwrap();
    assert!(results.is_complete() && results.from_emulator());
}

#[test]
fn the_guide_names_every_knob_of_the_emulator_with_its_method() {
    // Methods that ask the emulator something rather than set it.
    const QUERIES: [&str; 4] = ["compute_calls", "ready_at", "stored_image", "delay_of"];
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/guide.md")).unwrap();
    let mut knobs = Vec::new();
    for file in ["mod.rs", "relay.rs", "config.rs"] {
        let source = std::fs::read_to_string(format!("{}/src/emulator/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for line in source.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("pub fn ") else { continue };
            let (name, args) = rest.split_once('(').unwrap();
            if (args.starts_with("&self, ") || args.starts_with("mut self")) && !QUERIES.contains(&name) {
                knobs.push(name.to_owned());
            }
        }
    }
    assert!(knobs.len() >= 20 && knobs.contains(&"never_complete".to_owned()), "the scan sees the knobs: {knobs:?}");
    let unnamed: Vec<&String> = knobs.iter().filter(|k| !guide.contains(&format!("{k}("))).collect();
    assert!(unnamed.is_empty(), "knobs the guide does not name with their method: {unnamed:?}");
}

#[test]
fn a_kept_emulator_starts_again_as_the_service_it_was() {
    let dir = crate::common::files::TempDir::new("kept-emulator");
    let path = dir.path().join("state/emulator.json");
    let config = || EmulatorConfig::new().maturity(Maturity::Polls(1)).keep_state(&path);
    let first = Emulator::start(config()).unwrap();
    let photo = hautai::emulator::sample_photo(Side::Front, 64, 80);
    let results = first.session().run_analysis(&Images::new().front(&photo), &AnalysisOptions::new()).unwrap();
    let (url, company, token) = (first.base_url().to_owned(), first.company_id(), first.token());
    drop(first);

    let again = Emulator::start(config()).unwrap();
    assert_eq!((again.base_url(), again.company_id(), again.token()), (url.as_str(), company, token));
    assert_eq!((again.batch_ids(), again.computes()), (vec![results.batch_id()], 1), "its batch and its compute");
    let fetched = again.session().wait_for_results(results.batch_id()).unwrap();
    assert_eq!(
        fetched.parameter("age").unwrap().score(),
        results.parameter("age").unwrap().score(),
        "the same results"
    );
    drop(again);

    std::fs::write(&path, b"{\"not\": \"an emulator\"}").unwrap();
    let refused = Emulator::start(config()).err().unwrap();
    assert!(refused.to_string().contains("is no emulator's state"), "{refused}");
}
