//! The pipeline against mockito: order of calls, uploads, validation, polling, deadline,
//! resumption, cancellation and progress. Waits run on a virtual clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::files::{TempDir, photo};
use crate::common::*;
use hautai::error::{ErrorKind, Step};
use hautai::model::ResultsQuery;
use hautai::observe::{Control, Event};
use hautai::{AnalysisOptions, Images, Side};
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::json;

/// A mockito API whose mocks log the requests they answer, in order. Every helper returns
/// a mock that is not created yet: add matchers and expectations, then `create()` it once.
struct Api {
    server: ServerGuard,
    log: Arc<Mutex<Vec<String>>>,
}

impl Api {
    fn new() -> Api {
        Api { server: Server::new(), log: Arc::default() }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// A mock that logs `label` each time it answers with `status` and `body`.
    fn logged(&mut self, method: &str, path: &str, label: &str, status: usize, body: String) -> mockito::Mock {
        let (log, label) = (self.log.clone(), label.to_owned());
        self.server.mock(method, path).with_status(status).with_body_from_request(move |_| {
            log.lock().unwrap().push(label.clone());
            body.clone().into_bytes()
        })
    }

    /// The signed URL of a side's upload target.
    fn storage_url(&self, side: &str) -> String {
        format!("{}/storage/{side}?X-Goog-Credential=cred-{side}&X-Goog-Signature=sig-{side}", self.server.url())
    }

    /// Initiate answering with targets for `sides`.
    fn initiate(&mut self, sides: &[&str]) -> Mock {
        let mut answer = json!({ "image_batch_id": BATCH });
        for side in sides {
            answer[*side] = json!({
                "url": self.storage_url(side),
                "method": "PUT",
                "headers": {
                    "Content-Type": "application/octet-stream",
                    "X-Goog-Content-Length-Range": "1,31457280",
                    "Host": "storage.googleapis.com"
                },
                "content_type": "application/octet-stream",
                "id": "adcf1265-dbd8-495c-afa4-f7aceb2e4fbe"
            });
        }
        let upload = path(&format!("/subjects/{SUBJECT}/upload/"));
        self.logged("POST", &upload, "initiate", 200, answer.to_string())
    }

    /// A storage PUT for `side` that checks what a signed upload must carry.
    fn storage(&mut self, side: &str, bytes: &[u8], status: usize, body: &str) -> Mock {
        self.logged("PUT", &format!("/storage/{side}"), &format!("put {side}"), status, body.to_owned())
            .match_query(Matcher::Any)
            .match_header("content-type", "application/octet-stream")
            .match_header("x-goog-content-length-range", "1,31457280")
            .match_header("content-length", bytes.len().to_string().as_str())
            .match_header("authorization", Matcher::Missing)
            .match_header("transfer-encoding", Matcher::Missing)
            .match_body(bytes.to_vec())
    }

    fn compute(&mut self, status: usize) -> Mock {
        let compute = path(&format!("/batches/{BATCH}/compute/"));
        self.logged("POST", &compute, "compute", status, String::new())
            .match_header("authorization", bearer(TOKEN).as_str())
            .match_body(Matcher::Json(json!({"app_args": {}})))
    }

    /// Initiate, a storage PUT per side that succeeds, and compute: a batch up to the wait.
    fn computed(&mut self, sides: &[&str], photos: &Photos) {
        self.initiate(sides).create();
        for side in sides {
            let index = ["front", "left", "right"].iter().position(|s| s == side).unwrap();
            self.storage(side, &photos.bytes[index], 200, "").create();
        }
        self.compute(204).create();
    }

    /// Results answering `body` to polls (`with_masks=false`).
    fn polls(&mut self, body: serde_json::Value) -> Mock {
        let results = path(&format!("/batches/{BATCH}/results/"));
        self.logged("GET", &results, "poll", 200, body.to_string())
            .match_query(Matcher::Exact("with_masks=false".into()))
    }

    /// The final fetch, with the server's default options (no query).
    fn final_fetch(&mut self) -> Mock {
        let results = path(&format!("/batches/{BATCH}/results/"));
        self.logged("GET", &results, "fetch", 200, complete().to_string())
            .match_query(Matcher::Exact(String::new()))
            .expect(1)
    }
}

fn analysis(done: bool) -> serde_json::Value {
    json!({
        "image_batch_id": BATCH,
        "all_algorithms_calculated": done,
        "parameters": {"age": {"tag": "Good", "score": 31}, "redness": {"tag": "Average", "score": 55.5}}
    })
}

fn complete() -> serde_json::Value {
    json!({ "face_skin_metrics_3": analysis(true) })
}

fn not_ready() -> serde_json::Value {
    json!({ "face_skin_metrics_3": analysis(false) })
}

struct Photos {
    _dir: TempDir,
    front: std::path::PathBuf,
    left: std::path::PathBuf,
    right: std::path::PathBuf,
    bytes: [Vec<u8>; 3],
}

fn photos(test: &str) -> Photos {
    let dir = TempDir::new(test);
    let bytes = [photo(1, 70_000), photo(2, 300_000), photo(3, 5)];
    Photos {
        front: dir.file("Jane Doe front.JPG", &bytes[0]),
        left: dir.file("Jane Doe left.png", &bytes[1]),
        right: dir.file("Jane Doe right", &bytes[2]),
        _dir: dir,
        bytes,
    }
}

/// An observer that records every event as text.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl hautai::observe::Observer for Recorder {
    fn on_event(&self, event: &Event<'_>) -> Control {
        let line = match event {
            Event::UploadProgress { side, sent, total } => format!("progress {side} {sent}/{total}"),
            Event::Uploaded { side, bytes, .. } => format!("uploaded {side} {bytes}"),
            Event::Polled { attempt, complete, next_delay } => format!("polled {attempt} {complete} {next_delay:?}"),
            Event::Retrying { what, retry, .. } => format!("retry {retry} {what}"),
            Event::Done { .. } => "done".into(),
            other => other.to_string(),
        };
        self.0.lock().unwrap().push(line);
        Control::Continue
    }
}

