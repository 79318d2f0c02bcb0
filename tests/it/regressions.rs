//! The promises that careful outsiders found broken, one test (or a few) per defect, in the
//! order of the issue that listed them: secrets in messages, panics on absurd values,
//! results thrown away, wrong advice, uploads, waits that ignore a stop, decoding, settings
//! and messages. Every test here failed before its fix.

use std::time::{Duration, Instant};

use crate::common::files::photo;
use crate::common::*;
use hautai::config::{PollSchedule, RetryPolicy};
use hautai::error::{ErrorKind, Step};
use hautai::model::{ResultsQuery, UploadTarget};
use hautai::observe::{Control, Event};
use hautai::{AnalysisOptions, Error, Images, Session, Side};
use mockito::{Matcher, Mock, ServerGuard};
use serde_json::{Value, json};

const SIGNATURE: &str = "5eCrEtS1gnAtur3";
const CREDENTIAL: &str = "sa%40secret-project.iam";

/// A signed URL carrying [`SIGNATURE`] and [`CREDENTIAL`].
fn signed_url(base: &str) -> String {
    format!("{base}/storage/o?X-Goog-Credential={CREDENTIAL}&X-Goog-Signature={SIGNATURE}")
}

/// Every way an error is shown, none of which may hold `secrets`.
fn assert_hidden(err: &Error, secrets: &[&str]) {
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
}

fn results_path() -> String {
    path(&format!("/batches/{BATCH}/results/"))
}

fn upload_path() -> String {
    path(&format!("/subjects/{SUBJECT}/upload/"))
}

/// An initiate answer with a target per `(side, target)`.
fn initiate_answer(targets: &[(&str, Value)]) -> String {
    let mut answer = json!({ "image_batch_id": BATCH });
    for (side, target) in targets {
        answer[*side] = target.clone();
    }
    answer.to_string()
}

fn complete() -> Value {
    json!({"face_skin_metrics_3": {"image_batch_id": BATCH, "all_algorithms_calculated": true, "parameters": {"age": {"tag": "Good", "score": 31}}}})
}

/// Mocks for initiate (front only, a plain target), the upload, compute and complete
/// results.
fn happy_path(server: &mut ServerGuard) -> Vec<Mock> {
    let target = json!({"url": format!("{}/storage/front", server.url()), "method": "PUT", "headers": {}});
    vec![
        server.mock("POST", upload_path().as_str()).with_body(initiate_answer(&[("front", target)])).create(),
        server.mock("PUT", "/storage/front").create(),
        server.mock("POST", path(&format!("/batches/{BATCH}/compute/")).as_str()).with_status(204).create(),
        server
            .mock("GET", results_path().as_str())
            .match_query(Matcher::Any)
            .with_body(complete().to_string())
            .create(),
    ]
}

// 1. Nothing taken from a body reaches a message unscrubbed.

