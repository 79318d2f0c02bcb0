//! Decoding is typed and lenient: the seed's examples, unknown fields, nulls and absences.

use crate::common::fixture;
use hautai::model::{Analysis, BatchInfo, BatchSummary, Page, UploadTargets};
use hautai::{BatchResults, Parameter, Side};
use serde_json::{Value, json};

/// Adds an unknown field to every object in `value`, recursively (but not to the batch
/// info's map of images by side: an entry there is an image, not a field).
fn with_unknown_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::Object(images) if key == "images" => images.values_mut().for_each(with_unknown_fields),
                    _ => with_unknown_fields(v),
                }
            }
            map.insert("added_by_a_later_api".into(), json!({"nested": [1, 2, 3]}));
        }
        Value::Array(items) => items.iter_mut().for_each(with_unknown_fields),
        _ => {}
    }
}

/// Replaces every field whose value is not an object with `null`, except the ids and the
/// signed URL without which an answer is meaningless (those are required by the API).
fn with_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        for (key, v) in map.iter_mut() {
            if key == "id" || key == "url" || key == "image_batch_id" && v.as_str().is_some_and(|s| s.len() == 36) {
                continue;
            }
            if v.is_object() {
                with_nulls(v);
            } else {
                *v = Value::Null;
            }
        }
    }
}

#[test]
fn the_seed_examples_decode() {
    let history: Vec<Analysis> = serde_json::from_str(&fixture("subject_parameters.json")).unwrap();
    assert_eq!(history[0].parameters.len(), 27);
    assert_eq!(history[0].parameters.get("age").unwrap().tag(), Some("text"));
    assert_eq!(history[0].predicted_images["front"].aligned_face.as_deref(), Some("text"));
    assert_eq!(history[0].survey_results[0].question.as_deref(), Some("text"));
    let info: BatchInfo = serde_json::from_str(&fixture("batch_info.json")).unwrap();
    assert_eq!(info.images["left"].name.as_deref(), Some("text"));
    let page: Page<BatchSummary> = serde_json::from_str(&fixture("batch_list.json")).unwrap();
    assert_eq!(page.next.as_deref(), Some("http://api.example.org/accounts/?page=4"));
    let targets: UploadTargets = serde_json::from_str(&fixture("initiate_upload.json")).unwrap();
    assert_eq!(targets.get(Side::Front).unwrap().header("host"), Some("storage.googleapis.com"));
}

#[test]
fn unknown_fields_never_fail_decoding() {
    for (name, decode) in decoders() {
        let mut value: Value = serde_json::from_str(&fixture(name)).unwrap();
        with_unknown_fields(&mut value);
        decode(value).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // Unknown fields of an analysis are kept.
    let analysis: Analysis = serde_json::from_value(json!({"brand_new": 1})).unwrap();
    assert_eq!(analysis.extra.get("brand_new"), Some(&json!(1)));
}

#[test]
fn nulls_decode_as_absent_or_empty() {
    for (name, decode) in decoders() {
        let mut value: Value = serde_json::from_str(&fixture(name)).unwrap();
        match &mut value {
            Value::Array(items) => items.iter_mut().for_each(with_nulls),
            other => with_nulls(other),
        }
        decode(value).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let analysis: Analysis = serde_json::from_value(json!({
        "parameters": null, "detection_errors": null, "predicted_images": null,
        "survey_results": null, "all_algorithms_calculated": null
    }))
    .unwrap();
    assert!(analysis.parameters.is_empty() && analysis.detection_errors.is_empty());
    assert!(!analysis.all_algorithms_calculated);
}

#[test]
fn absent_fields_decode_as_defaults() {
    let analysis: Analysis = serde_json::from_str("{}").unwrap();
    assert!(analysis.image_batch_id.is_none() && analysis.parameters.is_empty());
    let results: BatchResults = serde_json::from_str("{}").unwrap();
    assert!(results.is_empty() && !results.is_complete());
    let results: BatchResults = serde_json::from_str("null").unwrap();
    assert!(results.is_empty());
}

#[test]
fn parameters_are_an_open_map_of_any_json() {
    let results: BatchResults = serde_json::from_str(&fixture("results_complete.json")).unwrap();
    let redness = results.parameter("redness").unwrap();
    assert_eq!(redness.tag(), Some("Average"));
    assert_eq!(redness.score(), Some(62.5));
    assert_eq!(redness.field("areas").unwrap()["forehead"], json!(55));
    let odd: Parameter = serde_json::from_value(json!([1, 2])).unwrap();
    assert_eq!(odd.tag(), None);
    assert_eq!(odd.as_json(), &json!([1, 2]));
}

#[test]
fn completeness_needs_every_application() {
    let results: BatchResults = serde_json::from_value(json!({
        "face_skin_metrics_3": {"all_algorithms_calculated": true},
        "another_app": {"all_algorithms_calculated": false}
    }))
    .unwrap();
    assert!(!results.is_complete());
    assert!(results.face_skin_metrics().is_some());
}

#[test]
fn detection_errors_are_read_from_every_application() {
    let results: BatchResults = serde_json::from_value(json!({
        "face_skin_metrics_3": {"detection_errors": {"left": "no face found", "front": null}},
        "other": {"detection_errors": {}}
    }))
    .unwrap();
    assert_eq!(results.detection_errors(), vec![("left".to_owned(), "no face found".to_owned())]);
}

#[test]
fn debug_of_models_hides_url_signatures() {
    let results: BatchResults = serde_json::from_str(&fixture("results_complete.json")).unwrap();
    let targets: UploadTargets = serde_json::from_str(&fixture("initiate_upload.json")).unwrap();
    for shown in [format!("{results:?}"), format!("{results:#?}"), format!("{targets:?}")] {
        for secret in ["maskSIG", "maskCRED", "predSIG", "5ec2e7a1b0c0ffee", "sa%40project"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    assert!(format!("{targets:?}").contains("X-Goog-Signature=<redacted>"));
}

type Decoder = fn(Value) -> Result<(), serde_json::Error>;

fn decoders() -> Vec<(&'static str, Decoder)> {
    vec![
        ("subject_parameters.json", |v| serde_json::from_value::<Vec<Analysis>>(v).map(drop)),
        ("batch_info.json", |v| serde_json::from_value::<BatchInfo>(v).map(drop)),
        ("batch_list.json", |v| serde_json::from_value::<Page<BatchSummary>>(v).map(drop)),
        ("initiate_upload.json", |v| serde_json::from_value::<UploadTargets>(v).map(drop)),
        ("results_complete.json", |v| serde_json::from_value::<BatchResults>(v).map(drop)),
    ]
}