impl Recorder {
    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn the_full_analysis_runs_the_steps_in_order_with_proper_uploads() {
    let mut api = Api::new();
    let p = photos("happy");
    let initiate = api
        .initiate(&["front", "left", "right"])
        .match_body(Matcher::Json(json!({"front": "front.jpg", "left": "left.png", "right": "right.jpg"})))
        .match_header("authorization", bearer(TOKEN).as_str());
    let initiate = initiate.create();
    let puts: Vec<Mock> = ["front", "left", "right"]
        .iter()
        .zip(&p.bytes)
        .map(|(side, bytes)| api.storage(side, bytes, 200, "").expect(1).create())
        .collect();
    let compute = api.compute(204).expect(1).create();
    let polls = api.polls(not_ready()).expect(2).create();
    let _ready = api.polls(complete()).create();
    let fetch = api.final_fetch().create();
    let (session, clock) = session(&api.server.url());

    let results = session.run_full_analysis(&p.front, &p.left, &p.right).unwrap();

    assert_eq!(results.batch_id(), batch());
    assert_eq!(results.parameter("age").unwrap().score(), Some(31.0));
    initiate.assert();
    puts.iter().for_each(Mock::assert);
    compute.assert();
    polls.assert();
    fetch.assert();
    let log = api.log();
    assert_eq!(log[0], "initiate");
    let mut uploads = log[1..4].to_vec();
    uploads.sort();
    assert_eq!(uploads, ["put front", "put left", "put right"]);
    assert_eq!(&log[4..], ["compute", "poll", "poll", "poll", "fetch"]);
    // Default schedule: first poll 1 s after compute, then every second.
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1); 3]);
}

#[test]
fn bytes_and_a_subset_of_sides_work_and_real_names_are_opt_in() {
    let mut api = Api::new();
    let p = photos("subset");
    let initiate = api
        .initiate(&["front", "right"])
        .match_body(Matcher::Json(json!({"front": "Jane Doe front.JPG", "right": "right.jpg"})))
        .create();
    let front = api.storage("front", &p.bytes[0], 200, "").expect(1).create();
    let right = api.storage("right", &p.bytes[2], 200, "").expect(1).create();
    api.compute(204).create();
    api.polls(complete()).create();
    let (session, _) = session(&api.server.url());
    let images = Images::new().front(&p.front).right(&p.bytes[2]);
    let results = session
        .run_analysis(
            &images,
            &AnalysisOptions::new().real_file_names(true).results(ResultsQuery::new().with_masks(false)),
        )
        .unwrap();
    assert!(results.is_complete());
    initiate.assert();
    front.assert();
    right.assert();
    // With masks off, the last poll is the final answer: no extra fetch.
    assert_eq!(api.log().last().map(String::as_str), Some("poll"));
}