#[test]
fn a_login_answer_that_does_not_decode_never_shows_its_tokens() {
    let mut server = mockito::Server::new();
    let answer = r#"{"id": 1, "company_id": null, "token_access": "ACCESS-1a2b3c", "access_token": "ACCESS-1a2b3c", "refresh_token": "REFRESH-9z8y7x"}"#;
    server.mock("POST", "/api/v1/auth/login/").with_body(answer).create();
    let err = hautai::SessionBuilder::default().base_url(server.url()).login("me@clinic.example", "pw").unwrap_err();
    let ErrorKind::Decode { endpoint, excerpt, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!((*endpoint, excerpt.as_str()), ("POST login", ""));
    assert!(err.to_string().contains("line 1 column"), "{err}");
    assert_hidden(&err, &["ACCESS-1a2b3c", "REFRESH-9z8y7x"]);
}

#[test]
fn a_private_token_answer_that_does_not_decode_never_shows_the_new_token() {
    let mut server = mockito::Server::new();
    for answer in [r#"{"id": "seven", "data": "pt_live_NEWSECRET"}"#, r#"{"id": 7, "data": ["pt_live_NEWSECRET"]}"#] {
        let mock = server.mock("POST", "/api/v1/auth/private_tokens/").with_status(201).with_body(answer).create();
        let err =
            session(&server.url()).0.create_private_token("n", std::time::Duration::from_secs(86_400)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
        assert_hidden(&err, &["pt_live_NEWSECRET", "NEWSECRET"]);
        mock.remove();
    }
    // An error answer of these endpoints is never quoted either.
    server.mock("POST", "/api/v1/auth/private_tokens/").with_status(500).with_body("oops pt_live_NEWSECRET").create();
    let err = session_without_retries(&server.url())
        .create_private_token("n", std::time::Duration::from_secs(86_400))
        .unwrap_err();
    assert_hidden(&err, &["NEWSECRET"]);
}

#[test]
fn serdes_explanation_is_scrubbed_like_the_excerpt() {
    let mut server = mockito::Server::new();
    let url = signed_url("https://storage.googleapis.com");
    let body = json!({"face_skin_metrics_3": {"predicted_images": {"front": url}}}).to_string();
    server.mock("GET", results_path().as_str()).with_body(body).create();
    let err = session(&server.url()).0.results(batch(), &ResultsQuery::new()).unwrap_err();
    let ErrorKind::Decode { reason, .. } = err.kind() else { panic!("{err:?}") };
    assert!(reason.contains("X-Goog-Signature=<redacted>"), "{reason}");
    assert_hidden(&err, &[SIGNATURE, CREDENTIAL]);
}

#[test]
fn error_bodies_lose_v2_and_s3_signatures_secret_fields_and_the_token() {
    let mut server = mockito::Server::new();
    let body = format!(
        r#"{{"detail": "see https://s/o?GoogleAccessId=gsa@x&Signature=V2SECRET and https://b/o?X-Amz-Signature=AMZSECRET", "client_secret": "CLIENTSECRET", "echo": "{TOKEN}"}}"#
    );
    server.mock("GET", Matcher::Any).with_status(500).with_body(body).create();
    let err = session_without_retries(&server.url()).batch(batch()).unwrap_err();
    assert_hidden(&err, &["gsa@x", "V2SECRET", "AMZSECRET", "CLIENTSECRET", TOKEN]);
}

#[test]
fn a_detection_errors_explanation_is_scrubbed() {
    let mut server = mockito::Server::new();
    let why = format!("see {}", signed_url("https://s.example"));
    let body = json!({"face_skin_metrics_3": {"all_algorithms_calculated": true, "detection_errors": {"left": why}}});
    server.mock("GET", results_path().as_str()).match_query(Matcher::Any).with_body(body.to_string()).create();
    let err = session(&server.url()).0.wait_for_results(batch()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Detection(_)), "{err:?}");
    assert_hidden(&err, &[SIGNATURE, CREDENTIAL]);
}

// 2, 3 and 13. Absurd values never panic or hang.

#[test]
fn huge_deadlines_mean_no_practical_limit() {
    let mut server = mockito::Server::new();
    let _mocks = happy_path(&mut server);
    let clock = crate::common::clock();
    let session = builder(&server.url(), &clock).deadline(Duration::MAX).build().unwrap();
    let options = AnalysisOptions::new().deadline(Duration::MAX);
    assert!(session.run_analysis(&Images::new().front(photo(1, 10)), &options).unwrap().is_complete());
    assert!(session.wait_for_results_with(batch(), &options).is_ok());
}

#[test]
fn a_retry_after_date_in_a_far_year_is_no_date_and_no_panic() {
    let mut server = mockito::Server::new();
    let info = path(&format!("/batches/{BATCH}/"));
    let busy = server
        .mock("GET", info.as_str())
        .with_status(503)
        .with_header("retry-after", "Sun, 06 Nov 99999999999999 08:49:37 GMT")
        .expect(1)
        .create();
    let body = json!({"id": BATCH}).to_string();
    server.mock("GET", info.as_str()).with_body(body).create();
    let (session, clock) = session(&server.url());
    session.batch(batch()).unwrap();
    busy.assert();
    assert_eq!(clock.sleeps().len(), 1, "one backoff, as without the header");
}

#[test]
fn every_duration_setting_is_checked_once_by_name() {
    let base = || Session::builder(TOKEN, company()).base_url("http://127.0.0.1:9");
    let cases: [(&str, hautai::SessionBuilder); 4] = [
        ("SessionBuilder::connect_timeout", base().connect_timeout(Duration::ZERO)),
        ("SessionBuilder::request_timeout", base().request_timeout(Duration::ZERO)),
        ("SessionBuilder::io_timeout", base().io_timeout(Duration::ZERO)),
        ("SessionBuilder::deadline", base().deadline(Duration::ZERO)),
    ];
    for (setting, builder) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.to_string(), format!("invalid configuration: {setting} must be longer than zero"));
    }
    let session = base().build().unwrap();
    let options = AnalysisOptions::new().deadline(Duration::ZERO);
    let err = session.run_analysis(&Images::new().front(photo(1, 3)), &options).unwrap_err();
    assert!(err.to_string().contains("AnalysisOptions::deadline must be longer than zero"), "{err}");
}

