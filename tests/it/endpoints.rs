//! Every endpoint against mockito: exact method, path, query, auth header and body.

use crate::common::*;
use hautai::error::ErrorKind;
use hautai::model::{BatchQuery, InitiateUpload, ResultsQuery};
use hautai::{Error, Side};
use mockito::Matcher;
use serde_json::json;

#[test]
fn initiate_upload_posts_the_names_and_returns_the_targets() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("POST", path(&format!("/subjects/{SUBJECT}/upload/")).as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({
            "front": "front.jpg", "left": "left.jpg", "right": "right.jpg",
            "meta": {"visit": 3}, "creation_time": "2026-11-28T10:00:00Z"
        })))
        .with_body(fixture("initiate_upload.json"))
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    let request = InitiateUpload::new()
        .name(Side::Front, "front.jpg")
        .name(Side::Left, "left.jpg")
        .name(Side::Right, "right.jpg")
        .meta(json!({"visit": 3}))
        .creation_time("2026-11-28T10:00:00Z");
    let targets = session.initiate_upload(subject(), &request).unwrap();
    mock.assert();
    assert_eq!(targets.image_batch_id, batch());
    let front = targets.get(Side::Front).unwrap();
    assert_eq!(front.method, "PUT");
    assert_eq!(front.content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(front.content_length_range(), Some((1, 31_457_280)));
    assert_eq!(front.id.unwrap().to_string(), "adcf1265-dbd8-495c-afa4-f7aceb2e4fbe");
    assert!(targets.get(Side::Left).is_none());
    assert_eq!(targets.iter().count(), 1);
}

#[test]
fn initiate_upload_checks_names_before_sending() {
    let mut server = mockito::Server::new();
    let mock = server.mock("POST", Matcher::Any).expect(0).create();
    let (session, _) = session(&server.url());
    let too_long = "x".repeat(256);
    for request in [
        InitiateUpload::new(),
        InitiateUpload::new().name(Side::Front, ""),
        InitiateUpload::new().name(Side::Left, too_long.as_str()),
    ] {
        let err = session.initiate_upload(subject(), &request).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err}");
    }
    mock.assert();
}

#[test]
fn initiate_upload_counts_characters_not_bytes() {
    let mut server = mockito::Server::new();
    let name = "é".repeat(255); // 510 bytes, 255 characters: valid.
    let mock = server
        .mock("POST", path(&format!("/subjects/{SUBJECT}/upload/")).as_str())
        .match_body(Matcher::Json(json!({ "front": name })))
        .with_body(fixture("initiate_upload.json"))
        .create();
    let (session, _) = session(&server.url());
    session.initiate_upload(subject(), &InitiateUpload::new().name(Side::Front, name.as_str())).unwrap();
    mock.assert();
}

#[test]
fn compute_sends_empty_app_args_by_default_and_accepts_204() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("POST", path(&format!("/batches/{BATCH}/compute/")).as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .match_body(Matcher::Json(json!({"app_args": {}})))
        .with_status(204)
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    session.compute(batch(), None).unwrap();
    mock.assert();
}

#[test]
fn compute_passes_app_args_and_accepts_200_with_a_body() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("POST", path(&format!("/batches/{BATCH}/compute/")).as_str())
        .match_body(Matcher::Json(json!({"app_args": {"face_skin_metrics_3": {"fast": true}}})))
        .with_status(200)
        .with_body("ok")
        .create();
    let (session, _) = session(&server.url());
    session.compute(batch(), Some(json!({"face_skin_metrics_3": {"fast": true}}))).unwrap();
    mock.assert();
}

#[test]
fn results_sends_only_the_options_given() {
    let mut server = mockito::Server::new();
    let with_options = server
        .mock("GET", path(&format!("/batches/{BATCH}/results/")).as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("expiration_seconds".into(), "600".into()),
            Matcher::UrlEncoded("with_masks".into(), "false".into()),
            Matcher::UrlEncoded("svg_masks".into(), "true".into()),
        ]))
        .with_body(fixture("results_complete.json"))
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    let query = ResultsQuery::new().expiration_seconds(600).with_masks(false).svg_masks(true);
    let results = session.results(batch(), &query).unwrap();
    with_options.assert();
    assert!(results.is_complete());
    assert_eq!(results.batch_id(), batch());
    assert_eq!(results.parameter("age").unwrap().tag(), Some("Good"));
    assert_eq!(results.parameter("pores").unwrap().score(), Some(88.0));

    // No options: no query at all (a plain path must match path and query exactly).
    let bare = server
        .mock("GET", path(&format!("/batches/{BATCH}/results/")).as_str())
        .match_query(Matcher::Exact(String::new()))
        .with_body("{}")
        .expect(1)
        .create();
    let empty = session.results(batch(), &ResultsQuery::new()).unwrap();
    bare.assert();
    assert!(empty.is_empty() && !empty.is_complete());
    assert_eq!(empty.batch_id(), batch());
}