#[test]
fn bad_inputs_fail_before_any_request() {
    let mut server = Server::new();
    let nothing: Vec<Mock> =
        ["GET", "POST", "PUT"].iter().map(|m| server.mock(m, Matcher::Any).expect(0).create()).collect();
    let (session, _) = session(&server.url());
    let dir = TempDir::new("bad-inputs");
    let good = dir.file("good.jpg", b"\xFF\xD8\xFFjpeg");
    let empty = dir.file("empty.jpg", b"");
    let huge = dir.path().join("huge.jpg");
    std::fs::File::create(&huge).unwrap().set_len(hautai::config::MAX_IMAGE_BYTES + 1).unwrap();
    let at_limit = dir.path().join("limit.jpg");
    std::fs::File::create(&at_limit).unwrap().set_len(hautai::config::MAX_IMAGE_BYTES).unwrap();
    let fifo = dir.path().join("fifo.jpg");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let missing = dir.path().join("missing.jpg");

    let cases: Vec<(Images, Side, &str)> = vec![
        (Images::new().front(&good).left(&missing).right(&good), Side::Left, "does not exist"),
        (Images::new().front(&good).left(&good).right(dir.path()), Side::Right, "is a directory"),
        (Images::new().front(&empty).left(&good).right(&good), Side::Front, "is empty"),
        (Images::new().front(&good).left(&huge).right(&good), Side::Left, "at most 31457280"),
        (Images::new().front(&good).left(&good).right(&fifo), Side::Right, "not a regular file"),
        (Images::new().front(Vec::new()).left(&good), Side::Front, "is empty"),
        (Images::new().front(at_limit.clone()).right(vec![0u8; 31_457_281]), Side::Right, "at most 31457280"),
    ];
    for (images, side, reason) in cases {
        let err = session.run_analysis(&images, &AnalysisOptions::new()).unwrap_err();
        let ErrorKind::InvalidImage { side: got, reason: why, .. } = err.kind() else { panic!("{err:?}") };
        assert_eq!(*got, side, "{err}");
        assert!(why.contains(reason), "{err}");
        assert_eq!(err.step(), Some(Step::Validate));
        assert_eq!(err.batch_id(), None);
    }
    let err = session.run_analysis(&Images::new(), &AnalysisOptions::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err:?}");
    // The message names the side and the path.
    let err = session.run_full_analysis(&good, &missing, &good).unwrap_err().to_string();
    assert_eq!(err, format!("invalid left image {}: does not exist", missing.display()));
    nothing.iter().for_each(Mock::assert);
}

#[test]
fn a_put_failing_once_is_sent_again_whole() {
    let mut api = Api::new();
    let p = photos("put-retry");
    api.initiate(&["front"]).create();
    let failing =
        api.storage("front", &p.bytes[0], 500, "<Error><Code>InternalError</Code></Error>").expect(1).create();
    let ok = api.storage("front", &p.bytes[0], 200, "").expect(1).create();
    api.compute(204).create();
    api.polls(complete()).create();
    api.final_fetch().create();
    let (session, clock) = session(&api.server.url());
    session.run_analysis(&Images::new().front(&p.front), &AnalysisOptions::new()).unwrap();
    failing.assert();
    ok.assert();
    assert!(clock.sleeps()[0] <= Duration::from_millis(500), "one backoff before the retry: {:?}", clock.sleeps());
}

#[test]
fn a_rejected_signature_is_final_and_compute_is_never_called() {
    let mut api = Api::new();
    let p = photos("signature");
    api.initiate(&["front", "left", "right"]).create();
    let xml = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code><Message>Access denied.</Message><StringToSign>GOOG4-RSA-SHA256 X-Goog-Credential=cred-left</StringToSign></Error>";
    let rejected = api.storage("left", &p.bytes[1], 403, xml).expect(1).create();
    api.storage("front", &p.bytes[0], 200, "").create();
    api.storage("right", &p.bytes[2], 200, "").create();
    let compute = api.compute(204).expect(0).create();
    let (session, clock) = session(&api.server.url());
    let err = session.run_full_analysis(&p.front, &p.left, &p.right).unwrap_err();
    rejected.assert();
    compute.assert();
    assert!(clock.sleeps().is_empty(), "no retry storm");
    assert_eq!((err.step(), err.batch_id(), err.status()), (Some(Step::Upload), Some(batch()), Some(403)));
    let ErrorKind::Storage(storage) = err.kind() else { panic!("{err:?}") };
    assert_eq!((storage.side, storage.code.as_deref()), (Some(Side::Left), Some("SignatureDoesNotMatch")));
    let text = err.to_string();
    assert!(text.contains("left image") && text.contains(BATCH) && text.contains("signed url was rejected"), "{text}");
    assert!(!text.contains("cred-left") && !format!("{err:?}").contains("sig-left"), "{text}");
}

#[test]
fn a_redirected_put_is_an_error_not_a_success() {
    let mut api = Api::new();
    let p = photos("put-302");
    api.initiate(&["front"]).create();
    let moved = api
        .logged("PUT", "/storage/front", "put front", 302, String::new())
        .match_query(Matcher::Any)
        .with_header("location", "/elsewhere")
        .expect(1)
        .create();
    let elsewhere = api.server.mock("GET", "/elsewhere").expect(0).create();
    let compute = api.compute(204).expect(0).create();
    let (session, _) = session(&api.server.url());
    let err = session.run_analysis(&Images::new().front(&p.front), &AnalysisOptions::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Redirect { status: 302, .. }), "{err:?}");
    assert_eq!(err.request().map(|r| r.method), Some("PUT"));
    assert_eq!(err.batch_id(), Some(batch()));
    moved.assert();
    elsewhere.assert();
    compute.assert();
}

#[test]
fn empty_results_mean_not_started_then_ready() {
    let mut api = Api::new();
    let p = photos("empty-then-ready");
    api.computed(&["front"], &p);
    let empty = api.polls(json!({})).expect(2).create();
    api.polls(complete()).create();
    let fetch = api.final_fetch().create();
    let (session, _) = session(&api.server.url());
    let results = session.run_analysis(&Images::new().front(&p.bytes[0]), &AnalysisOptions::new()).unwrap();
    assert!(results.is_complete());
    empty.assert();
    fetch.assert();
}