#[test]
fn maximal_timeouts_work_on_the_first_call() {
    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_body(json!({"id": BATCH}).to_string()).create();
    let session = Session::builder(TOKEN, company())
        .base_url(server.url())
        .connect_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .io_timeout(Duration::MAX)
        .build()
        .unwrap();
    assert_eq!(session.batch(batch()).unwrap().id, batch());
}

#[test]
fn maximal_backoffs_stay_within_the_policy_and_huge_retry_afters_fail_at_once() {
    let mut server = mockito::Server::new();
    let info = path(&format!("/batches/{BATCH}/"));
    server.mock("GET", info.as_str()).with_status(503).expect(1).create();
    server.mock("GET", info.as_str()).with_body(json!({"id": BATCH}).to_string()).create();
    let clock = crate::common::clock();
    let policy = RetryPolicy::default().initial_backoff(Duration::MAX);
    let session = builder(&server.url(), &clock).retry(policy).build().unwrap();
    session.batch(batch()).unwrap();
    let waited: Duration = clock.sleeps().iter().sum();
    assert!(waited <= Duration::from_secs(8), "capped by max_backoff: {waited:?}");

    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_status(429).with_header("retry-after", "18446744073709551615").create();
    let clock = crate::common::clock();
    let policy = RetryPolicy::default().max_retry_after(Duration::MAX);
    let session = builder(&server.url(), &clock).retry(policy).build().unwrap();
    let err = session.batch(batch()).unwrap_err();
    let ErrorKind::RetryAfterTooLong { wait, limit, .. } = *err.kind() else { panic!("{err:?}") };
    assert_eq!((wait, limit), (Duration::from_secs(u64::MAX), hautai::config::MAX_DURATION));
    assert!(clock.sleeps().is_empty());
}

// 5. Complete results are never thrown away at the deadline.

#[test]
fn complete_results_survive_a_final_fetch_that_misses_the_deadline() {
    let mut server = mockito::Server::new();
    let clock = crate::common::clock();
    let polls = server
        .mock("GET", results_path().as_str())
        .match_query("with_masks=false")
        .with_body(complete().to_string())
        .expect(1)
        .create();
    // The final fetch takes longer than the time left.
    let late = clock.clone();
    let fetch = server
        .mock("GET", results_path().as_str())
        .match_query("")
        .with_status(504)
        .with_body_from_request(move |_| {
            late.advance(Duration::from_secs(60));
            Vec::new()
        })
        .expect(1)
        .create();
    let session = builder(&server.url(), &clock).build().unwrap();
    let options = AnalysisOptions::new().deadline(Duration::from_secs(30));
    let results = session.wait_for_results_with(batch(), &options).unwrap();
    assert!(results.is_complete());
    assert_eq!(results.parameter("age").unwrap().score(), Some(31.0));
    polls.assert();
    fetch.assert();
}

// 6. Advice matches what happened.

