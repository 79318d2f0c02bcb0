//! A hostile server, generated: proptest scripts a loopback server's answers (any status,
//! `Retry-After` of any shape, `Content-Encoding`, `Location`, a `Content-Length` that
//! lies, bodies of random JSON, the documented shapes damaged, truncated, huge numbers,
//! deep nesting), plants the session's token and a signed URL's secrets into every string,
//! and drives the pipeline and every endpoint method against it. For every case: no panic,
//! no wait past the deadline, no hang, and neither secret in the `Display` or `Debug` of
//! whatever the call returns.

use std::sync::mpsc;
use std::time::Duration;

use crate::common::hostile::{Answer, HostileServer};
use crate::common::{BATCH, TOKEN, builder, company, subject};
use hautai::model::{BatchQuery, InitiateUpload, ResultsQuery, UploadTarget};
use hautai::{AnalysisOptions, Images, Side};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The signature and credential planted in signed URLs.
const SIGNATURE: &str = "pLaNtEdS1gNaTuRe";
const CREDENTIAL: &str = "pLaNtEdCrEdEnTiAl";

/// The deadline of every pipeline call (virtual time).
const DEADLINE: Duration = Duration::from_secs(30);

/// A signed URL on the hostile server itself.
fn signed(path: &str) -> String {
    format!("{{SELF}}{path}?X-Goog-Credential={CREDENTIAL}&X-Goog-Signature={SIGNATURE}&X-Goog-Expires=60")
}