#[test]
fn a_detection_error_waits_while_results_change_then_keeps_the_fullest_results() {
    let mut api = Api::new();
    let p = photos("detection");
    api.computed(&["front", "left"], &p);
    let mut partial = not_ready();
    partial["face_skin_metrics_3"]["detection_errors"] = json!({"left": "no face found", "front": null});
    let mut fuller = partial.clone();
    fuller["face_skin_metrics_3"]["parameters"]["pores"] = json!({"tag": "Good", "score": 70});
    let mut done = fuller.clone();
    done["face_skin_metrics_3"]["all_algorithms_calculated"] = json!(true);
    let polls = api.polls(not_ready()).expect(1).create();
    let detected = api.polls(partial).expect(2).create();
    let more = api.polls(fuller).expect(1).create();
    let finished = api.polls(done.clone()).expect(1).create();
    // The final fetch uses the caller's options (here: the server's defaults).
    let results = path(&format!("/batches/{BATCH}/results/"));
    let fetch = api.logged("GET", &results, "fetch", 200, done.to_string()).match_query("").expect(1).create();
    let (session, _) = session(&api.server.url());
    let err = session.run_analysis(&Images::new().front(&p.front).left(&p.left), &AnalysisOptions::new()).unwrap_err();
    for mock in [polls, detected, more, finished, fetch] {
        mock.assert();
    }
    let ErrorKind::Detection(detection) = err.kind() else { panic!("{err:?}") };
    assert_eq!(detection.sides, vec![("left".to_owned(), "no face found".to_owned())]);
    assert!(detection.results.is_complete());
    assert_eq!(detection.results.parameter("pores").unwrap().score(), Some(70.0));
    assert_eq!(err.batch_id(), Some(batch()));
    assert!(err.to_string().contains("left: no face found"), "{err}");
}

#[test]
fn a_detection_error_that_never_completes_ends_after_the_grace_not_the_deadline() {
    let mut api = Api::new();
    let mut stuck = not_ready();
    stuck["face_skin_metrics_3"]["detection_errors"] = json!({"front": "no face found"});
    let polls = api.polls(stuck.clone()).create();
    let results = path(&format!("/batches/{BATCH}/results/"));
    let masks = ResultsQuery::new().with_masks(true);
    let fetch =
        api.logged("GET", &results, "fetch", 200, stuck.to_string()).match_query("with_masks=true").expect(1).create();
    let clock = crate::common::clock();
    let schedule = hautai::config::PollSchedule::fixed(Duration::from_secs(2)).detection_grace(Duration::from_secs(5));
    let session = builder(&api.server.url(), &clock).poll_schedule(schedule).build().unwrap();
    let options = AnalysisOptions::new().results(masks).deadline(Duration::from_secs(600));
    let err = session.wait_for_results_with(batch(), &options).unwrap_err();
    let ErrorKind::Detection(detection) = err.kind() else { panic!("{err:?}") };
    assert_eq!(detection.sides, vec![("front".to_owned(), "no face found".to_owned())]);
    // Polls at 0, 2, 4 and, when the 5 s grace runs out, 5 s: then the final fetch.
    assert_eq!(clock.sleeps(), [0, 2000, 2000, 1000].map(Duration::from_millis));
    polls.expect(4).assert();
    fetch.assert();
}

#[test]
fn the_deadline_caps_polling_with_a_last_check_at_the_deadline() {
    let mut api = Api::new();
    let p = photos("deadline-poll");
    api.computed(&["front"], &p);
    let polls = api.polls(not_ready()).create();
    let (session, clock) = session(&api.server.url());
    let options = AnalysisOptions::new().deadline(Duration::from_secs(10));
    let err = session.run_analysis(&Images::new().front(&p.front), &options).unwrap_err();
    let ErrorKind::Deadline { step, batch_id, polls: count, elapsed, deadline, compute_sent, .. } = *err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!((step, batch_id, deadline), (Step::Results, Some(batch()), Duration::from_secs(10)));
    assert!(compute_sent);
    // Polls at 1, 2, ..., 9 s, and a last check 50 ms before the deadline.
    assert_eq!(count, 10);
    assert_eq!(elapsed, Duration::from_millis(9950));
    let slept: Duration = clock.sleeps().iter().sum();
    assert!(slept < Duration::from_secs(10), "no sleep past the deadline: {slept:?}");
    assert_eq!(clock.sleeps().last(), Some(&Duration::from_millis(950)));
    polls.expect(10).assert();
}

