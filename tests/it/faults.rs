//! Faults that a retry cannot always fix, and secrets: every case ends in success or a
//! clear typed error that names the step and batch, and no message shows a credential.

use std::time::Duration;

use hautai::clock::Clock;

use crate::common::files::photo;
use crate::common::{emulator, fast, fast_session};
use hautai::config::RetryPolicy;
use hautai::emulator::{Emulator, Fault, Route};
use hautai::error::{ErrorKind, Step};
use hautai::{AnalysisOptions, Images, Session, Side};

fn analyse(session: &Session) -> hautai::Result<hautai::BatchResults> {
    session.run_analysis(&Images::new().front(photo(3, 40_000)).left(photo(4, 30_000)), &AnalysisOptions::new())
}

#[test]
fn retry_after_as_an_http_date_delays_the_next_poll() {
    let emulator = emulator();
    // The date is read against the session's clock: a virtual one makes the wait exact
    // but for the date's whole-second precision.
    let clock = crate::common::clock();
    let date = crate::common::http_date(clock.wall() + Duration::from_secs(3));
    emulator.fail_next(Route::Results, 1, Fault::status(503).retry_after(date));
    let session = fast(emulator.session_builder()).clock(clock.clone()).deadline(Duration::from_secs(30));
    analyse(&session.build().unwrap()).unwrap();
    let polls: Vec<_> = emulator.requests().into_iter().filter(|r| r.route == Route::Results).collect();
    assert_eq!(polls[0].status, 503);
    // Each poll waits 100 ms first; the retry waits for the date: 2 to 3 s after the first poll.
    let waits = clock.sleeps();
    assert!(waits.iter().any(|w| (Duration::from_millis(1800)..=Duration::from_secs(3)).contains(w)), "{waits:?}");
}