/// Strings as a hostile server sends them: plain, or carrying a secret.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._-]{0,12}",
        Just(TOKEN.to_owned()),
        Just(format!("Bearer {TOKEN}")),
        Just(signed("/storage/x")),
        Just(format!("see {} now", signed("/y"))),
        Just(format!("https://s.example/o?GoogleAccessId=a&Signature={SIGNATURE}")),
        Just(format!("https://b.example/o?X-Amz-Credential={CREDENTIAL}&X-Amz-Signature={SIGNATURE}")),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(18_446_744_073_709_551_615u64)),
        Just(json!(1e300)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                "token|access_token|detail|url|id|image_batch_id|front|left|parameters|next|results|[a-z]{1,6}",
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The documented answers, with secrets in their strings and targets on the server.
fn documented(secret: String) -> Vec<Value> {
    let target = json!({"url": signed("/storage/t"), "method": "PUT", "headers": {"X-Goog-Content-Length-Range": "1,31457280", "x": secret}, "id": BATCH});
    let analysis = |done: bool| {
        json!({"image_batch_id": BATCH, "all_algorithms_calculated": done, "sc_app_id": secret,
               "parameters": {"age": {"tag": secret, "score": 31, "masks": {"front": signed("/m")}}},
               "predicted_images": {"front": {"original": signed("/p")}}, "detection_errors": {}})
    };
    vec![
        json!({"image_batch_id": BATCH, "front": target, "left": target, "right": target}),
        json!({"face_skin_metrics_3": analysis(true)}),
        json!({"face_skin_metrics_3": analysis(false)}),
        json!({"face_skin_metrics_3": {"all_algorithms_calculated": false, "detection_errors": {"left": secret}}}),
        json!({}),
        json!({"count": 3, "next": format!("{}&page=2", signed("/api/x")), "previous": null,
               "results": [{"id": BATCH, "name": secret, "creation_time": secret}]}),
        json!({"id": BATCH, "images": {"front": {"id": BATCH, "signed_url": signed("/i")}}, "meta": {"k": secret}}),
        json!([analysis(true)]),
        json!({"id": 7, "name": secret, "data": TOKEN}),
        json!({"detail": secret}),
    ]
}

/// One way to damage a document's text.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Truncate(usize),
    Replace(String, Value),
    DeepNesting,
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let damage = prop_oneof![
        3 => Just(Damage::None),
        1 => (0usize..400).prop_map(Damage::Truncate),
        2 => ("image_batch_id|front|url|method|parameters|all_algorithms_calculated|results|next|id|detection_errors", json_value())
            .prop_map(|(k, v)| Damage::Replace(k, v)),
        1 => Just(Damage::DeepNesting),
    ];
    prop_oneof![
        6 => (text(), 0usize..10, damage).prop_map(|(secret, pick, damage)| {
            let mut doc = documented(secret).swap_remove(pick);
            match damage {
                Damage::None => doc.to_string().into_bytes(),
                Damage::Truncate(at) => {
                    let text = doc.to_string();
                    text.as_bytes()[..at.min(text.len())].to_vec()
                }
                Damage::Replace(key, value) => {
                    if let Some(slot) = doc.get_mut(&key) {
                        *slot = value;
                    }
                    doc.to_string().into_bytes()
                }
                Damage::DeepNesting => (0..300).fold(doc, |v, _| json!([v])).to_string().into_bytes(),
            }
        }),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => text().prop_map(|t| format!("<html><title>{t}</title></html>").into_bytes()),
        1 => text().prop_map(|t| format!("<Error><Code>SignatureDoesNotMatch</Code><Message>{t}</Message><StringToSign>{}</StringToSign></Error>", signed("/s")).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let retry_after = prop_oneof![
        Just("1"),
        Just("0"),
        Just("-1"),
        Just("18446744073709551615"),
        Just("99999999999999999999"),
        Just("Sun, 06 Nov 99999999999999 08:49:37 GMT"),
        Just("Sun, 06 Nov 1994 08:49:37 GMT"),
        Just("Fri, 31 Dec 9999 23:59:59 GMT"),
        Just("soon"),
    ]
    .prop_map(|v| ("Retry-After".to_owned(), v.to_owned()));
    let encoding = prop_oneof![Just("gzip"), Just("br"), Just("deflate"), Just("identity")]
        .prop_map(|v| ("Content-Encoding".to_owned(), v.to_owned()));
    let location = text().prop_map(|t| ("Location".to_owned(), t));
    let content_type = Just(("Content-Type".to_owned(), "application/json".to_owned()));
    prop::collection::vec(prop_oneof![retry_after, encoding, location, content_type], 0..3)
}

fn answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![
        8 => Just(200u16),
        1 => Just(201),
        1 => Just(204),
        1 => prop::sample::select(vec![301u16, 302, 307, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 599]),
    ];
    let length_error = prop_oneof![6 => Just(Some(0i64)), 1 => Just(None), 1 => (-20i64..20).prop_map(Some)];
    (status, headers(), body(), length_error).prop_map(|(status, headers, body, length_error)| Answer {
        status,
        headers,
        body,
        length_error,
    })
}

/// What the case calls.
#[derive(Debug, Clone, Copy)]
enum Call {
    Analysis,
    Wait,
    Results,
    Batch,
    ListBatches,
    Batches,
    SubjectParameters,
    Initiate,
    Upload,
    Compute,
    PrivateToken,
    Datasets,
}

const CALLS: [Call; 12] = [
    Call::Analysis,
    Call::Wait,
    Call::Results,
    Call::Batch,
    Call::ListBatches,
    Call::Batches,
    Call::SubjectParameters,
    Call::Initiate,
    Call::Upload,
    Call::Compute,
    Call::PrivateToken,
    Call::Datasets,
];

/// Runs `call` against `url` and returns everything a user could print of its outcome,
/// and the virtual time it waited.
fn run(call: Call, url: &str) -> (Vec<String>, Duration) {
    let clock = crate::common::clock();
    let session = builder(url, &clock)
        .request_timeout(Duration::from_secs(3))
        .io_timeout(Duration::from_secs(3))
        .deadline(DEADLINE)
        .build()
        .unwrap();
    fn shown<T: std::fmt::Debug>(outcome: hautai::Result<T>) -> Vec<String> {
        match outcome {
            Ok(value) => vec![format!("{value:?}"), format!("{value:#?}")],
            Err(error) => {
                let mut all = vec![error.to_string(), format!("{error:?}"), format!("{error:#?}")];
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    all.push(cause.to_string());
                    source = cause.source();
                }
                all
            }
        }
    }
    let photo = vec![0xFFu8; 64];
    let shown = match call {
        Call::Analysis => {
            let images = Images::new().front(&photo).left(&photo);
            shown(session.run_analysis(&images, &AnalysisOptions::new()))
        }
        Call::Wait => shown(session.wait_for_results(BATCH.parse().unwrap())),
        Call::Results => shown(session.results(BATCH.parse().unwrap(), &ResultsQuery::new())),
        Call::Batch => shown(session.batch(BATCH.parse().unwrap())),
        Call::ListBatches => shown(session.list_batches(&BatchQuery::new())),
        Call::Batches => shown(session.batches(&BatchQuery::new()).take(5).collect::<hautai::Result<Vec<_>>>()),
        Call::SubjectParameters => shown(session.subject_parameters(subject())),
        Call::Initiate => shown(session.initiate_upload(subject(), &InitiateUpload::new().name(Side::Front, "f.jpg"))),
        Call::Upload => {
            let target: UploadTarget = serde_json::from_value(json!({
                "url": signed("/storage/u").replace("{SELF}", url), "method": "PUT", "headers": {}
            }))
            .unwrap();
            shown(session.upload_image(Side::Front, &target, &photo))
        }
        Call::Compute => shown(session.compute(BATCH.parse().unwrap(), None)),
        Call::PrivateToken => shown(session.create_private_token("n", std::time::Duration::from_secs(86_400))),
        Call::Datasets => shown(session.datasets().take(5).collect::<hautai::Result<Vec<_>>>()),
    };
    (shown, clock.elapsed())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

proptest! {
    // 1000 cases in `cargo test`; PROPTEST_CASES=50000 for a longer hunt.
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_panic_no_hang_no_secret(call in prop::sample::select(CALLS.to_vec()), answers in prop::collection::vec(answer(), 1..8)) {
        let server = HostileServer::start(answers);
        let url = server.url().to_owned();
        // A watchdog: a call that hangs fails the case instead of the whole suite.
        let (done, outcome) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(run(call, &url));
        });
        let (shown, waited) = outcome
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| TestCaseError::fail(format!("{call:?} hung")))?;
        prop_assert!(waited <= DEADLINE, "{call:?} waited {waited:?}, past the deadline");
        let _ = company();
        for text in &shown {
            for secret in [TOKEN, SIGNATURE, CREDENTIAL] {
                prop_assert!(!text.contains(secret), "{call:?} shows {secret}: {text}");
            }
        }
    }
}