#[test]
fn the_deadline_is_a_hard_cap_during_upload() {
    // A storage host that accepts the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let storage = format!("http://{}", listener.local_addr().unwrap());
    let hold = std::thread::spawn(move || {
        let conns: Vec<_> = (0..1).filter_map(|_| listener.accept().ok()).collect();
        std::thread::sleep(Duration::from_secs(6));
        drop(conns);
    });
    let mut server = Server::new();
    let answer = json!({"image_batch_id": BATCH, "front": {"url": format!("{storage}/o?X-Goog-Signature=s"), "method": "PUT", "headers": {}}});
    server.mock("POST", Matcher::Any).with_body(answer.to_string()).create();
    let compute = server.mock("POST", path(&format!("/batches/{BATCH}/compute/")).as_str()).expect(0).create();
    // The real clock: the point is that no request outlives the deadline.
    let session = hautai::Session::builder(TOKEN, company())
        .base_url(server.url())
        .subject_id(subject())
        .deadline(Duration::from_millis(400))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = session.run_analysis(&Images::new().front(photo(9, 1000)), &AnalysisOptions::new()).unwrap_err();
    let took = started.elapsed();
    let ErrorKind::Deadline { step, batch_id, compute_sent, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!((*step, *batch_id, *compute_sent), (Step::Upload, Some(batch()), false));
    // Resuming a batch that was never computed would wait for nothing.
    assert!(
        err.to_string().ends_with("nothing was computed: run the analysis again (the unused batch costs nothing)"),
        "{err}"
    );
    // The host answers nothing for 6 s: ending long before that is the deadline's doing
    // (with room for a machine loaded by the rest of the suite).
    assert!(took < Duration::from_secs(4), "the upload outlived the deadline: {took:?}");
    compute.assert();
    hold.join().unwrap();
}

#[test]
fn wait_for_results_resumes_an_existing_batch_polling_at_once() {
    let mut api = Api::new();
    let not_yet = api.polls(not_ready()).expect(1).create();
    api.polls(complete()).create();
    let fetch = api.final_fetch().create();
    let (session, clock) = session(&api.server.url());
    let results = session.wait_for_results(batch()).unwrap();
    assert!(results.is_complete());
    not_yet.assert();
    fetch.assert();
    assert_eq!(clock.sleeps(), vec![Duration::ZERO, Duration::from_secs(1)]);
}

#[test]
fn retry_after_on_a_poll_delays_the_next_poll() {
    let mut api = Api::new();
    let results = path(&format!("/batches/{BATCH}/results/"));
    let limited = api
        .server
        .mock("GET", results.as_str())
        .match_query(Matcher::Any)
        .with_status(429)
        .with_header("retry-after", "3")
        .expect(1)
        .create();
    api.polls(complete()).create();
    api.final_fetch().create();
    let (session, clock) = session(&api.server.url());
    session.wait_for_results(batch()).unwrap();
    limited.assert();
    assert_eq!(clock.sleeps(), vec![Duration::ZERO, Duration::from_secs(3)]);
}

#[test]
fn the_observer_can_cancel_and_the_error_names_the_batch() {
    let mut api = Api::new();
    let p = photos("cancel");
    api.initiate(&["front"]).create();
    let put = api.storage("front", &p.bytes[0], 200, "").expect(0).create();
    let stop_when_created = |event: &Event| match event {
        Event::BatchCreated { .. } => Control::Stop,
        _ => Control::Continue,
    };
    let (session, _) = session(&api.server.url());
    let options = AnalysisOptions::new().observer(&stop_when_created);
    let err = session.run_analysis(&Images::new().front(&p.front), &options).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Cancelled { step: Step::Initiate, batch_id: Some(_) }), "{err:?}");
    put.assert();
}

#[test]
fn should_stop_cancels_a_wait_promptly() {
    struct StopAfterPolls(std::sync::atomic::AtomicU32);
    impl hautai::observe::Observer for StopAfterPolls {
        fn on_event(&self, event: &Event<'_>) -> Control {
            if matches!(event, Event::Polled { .. }) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            Control::Continue
        }
        fn should_stop(&self) -> bool {
            self.0.load(std::sync::atomic::Ordering::SeqCst) >= 2
        }
    }
    let mut api = Api::new();
    let polls = api.polls(not_ready()).expect(2).create();
    let clock = crate::common::clock();
    let session = builder(&api.server.url(), &clock).build().unwrap();
    let observer = StopAfterPolls(Default::default());
    let err = session.wait_for_results_with(batch(), &AnalysisOptions::new().observer(&observer)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Cancelled { step: Step::Results, batch_id: Some(_) }), "{err:?}");
    polls.assert();
    // Stopped before the wait that follows the second poll.
    assert_eq!(clock.elapsed(), Duration::from_millis(1000));
}

