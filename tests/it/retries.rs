//! Retries through the one request path: which failures, how many, how long (on a
//! virtual clock: the waits are recorded, not slept).

use std::time::Duration;

use crate::common::*;
use hautai::Side;
use hautai::clock::Clock;
use hautai::config::RetryPolicy;
use hautai::error::ErrorKind;
use hautai::model::InitiateUpload;
use mockito::Matcher;

fn info_path() -> String {
    path(&format!("/batches/{BATCH}/"))
}

#[test]
fn a_get_failing_503_twice_then_succeeding_is_retried_with_growing_backoff() {
    let mut server = mockito::Server::new();
    let failing = server.mock("GET", info_path().as_str()).with_status(503).expect(2).create();
    let ok = server.mock("GET", info_path().as_str()).with_body(fixture("batch_info.json")).expect(1).create();
    let (session, clock) = session(&server.url());
    session.batch(batch()).unwrap();
    failing.assert();
    ok.assert();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    // Default policy: 500 ms then 1 s, each jittered to between half and all of it.
    assert!((Duration::from_millis(250)..=Duration::from_millis(500)).contains(&sleeps[0]), "{sleeps:?}");
    assert!((Duration::from_millis(500)..=Duration::from_secs(1)).contains(&sleeps[1]), "{sleeps:?}");
}

#[test]
fn retry_after_seconds_set_the_floor_of_the_wait() {
    let mut server = mockito::Server::new();
    server.mock("GET", info_path().as_str()).with_status(429).with_header("retry-after", "7").expect(1).create();
    server.mock("GET", info_path().as_str()).with_body(fixture("batch_info.json")).create();
    let (session, clock) = session(&server.url());
    session.batch(batch()).unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7)]);
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let mut server = mockito::Server::new();
    let (session, clock) = session(&server.url());
    let at = clock.wall() + Duration::from_secs(12);
    server
        .mock("GET", info_path().as_str())
        .with_status(503)
        .with_header("retry-after", &http_date(at))
        .expect(1)
        .create();
    server.mock("GET", info_path().as_str()).with_body(fixture("batch_info.json")).create();
    session.batch(batch()).unwrap();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    // The date has whole seconds: the wait is 11 to 12 s.
    assert!((Duration::from_secs(11)..=Duration::from_secs(12)).contains(&sleeps[0]), "{sleeps:?}");
}

#[test]
fn retry_after_beyond_the_cap_fails_with_the_requested_wait() {
    let mut server = mockito::Server::new();
    let mock =
        server.mock("GET", info_path().as_str()).with_status(429).with_header("retry-after", "600").expect(1).create();
    let (session, clock) = session(&server.url());
    let err = session.batch(batch()).unwrap_err();
    let ErrorKind::RetryAfterTooLong { wait, limit, status, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!((*wait, *limit, *status), (Duration::from_secs(600), Duration::from_secs(60), 429));
    assert!(err.to_string().contains("asked to retry after 600.0s"), "{err}");
    assert!(clock.sleeps().is_empty());
    mock.assert();
}

#[test]
fn retry_after_of_exactly_the_cap_is_waited_for() {
    let mut server = mockito::Server::new();
    server.mock("GET", info_path().as_str()).with_status(503).with_header("retry-after", "60").expect(1).create();
    let ok = server.mock("GET", info_path().as_str()).with_body(fixture("batch_info.json")).expect(1).create();
    let (session, clock) = session(&server.url());
    session.batch(batch()).unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(60)], "the cap is the longest wait allowed, not past it");
    ok.assert();
}

#[test]
fn a_post_answered_500_is_not_retried() {
    let mut server = mockito::Server::new();
    let mock = server.mock("POST", Matcher::Any).with_status(500).expect(1).create();
    let (session, clock) = session(&server.url());
    let err = session.compute(batch(), None).unwrap_err();
    assert_eq!(err.status(), Some(500));
    mock.assert();
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_post_answered_503_or_429_is_retried() {
    let mut server = mockito::Server::new();
    let upload = path(&format!("/subjects/{SUBJECT}/upload/"));
    let busy = server.mock("POST", upload.as_str()).with_status(503).expect(1).create();
    let limited = server.mock("POST", upload.as_str()).with_status(429).expect(1).create();
    let ok = server.mock("POST", upload.as_str()).with_body(fixture("initiate_upload.json")).expect(1).create();
    let (session, clock) = session(&server.url());
    let targets = session.initiate_upload(subject(), &InitiateUpload::new().name(Side::Front, "f.jpg")).unwrap();
    assert_eq!(targets.image_batch_id, batch());
    busy.assert();
    limited.assert();
    ok.assert();
    assert_eq!(clock.sleeps().len(), 2);
}

#[test]
fn a_post_whose_connection_is_refused_is_retried() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (session, clock) = session(&format!("http://127.0.0.1:{port}"));
    let err = session.compute(batch(), None).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transport { kind: hautai::error::TransportKind::ConnectionRefused, .. }),
        "{err:?}"
    );
    assert_eq!(clock.sleeps().len(), 3, "refused means not sent: safe to retry a post");
}

#[test]
fn retries_stop_at_the_configured_limit() {
    let mut server = mockito::Server::new();
    let mock = server.mock("GET", info_path().as_str()).with_status(502).expect(3).create();
    let clock = crate::common::clock();
    let session = builder(&server.url(), &clock).retry(RetryPolicy::default().max_retries(2)).build().unwrap();
    let err = session.batch(batch()).unwrap_err();
    assert_eq!(err.status(), Some(502));
    mock.assert();
    assert_eq!(clock.sleeps().len(), 2);
}

#[test]
fn zero_retries_means_one_try() {
    let mut server = mockito::Server::new();
    let mock = server.mock("GET", info_path().as_str()).with_status(503).expect(1).create();
    let session = session_without_retries(&server.url());
    assert_eq!(session.batch(batch()).unwrap_err().status(), Some(503));
    mock.assert();
}

#[test]
fn client_errors_are_not_retried() {
    let mut server = mockito::Server::new();
    let mock = server.mock("GET", info_path().as_str()).with_status(404).expect(1).create();
    let (session, clock) = session(&server.url());
    assert_eq!(session.batch(batch()).unwrap_err().status(), Some(404));
    mock.assert();
    assert!(clock.sleeps().is_empty());
}
