//! Error mapping: statuses, bodies, redirects, decode failures, transport failures, and
//! that no message or `Debug` shows the token.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use crate::common::*;
use hautai::error::TransportKind;
use hautai::model::{InitiateUpload, ResultsQuery};
use hautai::{Error, Side};
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
    let Error::Api(api) = &err else { panic!("{err:?}") };
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
    let Error::Api(api) = &err else { panic!() };
    assert!(api.body_excerpt.starts_with("<html> <head>"), "{}", api.body_excerpt);
    assert!(err.is_retryable());
}

#[test]
fn malformed_json_in_a_200_is_a_decode_error_naming_the_endpoint() {
    let mut server = mockito::Server::new();
    server.mock("GET", Matcher::Any).with_body(r#"{"id": "123e4567-e89b-12d3-a456-426614174000", "images": "#).create();
    let session = session_without_retries(&server.url());
    let err = session.batch(batch()).unwrap_err();
    let Error::Decode { endpoint, excerpt, .. } = &err else { panic!("{err:?}") };
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
    assert!(matches!(err, Error::Decode { endpoint: "GET batch results", .. }), "{err:?}");
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
    let Error::Redirect { status, request, location } = &post else { panic!("{post:?}") };
    assert_eq!((*status, request.method), (302, "POST"));
    assert!(!location.contains("sig123"), "{location}");
    assert!(post.to_string().contains("redirects are not followed"));
    let get = session.batch(batch()).unwrap_err();
    assert!(matches!(&get, Error::Redirect { status: 301, request, .. } if request.method == "GET"), "{get:?}");
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
    assert!(matches!(err, Error::Transport { kind: TransportKind::ConnectionRefused, .. }), "{err:?}");
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
    let Error::Timeout { after, connecting, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*after, Duration::from_millis(300));
    assert!(!connecting);
    assert!(err.to_string().contains("timed out after 0.3s"), "{err}");
    holder.join().unwrap();
}