#[test]
fn progress_events_arrive_in_order() {
    let mut api = Api::new();
    let p = photos("progress");
    api.computed(&["front", "left", "right"], &p);
    api.polls(not_ready()).expect(1).create();
    api.polls(complete()).create();
    api.final_fetch().create();
    let (session, _) = session(&api.server.url());
    let recorder = Recorder::default();
    let images = Images::new().front(&p.front).left(&p.left).right(&p.right);
    session.run_analysis(&images, &AnalysisOptions::new().observer(&recorder)).unwrap();
    let events = recorder.events();
    assert_eq!(events[0], "validated front (70000 bytes) left (300000 bytes) right (5 bytes)");
    assert_eq!(events[1], format!("sending POST {} (attempt 1)", path(&format!("/subjects/{SUBJECT}/upload/"))));
    assert_eq!(events[2], format!("batch {BATCH} created"));
    let tail = &events[events.len() - 6..];
    assert_eq!(
        tail,
        [
            format!("computing batch {BATCH}"),
            format!("sending POST {} (attempt 1)", path(&format!("/batches/{BATCH}/compute/"))),
            format!("batch {BATCH} is being computed"),
            "polled 1 false Some(1s)".into(),
            "polled 2 true None".into(),
            "done".into()
        ]
    );
    // Per side: progress grows to the total, then the upload is reported.
    for (side, total) in [("front", 70_000), ("left", 300_000), ("right", 5)] {
        let mine: Vec<&String> = events.iter().filter(|e| e.contains(&format!(" {side} "))).collect();
        let last = mine.len() - 1;
        assert_eq!(*mine[last], format!("uploaded {side} {total}"));
        assert_eq!(*mine[last - 1], format!("progress {side} {total}/{total}"));
    }
    let left_progress = events.iter().filter(|e| e.starts_with("progress left")).count();
    assert_eq!(left_progress, 2, "every 256 KiB and at the end: {events:?}");
}

#[test]
fn a_compute_whose_answer_is_lost_is_confirmed_by_polling_never_sent_again() {
    let mut api = Api::new();
    let p = photos("compute-500-then-work");
    api.initiate(&["front"]).create();
    api.storage("front", &p.bytes[0], 200, "").create();
    let compute = api.compute(500).expect(1).create();
    let empty = api.polls(json!({})).expect(1).create();
    api.polls(complete()).create();
    api.final_fetch().create();
    let (session, _) = session(&api.server.url());
    let recorder = Recorder::default();
    let options = AnalysisOptions::new().observer(&recorder);
    let results = session.run_analysis(&Images::new().front(&p.front), &options).unwrap();
    assert!(results.is_complete());
    compute.assert();
    empty.assert();
    // Taken only once polling showed work.
    let events = recorder.events();
    let at = |text: &str| events.iter().position(|e| e.starts_with(text)).unwrap_or_else(|| panic!("{events:?}"));
    assert!(at("polled 1 false") < at(&format!("batch {BATCH} is being computed")), "{events:?}");
    assert!(at(&format!("batch {BATCH} is being computed")) < at("polled 2 true"), "{events:?}");
}

#[test]
fn a_compute_whose_answer_is_lost_and_shows_no_work_fails_with_advice_after_a_minute() {
    let mut api = Api::new();
    let p = photos("compute-500");
    api.initiate(&["front"]).create();
    api.storage("front", &p.bytes[0], 200, "").create();
    let compute = api.compute(500).expect(1).create();
    let empty = api.polls(json!({})).create();
    let (session, clock) = session(&api.server.url());
    let err = session.run_analysis(&Images::new().front(&p.front), &AnalysisOptions::new()).unwrap_err();
    compute.assert();
    assert_eq!((err.step(), err.batch_id()), (Some(Step::Compute), Some(batch())));
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("check with wait_for_results before calling compute again"), "{err}");
    // One poll a second for COMPUTE_CONFIRMATION, well before the five-minute deadline.
    assert_eq!(clock.elapsed(), hautai::config::COMPUTE_CONFIRMATION);
    empty.expect(60).assert();
}

#[test]
fn without_a_subject_nothing_is_sent() {
    let server = Server::new();
    let session = hautai::Session::builder(TOKEN, company()).base_url(server.url()).build().unwrap();
    let err = session.run_full_analysis(photo(1, 3), photo(2, 3), photo(3, 3)).unwrap_err();
    assert!(err.to_string().contains("no subject"), "{err}");
}

