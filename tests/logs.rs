//! Requests through the `log` facade: a debug line per request, info per retry, warn on
//! giving up, and never a token, a signature or a body.

#[path = "it/common/mod.rs"]
mod common;

use std::sync::Mutex;

use common::*;
use hautai::Side;
use hautai::config::RetryPolicy;
use mockito::Matcher;

/// Keeps every record of this crate.
struct Capture(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("hautai")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push((record.level(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn requests_retries_and_failures_are_logged_without_secrets() {
    log::set_logger(&LOGS).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let mut server = mockito::Server::new();
    let info = path(&format!("/batches/{BATCH}/"));
    server.mock("GET", info.as_str()).with_status(503).with_body(format!("echo {TOKEN}")).expect(1).create();
    server.mock("GET", info.as_str()).with_body(fixture("batch_info.json")).expect(1).create();
    let (session, _) = session(&server.url());
    session.batch(batch()).unwrap();

    // A signed upload that storage refuses for good: its query never shows.
    let target: hautai::model::UploadTarget = serde_json::from_value(serde_json::json!({
        "url": format!("{}/bucket/front.jpg?X-Goog-Signature=SIGNATURE123", server.url()), "headers": {}
    }))
    .unwrap();
    server.mock("PUT", "/bucket/front.jpg").match_query(Matcher::Any).with_status(503).create();
    let quick = builder(&server.url(), &common::clock()).retry(RetryPolicy::default().max_retries(1)).build().unwrap();
    quick.upload_image(Side::Front, &target, vec![1u8; 10]).unwrap_err();

    let logs = LOGS.0.lock().unwrap().clone();
    let lines =
        |level: log::Level| logs.iter().filter(|(l, _)| *l == level).map(|(_, m)| m.clone()).collect::<Vec<_>>();
    let debug = lines(log::Level::Debug);
    assert!(
        debug.iter().any(|m| m.starts_with(&format!("GET {info} 503 in ")) && m.ends_with("(attempt 1)")),
        "{debug:?}"
    );
    assert!(
        debug.iter().any(|m| m.starts_with(&format!("GET {info} 200 in ")) && m.ends_with("(attempt 2)")),
        "{debug:?}"
    );
    assert!(debug.iter().any(|m| m.starts_with("PUT /bucket/front.jpg 503 in ")), "{debug:?}");
    let info_lines = lines(log::Level::Info);
    assert!(info_lines.iter().any(|m| m.starts_with(&format!("retry 1 of GET {info} in "))), "{info_lines:?}");
    let warn = lines(log::Level::Warn);
    assert!(
        warn.iter().any(|m| m.starts_with("giving up (the retries are spent): upload of the front image")),
        "{warn:?}"
    );
    for (_, message) in &logs {
        for secret in [TOKEN, "SIGNATURE123", "X-Goog-Signature"] {
            assert!(!message.contains(secret), "{message}");
        }
    }
}