#[test]
fn retry_after_beyond_the_cap_fails_with_the_wait_and_the_batch() {
    let emulator = emulator();
    emulator.fail_next(Route::Results, 1, Fault::status(429).retry_after("3600"));
    let err = analyse(&fast_session(&emulator)).unwrap_err();
    assert_eq!((err.step(), err.batch_id()), (Some(Step::Results), Some(emulator.batch_ids()[0])));
    let ErrorKind::RetryAfterTooLong { wait, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(*wait, Duration::from_secs(3600));
}

#[test]
fn an_answer_over_the_read_limit_is_a_clean_error() {
    let emulator = emulator();
    // Polls (no masks) fit in 20 kB; the final fetch with masks for 27 parameters does not.
    let session = fast(emulator.session_builder()).max_response_bytes(20_000).build().unwrap();
    let err = analyse(&session).unwrap_err();
    assert_eq!((err.step(), err.batch_id()), (Some(Step::Results), Some(emulator.batch_ids()[0])));
    assert!(matches!(err.kind(), ErrorKind::ResponseTooLarge { limit: 20_000, .. }), "{err:?}");
}

#[test]
fn storage_that_never_answers_times_out_with_the_step_and_batch() {
    let emulator = emulator();
    emulator.storage_relay().never_answer(true);
    let session = fast(emulator.session_builder()).io_timeout(Duration::from_millis(300)).retry(RetryPolicy::none());
    let err = analyse(&session.build().unwrap()).unwrap_err();
    assert_eq!((err.step(), err.batch_id()), (Some(Step::Upload), Some(emulator.batch_ids()[0])));
    assert!(
        matches!(err.kind(), ErrorKind::RequestTimeout { after, .. } if *after == Duration::from_millis(300)),
        "{err:?}"
    );
}

/// A fault scenario: how to arm it, the step it must be reported in.
type Scenario = (&'static str, fn(&Emulator), Step);

fn scenarios() -> Vec<Scenario> {
    vec![
        (
            "signature rejected",
            |e| e.fail_next(Route::Upload, 1, Fault::status(403).storage_code("SignatureDoesNotMatch")),
            Step::Upload,
        ),
        (
            "url expired",
            |e| e.fail_next(Route::Upload, 1, Fault::status(400).storage_code("ExpiredToken")),
            Step::Upload,
        ),
        ("upload 500 for good", |e| e.fail_every(Route::Upload, 1, Fault::status(500)), Step::Upload),
        (
            "upload redirected",
            |e| {
                e.fail_next(
                    Route::Upload,
                    1,
                    Fault::status(302).location("http://127.0.0.1:9/o?X-Goog-Signature=LOCSIG"),
                )
            },
            Step::Upload,
        ),
        ("compute 500", |e| e.fail_next(Route::Compute, 1, Fault::status(500)), Step::Compute),
        ("compute 503 for good", |e| e.fail_every(Route::Compute, 1, Fault::status(503)), Step::Compute),
        (
            "results html",
            |e| {
                let html =
                    "<html>see https://storage.example/o?X-Goog-Signature=HTMLSIG&X-Goog-Credential=HTMLCRED</html>";
                e.fail_every(Route::Results, 1, Fault::status(200).body(html))
            },
            Step::Results,
        ),
        (
            "results 500 echoing secrets",
            |e| {
                let body = format!(r#"{{"detail": "boom {} X-Goog-Signature=APISIG"}}"#, e.token());
                e.fail_every(Route::Results, 1, Fault::status(500).body(body))
            },
            Step::Results,
        ),
        ("results 404", |e| e.fail_every(Route::Results, 1, Fault::status(404)), Step::Results),
        ("never complete", |e| e.never_complete(true), Step::Results),
        ("detection error", |e| e.detection_error(Some((Side::Left, "no face found"))), Step::Results),
    ]
}

#[test]
fn after_initiate_every_failure_names_its_step_and_batch_and_no_secret() {
    for (name, arm, step) in scenarios() {
        let emulator = emulator();
        arm(&emulator);
        let session = fast(emulator.session_builder())
            .retry(RetryPolicy::default().max_retries(1).initial_backoff(Duration::from_millis(5)))
            .deadline(Duration::from_millis(1500))
            .build()
            .unwrap();
        let Err(err) = analyse(&session) else { panic!("{name}: the analysis succeeded") };
        let batch = emulator.batch_ids();
        assert_eq!(batch.len(), 1, "{name}: exactly one batch");
        assert_eq!(err.batch_id(), Some(batch[0]), "{name}: {err}");
        assert_eq!(err.step(), Some(step), "{name}: {err}");
        assert_no_secret(&emulator, &format!("{err}"), name);
        assert_no_secret(&emulator, &format!("{err:?}"), name);
        assert_no_secret(&emulator, &format!("{session:?}"), name);
        assert!(emulator.requests().iter().filter(|r| r.storage).all(|r| !r.authorization), "{name}");
        assert!(!format!("{err}").contains('\n'), "{name}: one line: {err}");
    }
}

#[test]
fn targets_sessions_and_builders_never_show_credentials() {
    let emulator = emulator();
    let session = emulator.session();
    let targets = session
        .initiate_upload(emulator.subject_id(), &hautai::model::InitiateUpload::new().name(Side::Front, "f.jpg"))
        .unwrap();
    let url = &targets.get(Side::Front).unwrap().url;
    let signature = url.split("X-Goog-Signature=").nth(1).unwrap();
    assert!(signature.len() >= 16);
    for shown in [
        format!("{targets:?}"),
        format!("{targets:#?}"),
        format!("{session:?}"),
        format!("{:?}", emulator.session_builder()),
    ] {
        assert!(!shown.contains(signature), "{shown}");
        assert_no_secret(&emulator, &shown, "debug");
    }
    // Hidden, but there: the settings a reader needs to see.
    let builder = format!("{:?}", emulator.session_builder());
    assert!(builder.starts_with("SessionBuilder") && builder.contains(emulator.base_url()), "{builder}");
    assert!(builder.contains("token: \"<redacted>\""), "{builder}");
}

/// No token, and every `X-Goog-Signature=` / `X-Goog-Credential=` followed by `<redacted>`.
fn assert_no_secret(emulator: &Emulator, shown: &str, name: &str) {
    assert!(!shown.contains(&emulator.token()), "{name}: token in {shown}");
    let lower = shown.to_ascii_lowercase();
    for key in ["x-goog-signature=", "x-goog-credential="] {
        for (at, _) in lower.match_indices(key) {
            let value = &shown[at + key.len()..];
            assert!(value.starts_with("<redacted>"), "{name}: {key} not redacted in {shown}");
        }
    }
    for secret in ["LOCSIG", "HTMLSIG", "HTMLCRED", "APISIG", "emulator%40hautai"] {
        assert!(!shown.contains(secret), "{name}: {secret} in {shown}");
    }
}