#[test]
fn the_size_range_of_a_target_is_honoured_before_uploading() {
    let mut api = Api::new();
    let upload = path(&format!("/subjects/{SUBJECT}/upload/"));
    let answer = json!({"image_batch_id": BATCH, "front": {
        "url": api.storage_url("front"), "method": "PUT",
        "headers": {"Content-Type": "application/octet-stream", "X-Goog-Content-Length-Range": "1,1000"}
    }});
    api.logged("POST", &upload, "initiate", 200, answer.to_string()).create();
    let put = api.storage("front", &photo(1, 5000), 200, "").expect(0).create();
    let compute = api.compute(204).expect(0).create();
    let (session, _) = session(&api.server.url());
    let err = session.run_analysis(&Images::new().front(photo(1, 5000)), &AnalysisOptions::new()).unwrap_err();
    assert_eq!((err.step(), err.batch_id()), (Some(Step::Upload), Some(batch())));
    let ErrorKind::InvalidImage { side, reason, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(*side, Side::Front);
    assert!(reason.contains("accepts 1 to 1000"), "{reason}");
    put.assert();
    compute.assert();
}

#[test]
fn retries_inside_the_call_are_reported_to_the_observer() {
    let mut api = Api::new();
    let p = photos("retry-events");
    api.initiate(&["front"]).create();
    api.storage("front", &p.bytes[0], 503, "<Error><Code>SlowDown</Code></Error>").expect(1).create();
    api.storage("front", &p.bytes[0], 200, "").expect(1).create();
    api.compute(204).create();
    api.polls(complete()).create();
    api.final_fetch().create();
    let (session, _) = session(&api.server.url());
    let recorder = Recorder::default();
    let options = AnalysisOptions::new().observer(&recorder);
    session.run_analysis(&Images::new().front(&p.front), &options).unwrap();
    let retries: Vec<String> = recorder.events().into_iter().filter(|e| e.starts_with("retry")).collect();
    assert_eq!(retries, ["retry 1 PUT /storage/front"]);
}

#[test]
fn a_refused_compute_suggests_another_try_only_when_the_server_did_not_take_it() {
    for (status, hint) in [(503, Some("call compute for this batch again later")), (400, None)] {
        let mut api = Api::new();
        let p = photos(&format!("compute-{status}"));
        api.initiate(&["front"]).create();
        api.storage("front", &p.bytes[0], 200, "").create();
        api.compute(status).create();
        let session = session_without_retries(&api.server.url());
        let err = session.run_analysis(&Images::new().front(&p.front), &AnalysisOptions::new()).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.step(), Some(Step::Compute));
        match hint {
            Some(hint) => assert!(text.contains(hint) && err.hint().is_some_and(|h| h.contains(hint)), "{text}"),
            None => assert!(!text.contains("compute for this batch again") && !text.contains(';'), "{text}"),
        }
        assert_eq!(err.hint().is_some(), hint.is_some(), "{err:?}");
    }
}

#[test]
fn options_reach_the_requests_they_name() {
    let mut api = Api::new();
    let other: hautai::Uuid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
    let target = json!({"url": api.storage_url("front"), "method": "PUT", "headers": {}});
    let initiate = api
        .server
        .mock("POST", path(&format!("/subjects/{other}/upload/")).as_str())
        .match_body(Matcher::Json(json!({
            "front": "front.jpg", "creation_time": "2026-11-28T10:00:00Z", "meta": {"visit": 3}
        })))
        .with_body(json!({"image_batch_id": BATCH, "front": target}).to_string())
        .expect(1)
        .create();
    api.server.mock("PUT", "/storage/front").match_query(Matcher::Any).create();
    let compute = api
        .server
        .mock("POST", path(&format!("/batches/{BATCH}/compute/")).as_str())
        .match_body(Matcher::Json(json!({"app_args": {"skin": true}})))
        .expect(1)
        .create();
    api.polls(complete()).create();
    api.final_fetch().create();
    let (session, _) = session(&api.server.url());
    let options = AnalysisOptions::new()
        .subject_id(other)
        .creation_time("2026-11-28T10:00:00Z")
        .meta(json!({"visit": 3}))
        .app_args(json!({"skin": true}));
    session.run_analysis(&Images::new().front(photo(1, 10)), &options).unwrap();
    initiate.assert();
    compute.assert();
    let shown = format!("{:?}", options.deadline(Duration::from_secs(7)));
    assert!(shown.starts_with("AnalysisOptions {") && shown.contains("deadline: Some(7s)"), "{shown}");
}

/// A session on `api` whose clock is returned, with a fixed `every` poll schedule and a
/// detection grace of `grace`.
fn session_polling(api: &Api, every: u64, grace: u64) -> (hautai::Session, Arc<hautai::clock::VirtualClock>) {
    let clock = crate::common::clock();
    let schedule =
        hautai::config::PollSchedule::fixed(Duration::from_secs(every)).detection_grace(Duration::from_secs(grace));
    (builder(&api.server.url(), &clock).poll_schedule(schedule).build().unwrap(), clock)
}

fn with_detection_error(mut results: serde_json::Value) -> serde_json::Value {
    results["face_skin_metrics_3"]["detection_errors"] = json!({"left": "no face found"});
    results
}

#[test]
fn a_poll_that_lands_exactly_on_the_last_check_is_the_last() {
    let mut api = Api::new();
    let polls = api.polls(not_ready()).create();
    let (session, clock) = session_polling(&api, 1, 10);
    // Polls at 0 and 1 s; the poll at 2 s leaves exactly the 50 ms margin: it is the last
    // check, and no other comes after it.
    let options = AnalysisOptions::new().deadline(Duration::from_millis(2050));
    let err = session.wait_for_results_with(batch(), &options).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Deadline { polls: 3, .. }), "{err:?}");
    assert_eq!(clock.sleeps(), [0, 1, 1].map(Duration::from_secs));
    polls.expect(3).assert();
}