#[test]
fn errors_where_resuming_cannot_help_do_not_advise_it() {
    for (status, body, says) in [
        (404, r#"{"detail": "Not found."}"#, "check the ids"),
        (401, r#"{"detail": "Invalid token."}"#, "token is invalid or expired"),
        (200, "<html>", "cannot decode"),
    ] {
        let mut server = mockito::Server::new();
        server
            .mock("GET", results_path().as_str())
            .match_query(Matcher::Any)
            .with_status(status)
            .with_body(body)
            .create();
        let err = session(&server.url()).0.wait_for_results(batch()).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.step(), Some(Step::Results), "{text}");
        assert!(text.contains(says), "{text}");
        assert!(!text.contains("wait_for_results"), "{text}");
    }
}

#[test]
fn advice_fits_the_step_and_the_failure() {
    let analyse = |server: &ServerGuard| {
        let session = session_without_retries(&server.url());
        session.run_analysis(&Images::new().front(photo(1, 3)), &AnalysisOptions::new()).unwrap_err().to_string()
    };
    // A refused initiate created nothing: no advice about a batch.
    let mut server = mockito::Server::new();
    server.mock("POST", upload_path().as_str()).with_status(400).with_body(r#"{"detail": "bad"}"#).create();
    assert!(analyse(&server).ends_with("answered 400: bad"), "{}", analyse(&server));
    // An upload that failed for now: nothing was computed, so run it again.
    for (status, body, advice) in [
        (503, "<Error><Code>SlowDown</Code></Error>", true),
        (403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", false),
    ] {
        let mut server = mockito::Server::new();
        let target = json!({"url": format!("{}/storage/front", server.url()), "method": "PUT", "headers": {}});
        server.mock("POST", upload_path().as_str()).with_body(initiate_answer(&[("front", target)])).create();
        server.mock("PUT", "/storage/front").with_status(status).with_body(body).create();
        let text = analyse(&server);
        assert_eq!(text.ends_with("; nothing was computed: run the analysis again later"), advice, "{text}");
    }
}

#[test]
fn a_transient_failure_while_waiting_advises_resuming() {
    let mut server = mockito::Server::new();
    server.mock("GET", results_path().as_str()).match_query(Matcher::Any).with_status(502).create();
    let err = session(&server.url()).0.wait_for_results(batch()).unwrap_err();
    assert!(err.to_string().ends_with("resume with wait_for_results later"), "{err}");
}

// 7 and 8. Upload targets are checked before a byte is sent.

fn target(url: String, method: &str, headers: Value) -> UploadTarget {
    serde_json::from_value(json!({"url": url, "method": method, "headers": headers})).unwrap()
}

#[test]
fn a_signed_content_length_is_sent_once_when_it_matches_and_refused_when_not() {
    let mut server = mockito::Server::new();
    let put = server
        .mock("PUT", "/storage/o")
        .match_query(Matcher::Any)
        .match_header("content-length", "5")
        .match_body("12345")
        .expect(1)
        .create();
    let session = session_without_retries(&server.url());
    let url = signed_url(&server.url());
    let signed = target(url.clone(), "PUT", json!({"Content-Length": "5"}));
    assert_eq!(session.upload_image(Side::Front, &signed, b"12345".as_slice()).unwrap(), 5);
    put.assert();

    let wrong = target(url, "PUT", json!({"content-length": "6"}));
    let err = session.upload_image(Side::Left, &wrong, b"12345".as_slice()).unwrap_err();
    let ErrorKind::InvalidImage { side, reason, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(*side, Side::Left);
    assert!(reason.contains("signed for Content-Length \"6\""), "{reason}");
    put.assert(); // Still one: nothing was sent.
}

#[test]
fn only_put_targets_are_uploaded() {
    let mut server = mockito::Server::new();
    let nothing: Vec<Mock> =
        ["PUT", "POST", "GET", "DELETE"].iter().map(|m| server.mock(m, Matcher::Any).expect(0).create()).collect();
    let session = session_without_retries(&server.url());
    for method in ["POST", "GET", "DELETE"] {
        let err = session.upload_image(Side::Right, &target(signed_url(&server.url()), method, json!({})), vec![1u8]);
        let text = err.unwrap_err().to_string();
        assert!(text.contains("right image") && text.contains(&format!("{method:?}")), "{text}");
        assert!(text.contains("nothing was sent"), "{text}");
    }
    nothing.iter().for_each(Mock::assert);
}

// 9. A failed side wakes its sleeping siblings at once.

#[test]
fn a_side_failing_for_good_wakes_a_sibling_sleeping_in_a_retry_backoff() {
    let mut server = mockito::Server::new();
    // The sides on two storage hosts: the front's `Retry-After` holds its host only, so
    // the left is never held behind it (on one host it could be, whichever answer came first).
    let mut other_host = mockito::Server::new();
    let (front, left) = (format!("{}/storage/front", server.url()), format!("{}/storage/left", other_host.url()));
    let answer = initiate_answer(&[
        ("front", json!({"url": front, "method": "PUT", "headers": {}})),
        ("left", json!({"url": left, "method": "PUT", "headers": {}})),
    ]);
    server.mock("POST", upload_path().as_str()).with_body(answer).create();
    server.mock("PUT", "/storage/front").with_status(503).with_header("retry-after", "50").create();
    let rejected = "<Error><Code>SignatureDoesNotMatch</Code></Error>";
    other_host.mock("PUT", "/storage/left").with_status(403).with_body(rejected).create();
    let compute = server.mock("POST", Matcher::Regex("compute".into())).expect(0).create();
    // The real clock and no observer: the wait itself must notice the stop.
    let session = Session::builder(TOKEN, company()).base_url(server.url()).subject_id(subject()).build().unwrap();
    let started = Instant::now();
    let images = Images::new().front(photo(1, 100)).left(photo(2, 100));
    let err = session.run_analysis(&images, &AnalysisOptions::new()).unwrap_err();
    let took = started.elapsed();
    let ErrorKind::Storage(storage) = err.kind() else { panic!("{err:?}") };
    assert_eq!(storage.code.as_deref(), Some("SignatureDoesNotMatch"));
    // Far below the 50 s backoff, with room for a machine loaded by the rest of the suite.
    assert!(took < Duration::from_secs(25), "the sibling slept out its 50 s backoff: {took:?}");
    compute.assert();
}

// 10. No schedule polls in a tight loop.

#[test]
fn a_zero_poll_interval_is_raised_to_the_floor() {
    let mut server = mockito::Server::new();
    let not_ready = json!({"face_skin_metrics_3": {"all_algorithms_calculated": false}});
    let polls = server.mock("GET", results_path().as_str()).match_query(Matcher::Any).with_body(not_ready.to_string());
    let polls = polls.create();
    let clock = crate::common::clock();
    let session = builder(&server.url(), &clock).poll_schedule(PollSchedule::fixed(Duration::ZERO)).build().unwrap();
    let options = AnalysisOptions::new().deadline(Duration::from_secs(1));
    let err = session.wait_for_results_with(batch(), &options).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Deadline { .. }), "{err:?}");
    // Polls at once, then every 100 ms, and a last check 50 ms before the deadline.
    let sleeps = clock.sleeps();
    assert!(sleeps[1..sleeps.len() - 1].iter().all(|w| *w == hautai::config::MIN_POLL_INTERVAL), "{sleeps:?}");
    polls.expect_at_most(11).assert();
}

// 11. Error reporters see the cause.

#[test]
fn a_step_error_exposes_its_cause_as_source() {
    let mut server = mockito::Server::new();
    server.mock("POST", upload_path().as_str()).with_status(400).with_body(r#"{"detail": "bad"}"#).create();
    let err = session(&server.url()).0.run_analysis(&Images::new().front(photo(1, 3)), &AnalysisOptions::new());
    let err = err.unwrap_err();
    // What a reporter such as anyhow's `{:#}` walks: the cause's message comes next.
    let source = std::error::Error::source(&err).expect("a source");
    assert_eq!(source.to_string(), err.kind().to_string());
    assert!(source.to_string().ends_with("answered 400: bad"), "{source}");
    assert!(matches!(err.kind(), ErrorKind::Api(_)));
}

// 12. Loose types decode.

#[test]
fn loose_shapes_of_the_documentation_decode() {
    let mut server = mockito::Server::new();
    let (session, _) = session(&server.url());
    let results = server.mock("GET", results_path().as_str()).with_body("[]").create();
    assert!(session.results(batch(), &ResultsQuery::new()).unwrap().is_empty());
    results.remove();
    let loose = json!({"face_skin_metrics_3": {
        "sc_app_id": 17, "image_batch_id": BATCH, "all_algorithms_calculated": true,
        "predicted_images": {"front": null, "left": {"original": "https://s/o"}}
    }});
    server.mock("GET", results_path().as_str()).with_body(loose.to_string()).create();
    let analysis = session.results(batch(), &ResultsQuery::new()).unwrap();
    let analysis = analysis.face_skin_metrics().unwrap();
    assert_eq!(analysis.sc_app_id.as_deref(), Some("17"));
    assert_eq!(analysis.predicted_images.keys().collect::<Vec<_>>(), ["left"]);
    let info = json!({"id": BATCH, "images": {"front": null, "left": {"id": BATCH}}});
    server.mock("GET", path(&format!("/batches/{BATCH}/")).as_str()).with_body(info.to_string()).create();
    assert_eq!(session.batch(batch()).unwrap().images.len(), 1);
}

#[test]
fn an_upload_target_id_that_is_not_a_uuid_does_not_fail_the_analysis() {
    let mut server = mockito::Server::new();
    let target = json!({"url": format!("{}/storage/front", server.url()), "method": "PUT", "id": 42});
    let answer = initiate_answer(&[("front", target)]);
    let odd = server.mock("POST", upload_path().as_str()).with_body(answer).expect(1).create();
    let _mocks = happy_path(&mut server);
    let (session, _) = session(&server.url());
    assert!(session.run_analysis(&Images::new().front(photo(1, 3)), &AnalysisOptions::new()).is_ok());
    odd.assert();
}

#[test]
fn an_initiate_answer_that_does_not_decode_still_names_its_batch() {
    let mut server = mockito::Server::new();
    let answer = json!({"image_batch_id": BATCH, "front": {"method": "PUT"}});
    server.mock("POST", upload_path().as_str()).with_body(answer.to_string()).create();
    let err = session(&server.url()).0.run_analysis(&Images::new().front(photo(1, 3)), &AnalysisOptions::new());
    let err = err.unwrap_err();
    assert_eq!((err.step(), err.batch_id()), (Some(Step::Initiate), Some(batch())));
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
}

// 14. Messages say what happened and what to do.

#[test]
fn a_503_that_outlasts_the_retries_says_how_often_and_to_try_later() {
    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_status(503).with_body(r#"{"detail": "Busy."}"#).expect(4).create();
    let err = session(&server.url()).0.batch(batch()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with(": Busy; still failing after 4 tries: the service is busy or unavailable, try again later"),
        "{err}"
    );
    let ErrorKind::Api(api) = err.kind() else { panic!("{err:?}") };
    assert_eq!(api.attempts, 4);
}

#[test]
fn a_retry_event_names_the_request_once() {
    let mut server = mockito::Server::new();
    let busy = server.mock("GET", results_path().as_str()).match_query(Matcher::Any).with_status(503).expect(1);
    let busy = busy.create();
    let _mocks = happy_path(&mut server);
    let seen = std::sync::Mutex::new(Vec::new());
    let observer = |event: &Event<'_>| {
        if let Event::Retrying { .. } = event {
            seen.lock().unwrap().push(event.to_string());
        }
        Control::Continue
    };
    let (session, _) = session(&server.url());
    session.wait_for_results_with(batch(), &AnalysisOptions::new().observer(&observer)).unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].matches(&results_path()).count(), 1, "{}", seen[0]);
    assert!(seen[0].starts_with(&format!("retry 1 of GET {} in ", results_path())), "{}", seen[0]);
    assert!(seen[0].ends_with(": answered 503; the service is busy or unavailable: try again later"), "{}", seen[0]);
    busy.assert();
}

#[test]
fn an_untrusted_certificate_is_final_and_says_what_to_do() {
    let server = crate::common::tls::SelfSignedServer::start();
    let clock = crate::common::clock();
    let session = builder(&server.url(), &clock).build().unwrap();
    let err = session.batch(batch()).unwrap_err();
    let ErrorKind::Transport { kind, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(*kind, hautai::error::TransportKind::Certificate);
    assert!(!err.is_retryable());
    assert!(clock.sleeps().is_empty(), "retried: {:?}", clock.sleeps());
    let text = err.to_string();
    assert!(text.contains("certificate is not trusted") && text.contains("native-tls"), "{text}");
}

// 15. A lost initiate answer is retried once.

#[test]
fn initiate_is_sent_once_more_when_its_answer_is_lost() {
    let mut server = mockito::Server::new();
    let lost = server.mock("POST", upload_path().as_str()).with_status(502).expect(1).create();
    let mut mocks = happy_path(&mut server);
    let (session, _) = session(&server.url());
    assert!(session.run_analysis(&Images::new().front(photo(1, 3)), &AnalysisOptions::new()).is_ok());
    lost.assert();
    mocks.remove(0).expect(1).assert();

    // Not when retries are off: the error says the batch is harmless.
    let mut server = mockito::Server::new();
    let lost = server.mock("POST", upload_path().as_str()).with_status(502).expect(1).create();
    let session = session_without_retries(&server.url());
    let err = session.run_analysis(&Images::new().front(photo(1, 3)), &AnalysisOptions::new()).unwrap_err();
    assert!(err.to_string().ends_with("a batch may have been created anyway; it is harmless if unused"), "{err}");
    lost.assert();
}
