//! Error mapping: statuses, bodies, redirects, decode failures, transport failures, and
//! that no message or `Debug` shows the token.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use crate::common::files::photo;
use crate::common::*;
use hautai::Side;
use hautai::error::{ErrorKind, TransportKind};
use hautai::model::{InitiateUpload, ResultsQuery};
use mockito::Matcher;

fn upload_path() -> String {
    path(&format!("/subjects/{SUBJECT}/upload/"))
}

fn front_only() -> InitiateUpload {
    InitiateUpload::new().name(Side::Front, "front.jpg")
}

#[test]
fn a_400_with_field_errors_shows_them() {
    let mut server = mockito::Server::new();
    server
        .mock("POST", upload_path().as_str())
        .with_status(400)
        .with_body(r#"{"front": ["Ensure this field has no more than 255 characters."]}"#)
        .create();
    let session = session_without_retries(&server.url());
    let err = session.initiate_upload(subject(), &front_only()).unwrap_err();
    let ErrorKind::Api(api) = err.kind() else { panic!("{err:?}") };
    assert_eq!(api.status, 400);
    assert_eq!(api.request.method, "POST");
    assert_eq!(api.request.path, upload_path());
    assert_eq!(api.message.as_deref(), Some("front: Ensure this field has no more than 255 characters."));
    let text = err.to_string();
    assert_eq!(
        text,
        format!("POST {} answered 400: front: Ensure this field has no more than 255 characters", upload_path())
    );
    assert_eq!(err.status(), Some(400));
    assert!(!err.is_retryable());
}

#[test]
fn a_401_says_the_token_is_invalid_or_expired_and_never_shows_it() {
    let mut server = mockito::Server::new();
    // A server that echoes the credentials it got must not make us print them.
    server
        .mock("GET", Matcher::Any)
        .with_status(401)
        .with_body(format!(r#"{{"detail": "Invalid token {TOKEN}."}}"#))
        .create();
    let session = session_without_retries(&server.url());
    let err = session.batch(batch()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("answered 401"), "{text}");
    assert!(text.contains("the token is invalid or expired"), "{text}");
    for shown in [text, format!("{err:?}"), format!("{session:?}")] {
        assert!(!shown.contains(TOKEN), "token leaked: {shown}");
    }
}

#[test]
fn a_403_and_a_404_keep_the_detail() {
    let mut server = mockito::Server::new();
    server
        .mock("GET", path(&format!("/batches/{BATCH}/")).as_str())
        .with_status(403)
        .with_body(r#"{"detail": "You do not have permission to perform this action."}"#)
        .create();
    server
        .mock("GET", path(&format!("/subjects/{SUBJECT}/parameters/")).as_str())
        .with_status(404)
        .with_body(r#"{"detail": "Not found."}"#)
        .create();
    let session = session_without_retries(&server.url());
    let forbidden = session.batch(batch()).unwrap_err().to_string();
    assert!(forbidden.contains("403: You do not have permission"), "{forbidden}");
    assert!(forbidden.contains("no access"), "{forbidden}");
    let missing = session.subject_parameters(subject()).unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert!(
        missing
            .to_string()
            .ends_with("answered 404: Not found; check the ids in the request (company, subject or batch)"),
        "{missing}"
    );
}

#[test]
fn a_500_with_an_html_body_is_summarised_in_one_line() {
    let mut server = mockito::Server::new();
    let html = "<html>\n<head><title>500 Internal Server Error</title></head>\n<body><h1>Oops</h1>\n</body></html>";
    server.mock("GET", Matcher::Any).with_status(500).with_body(html).create();
    let session = session_without_retries(&server.url());
    let err = session.batch(batch()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.ends_with("answered 500: 500 Internal Server Error; the service is busy or unavailable: try again later"),
        "{text}"
    );
    assert!(!text.contains('\n'));
    let ErrorKind::Api(api) = err.kind() else { panic!() };
    assert!(api.body_excerpt.starts_with("<html> <head>"), "{}", api.body_excerpt);
    assert!(err.is_retryable());
}

#[test]
fn malformed_json_in_a_200_is_a_decode_error_naming_the_endpoint() {
    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_body(r#"{"id": "123e4567-e89b-12d3-a456-426614174000", "images": "#).create();
    let session = session_without_retries(&server.url());
    let err = session.batch(batch()).unwrap_err();
    let ErrorKind::Decode { endpoint, excerpt, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(*endpoint, "GET batch info");
    assert!(excerpt.starts_with(r#"{"id": "123e4567"#), "the body's start is quoted: {excerpt}");
    assert!(err.to_string().starts_with("cannot decode the answer of GET batch info"), "{err}");
}

#[test]
fn html_in_a_200_is_a_decode_error_too() {
    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_body("<html><body>maintenance</body></html>").create();
    let session = session_without_retries(&server.url());
    let err = session.results(batch(), &ResultsQuery::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { endpoint: "GET batch results", .. }), "{err:?}");
}

#[test]
fn a_302_is_an_error_on_get_and_post_and_is_not_followed() {
    let mut server = mockito::Server::new();
    let target = server.mock("GET", "/elsewhere").with_body("{}").expect(0).create();
    server
        .mock("POST", upload_path().as_str())
        .with_status(302)
        .with_header("location", &format!("{}/elsewhere?X-Goog-Signature=sig123", server.url()))
        .create();
    server
        .mock("GET", path(&format!("/batches/{BATCH}/")).as_str())
        .with_status(301)
        .with_header("location", "/elsewhere")
        .create();
    let session = session_without_retries(&server.url());
    let post = session.initiate_upload(subject(), &front_only()).unwrap_err();
    let ErrorKind::Redirect { status, request, location } = post.kind() else { panic!("{post:?}") };
    assert_eq!((*status, request.method), (302, "POST"));
    assert!(!location.contains("sig123"), "{location}");
    assert!(post.to_string().contains("redirects are not followed"));
    let get = session.batch(batch()).unwrap_err();
    assert!(
        matches!(get.kind(), ErrorKind::Redirect { status: 301, request, .. } if request.method == "GET"),
        "{get:?}"
    );
    target.assert();
}

#[test]
fn a_refused_connection_is_a_transport_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let session = session_without_retries(&format!("http://127.0.0.1:{port}"));
    let err = session.batch(batch()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Transport { kind: TransportKind::ConnectionRefused, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("GET {} failed: connection refused (127.0.0.1:{port})", path(&format!("/batches/{BATCH}/")))
    );
    assert!(err.is_retryable());
}

#[test]
fn a_server_that_never_answers_times_out_within_the_request_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accept, read the request, never answer.
    let holder = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf);
        std::thread::sleep(Duration::from_millis(600));
    });
    let clock = crate::common::clock();
    let session = builder(&url, &clock)
        .retry(hautai::config::RetryPolicy::none())
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = session.batch(batch()).unwrap_err();
    let ErrorKind::RequestTimeout { after, connecting, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(*after, Duration::from_millis(300));
    assert!(!connecting);
    assert!(err.to_string().contains("timed out after 0.3s"), "{err}");
    holder.join().unwrap();
}

/// One way to match: a 401 is `ErrorKind::Api` with status 401 from every call that sends
/// the token, the pipeline's included; only the step differs. (A wrong login is its own
/// kind, `LoginRejected`, and downloads go to storage, which has no token to refuse.)
#[test]
fn a_401_is_matched_the_same_way_from_every_call() {
    use hautai::model::{BatchQuery, NewSubject};
    use hautai::{AnalysisOptions, Error, Images, Session};
    type Call = fn(&Session) -> hautai::Result<()>;
    let photo = photo(1, 2_000);
    let emulator = emulator();
    let session = fast_session(&emulator).with_token("not-the-token").unwrap();
    let calls: [(&str, Call); 16] = [
        ("initiate_upload", |s| s.initiate_upload(subject(), &front_only()).map(drop)),
        ("compute", |s| s.compute(batch(), None)),
        ("results", |s| s.results(batch(), &ResultsQuery::default()).map(drop)),
        ("batch", |s| s.batch(batch()).map(drop)),
        ("list_batches", |s| s.list_batches(&BatchQuery::default()).map(drop)),
        ("batches", |s| s.batches(&BatchQuery::default()).next().expect("a first page").map(drop)),
        ("create_subject", |s| s.create_subject(batch(), &NewSubject::new("p")).map(drop)),
        ("subjects", |s| s.subjects(batch()).next().expect("a first page").map(drop)),
        ("subject_parameters", |s| s.subject_parameters(subject()).map(drop)),
        ("create_private_token", |s| s.create_private_token("t", std::time::Duration::from_secs(86_400)).map(drop)),
        ("private_tokens", |s| s.private_tokens().next().expect("a first page").map(drop)),
        ("revoke_private_token", |s| s.revoke_private_token(7)),
        ("create_dataset", |s| s.create_dataset("d").map(drop)),
        ("datasets", |s| s.datasets().next().expect("a first page").map(drop)),
        ("wait_for_results", |s| s.wait_for_results(batch()).map(drop)),
        ("run_analysis", |s| {
            s.run_analysis(&Images::new().front(crate::common::files::photo(9, 100)), &AnalysisOptions::new()).map(drop)
        }),
    ];
    let full = |s: &Session| s.run_full_analysis(&photo, &photo, &photo).map(drop);
    let mut errors: Vec<(&str, Error)> =
        calls.iter().map(|(name, call)| (*name, call(&session).unwrap_err())).collect();
    errors.push(("run_full_analysis", full(&session).unwrap_err()));
    for (name, err) in &errors {
        assert!(matches!(err.kind(), ErrorKind::Api(api) if api.status == 401), "{name}: {err:?}");
        assert_eq!(err.status(), Some(401), "{name}");
        assert!(err.to_string().contains("the token is invalid or expired"), "{name}: {err}");
    }
    // Where it happened is asked, not matched: the pipeline names its step.
    let step = |name: &str| errors.iter().find(|(n, _)| *n == name).map(|(_, e)| e.step()).unwrap();
    assert_eq!(step("compute"), None);
    assert_eq!(step("run_full_analysis"), Some(hautai::error::Step::Initiate));
    assert_eq!(step("wait_for_results"), Some(hautai::error::Step::Results));
}

/// The same match for a bulk run's failures: `Outcome::Failed` carries the error itself.
#[test]
fn a_bulk_runs_failure_is_matched_by_kind_as_well() {
    use hautai::Images;
    use hautai::bulk::{Bulk, Job, Outcome};
    use hautai::error::Step;
    let emulator = emulator();
    let session = fast_session(&emulator).with_token("not-the-token").unwrap();
    let matched = std::sync::Mutex::new(Vec::new());
    let summary = Bulk::new(&session).run([Job::new("v1", Images::new().front(photo(7, 500)))], |outcome| {
        if let Outcome::Failed { key, error, .. } = outcome {
            let api_401 = matches!(error.kind(), ErrorKind::Api(api) if api.status == 401);
            matched.lock().unwrap().push((key.to_string(), api_401, error.step()));
        }
        Ok(())
    });
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(matched.into_inner().unwrap(), [("v1".to_owned(), true, Some(Step::Initiate))]);
}