#[test]
fn a_final_fetch_that_fails_in_time_is_an_error_not_a_silent_fallback() {
    let mut api = Api::new();
    api.polls(complete()).create();
    let results = path(&format!("/batches/{BATCH}/results/"));
    api.logged("GET", &results, "fetch", 400, r#"{"detail": "bad option"}"#.into()).match_query("").create();
    let (session, _) = session(&api.server.url());
    let err = session.wait_for_results(batch()).unwrap_err();
    assert_eq!(err.step(), Some(Step::Results));
    assert_eq!(err.status(), Some(400));
}

#[test]
fn a_detection_error_still_settling_at_the_deadline_is_reported_as_such() {
    let mut api = Api::new();
    api.polls(with_detection_error(not_ready())).create();
    let results = path(&format!("/batches/{BATCH}/results/"));
    api.logged("GET", &results, "fetch", 200, with_detection_error(not_ready()).to_string()).match_query("").create();
    let (session, _) = session_polling(&api, 1, 60);
    let options = AnalysisOptions::new().deadline(Duration::from_secs(5));
    let err = session.wait_for_results_with(batch(), &options).unwrap_err();
    let ErrorKind::Detection(detection) = err.kind() else { panic!("{err:?}") };
    assert_eq!(detection.sides, [("left".to_owned(), "no face found".to_owned())]);
}

#[test]
fn the_detection_grace_counts_from_the_last_change() {
    let mut api = Api::new();
    let mut fuller = not_ready();
    fuller["face_skin_metrics_3"]["parameters"]["pores"] = json!({"tag": "Good", "score": 70});
    let first = api.polls(with_detection_error(not_ready())).expect(2).create();
    let then = api.polls(with_detection_error(fuller.clone())).create();
    let results = path(&format!("/batches/{BATCH}/results/"));
    api.logged("GET", &results, "fetch", 200, with_detection_error(fuller).to_string()).match_query("").create();
    let (session, clock) = session_polling(&api, 2, 5);
    let err = session.wait_for_results(batch()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Detection(_)), "{err:?}");
    // Polls at 0 and 2 s (unchanged), 4 s (changed), 6 and 8 s, and 9 s when 5 s passed
    // without a change.
    assert_eq!(clock.sleeps(), [0, 2, 2, 2, 2, 1].map(Duration::from_secs));
    first.assert();
    then.expect(4).assert();
}

#[test]
fn a_final_fetch_without_the_detection_error_keeps_the_polled_one() {
    let mut api = Api::new();
    api.polls(with_detection_error(complete())).create();
    api.final_fetch().create();
    let (session, _) = session(&api.server.url());
    let err = session.wait_for_results(batch()).unwrap_err();
    let ErrorKind::Detection(detection) = err.kind() else { panic!("{err:?}") };
    assert_eq!(detection.sides, [("left".to_owned(), "no face found".to_owned())]);
}

#[test]
fn the_session_learns_when_its_batches_become_ready_and_polls_around_then() {
    let mut api = Api::new();
    let p = photos("learned");
    api.computed(&["front"], &p);
    let (session, clock) = session(&api.server.url());
    // Results are ready 20 s (virtual) after the run began: uploads and compute take no
    // virtual time, so that is 20 s after compute.
    let began = Arc::new(Mutex::new(Duration::ZERO));
    let (ready_clock, ready_began) = (clock.clone(), began.clone());
    api.server
        .mock("GET", path(&format!("/batches/{BATCH}/results/")).as_str())
        .match_query(Matcher::Exact("with_masks=false".into()))
        .with_body_from_request(move |_| {
            let ready = ready_clock.elapsed() - *ready_began.lock().unwrap() >= Duration::from_secs(20);
            if ready { complete() } else { not_ready() }.to_string().into_bytes()
        })
        .create();
    let fetch = path(&format!("/batches/{BATCH}/results/"));
    let fetched = api.server.mock("GET", fetch.as_str()).match_query(Matcher::Exact(String::new()));
    fetched.with_body(complete().to_string()).expect(4).create();

    let mut runs = Vec::new();
    for _ in 0..4 {
        *began.lock().unwrap() = clock.elapsed();
        let polls = std::sync::atomic::AtomicU32::new(0);
        let count = |event: &Event| {
            if matches!(event, Event::Polled { .. }) {
                polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Control::Continue
        };
        let options = AnalysisOptions::new().observer(&count);
        session.run_analysis(&Images::new().front(&p.front), &options).unwrap();
        runs.push((polls.into_inner(), clock.elapsed() - *began.lock().unwrap()));
    }
    // One run on the plain schedule (a poll a second), then learned ones: every other
    // second before the window (19 s to 22 s), halfway polls in it, and three polls a
    // shortest interval apart up to when the last batch was found ready:
    // 2, 4, ..., 18, 18.5, 19, 19.5, 19.8, 19.9, 20.
    assert_eq!(runs[0], (20, Duration::from_secs(20)), "{runs:?}");
    for &(polls, took) in &runs[1..] {
        assert!((14..=15).contains(&polls), "fewer polls: {runs:?}");
        assert!(took <= Duration::from_secs(20), "no later: {runs:?}");
    }
}