#[test]
fn results_for_another_batch_are_refused_not_relabelled() {
    let mut server = mockito::Server::new();
    let other = "11111111-2222-4333-8444-555555555555";
    let answer = fixture("results_complete.json").replace(&BATCH.to_string(), other);
    assert!(answer.contains(other));
    server.mock("GET", path(&format!("/batches/{BATCH}/results/")).as_str()).with_body(answer).create();
    let (session, _) = session(&server.url());
    let error = session.results(batch(), &ResultsQuery::new()).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error.kind(), ErrorKind::Decode { .. }), "{error:?}");
    assert!(message.contains(other) && message.contains(&BATCH.to_string()), "{message}");
}

#[test]
fn results_with_an_empty_body_mean_not_started() {
    let mut server = mockito::Server::new();
    server.mock("GET", path(&format!("/batches/{BATCH}/results/")).as_str()).with_body("").create();
    let (session, _) = session(&server.url());
    let results = session.results(batch(), &ResultsQuery::new()).unwrap();
    assert!(results.is_empty() && !results.is_complete());
}

#[test]
fn subject_parameters_returns_the_history() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", path(&format!("/subjects/{SUBJECT}/parameters/")).as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .with_body(fixture("subject_parameters.json"))
        .create();
    let (session, _) = session(&server.url());
    let history = session.subject_parameters(subject()).unwrap();
    mock.assert();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].parameters.len(), 27);
    assert_eq!(history[0].detection_errors.get("ANY_ADDITIONAL_PROPERTY").map(String::as_str), Some("text"));
    assert_eq!(history[0].batch_uuid(), None, "\"text\" is not a uuid");
}

#[test]
fn batch_info_decodes_the_seed_example() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", path(&format!("/batches/{BATCH}/")).as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .with_body(fixture("batch_info.json"))
        .create();
    let (session, _) = session(&server.url());
    let info = session.batch(batch()).unwrap();
    mock.assert();
    assert_eq!(info.images.len(), 3);
    assert_eq!(info.subject.unwrap().name.as_deref(), Some("text"));
    assert_eq!(info.connected_applications, vec!["text".to_owned()]);
    assert!(info.meta.is_none());
}

#[test]
fn list_batches_sends_every_filter() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", path("/batches/").as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("ordering".into(), "-creation_time".into()),
            Matcher::UrlEncoded("q".into(), "visit 3".into()),
            Matcher::UrlEncoded("page".into(), "2".into()),
            Matcher::UrlEncoded("page_size".into(), "10".into()),
            Matcher::UrlEncoded("dataset_id".into(), BATCH.into()),
            Matcher::UrlEncoded("subject_id".into(), SUBJECT.into()),
        ]))
        .with_body(fixture("batch_list.json"))
        .create();
    let (session, _) = session(&server.url());
    let query = BatchQuery::new()
        .ordering("-creation_time")
        .q("visit 3")
        .page(2)
        .page_size(10)
        .dataset_id(batch())
        .subject_id(subject());
    let page = session.list_batches(&query).unwrap();
    mock.assert();
    assert_eq!(page.count, 123);
    assert_eq!(page.results.len(), 1);
    let image = &page.results[0].images[0];
    assert_eq!(image.side.as_ref().unwrap().id, Some(1));
    assert_eq!(image.urls.get("ANY_ADDITIONAL_PROPERTY").map(String::as_str), Some("text"));
}

#[test]
fn page_size_zero_is_refused_before_sending() {
    let server = mockito::Server::new();
    let (session, _) = session(&server.url());
    let err = session.list_batches(&BatchQuery::new().page_size(0)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err}");
    let first = session.batches(&BatchQuery::new().page(0)).next().unwrap();
    assert!(matches!(first.map_err(Error::into_kind), Err(ErrorKind::InvalidArgument(_))));
}

#[test]
fn a_base_url_with_a_prefix_and_trailing_slash_works() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", format!("/proxy/haut{}", path(&format!("/batches/{BATCH}/"))).as_str())
        .with_body(fixture("batch_info.json"))
        .create();
    let (session, _) = session(&format!("{}/proxy/haut/", server.url()));
    session.batch(batch()).unwrap();
    mock.assert();
}

#[test]
fn the_user_agent_names_the_crate_and_version() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", path(&format!("/batches/{BATCH}/")).as_str())
        .match_header("user-agent", concat!("hautai/", env!("CARGO_PKG_VERSION")))
        .with_body(fixture("batch_info.json"))
        .create();
    let (session, _) = session(&server.url());
    session.batch(batch()).unwrap();
    mock.assert();
}

#[test]
fn a_fresh_token_reaches_every_clone_and_with_token_forks() {
    let mut server = mockito::Server::new();
    let old = server
        .mock("GET", Matcher::Any)
        .match_header("authorization", bearer(TOKEN).as_str())
        .with_body("[]")
        .expect(1)
        .create();
    let new = server
        .mock("GET", Matcher::Any)
        .match_header("authorization", bearer(FRESH_TOKEN).as_str())
        .with_body("[]")
        .expect(2)
        .create();
    let other = server
        .mock("GET", Matcher::Any)
        .match_header("authorization", bearer(OTHER_TOKEN).as_str())
        .with_body("[]")
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    let clone = session.clone();
    session.subject_parameters(subject()).unwrap();
    session.set_token(FRESH_TOKEN).unwrap();
    clone.subject_parameters(subject()).unwrap();
    let forked = session.with_token(OTHER_TOKEN).unwrap();
    forked.subject_parameters(subject()).unwrap();
    session.subject_parameters(subject()).unwrap();
    old.assert();
    new.assert();
    other.assert();
    assert!(session.set_token("bad\ntoken").is_err());
}

#[test]
fn an_upload_reports_its_progress_and_stops_when_asked() {
    let mut server = mockito::Server::new();
    let put = server.mock("PUT", "/storage/front").match_query(Matcher::Any).expect(1).create();
    let target: hautai::model::UploadTarget = serde_json::from_value(json!({
        "url": format!("{}/storage/front?X-Goog-Signature=sig", server.url()), "method": "PUT", "headers": {}
    }))
    .unwrap();
    let (session, _) = session(&server.url());
    let image = vec![7u8; 600_000];
    let sent = std::sync::Mutex::new(Vec::new());
    let record = |event: &hautai::observe::Event| {
        if let hautai::observe::Event::UploadProgress { sent: bytes, .. } = event {
            sent.lock().unwrap().push(*bytes);
        }
        hautai::observe::Control::Continue
    };
    assert_eq!(session.upload_image_with(Side::Front, &target, &image, &record).unwrap(), 600_000);
    // Every 256 KiB and at the end.
    let sent = sent.into_inner().unwrap();
    assert_eq!((sent.len(), sent.last()), (3, Some(&600_000)), "{sent:?}");
    assert!(sent.windows(2).all(|w| w[1] - w[0] >= 1 << 18 || w[1] == 600_000), "{sent:?}");
    put.assert();

    let stop = |_: &hautai::observe::Event| hautai::observe::Control::Stop;
    let err = session.upload_image_with(Side::Front, &target, &image, &stop).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Cancelled { step: hautai::error::Step::Upload, batch_id: None }),
        "{err:?}"
    );
}

#[test]
fn the_user_agent_is_ours_unless_set() {
    let mut server = mockito::Server::new();
    let ours = server
        .mock("GET", Matcher::Any)
        .match_header("user-agent", concat!("hautai/", env!("CARGO_PKG_VERSION")))
        .with_body("[]")
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    session.subject_parameters(subject()).unwrap();
    ours.assert();
    let theirs = server
        .mock("GET", Matcher::Any)
        .match_header("user-agent", "clinic-intake/2.1")
        .with_body("[]")
        .expect(1)
        .create();
    let clock = clock();
    builder(&server.url(), &clock)
        .user_agent("clinic-intake/2.1")
        .build()
        .unwrap()
        .subject_parameters(subject())
        .unwrap();
    theirs.assert();
}
